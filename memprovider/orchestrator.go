package memprovider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/duroxide-go/duroxide"
)

// EnqueueForOrchestrator implements [duroxide.Provider]. O(log n).
func (p *Provider) EnqueueForOrchestrator(ctx context.Context, item duroxide.WorkItem, delay time.Duration) error {
	const op = "enqueue_for_orchestrator"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	id, err := orchestratorTarget(item)
	if err != nil {
		return invalidArg(op, "item", err)
	}
	if err := checkDuration(op, "delay", delay); err != nil {
		return err
	}
	c := duroxide.CloneWorkItem(item)
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.addOrchMsg(p.inst(id), c, addNs(now, delay), now)
	return nil
}

// orchestratorTarget validates an orchestrator-queue item and returns its
// routing instance, or the problem (without operation prefix).
func orchestratorTarget(item duroxide.WorkItem) (string, error) {
	if err := duroxide.ValidateWorkItem(item); err != nil {
		return "", err
	}
	id, ok := duroxide.OrchestratorInstance(item)
	if !ok {
		return "", fmt.Errorf("%s belongs to the worker queue, not the orchestrator queue", item.Variant())
	}
	if id == "" {
		return "", fmt.Errorf("%s has an empty instance id", item.Variant())
	}
	return id, nil
}

// FetchOrchestrationItem implements [duroxide.Provider]. It promotes due
// messages and expired locks (O(log n) each), takes the oldest ready
// instance that passes the filter, and builds the item in O(b + e).
func (p *Provider) FetchOrchestrationItem(ctx context.Context, lockTimeout, pollTimeout time.Duration, filter *duroxide.DispatcherCapabilityFilter) (*duroxide.LockedOrchestrationItem, error) {
	const op = "fetch_orchestration_item"
	if err := checkCtx(ctx, op); err != nil {
		return nil, err
	}
	if lockTimeout <= 0 {
		return nil, invalid(op, "lock timeout must be positive, got %v", lockTimeout)
	}
	if err := checkDuration(op, "poll timeout", pollTimeout); err != nil {
		return nil, err
	}
	var f *duroxide.DispatcherCapabilityFilter
	if filter != nil {
		// A copy for the call (a long poll reads it while it waits); a
		// short range list stays on the stack.
		var buf [2]duroxide.SemverRange
		f = &duroxide.DispatcherCapabilityFilter{SupportedDuroxideVersions: append(buf[:0], filter.SupportedDuroxideVersions...)}
	}
	var out *duroxide.LockedOrchestrationItem
	err := p.poll(ctx, op, pollTimeout, func(now int64) (bool, int64) {
		out = p.tryFetchOrch(now, lockTimeout, f)
		return out != nil, p.nextOrchWake()
	})
	return out, err
}

// tryFetchOrch is one fetch attempt. Caller holds p.mu.
func (p *Provider) tryFetchOrch(now int64, lockTimeout time.Duration, filter *duroxide.DispatcherCapabilityFilter) *duroxide.LockedOrchestrationItem {
	p.promoteOrch(now)
	if filter != nil && len(filter.SupportedDuroxideVersions) == 0 {
		return nil
	}
	// Walk ready instances oldest first. Instances skipped by the filter
	// stay ready; cursor moves past them. Orphan drops and parking take the
	// instance out of the index, so the walk resumes at the same cursor.
	var cursor *instance
	for {
		in := p.nextReady(cursor)
		if in == nil {
			return nil
		}
		if filter != nil && !filter.Compatible(in.currentPinned()) {
			cursor = in
			continue
		}
		if in.meta == nil && !p.startable(in) {
			continue
		}
		return p.lockAndBuild(in, now, lockTimeout)
	}
}

// nextReady returns the first ready instance after cursor (nil: the first).
func (p *Provider) nextReady(cursor *instance) *instance {
	if cursor == nil {
		k, _ := p.orchReady.Min()
		return k.in
	}
	var found *instance
	p.orchReady.AscendGreaterOrEqual(readyKey{seq: cursor.readySeq + 1}, func(k readyKey) bool {
		found = k.in
		return false
	})
	return found
}

// startable decides, for an instance without metadata, whether its visible
// batch can be processed: history with an OrchestrationStarted, or a start
// or continue-as-new message. Otherwise it drops an all-QueueMessage batch
// (orphans) or parks the instance, and returns false. Caller holds p.mu.
func (p *Provider) startable(in *instance) bool {
	if e := in.execByID(in.latestExecID()); e != nil && len(e.history) > 0 {
		return true // the fetch reads name/version from its OrchestrationStarted, or reports history_error
	}
	allQueue := true
	for _, m := range in.msgs {
		switch m.item.(type) {
		case duroxide.StartOrchestrationItem, duroxide.ContinueAsNewItem:
			return true
		case duroxide.QueueMessageItem:
		default:
			allQueue = false
		}
	}
	if allQueue {
		p.removeOrchMsgs(in, func(*orchMsg) bool { return true })
	} else {
		in.parked = true
	}
	p.refreshReady(in)
	p.forgetIfEmpty(in)
	return false
}

// forgetIfEmpty deletes in's entry when it holds nothing (no record,
// execution, visible or delayed message, lock or key/value state), so that
// messages dropped for ids that never existed leave nothing behind. Caller
// holds p.mu and has taken in out of the indexes.
func (p *Provider) forgetIfEmpty(in *instance) {
	if in.meta == nil && len(in.execs) == 0 && len(in.msgs) == 0 && len(in.timers) == 0 && in.lock == nil && in.kv == nil && in.kvDelta == nil {
		delete(p.instances, in.id)
	}
}

// lockAndBuild locks in, tags its visible messages as the batch, and returns
// the item. Caller holds p.mu.
func (p *Provider) lockAndBuild(in *instance, now int64, lockTimeout time.Duration) *duroxide.LockedOrchestrationItem {
	p.releaseLock(in) // an expired lock's token is superseded
	token := p.newToken()
	in.lockBuf = instLock{serial: p.tokens, token: token, until: addNs(now, lockTimeout), indexed: true}
	in.lock = &in.lockBuf
	p.orchLocks.ReplaceOrInsert(in.lockKey())
	p.orchTokens.put(token, p.tokens, in)
	p.refreshReady(in)
	p.wakeAt(in.lock.until)

	var item *duroxide.LockedOrchestrationItem
	if len(in.msgs) == 1 {
		one := new(lockedOne)
		item = &one.item
		item.Messages = one.msgs[:0]
	} else {
		item = new(duroxide.LockedOrchestrationItem)
		item.Messages = make([]duroxide.WorkItem, 0, len(in.msgs))
	}
	item.LockToken = token
	item.Instance = in.id
	for _, m := range in.msgs {
		m.batch = token
		m.attempts++
		item.AttemptCount = max(item.AttemptCount, m.attempts)
		item.Messages = append(item.Messages, duroxide.CloneWorkItem(m.item))
	}

	if in.meta != nil {
		item.OrchestrationName = in.meta.name
		item.Version = in.meta.version
		item.ExecutionID = in.meta.currentExec
	} else {
		fallbackIdentity(in, item)
	}
	history, herr := decodedHistory(in, in.execByID(item.ExecutionID))
	if herr != "" {
		item.History = []duroxide.Event{}
		item.HistoryError = herr
		item.KVSnapshot = map[string]duroxide.KvEntry{}
	} else {
		item.History = history
		if in.meta == nil {
			nameFromHistory(item)
		}
		item.KVSnapshot = kvSnapshot(in)
	}
	return item
}

// lockedOne is a fetched item and its one-message batch in one allocation
// (the caller owns both).
type lockedOne struct {
	item duroxide.LockedOrchestrationItem
	msgs [1]duroxide.WorkItem
}

// fallbackIdentity names an item of an instance without metadata: the
// latest execution, and the first start or continue-as-new message of the
// batch (nameFromHistory may override it from history).
func fallbackIdentity(in *instance, item *duroxide.LockedOrchestrationItem) {
	item.ExecutionID = in.latestExecID()
	item.Version = duroxide.UnknownVersion
	for _, w := range item.Messages {
		switch v := w.(type) {
		case duroxide.StartOrchestrationItem:
			item.OrchestrationName = v.Orchestration
			if v.Version != nil {
				item.Version = *v.Version
			}
			return
		case duroxide.ContinueAsNewItem:
			item.OrchestrationName = v.Orchestration
			if v.Version != nil {
				item.Version = *v.Version
			}
			return
		}
	}
}

// nameFromHistory takes name and version from the history's first
// OrchestrationStarted, when there is one.
func nameFromHistory(item *duroxide.LockedOrchestrationItem) {
	for _, ev := range item.History {
		if s, ok := ev.Kind.(duroxide.OrchestrationStarted); ok {
			item.OrchestrationName = s.Name
			item.Version = s.Version
			return
		}
	}
}

// AckOrchestrationItem implements [duroxide.Provider]. Everything is
// validated before anything changes, so a failed ack changes nothing and
// keeps the lock. O(b + d log n + e).
func (p *Provider) AckOrchestrationItem(ctx context.Context, lockToken string, a duroxide.OrchestrationAck) error {
	const op = "ack_orchestration_item"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	if lockToken == "" {
		return duroxide.Permanent(op, duroxide.ErrInvalidLockToken, "Invalid lock token: empty token")
	}
	if a.ExecutionID == 0 {
		return invalid(op, "execution_id must not be 0")
	}
	if err := checkAckItems(op, a); err != nil {
		return err
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	in, _ := p.orchTokens.get(lockToken)
	if in == nil {
		return duroxide.Permanent(op, duroxide.ErrInvalidLockToken, "Invalid lock token %q: not held (never issued, already acked or abandoned, superseded, or its instance was deleted)", lockToken)
	}
	now := p.now()
	if in.lock.until <= now {
		return duroxide.Permanent(op, duroxide.ErrLockExpired, "Instance lock expired for instance %q (token %q)", in.id, lockToken)
	}
	if err := checkEvents(op, in.execByID(a.ExecutionID), a.HistoryDelta); err != nil {
		return err
	}

	// Validation is complete: apply.
	p.removeOrchMsgs(in, func(m *orchMsg) bool { return m.batch == lockToken })
	p.applyMetadata(in, a, now)
	p.applyWorkerItems(a, now)
	for _, w := range a.OrchestratorItems {
		visibleAt := now
		if t, ok := w.(duroxide.TimerFiredItem); ok {
			visibleAt = fireAtNs(t.FireAtMs)
		}
		target, _ := duroxide.OrchestratorInstance(w) // validated by checkAckItems
		p.addOrchMsg(p.inst(target), duroxide.CloneWorkItem(w), visibleAt, now)
	}
	p.releaseLock(in)
	p.refreshReady(in)
	p.signal()
	return nil
}

var errEmptyInstance = errors.New("empty instance id")

// fireAtNs converts a fire_at_ms to nanoseconds, saturating.
func fireAtNs(ms uint64) int64 {
	const maxMs = (1<<63 - 1) / int64(time.Millisecond)
	if ms > uint64(maxMs) {
		return 1<<63 - 1
	}
	return int64(ms) * int64(time.Millisecond)
}

// checkAckItems validates the ack's history kinds and items: everything that
// does not need the store.
func checkAckItems(op string, a duroxide.OrchestrationAck) error {
	if err := checkKinds(op, "history_delta", a.HistoryDelta); err != nil {
		return err
	}
	for i, w := range a.WorkerItems {
		if err := checkWorkerItem(w); err != nil {
			return invalidArg(op, "worker_items["+strconv.Itoa(i)+"]", err)
		}
	}
	for i, w := range a.OrchestratorItems {
		if _, err := orchestratorTarget(w); err != nil {
			return invalidArg(op, "orchestrator_items["+strconv.Itoa(i)+"]", err)
		}
	}
	for i, c := range a.CancelledActivities {
		if c.Instance == "" {
			return invalidArg(op, "cancelled_activities["+strconv.Itoa(i)+"]", errEmptyInstance)
		}
	}
	return nil
}

// applyMetadata writes the instance record, the execution record, history,
// status, custom status and key/value changes of an ack. Caller holds p.mu.
func (p *Provider) applyMetadata(in *instance, a duroxide.OrchestrationAck, now int64) {
	md := a.Metadata
	if md.OrchestrationName != nil && md.OrchestrationVersion != nil {
		if in.meta == nil {
			var meta *instMeta
			if in.execByID(a.ExecutionID) == nil {
				rec := &firstRecord{exec: execution{id: a.ExecutionID}}
				in.addExec(&rec.exec)
				meta = &rec.meta
			} else {
				meta = new(instMeta)
			}
			*meta = instMeta{currentExec: a.ExecutionID, parent: cloneStr(md.ParentInstanceID), createdAt: now, createdSeq: p.nextSeq()}
			in.meta = meta
		}
		in.meta.name = *md.OrchestrationName
		in.meta.version = *md.OrchestrationVersion
	}
	e := in.exec(a.ExecutionID)
	if !e.row {
		e.row = true
		e.status = duroxide.StatusRunning
		e.startedAt = now
	}
	if md.PinnedDuroxideVersion != nil {
		v := *md.PinnedDuroxideVersion
		e.pinned = &v
	}
	if in.meta != nil {
		in.meta.currentExec = max(in.meta.currentExec, a.ExecutionID)
		in.meta.updatedAt = now
	}
	e.appendEvents(a.HistoryDelta)
	if len(a.HistoryDelta) > 0 {
		in.parked = false
	}
	if md.Status != "" {
		e.status = md.Status
		e.output, e.hasOutput = "", md.Output != nil
		if md.Output != nil {
			e.output = *md.Output
		}
		e.completed, e.completedAt = true, now
	}
	p.applyCustomStatus(in, a.HistoryDelta)
	applyKV(in, a.HistoryDelta, now)
	if md.Status.IsTerminal() {
		mergeKV(in)
	}
}

// applyCustomStatus applies the last CustomStatusUpdated of the delta: one
// version bump per ack. No effect without an instance record.
func (p *Provider) applyCustomStatus(in *instance, delta []duroxide.Event) {
	if in.meta == nil {
		return
	}
	for i := len(delta) - 1; i >= 0; i-- {
		if cs, ok := delta[i].Kind.(duroxide.CustomStatusUpdated); ok {
			in.meta.customStatus = cloneStr(cs.Status)
			in.meta.statusVersion++
			return
		}
	}
}

// applyKV records the delta's key/value events in the instance's current
// execution overlay; tombstones are stamped with now (in ms).
func applyKV(in *instance, delta []duroxide.Event, now int64) {
	nowMs := uint64(max(now, 0) / int64(time.Millisecond))
	for _, ev := range delta {
		switch k := ev.Kind.(type) {
		case duroxide.KeyValueSet:
			setDelta(in, k.Key, kvDelta{value: &k.Value, at: k.LastUpdatedAtMs})
		case duroxide.KeyValueCleared:
			setDelta(in, k.Key, kvDelta{at: nowMs})
		case duroxide.KeyValuesCleared:
			for key := range in.kvDelta {
				in.kvDelta[key] = kvDelta{at: nowMs}
			}
			for key := range in.kv {
				setDelta(in, key, kvDelta{at: nowMs})
			}
		}
	}
}

func setDelta(in *instance, key string, d kvDelta) {
	if in.kvDelta == nil {
		in.kvDelta = make(map[string]kvDelta)
	}
	if d.value != nil {
		v := *d.value
		d.value = &v
	}
	in.kvDelta[key] = d
}

// mergeKV folds the overlay into the merged store and clears it.
func mergeKV(in *instance) {
	for key, d := range in.kvDelta {
		if d.value == nil {
			delete(in.kv, key)
			continue
		}
		if in.kv == nil {
			in.kv = make(map[string]duroxide.KvEntry)
		}
		in.kv[key] = duroxide.KvEntry{Value: *d.value, LastUpdatedAtMs: d.at}
	}
	in.kvDelta = nil
}

// AbandonOrchestrationItem implements [duroxide.Provider]. The lock may have
// expired; its token must not have been superseded. O(b log n).
func (p *Provider) AbandonOrchestrationItem(ctx context.Context, lockToken string, delay time.Duration, ignoreAttempt bool) error {
	const op = "abandon_orchestration_item"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	if err := checkDuration(op, "delay", delay); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	in, _ := p.orchTokens.get(lockToken)
	if in == nil {
		return duroxide.Permanent(op, duroxide.ErrInvalidLockToken, "Invalid lock token %q: not held", lockToken)
	}
	now := p.now()
	p.promoteOrch(now)
	p.releaseLock(in)
	if ignoreAttempt {
		for _, list := range [2][]*orchMsg{in.msgs, in.timers} {
			for _, m := range list {
				if m.attempts > 0 {
					m.attempts--
				}
			}
		}
	}
	if delay > 0 {
		for i, m := range in.msgs {
			m.visibleAt = addNs(now, delay)
			in.addTimer(m)
			p.orchFuture.ReplaceOrInsert(m.futureKey())
			in.msgs[i] = nil
		}
		in.msgs = in.msgs[:0]
	}
	p.refreshReady(in)
	p.signal()
	return nil
}

// RenewOrchestrationItemLock implements [duroxide.Provider]. O(log n).
func (p *Provider) RenewOrchestrationItemLock(ctx context.Context, lockToken string, extendFor time.Duration) error {
	const op = "renew_orchestration_item_lock"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	if err := checkDuration(op, "extend_for", extendFor); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	in, _ := p.orchTokens.get(lockToken)
	if in == nil {
		return duroxide.Permanent(op, duroxide.ErrInvalidLockToken, "Invalid lock token %q: not held (already acked, abandoned or superseded)", lockToken)
	}
	now := p.now()
	if in.lock.until <= now {
		return duroxide.Permanent(op, duroxide.ErrLockExpired, "Instance lock expired for instance %q (token %q)", in.id, lockToken)
	}
	if in.lock.indexed {
		p.orchLocks.Delete(in.lockKey())
	}
	in.lock.until = addNs(now, extendFor)
	in.lock.indexed = true // now restores the index after a step back; this keeps renew right on its own
	p.orchLocks.ReplaceOrInsert(in.lockKey())
	p.refreshReady(in)
	p.wakeAt(in.lock.until) // a shorter lock frees the instance earlier
	return nil
}

func cloneStr(s *string) *string {
	if s == nil {
		return nil
	}
	v := *s
	return &v
}
