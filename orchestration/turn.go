package orchestration

import (
	"time"

	"github.com/duroxide-go/duroxide"
)

// MaxCarryForwardEvents caps the unconsumed queue messages a
// continue-as-new carries to the next execution; later ones are dropped.
const MaxCarryForwardEvents = 20

// Reasons the turn writes into cancellation breadcrumbs and CancelInstance
// items, as duroxide words them.
const (
	ReasonOrchestrationTerminal = "orchestration_terminal"
	ReasonParentCanceled        = "parent canceled"
	ReasonParentDroppedChild    = "parent dropped sub-orchestration future"
)

// Batch is a fetched batch of messages read the way duroxide's runtime reads
// it: at most one start item (the first StartOrchestration or ContinueAsNew;
// later ones are ignored), the completions (for a continue-as-new, the
// carried queue messages first), and the orchestration's identity taken from
// the start item or, without one, from the stored OrchestrationStarted.
//
// Plain data, not synchronized.
type Batch struct {
	// Start is the start item, or nil.
	Start duroxide.WorkItem
	// Messages are the completions for the engine.
	Messages []duroxide.WorkItem
	// Name is the orchestration to run; empty when neither a start item nor
	// history names one (the runtime then acks the batch without a turn).
	Name string
	// Version is the requested version (nil: the registry's policy picks).
	Version        *string
	Input          string
	ParentInstance *string
	ParentID       *uint64
	// ContinueAsNew is set when Start is a ContinueAsNewItem: the turn runs
	// a new execution (the fetched execution id plus one) from empty history.
	ContinueAsNew bool
}

// ReadBatch splits a fetched item's messages into a [Batch]. history is the
// stored history of the item's execution (not retained).
func ReadBatch(instance string, history []duroxide.Event, msgs []duroxide.WorkItem) Batch {
	var b Batch
	var completions []duroxide.WorkItem
	for _, w := range msgs {
		switch w.(type) {
		case duroxide.StartOrchestrationItem, duroxide.ContinueAsNewItem:
			if b.Start == nil {
				b.Start = duroxide.CloneWorkItem(w)
			}
		case duroxide.ActivityExecuteItem:
		default:
			completions = append(completions, duroxide.CloneWorkItem(w))
		}
	}
	switch s := b.Start.(type) {
	case duroxide.StartOrchestrationItem:
		b.Name, b.Input, b.Version = s.Orchestration, s.Input, clonePtr(s.Version)
		b.ParentInstance, b.ParentID = clonePtr(s.ParentInstance), clonePtr(s.ParentID)
	case duroxide.ContinueAsNewItem:
		b.Name, b.Input, b.Version, b.ContinueAsNew = s.Orchestration, s.Input, clonePtr(s.Version), true
		carried := make([]duroxide.WorkItem, 0, len(s.CarryForwardEvents)+len(completions))
		for _, c := range s.CarryForwardEvents {
			carried = append(carried, duroxide.QueueMessageItem{Instance: instance, Name: c.Name, Data: c.Data})
		}
		completions = append(carried, completions...)
	default:
		if st, ok := startedOf(history); ok {
			b.Name, b.Input, b.Version = st.Name, st.Input, ptr(st.Version)
			b.ParentInstance, b.ParentID = clonePtr(st.ParentInstance), clonePtr(st.ParentID)
		}
	}
	b.Messages = completions
	return b
}

func startedOf(history []duroxide.Event) (duroxide.OrchestrationStarted, bool) {
	for i := range history {
		if s, ok := history[i].Kind.(duroxide.OrchestrationStarted); ok {
			return s, true
		}
	}
	return duroxide.OrchestrationStarted{}, false
}

// TurnInput is everything one orchestration turn needs.
//
// Plain data, not synchronized.
type TurnInput struct {
	// Item is the fetched item (its History, ExecutionID, KVSnapshot and
	// Instance are used; its Messages come through Batch).
	Item duroxide.OrchestrationItem
	// Batch is ReadBatch of the item's messages.
	Batch Batch
	// Handler is the orchestration the runtime resolved for Batch.Name.
	Handler Handler
	// Version is the resolved version (for a new execution it is recorded
	// in OrchestrationStarted; later turns pass the stored one).
	Version string
	// ParentExecutionID is the parent's execution id written into the
	// completion notice of a sub-orchestration (0 means 1).
	ParentExecutionID uint64
	// Options are passed to the engine (PersistedLen and KVSnapshot are set
	// by RunTurn).
	Options EngineOptions
}

// TurnOutput is the result of [RunTurn]: the ack to commit and the turn's
// outcome.
//
// Plain data, not synchronized.
type TurnOutput struct {
	Ack    duroxide.OrchestrationAck
	Result TurnResult
}

// RunTurn runs one orchestration turn the way duroxide's runtime does and
// returns the ack to commit atomically. For a new execution it writes
// OrchestrationStarted (event id 1, pinned at the engine's duroxide
// version); it replays the stored history, applies the batch, runs the code,
// and maps the outcome onto work items: new activities to the worker queue;
// timers (TimerFired at FireAtMs), children ("<parent>::sub::<id>") and
// detached starts to the orchestrator queue; on a terminal outcome the
// subscription breadcrumbs, the terminal event, the parent's notice, the
// in-flight activities' cancellation (breadcrumbs after the terminal event,
// and the ack's cancelled list) and, for a continue-as-new, the
// ContinueAsNew item carrying up to [MaxCarryForwardEvents] unconsumed
// queue messages and the custom status.
//
// RunTurn does no I/O and keeps no goroutine. in's values are not retained.
func RunTurn(in TurnInput) TurnOutput {
	item, b := in.Item, in.Batch
	instance := item.Instance
	opts := in.Options
	now, stamp := opts.Now, opts.DuroxideVersion // NewEngine's defaults
	if now == nil {
		now = time.Now
	}
	if stamp == "" {
		stamp = DuroxideVersion
	}

	execID := item.ExecutionID
	if execID == 0 {
		execID = duroxide.InitialExecutionID // never acked as 0
	}
	history := item.History
	if b.ContinueAsNew {
		execID++
		history = nil
	}
	var out TurnOutput
	out.Ack.ExecutionID = execID
	if b.Name == "" {
		return out
	}
	if !b.ContinueAsNew {
		for i := range history {
			if history[i].IsTerminal() {
				return out // the execution already ended: ack the batch away
			}
		}
	}
	persisted := len(history)
	var started []duroxide.Event
	if len(history) == 0 {
		st := duroxide.OrchestrationStarted{Name: b.Name, Version: in.Version, Input: b.Input,
			ParentInstance: clonePtr(b.ParentInstance), ParentID: clonePtr(b.ParentID)}
		if can, ok := b.Start.(duroxide.ContinueAsNewItem); ok {
			if len(can.CarryForwardEvents) > 0 {
				st.CarryForwardEvents = append([]duroxide.CarriedEvent(nil), can.CarryForwardEvents...)
			}
			st.InitialCustomStatus = clonePtr(can.InitialCustomStatus)
		}
		// Room for the turn's delta after it (see below).
		started = make([]duroxide.Event, 1, 6)
		started[0] = duroxide.Event{EventID: duroxide.InitialEventID, InstanceID: instance, ExecutionID: execID,
			TimestampMs: uint64(max(now().UnixMilli(), 0)), DuroxideVersion: stamp, Kind: st}
		history = started
	}
	st, _ := startedOf(history)

	opts.PersistedLen = persisted
	opts.KVSnapshot = item.KVSnapshot
	eng := newEngine(instance, execID, history, opts) // history is only read, and not kept
	if len(b.Messages) > 0 {
		eng.PrepCompletions(b.Messages)
	}
	res := eng.Execute(in.Handler, st.Input, b.Name, in.Version)
	out.Result = res

	// The engine is done with its delta: extend it in place (a terminal
	// turn appends a few events).
	var delta []duroxide.Event
	if len(eng.delta) > 0 {
		delta = eng.delta
	}
	if len(started) > 0 {
		// started's spare capacity; the engine, which read it, is done.
		delta = append(started, eng.delta...)
	}
	var fullBuf []duroxide.Event
	full := func() []duroxide.Event {
		if fullBuf == nil {
			// Room for the terminal event and a few breadcrumbs.
			fullBuf = make([]duroxide.Event, 0, persisted+len(delta)+4)
		}
		fullBuf = append(append(fullBuf[:0], history[:persisted]...), delta...)
		return fullBuf
	}
	for _, id := range eng.cancelAct {
		out.Ack.CancelledActivities = append(out.Ack.CancelledActivities,
			duroxide.ScheduledActivityIdentifier{Instance: instance, ExecutionID: execID, ActivityID: id})
	}
	var orch, worker []duroxide.WorkItem
	appendEvent := func(src *uint64, inst string, exec uint64, k duroxide.EventKind) {
		delta = append(delta, duroxide.Event{EventID: eng.nextID, SourceEventID: src, InstanceID: inst, ExecutionID: exec,
			TimestampMs: uint64(max(now().UnixMilli(), 0)), DuroxideVersion: stamp, Kind: k})
		eng.nextID++
	}
	detached := func() {
		for _, a := range eng.actions {
			if d, ok := a.(StartDetachedAction); ok {
				orch = append(orch, duroxide.StartOrchestrationItem{Instance: d.Instance, Orchestration: d.Name, Input: d.Input,
					Version: clonePtr(d.Version), ExecutionID: duroxide.InitialExecutionID})
			}
		}
	}
	terminalBreadcrumbs := func() outstanding {
		o := findOutstanding(full())
		for _, id := range o.positional {
			appendEvent(ptr(id), instance, execID, duroxide.ExternalSubscribedCancelled{Reason: ReasonOrchestrationTerminal})
		}
		for _, id := range o.queue {
			appendEvent(ptr(id), instance, execID, duroxide.QueueSubscriptionCancelled{Reason: ReasonOrchestrationTerminal})
		}
		return o
	}
	parentExec := in.ParentExecutionID
	if parentExec == 0 {
		parentExec = duroxide.InitialExecutionID
	}
	hasParent := st.ParentInstance != nil && st.ParentID != nil
	failWith := func(d duroxide.ErrorDetails) {
		// duroxide writes its OrchestrationFailed with an empty instance id
		// and execution id 0; kept for byte-identical histories.
		appendEvent(nil, "", 0, duroxide.OrchestrationFailed{Details: d})
		if hasParent {
			orch = append(orch, duroxide.SubOrchFailedItem{ParentInstance: *st.ParentInstance, ParentExecutionID: parentExec,
				ParentID: *st.ParentID, Details: duroxide.CloneErrorDetails(d)})
		}
	}

	switch res.Kind {
	case TurnContinue:
		for _, a := range eng.actions {
			switch a := a.(type) {
			case CallActivityAction:
				worker = append(worker, duroxide.ActivityExecuteItem{Instance: instance, ExecutionID: execID, ID: a.SchedulingEventID,
					Name: a.Name, Input: a.Input, SessionID: clonePtr(a.SessionID), Tag: clonePtr(a.Tag)})
			case CreateTimerAction:
				orch = append(orch, duroxide.TimerFiredItem{Instance: instance, ExecutionID: execID, ID: a.SchedulingEventID, FireAtMs: a.FireAtMs})
			case StartSubOrchestrationAction:
				orch = append(orch, duroxide.StartOrchestrationItem{Instance: ChildInstanceID(instance, a.Instance), Orchestration: a.Name,
					Input: a.Input, Version: clonePtr(a.Version), ParentInstance: ptr(instance), ParentID: ptr(a.SchedulingEventID),
					ExecutionID: duroxide.InitialExecutionID})
			case StartDetachedAction:
				orch = append(orch, duroxide.StartOrchestrationItem{Instance: a.Instance, Orchestration: a.Name, Input: a.Input,
					Version: clonePtr(a.Version), ExecutionID: duroxide.InitialExecutionID})
			}
		}
	case TurnCompleted:
		detached()
		terminalBreadcrumbs()
		appendEvent(nil, instance, execID, duroxide.OrchestrationCompleted{Output: res.Output})
		if hasParent {
			orch = append(orch, duroxide.SubOrchCompletedItem{ParentInstance: *st.ParentInstance, ParentExecutionID: parentExec,
				ParentID: *st.ParentID, Result: res.Output})
		}
	case TurnFailed:
		detached()
		terminalBreadcrumbs()
		failWith(res.Details)
	case TurnContinueAsNew:
		carry := unmatchedQueueMessages(full())
		terminalBreadcrumbs()
		appendEvent(nil, instance, execID, duroxide.OrchestrationContinuedAsNew{Input: res.Input})
		if len(carry) > MaxCarryForwardEvents {
			carry = carry[:MaxCarryForwardEvents]
		}
		orch = append(orch, duroxide.ContinueAsNewItem{Instance: instance, Orchestration: b.Name, Input: res.Input,
			Version: clonePtr(res.Version), CarryForwardEvents: carry, InitialCustomStatus: customStatusOf(full())})
	case TurnCancelled:
		d := duroxide.Application{Kind: duroxide.AppCancelled{Reason: res.Reason}}
		o := terminalBreadcrumbs()
		failWith(d)
		for _, c := range o.children {
			orch = append(orch, duroxide.CancelInstanceItem{Instance: ChildInstanceID(instance, c), Reason: ReasonParentCanceled})
		}
	}
	for _, c := range eng.cancelSub {
		orch = append(orch, duroxide.CancelInstanceItem{Instance: ChildInstanceID(instance, c), Reason: ReasonParentDroppedChild})
	}

	meta := metadataOf(delta)
	if meta.Status.IsTerminal() {
		var reason string
		switch meta.Status {
		case duroxide.StatusCompleted:
			reason = "orchestration_terminal_completed"
		case duroxide.StatusFailed:
			reason = "orchestration_terminal_failed"
		case duroxide.StatusContinuedAsNew:
			reason = "orchestration_terminal_continued_as_new"
		}
		for _, id := range InflightActivities(full()) {
			appendEvent(ptr(id), instance, execID, duroxide.ActivityCancelRequested{Reason: reason})
			out.Ack.CancelledActivities = append(out.Ack.CancelledActivities,
				duroxide.ScheduledActivityIdentifier{Instance: instance, ExecutionID: execID, ActivityID: id})
		}
	}
	out.Ack.CancelledActivities = dedupe(out.Ack.CancelledActivities)
	out.Ack.HistoryDelta = delta
	out.Ack.WorkerItems = worker
	out.Ack.OrchestratorItems = orch
	out.Ack.Metadata = meta
	return out
}

func dedupe(in []duroxide.ScheduledActivityIdentifier) []duroxide.ScheduledActivityIdentifier {
	if len(in) < 2 {
		return in
	}
	seen := map[duroxide.ScheduledActivityIdentifier]bool{}
	out := in[:0]
	for _, a := range in {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// metadataOf computes the ack metadata from a turn's delta: name, version,
// parent and pinned version from a new OrchestrationStarted; status and
// output from the first terminal event.
func metadataOf(delta []duroxide.Event) duroxide.ExecutionMetadata {
	var m duroxide.ExecutionMetadata
	for i := range delta {
		switch k := delta[i].Kind.(type) {
		case duroxide.OrchestrationStarted:
			// The pointed-to values in one allocation.
			p := &struct {
				name, version string
				pinned        duroxide.Semver
			}{name: k.Name, version: k.Version}
			m.OrchestrationName, m.OrchestrationVersion = &p.name, &p.version
			m.ParentInstanceID = clonePtr(k.ParentInstance)
			if delta[i].DuroxideVersion == DuroxideVersion {
				p.pinned = duroxideVersion
				m.PinnedDuroxideVersion = &p.pinned
			} else if v, err := duroxide.ParseSemver(delta[i].DuroxideVersion); err == nil {
				p.pinned = v
				m.PinnedDuroxideVersion = &p.pinned
			}
		case duroxide.OrchestrationCompleted:
			m.Status, m.Output = duroxide.StatusCompleted, ptr(k.Output)
			return m
		case duroxide.OrchestrationFailed:
			m.Status, m.Output = duroxide.StatusFailed, ptr(k.Details.DisplayMessage())
			return m
		case duroxide.OrchestrationContinuedAsNew:
			m.Status, m.Output = duroxide.StatusContinuedAsNew, ptr(k.Input)
			return m
		}
	}
	return m
}

func customStatusOf(history []duroxide.Event) *string {
	var s *string
	for i := range history {
		switch k := history[i].Kind.(type) {
		case duroxide.OrchestrationStarted:
			if k.InitialCustomStatus != nil {
				s = clonePtr(k.InitialCustomStatus)
			}
		case duroxide.CustomStatusUpdated:
			s = clonePtr(k.Status)
		}
	}
	return s
}

// unmatchedQueueMessages returns the queue messages no active subscription
// consumed, in arrival order.
func unmatchedQueueMessages(history []duroxide.Event) []duroxide.CarriedEvent {
	cancelled := map[uint64]bool{}
	active := map[string]int{}
	var subs []duroxide.Event
	for i := range history {
		e := &history[i]
		switch e.Kind.(type) {
		case duroxide.QueueSubscriptionCancelled:
			if e.SourceEventID != nil {
				cancelled[*e.SourceEventID] = true
			}
		case duroxide.QueueSubscribed:
			subs = append(subs, *e)
		}
	}
	for _, s := range subs {
		if !cancelled[s.EventID] {
			active[s.Kind.(duroxide.QueueSubscribed).Name]++
		}
	}
	consumed := map[string]int{}
	var out []duroxide.CarriedEvent
	for i := range history {
		if k, ok := history[i].Kind.(duroxide.QueueEventDelivered); ok {
			if consumed[k.Name] < active[k.Name] {
				consumed[k.Name]++
			} else {
				out = append(out, duroxide.CarriedEvent(k))
			}
		}
	}
	return out
}

type outstanding struct {
	children   []string // history instance ids of unresolved, uncancelled children
	positional []uint64
	queue      []uint64
}

func findOutstanding(history []duroxide.Event) outstanding {
	var o outstanding
	if !anySubscriptionOrChild(history) {
		return o // nothing can be outstanding (the common case)
	}
	type child struct {
		id   uint64
		inst string
	}
	var children []child
	var positional, queueSubs []uint64
	queueName := map[uint64]string{}
	resolvedChild, cancelledChild := map[uint64]bool{}, map[uint64]bool{}
	cancelledPos, cancelledQueue, resolvedPos := map[uint64]bool{}, map[uint64]bool{}, map[uint64]bool{}
	pending := map[string][]uint64{}
	arrivals := map[string]int{}
	for i := range history {
		e := &history[i]
		src := uint64(0)
		hasSrc := e.SourceEventID != nil
		if hasSrc {
			src = *e.SourceEventID
		}
		switch k := e.Kind.(type) {
		case duroxide.SubOrchestrationScheduled:
			children = append(children, child{e.EventID, k.Instance})
		case duroxide.SubOrchestrationCompleted, duroxide.SubOrchestrationFailed:
			if hasSrc {
				resolvedChild[src] = true
			}
		case duroxide.SubOrchestrationCancelRequested:
			if hasSrc {
				cancelledChild[src] = true
			}
		case duroxide.ExternalSubscribed:
			positional = append(positional, e.EventID)
			pending[k.Name] = append(pending[k.Name], e.EventID)
		case duroxide.ExternalEvent:
			if q := pending[k.Name]; len(q) > 0 {
				resolvedPos[q[0]] = true
				pending[k.Name] = q[1:]
			}
		case duroxide.ExternalSubscribedCancelled:
			if hasSrc {
				cancelledPos[src] = true
				for n, q := range pending {
					pending[n] = removeID(q, src)
				}
			}
		case duroxide.QueueSubscribed:
			queueSubs = append(queueSubs, e.EventID)
			queueName[e.EventID] = k.Name
		case duroxide.QueueEventDelivered:
			arrivals[k.Name]++
		case duroxide.QueueSubscriptionCancelled:
			if hasSrc {
				cancelledQueue[src] = true
			}
		}
	}
	for _, c := range children {
		if !resolvedChild[c.id] && !cancelledChild[c.id] {
			o.children = append(o.children, c.inst)
		}
	}
	for _, id := range positional {
		if !resolvedPos[id] && !cancelledPos[id] {
			o.positional = append(o.positional, id)
		}
	}
	consumed := map[string]int{}
	for _, id := range queueSubs {
		if cancelledQueue[id] {
			continue
		}
		n := queueName[id]
		if consumed[n] < arrivals[n] {
			consumed[n]++
			continue
		}
		o.queue = append(o.queue, id)
	}
	return o
}

// anySubscriptionOrChild reports whether history schedules a
// sub-orchestration or subscribes to an event: without one, findOutstanding
// has nothing to find.
func anySubscriptionOrChild(history []duroxide.Event) bool {
	for i := range history {
		switch history[i].Kind.(type) {
		case duroxide.SubOrchestrationScheduled, duroxide.ExternalSubscribed, duroxide.QueueSubscribed:
			return true
		}
	}
	return false
}

func removeID(q []uint64, id uint64) []uint64 {
	out := q[:0:0]
	for _, v := range q {
		if v != id {
			out = append(out, v)
		}
	}
	return out
}

// InflightActivities returns the ids of the activities history scheduled
// but neither finished nor already cancelled, in schedule order: those a
// terminal turn cancels. history is only read.
func InflightActivities(history []duroxide.Event) []uint64 {
	done := map[uint64]bool{}
	var buf [16]uint64
	scheduled := buf[:0]
	for i := range history {
		e := &history[i]
		switch e.Kind.(type) {
		case duroxide.ActivityScheduled:
			scheduled = append(scheduled, e.EventID)
		case duroxide.ActivityCompleted, duroxide.ActivityFailed, duroxide.ActivityCancelRequested:
			if e.SourceEventID != nil {
				done[*e.SourceEventID] = true
			}
		}
	}
	var out []uint64
	for _, id := range scheduled {
		if !done[id] {
			out = append(out, id)
		}
	}
	return out
}
