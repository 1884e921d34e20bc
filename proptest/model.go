package proptest

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/duroxide-go/duroxide"
)

// This file is the model: a naive provider kept in plain slices and maps,
// written from the contract (provider.go, docs/provider-semantics.md and
// memprovider's documented choices) and sharing no code with any provider.
// Everything is a linear scan; nothing is indexed. It is the oracle both
// the state machine and the linearizability checker compare a provider
// with.
//
// Rules the model states, by where they come from:
//
//   - Orchestrator fetch: candidates are instances with a visible message
//     (visible_at <= now) and no unexpired lock, oldest visible message
//     first (FIFO across instances by enqueue order). With a capability
//     filter, instances whose current execution is pinned outside every
//     range are passed over; an empty range list returns nothing. An
//     instance without a record whose latest execution has no history is
//     startable only if a visible message is a StartOrchestration or
//     ContinueAsNew; otherwise, if all its visible messages are
//     QueueMessage, the fetch deletes them (orphans) and goes on; if not,
//     it is skipped untouched (head-of-line rule). The chosen instance is
//     locked until now+lockTimeout under a fresh token; every visible
//     message is tagged with the token and its attempt count incremented;
//     the batch is those messages in enqueue order; AttemptCount is the
//     batch maximum.
//   - Identity of an item: the record's name, version and current
//     execution; without a record, the latest execution (highest execution
//     record, else 1), name and version from the first OrchestrationStarted
//     of its history, else from the batch's first StartOrchestration or
//     ContinueAsNew (version "unknown" when nil). History is that
//     execution's events by ascending id; KVSnapshot the merged store only.
//   - Ack: token must hold an unexpired lock; no event id may be zero or
//     already present (in the delta or the execution); otherwise nothing
//     changes. Success deletes exactly the batch, creates the record only
//     with name and version, stores pinned version, status, output and
//     completion time, raises the current execution, appends the delta,
//     applies the last CustomStatusUpdated (one version bump, record
//     required), records key/value events in the delta and merges it on a
//     terminal status, enqueues worker items, then removes cancelled
//     activities, then enqueues orchestrator items (a TimerFired visible at
//     FireAtMs), and releases the lock.
//   - Abandon: the token must not be superseded (expiry is fine); delay
//     hides the instance's visible messages until now+delay; ignoreAttempt
//     decrements every message of the instance, floor 0.
//   - Worker fetch: oldest item that is visible, unlocked or lock-expired,
//     accepted by the tag filter, and either sessionless or (with a
//     session config) of a session with no active lease or one leased by
//     the same owner; fetching a session item leases the session to the
//     owner until now+lease with activity now. TagNone returns nothing.
//   - Worker ack and renew need an unexpired lock; abandon only an
//     unsuperseded token. Ack and renew record session activity while the
//     lease is active.
//   - Sessions: renew extends active leases of the listed owners with
//     activity within idle; cleanup deletes leases that ended strictly
//     before now and that no worker item references.
//   - Expiry is strict everywhere: a deadline equal to now has passed.
//     Deadlines are absolute: when the clock steps back, a lock or lease
//     whose expiry is after the new now is held again.
//   - Corrupt history (the harness hook): reads of an execution holding
//     undecodable events fail with ErrCorruptData; a fetch returns the
//     batch with HistoryError, no history and an empty snapshot.
//   - Values a provider must refuse with ErrInvalidArgument: work items,
//     event kinds and error details that the contract's validators
//     (duroxide.ValidateWorkItem, duroxide.ValidateEvent) refuse, such as
//     pointer variants.
type model struct {
	now    int64 // the provider's clock, Unix nanoseconds
	start  int64 // the clock when the model was built
	latest int64 // the latest the clock has been (now, unless it stepped back)
	// steppedBack says the clock stepped back at least once: timestamps
	// written later may be earlier than ones written before.
	steppedBack bool
	seq         uint64 // enqueue order, shared by both queues
	created     uint64 // instance-record creation order
	orchQ       []qmsg // the orchestrator queue, in enqueue order
	workQ       []witem
	insts       map[string]*minst
	sess        map[string]msession
	// tokens is every lock token a provider handed out, with its fate
	// (used for uniqueness and to name the rule a failure breaks).
	tokens map[string]string
	fp     string // cached fingerprint; "" when not computed
}

// qmsg is one orchestrator message.
type qmsg struct {
	seq       uint64
	instance  string
	item      duroxide.WorkItem
	visibleAt int64
	attempts  uint32
	batch     string // token of the fetch that last took it
}

// witem is one worker item.
type witem struct {
	seq       uint64
	item      duroxide.ActivityExecuteItem
	visibleAt int64
	token     string // outstanding lock token; "" when none
	until     int64
	attempts  uint32
}

// msession is one session row.
type msession struct {
	owner        string
	until        int64
	lastActivity int64
}

// minst is everything stored under an instance id.
type minst struct {
	record        bool // an ack with name and version created the record
	name, version string
	currentExec   uint64
	parent        *string
	createdAt     int64
	createdOrder  uint64
	status        *string // custom status
	statusVersion uint64
	execs         map[uint64]mexec
	kv            map[string]duroxide.KvEntry // merged store
	delta         map[string]kvw              // current execution's writes
	lockToken     string                      // outstanding instance lock token; "" when none
	lockUntil     int64
}

// kvw is one key/value write of the current execution; value nil is a
// tombstone.
type kvw struct {
	value *string
	at    uint64
}

// mexec is one execution.
type mexec struct {
	record      bool // an ack created the execution record
	status      duroxide.ExecutionStatus
	output      *string
	startedAt   int64
	completedAt *int64
	pinned      *duroxide.Semver
	events      []duroxide.Event // ascending event id
	// corrupt says some stored event of the execution is undecodable (the
	// harness's CorruptInstanceHistory hook): reads fail with
	// ErrCorruptData and a fetch reports HistoryError, until the execution
	// is pruned or deleted. Events acked or appended later do not cure it.
	corrupt bool
}

// Token fates.
const (
	fateHeld       = "held"
	fateAcked      = "acked"
	fateAbandoned  = "abandoned"
	fateSuperseded = "superseded by a later fetch"
	fateDeleted    = "deleted with its instance or item"
	fateWorkHeld   = "worker lock"
	fateWorkAcked  = "worker item acked"
	fateWorkAband  = "worker item abandoned"
	fateWorkSuper  = "worker item re-fetched"
	fateCancelled  = "worker item cancelled by an orchestration ack"
)

// newModel returns an empty model at now.
func newModel(now time.Time) *model {
	return &model{
		now:    now.UnixNano(),
		start:  now.UnixNano(),
		latest: now.UnixNano(),
		insts:  map[string]*minst{},
		sess:   map[string]msession{},
		tokens: map[string]string{},
	}
}

// clone returns a deep copy of m (work items and events are immutable and
// shared).
func (m *model) clone() *model {
	c := &model{
		now:         m.now,
		start:       m.start,
		latest:      m.latest,
		seq:         m.seq,
		steppedBack: m.steppedBack,
		created:     m.created,
		orchQ:       slices.Clone(m.orchQ),
		workQ:       slices.Clone(m.workQ),
		insts:       make(map[string]*minst, len(m.insts)),
		sess:        maps.Clone(m.sess),
		tokens:      maps.Clone(m.tokens),
		fp:          m.fp,
	}
	for id, in := range m.insts {
		ci := *in
		ci.execs = make(map[uint64]mexec, len(in.execs))
		for k, e := range in.execs {
			e.events = slices.Clone(e.events)
			ci.execs[k] = e
		}
		ci.kv = maps.Clone(in.kv)
		ci.delta = maps.Clone(in.delta)
		c.insts[id] = &ci
	}
	return c
}

// inst returns the instance state, creating it empty.
func (m *model) inst(id string) *minst {
	in := m.insts[id]
	if in == nil {
		in = &minst{execs: map[uint64]mexec{}}
		m.insts[id] = in
	}
	return in
}

// latestExec is the highest execution with a record, or 1.
func latestExec(in *minst) uint64 {
	latest := duroxide.InitialExecutionID
	for id, e := range in.execs {
		if e.record && id > latest {
			latest = id
		}
	}
	return latest
}

// held reports whether in's lock is held and unexpired.
func (m *model) held(in *minst) bool {
	return in != nil && in.lockToken != "" && in.lockUntil > m.now
}

// lockedBy returns the instance whose outstanding lock token is token.
func (m *model) lockedBy(token string) (string, *minst) {
	if token == "" {
		return "", nil
	}
	for id, in := range m.insts {
		if in.lockToken == token {
			return id, in
		}
	}
	return "", nil
}

// workBy returns the index of the worker item whose lock token is token.
func (m *model) workBy(token string) int {
	if token == "" {
		return -1
	}
	return slices.IndexFunc(m.workQ, func(w witem) bool { return w.token == token })
}

// visibleMsgs returns the visible messages of instance id in enqueue order.
func (m *model) visibleMsgs(id string) []qmsg {
	var out []qmsg
	for _, q := range m.orchQ {
		if q.instance == id && q.visibleAt <= m.now {
			out = append(out, q)
		}
	}
	return out
}

// validOrchItem reports whether w may go to the orchestrator queue: a
// value variant (duroxide.ValidateWorkItem, which also checks its error
// details) routed to a non-empty instance.
func validOrchItem(w duroxide.WorkItem) bool {
	id, ok := duroxide.OrchestratorInstance(w)
	return ok && id != "" && duroxide.ValidateWorkItem(w) == nil
}

// validWorkerItem reports whether w may go to the worker queue.
func validWorkerItem(w duroxide.WorkItem) bool {
	a, ok := w.(duroxide.ActivityExecuteItem)
	return ok && a.Instance != "" && (a.SessionID == nil || *a.SessionID != "")
}

// validKind reports whether k is an event kind a provider may store: one
// of the contract's value variants (duroxide.ValidateEvent), never nil, a
// pointer to a variant or a foreign type.
func validKind(k duroxide.EventKind) bool {
	return duroxide.ValidateEvent(duroxide.Event{Kind: k}) == nil
}

// eventsErr returns the error kinds appending events to existing raises
// (nil when none).
func eventsErr(existing, events []duroxide.Event) []error {
	var errs []error
	ids := map[uint64]bool{}
	for _, e := range existing {
		ids[e.EventID] = true
	}
	seen := map[uint64]bool{}
	for _, e := range events {
		if e.EventID == 0 || !validKind(e.Kind) {
			errs = appendErr(errs, duroxide.ErrInvalidArgument)
			continue
		}
		if seen[e.EventID] || ids[e.EventID] {
			errs = appendErr(errs, duroxide.ErrDuplicateEvent)
		}
		seen[e.EventID] = true
	}
	return errs
}

func appendErr(errs []error, e error) []error {
	if slices.Contains(errs, e) {
		return errs
	}
	return append(errs, e)
}

// insertEvents returns existing plus events, ordered by event id.
func insertEvents(existing, events []duroxide.Event) []duroxide.Event {
	out := slices.Clone(existing)
	for _, e := range events {
		i := 0
		for i < len(out) && out[i].EventID < e.EventID {
			i++
		}
		out = slices.Insert(out, i, e.Clone())
	}
	return out
}

// addOrch appends a message to the orchestrator queue.
func (m *model) addOrch(id string, item duroxide.WorkItem, visibleAt int64) {
	m.seq++
	m.inst(id)
	m.orchQ = append(m.orchQ, qmsg{seq: m.seq, instance: id, item: duroxide.CloneWorkItem(item), visibleAt: visibleAt})
}

// addWork appends an item to the worker queue, visible now.
func (m *model) addWork(a duroxide.ActivityExecuteItem) {
	m.seq++
	m.workQ = append(m.workQ, witem{seq: m.seq, item: duroxide.CloneWorkItem(a).(duroxide.ActivityExecuteItem), visibleAt: m.now})
}

// startable reports whether an instance without a record can be fetched:
// its latest execution has history, or a visible message starts it.
func (m *model) startable(id string, in *minst) bool {
	if len(in.execs[latestExec(in)].events) > 0 {
		return true
	}
	for _, q := range m.visibleMsgs(id) {
		switch q.item.(type) {
		case duroxide.StartOrchestrationItem, duroxide.ContinueAsNewItem:
			return true
		}
	}
	return false
}

// allQueueMessages reports whether every message is a QueueMessage.
func allQueueMessages(msgs []qmsg) bool {
	for _, q := range msgs {
		if _, ok := q.item.(duroxide.QueueMessageItem); !ok {
			return false
		}
	}
	return true
}

// currentPinned is the pinned version of in's current execution (nil
// without a record).
func currentPinned(in *minst) *duroxide.Semver {
	if !in.record {
		return nil
	}
	return in.execs[in.currentExec].pinned
}

// orchCandidates returns the fetchable instances (a visible message, no
// unexpired lock), oldest visible message first.
func (m *model) orchCandidates() []string {
	first := map[string]uint64{}
	var ids []string
	for _, q := range m.orchQ {
		if q.visibleAt > m.now || m.held(m.insts[q.instance]) {
			continue
		}
		if _, ok := first[q.instance]; !ok {
			first[q.instance] = q.seq
			ids = append(ids, q.instance)
		}
	}
	return ids // orchQ is in seq order, so ids are by oldest visible message
}

// orchPlan is what a fetch will do: drop the orphan batches of drops, then
// lock chosen ("" for none).
type orchPlan struct {
	drops  []string
	chosen string
}

// planOrchFetch walks the candidates without changing anything.
func (m *model) planOrchFetch(f *duroxide.DispatcherCapabilityFilter) orchPlan {
	var p orchPlan
	for _, id := range m.orchCandidates() {
		in := m.insts[id]
		if f != nil && !f.Compatible(currentPinned(in)) {
			continue
		}
		if !in.record && !m.startable(id, in) {
			if allQueueMessages(m.visibleMsgs(id)) {
				p.drops = append(p.drops, id)
			}
			continue
		}
		p.chosen = id
		return p
	}
	return p
}

// expectOrchItem builds the item a fetch of id returns (before locking;
// attempts as after the fetch, no token).
func (m *model) expectOrchItem(id string) *duroxide.LockedOrchestrationItem {
	in := m.insts[id]
	it := &duroxide.LockedOrchestrationItem{}
	it.Instance = id
	for _, q := range m.visibleMsgs(id) {
		it.Messages = append(it.Messages, q.item)
		it.AttemptCount = max(it.AttemptCount, q.attempts+1)
	}
	if in.record {
		it.OrchestrationName, it.Version, it.ExecutionID = in.name, in.version, in.currentExec
	} else {
		it.ExecutionID = latestExec(in)
		it.Version = duroxide.UnknownVersion
		for _, w := range it.Messages {
			if s, ok := w.(duroxide.StartOrchestrationItem); ok {
				it.OrchestrationName = s.Orchestration
				if s.Version != nil {
					it.Version = *s.Version
				}
				break
			}
			if c, ok := w.(duroxide.ContinueAsNewItem); ok {
				it.OrchestrationName = c.Orchestration
				if c.Version != nil {
					it.Version = *c.Version
				}
				break
			}
		}
	}
	if in.execs[it.ExecutionID].corrupt {
		it.History = []duroxide.Event{}
		it.HistoryError = "undecodable history"
		it.KVSnapshot = map[string]duroxide.KvEntry{}
		return it
	}
	it.History = slices.Clone(in.execs[it.ExecutionID].events)
	if !in.record {
		for _, e := range it.History {
			if s, ok := e.Kind.(duroxide.OrchestrationStarted); ok {
				it.OrchestrationName, it.Version = s.Name, s.Version
				break
			}
		}
	}
	it.KVSnapshot = maps.Clone(in.kv)
	return it
}

// applyOrchFetch performs plan with token as the new lock token.
func (m *model) applyOrchFetch(p orchPlan, lockTimeout time.Duration, token string) {
	for _, id := range p.drops {
		m.orchQ = slices.DeleteFunc(m.orchQ, func(q qmsg) bool { return q.instance == id && q.visibleAt <= m.now })
	}
	if p.chosen == "" {
		return
	}
	in := m.insts[p.chosen]
	if in.lockToken != "" {
		m.tokens[in.lockToken] = fateSuperseded
	}
	in.lockToken, in.lockUntil = token, m.now+int64(lockTimeout)
	m.tokens[token] = fateHeld
	for i := range m.orchQ {
		q := &m.orchQ[i]
		if q.instance == p.chosen && q.visibleAt <= m.now {
			q.batch = token
			q.attempts++
		}
	}
}

// workEligible reports whether worker item w may be fetched, and if not,
// why.
func (m *model) workEligible(w witem, cfg *duroxide.SessionFetchConfig, f duroxide.TagFilter) (bool, string) {
	switch {
	case w.visibleAt > m.now:
		return false, fmt.Sprintf("visibility: it is delayed until %s", m.at(w.visibleAt))
	case w.token != "" && w.until > m.now:
		return false, fmt.Sprintf("exclusivity: it is locked by token %q until %s", w.token, m.at(w.until))
	case !f.Matches(w.item.Tag):
		return false, fmt.Sprintf("tag filter: tag %s is not accepted by %s", strp(w.item.Tag), f)
	}
	if w.item.SessionID == nil {
		return true, ""
	}
	if cfg == nil {
		return false, fmt.Sprintf("sessions: it belongs to session %q and the fetch had no session config", *w.item.SessionID)
	}
	s, ok := m.sess[*w.item.SessionID]
	if ok && s.until > m.now && s.owner != cfg.OwnerID {
		return false, fmt.Sprintf("sessions: session %q is leased by %q until %s, not by %q", *w.item.SessionID, s.owner, m.at(s.until), cfg.OwnerID)
	}
	return true, ""
}

// touch records session activity for item a while its lease is active.
func (m *model) touch(a duroxide.ActivityExecuteItem) {
	if a.SessionID == nil {
		return
	}
	if s, ok := m.sess[*a.SessionID]; ok && s.until > m.now {
		s.lastActivity = m.now
		m.sess[*a.SessionID] = s
	}
}

// running reports whether in's current execution record has status
// Running.
func running(in *minst) bool {
	if in == nil || !in.record {
		return false
	}
	e, ok := in.execs[in.currentExec]
	return ok && e.record && e.status == duroxide.StatusRunning
}

// children returns the instances whose record names id as parent.
func (m *model) children(id string) []string {
	var out []string
	for cid, in := range m.insts {
		if in.record && in.parent != nil && *in.parent == id {
			out = append(out, cid)
		}
	}
	slices.Sort(out)
	return out
}

// tree returns root and its descendants.
func (m *model) tree(root string) []string {
	seen := map[string]bool{}
	var all []string
	stack := []string{root}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		all = append(all, id)
		stack = append(stack, m.children(id)...)
	}
	return all
}

// deletion is what deleting a set of instances removes; instancesMin and
// instancesMax bound InstancesDeleted: at least the listed instances with a
// record, at most every listed id (duroxide's SQLite provider reports
// len(ids); others count the ids they held state for).
type deletion struct {
	res                        duroxide.DeleteInstanceResult
	instancesMin, instancesMax uint64
}

// planDelete counts what deleting ids removes.
func (m *model) planDelete(ids []string) deletion {
	var d deletion
	distinct := map[string]bool{}
	for _, id := range ids {
		if distinct[id] {
			continue
		}
		distinct[id] = true
		if in := m.insts[id]; in != nil {
			if in.record {
				d.instancesMin++
			}
			for _, e := range in.execs {
				if e.record {
					d.res.ExecutionsDeleted++
				}
				d.res.EventsDeleted += uint64(len(e.events))
			}
		}
		for _, q := range m.orchQ {
			if q.instance == id {
				d.res.QueueMessagesDeleted++
			}
		}
		for _, w := range m.workQ {
			if w.item.Instance == id {
				d.res.QueueMessagesDeleted++
			}
		}
	}
	d.instancesMax = uint64(len(ids))
	return d
}

// applyDelete removes everything stored for ids (sessions stay).
func (m *model) applyDelete(ids []string) {
	del := map[string]bool{}
	for _, id := range ids {
		del[id] = true
		if in := m.insts[id]; in != nil && in.lockToken != "" {
			m.tokens[in.lockToken] = fateDeleted
		}
		delete(m.insts, id)
	}
	m.orchQ = slices.DeleteFunc(m.orchQ, func(q qmsg) bool { return del[q.instance] })
	m.workQ = slices.DeleteFunc(m.workQ, func(w witem) bool {
		if del[w.item.Instance] && w.token != "" {
			m.tokens[w.token] = fateDeleted
		}
		return del[w.item.Instance]
	})
}

// unixMs converts a model time to Unix milliseconds, as the contract's
// timestamps are.
func unixMs(ns int64) uint64 { return uint64(ns / int64(time.Millisecond)) }

// at renders a model time relative to nothing (absolute, UTC).
func (m *model) at(ns int64) string {
	return time.Unix(0, ns).UTC().Format("15:04:05.000")
}

// deadlines returns every future instant at which the model's answers may
// change: lock and lease expiries and visibility times, ascending, unique.
func (m *model) deadlines() []int64 {
	var ds []int64
	add := func(t int64) {
		if t > m.now {
			ds = append(ds, t)
		}
	}
	for _, q := range m.orchQ {
		add(q.visibleAt)
	}
	for _, in := range m.insts {
		if in.lockToken != "" {
			add(in.lockUntil)
		}
	}
	for _, w := range m.workQ {
		add(w.visibleAt)
		if w.token != "" {
			add(w.until)
		}
	}
	for _, s := range m.sess {
		add(s.until)
	}
	slices.Sort(ds)
	return slices.Compact(ds)
}
