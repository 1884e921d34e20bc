package proptest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/spec"
)

// opKind names one provider call (or a move of the fake clock).
type opKind uint8

// The operations the state machine and the concurrent clients issue.
const (
	opEnqueueOrch opKind = iota
	opEnqueueWorker
	opFetchOrch
	opAckOrch
	opAbandonOrch
	opRenewOrch
	opFetchWork
	opAckWork
	opAbandonWork
	opRenewWork
	opRenewSessions
	opCleanupSessions
	opAppend
	opRead
	opReadExec
	opGetKV
	opGetKVAll
	opGetCustomStatus
	opDeleteInstance
	opDeleteAtomic
	opPrune
	opDeleteBulk
	opAdvance
	opCorrupt
	opStepBack
)

var opNames = [...]string{
	opEnqueueOrch:     "EnqueueForOrchestrator",
	opEnqueueWorker:   "EnqueueForWorker",
	opFetchOrch:       "FetchOrchestrationItem",
	opAckOrch:         "AckOrchestrationItem",
	opAbandonOrch:     "AbandonOrchestrationItem",
	opRenewOrch:       "RenewOrchestrationItemLock",
	opFetchWork:       "FetchWorkItem",
	opAckWork:         "AckWorkItem",
	opAbandonWork:     "AbandonWorkItem",
	opRenewWork:       "RenewWorkItemLock",
	opRenewSessions:   "RenewSessionLock",
	opCleanupSessions: "CleanupOrphanedSessions",
	opAppend:          "AppendWithExecution",
	opRead:            "Read",
	opReadExec:        "ReadWithExecution",
	opGetKV:           "GetKVValue",
	opGetKVAll:        "GetKVAllValues",
	opGetCustomStatus: "GetCustomStatus",
	opDeleteInstance:  "DeleteInstance",
	opDeleteAtomic:    "DeleteInstancesAtomic",
	opPrune:           "PruneExecutions",
	opDeleteBulk:      "DeleteInstanceBulk",
	opAdvance:         "AdvanceClock",
	opCorrupt:         "CorruptInstanceHistory",
	opStepBack:        "StepClockBack",
}

func (k opKind) String() string {
	if int(k) < len(opNames) {
		return opNames[k]
	}
	return fmt.Sprintf("opKind(%d)", k)
}

// op is one call with its arguments. Only the fields its kind uses are set.
// An op is immutable once built: the linearizability checker replays it many
// times.
type op struct {
	kind     opKind
	instance string
	exec     uint64
	key      string
	item     duroxide.WorkItem
	token    string
	dur      time.Duration // delay, lock timeout, extend-for, or clock move
	poll     time.Duration // poll timeout of a fetch (long polling)
	dur2     time.Duration // idle timeout (sessions)
	ignore   bool          // ignoreAttempt
	force    bool
	filter   *duroxide.DispatcherCapabilityFilter
	session  *duroxide.SessionFetchConfig
	tags     duroxide.TagFilter
	ack      duroxide.OrchestrationAck
	events   []duroxide.Event
	owners   []string
	ids      []string
	lastSeen uint64
	prune    duroxide.PruneOptions
	bulk     duroxide.InstanceFilter
	// cancelled issues the call with a context that has already ended: the
	// provider may do the call or fail it, but a failure must change nothing.
	cancelled bool
}

// String renders the op for logs and failure reports.
func (o op) String() string {
	var b strings.Builder
	if o.cancelled {
		b.WriteString("[cancelled ctx] ")
	}
	b.WriteString(o.kind.String())
	b.WriteString("(")
	switch o.kind {
	case opEnqueueOrch:
		fmt.Fprintf(&b, "%s, delay=%v", describeItem(o.item), o.dur)
	case opEnqueueWorker:
		fmt.Fprintf(&b, "%s", describeItem(o.item))
	case opFetchOrch:
		fmt.Fprintf(&b, "lock=%v, poll=%v, filter=%s", o.dur, o.poll, describeFilter(o.filter))
	case opAckOrch:
		fmt.Fprintf(&b, "token=%q, %s", o.token, describeAck(o.ack))
	case opAbandonOrch, opAbandonWork:
		fmt.Fprintf(&b, "token=%q, delay=%v, ignoreAttempt=%v", o.token, o.dur, o.ignore)
	case opRenewOrch, opRenewWork:
		fmt.Fprintf(&b, "token=%q, extend=%v", o.token, o.dur)
	case opFetchWork:
		s := "nil"
		if o.session != nil {
			s = fmt.Sprintf("{owner=%s lease=%v}", o.session.OwnerID, o.session.LockTimeout)
		}
		fmt.Fprintf(&b, "lock=%v, poll=%v, session=%s, tags=%s", o.dur, o.poll, s, o.tags)
	case opAckWork:
		c := "nil"
		if o.item != nil {
			c = describeItem(o.item)
		}
		fmt.Fprintf(&b, "token=%q, completion=%s", o.token, c)
	case opRenewSessions:
		fmt.Fprintf(&b, "owners=%q, extend=%v, idle=%v", o.owners, o.dur, o.dur2)
	case opCleanupSessions:
		fmt.Fprintf(&b, "idle=%v", o.dur2)
	case opAppend:
		fmt.Fprintf(&b, "%q, exec=%d, events=%s", o.instance, o.exec, describeEvents(o.events))
	case opRead, opGetKVAll, opCorrupt:
		fmt.Fprintf(&b, "%q", o.instance)
	case opReadExec:
		fmt.Fprintf(&b, "%q, exec=%d", o.instance, o.exec)
	case opGetKV:
		fmt.Fprintf(&b, "%q, %q", o.instance, o.key)
	case opGetCustomStatus:
		fmt.Fprintf(&b, "%q, lastSeen=%d", o.instance, o.lastSeen)
	case opDeleteInstance:
		fmt.Fprintf(&b, "%q, force=%v", o.instance, o.force)
	case opDeleteAtomic:
		fmt.Fprintf(&b, "%q, force=%v", o.ids, o.force)
	case opPrune:
		fmt.Fprintf(&b, "%q, keepLast=%v, completedBefore=%v", o.instance, deref(o.prune.KeepLast), deref(o.prune.CompletedBefore))
	case opDeleteBulk:
		ids := "nil"
		if o.bulk.InstanceIDs != nil {
			ids = fmt.Sprintf("%q", o.bulk.InstanceIDs)
		}
		fmt.Fprintf(&b, "ids=%s, completedBefore=%v, limit=%v", ids, deref(o.bulk.CompletedBefore), deref(o.bulk.Limit))
	case opAdvance, opStepBack:
		fmt.Fprintf(&b, "%v", o.dur)
	}
	b.WriteString(")")
	return b.String()
}

// result is what a call returned. err is the error as returned; errKind is
// the contract sentinel it wraps (nil on success).
type result struct {
	err     error
	errKind error
	orch    *duroxide.LockedOrchestrationItem
	work    *duroxide.LockedWorkItem
	events  []duroxide.Event
	str     string
	ok      bool
	kv      map[string]string
	status  duroxide.CustomStatus
	n       int
	deleted duroxide.DeleteInstanceResult
	pruned  duroxide.PruneResult
}

// String renders the result for logs and failure reports.
func (r result) String() string {
	if r.err != nil {
		return "error: " + r.err.Error()
	}
	switch {
	case r.orch != nil:
		return describeOrchItem(r.orch)
	case r.work != nil:
		return fmt.Sprintf("work{%s token=%q attempt=%d}", describeItem(r.work.Item), r.work.LockToken, r.work.AttemptCount)
	case r.events != nil:
		return describeEvents(r.events)
	case r.kv != nil:
		return fmt.Sprintf("%v", r.kv)
	case r.ok:
		return fmt.Sprintf("found (value=%q status=%s)", r.str, describeStatus(r.status))
	case r.n != 0:
		return fmt.Sprintf("%d", r.n)
	case r.deleted != (duroxide.DeleteInstanceResult{}):
		return fmt.Sprintf("%+v", r.deleted)
	case r.pruned != (duroxide.PruneResult{}):
		return fmt.Sprintf("%+v", r.pruned)
	}
	return "ok"
}

// errOther marks an error that wraps none of the contract's sentinels.
var errOther = errors.New("error wrapping no duroxide sentinel")

// errNotProvider marks an error that is not a *duroxide.ProviderError.
var errNotProvider = errors.New("error is not a *duroxide.ProviderError")

// sentinels are the contract's error causes, in the order errors are
// classified.
var sentinels = []error{
	duroxide.ErrInvalidLockToken, duroxide.ErrLockExpired, duroxide.ErrNotFound,
	duroxide.ErrInstanceRunning, duroxide.ErrNotRoot, duroxide.ErrOrphanChild,
	duroxide.ErrDuplicateEvent, duroxide.ErrInvalidArgument, duroxide.ErrCorruptData,
	duroxide.ErrUnavailable,
}

// classify returns the sentinel err wraps, errNotProvider when err is not a
// *duroxide.ProviderError, or errOther.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var pe *duroxide.ProviderError
	if !errors.As(err, &pe) {
		return errNotProvider
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s
		}
	}
	return errOther
}

// exec issues o against h's provider (its clock for opAdvance and
// opStepBack, its hooks for opCorrupt) and returns what it returned.
// Fetches wait up to o.poll (0: they never wait).
func exec(ctx context.Context, h *spec.Harness, o op) result {
	var r result
	p := h.Provider
	if o.cancelled {
		c, cancel := context.WithCancel(ctx)
		cancel()
		ctx = c
	}
	switch o.kind {
	case opEnqueueOrch:
		r.err = p.EnqueueForOrchestrator(ctx, o.item, o.dur)
	case opEnqueueWorker:
		r.err = p.EnqueueForWorker(ctx, o.item)
	case opFetchOrch:
		r.orch, r.err = p.FetchOrchestrationItem(ctx, o.dur, o.poll, o.filter)
	case opAckOrch:
		r.err = p.AckOrchestrationItem(ctx, o.token, o.ack)
	case opAbandonOrch:
		r.err = p.AbandonOrchestrationItem(ctx, o.token, o.dur, o.ignore)
	case opRenewOrch:
		r.err = p.RenewOrchestrationItemLock(ctx, o.token, o.dur)
	case opFetchWork:
		r.work, r.err = p.FetchWorkItem(ctx, o.dur, o.poll, o.session, o.tags)
	case opAckWork:
		r.err = p.AckWorkItem(ctx, o.token, o.item)
	case opAbandonWork:
		r.err = p.AbandonWorkItem(ctx, o.token, o.dur, o.ignore)
	case opRenewWork:
		r.err = p.RenewWorkItemLock(ctx, o.token, o.dur)
	case opRenewSessions:
		r.n, r.err = p.RenewSessionLock(ctx, o.owners, o.dur, o.dur2)
	case opCleanupSessions:
		r.n, r.err = p.CleanupOrphanedSessions(ctx, o.dur2)
	case opAppend:
		r.err = p.AppendWithExecution(ctx, o.instance, o.exec, o.events)
	case opRead:
		r.events, r.err = p.Read(ctx, o.instance)
		r.events = nonNilEvents(r.events, r.err)
	case opReadExec:
		r.events, r.err = p.ReadWithExecution(ctx, o.instance, o.exec)
		r.events = nonNilEvents(r.events, r.err)
	case opGetKV:
		r.str, r.ok, r.err = p.GetKVValue(ctx, o.instance, o.key)
	case opGetKVAll:
		r.kv, r.err = p.GetKVAllValues(ctx, o.instance)
		if r.kv == nil && r.err == nil {
			r.kv = map[string]string{}
		}
	case opGetCustomStatus:
		r.status, r.ok, r.err = p.GetCustomStatus(ctx, o.instance, o.lastSeen)
	case opDeleteInstance:
		if a := p.AsManagementCapability(); a != nil {
			r.deleted, r.err = a.DeleteInstance(ctx, o.instance, o.force)
		}
	case opDeleteAtomic:
		if a := p.AsManagementCapability(); a != nil {
			r.deleted, r.err = a.DeleteInstancesAtomic(ctx, o.ids, o.force)
		}
	case opPrune:
		if a := p.AsManagementCapability(); a != nil {
			r.pruned, r.err = a.PruneExecutions(ctx, o.instance, o.prune)
		}
	case opDeleteBulk:
		if a := p.AsManagementCapability(); a != nil {
			r.deleted, r.err = a.DeleteInstanceBulk(ctx, o.bulk)
		}
	case opAdvance:
		r.err = h.Clock.Advance(o.dur)
	case opStepBack:
		r.err = h.Clock.StepBack(o.dur)
	case opCorrupt:
		r.err = errors.New("the harness has no hooks")
		if h.Hooks != nil {
			r.err = h.Hooks.CorruptInstanceHistory(ctx, o.instance)
		}
	}
	r.errKind = classify(r.err)
	return r
}

// nonNilEvents makes a successful read's history non-nil, so results
// distinguish "a history" from "no history read".
func nonNilEvents(events []duroxide.Event, err error) []duroxide.Event {
	if err == nil && events == nil {
		return []duroxide.Event{}
	}
	return events
}

// describeItem renders a work item briefly: variant, routing and payload.
func describeItem(w duroxide.WorkItem) string {
	switch v := w.(type) {
	case nil:
		return "<nil item>"
	case duroxide.StartOrchestrationItem:
		return fmt.Sprintf("Start{%s %s v=%s in=%s}", v.Instance, v.Orchestration, strp(v.Version), v.Input)
	case duroxide.ActivityExecuteItem:
		return fmt.Sprintf("ActivityExecute{%s e%d #%d in=%s session=%s tag=%s}", v.Instance, v.ExecutionID, v.ID, v.Input, strp(v.SessionID), strp(v.Tag))
	case duroxide.ActivityCompletedItem:
		return fmt.Sprintf("ActivityCompleted{%s e%d #%d %s}", v.Instance, v.ExecutionID, v.ID, v.Result)
	case duroxide.ActivityFailedItem:
		return fmt.Sprintf("ActivityFailed{%s e%d #%d}", v.Instance, v.ExecutionID, v.ID)
	case duroxide.TimerFiredItem:
		return fmt.Sprintf("TimerFired{%s e%d #%d at=%d}", v.Instance, v.ExecutionID, v.ID, v.FireAtMs)
	case duroxide.ExternalRaisedItem:
		return fmt.Sprintf("ExternalRaised{%s %s %s}", v.Instance, v.Name, v.Data)
	case duroxide.SubOrchCompletedItem:
		return fmt.Sprintf("SubOrchCompleted{->%s %s}", v.ParentInstance, v.Result)
	case duroxide.SubOrchFailedItem:
		return fmt.Sprintf("SubOrchFailed{->%s #%d}", v.ParentInstance, v.ParentID)
	case duroxide.CancelInstanceItem:
		return fmt.Sprintf("CancelInstance{%s %s}", v.Instance, v.Reason)
	case duroxide.ContinueAsNewItem:
		return fmt.Sprintf("ContinueAsNew{%s %s v=%s in=%s}", v.Instance, v.Orchestration, strp(v.Version), v.Input)
	case duroxide.QueueMessageItem:
		return fmt.Sprintf("QueueMessage{%s %s %s}", v.Instance, v.Name, v.Data)
	}
	return fmt.Sprintf("%T", w)
}

func describeItems(items []duroxide.WorkItem) string {
	parts := make([]string, len(items))
	for i, w := range items {
		parts[i] = describeItem(w)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func describeEvents(events []duroxide.Event) string {
	parts := make([]string, len(events))
	for i, e := range events {
		k := "<nil kind>"
		if e.Kind != nil {
			k = e.Kind.EventType()
		}
		parts[i] = fmt.Sprintf("#%d:%s", e.EventID, k)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func describeOrchItem(it *duroxide.LockedOrchestrationItem) string {
	return fmt.Sprintf("orch{%s name=%q v=%q exec=%d token=%q attempt=%d msgs=%s history=%s kv=%v herr=%q}",
		it.Instance, it.OrchestrationName, it.Version, it.ExecutionID, it.LockToken, it.AttemptCount,
		describeItems(it.Messages), describeEvents(it.History), it.KVSnapshot, it.HistoryError)
}

func describeAck(a duroxide.OrchestrationAck) string {
	var b strings.Builder
	fmt.Fprintf(&b, "exec=%d delta=%s", a.ExecutionID, describeEvents(a.HistoryDelta))
	if len(a.WorkerItems) > 0 {
		fmt.Fprintf(&b, " worker=%s", describeItems(a.WorkerItems))
	}
	if len(a.OrchestratorItems) > 0 {
		fmt.Fprintf(&b, " orch=%s", describeItems(a.OrchestratorItems))
	}
	md := a.Metadata
	fmt.Fprintf(&b, " meta{name=%s v=%s status=%q out=%s parent=%s pinned=%v}", strp(md.OrchestrationName), strp(md.OrchestrationVersion), md.Status, strp(md.Output), strp(md.ParentInstanceID), md.PinnedDuroxideVersion)
	if len(a.CancelledActivities) > 0 {
		fmt.Fprintf(&b, " cancel=%v", a.CancelledActivities)
	}
	return b.String()
}

func describeFilter(f *duroxide.DispatcherCapabilityFilter) string {
	if f == nil {
		return "nil"
	}
	parts := make([]string, len(f.SupportedDuroxideVersions))
	for i, r := range f.SupportedDuroxideVersions {
		parts[i] = r.Min.String() + ".." + r.Max.String()
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func describeStatus(s duroxide.CustomStatus) string {
	return fmt.Sprintf("{%s v%d}", strp(s.Status), s.Version)
}

func strp(s *string) string {
	if s == nil {
		return "nil"
	}
	return fmt.Sprintf("%q", *s)
}

// errNames renders allowed error kinds.
func errNames(errs []error) string {
	if len(errs) == 0 {
		return "success"
	}
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Error()
	}
	slices.Sort(parts)
	return "an error wrapping one of [" + strings.Join(parts, ", ") + "]"
}
