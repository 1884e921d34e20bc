package orchestration

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/duroxide-go/duroxide"
)

// ReasonDroppedFuture is the reason of the cancellation breadcrumbs the
// engine writes for futures the code abandoned.
const ReasonDroppedFuture = "dropped_future"

// TurnKind says how a turn ended. A plain value.
type TurnKind uint8

// Turn outcomes.
const (
	// TurnContinue: the orchestration waits for more completions.
	TurnContinue TurnKind = iota
	// TurnCompleted: it returned an output.
	TurnCompleted
	// TurnFailed: it returned an error, panicked, diverged from history, or
	// a completion carried a system error.
	TurnFailed
	// TurnContinueAsNew: it continued as new.
	TurnContinueAsNew
	// TurnCancelled: a cancellation was requested.
	TurnCancelled
)

// String returns the kind's name.
func (k TurnKind) String() string {
	return [...]string{"Continue", "Completed", "Failed", "ContinueAsNew", "Cancelled"}[k]
}

// TurnResult is the outcome of [Engine.Execute]. Plain data.
type TurnResult struct {
	Kind TurnKind
	// Output is the orchestration's output (TurnCompleted).
	Output string
	// Details is the failure (TurnFailed).
	Details duroxide.ErrorDetails
	// Input and Version are the next execution's (TurnContinueAsNew).
	Input   string
	Version *string
	// Reason is the cancellation reason (TurnCancelled).
	Reason string
}

// EngineOptions configures an [Engine]. Plain data; the engine reads it and
// does not retain KVSnapshot beyond the turn.
type EngineOptions struct {
	// PersistedLen is how many leading history events came from storage
	// (replay); later ones are new this turn. Negative means all of them.
	PersistedLen int
	// KVSnapshot seeds the key/value store (the fetch's snapshot).
	KVSnapshot map[string]duroxide.KvEntry
	// Now is the clock for new timers, key/value timestamps and event
	// timestamps (default time.Now).
	Now func() time.Time
	// DuroxideVersion stamps new events (default [DuroxideVersion]).
	DuroxideVersion string
	// Logger is the base of [Context.Logger] (default slog.Default()).
	Logger *slog.Logger
	// StepTimeout, when positive, bounds how long the code may run between
	// two durable waits. Code blocked outside the durable API (a channel, a
	// mutex, I/O) would otherwise hang the caller; past the bound the turn
	// fails with an Infrastructure error (operation "orchestration_step",
	// not retryable) and the stuck goroutine is abandoned (leaked). Zero
	// means no bound.
	StepTimeout time.Duration
	// Inline runs the orchestration code as a coroutine of the caller's
	// goroutine (iter.Pull) instead of on a goroutine of its own: each
	// durable wait then costs a direct switch (about a tenth of a
	// goroutine hand-off), which is what makes a test environment fast.
	// The difference a caller can see: runtime.Goexit in orchestration
	// code (a test's t.FailNow, say) ends the caller's goroutine too,
	// instead of failing the turn. Ignored when StepTimeout is positive.
	Inline bool
}

// forceInline makes every engine inline; set by this package's tests
// (DUROXIDE_ORCH_INLINE=1) to run the whole suite in both modes.
var forceInline bool

// DuroxideVersion is the duroxide release whose semantics this engine
// implements; it stamps the events the engine writes.
const DuroxideVersion = "0.1.26"

// duroxideVersion is DuroxideVersion parsed.
var duroxideVersion, _ = duroxide.ParseSemver(DuroxideVersion)

// Engine replays one execution's history against orchestration code and
// computes one turn: the history delta, the new actions and the
// cancellations. It is pure (no I/O) and single-use: build one per turn with
// [NewEngine], call [Engine.PrepCompletions] with the fetched messages, then
// [Engine.Execute] once, then read the results.
//
// An Engine is not safe for concurrent use. It keeps no goroutine after
// Execute returns. It never retains or mutates the caller's slices.
type Engine struct {
	instance    string
	executionID uint64
	baseline    []duroxide.Event
	persisted   int
	kv          map[string]duroxide.KvEntry
	now         func() time.Time
	version     string
	logger      *slog.Logger
	stepTimeout time.Duration
	inline      bool

	delta     []duroxide.Event
	actions   []Action
	cancelAct []uint64
	cancelSub []string
	nextID    uint64
	abort     duroxide.ErrorDetails
	executed  bool

	// First backing arrays of delta and actions: a turn usually adds a
	// few events.
	deltaBuf   [2]duroxide.Event
	actionsBuf [2]Action

	tc turnContext // Execute's Context, in the engine's allocation
}

// NewEngine returns an engine for one turn of instance's execution, whose
// stored history is history. The slice is copied; the events' payloads are
// only read, by the engine and by the code that built them, so they are
// shared rather than deep-copied (do not mutate what their pointers point
// to until Execute returns).
func NewEngine(instance string, executionID uint64, history []duroxide.Event, opts EngineOptions) *Engine {
	return newEngine(instance, executionID, append([]duroxide.Event(nil), history...), opts)
}

// newEngine is NewEngine reading history in place: the caller neither
// changes it nor keeps the engine past its own call (RunTurn).
func newEngine(instance string, executionID uint64, history []duroxide.Event, opts EngineOptions) *Engine {
	e := &Engine{
		instance: instance, executionID: executionID,
		baseline: history,
		kv:       opts.KVSnapshot,
		now:      opts.Now, version: opts.DuroxideVersion, logger: opts.Logger, stepTimeout: opts.StepTimeout,
		inline: opts.Inline || forceInline,
	}
	e.delta, e.actions = e.deltaBuf[:0], e.actionsBuf[:0]
	if e.baseline == nil {
		e.baseline = []duroxide.Event{}
	}
	e.persisted = opts.PersistedLen
	if e.persisted < 0 || e.persisted > len(history) {
		e.persisted = len(history)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.version == "" {
		e.version = DuroxideVersion
	}
	e.nextID = 1
	if n := len(history); n > 0 {
		e.nextID = history[n-1].EventID + 1
	}
	return e
}

// HistoryDelta returns the events this turn appends, in event-id order: the
// completions of PrepCompletions, then the new actions' events, then
// dropped-future breadcrumbs. The slice is a copy.
func (e *Engine) HistoryDelta() []duroxide.Event {
	if len(e.delta) == 0 {
		return nil
	}
	return duroxide.CloneEvents(e.delta)
}

// PendingActions returns the actions new this turn, with their scheduling
// event ids, in event-id order.
func (e *Engine) PendingActions() []Action { return append([]Action(nil), e.actions...) }

// CancelledActivityIDs returns the scheduling event ids of activities the
// code abandoned this turn (the ack's cancelled activities).
func (e *Engine) CancelledActivityIDs() []uint64 { return append([]uint64(nil), e.cancelAct...) }

// CancelledSubOrchestrations returns the history instance ids
// ("sub::…" or explicit) of children the code abandoned this turn; each gets
// a CancelInstance for [ChildInstanceID].
func (e *Engine) CancelledSubOrchestrations() []string { return append([]string(nil), e.cancelSub...) }

// NextEventID returns the id the next appended event gets.
func (e *Engine) NextEventID() uint64 { return e.nextID }

func (e *Engine) newEvent(src *uint64, k duroxide.EventKind) duroxide.Event {
	ev := duroxide.Event{
		EventID: e.nextID, SourceEventID: src, InstanceID: e.instance, ExecutionID: e.executionID,
		TimestampMs: uint64(max(e.now().UnixMilli(), 0)), DuroxideVersion: e.version, Kind: k,
	}
	e.nextID++
	return ev
}

func ptr[T any](v T) *T { return &v }

func nondeterminism(msg string) duroxide.ErrorDetails {
	return duroxide.Configuration{Kind: duroxide.Nondeterminism, Message: &msg}
}

func (e *Engine) all(f func(*duroxide.Event) bool) bool {
	for i := range e.baseline {
		if !f(&e.baseline[i]) {
			return false
		}
	}
	for i := range e.delta {
		if !f(&e.delta[i]) {
			return false
		}
	}
	return true
}

// scheduleKind returns "activity", "timer", "suborchestration" or "" for the
// scheduling event with id.
func (e *Engine) scheduleKind(id uint64) string {
	kind := ""
	e.all(func(ev *duroxide.Event) bool {
		if ev.EventID != id {
			return true
		}
		switch ev.Kind.(type) {
		case duroxide.ActivityScheduled:
			kind = "activity"
		case duroxide.TimerCreated:
			kind = "timer"
		case duroxide.SubOrchestrationScheduled:
			kind = "suborchestration"
		default:
			return true
		}
		return false
	})
	return kind
}

func srcIs(ev *duroxide.Event, id uint64) bool {
	return ev.SourceEventID != nil && *ev.SourceEventID == id
}

func isSystemError(d duroxide.ErrorDetails) bool {
	switch d.(type) {
	case duroxide.Configuration, duroxide.Infrastructure, duroxide.Poison:
		return true
	}
	return false
}

// PrepCompletions turns the turn's messages into history events with fresh
// ids: completions of another execution and duplicates are dropped; a
// completion with no matching schedule (or of the wrong kind) is
// nondeterminism and, like a system error in an activity or child failure,
// makes Execute fail. External events and queue messages are always
// recorded; a CancelInstance is recorded once, unless the execution already
// ended. Non-completion items (starts) are ignored. msgs is not retained.
func (e *Engine) PrepCompletions(msgs []duroxide.WorkItem) {
	for _, m := range msgs {
		var id uint64
		var want string
		var isCompletion bool
		switch w := m.(type) {
		case duroxide.ActivityCompletedItem:
			if w.ExecutionID != e.executionID {
				continue
			}
			id, want, isCompletion = w.ID, "activity", true
		case duroxide.ActivityFailedItem:
			if w.ExecutionID != e.executionID {
				continue
			}
			id, want, isCompletion = w.ID, "activity", true
		case duroxide.TimerFiredItem:
			if w.ExecutionID != e.executionID {
				continue
			}
			id, want, isCompletion = w.ID, "timer", true
		case duroxide.SubOrchCompletedItem:
			if w.ParentExecutionID != e.executionID {
				continue
			}
			id, want, isCompletion = w.ParentID, "suborchestration", true
		case duroxide.SubOrchFailedItem:
			if w.ParentExecutionID != e.executionID {
				continue
			}
			id, want, isCompletion = w.ParentID, "suborchestration", true
		case duroxide.ExternalRaisedItem, duroxide.QueueMessageItem, duroxide.CancelInstanceItem:
		default:
			continue
		}
		if isCompletion {
			if e.isDuplicate(m, id) {
				continue
			}
			switch got := e.scheduleKind(id); {
			case got == want:
			case got != "":
				e.abort = nondeterminism(fmt.Sprintf("completion kind mismatch for id=%d, expected '%s', got '%s'", id, got, want))
				continue
			default:
				what := map[string]string{"activity": "completion", "timer": "timer", "suborchestration": "sub-orchestration"}[want]
				e.abort = nondeterminism(fmt.Sprintf("no matching schedule for %s id=%d", what, id))
				continue
			}
		}
		var k duroxide.EventKind
		var src *uint64
		switch w := m.(type) {
		case duroxide.ActivityCompletedItem:
			k, src = duroxide.ActivityCompleted{Result: w.Result}, ptr(w.ID)
		case duroxide.ActivityFailedItem:
			k, src = duroxide.ActivityFailed{Details: duroxide.CloneErrorDetails(w.Details)}, ptr(w.ID)
			if isSystemError(w.Details) && e.abort == nil {
				e.abort = duroxide.CloneErrorDetails(w.Details)
			}
		case duroxide.TimerFiredItem:
			k, src = duroxide.TimerFired{FireAtMs: w.FireAtMs}, ptr(w.ID)
		case duroxide.SubOrchCompletedItem:
			k, src = duroxide.SubOrchestrationCompleted{Result: w.Result}, ptr(w.ParentID)
		case duroxide.SubOrchFailedItem:
			k, src = duroxide.SubOrchestrationFailed{Details: duroxide.CloneErrorDetails(w.Details)}, ptr(w.ParentID)
			if isSystemError(w.Details) && e.abort == nil {
				e.abort = duroxide.CloneErrorDetails(w.Details)
			}
		case duroxide.ExternalRaisedItem:
			k = duroxide.ExternalEvent{Name: w.Name, Data: w.Data}
		case duroxide.QueueMessageItem:
			k = duroxide.QueueEventDelivered{Name: w.Name, Data: w.Data}
		case duroxide.CancelInstanceItem:
			skip := false
			for i := range e.baseline {
				switch e.baseline[i].Kind.(type) {
				case duroxide.OrchestrationCompleted, duroxide.OrchestrationFailed:
					skip = true
				}
			}
			e.all(func(ev *duroxide.Event) bool {
				if _, ok := ev.Kind.(duroxide.OrchestrationCancelRequested); ok {
					skip = true
				}
				return !skip
			})
			if skip {
				continue
			}
			k = duroxide.OrchestrationCancelRequested{Reason: w.Reason}
		}
		e.delta = append(e.delta, e.newEvent(src, k))
	}
}

// isDuplicate reports whether the completion m for schedule id is already
// recorded (in stored history for its exact kind, or staged this turn for
// either outcome).
func (e *Engine) isDuplicate(m duroxide.WorkItem, id uint64) bool {
	for i := range e.baseline {
		ev := &e.baseline[i]
		if !srcIs(ev, id) {
			continue
		}
		switch m.(type) {
		case duroxide.ActivityCompletedItem:
			if _, ok := ev.Kind.(duroxide.ActivityCompleted); ok {
				return true
			}
		case duroxide.TimerFiredItem:
			if _, ok := ev.Kind.(duroxide.TimerFired); ok {
				return true
			}
		case duroxide.SubOrchCompletedItem:
			if _, ok := ev.Kind.(duroxide.SubOrchestrationCompleted); ok {
				return true
			}
		case duroxide.SubOrchFailedItem:
			if _, ok := ev.Kind.(duroxide.SubOrchestrationFailed); ok {
				return true
			}
		}
	}
	for i := range e.delta {
		ev := &e.delta[i]
		if !srcIs(ev, id) {
			continue
		}
		switch m.(type) {
		case duroxide.ActivityCompletedItem, duroxide.ActivityFailedItem:
			switch ev.Kind.(type) {
			case duroxide.ActivityCompleted, duroxide.ActivityFailed:
				return true
			}
		case duroxide.TimerFiredItem:
			if _, ok := ev.Kind.(duroxide.TimerFired); ok {
				return true
			}
		case duroxide.SubOrchCompletedItem, duroxide.SubOrchFailedItem:
			switch ev.Kind.(type) {
			case duroxide.SubOrchestrationCompleted, duroxide.SubOrchestrationFailed:
				return true
			}
		}
	}
	return false
}

// turnState is the per-Execute replay state.
type turnState struct {
	c       *Context
	co      *coro
	queue   []emitted // decisions not yet matched, from qhead on
	qhead   int
	open    []*slot // slots bound to stored schedules, ascending scheduleID; see slot.open
	output  coMsg   // the code's end, when ended
	ended   bool    // output is set
	mustRun bool
}

// addOpen records s, just bound to a schedule of history, as waiting for
// its completion. History binds ascending ids; any order stays correct.
func (ts *turnState) addOpen(s *slot) {
	s.open = true
	i := len(ts.open)
	if i > 0 && ts.open[i-1].scheduleID >= s.scheduleID {
		i, _ = slices.BinarySearchFunc(ts.open, s.scheduleID, cmpSlotID)
	}
	ts.open = slices.Insert(ts.open, i, s)
}

// openSlot returns the slot bound to schedule id that still waits for its
// completion, or nil.
func (ts *turnState) openSlot(id uint64) *slot {
	if i, ok := slices.BinarySearchFunc(ts.open, id, cmpSlotID); ok && ts.open[i].open {
		return ts.open[i]
	}
	return nil
}

func cmpSlotID(s *slot, id uint64) int { return cmp.Compare(s.scheduleID, id) }

// pop takes the oldest unmatched decision.
func (ts *turnState) pop() (emitted, bool) {
	if ts.qhead == len(ts.queue) {
		return emitted{}, false
	}
	em := ts.queue[ts.qhead]
	ts.qhead++
	if ts.qhead == len(ts.queue) {
		ts.queue, ts.qhead = ts.queue[:0], 0
	}
	return em, true
}

// Execute runs one turn of handler (invoked with input, as orchestration
// name at version) and returns its outcome. It may be called once. The
// orchestration's goroutine never outlives the call.
func (e *Engine) Execute(handler Handler, input, name, version string) TurnResult {
	if e.executed {
		return TurnResult{Kind: TurnFailed, Details: duroxide.Infrastructure{Operation: "replay", Message: "engine already executed"}}
	}
	e.executed = true
	if e.abort != nil {
		return TurnResult{Kind: TurnFailed, Details: e.abort}
	}
	nb, total := len(e.baseline), len(e.baseline)+len(e.delta)
	at := func(i int) *duroxide.Event {
		if i < nb {
			return &e.baseline[i]
		}
		return &e.delta[i-nb]
	}
	for i := range total {
		if at(i).IsTerminal() {
			return TurnResult{Kind: TurnContinue}
		}
	}
	if total == 0 {
		return failed(nondeterminism("corrupted history: empty"))
	}
	started, ok := at(0).Kind.(duroxide.OrchestrationStarted)
	if !ok {
		return failed(nondeterminism("corrupted history: first event must be OrchestrationStarted"))
	}

	c := newContext(&e.tc, e.instance, e.executionID, name, version, e.now, e.logger)
	if len(e.kv) > 0 {
		c.kv, c.kvMeta = make(map[string]string, len(e.kv)), make(map[string]uint64, len(e.kv))
	}
	for k, v := range e.kv {
		c.kv[k] = v.Value
		c.kvMeta[k] = v.LastUpdatedAtMs
	}
	if started.InitialCustomStatus != nil {
		c.customStatus = ptr(*started.InitialCustomStatus)
	}
	ts := &turnState{c: c, co: newCoro(c, handler, input), mustRun: true}
	ts.queue, ts.open = c.queueBuf[:0], c.openBuf[:0]
	ts.co.stepTimeout = e.stepTimeout
	ts.co.inline = e.inline && e.stepTimeout == 0
	defer func() {
		ts.co.teardown()
		for _, b := range c.branches {
			b.teardown()
		}
	}()

	for i := range total {
		ev := at(i)
		if i >= e.persisted {
			c.replaying = false
		}
		if ts.mustRun {
			if r, stop := e.poll(ts); stop {
				return r
			}
			ts.mustRun = false
			if ts.ended {
				break
			}
		}
		if err := e.apply(ts, ev); err != nil {
			return failed(err)
		}
	}
	c.replaying = false
	if ts.mustRun && !ts.ended {
		if r, stop := e.poll(ts); stop {
			return r
		}
	}
	for _, s := range c.slots {
		if s.kind == kindQueue && s.cancelled && s.bound {
			setFlag(&c.queueCancelled, s.scheduleID)
		}
	}
	e.convert(ts)
	// Quiescence: new queue subscriptions may be satisfied by messages
	// already delivered, within the same turn.
	for iter := 0; !ts.ended && len(e.actions) > 0; iter++ {
		if iter == 100 {
			return failed(duroxide.Infrastructure{Operation: "quiescence_loop",
				Message: "quiescence loop exceeded 100 iterations — orchestration is emitting unbounded persistent event subscriptions"})
		}
		before := len(e.actions)
		if ts.co.done {
			break
		}
		if r, stop := e.poll(ts); stop {
			return r
		}
		e.convert(ts)
		if len(e.actions) == before {
			break
		}
	}
	return e.finalize(ts)
}

func failed(d duroxide.ErrorDetails) TurnResult { return TurnResult{Kind: TurnFailed, Details: d} }

// poll resumes the orchestration until it blocks or ends. stop reports a
// result that ends the turn (a panic).
func (e *Engine) poll(ts *turnState) (TurnResult, bool) {
	if ts.co.done {
		return TurnResult{}, false
	}
	m := ts.co.run()
	ts.queue = append(ts.queue, ts.c.drain()...)
	switch m.kind {
	case msgDone:
		ts.output, ts.ended = m, true
		// Returning abandons every future the code never observed.
		for _, s := range ts.c.slots {
			if !s.completed {
				s.cancelled = true
			}
		}
	case msgPanic:
		return failed(duroxide.Application{Kind: duroxide.AppPanicked{}, Message: m.panicMsg}), true
	case msgStuck:
		return failed(duroxide.Infrastructure{Operation: "orchestration_step",
			Message: fmt.Sprintf("orchestration code ran %v without reaching a durable wait (blocked outside the durable API?)", e.stepTimeout)}), true
	}
	return TurnResult{}, false
}

func (e *Engine) popMatch(ts *turnState, ev *duroxide.Event) (emitted, duroxide.ErrorDetails) {
	em, ok := ts.pop()
	if !ok {
		return emitted{}, nondeterminism("history schedule but no emitted action")
	}
	if !actionMatches(em.action, ev.Kind) {
		return em, nondeterminism(fmt.Sprintf("schedule mismatch: action=%s vs event=%s", describeAction(em.action), describeEvent(ev.Kind)))
	}
	return em, nil
}

// apply replays one history event.
func (e *Engine) apply(ts *turnState, ev *duroxide.Event) duroxide.ErrorDetails {
	c := ts.c
	switch k := ev.Kind.(type) {
	case duroxide.OrchestrationStarted:
		if k.InitialCustomStatus != nil {
			c.customStatus = ptr(*k.InitialCustomStatus)
		}
	case duroxide.CustomStatusUpdated, duroxide.KeyValueSet, duroxide.KeyValueCleared, duroxide.KeyValuesCleared:
		// The code already applied the change; check the action matches.
		if em, ok := ts.pop(); ok {
			if !actionMatches(em.action, ev.Kind) {
				what := map[string]string{"CustomStatusUpdated": "custom status", "KeyValueSet": "kv set",
					"KeyValueCleared": "kv clear", "KeyValuesCleared": "kv clear_all"}[ev.Kind.EventType()]
				return nondeterminism(fmt.Sprintf("%s mismatch: action=%s vs event=%s", what, describeAction(em.action), describeEvent(ev.Kind)))
			}
		}
	case duroxide.ActivityScheduled, duroxide.TimerCreated, duroxide.ExternalSubscribed,
		duroxide.QueueSubscribed, duroxide.SubOrchestrationScheduled:
		em, err := e.popMatch(ts, ev)
		if err != nil {
			return err
		}
		c.bind(em.s, ev.EventID)
		ts.addOpen(em.s)
		switch k := ev.Kind.(type) {
		case duroxide.ExternalSubscribed:
			c.bindExternal(em.s, k.Name)
		case duroxide.QueueSubscribed:
			c.bindQueue(em.s, k.Name)
			ts.mustRun = true
		case duroxide.SubOrchestrationScheduled:
			em.s.child = k.Instance
		}
	case duroxide.OrchestrationChained:
		if ts.qhead == len(ts.queue) {
			return nondeterminism("history OrchestrationChained but no emitted action")
		}
		em, err := e.popMatch(ts, ev)
		if err != nil {
			return err
		}
		c.bind(em.s, ev.EventID)
	case duroxide.ActivityCompleted:
		return e.deliver(ts, ev, kindActivity, func(s *slot) { s.value = k.Result })
	case duroxide.ActivityFailed:
		return e.deliver(ts, ev, kindActivity, func(s *slot) { s.failed, s.details = true, k.Details })
	case duroxide.TimerFired:
		return e.deliver(ts, ev, kindTimer, func(*slot) {})
	case duroxide.SubOrchestrationCompleted:
		return e.deliver(ts, ev, kindSubOrch, func(s *slot) { s.value = k.Result })
	case duroxide.SubOrchestrationFailed:
		return e.deliver(ts, ev, kindSubOrch, func(s *slot) { s.failed, s.details = true, k.Details })
	case duroxide.ExternalSubscribedCancelled:
		if ev.SourceEventID != nil {
			setFlag(&c.extCancelled, *ev.SourceEventID)
		}
	case duroxide.QueueSubscriptionCancelled:
		if ev.SourceEventID != nil {
			setFlag(&c.queueCancelled, *ev.SourceEventID)
		}
	case duroxide.ExternalEvent:
		// Delivered only into an open positional slot; otherwise it stays
		// in history as a record and is ignored.
		if c.hasPendingSlot(k.Name) {
			if c.extArrivals == nil {
				c.extArrivals = map[string][]string{}
			}
			c.extArrivals[k.Name] = append(c.extArrivals[k.Name], k.Data)
			ts.mustRun = true
		}
	case duroxide.QueueEventDelivered:
		if c.queueArrivals == nil {
			c.queueArrivals = map[string][]string{}
		}
		c.queueArrivals[k.Name] = append(c.queueArrivals[k.Name], k.Data)
		ts.mustRun = true
	}
	return nil
}

func (e *Engine) deliver(ts *turnState, ev *duroxide.Event, kind slotKind, set func(*slot)) duroxide.ErrorDetails {
	if ev.SourceEventID == nil {
		return nil
	}
	s := ts.openSlot(*ev.SourceEventID)
	if s == nil {
		return nondeterminism("completion without open schedule")
	}
	if s.kind != kind {
		return nondeterminism("completion kind mismatch: expected " + kindName(kind))
	}
	set(s)
	s.has = true
	s.open = false
	ts.mustRun = true
	return nil
}

func kindName(k slotKind) string {
	switch k {
	case kindActivity:
		return "activity"
	case kindTimer:
		return "timer"
	case kindSubOrch:
		return "sub-orchestration"
	case kindExternal:
		return "external"
	case kindQueue:
		return "queue"
	}
	return ""
}

// convert turns the remaining emitted actions into new events and pending
// actions, allocating event ids in emission order.
func (e *Engine) convert(ts *turnState) {
	c := ts.c
	ts.queue = append(ts.queue, c.drain()...)
	for _, em := range ts.queue[ts.qhead:] {
		id := e.nextID
		a := em.action
		var k duroxide.EventKind
		switch v := a.(type) {
		case CallActivityAction:
			v.SchedulingEventID = id
			a, k = v, duroxide.ActivityScheduled{Name: v.Name, Input: v.Input, SessionID: clonePtr(v.SessionID), Tag: clonePtr(v.Tag)}
		case CreateTimerAction:
			v.SchedulingEventID = id
			a, k = v, duroxide.TimerCreated{FireAtMs: v.FireAtMs}
		case WaitExternalAction:
			v.SchedulingEventID = id
			a, k = v, duroxide.ExternalSubscribed{Name: v.Name}
			c.bindExternal(em.s, v.Name)
		case DequeueEventAction:
			v.SchedulingEventID = id
			a, k = v, duroxide.QueueSubscribed{Name: v.Name}
			c.bindQueue(em.s, v.Name)
		case StartSubOrchestrationAction:
			v.SchedulingEventID = id
			if len(v.Instance) >= len(subOrchPendingPrefix) && v.Instance[:len(subOrchPendingPrefix)] == subOrchPendingPrefix {
				v.Instance = fmt.Sprintf("%s%d", SubOrchAutoPrefix, id)
			}
			em.s.child = v.Instance
			a, k = v, duroxide.SubOrchestrationScheduled{Name: v.Name, Instance: v.Instance, Input: v.Input}
		case StartDetachedAction:
			v.SchedulingEventID = id
			a, k = v, duroxide.OrchestrationChained{Name: v.Name, Instance: v.Instance, Input: v.Input}
		case UpdateCustomStatusAction:
			k = duroxide.CustomStatusUpdated{Status: clonePtr(v.Status)}
		case SetKeyValueAction:
			k = duroxide.KeyValueSet{Key: v.Key, Value: v.Value, LastUpdatedAtMs: v.LastUpdatedAtMs}
		case ClearKeyValueAction:
			k = duroxide.KeyValueCleared{Key: v.Key}
		case ClearKeyValuesAction:
			k = duroxide.KeyValuesCleared{}
		}
		if em.s != nil {
			c.bind(em.s, id)
		}
		if k != nil {
			e.delta = append(e.delta, e.newEvent(nil, k))
		} else {
			e.nextID++ // ContinueAsNew consumes an id without an event, as duroxide does.
		}
		e.actions = append(e.actions, a)
	}
	ts.queue, ts.qhead = ts.queue[:0], 0
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// cancelRequest returns the first OrchestrationCancelRequested of the
// history and delta.
func (e *Engine) cancelRequest() (duroxide.OrchestrationCancelRequested, bool) {
	for _, h := range [2][]duroxide.Event{e.baseline, e.delta} {
		for i := range h {
			if k, ok := h[i].Kind.(duroxide.OrchestrationCancelRequested); ok {
				return k, true
			}
		}
	}
	return duroxide.OrchestrationCancelRequested{}, false
}

func (e *Engine) finalize(ts *turnState) TurnResult {
	if k, ok := e.cancelRequest(); ok {
		return TurnResult{Kind: TurnCancelled, Reason: k.Reason}
	}
	for _, a := range e.actions {
		if can, ok := a.(ContinueAsNewAction); ok {
			return TurnResult{Kind: TurnContinueAsNew, Input: can.Input, Version: clonePtr(can.Version)}
		}
	}
	if err := e.collectCancelled(ts); err != nil {
		return failed(err)
	}
	if !ts.ended {
		return TurnResult{Kind: TurnContinue}
	}
	if ts.output.err != nil {
		return failed(duroxide.Application{Kind: duroxide.AppOrchestrationFailed{}, Message: ts.output.err.Error()})
	}
	return TurnResult{Kind: TurnCompleted, Output: ts.output.out}
}

// collectCancelled writes dropped-future breadcrumbs for futures the code
// abandoned, and checks on replay that every breadcrumb already stored is
// reproduced by the code (per kind, set-based, as duroxide does).
func (e *Engine) collectCancelled(ts *turnState) duroxide.ErrorDetails {
	c := ts.c
	if !e.anyDropped(c) {
		return nil
	}
	type group struct {
		kind       slotKind
		label      string
		persisted  map[uint64]bool // stored dropped_future breadcrumbs
		schedules  map[uint64]bool // stored schedules
		codeDrops  map[uint64]bool
		already    map[uint64]bool
		breadcrumb func(string) duroxide.EventKind
	}
	groups := []*group{
		{kind: kindActivity, label: "activities", breadcrumb: func(r string) duroxide.EventKind { return duroxide.ActivityCancelRequested{Reason: r} }},
		{kind: kindSubOrch, label: "sub-orchestrations", breadcrumb: func(r string) duroxide.EventKind { return duroxide.SubOrchestrationCancelRequested{Reason: r} }},
		{kind: kindExternal, label: "external waits", breadcrumb: func(r string) duroxide.EventKind { return duroxide.ExternalSubscribedCancelled{Reason: r} }},
		{kind: kindQueue, label: "persistent waits", breadcrumb: func(r string) duroxide.EventKind { return duroxide.QueueSubscriptionCancelled{Reason: r} }},
	}
	byKind := map[slotKind]*group{}
	for _, g := range groups {
		g.persisted, g.schedules, g.codeDrops, g.already = map[uint64]bool{}, map[uint64]bool{}, map[uint64]bool{}, map[uint64]bool{}
		byKind[g.kind] = g
	}
	cancelKind := func(k duroxide.EventKind) (slotKind, string, bool) {
		switch v := k.(type) {
		case duroxide.ActivityCancelRequested:
			return kindActivity, v.Reason, true
		case duroxide.SubOrchestrationCancelRequested:
			return kindSubOrch, v.Reason, true
		case duroxide.ExternalSubscribedCancelled:
			return kindExternal, v.Reason, true
		case duroxide.QueueSubscriptionCancelled:
			return kindQueue, v.Reason, true
		}
		return 0, "", false
	}
	for i := range e.baseline[:e.persisted] {
		ev := &e.baseline[i]
		switch ev.Kind.(type) {
		case duroxide.ActivityScheduled:
			byKind[kindActivity].schedules[ev.EventID] = true
		case duroxide.SubOrchestrationScheduled:
			byKind[kindSubOrch].schedules[ev.EventID] = true
		case duroxide.ExternalSubscribed:
			byKind[kindExternal].schedules[ev.EventID] = true
		case duroxide.QueueSubscribed:
			byKind[kindQueue].schedules[ev.EventID] = true
		}
		if k, r, ok := cancelKind(ev.Kind); ok && r == ReasonDroppedFuture && ev.SourceEventID != nil {
			byKind[k].persisted[*ev.SourceEventID] = true
		}
	}
	var drops []*slot
	for _, s := range c.slots {
		if s.cancelled && s.bound {
			if g := byKind[s.kind]; g != nil {
				g.codeDrops[s.scheduleID] = true
				drops = append(drops, s)
			}
		}
	}
	if e.persisted > 0 {
		for _, g := range groups {
			for id := range g.persisted {
				if !g.codeDrops[id] || !g.schedules[id] {
					return nondeterminism(fmt.Sprintf("cancellation mismatch (%s): baseline_dropped_future_cancel_requests=%v ctx_cancelled_in_replayed_segment=%v",
						g.label, sortedKeys(g.persisted), sortedKeys(intersect(g.codeDrops, g.schedules))))
				}
			}
		}
	}
	e.all(func(ev *duroxide.Event) bool {
		if k, _, ok := cancelKind(ev.Kind); ok && ev.SourceEventID != nil {
			byKind[k].already[*ev.SourceEventID] = true
		}
		return true
	})
	for _, g := range groups {
		for _, s := range drops {
			if s.kind != g.kind || g.already[s.scheduleID] {
				continue
			}
			g.already[s.scheduleID] = true
			switch g.kind {
			case kindActivity:
				e.cancelAct = append(e.cancelAct, s.scheduleID)
			case kindSubOrch:
				e.cancelSub = append(e.cancelSub, s.child)
			}
			e.delta = append(e.delta, e.newEvent(ptr(s.scheduleID), g.breadcrumb(ReasonDroppedFuture)))
		}
	}
	return nil
}

// anyDropped reports whether the code abandoned a bound durable future or
// stored history holds a dropped-future breadcrumb (otherwise there is
// nothing to write or check).
func (e *Engine) anyDropped(c *Context) bool {
	for _, s := range c.slots {
		if s.cancelled && s.bound {
			switch s.kind {
			case kindActivity, kindSubOrch, kindExternal, kindQueue:
				return true
			}
		}
	}
	for i := range e.baseline[:e.persisted] {
		switch k := e.baseline[i].Kind.(type) {
		case duroxide.ActivityCancelRequested:
			if k.Reason == ReasonDroppedFuture {
				return true
			}
		case duroxide.SubOrchestrationCancelRequested:
			if k.Reason == ReasonDroppedFuture {
				return true
			}
		case duroxide.ExternalSubscribedCancelled:
			if k.Reason == ReasonDroppedFuture {
				return true
			}
		case duroxide.QueueSubscriptionCancelled:
			if k.Reason == ReasonDroppedFuture {
				return true
			}
		}
	}
	return false
}

func intersect(a, b map[uint64]bool) map[uint64]bool {
	out := map[uint64]bool{}
	for k := range a {
		if b[k] {
			out[k] = true
		}
	}
	return out
}

func sortedKeys(m map[uint64]bool) []uint64 {
	keys := make([]uint64, 0, len(m))
	for k := range maps.Keys(m) {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func actionMatches(a Action, k duroxide.EventKind) bool {
	switch a := a.(type) {
	case CallActivityAction:
		ev, ok := k.(duroxide.ActivityScheduled)
		return ok && a.Name == ev.Name && a.Input == ev.Input && eqPtr(a.SessionID, ev.SessionID) && eqPtr(a.Tag, ev.Tag)
	case CreateTimerAction:
		_, ok := k.(duroxide.TimerCreated) // timers match by position only
		return ok
	case WaitExternalAction:
		ev, ok := k.(duroxide.ExternalSubscribed)
		return ok && a.Name == ev.Name
	case DequeueEventAction:
		ev, ok := k.(duroxide.QueueSubscribed)
		return ok && a.Name == ev.Name
	case StartSubOrchestrationAction:
		ev, ok := k.(duroxide.SubOrchestrationScheduled)
		return ok && a.Name == ev.Name && a.Input == ev.Input
	case StartDetachedAction:
		ev, ok := k.(duroxide.OrchestrationChained)
		return ok && a.Name == ev.Name && a.Instance == ev.Instance && a.Input == ev.Input
	case UpdateCustomStatusAction:
		_, ok := k.(duroxide.CustomStatusUpdated)
		return ok
	case SetKeyValueAction:
		ev, ok := k.(duroxide.KeyValueSet)
		return ok && a.Key == ev.Key && a.Value == ev.Value
	case ClearKeyValueAction:
		ev, ok := k.(duroxide.KeyValueCleared)
		return ok && a.Key == ev.Key
	case ClearKeyValuesAction:
		_, ok := k.(duroxide.KeyValuesCleared)
		return ok
	}
	return false
}

func eqPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

var errExited = errors.New("orchestration goroutine exited (runtime.Goexit) without returning")

func setFlag(m *map[uint64]bool, id uint64) {
	if *m == nil {
		*m = map[uint64]bool{}
	}
	(*m)[id] = true
}
