package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/orchestration"
)

// work runs one fetched activity to its ack (or abandon). live says
// whether it runs under Run (lock renewal, cancellation grace, shutdown)
// or under a Step (inline, no goroutines).
func (r *Runtime) work(ctx context.Context, li *duroxide.LockedWorkItem, live bool) {
	log := r.opts.Logger
	bg := withoutCancel(ctx) // acks and abandons outlive a shutdown
	item, ok := li.Item.(duroxide.ActivityExecuteItem)
	if !ok { // providers only hand out ActivityExecute items; drop anything else
		log.Error("duroxide host: worker queue held a non-activity item, dropping it", "variant", li.Item.Variant())
		_ = r.p.AckWorkItem(bg, li.LockToken, nil)
		return
	}
	if li.AttemptCount > r.opts.MaxAttempts {
		log.Warn("duroxide host: activity exceeded max attempts, failing it as poison",
			"instance", item.Instance, "activity", item.Name, "attempts", li.AttemptCount)
		raw, _ := duroxide.MarshalWorkItem(item)
		r.ackWork(bg, li.LockToken, duroxide.ActivityFailedItem{Instance: item.Instance, ExecutionID: item.ExecutionID, ID: item.ID,
			Details: duroxide.Poison{AttemptCount: li.AttemptCount, MaxAttempts: r.opts.MaxAttempts,
				MessageType: duroxide.PoisonActivity{Instance: item.Instance, ExecutionID: item.ExecutionID, ActivityName: item.Name, ActivityID: item.ID},
				Message:     string(raw)}}, live)
		return
	}
	h := r.reg.acts[item.Name]
	if h == nil && strings.HasPrefix(item.Name, orchestration.SyscallPrefix) {
		h = r.builtin(item.Name) // registrations cannot use the prefix
	}
	if h == nil {
		d := r.opts.UnregisteredBackoff.Delay(li.AttemptCount)
		log.Warn("duroxide host: activity not registered, abandoning with backoff",
			"instance", item.Instance, "activity", item.Name, "attempt", li.AttemptCount, "backoff", d)
		r.abandonWork(bg, li.LockToken, d, false)
		return
	}
	if item.SessionID != nil {
		if !r.enterSession(*item.SessionID) { // over MaxSessions after a racing fetch
			r.abandonWork(bg, li.LockToken, 100*time.Millisecond, true)
			return
		}
		defer r.leaveSession(*item.SessionID)
	}

	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	ac := &ActivityContext{Context: actx, instance: item.Instance, executionID: item.ExecutionID, activityID: item.ID,
		name: item.Name, sessionID: item.SessionID, tag: item.Tag, attempt: li.AttemptCount, base: log}
	if !live {
		result, err := invoke(h, ac, item.Input)
		r.finish(bg, li, item, result, err, false, false)
		return
	}

	lost := make(chan struct{})
	stop := r.renewEvery(bg, r.opts.WorkerLockTimeout, func(c context.Context) error {
		return r.p.RenewWorkItemLock(c, li.LockToken, r.opts.WorkerLockTimeout)
	}, func() { close(lost) })
	defer stop()
	done := make(chan outcome, 1)
	go func() {
		res, err := invoke(h, ac, item.Input)
		done <- outcome{res, err}
	}()
	var o outcome
	select {
	case o = <-done:
	case <-lost:
		// The orchestration no longer wants this activity.
		cancel()
		log.Info("duroxide host: activity cancelled, waiting its grace period", "instance", item.Instance, "activity", item.Name)
		if r.await(done, &o) {
			// Its result is not wanted: the item is gone; nothing to ack.
			return
		}
		log.Warn("duroxide host: cancelled activity did not return within its grace period; abandoning it",
			"instance", item.Instance, "activity", item.Name)
		return
	case <-ctx.Done():
		cancel()
		if !r.await(done, &o) {
			log.Warn("duroxide host: activity did not return within the grace period of shutdown; its lock will expire",
				"instance", item.Instance, "activity", item.Name)
			return
		}
		r.finish(bg, li, item, o.result, o.err, true, true)
		return
	}
	r.finish(bg, li, item, o.result, o.err, false, true)
}

// withoutCancel is context.WithoutCancel, and ctx itself when it can
// never be cancelled and has no deadline (a Step's background context):
// the same context, without an allocation.
func withoutCancel(ctx context.Context) context.Context {
	if ctx.Done() == nil {
		if _, ok := ctx.Deadline(); !ok {
			return ctx
		}
	}
	return context.WithoutCancel(ctx)
}

// outcome is what an activity returned.
type outcome struct {
	result string
	err    error
}

// await waits for the activity's outcome for the cancellation grace.
func (r *Runtime) await(done <-chan outcome, o *outcome) bool {
	t := r.clock.NewTimer(r.opts.ActivityCancellationGrace)
	defer t.Stop()
	select {
	case *o = <-done:
		return true
	case <-t.C():
		return false
	}
}

// finish acks an activity's outcome. An activity that failed while the
// runtime shuts down is abandoned instead, so another runtime retries it.
func (r *Runtime) finish(ctx context.Context, li *duroxide.LockedWorkItem, item duroxide.ActivityExecuteItem, result string, err error, shuttingDown, wait bool) {
	if err != nil && shuttingDown {
		r.abandonWork(ctx, li.LockToken, 0, true)
		return
	}
	var completion duroxide.WorkItem
	if err == nil {
		completion = duroxide.ActivityCompletedItem{Instance: item.Instance, ExecutionID: item.ExecutionID, ID: item.ID, Result: result}
	} else {
		details := duroxide.Application{Kind: duroxide.AppActivityFailed{}, Message: err.Error()}
		var p *panicError
		if errors.As(err, &p) {
			details.Kind = duroxide.AppPanicked{}
		}
		completion = duroxide.ActivityFailedItem{Instance: item.Instance, ExecutionID: item.ExecutionID, ID: item.ID, Details: details}
	}
	r.ackWork(ctx, li.LockToken, completion, wait)
}

func (r *Runtime) ackWork(ctx context.Context, token string, completion duroxide.WorkItem, wait bool) {
	err := r.retry(ctx, wait, func(c context.Context) error { return r.p.AckWorkItem(c, token, completion) })
	switch {
	case err == nil:
	case errors.Is(err, duroxide.ErrInvalidLockToken), errors.Is(err, duroxide.ErrLockExpired):
		// Cancelled or deleted meanwhile, or the lock expired and another
		// worker runs it again: the result is not wanted.
		r.opts.Logger.Info("duroxide host: activity result dropped, its item is gone", "error", err)
	default:
		r.opts.Logger.Warn("duroxide host: activity ack failed, abandoning", "error", err)
		r.abandonWork(ctx, token, 0, false)
	}
}

func (r *Runtime) abandonWork(ctx context.Context, token string, delay time.Duration, ignoreAttempt bool) {
	if err := r.p.AbandonWorkItem(ctx, token, delay, ignoreAttempt); err != nil {
		r.opts.Logger.Warn("duroxide host: abandoning an activity failed (its lock expires instead)", "error", err)
	}
}

// panicError is an activity's panic, turned into its failure.
type panicError struct{ value any }

func (p *panicError) Error() string { return fmt.Sprintf("activity panicked: %v", p.value) }

// invoke runs h, turning a panic into a *panicError.
func invoke(h ActivityHandler, ac *ActivityContext, input string) (result string, err error) {
	defer func() {
		if v := recover(); v != nil {
			result, err = "", &panicError{value: v}
		}
	}()
	return h(ac, input)
}

// logger builds the activity's logger on first use.
func (c *ActivityContext) buildLogger() *slog.Logger {
	return c.base.With("instance_id", c.instance, "execution_id", c.executionID, "activity_name", c.name, "activity_id", c.activityID)
}
