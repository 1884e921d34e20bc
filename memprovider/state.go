package memprovider

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/duroxide-go/duroxide"
)

// instance is everything stored under one instance id: metadata (nil until
// an ack creates it), executions with their history, orchestrator messages,
// the instance lock and key/value state.
type instance struct {
	id      string
	meta    *instMeta
	execs   []*execution // ascending id
	msgs    []*orchMsg   // visible orchestrator messages, ascending seq
	timers  []*orchMsg   // delayed messages (also in orchFuture), in no order; see orchMsg.slot
	lock    *instLock    // nil when no token is outstanding; points at lockBuf
	lockBuf instLock

	// First backing arrays of msgs and execs: most instances have one
	// visible message at a time and one execution.
	msgsBuf  [1]*orchMsg
	execsBuf [1]*execution

	readySeq uint64 // key in orchReady; 0 when not in it
	parked   bool   // cannot start: skipped until a message becomes visible or history changes
	resort   bool   // in Provider.resort: promotion appended msgs out of order

	kv      map[string]duroxide.KvEntry // merged store
	kvDelta map[string]kvDelta          // current execution's writes
}

// instMeta is the instance record, created by an ack with name and version.
type instMeta struct {
	name          string
	version       string // as last acked
	currentExec   uint64
	parent        *string
	customStatus  *string
	statusVersion uint64
	createdAt     int64
	createdSeq    uint64 // tie-break for createdAt
	updatedAt     int64
}

// instLock is an instance lock. indexed says it is in orchLocks: held and,
// as of the last promotion, unexpired.
type instLock struct {
	serial  uint64 // unique per lock taken
	token   string
	until   int64
	indexed bool
}

// orchMsg is one orchestrator-queue message. A visible message is in its
// instance's msgs; a delayed one is in its instance's timers (at slot-1) and
// in orchFuture. Keeping the two apart is what makes an enqueue O(log n)
// whatever the instance's pending timers.
type orchMsg struct {
	seq       uint64
	inst      *instance
	item      duroxide.WorkItem
	visibleAt int64
	attempts  uint32
	slot      uint32 // 1 + index in inst.timers; 0 when visible
	batch     string // token of the batch that last took it
}

// delayed reports whether m is not yet visible.
func (m *orchMsg) delayed() bool { return m.slot != 0 }

// addTimer files m, not yet visible, among in's timers. O(1).
func (in *instance) addTimer(m *orchMsg) {
	in.timers = append(in.timers, m)
	m.slot = uint32(len(in.timers))
}

// dropTimer takes m out of in's timers (it moves the last one into its
// slot). O(1).
func (in *instance) dropTimer(m *orchMsg) {
	i, last := m.slot-1, len(in.timers)-1
	moved := in.timers[last]
	in.timers[i] = moved
	moved.slot = i + 1
	in.timers[last] = nil
	in.timers = in.timers[:last]
	m.slot = 0
}

func cmpSeq(a, b *orchMsg) int { return cmp.Compare(a.seq, b.seq) }

// execution is one execution of an instance. row says an ack created its
// record; AppendWithExecution can store history without one.
type execution struct {
	id          uint64
	row         bool
	completed   bool // completedAt is set
	hasOutput   bool // output is set
	corrupt     bool // history is undecodable from its first event on (test hook)
	status      duroxide.ExecutionStatus
	output      string
	startedAt   int64
	completedAt int64
	pinned      *duroxide.Semver
	history     []duroxide.Event // ascending event id
}

// outputPtr returns a copy of the output, nil when unset.
func (e *execution) outputPtr() *string {
	if !e.hasOutput {
		return nil
	}
	v := e.output
	return &v
}

// firstRecord is an instance's record with its first execution record, in
// one allocation: the first ack of an instance creates both.
type firstRecord struct {
	meta instMeta
	exec execution
}

// kvDelta is a current-execution write; value nil is a tombstone.
type kvDelta struct {
	value *string
	at    uint64
}

// readyKey is an instance's entry in orchReady: the sequence number of its
// oldest visible message (unique: a message belongs to one instance). Index
// keys are values, so a search compares inline fields instead of following
// pointers.
type readyKey struct {
	seq uint64
	in  *instance
}

func readyLess(a, b readyKey) bool { return a.seq < b.seq }

// futureKey is a delayed message's entry in orchFuture.
type futureKey struct {
	visibleAt int64
	seq       uint64
	m         *orchMsg
}

func futureLess(a, b futureKey) bool {
	if a.visibleAt != b.visibleAt {
		return a.visibleAt < b.visibleAt
	}
	return a.seq < b.seq
}

func (m *orchMsg) futureKey() futureKey { return futureKey{m.visibleAt, m.seq, m} }

// lockKey is a held lock's entry in orchLocks; serial breaks ties between
// locks with the same expiry.
type lockKey struct {
	until  int64
	serial uint64
	in     *instance
}

func lockLess(a, b lockKey) bool {
	if a.until != b.until {
		return a.until < b.until
	}
	return a.serial < b.serial
}

// lockKey returns in's entry in orchLocks; in.lock must be non-nil.
func (in *instance) lockKey() lockKey { return lockKey{in.lock.until, in.lock.serial, in} }

// inst returns the instance, creating empty state when missing. Caller holds
// p.mu.
func (p *Provider) inst(id string) *instance {
	in := p.instances[id]
	if in == nil {
		in = &instance{id: id}
		in.msgs = in.msgsBuf[:0]
		in.execs = in.execsBuf[:0]
		p.instances[id] = in
	}
	return in
}

// latestExecID is the highest execution id with a record, or 1.
func (in *instance) latestExecID() uint64 {
	for i := len(in.execs) - 1; i >= 0; i-- {
		if in.execs[i].row {
			return in.execs[i].id
		}
	}
	return duroxide.InitialExecutionID
}

// execByID returns execution id, or nil. O(log x).
func (in *instance) execByID(id uint64) *execution {
	if i, ok := slices.BinarySearchFunc(in.execs, id, cmpExec); ok {
		return in.execs[i]
	}
	return nil
}

func cmpExec(e *execution, id uint64) int { return cmp.Compare(e.id, id) }

// exec returns execution id, creating an empty one (no record) if missing.
func (in *instance) exec(id uint64) *execution {
	i, ok := slices.BinarySearchFunc(in.execs, id, cmpExec)
	if ok {
		return in.execs[i]
	}
	e := &execution{id: id}
	in.execs = slices.Insert(in.execs, i, e)
	return e
}

// addExec inserts e, whose id in does not have.
func (in *instance) addExec(e *execution) {
	i, _ := slices.BinarySearchFunc(in.execs, e.id, cmpExec)
	in.execs = slices.Insert(in.execs, i, e)
}

// deleteExec removes execution id. Its history is dropped at once: the
// record may share an allocation with the instance record (firstRecord).
func (in *instance) deleteExec(id uint64) {
	if i, ok := slices.BinarySearchFunc(in.execs, id, cmpExec); ok {
		in.execs[i].history = nil
		in.execs = slices.Delete(in.execs, i, i+1)
	}
}

// currentPinned returns the pinned version of the current execution, nil
// when unknown (no instance record, no execution record, or not pinned).
func (in *instance) currentPinned() *duroxide.Semver {
	if in.meta == nil {
		return nil
	}
	if e := in.execByID(in.meta.currentExec); e != nil {
		return e.pinned
	}
	return nil
}

// refreshReady puts in into orchReady, keyed by its oldest visible message,
// or takes it out, according to its state. O(log n). Caller holds p.mu.
func (p *Provider) refreshReady(in *instance) {
	var want uint64
	if len(in.msgs) > 0 && !in.parked && (in.lock == nil || !in.lock.indexed) {
		want = in.msgs[0].seq
	}
	if want == in.readySeq {
		return
	}
	if in.readySeq != 0 {
		p.orchReady.Delete(readyKey{seq: in.readySeq})
	}
	in.readySeq = want
	if want != 0 {
		p.orchReady.ReplaceOrInsert(readyKey{want, in})
	}
}

// addOrchMsg queues item for in, visible at visibleAt. O(log n): a visible
// message is the instance's newest and goes to the end of its list. Caller
// holds p.mu.
func (p *Provider) addOrchMsg(in *instance, item duroxide.WorkItem, visibleAt, now int64) {
	m := &orchMsg{seq: p.nextSeq(), inst: in, item: item, visibleAt: visibleAt}
	if visibleAt > now {
		in.addTimer(m)
		p.orchFuture.ReplaceOrInsert(m.futureKey())
		p.wakeAt(visibleAt)
		return
	}
	in.msgs = append(in.msgs, m)
	in.parked = false
	p.refreshReady(in)
	p.signal()
}

// removeOrchMsgs deletes the visible messages for which drop is true.
// O(visible messages). Caller holds p.mu and calls refreshReady afterwards.
func (p *Provider) removeOrchMsgs(in *instance, drop func(*orchMsg) bool) int {
	n := len(in.msgs)
	in.msgs = slices.DeleteFunc(in.msgs, drop)
	return n - len(in.msgs)
}

// removeTimers deletes all of in's delayed messages. Caller holds p.mu.
func (p *Provider) removeTimers(in *instance) int {
	n := len(in.timers)
	for _, m := range in.timers {
		p.orchFuture.Delete(m.futureKey())
		m.slot = 0
	}
	in.timers = nil
	return n
}

// promoteOrch makes due messages visible and expired locks reclaimable:
// O(log n) per message or lock. A due message joins the end of its
// instance's visible list; one that is older than the list's last message
// (a timer enqueued before messages that are already visible) marks the list
// for one sort after the loop, so promoting t timers of one instance costs
// O(t log t), in whatever order they fall due. Caller holds p.mu.
func (p *Provider) promoteOrch(now int64) {
	for {
		k, ok := p.orchFuture.Min()
		if !ok || k.visibleAt > now {
			break
		}
		m, in := k.m, k.m.inst
		p.orchFuture.DeleteMin()
		in.dropTimer(m)
		if n := len(in.msgs); n > 0 && in.msgs[n-1].seq > m.seq && !in.resort {
			in.resort = true
			p.resort = append(p.resort, in)
		}
		in.msgs = append(in.msgs, m)
		in.parked = false
		if !in.resort {
			p.refreshReady(in)
		}
	}
	for i, in := range p.resort {
		slices.SortFunc(in.msgs, cmpSeq)
		in.resort = false
		p.refreshReady(in)
		p.resort[i] = nil
	}
	p.resort = p.resort[:0]
	for {
		k, ok := p.orchLocks.Min()
		if !ok || k.until > now {
			break
		}
		p.orchLocks.DeleteMin()
		k.in.lock.indexed = false
		p.refreshReady(k.in)
	}
}

// nextOrchWake is the earliest instant a message becomes visible or a lock
// expires.
func (p *Provider) nextOrchWake() int64 {
	wake := int64(1<<63 - 1)
	if k, ok := p.orchFuture.Min(); ok {
		wake = min(wake, k.visibleAt)
	}
	if k, ok := p.orchLocks.Min(); ok {
		wake = min(wake, k.until)
	}
	return wake
}

// releaseLock drops in's lock and its token. Caller holds p.mu and calls
// refreshReady afterwards.
func (p *Provider) releaseLock(in *instance) {
	if in.lock == nil {
		return
	}
	if in.lock.indexed {
		p.orchLocks.Delete(in.lockKey())
	}
	p.orchTokens.del(in.lock.token)
	in.lock = nil
}

// findEvent returns the index of event id in h, and whether it is there.
func findEvent(h []duroxide.Event, id uint64) (int, bool) {
	return slices.BinarySearchFunc(h, id, func(ev duroxide.Event, id uint64) int { return cmp.Compare(ev.EventID, id) })
}

// minHistoryCap is the capacity of a new history: room for the first turns
// (started, scheduled, completed, completed) without growing.
const minHistoryCap = 4

// appendEvents inserts copies of events into e's history in event-id order.
// Caller has checked that no id is zero or present.
func (e *execution) appendEvents(events []duroxide.Event) {
	if n := len(e.history) + len(events); n > cap(e.history) {
		grown := make([]duroxide.Event, len(e.history), max(n, 2*cap(e.history), minHistoryCap))
		copy(grown, e.history)
		e.history = grown
	}
	for _, ev := range events {
		c := ev.Clone()
		if n := len(e.history); n == 0 || e.history[n-1].EventID < ev.EventID {
			e.history = append(e.history, c)
			continue
		}
		i, _ := findEvent(e.history, ev.EventID)
		e.history = slices.Insert(e.history, i, c)
	}
}

// checkKinds refuses events whose kind is not a variant the wire format can
// encode (nil, a pointer to a variant, an invalid ErrorDetails inside):
// memprovider stores exactly what a JSON-backed provider can store. arg names
// the events' argument in the message.
func checkKinds(op, arg string, events []duroxide.Event) error {
	for i := range events {
		if err := duroxide.ValidateEvent(events[i]); err != nil {
			return invalidArg(op, arg+"["+strconv.Itoa(i)+"] (event_id "+itoa(events[i].EventID)+")", err)
		}
	}
	return nil
}

// checkEvents validates the ids of events (whose kinds checkKinds accepted)
// for appending to e (which may be nil): non-zero and unique.
func checkEvents(op string, e *execution, events []duroxide.Event) error {
	// Runtimes append ascending ids; only an unordered delta needs a set to
	// find duplicates within it.
	var seen map[uint64]struct{}
	for i := 1; i < len(events); i++ {
		if events[i].EventID <= events[i-1].EventID {
			seen = make(map[uint64]struct{}, len(events))
			break
		}
	}
	for i, ev := range events {
		if ev.EventID == 0 {
			return invalid(op, "event %d has event_id 0", i)
		}
		if seen != nil {
			if _, dup := seen[ev.EventID]; dup {
				return duroxide.Permanent(op, duroxide.ErrDuplicateEvent, "Failed to append history: duplicate event_id %d in the appended events", ev.EventID)
			}
			seen[ev.EventID] = struct{}{}
		}
		if e != nil {
			if _, found := findEvent(e.history, ev.EventID); found {
				return duroxide.Permanent(op, duroxide.ErrDuplicateEvent, "Failed to append history: event_id %d already exists in execution %d", ev.EventID, e.id)
			}
		}
	}
	return nil
}

// decodedHistory returns a copy of e's events, or an error text naming the
// first undecodable one.
func decodedHistory(in *instance, e *execution) ([]duroxide.Event, string) {
	if e == nil {
		return []duroxide.Event{}, ""
	}
	if e.corrupt && len(e.history) > 0 {
		return nil, "Failed to deserialize history: event at position 0 (event_id " + itoa(e.history[0].EventID) +
			") of instance " + in.id + " execution " + itoa(e.id) + " is not decodable"
	}
	out := make([]duroxide.Event, len(e.history))
	for i := range e.history {
		out[i] = e.history[i].Clone()
	}
	return out, ""
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }
