package spec

import (
	"context"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// longPollingCases: how fetches treat poll_timeout. Short-polling providers
// ignore it; long-polling providers wait up to it for work, and exactly that
// long when none comes. In fake-clock mode the cases drive time with the
// clock and never wait for real; a real-time watchdog only guards against a
// fetch that never returns.
func longPollingCases() []Case {
	return []Case{
		{"long_polling", "short_poll_returns_immediately", shortPollReturnsImmediately, Required},
		{"long_polling", "long_poll_waits_for_timeout", longPollWaitsForTimeout, Required},
		{"long_polling", "fetch_respects_timeout_upper_bound", fetchRespectsTimeoutUpperBound, Required},
		{"long_polling", "short_poll_work_item_returns_immediately", shortPollWorkItemReturnsImmediately, Required},
		{"long_polling", "long_poll_work_item_waits_for_timeout", longPollWorkItemWaitsForTimeout, Required},
		// Not in duroxide: a long poll ends early when work arrives.
		{"long_polling", "long_poll_wakes_on_enqueue", longPollWakesOnEnqueue, Required},
		{"long_polling", "long_poll_work_item_wakes_on_enqueue", longPollWorkItemWakesOnEnqueue, Required},
		{"long_polling", "long_poll_wakes_when_delayed_message_becomes_visible", longPollWakesWhenDelayedVisible, Required},
		{"long_polling", "long_poll_wakes_when_lock_expires", longPollWakesWhenLockExpires, Required},
		{"long_polling", "long_poll_returns_when_context_ends", longPollReturnsWhenContextEnds, Required},
		// Not in duroxide: a call made while a long poll waits that makes
		// work due earlier than the poll planned to look again (its poll
		// timeout, or a long lock's expiry) must wake or re-arm it. Strict:
		// a missed wake-up only delays delivery until the poll timeout, and
		// duroxide's runtime polls again, so nothing is lost or duplicated.
		{"long_polling", "long_poll_wakes_on_delayed_enqueue_during_wait", longPollWakesOnDelayedEnqueueDuringWait, Strict},
		{"long_polling", "long_poll_wakes_on_delayed_abandon_during_wait", longPollWakesOnDelayedAbandonDuringWait, Strict},
		{"long_polling", "long_poll_work_item_wakes_on_delayed_abandon_during_wait", longPollWorkItemWakesOnDelayedAbandonDuringWait, Strict},
		{"long_polling", "long_poll_wakes_when_renew_shortens_lock", longPollWakesWhenRenewShortensLock, Strict},
		{"long_polling", "long_poll_work_item_wakes_when_renew_shortens_lock", longPollWorkItemWakesWhenRenewShortensLock, Strict},
		{"long_polling", "long_poll_work_item_wakes_when_session_renew_shortens_lease", longPollWorkItemWakesWhenSessionRenewShortensLease, Strict},
	}
}

// watchdog bounds, in real time, how long a case waits for a fetch that the
// clock should already have released.
const watchdog = 10 * time.Second

// polled is the outcome of a fetch run in the background.
type polled struct {
	orch    *duroxide.LockedOrchestrationItem
	work    *duroxide.LockedWorkItem
	err     error
	elapsed time.Duration // on the provider's clock
}

// pollOrch starts an orchestration fetch with pollTimeout in the
// background and returns the channel of its outcome.
func pollOrch(ctx context.Context, h *Harness, pollTimeout time.Duration) <-chan polled {
	ch := make(chan polled, 1)
	go func() {
		start := h.Now()
		item, err := h.Provider.FetchOrchestrationItem(ctx, longLock, pollTimeout, nil)
		ch <- polled{orch: item, err: err, elapsed: h.Now().Sub(start)}
	}()
	return ch
}

// pollWork starts a worker fetch with pollTimeout in the background.
func pollWork(ctx context.Context, h *Harness, pollTimeout time.Duration) <-chan polled {
	ch := make(chan polled, 1)
	go func() {
		start := h.Now()
		item, err := h.Provider.FetchWorkItem(ctx, longLock, pollTimeout, nil, duroxide.FilterDefaultOnly())
		ch <- polled{work: item, err: err, elapsed: h.Now().Sub(start)}
	}()
	return ch
}

// awaitParked returns once a background fetch is waiting: in fake-clock mode
// when it has armed a timer beyond the waiters counted before (baseline), in
// real-time mode after Slack.
func awaitParked(t T, h *Harness, baseline int) {
	t.Helper()
	if h.Clock == nil {
		h.Sleep(t, h.Slack)
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), watchdog)
	defer cancel()
	require.NoError(t, h.Clock.BlockUntilWaiters(ctx, baseline+1), "the fetch never waited on the provider's clock")
}

// baseline returns the fake clock's current waiter count (0 in real time).
func baseline(h *Harness) int {
	if h.Clock == nil {
		return 0
	}
	return h.Clock.Waiters()
}

// requireNotReturned requires that the background fetch is still waiting.
func requireNotReturned(t T, ch <-chan polled, why string) {
	t.Helper()
	select {
	case r := <-ch:
		require.Failf(t, "fetch returned early", "%s (result %+v)", why, r)
	default:
	}
}

// receive waits (with the real-time watchdog) for the background fetch.
func receive(t T, ch <-chan polled) polled {
	t.Helper()
	select {
	case r := <-ch:
		require.NoError(t, r.err)
		return r
	case <-time.After(watchdog):
		require.FailNow(t, "fetch did not return", "still blocked after %v of real time", watchdog)
		return polled{}
	}
}

// A fetch that finds no work returns at once when it may not wait: with any
// poll timeout on a short-polling provider (duroxide's case), and with a zero
// poll timeout on a long-polling one (the case's counterpart for them).
func shortPollReturnsImmediately(t T, h *Harness) {
	shortPoll(t, h, func(poll time.Duration) error {
		item, err := h.Provider.FetchOrchestrationItem(t.Context(), longLock, poll, nil)
		require.Nil(t, item)
		return err
	})
}

// As shortPollReturnsImmediately, for the worker queue.
func shortPollWorkItemReturnsImmediately(t T, h *Harness) {
	shortPoll(t, h, func(poll time.Duration) error {
		item, err := h.Provider.FetchWorkItem(t.Context(), longLock, poll, nil, duroxide.FilterDefaultOnly())
		require.Nil(t, item)
		return err
	})
}

func shortPoll(t T, h *Harness, fetch func(poll time.Duration) error) {
	t.Helper()
	poll := 500 * time.Millisecond
	if h.LongPolling {
		poll = 0
	}
	startClock, startWall := h.Now(), time.Now()
	require.NoError(t, fetch(poll))
	require.Less(t, time.Since(startWall), h.ShortPollThreshold, "fetch with no work must return within the short-poll threshold")
	if h.Clock != nil {
		require.Equal(t, startClock, h.Now(), "a fetch must not move the clock")
	}
}

// A long-polling fetch that finds no work waits the whole poll timeout.
func longPollWaitsForTimeout(t T, h *Harness) {
	longPollWaits(t, h, pollOrch)
}

// As longPollWaitsForTimeout, for the worker queue.
func longPollWorkItemWaitsForTimeout(t T, h *Harness) {
	longPollWaits(t, h, pollWork)
}

func longPollWaits(t T, h *Harness, start func(context.Context, *Harness, time.Duration) <-chan polled) {
	t.Helper()
	if !h.LongPolling {
		t.Skipf("short-polling provider: it does not wait for poll_timeout")
	}
	const poll = 500 * time.Millisecond
	n := baseline(h)
	ch := start(t.Context(), h, poll)
	awaitParked(t, h, n)
	if h.Clock != nil {
		// Stronger than duroxide: nothing returns before the deadline.
		require.NoError(t, h.Clock.Advance(poll-time.Millisecond))
		requireNotReturned(t, ch, "1ms before the poll timeout")
		require.NoError(t, h.Clock.Advance(time.Millisecond))
	}
	r := receive(t, ch)
	require.Nil(t, r.orch)
	require.Nil(t, r.work)
	require.GreaterOrEqual(t, r.elapsed, poll, "a long poll with no work must wait the whole poll timeout")
}

// Whatever the polling kind, a fetch returns within poll_timeout plus a
// tolerance.
func fetchRespectsTimeoutUpperBound(t T, h *Harness) {
	const poll = 300 * time.Millisecond
	n := baseline(h)
	ch := pollOrch(t.Context(), h, poll)
	if h.LongPolling {
		awaitParked(t, h, n)
		if h.Clock != nil {
			require.NoError(t, h.Clock.Advance(poll))
		}
	}
	r := receive(t, ch)
	require.Nil(t, r.orch)
	require.Less(t, r.elapsed, poll+200*time.Millisecond, "fetch must not wait much past poll_timeout")
}

// A long poll returns the work as soon as it is enqueued, without waiting
// for the poll timeout.
func longPollWakesOnEnqueue(t T, h *Harness) {
	if !h.LongPolling {
		t.Skipf("short-polling provider: it does not wait for work")
	}
	poll := 10 * time.Second
	n := baseline(h)
	ch := pollOrch(t.Context(), h, poll)
	awaitParked(t, h, n)
	enqueueOrch(t, h, startItem("lp-A"))
	r := receive(t, ch)
	require.NotNil(t, r.orch, "the waiting fetch must return the enqueued work")
	require.Equal(t, "lp-A", r.orch.Instance)
	require.Less(t, r.elapsed, poll, "the fetch must return before its poll timeout")
}

// As longPollWakesOnEnqueue, for the worker queue.
func longPollWorkItemWakesOnEnqueue(t T, h *Harness) {
	if !h.LongPolling {
		t.Skipf("short-polling provider: it does not wait for work")
	}
	poll := 10 * time.Second
	n := baseline(h)
	ch := pollWork(t.Context(), h, poll)
	awaitParked(t, h, n)
	enqueueWorker(t, h, activityItem("lp-A", 1))
	r := receive(t, ch)
	require.NotNil(t, r.work, "the waiting fetch must return the enqueued work item")
	require.Less(t, r.elapsed, poll)
}

// receiveOrFinish waits for a background fetch that the fake clock should
// just have released. A correct provider returns at once; if it has not
// returned after a short real-time grace, the clock is moved past the rest
// of the poll timeout so that a provider that missed the wake-up returns
// (and fails the case's assertions) instead of hanging until the watchdog.
func receiveOrFinish(t T, h *Harness, ch <-chan polled, rest time.Duration) polled {
	t.Helper()
	select {
	case r := <-ch:
		require.NoError(t, r.err)
		return r
	case <-time.After(time.Second):
		require.NoError(t, h.Clock.Advance(rest))
		return receive(t, ch)
	}
}

// A long poll returns a delayed message when it becomes visible, before the
// poll timeout.
func longPollWakesWhenDelayedVisible(t T, h *Harness) {
	if !h.LongPolling {
		t.Skipf("short-polling provider: it does not wait for work")
	}
	delay := 4 * h.Slack
	poll := 40 * h.Slack
	require.NoError(t, h.Provider.EnqueueForOrchestrator(t.Context(), startItem("lp-delayed"), delay))
	n := baseline(h)
	ch := pollOrch(t.Context(), h, poll)
	awaitParked(t, h, n)
	if h.Clock != nil {
		require.NoError(t, h.Clock.Advance(delay-time.Millisecond))
		requireNotReturned(t, ch, "the message is not visible yet")
		require.NoError(t, h.Clock.Advance(time.Millisecond))
	}
	r := receive(t, ch)
	require.NotNil(t, r.orch, "the fetch must return the message once it is visible")
	require.GreaterOrEqual(t, r.elapsed+h.Slack, delay, "not before the delay (within slack)")
	require.Less(t, r.elapsed, poll)
}

// A long poll returns an instance whose lock expires while it waits.
func longPollWakesWhenLockExpires(t T, h *Harness) {
	if !h.LongPolling {
		t.Skipf("short-polling provider: it does not wait for work")
	}
	enqueueOrch(t, h, startItem("lp-locked"))
	first := mustFetchOrch(t, h, h.LockTimeout)
	n := baseline(h)
	ch := pollOrch(t.Context(), h, 10*h.LockTimeout)
	awaitParked(t, h, n)
	var r polled
	if h.Clock != nil {
		require.NoError(t, h.Clock.Advance(h.LockTimeout))
		r = receiveOrFinish(t, h, ch, 9*h.LockTimeout)
	} else {
		r = receive(t, ch)
	}
	require.NotNil(t, r.orch, "the instance must be fetchable once its lock expired")
	require.Equal(t, "lp-locked", r.orch.Instance)
	require.NotEqual(t, first.LockToken, r.orch.LockToken)
	require.Less(t, r.elapsed, 10*h.LockTimeout)
}

// A long poll returns when its context ends, with an error matching the
// context's, and holds no lock.
func longPollReturnsWhenContextEnds(t T, h *Harness) {
	if !h.LongPolling {
		t.Skipf("short-polling provider: it does not wait for work")
	}
	ctx, cancel := context.WithCancel(t.Context())
	n := baseline(h)
	ch := pollOrch(ctx, h, time.Hour)
	awaitParked(t, h, n)
	cancel()
	select {
	case r := <-ch:
		require.Nil(t, r.orch)
		require.ErrorIs(t, r.err, context.Canceled)
	case <-time.After(watchdog):
		require.FailNow(t, "fetch ignored its context", "still blocked after %v of real time", watchdog)
	}
	enqueueOrch(t, h, startItem("lp-after-cancel"))
	require.NotNil(t, fetchOrch(t, h, longLock), "the cancelled fetch must not hold anything")
}

// longPollSeesEarlierWork starts a long poll with start, makes the call
// during while it waits (which makes work due in due, far sooner than the
// poll timeout or any lock the poll knew about), lets due pass and requires
// the poll to return the work before its poll timeout.
func longPollSeesEarlierWork(t T, h *Harness, start func(context.Context, *Harness, time.Duration) <-chan polled, due time.Duration, during func()) polled {
	t.Helper()
	poll := 10 * due
	n := baseline(h)
	ch := start(t.Context(), h, poll)
	awaitParked(t, h, n)
	during()
	var r polled
	if h.Clock != nil {
		require.NoError(t, h.Clock.Advance(due))
		r = receiveOrFinish(t, h, ch, poll)
	} else {
		r = receive(t, ch)
	}
	require.True(t, r.orch != nil || r.work != nil, "the waiting fetch must return the work due %v after the call, within its %v poll timeout", due, poll)
	require.Less(t, r.elapsed, poll, "the fetch must not sleep out its poll timeout")
	return r
}

// earlyDue is how soon after the call work becomes due in the cases below.
func earlyDue(h *Harness) time.Duration { return 4 * h.Slack }

// A long poll returns a message enqueued with a delay while it waits, once
// the delay has passed.
func longPollWakesOnDelayedEnqueueDuringWait(t T, h *Harness) {
	if !h.LongPolling {
		t.Skipf("short-polling provider: it does not wait for work")
	}
	due := earlyDue(h)
	r := longPollSeesEarlierWork(t, h, pollOrch, due, func() {
		require.NoError(t, h.Provider.EnqueueForOrchestrator(t.Context(), startItem("lp-delayed-during"), due))
	})
	require.Equal(t, "lp-delayed-during", r.orch.Instance)
}

// A long poll returns an instance abandoned with a delay while it waits
// (the lock was long), once the delay has passed.
func longPollWakesOnDelayedAbandonDuringWait(t T, h *Harness) {
	if !h.LongPolling {
		t.Skipf("short-polling provider: it does not wait for work")
	}
	enqueueOrch(t, h, startItem("lp-abandoned"))
	held := mustFetchOrch(t, h, longLock)
	due := earlyDue(h)
	r := longPollSeesEarlierWork(t, h, pollOrch, due, func() {
		require.NoError(t, h.Provider.AbandonOrchestrationItem(t.Context(), held.LockToken, due, false))
	})
	require.Equal(t, "lp-abandoned", r.orch.Instance)
}

// As longPollWakesOnDelayedAbandonDuringWait, for the worker queue.
func longPollWorkItemWakesOnDelayedAbandonDuringWait(t T, h *Harness) {
	if !h.LongPolling {
		t.Skipf("short-polling provider: it does not wait for work")
	}
	enqueueWorker(t, h, activityItem("lp-abandoned", 1))
	held := mustFetchWork(t, h, longLock)
	due := earlyDue(h)
	longPollSeesEarlierWork(t, h, pollWork, due, func() {
		require.NoError(t, h.Provider.AbandonWorkItem(t.Context(), held.LockToken, due, false))
	})
}

// A long poll returns an instance whose holder, while the poll waits,
// renews its long lock for a short time, once that short lock expires.
func longPollWakesWhenRenewShortensLock(t T, h *Harness) {
	if !h.LongPolling {
		t.Skipf("short-polling provider: it does not wait for work")
	}
	enqueueOrch(t, h, startItem("lp-renewed"))
	held := mustFetchOrch(t, h, longLock)
	due := earlyDue(h)
	r := longPollSeesEarlierWork(t, h, pollOrch, due, func() {
		require.NoError(t, h.Provider.RenewOrchestrationItemLock(t.Context(), held.LockToken, due))
	})
	require.Equal(t, "lp-renewed", r.orch.Instance)
	require.NotEqual(t, held.LockToken, r.orch.LockToken)
}

// As longPollWakesWhenRenewShortensLock, for the worker queue.
func longPollWorkItemWakesWhenRenewShortensLock(t T, h *Harness) {
	if !h.LongPolling {
		t.Skipf("short-polling provider: it does not wait for work")
	}
	enqueueWorker(t, h, activityItem("lp-renewed", 1))
	held := mustFetchWork(t, h, longLock)
	due := earlyDue(h)
	r := longPollSeesEarlierWork(t, h, pollWork, due, func() {
		require.NoError(t, h.Provider.RenewWorkItemLock(t.Context(), held.LockToken, due))
	})
	require.NotEqual(t, held.LockToken, r.work.LockToken)
}

// A long poll of another session owner returns a session's item once the
// session's owner, while the poll waits, renews its long lease for a short
// time and that lease lapses.
func longPollWorkItemWakesWhenSessionRenewShortensLease(t T, h *Harness) {
	if !h.LongPolling {
		t.Skipf("short-polling provider: it does not wait for work")
	}
	item := func(id uint64) duroxide.ActivityExecuteItem {
		a := activityItem("lp-session", id)
		a.SessionID = ptr("lp-s")
		return a
	}
	enqueueWorker(t, h, item(1))
	first, err := h.Provider.FetchWorkItem(t.Context(), longLock, 0, &duroxide.SessionFetchConfig{OwnerID: "holder", LockTimeout: longLock}, duroxide.FilterDefaultOnly())
	require.NoError(t, err)
	require.NotNil(t, first, "the holder must claim the session")
	ackWork(t, h, first.LockToken, completedItem("lp-session", 1, "done"))
	enqueueWorker(t, h, item(2))

	pollOther := func(ctx context.Context, h *Harness, pollTimeout time.Duration) <-chan polled {
		ch := make(chan polled, 1)
		go func() {
			start := h.Now()
			w, err := h.Provider.FetchWorkItem(ctx, longLock, pollTimeout, &duroxide.SessionFetchConfig{OwnerID: "other", LockTimeout: longLock}, duroxide.FilterDefaultOnly())
			ch <- polled{work: w, err: err, elapsed: h.Now().Sub(start)}
		}()
		return ch
	}
	due := earlyDue(h)
	r := longPollSeesEarlierWork(t, h, pollOther, due, func() {
		n, err := h.Provider.RenewSessionLock(t.Context(), []string{"holder"}, due, longLock)
		require.NoError(t, err)
		require.Equal(t, 1, n, "the holder's active session must be renewed")
	})
	require.Equal(t, item(2), r.work.Item)
}
