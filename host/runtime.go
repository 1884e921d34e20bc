package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
)

// Runtime dispatches orchestration turns and activities from a provider's
// queues to the handlers of a [Registry]. Build one with [New].
//
// A Runtime is safe for concurrent use by multiple goroutines.
type Runtime struct {
	p       duroxide.Provider
	reg     snapshot
	opts    Options
	clock   fakeclock.Clock
	filter  *duroxide.DispatcherCapabilityFilter
	nowFunc func() time.Time
	running atomic.Bool

	sessCfg *duroxide.SessionFetchConfig // shared by every fetch; never mutated
	sessMu  sync.Mutex

	// What filter and sessCfg point to, in the runtime's allocation.
	filterBuf  duroxide.DispatcherCapabilityFilter
	sessCfgBuf duroxide.SessionFetchConfig
	sessions   map[string]int // session id -> activities running here; nil until a session is used
}

// processID is random per process and runtimeSeq numbers its runtimes:
// together, a default session owner id no other runtime uses, without a
// random read per runtime.
var (
	processID  = func() string { var b [6]byte; _, _ = rand.Read(b[:]); return hex.EncodeToString(b[:]) }()
	runtimeSeq atomic.Uint64
)

// New returns a runtime over p that runs reg's handlers (a snapshot of reg
// taken now). It starts nothing: call [Runtime.Run], or drive it with
// [Runtime.StepOrchestration] and [Runtime.StepWorker].
func New(p duroxide.Provider, reg *Registry, opts Options) (*Runtime, error) {
	if p == nil {
		return nil, optionsError("nil provider")
	}
	if reg == nil {
		return nil, optionsError("nil registry")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.SessionOwnerID == "" {
		o.SessionOwnerID = "host-" + processID + "-" + strconv.FormatUint(runtimeSeq.Add(1), 36)
	}
	r := &Runtime{p: p, reg: reg.snapshot(), opts: o, clock: o.Clock,
		filterBuf:  duroxide.DispatcherCapabilityFilter{SupportedDuroxideVersions: o.SupportedVersions},
		sessCfgBuf: duroxide.SessionFetchConfig{OwnerID: o.SessionOwnerID, LockTimeout: o.SessionLockTimeout},
	}
	r.filter, r.sessCfg = &r.filterBuf, &r.sessCfgBuf
	r.nowFunc = r.clock.Now
	return r, nil
}

// Provider returns the provider the runtime dispatches from.
func (r *Runtime) Provider() duroxide.Provider { return r.p }

// Run starts OrchestrationConcurrency orchestration dispatchers,
// WorkerConcurrency worker dispatchers and a session-lease keeper, and
// blocks until ctx ends. Shutdown is graceful: no new item is fetched, a
// turn in progress commits, and running activities see their context
// cancelled; an activity that returns by ActivityCancellationGrace has its
// result acked (or, if it failed, its item abandoned for another runtime),
// after that it is left to its lock's expiry. Run returns nil after a
// shutdown by ctx, and [ErrAlreadyRunning] if called twice.
func (r *Runtime) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	var wg sync.WaitGroup
	for i := 0; i < r.opts.OrchestrationConcurrency; i++ {
		wg.Go(func() { r.loop(ctx, r.pollOrchestration) })
	}
	for i := 0; i < r.opts.WorkerConcurrency; i++ {
		wg.Go(func() { r.loop(ctx, r.pollWorker) })
	}
	wg.Go(func() { r.keepSessions(ctx) })
	wg.Wait()
	return nil
}

// StepOrchestration fetches one orchestration batch without waiting, runs
// its turn and commits it, all on the calling goroutine. It reports whether
// there was a batch. An error is a provider error of the fetch (the turn's
// own failures are recorded in the instance's history, as in Run).
func (r *Runtime) StepOrchestration(ctx context.Context) (bool, error) {
	li, err := r.p.FetchOrchestrationItem(ctx, r.opts.OrchestrationLockTimeout, 0, r.filter)
	if err != nil || li == nil {
		return false, err
	}
	r.turn(ctx, li, false)
	return true, nil
}

// StepWorker fetches one activity without waiting, runs it to its end on
// the calling goroutine (no lock renewal: keep the clock still meanwhile)
// and acks it. It reports whether there was an activity.
func (r *Runtime) StepWorker(ctx context.Context) (bool, error) {
	li, err := r.p.FetchWorkItem(ctx, r.opts.WorkerLockTimeout, 0, r.sessionConfig(), r.opts.WorkerTags)
	if err != nil || li == nil {
		return false, err
	}
	r.work(ctx, li, false)
	return true, nil
}

// loop runs one dispatcher: poll until ctx ends, backing off after errors
// and pacing empty polls by MinPollInterval.
func (r *Runtime) loop(ctx context.Context, poll func(ctx context.Context) (bool, error)) {
	var errs uint
	for ctx.Err() == nil {
		start := r.clock.Now()
		found, err := poll(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			errs++
			d := 100 * time.Millisecond
			if duroxide.IsRetryable(err) {
				d = min(100*time.Millisecond<<min(errs, 5), 3*time.Second)
			}
			r.opts.Logger.Warn("duroxide host: fetch failed", "error", err, "retry_in", d)
			r.sleep(ctx, d)
		case !found:
			errs = 0
			if el := r.clock.Now().Sub(start); el < r.opts.MinPollInterval {
				r.sleep(ctx, r.opts.MinPollInterval-el)
			}
		default:
			errs = 0
		}
	}
}

func (r *Runtime) pollOrchestration(ctx context.Context) (bool, error) {
	li, err := r.p.FetchOrchestrationItem(ctx, r.opts.OrchestrationLockTimeout, r.opts.PollTimeout, r.filter)
	if err != nil || li == nil {
		return false, err
	}
	// The turn commits even if shutdown begins meanwhile.
	tctx := context.WithoutCancel(ctx)
	stop := r.renewEvery(tctx, r.opts.OrchestrationLockTimeout, func(c context.Context) error {
		return r.p.RenewOrchestrationItemLock(c, li.LockToken, r.opts.OrchestrationLockTimeout)
	}, nil)
	r.turn(tctx, li, true)
	stop()
	return true, nil
}

func (r *Runtime) pollWorker(ctx context.Context) (bool, error) {
	li, err := r.p.FetchWorkItem(ctx, r.opts.WorkerLockTimeout, r.opts.PollTimeout, r.sessionConfig(), r.opts.WorkerTags)
	if err != nil || li == nil {
		return false, err
	}
	r.work(ctx, li, true)
	return true, nil
}

// sleep waits d on the runtime's clock or until ctx ends.
func (r *Runtime) sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := r.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C():
	}
}

// renewEvery calls renew every half of lockTimeout (at least every 10 ms)
// on a goroutine until the returned stop is called; after a failed renewal
// it calls lost (if non-nil) and stops renewing.
func (r *Runtime) renewEvery(ctx context.Context, lockTimeout time.Duration, renew func(context.Context) error, lost func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		every := max(lockTimeout/2, 10*time.Millisecond)
		for {
			t := r.clock.NewTimer(every)
			select {
			case <-done:
				t.Stop()
				return
			case <-t.C():
			}
			if err := renew(ctx); err != nil {
				select {
				case <-done: // finished meanwhile: the lock was released on purpose
					return
				default:
				}
				if duroxide.IsRetryable(err) {
					continue
				}
				if lost != nil {
					lost()
				}
				return
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// retry runs call until it succeeds, fails permanently, or five retries
// fail; between retries it waits 10 ms doubling (only when wait is set: a
// Step never sleeps, so a fake clock never has to move under it).
func (r *Runtime) retry(ctx context.Context, wait bool, call func(context.Context) error) error {
	var err error
	for attempt := 0; ; attempt++ {
		if err = call(ctx); err == nil || !duroxide.IsRetryable(err) || attempt >= 5 {
			return err
		}
		if wait {
			r.sleep(ctx, 10*time.Millisecond<<attempt)
		}
		if ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
	}
}

func (r *Runtime) sessionConfig() *duroxide.SessionFetchConfig {
	r.sessMu.Lock()
	n := len(r.sessions)
	r.sessMu.Unlock()
	if n >= r.opts.MaxSessions {
		return nil
	}
	return r.sessCfg
}

// enterSession records a running activity of session id; it reports false
// (and records nothing) when that would exceed MaxSessions.
func (r *Runtime) enterSession(id string) bool {
	r.sessMu.Lock()
	defer r.sessMu.Unlock()
	if _, ok := r.sessions[id]; !ok && len(r.sessions) >= r.opts.MaxSessions {
		return false
	}
	if r.sessions == nil {
		r.sessions = map[string]int{}
	}
	r.sessions[id]++
	return true
}

func (r *Runtime) leaveSession(id string) {
	r.sessMu.Lock()
	defer r.sessMu.Unlock()
	if r.sessions[id]--; r.sessions[id] <= 0 {
		delete(r.sessions, id)
	}
}

// keepSessions renews this runtime's session leases and cleans orphaned
// sessions until ctx ends.
func (r *Runtime) keepSessions(ctx context.Context) {
	every := max(r.opts.SessionLockTimeout/2, 10*time.Millisecond)
	owners := []string{r.opts.SessionOwnerID}
	for {
		r.sleep(ctx, every)
		if ctx.Err() != nil {
			return
		}
		if _, err := r.p.RenewSessionLock(ctx, owners, r.opts.SessionLockTimeout, r.opts.SessionIdleTimeout); err != nil && ctx.Err() == nil {
			r.opts.Logger.Warn("duroxide host: session renewal failed", "error", err)
		}
		if _, err := r.p.CleanupOrphanedSessions(ctx, r.opts.SessionIdleTimeout); err != nil && ctx.Err() == nil {
			r.opts.Logger.Warn("duroxide host: session cleanup failed", "error", err)
		}
	}
}
