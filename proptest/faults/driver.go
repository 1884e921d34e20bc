package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
)

// Runtime reactions: how duroxide's runtime treats provider errors
// (retryable errors are retried with back-off, permanent ones fail the
// call's turn or item).
const (
	// maxAckRetries is how often a retryable orchestration ack error is
	// retried before the turn is abandoned.
	maxAckRetries = 5
	// ackRetryBase is the first ack retry's back-off; it doubles per retry.
	ackRetryBase = 10 * time.Millisecond
	// fetchBackoffBase and fetchBackoffMax bound the back-off after a
	// retryable fetch error: min(max, base·2^n) for n consecutive failures.
	fetchBackoffBase = 100 * time.Millisecond
	fetchBackoffMax  = 3 * time.Second
	// permanentFetchPause is the pause after a permanent fetch error.
	permanentFetchPause = 100 * time.Millisecond
	// orchAbandonDelay is the delay of an abandon after a failed ack.
	orchAbandonDelay = 50 * time.Millisecond
	// workAbandonDelay is the delay of an abandon after a failed worker ack.
	workAbandonDelay = 100 * time.Millisecond
	// historyErrorDelay is the delay of an abandon of undecodable history.
	historyErrorDelay = time.Second
	// quiesceSlack is added to the lock timeout when the driver jumps the
	// clock to let every lock and abandon delay lapse; it exceeds every
	// abandon delay above.
	quiesceSlack = 2 * time.Second
)

// driver is a deterministic, single-goroutine model of duroxide's runtime:
// a client that starts instances, an orchestration dispatcher and a worker
// dispatcher, each holding up to cfg.Slots items at a time. Every step runs
// one enabled action picked by a generator seeded from cfg.Seed, so the
// provider sees the same call sequence for the same seed.
type driver struct {
	ctx   context.Context
	p     duroxide.Provider
	clock *fakeclock.Fake
	cfg   Config
	rng   *rand.Rand

	pending []string // instances whose start was not enqueued yet
	orch    []*heldOrch
	work    []*duroxide.LockedWorkItem

	orchFails, workFails int // consecutive fetch failures, for back-off

	// Quiescence: orchIdle and workIdle are set by a fetch that found no
	// work and cleared by anything else; advanced says the clock jumped
	// past every lock since the last activity.
	orchIdle, workIdle, advanced bool

	stats Stats
}

type heldOrch struct {
	item  *duroxide.LockedOrchestrationItem
	renew bool // false once a renewal failed: the runtime stops renewing
}

func newDriver(ctx context.Context, p duroxide.Provider, clock *fakeclock.Fake, cfg Config, instances []string) *driver {
	return &driver{
		ctx:     ctx,
		p:       p,
		clock:   clock,
		cfg:     cfg,
		rng:     rand.New(rand.NewPCG(uint64(cfg.Seed), 0x647269766572)), // "driver"
		pending: slices.Clone(instances),
	}
}

// run steps until the workload quiesces or cfg.MaxSteps pass.
func (d *driver) run() error {
	for d.stats.Steps < d.cfg.MaxSteps {
		if err := d.ctx.Err(); err != nil {
			return err
		}
		d.stats.Steps++
		if len(d.pending) == 0 && len(d.orch) == 0 && len(d.work) == 0 && d.orchIdle && d.workIdle {
			if d.advanced {
				return nil // nothing visible even with every lock lapsed
			}
			d.stats.IdleAdvances++
			d.advance(d.cfg.LockTimeout + quiesceSlack)
			d.orchIdle, d.workIdle, d.advanced = false, false, true
			continue
		}
		if err := d.step(); err != nil {
			return err
		}
	}
	return fmt.Errorf("the workload did not quiesce within %d steps", d.cfg.MaxSteps)
}

// step runs one enabled action.
func (d *driver) step() error {
	actions := make([]func() error, 0, 7)
	if len(d.pending) > 0 {
		actions = append(actions, d.startInstance)
	}
	if len(d.orch) < d.cfg.Slots {
		actions = append(actions, d.fetchOrch)
	}
	if len(d.orch) > 0 {
		actions = append(actions, d.completeOrch)
		if slices.ContainsFunc(d.orch, func(h *heldOrch) bool { return h.renew }) {
			actions = append(actions, d.renewOrch)
		}
	}
	if len(d.work) < d.cfg.Slots {
		actions = append(actions, d.fetchWork)
	}
	if len(d.work) > 0 {
		actions = append(actions, d.completeWork, d.renewWork)
	}
	return actions[d.rng.IntN(len(actions))]()
}

// busy records that the provider's state may have changed.
func (d *driver) busy() { d.orchIdle, d.workIdle, d.advanced = false, false, false }

// advance moves the fake clock forward by dt.
func (d *driver) advance(dt time.Duration) {
	d.stats.FakeTime += dt
	// Advance fails only for a negative duration, which never happens here.
	_ = d.clock.Advance(dt)
}

// backoff pauses after a failed fetch, as the runtime's dispatchers do.
func (d *driver) backoff(fails *int, err error) {
	d.stats.FetchBackoffs++
	if !duroxide.IsRetryable(err) {
		d.advance(permanentFetchPause)
		return
	}
	d.advance(min(fetchBackoffMax, fetchBackoffBase<<min(*fails, 10)))
	*fails++
}

// take removes and returns a random element of *s.
func take[T any](d *driver, s *[]T) T {
	i := d.rng.IntN(len(*s))
	v := (*s)[i]
	*s = slices.Delete(*s, i, i+1)
	return v
}

// startInstance is the client: it enqueues the next instance's
// StartOrchestration. A failed start stays pending and is retried on a later
// step, so a start whose enqueue took effect before the error is enqueued
// twice; the orchestration ignores the duplicate. With
// Flaws.DropFailedStarts, or on a permanent error, the client gives up.
func (d *driver) startInstance() error {
	d.busy()
	inst := d.pending[0]
	err := d.p.EnqueueForOrchestrator(d.ctx, duroxide.StartOrchestrationItem{
		Instance:      inst,
		Orchestration: orchestrationName,
		Input:         inst,
		ExecutionID:   duroxide.InitialExecutionID,
	}, 0)
	switch {
	case err == nil:
		d.stats.Starts++
	case d.cfg.Flaws.DropFailedStarts || !duroxide.IsRetryable(err):
		d.stats.DroppedStarts++
	default:
		d.stats.StartRetries++
		return nil // still pending
	}
	d.pending = d.pending[1:]
	return nil
}

// fetchOrch is the orchestration dispatcher's poll.
func (d *driver) fetchOrch() error {
	item, err := d.p.FetchOrchestrationItem(d.ctx, d.cfg.LockTimeout, 0, nil)
	if err != nil {
		d.busy()
		d.backoff(&d.orchFails, err)
		return nil
	}
	d.orchFails = 0
	if item == nil {
		d.orchIdle = true
		return nil
	}
	d.busy()
	if item.AttemptCount > 1 {
		d.stats.Redeliveries++
	}
	if item.HistoryError != "" {
		// Not expected in this workload; the runtime's reaction.
		_ = d.p.AbandonOrchestrationItem(d.ctx, item.LockToken, historyErrorDelay, false)
		return nil
	}
	d.orch = append(d.orch, &heldOrch{item: item, renew: true})
	return nil
}

// completeOrch replays one held item and acks the turn. Retryable ack
// errors are retried up to maxAckRetries times. A retry that finds its
// token gone (ErrInvalidLockToken) means an earlier attempt committed and
// only its response was lost — or the lock was lost: either way the turn
// is over, and anything not committed comes back when its lock lapses. A
// permanent error or exhausted retries abandon the item, best effort.
//
// Unlike duroxide's runtime, a permanent ack error does not fail the
// orchestration (it would record OrchestrationFailed): in this workload
// permanent ack errors are lock losses, not the orchestration's fault.
func (d *driver) completeOrch() error {
	d.busy()
	h := take(d, &d.orch)
	turn := replay(h.item, d.cfg.Activities, uint64(d.clock.Now().UnixMilli()), d.cfg.Flaws.ReplayDuplicateStarts)
	d.stats.DuplicateStarts += turn.duplicateStarts
	d.stats.DuplicateCompletions += turn.duplicateCompletions
	for attempt := 0; ; attempt++ {
		err := d.p.AckOrchestrationItem(d.ctx, h.item.LockToken, turn.ack)
		switch {
		case err == nil:
			d.stats.Turns++
			return nil
		case attempt > 0 && errors.Is(err, duroxide.ErrInvalidLockToken):
			d.stats.UnsureAcks++
			return nil
		case !duroxide.IsRetryable(err) || attempt == maxAckRetries:
			d.stats.OrchAbandons++
			_ = d.p.AbandonOrchestrationItem(d.ctx, h.item.LockToken, orchAbandonDelay, false)
			return nil
		}
		d.stats.AckRetries++
		d.advance(ackRetryBase << attempt)
	}
}

// renewOrch renews one held orchestration lock; on error the runtime stops
// renewing it (the turn goes on).
func (d *driver) renewOrch() error {
	d.busy()
	var renewable []*heldOrch
	for _, h := range d.orch {
		if h.renew {
			renewable = append(renewable, h)
		}
	}
	h := renewable[d.rng.IntN(len(renewable))]
	if err := d.p.RenewOrchestrationItemLock(d.ctx, h.item.LockToken, d.cfg.LockTimeout); err != nil {
		h.renew = false
		return nil
	}
	d.stats.Renewals++
	return nil
}

// fetchWork is the worker dispatcher's poll.
func (d *driver) fetchWork() error {
	item, err := d.p.FetchWorkItem(d.ctx, d.cfg.LockTimeout, 0, nil, duroxide.FilterDefaultOnly())
	if err != nil {
		d.busy()
		d.backoff(&d.workFails, err)
		return nil
	}
	d.workFails = 0
	if item == nil {
		d.workIdle = true
		return nil
	}
	d.busy()
	if _, ok := item.Item.(duroxide.ActivityExecuteItem); !ok {
		return fmt.Errorf("fetch_work_item returned a %s item", item.Item.Variant())
	}
	d.work = append(d.work, item)
	return nil
}

// completeWork runs one held activity and acks its completion. On any ack
// error the runtime abandons the item with a delay and ignores the result.
func (d *driver) completeWork() error {
	d.busy()
	item := take(d, &d.work)
	act := item.Item.(duroxide.ActivityExecuteItem)
	d.stats.ActivityRuns++
	err := d.p.AckWorkItem(d.ctx, item.LockToken, duroxide.ActivityCompletedItem{
		Instance:    act.Instance,
		ExecutionID: act.ExecutionID,
		ID:          act.ID,
		Result:      activityResult(act.Instance, act.ID),
	})
	if err != nil {
		d.stats.WorkAbandons++
		_ = d.p.AbandonWorkItem(d.ctx, item.LockToken, workAbandonDelay, false)
		return nil
	}
	d.stats.WorkAcks++
	return nil
}

// renewWork renews one held worker lock. A failed renewal is the runtime's
// cancellation signal: the activity is dropped, neither acked nor
// abandoned, and its item comes back when the lock lapses.
func (d *driver) renewWork() error {
	d.busy()
	i := d.rng.IntN(len(d.work))
	if err := d.p.RenewWorkItemLock(d.ctx, d.work[i].LockToken, d.cfg.LockTimeout); err != nil {
		d.work = slices.Delete(d.work, i, i+1)
		d.stats.CancelledActivities++
		return nil
	}
	d.stats.Renewals++
	return nil
}
