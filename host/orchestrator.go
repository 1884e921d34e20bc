package host

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/orchestration"
)

// historyErrorBackoff delays an undecodable history so another node (a
// newer build that can decode it) gets a chance before this one retries.
const historyErrorBackoff = time.Second

// poisonEventID is the id of the OrchestrationFailed event written when an
// undecodable history is poisoned: the history cannot be read, so its next
// id is unknown; duroxide uses the same constant.
const poisonEventID = 99999

// turn processes one fetched orchestration batch to its ack (or abandon).
// wait says whether retries may sleep on the clock.
func (r *Runtime) turn(ctx context.Context, li *duroxide.LockedOrchestrationItem, wait bool) {
	item := &li.OrchestrationItem
	log := r.opts.Logger
	if li.AttemptCount > r.opts.MaxAttempts {
		log.Warn("duroxide host: orchestration batch exceeded max attempts, failing it as poison",
			"instance", item.Instance, "attempts", li.AttemptCount, "max_attempts", r.opts.MaxAttempts)
		r.ackOrAbandon(ctx, li.LockToken, r.poisonAck(ctx, li), wait)
		return
	}
	if item.HistoryError != "" {
		log.Warn("duroxide host: history could not be decoded, abandoning with backoff",
			"instance", item.Instance, "error", item.HistoryError, "attempt", li.AttemptCount)
		r.abandon(ctx, li.LockToken, historyErrorBackoff)
		return
	}
	batch := orchestration.ReadBatch(item.Instance, item.History, item.Messages)
	var (
		h       orchestration.Handler
		version string
	)
	if batch.Name != "" && !ended(item.History, batch) {
		var ok bool
		h, version, ok = r.reg.resolve(batch.Name, batch.Version)
		if !ok {
			d := r.opts.UnregisteredBackoff.Delay(li.AttemptCount)
			log.Warn("duroxide host: orchestration not registered, abandoning with backoff",
				"instance", item.Instance, "orchestration", batch.Name, "version", deref(batch.Version),
				"attempt", li.AttemptCount, "backoff", d)
			r.abandon(ctx, li.LockToken, d)
			return
		}
	}
	if h == nil { // nothing to run: RunTurn acks the batch away
		h = func(*orchestration.Context, string) (string, error) { return "", nil }
	}
	out := orchestration.RunTurn(orchestration.TurnInput{
		Item: *item, Batch: batch, Handler: h, Version: version,
		Options: orchestration.EngineOptions{Now: r.nowFunc, Logger: log, StepTimeout: r.opts.StepTimeout,
			Inline: r.opts.InlineOrchestrations},
	})
	if msg := limitViolation(&out.Ack, item.KVSnapshot); msg != "" {
		log.Warn("duroxide host: turn exceeds a size limit, failing the orchestration", "instance", item.Instance, "limit", msg)
		out.Ack = r.failForLimit(item, batch, out.Ack, msg)
		out.Result = orchestration.TurnResult{Kind: orchestration.TurnFailed}
	}
	if out.Result.Kind != orchestration.TurnContinue {
		r.fillParentExecution(ctx, out.Ack.OrchestratorItems)
	}
	err := r.retry(ctx, wait, func(c context.Context) error { return r.p.AckOrchestrationItem(c, li.LockToken, out.Ack) })
	if err == nil {
		return
	}
	if duroxide.IsRetryable(err) || ctx.Err() != nil {
		log.Warn("duroxide host: ack failed, abandoning the batch", "instance", item.Instance, "error", err)
		r.abandon(ctx, li.LockToken, 50*time.Millisecond)
		return
	}
	// A permanent ack error fails the execution with an infrastructure
	// error, so the instance does not loop on a turn that can never commit.
	if errors.Is(err, duroxide.ErrInvalidLockToken) || errors.Is(err, duroxide.ErrLockExpired) {
		return // the lock is gone: another dispatcher owns the batch now
	}
	log.Error("duroxide host: ack failed permanently, failing the orchestration", "instance", item.Instance, "error", err)
	var pe *duroxide.ProviderError
	details := duroxide.Infrastructure{Operation: "ack_orchestration_item", Message: err.Error()}
	if errors.As(err, &pe) {
		details = pe.ToInfrastructure()
	}
	r.ackOrAbandon(ctx, li.LockToken, r.failureAck(ctx, item, out.Ack.ExecutionID, details), wait)
}

// ended reports whether the batch meets an execution that already ended
// (then RunTurn acks it away without running code).
func ended(history []duroxide.Event, b orchestration.Batch) bool {
	if b.ContinueAsNew {
		return false
	}
	for i := range history {
		if history[i].IsTerminal() {
			return true
		}
	}
	return false
}

func (r *Runtime) abandon(ctx context.Context, token string, delay time.Duration) {
	if err := r.p.AbandonOrchestrationItem(ctx, token, delay, false); err != nil {
		r.opts.Logger.Warn("duroxide host: abandon failed (the lock expires instead)", "error", err)
	}
}

func (r *Runtime) ackOrAbandon(ctx context.Context, token string, ack duroxide.OrchestrationAck, wait bool) {
	if err := r.retry(ctx, wait, func(c context.Context) error { return r.p.AckOrchestrationItem(c, token, ack) }); err != nil {
		r.opts.Logger.Error("duroxide host: failure ack failed, abandoning", "error", err)
		r.abandon(ctx, token, 50*time.Millisecond)
	}
}

// fillParentExecution sets the parent's current execution id on a child's
// completion notice, read through the management API when the provider
// has one (else the notice keeps the engine's default).
func (r *Runtime) fillParentExecution(ctx context.Context, items []duroxide.WorkItem) {
	for i, w := range items {
		var parent string
		switch n := w.(type) {
		case duroxide.SubOrchCompletedItem:
			parent = n.ParentInstance
		case duroxide.SubOrchFailedItem:
			parent = n.ParentInstance
		default:
			continue
		}
		exec := r.currentExecution(ctx, parent)
		if exec == 0 {
			continue
		}
		switch n := w.(type) {
		case duroxide.SubOrchCompletedItem:
			n.ParentExecutionID = exec
			items[i] = n
		case duroxide.SubOrchFailedItem:
			n.ParentExecutionID = exec
			items[i] = n
		}
	}
}

func (r *Runtime) currentExecution(ctx context.Context, instance string) uint64 {
	admin := r.p.AsManagementCapability()
	if admin == nil {
		return 0
	}
	info, err := admin.GetInstanceInfo(ctx, instance)
	if err != nil {
		return 0
	}
	return info.CurrentExecutionID
}

func (r *Runtime) event(instance string, exec, id uint64, k duroxide.EventKind) duroxide.Event {
	return duroxide.Event{EventID: id, InstanceID: instance, ExecutionID: exec,
		TimestampMs: uint64(max(r.clock.Now().UnixMilli(), 0)), DuroxideVersion: orchestration.DuroxideVersion, Kind: k}
}

// failureAck fails the fetched execution (exec) with details, after the
// stored history, notifying a parent (with its current execution id, see
// fillParentExecution).
func (r *Runtime) failureAck(ctx context.Context, item *duroxide.OrchestrationItem, exec uint64, details duroxide.ErrorDetails) duroxide.OrchestrationAck {
	next := uint64(len(item.History)) + 1
	if n := len(item.History); n > 0 {
		next = item.History[n-1].EventID + 1
	}
	var delta []duroxide.Event
	var parent *string
	var parentID *uint64
	if len(item.History) == 0 || exec != item.ExecutionID {
		// The failing turn started the execution: record the start first.
		b := orchestration.ReadBatch(item.Instance, item.History, item.Messages)
		delta = append(delta, r.event(item.Instance, exec, duroxide.InitialEventID, duroxide.OrchestrationStarted{
			Name: b.Name, Version: item.Version, Input: b.Input, ParentInstance: b.ParentInstance, ParentID: b.ParentID}))
		parent, parentID, next = b.ParentInstance, b.ParentID, duroxide.InitialEventID+1
	} else {
		b := orchestration.ReadBatch(item.Instance, item.History, nil) // the stored start's identity
		parent, parentID = b.ParentInstance, b.ParentID
	}
	delta = append(delta, r.event(item.Instance, exec, next, duroxide.OrchestrationFailed{Details: details}))
	msg := details.DisplayMessage()
	name, version := item.OrchestrationName, item.Version
	ack := duroxide.OrchestrationAck{ExecutionID: exec, HistoryDelta: delta,
		Metadata: duroxide.ExecutionMetadata{Status: duroxide.StatusFailed, Output: &msg,
			OrchestrationName: &name, OrchestrationVersion: &version, ParentInstanceID: parent}}
	if parent != nil && parentID != nil {
		ack.OrchestratorItems = []duroxide.WorkItem{duroxide.SubOrchFailedItem{ParentInstance: *parent,
			ParentExecutionID: duroxide.InitialExecutionID, ParentID: *parentID, Details: details}}
		r.fillParentExecution(ctx, ack.OrchestratorItems)
	}
	return ack
}

// poisonAck fails an instance whose batch exceeded MaxAttempts.
func (r *Runtime) poisonAck(ctx context.Context, li *duroxide.LockedOrchestrationItem) duroxide.OrchestrationAck {
	item := &li.OrchestrationItem
	exec := max(item.ExecutionID, duroxide.InitialExecutionID)
	if item.HistoryError != "" {
		details := duroxide.Poison{AttemptCount: li.AttemptCount, MaxAttempts: r.opts.MaxAttempts,
			MessageType: duroxide.PoisonFailedDeserialization{Instance: item.Instance, ExecutionID: exec, Error: item.HistoryError},
			Message:     item.HistoryError}
		msg := details.DisplayMessage()
		name, version := item.OrchestrationName, item.Version
		return duroxide.OrchestrationAck{ExecutionID: exec,
			HistoryDelta: []duroxide.Event{r.event(item.Instance, exec, poisonEventID, duroxide.OrchestrationFailed{Details: details})},
			Metadata: duroxide.ExecutionMetadata{Status: duroxide.StatusFailed, Output: &msg,
				OrchestrationName: &name, OrchestrationVersion: &version}}
	}
	raw, _ := json.Marshal(workItems(item.Messages))
	details := duroxide.Poison{AttemptCount: li.AttemptCount, MaxAttempts: r.opts.MaxAttempts,
		MessageType: duroxide.PoisonOrchestration{Instance: item.Instance, ExecutionID: exec}, Message: string(raw)}
	return r.failureAck(ctx, item, exec, details)
}

// workItems marshals as duroxide's JSON array of work items.
type workItems []duroxide.WorkItem

func (w workItems) MarshalJSON() ([]byte, error) {
	out := []byte{'['}
	for i, it := range w {
		if i > 0 {
			out = append(out, ',')
		}
		b, err := duroxide.MarshalWorkItem(it)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return append(out, ']'), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
