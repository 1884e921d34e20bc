package proptest

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/duroxide-go/duroxide"
)

// step checks what a provider returned for o against the model, and applies
// o to the model. It returns "" when the answer is one the contract allows,
// otherwise a description naming the broken rule; after a disagreement the
// model's state is unspecified. step never calls a provider.
func (m *model) step(o op, got result) string {
	m.fp = ""
	if got.errKind == errNotProvider {
		return fmt.Sprintf("errors: %s returned %v (%T), which is not a *duroxide.ProviderError", o.kind, got.err, got.err)
	}
	if o.cancelled && got.err != nil {
		return "" // a call on an ended context may fail; it changed nothing
	}
	switch o.kind {
	case opEnqueueOrch:
		return m.stepEnqueueOrch(o, got)
	case opEnqueueWorker:
		return m.stepEnqueueWorker(o, got)
	case opFetchOrch:
		return m.stepFetchOrch(o, got)
	case opAckOrch:
		return m.stepAckOrch(o, got)
	case opAbandonOrch:
		return m.stepAbandonOrch(o, got)
	case opRenewOrch:
		return m.stepRenewOrch(o, got)
	case opFetchWork:
		return m.stepFetchWork(o, got)
	case opAckWork:
		return m.stepAckWork(o, got)
	case opAbandonWork:
		return m.stepAbandonWork(o, got)
	case opRenewWork:
		return m.stepRenewWork(o, got)
	case opRenewSessions:
		return m.stepRenewSessions(o, got)
	case opCleanupSessions:
		return m.stepCleanupSessions(o, got)
	case opAppend:
		return m.stepAppend(o, got)
	case opRead, opReadExec, opGetKV, opGetKVAll, opGetCustomStatus:
		return m.stepRead(o, got)
	case opDeleteInstance, opDeleteAtomic:
		return m.stepDelete(o, got)
	case opPrune:
		return m.stepPrune(o, got)
	case opDeleteBulk:
		return m.stepDeleteBulk(o, got)
	case opAdvance:
		if got.err != nil {
			return fmt.Sprintf("advancing the fake clock failed: %v", got.err)
		}
		m.now += int64(o.dur)
		m.latest = max(m.latest, m.now)
		return ""
	case opStepBack:
		if got.err != nil {
			return fmt.Sprintf("stepping the fake clock back failed: %v", got.err)
		}
		m.now -= int64(o.dur)
		m.steppedBack = true
		return ""
	case opCorrupt:
		if got.err != nil {
			return fmt.Sprintf("the harness's CorruptInstanceHistory hook failed: %v", got.err)
		}
		if in := m.insts[o.instance]; in != nil {
			for id, e := range in.execs {
				if len(e.events) > 0 {
					e.corrupt = true
					in.execs[id] = e
				}
			}
		}
		return ""
	}
	return fmt.Sprintf("unknown op %v", o.kind)
}

// outcome compares got with the allowed errors (none: must succeed). It
// returns a problem, or whether the call failed as allowed (and so must have
// changed nothing). why explains the allowed errors for the report.
func outcome(o op, allowed []error, got result, why string) (problem string, failed bool) {
	if len(allowed) == 0 {
		if got.err != nil {
			return fmt.Sprintf("%s: want success, got %v", o.kind, got.err), false
		}
		return "", false
	}
	if got.err == nil {
		return fmt.Sprintf("%s: want %s (%s), got success", o.kind, errNames(allowed), why), false
	}
	if !slices.Contains(allowed, got.errKind) {
		return fmt.Sprintf("%s: want %s (%s), got %v (classified as %v)", o.kind, errNames(allowed), why, got.err, got.errKind), false
	}
	if duroxide.IsRetryable(got.err) {
		return fmt.Sprintf("errors: %s: %v must be permanent (Retryable false)", o.kind, got.err), false
	}
	return "", true
}

func (m *model) stepEnqueueOrch(o op, got result) string {
	var allowed []error
	if !validOrchItem(o.item) || o.dur < 0 {
		allowed = []error{duroxide.ErrInvalidArgument}
	}
	if p, failed := outcome(o, allowed, got, "bad input"); p != "" || failed {
		return p
	}
	id, _ := duroxide.OrchestratorInstance(o.item)
	m.addOrch(id, o.item, m.now+int64(o.dur))
	return ""
}

func (m *model) stepEnqueueWorker(o op, got result) string {
	var allowed []error
	if !validWorkerItem(o.item) {
		allowed = []error{duroxide.ErrInvalidArgument}
	}
	if p, failed := outcome(o, allowed, got, "bad input"); p != "" || failed {
		return p
	}
	m.addWork(o.item.(duroxide.ActivityExecuteItem))
	return ""
}

// stepFetchOrch checks an orchestration fetch. The provider's token is taken
// as the new lock token.
func (m *model) stepFetchOrch(o op, got result) string {
	if o.dur < 0 {
		p, _ := outcome(o, []error{duroxide.ErrInvalidArgument}, got, "negative lock timeout")
		return p
	}
	if got.err != nil {
		return fmt.Sprintf("%s: want no error, got %v", o.kind, got.err)
	}
	plan := m.planOrchFetch(o.filter)
	if plan.chosen == "" {
		if got.orch != nil {
			return m.explainWrongOrch(got.orch.Instance, "", o.filter)
		}
		m.applyOrchFetch(plan, o.dur, "")
		return ""
	}
	if got.orch == nil {
		return fmt.Sprintf("lost work: instance %q has visible messages %s and no unexpired lock, but the fetch returned nothing",
			plan.chosen, describeItems(msgItems(m.visibleMsgs(plan.chosen))))
	}
	if got.orch.Instance != plan.chosen {
		return m.explainWrongOrch(got.orch.Instance, plan.chosen, o.filter)
	}
	if p := m.checkToken(got.orch.LockToken); p != "" {
		return p
	}
	want := m.expectOrchItem(plan.chosen)
	if p := m.compareOrchItem(want, got.orch); p != "" {
		return p
	}
	m.applyOrchFetch(plan, o.dur, got.orch.LockToken)
	return ""
}

// checkToken reports a missing or reused lock token.
func (m *model) checkToken(token string) string {
	if token == "" {
		return "tokens: a fetch returned an empty lock token"
	}
	if fate, ok := m.tokens[token]; ok {
		return fmt.Sprintf("tokens: lock token %q was handed out before (%s); tokens must never be reused", token, fate)
	}
	return ""
}

func msgItems(msgs []qmsg) []duroxide.WorkItem {
	out := make([]duroxide.WorkItem, len(msgs))
	for i, q := range msgs {
		out[i] = q.item
	}
	return out
}

// explainWrongOrch names the rule a fetch broke by returning instance got
// when the model chose want ("" for none).
func (m *model) explainWrongOrch(got, want string, f *duroxide.DispatcherCapabilityFilter) string {
	wanted := "nothing"
	if want != "" {
		wanted = fmt.Sprintf("instance %q", want)
	}
	in := m.insts[got]
	switch {
	case in != nil && m.held(in):
		return fmt.Sprintf("exclusivity: fetch handed out instance %q while token %q holds its lock until %s (now %s); want %s",
			got, in.lockToken, m.at(in.lockUntil), m.at(m.now), wanted)
	case len(m.visibleMsgs(got)) == 0:
		var future []string
		for _, q := range m.orchQ {
			if q.instance == got {
				future = append(future, fmt.Sprintf("%s due %s", describeItem(q.item), m.at(q.visibleAt)))
			}
		}
		if len(future) > 0 {
			return fmt.Sprintf("visibility: fetch returned instance %q whose messages are all delayed (%s; now %s); want %s",
				got, strings.Join(future, ", "), m.at(m.now), wanted)
		}
		return fmt.Sprintf("delivery: fetch returned instance %q, which has no queued message (a deleted or acked message delivered again?); want %s", got, wanted)
	case f != nil && len(f.SupportedDuroxideVersions) == 0:
		return fmt.Sprintf("capability filter: an empty range list matches nothing, but the fetch returned instance %q", got)
	case f != nil && !f.Compatible(currentPinned(in)):
		return fmt.Sprintf("capability filter: instance %q is pinned at %v, outside %s, but was fetched; want %s", got, currentPinned(in), describeFilter(f), wanted)
	case !in.record && !m.startable(got, in):
		if allQueueMessages(m.visibleMsgs(got)) {
			return fmt.Sprintf("orphan rule: instance %q was never started and its batch is only QueueMessage; the fetch must drop it, not return it; want %s", got, wanted)
		}
		return fmt.Sprintf("head-of-line rule: instance %q has no record and no history and no visible start message; it must be skipped, not locked; want %s", got, wanted)
	}
	return fmt.Sprintf("FIFO across instances: fetch returned instance %q but %s is eligible with an older visible message (candidates oldest first: %q)",
		got, wanted, m.orchCandidates())
}

// compareOrchItem compares a fetched item with the model's.
func (m *model) compareOrchItem(want, got *duroxide.LockedOrchestrationItem) string {
	id := want.Instance
	if !deepEqualSlices(want.Messages, got.Messages) {
		return m.explainBatch(id, want.Messages, got.Messages)
	}
	if got.AttemptCount != want.AttemptCount {
		return fmt.Sprintf("attempt counts: fetch of %q returned AttemptCount %d, want %d (the batch maximum after this delivery)", id, got.AttemptCount, want.AttemptCount)
	}
	if want.HistoryError != "" {
		switch {
		case got.HistoryError == "":
			return fmt.Sprintf("history error: fetch of %q execution %d, whose stored history is undecodable, returned no HistoryError (history %s)", id, want.ExecutionID, describeEvents(got.History))
		case len(got.History) > 0:
			return fmt.Sprintf("history error: fetch of %q reported HistoryError %q but returned history %s; want it empty", id, got.HistoryError, describeEvents(got.History))
		case got.KVSnapshot == nil || len(got.KVSnapshot) > 0:
			return fmt.Sprintf("history error: fetch of %q reported HistoryError %q with snapshot %v; want an empty, non-nil map", id, got.HistoryError, got.KVSnapshot)
		}
	} else if got.HistoryError != "" {
		return fmt.Sprintf("history error: fetch of %q reported HistoryError %q for readable history", id, got.HistoryError)
	}
	if got.OrchestrationName != want.OrchestrationName || got.Version != want.Version || got.ExecutionID != want.ExecutionID {
		return fmt.Sprintf("identity: fetch of %q returned name %q version %q execution %d, want %q %q %d (record: %v)",
			id, got.OrchestrationName, got.Version, got.ExecutionID, want.OrchestrationName, want.Version, want.ExecutionID, m.insts[id].record)
	}
	if !deepEqualSlices(want.History, got.History) {
		return fmt.Sprintf("history: fetch of %q execution %d returned history %s, want what was acked and appended: %s",
			id, want.ExecutionID, describeEvents(got.History), describeEvents(want.History))
	}
	if !maps.Equal(want.KVSnapshot, got.KVSnapshot) {
		return fmt.Sprintf("key/value: fetch of %q returned snapshot %v, want the merged store %v (the current execution's writes excluded)", id, got.KVSnapshot, want.KVSnapshot)
	}
	return ""
}

// explainBatch names the rule a wrong batch breaks.
func (m *model) explainBatch(id string, want, got []duroxide.WorkItem) string {
	for _, g := range got {
		if slices.ContainsFunc(want, func(w duroxide.WorkItem) bool { return reflect.DeepEqual(w, g) }) {
			continue
		}
		for _, q := range m.orchQ {
			if q.instance == id && reflect.DeepEqual(q.item, g) {
				return fmt.Sprintf("visibility: batch of %q contains %s, which is delayed until %s (now %s)", id, describeItem(g), m.at(q.visibleAt), m.at(m.now))
			}
		}
		return fmt.Sprintf("delivery: batch of %q contains %s, which is not queued for it (acked, dropped, deleted or never enqueued: delivered twice?); batch %s, want %s",
			id, describeItem(g), describeItems(got), describeItems(want))
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g duroxide.WorkItem) bool { return reflect.DeepEqual(w, g) }) {
			return fmt.Sprintf("lost message: %s is visible for %q but missing from the batch %s; want %s", describeItem(w), id, describeItems(got), describeItems(want))
		}
	}
	return fmt.Sprintf("FIFO within an instance: batch of %q is %s, want enqueue order %s", id, describeItems(got), describeItems(want))
}

func (m *model) stepAckOrch(o op, got result) string {
	a := o.ack
	var allowed []error
	var why []string
	bad := func(e error, reason string) {
		allowed = appendErr(allowed, e)
		why = append(why, reason)
	}
	if a.ExecutionID == 0 {
		bad(duroxide.ErrInvalidArgument, "execution id 0")
	}
	for _, w := range a.WorkerItems {
		if !validWorkerItem(w) {
			bad(duroxide.ErrInvalidArgument, "bad worker item "+describeItem(w))
		}
	}
	for _, w := range a.OrchestratorItems {
		if !validOrchItem(w) {
			bad(duroxide.ErrInvalidArgument, "bad orchestrator item "+describeItem(w))
		}
	}
	for _, c := range a.CancelledActivities {
		if c.Instance == "" {
			bad(duroxide.ErrInvalidArgument, "cancelled activity with empty instance")
		}
	}
	id, in, tokenErrs, tokenWhy := m.orchTokenCheck(o.token, true)
	var existing []duroxide.Event
	if len(tokenErrs) > 0 {
		bad(tokenErrs[0], tokenWhy)
	} else {
		existing = in.execs[a.ExecutionID].events
	}
	for _, e := range eventsErr(existing, a.HistoryDelta) {
		bad(e, "bad or duplicate event ids in "+describeEvents(a.HistoryDelta))
	}
	p, failed := outcome(o, allowed, got, strings.Join(why, "; "))
	if p != "" {
		if got.err == nil && in == nil && m.tokens[o.token] == fateAcked {
			return "single ack: token " + fmt.Sprintf("%q", o.token) + " acked a second time; " + p
		}
		if got.err != nil && len(allowed) == 0 {
			return p + fmt.Sprintf(" (token %q holds %q until %s, now %s)", o.token, id, m.at(in.lockUntil), m.at(m.now))
		}
		return p
	}
	if failed {
		return "" // atomicity: nothing changes, the lock stays held
	}
	m.applyAck(id, in, o.token, a)
	return ""
}

// tokenWhy says why token names no lock.
func (m *model) tokenWhy(token string) string {
	if token == "" {
		return "empty token"
	}
	if fate, ok := m.tokens[token]; ok {
		return fmt.Sprintf("token %q was %s", token, fate)
	}
	return fmt.Sprintf("token %q was never issued for an instance lock", token)
}

// applyAck commits a validated ack.
func (m *model) applyAck(id string, in *minst, token string, a duroxide.OrchestrationAck) {
	m.orchQ = slices.DeleteFunc(m.orchQ, func(q qmsg) bool { return q.instance == id && q.batch == token })
	md := a.Metadata
	if md.OrchestrationName != nil && md.OrchestrationVersion != nil {
		if !in.record {
			in.record = true
			in.currentExec = a.ExecutionID
			in.parent = clonePtr(md.ParentInstanceID)
			in.createdAt = m.now
			m.created++
			in.createdOrder = m.created
		}
		in.name, in.version = *md.OrchestrationName, *md.OrchestrationVersion
	}
	e := in.execs[a.ExecutionID]
	if !e.record {
		e.record = true
		e.status = duroxide.StatusRunning
		e.startedAt = m.now
	}
	if md.PinnedDuroxideVersion != nil {
		e.pinned = clonePtr(md.PinnedDuroxideVersion)
	}
	if in.record {
		in.currentExec = max(in.currentExec, a.ExecutionID)
	}
	e.events = insertEvents(e.events, a.HistoryDelta)
	if md.Status != "" {
		e.status = md.Status
		e.output = clonePtr(md.Output)
		t := m.now
		e.completedAt = &t
	}
	in.execs[a.ExecutionID] = e
	if in.record {
		for i := len(a.HistoryDelta) - 1; i >= 0; i-- {
			if cs, ok := a.HistoryDelta[i].Kind.(duroxide.CustomStatusUpdated); ok {
				in.status = clonePtr(cs.Status)
				in.statusVersion++
				break
			}
		}
	}
	nowMs := unixMs(m.now)
	for _, ev := range a.HistoryDelta {
		switch k := ev.Kind.(type) {
		case duroxide.KeyValueSet:
			v := k.Value
			in.setDelta(k.Key, kvw{value: &v, at: k.LastUpdatedAtMs})
		case duroxide.KeyValueCleared:
			in.setDelta(k.Key, kvw{at: nowMs})
		case duroxide.KeyValuesCleared:
			for key := range in.delta {
				in.delta[key] = kvw{at: nowMs}
			}
			for key := range in.kv {
				in.setDelta(key, kvw{at: nowMs})
			}
		}
	}
	if md.Status.IsTerminal() {
		for key, w := range in.delta {
			if w.value == nil {
				delete(in.kv, key)
				continue
			}
			if in.kv == nil {
				in.kv = map[string]duroxide.KvEntry{}
			}
			in.kv[key] = duroxide.KvEntry{Value: *w.value, LastUpdatedAtMs: w.at}
		}
		in.delta = nil
	}
	for _, w := range a.WorkerItems {
		m.addWork(w.(duroxide.ActivityExecuteItem))
	}
	for _, c := range a.CancelledActivities {
		m.workQ = slices.DeleteFunc(m.workQ, func(w witem) bool {
			hit := w.item.Instance == c.Instance && w.item.ExecutionID == c.ExecutionID && w.item.ID == c.ActivityID
			if hit && w.token != "" {
				m.tokens[w.token] = fateCancelled
			}
			return hit
		})
	}
	for _, w := range a.OrchestratorItems {
		target, _ := duroxide.OrchestratorInstance(w)
		visibleAt := m.now
		if t, ok := w.(duroxide.TimerFiredItem); ok {
			visibleAt = int64(t.FireAtMs) * int64(time.Millisecond)
		}
		m.addOrch(target, w, visibleAt)
	}
	in.lockToken, in.lockUntil = "", 0
	m.tokens[token] = fateAcked
}

func (in *minst) setDelta(key string, w kvw) {
	if in.delta == nil {
		in.delta = map[string]kvw{}
	}
	in.delta[key] = w
}

// orchTokenCheck returns the instance lock named by token and the allowed
// errors for a call that needs it held and unexpired (needLive) or merely
// not superseded, with the reason for the report.
func (m *model) orchTokenCheck(token string, needLive bool) (string, *minst, []error, string) {
	id, in := m.lockedBy(token)
	switch {
	case in == nil:
		return id, in, []error{duroxide.ErrInvalidLockToken}, m.tokenWhy(token)
	case needLive && in.lockUntil <= m.now:
		return id, in, []error{duroxide.ErrLockExpired}, fmt.Sprintf("lock of %q expired at %s, now %s", id, m.at(in.lockUntil), m.at(m.now))
	}
	return id, in, nil, ""
}

// lockCallOutcome is outcome for an abandon or a renewal, whose duration
// must not be negative besides the token's allowed errors. done reports
// that the caller returns problem: a wrong answer, or an allowed failure
// (which changed nothing).
func lockCallOutcome(o op, allowed []error, why string, got result) (problem string, done bool) {
	if o.dur < 0 {
		allowed = appendErr(allowed, duroxide.ErrInvalidArgument)
		why = strings.TrimPrefix(why+"; negative duration", "; ")
	}
	p, failed := outcome(o, allowed, got, why)
	return p, p != "" || failed
}

func (m *model) stepAbandonOrch(o op, got result) string {
	id, in, allowed, why := m.orchTokenCheck(o.token, false)
	if p, done := lockCallOutcome(o, allowed, why, got); done {
		return p
	}
	for i := range m.orchQ {
		q := &m.orchQ[i]
		if q.instance != id {
			continue
		}
		if o.ignore && q.attempts > 0 {
			q.attempts--
		}
		if o.dur > 0 && q.visibleAt <= m.now {
			q.visibleAt = m.now + int64(o.dur)
		}
	}
	in.lockToken, in.lockUntil = "", 0
	m.tokens[o.token] = fateAbandoned
	return ""
}

func (m *model) stepRenewOrch(o op, got result) string {
	_, in, allowed, why := m.orchTokenCheck(o.token, true)
	if p, done := lockCallOutcome(o, allowed, why, got); done {
		return p
	}
	in.lockUntil = m.now + int64(o.dur)
	return ""
}

// stepFetchWork checks a worker fetch. The provider's token is taken as the
// new lock token.
func (m *model) stepFetchWork(o op, got result) string {
	if o.dur < 0 || (o.session != nil && (o.session.LockTimeout < 0 || o.session.OwnerID == "")) {
		p, _ := outcome(o, []error{duroxide.ErrInvalidArgument}, got, "negative duration or empty owner")
		return p
	}
	if got.err != nil {
		return fmt.Sprintf("%s: want no error, got %v", o.kind, got.err)
	}
	chosen := slices.IndexFunc(m.workQ, func(w witem) bool {
		ok, _ := m.workEligible(w, o.session, o.tags)
		return ok
	})
	if got.work == nil {
		if chosen >= 0 {
			return fmt.Sprintf("lost work: worker item %s is eligible for %s but the fetch returned nothing", describeItem(m.workQ[chosen].item), o)
		}
		return ""
	}
	if chosen < 0 || !reflect.DeepEqual(duroxide.WorkItem(m.workQ[chosen].item), got.work.Item) {
		return m.explainWrongWork(got.work.Item, chosen, o)
	}
	if p := m.checkToken(got.work.LockToken); p != "" {
		return p
	}
	w := &m.workQ[chosen]
	if got.work.AttemptCount != w.attempts+1 {
		return fmt.Sprintf("attempt counts: worker fetch of %s returned AttemptCount %d, want %d", describeItem(w.item), got.work.AttemptCount, w.attempts+1)
	}
	if w.token != "" {
		m.tokens[w.token] = fateWorkSuper
	}
	w.token, w.until = got.work.LockToken, m.now+int64(o.dur)
	w.attempts++
	m.tokens[w.token] = fateWorkHeld
	if w.item.SessionID != nil {
		m.sess[*w.item.SessionID] = msession{owner: o.session.OwnerID, until: m.now + int64(o.session.LockTimeout), lastActivity: m.now}
	}
	return ""
}

// explainWrongWork names the rule a worker fetch broke by returning item
// when the model chose index chosen (-1 for none).
func (m *model) explainWrongWork(item duroxide.WorkItem, chosen int, o op) string {
	wanted := "nothing"
	if chosen >= 0 {
		wanted = describeItem(m.workQ[chosen].item)
	}
	if o.tags.Kind() == duroxide.TagNone {
		return fmt.Sprintf("tag filter: a fetch with TagNone returned %s", describeItem(item))
	}
	for _, w := range m.workQ {
		if !reflect.DeepEqual(duroxide.WorkItem(w.item), item) {
			continue
		}
		if ok, why := m.workEligible(w, o.session, o.tags); !ok {
			return fmt.Sprintf("%s; yet a worker fetch returned %s (want %s)", why, describeItem(item), wanted)
		}
		return fmt.Sprintf("FIFO: worker fetch returned %s, want the oldest eligible item %s", describeItem(item), wanted)
	}
	return fmt.Sprintf("delivery: worker fetch returned %s, which is not queued (acked, cancelled, deleted or never enqueued: delivered twice?); want %s", describeItem(item), wanted)
}

// workTokenCheck returns the allowed errors for a worker token that must
// hold an unexpired lock (needLive) or merely not be superseded.
func (m *model) workTokenCheck(token string, needLive bool) (int, []error, string) {
	i := m.workBy(token)
	switch {
	case i < 0:
		fate, ok := m.tokens[token]
		if !ok {
			fate = "never issued for a worker item"
		}
		return i, []error{duroxide.ErrInvalidLockToken}, fmt.Sprintf("token %q: %s", token, fate)
	case needLive && m.workQ[i].until <= m.now:
		return i, []error{duroxide.ErrLockExpired}, fmt.Sprintf("lock of %s expired at %s, now %s", describeItem(m.workQ[i].item), m.at(m.workQ[i].until), m.at(m.now))
	}
	return i, nil, ""
}

func (m *model) stepAckWork(o op, got result) string {
	i, allowed, why := m.workTokenCheck(o.token, true)
	var target string
	if o.item != nil {
		switch c := o.item.(type) {
		case duroxide.ActivityCompletedItem:
			target = c.Instance
		case duroxide.ActivityFailedItem:
			target = c.Instance
		}
		if target == "" || duroxide.ValidateWorkItem(o.item) != nil {
			allowed = appendErr(allowed, duroxide.ErrInvalidArgument)
			why += "; bad completion " + describeItem(o.item)
		}
	}
	p, failed := outcome(o, allowed, got, why)
	if p != "" {
		if got.err == nil && m.tokens[o.token] == fateWorkAcked {
			return "single ack: worker token " + fmt.Sprintf("%q", o.token) + " acked a second time; " + p
		}
		return p
	}
	if failed {
		return ""
	}
	w := m.workQ[i]
	m.touch(w.item)
	m.workQ = slices.Delete(m.workQ, i, i+1)
	m.tokens[o.token] = fateWorkAcked
	if o.item != nil {
		m.addOrch(target, o.item, m.now)
	}
	return ""
}

func (m *model) stepAbandonWork(o op, got result) string {
	i, allowed, why := m.workTokenCheck(o.token, false)
	if p, done := lockCallOutcome(o, allowed, why, got); done {
		return p
	}
	w := &m.workQ[i]
	m.tokens[w.token] = fateWorkAband
	w.token, w.until = "", 0
	if o.ignore && w.attempts > 0 {
		w.attempts--
	}
	w.visibleAt = m.now + int64(o.dur)
	return ""
}

func (m *model) stepRenewWork(o op, got result) string {
	i, allowed, why := m.workTokenCheck(o.token, true)
	if p, done := lockCallOutcome(o, allowed, why, got); done {
		return p
	}
	w := &m.workQ[i]
	w.until = m.now + int64(o.dur)
	m.touch(w.item)
	return ""
}

func (m *model) stepRenewSessions(o op, got result) string {
	var allowed []error
	if o.dur < 0 || o.dur2 < 0 {
		allowed = []error{duroxide.ErrInvalidArgument}
	}
	if p, failed := outcome(o, allowed, got, "bad input"); p != "" || failed {
		return p
	}
	n := 0
	done := map[string]bool{}
	for _, owner := range o.owners {
		if done[owner] {
			continue
		}
		done[owner] = true
		for _, id := range slices.Sorted(maps.Keys(m.sess)) {
			s := m.sess[id]
			if s.owner == owner && s.until > m.now && s.lastActivity > m.now-int64(o.dur2) {
				s.until = m.now + int64(o.dur)
				m.sess[id] = s
				n++
			}
		}
	}
	if got.n != n {
		return fmt.Sprintf("sessions: %s renewed %d sessions, want %d (active leases of the owners with activity within idle)", o, got.n, n)
	}
	return ""
}

func (m *model) stepCleanupSessions(o op, got result) string {
	var allowed []error
	if o.dur2 < 0 {
		allowed = []error{duroxide.ErrInvalidArgument}
	}
	if p, failed := outcome(o, allowed, got, "bad input"); p != "" || failed {
		return p
	}
	n := 0
	for _, id := range slices.Sorted(maps.Keys(m.sess)) {
		if m.sess[id].until >= m.now {
			continue
		}
		if slices.ContainsFunc(m.workQ, func(w witem) bool { return w.item.SessionID != nil && *w.item.SessionID == id }) {
			continue
		}
		delete(m.sess, id)
		n++
	}
	if got.n != n {
		return fmt.Sprintf("sessions: cleanup deleted %d sessions, want %d (leases ended strictly before now, referenced by no worker item)", got.n, n)
	}
	return ""
}

func (m *model) stepAppend(o op, got result) string {
	var allowed []error
	if o.instance == "" || o.exec == 0 {
		allowed = append(allowed, duroxide.ErrInvalidArgument)
	}
	var existing []duroxide.Event
	if in := m.insts[o.instance]; in != nil {
		existing = in.execs[o.exec].events
	}
	for _, e := range eventsErr(existing, o.events) {
		allowed = appendErr(allowed, e)
	}
	if p, failed := outcome(o, allowed, got, "bad input or duplicate event ids"); p != "" || failed {
		return p
	}
	if len(o.events) == 0 {
		return ""
	}
	in := m.inst(o.instance)
	e := in.execs[o.exec]
	e.events = insertEvents(e.events, o.events)
	in.execs[o.exec] = e
	return ""
}

// stepRead checks a read; reads change nothing.
func (m *model) stepRead(o op, got result) string {
	var allowed []error
	if o.instance == "" {
		allowed = []error{duroxide.ErrInvalidArgument}
	}
	in := m.insts[o.instance]
	if in != nil && (o.kind == opRead || o.kind == opReadExec) {
		exec := o.exec
		if o.kind == opRead {
			exec = latestExec(in)
		}
		if in.execs[exec].corrupt {
			p, _ := outcome(o, []error{duroxide.ErrCorruptData}, got, fmt.Sprintf("execution %d holds undecodable history", exec))
			if p != "" {
				return "history error: " + p
			}
			return ""
		}
	}
	if p, failed := outcome(o, allowed, got, "empty instance id"); p != "" || failed {
		return p
	}
	switch o.kind {
	case opRead, opReadExec:
		var want []duroxide.Event
		exec := o.exec
		if in != nil {
			if o.kind == opRead {
				exec = latestExec(in)
			}
			want = in.execs[exec].events
		}
		if !deepEqualSlices(want, got.events) {
			return fmt.Sprintf("history: %s returned %s, want what was acked and appended to execution %d, in event-id order: %s",
				o, describeEvents(got.events), exec, describeEvents(want))
		}
	case opGetKV:
		var want string
		var ok bool
		if in != nil {
			if w, hit := in.delta[o.key]; hit {
				if w.value != nil {
					want, ok = *w.value, true
				}
			} else if e, hit := in.kv[o.key]; hit {
				want, ok = e.Value, true
			}
		}
		if got.str != want || got.ok != ok {
			return fmt.Sprintf("key/value: %s returned (%q, %v), want (%q, %v)", o, got.str, got.ok, want, ok)
		}
	case opGetKVAll:
		want := map[string]string{}
		if in != nil {
			for k, e := range in.kv {
				want[k] = e.Value
			}
			for k, w := range in.delta {
				if w.value == nil {
					delete(want, k)
				} else {
					want[k] = *w.value
				}
			}
		}
		if !maps.Equal(want, got.kv) {
			return fmt.Sprintf("key/value: %s returned %v, want %v (store overlaid by the current execution's writes)", o, got.kv, want)
		}
	case opGetCustomStatus:
		var want duroxide.CustomStatus
		ok := false
		if in != nil && in.record && in.statusVersion > o.lastSeen {
			want, ok = duroxide.CustomStatus{Status: in.status, Version: in.statusVersion}, true
		}
		if got.ok != ok || (ok && (got.status.Version != want.Version || !reflect.DeepEqual(got.status.Status, want.Status))) {
			return fmt.Sprintf("custom status: %s returned (%s, %v), want (%s, %v)", o, describeStatus(got.status), got.ok, describeStatus(want), ok)
		}
	}
	return ""
}

func (m *model) stepDelete(o op, got result) string {
	var allowed []error
	var why string
	var ids []string
	if o.kind == opDeleteInstance {
		in := m.insts[o.instance]
		switch {
		case o.instance == "":
			allowed, why = []error{duroxide.ErrInvalidArgument}, "empty instance id"
		case in == nil || !in.record:
			allowed, why = []error{duroxide.ErrNotFound}, "no instance record"
		case in.parent != nil:
			allowed, why = []error{duroxide.ErrNotRoot}, "parent "+*in.parent
		default:
			ids = m.tree(o.instance)
		}
	} else {
		ids = o.ids
		if slices.Contains(ids, "") {
			allowed, why = []error{duroxide.ErrInvalidArgument}, "empty id"
		}
	}
	if len(allowed) == 0 {
		listed := map[string]bool{}
		for _, id := range ids {
			listed[id] = true
		}
		if !o.force {
			for _, id := range ids {
				if running(m.insts[id]) {
					allowed = appendErr(allowed, duroxide.ErrInstanceRunning)
					why += fmt.Sprintf("%q is running; ", id)
				}
			}
		}
		for cid, in := range m.insts {
			if in.record && in.parent != nil && listed[*in.parent] && !listed[cid] {
				allowed = appendErr(allowed, duroxide.ErrOrphanChild)
				why += fmt.Sprintf("child %q of %q is not listed; ", cid, *in.parent)
			}
		}
	}
	if p, failed := outcome(o, allowed, got, why); p != "" || failed {
		return p
	}
	d := m.planDelete(ids)
	g := got.deleted
	if g.ExecutionsDeleted != d.res.ExecutionsDeleted || g.EventsDeleted != d.res.EventsDeleted || g.QueueMessagesDeleted != d.res.QueueMessagesDeleted ||
		g.InstancesDeleted < d.instancesMin || g.InstancesDeleted > d.instancesMax {
		return fmt.Sprintf("deletion: %s deleted %+v, want executions %d, events %d, queue messages %d, instances %d..%d",
			o, g, d.res.ExecutionsDeleted, d.res.EventsDeleted, d.res.QueueMessagesDeleted, d.instancesMin, d.instancesMax)
	}
	m.applyDelete(ids)
	return ""
}

// stepPrune checks PruneExecutions: never the current execution nor a
// running one; KeepLast keeps the highest execution records; CompletedBefore
// prunes only executions completed strictly before it (Unix ms).
func (m *model) stepPrune(o op, got result) string {
	var allowed []error
	in := m.insts[o.instance]
	switch {
	case o.instance == "":
		allowed = []error{duroxide.ErrInvalidArgument}
	case in == nil || !in.record:
		allowed = []error{duroxide.ErrNotFound}
	}
	if p, failed := outcome(o, allowed, got, "no instance record"); p != "" || failed {
		return p
	}
	var ids []uint64
	for _, id := range slices.Sorted(maps.Keys(in.execs)) {
		if in.execs[id].record {
			ids = append(ids, id)
		}
	}
	want := duroxide.PruneResult{InstancesProcessed: 1}
	var doomed []uint64
	for i, id := range ids {
		e := in.execs[id]
		switch {
		case id == in.currentExec, e.status == duroxide.StatusRunning:
			continue
		case o.prune.KeepLast != nil && len(ids)-i <= int(*o.prune.KeepLast):
			continue
		case o.prune.CompletedBefore != nil && (e.completedAt == nil || unixMs(*e.completedAt) >= *o.prune.CompletedBefore):
			continue
		}
		doomed = append(doomed, id)
		want.ExecutionsDeleted++
		want.EventsDeleted += uint64(len(e.events))
	}
	if got.pruned != want {
		return fmt.Sprintf("deletion: %s pruned %+v, want %+v (executions %v of %v)", o, got.pruned, want, doomed, ids)
	}
	for _, id := range doomed {
		delete(in.execs, id)
	}
	return ""
}

// stepDeleteBulk checks DeleteInstanceBulk: root instances whose current
// execution is Completed, Failed or ContinuedAsNew and that match the
// filter, oldest first, at most Limit (default 1000) of them, each deleted
// with its whole tree.
func (m *model) stepDeleteBulk(o op, got result) string {
	if p, _ := outcome(o, nil, got, ""); p != "" {
		return p
	}
	f := o.bulk
	var roots []string
	if f.InstanceIDs == nil || len(f.InstanceIDs) > 0 {
		for id, in := range m.insts {
			cur := in.execs[in.currentExec]
			if !in.record || in.parent != nil || !cur.record || !cur.status.IsTerminal() {
				continue
			}
			if f.InstanceIDs != nil && !slices.Contains(f.InstanceIDs, id) {
				continue
			}
			if f.CompletedBefore != nil && (cur.completedAt == nil || unixMs(*cur.completedAt) >= *f.CompletedBefore) {
				continue
			}
			roots = append(roots, id)
		}
	}
	slices.SortFunc(roots, func(a, b string) int {
		if c := cmp.Compare(m.insts[a].createdAt, m.insts[b].createdAt); c != 0 {
			return c // by creation time: after the clock stepped back, a later creation may be older
		}
		return cmp.Compare(m.insts[a].createdOrder, m.insts[b].createdOrder)
	})
	limit := duroxide.DefaultBulkLimit
	if f.Limit != nil {
		limit = *f.Limit
	}
	if uint64(len(roots)) > uint64(limit) {
		roots = roots[:limit]
	}
	var want duroxide.DeleteInstanceResult
	var minI, maxI uint64
	var doomed []string
	for _, root := range roots {
		if m.insts[root] == nil {
			continue // deleted with an earlier root's tree
		}
		ids := m.tree(root)
		d := m.planDelete(ids)
		want = want.Add(d.res)
		minI, maxI = minI+d.instancesMin, maxI+d.instancesMax
		doomed = append(doomed, ids...)
		m.applyDelete(ids)
	}
	g := got.deleted
	if g.ExecutionsDeleted != want.ExecutionsDeleted || g.EventsDeleted != want.EventsDeleted || g.QueueMessagesDeleted != want.QueueMessagesDeleted ||
		g.InstancesDeleted < minI || g.InstancesDeleted > maxI {
		return fmt.Sprintf("deletion: %s deleted %+v, want the trees of %q (%q): executions %d, events %d, queue messages %d, instances %d..%d",
			o, g, roots, doomed, want.ExecutionsDeleted, want.EventsDeleted, want.QueueMessagesDeleted, minI, maxI)
	}
	return ""
}

// deepEqualSlices compares two slices element by element with
// reflect.DeepEqual, nil equal to empty.
func deepEqualSlices[V any](a, b []V) bool {
	return slices.EqualFunc(a, b, func(x, y V) bool { return reflect.DeepEqual(x, y) })
}

func clonePtr[V any](p *V) *V {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
