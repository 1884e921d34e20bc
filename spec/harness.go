package spec

import (
	"context"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
)

// T is the part of testing.TB that cases use. *testing.T implements it, as
// does the recording T of [RunCase].
//
// Implementations must allow Errorf, Logf and Cleanup from any goroutine;
// FailNow and Skipf only from the case's goroutine, as with testing.T.
type T interface {
	// Helper marks the caller as a helper function.
	Helper()
	// Errorf records a failure and continues.
	Errorf(format string, args ...any)
	// FailNow stops the case (in the case's goroutine only).
	FailNow()
	// Logf records a message.
	Logf(format string, args ...any)
	// Skipf records a skip reason and stops the case.
	Skipf(format string, args ...any)
	// Cleanup registers f to run when the case ends.
	Cleanup(f func())
	// Context returns a context cancelled when the case ends.
	Context() context.Context
	// Name returns the case's name.
	Name() string
}

// Hooks are the white-box operations some cases need. A harness without them
// skips those cases.
//
// Hooks may be called from any goroutine and must be safe for concurrent
// use, like the provider.
type Hooks interface {
	// CorruptInstanceHistory makes every stored history event of instance
	// undecodable, in the store the harness's Provider reads.
	CorruptInstanceHistory(ctx context.Context, instance string) error
	// MaxAttemptCount returns the largest attempt count among the instance's
	// queued orchestrator messages.
	MaxAttemptCount(ctx context.Context, instance string) (uint32, error)
}

// Harness is one case's view of the provider under test. A NewHarness
// function builds a fresh one for every case; cases may read it but never
// change it. A Harness is used by one case at a time; its Provider must be
// safe for concurrent use.
type Harness struct {
	// Provider is the provider under test: fresh and empty.
	Provider duroxide.Provider
	// Clock, when non-nil, is the fake clock Provider reads all time from:
	// fake-clock mode. Nil selects real-time mode.
	Clock *fakeclock.Fake
	// Hooks, when non-nil, are the white-box hooks on Provider's store.
	Hooks Hooks
	// ClockStepsBack says the provider is built to survive its clock
	// stepping backwards (it reads a wall clock, not a database's): cases
	// and proptest may then call Clock.StepBack. Only meaningful with Clock.
	ClockStepsBack bool
	// LongPolling says the provider honours poll timeouts (waits for work);
	// otherwise it is a short-polling provider. It must be right: the
	// short-poll cases fail, saying to set it, when a fetch of a provider
	// said to short-poll waits for work.
	LongPolling bool
	// LockTimeout is the lock duration that lock-expiry cases fetch with and
	// then wait past. Default 1s in real-time mode, 30s in fake-clock mode.
	LockTimeout time.Duration
	// ShortPollThreshold is how fast a fetch that finds no work must return
	// when it does not wait. Default 100ms.
	ShortPollThreshold time.Duration
	// Slack is added to waits past a deadline and tolerated on top of a poll
	// timeout. Default 100ms in real-time mode, 1ms in fake-clock mode.
	Slack time.Duration
	// RealClock, in real-time mode, is the clock Provider reads when it is
	// not the wall clock (time.Now): for example [fakeclock.Real], which
	// runs on the monotonic clock and so drifts from the wall clock by
	// every step and slew applied to it. Cases compare the provider's
	// timestamps with [Harness.Now] to the millisecond. Nil: the wall
	// clock, as for a provider on a database's clock on this machine.
	RealClock fakeclock.Clock
}

// NewHarness builds a fresh Harness for one case. It may use t for cleanup
// and to fail or skip.
//
// It is called in the case's own goroutine, and may be called from several
// goroutines at once (RunConcurrently, RunCases with n > 1, the conformance
// report with Parallel > 1).
type NewHarness func(t T) *Harness

// withDefaults fills unset durations.
func (h *Harness) withDefaults() *Harness {
	c := *h
	if c.LockTimeout <= 0 {
		if c.Clock != nil {
			c.LockTimeout = 30 * time.Second
		} else {
			c.LockTimeout = time.Second
		}
	}
	if c.ShortPollThreshold <= 0 {
		c.ShortPollThreshold = 100 * time.Millisecond
	}
	if c.Slack <= 0 {
		if c.Clock != nil {
			c.Slack = time.Millisecond
		} else {
			c.Slack = 100 * time.Millisecond
		}
	}
	return &c
}

// FakeTime reports whether the harness runs on a fake clock.
func (h *Harness) FakeTime() bool { return h.Clock != nil }

// Now returns the provider's current time: the fake clock's, or in
// real-time mode RealClock's, or the wall clock's.
func (h *Harness) Now() time.Time {
	switch {
	case h.Clock != nil:
		return h.Clock.Now()
	case h.RealClock != nil:
		return h.RealClock.Now()
	}
	return time.Now()
}

// NowMs returns Now as Unix milliseconds.
func (h *Harness) NowMs() uint64 { return uint64(h.Now().UnixMilli()) }

// Sleep lets d pass on the provider's clock: it advances the fake clock, or
// sleeps for real in real-time mode.
func (h *Harness) Sleep(t T, d time.Duration) {
	t.Helper()
	if h.Clock != nil {
		if err := h.Clock.Advance(d); err != nil {
			t.Errorf("advance fake clock by %v: %v", d, err)
			t.FailNow()
		}
		return
	}
	time.Sleep(d)
}

// Admin returns the provider's management API, skipping the case when it has
// none.
func (h *Harness) Admin(t T) duroxide.ProviderAdmin {
	t.Helper()
	a := h.Provider.AsManagementCapability()
	if a == nil {
		t.Skipf("provider has no management capability (AsManagementCapability returned nil)")
	}
	return a
}

// RequireClockStepsBack ends the case as [NotApplicable] unless the
// harness's fake clock may step back (Clock set and ClockStepsBack true): a
// provider whose clock cannot step back (a database's now(), a monotonic
// clock) has nothing to survive, and its verdict is not incomplete for it.
func (h *Harness) RequireClockStepsBack(t T) {
	t.Helper()
	if h.Clock == nil {
		notApplicable(t, "real-time harness: the case steps a fake clock back")
	}
	if !h.ClockStepsBack {
		notApplicable(t, "the harness does not declare ClockStepsBack: the provider's clock is not expected to step back")
	}
}

// notApplicable ends the case with outcome [NotApplicable] (under go test,
// a skip whose message says "not applicable").
func notApplicable(t T, reason string) {
	t.Helper()
	if m, ok := t.(interface{ markNotApplicable() }); ok {
		m.markNotApplicable()
	}
	t.Skipf("not applicable: %s", reason)
}

// RequireHooks returns the harness hooks, skipping the case when there are
// none.
func (h *Harness) RequireHooks(t T) Hooks {
	t.Helper()
	if h.Hooks == nil {
		t.Skipf("harness has no white-box hooks (CorruptInstanceHistory, MaxAttemptCount)")
	}
	return h.Hooks
}
