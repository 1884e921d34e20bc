package fakeclock_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide/fakeclock"
)

var epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// requireFired asserts that tm has delivered exactly the value want and
// nothing else is buffered.
func requireFired(t *testing.T, tm fakeclock.Timer, want time.Time) {
	t.Helper()
	select {
	case got := <-tm.C():
		require.True(t, want.Equal(got), "timer delivered %v, want %v", got, want)
	default:
		require.Fail(t, "timer has not fired", "want value %v", want)
	}
	requireNotFired(t, tm)
}

// requireNotFired asserts that tm has nothing to deliver.
func requireNotFired(t *testing.T, tm fakeclock.Timer) {
	t.Helper()
	select {
	case got := <-tm.C():
		require.Fail(t, "unexpected timer value", "got %v", got)
	default:
	}
}

func TestNewFakeStartTime(t *testing.T) {
	tests := []struct {
		name  string
		start time.Time
	}{
		{"fixed UTC", epoch},
		{"non-UTC location", time.Date(2030, 6, 1, 12, 0, 0, 123, time.FixedZone("X", 3600))},
		{"zero time", time.Time{}},
		{"wall clock with monotonic reading", time.Now()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fakeclock.NewFake(tc.start)
			require.True(t, tc.start.Equal(f.Now()))
			require.Equal(t, tc.start.Round(0), f.Now(), "monotonic reading must be stripped")
			require.Zero(t, f.Waiters())
		})
	}
}

func TestZeroValueFake(t *testing.T) {
	var f fakeclock.Fake
	require.True(t, f.Now().Equal(time.Unix(0, 0)), "a zero Fake starts at the Unix epoch")
	tm := f.NewTimer(time.Second)
	require.Equal(t, 1, f.Waiters())
	require.NoError(t, f.BlockUntilWaiters(context.Background(), 1))
	require.NoError(t, f.Advance(time.Second))
	requireFired(t, tm, time.Unix(0, 0).UTC().Add(time.Second))
}

func TestAdvanceFiresDueTimersInDeadlineOrder(t *testing.T) {
	f := fakeclock.NewFake(epoch)
	durations := []time.Duration{3 * time.Second, time.Second, 2 * time.Second, 10 * time.Second, 2 * time.Second}

	type firing struct {
		id  int
		now time.Time
	}
	var order []firing
	timers := make([]fakeclock.Timer, len(durations))
	for i, d := range durations {
		timers[i] = f.NewTimer(d)
		f.AfterFunc(d, func() { order = append(order, firing{i, f.Now()}) })
	}
	require.Equal(t, 2*len(durations), f.Waiters())

	require.NoError(t, f.Advance(5*time.Second))
	require.Equal(t, epoch.Add(5*time.Second), f.Now())

	// Deadline order, ties in creation order, and Now equals each deadline
	// while that timer fires.
	require.Equal(t, []firing{
		{1, epoch.Add(time.Second)},
		{2, epoch.Add(2 * time.Second)},
		{4, epoch.Add(2 * time.Second)},
		{0, epoch.Add(3 * time.Second)},
	}, order)
	for i, d := range durations {
		if d <= 5*time.Second {
			requireFired(t, timers[i], epoch.Add(d))
		} else {
			requireNotFired(t, timers[i])
		}
	}
	require.Equal(t, 2, f.Waiters(), "the 10s channel timer and callback stay pending")

	require.NoError(t, f.Advance(5*time.Second))
	requireFired(t, timers[3], epoch.Add(10*time.Second))
	require.Len(t, order, 5)
	require.Zero(t, f.Waiters())
}

func TestTimerNotYetDue(t *testing.T) {
	f := fakeclock.NewFake(epoch)
	tm := f.NewTimer(time.Minute)

	require.NoError(t, f.Advance(time.Minute-time.Nanosecond))
	requireNotFired(t, tm)
	require.Equal(t, 1, f.Waiters())

	require.NoError(t, f.Advance(time.Nanosecond))
	requireFired(t, tm, epoch.Add(time.Minute))
}

func TestAdvanceZeroFiresNothing(t *testing.T) {
	f := fakeclock.NewFake(epoch)
	tm := f.NewTimer(time.Nanosecond)
	require.NoError(t, f.Advance(0))
	requireNotFired(t, tm)
	require.Equal(t, epoch, f.Now())
}

func TestNonPositiveDurationFiresAtOnce(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Nanosecond, -time.Hour} {
		t.Run(d.String(), func(t *testing.T) {
			f := fakeclock.NewFake(epoch)
			tm := f.NewTimer(d)
			require.Zero(t, f.Waiters())
			requireFired(t, tm, epoch)
			require.False(t, tm.Stop(), "a fired timer cannot be stopped")

			called := false
			af := f.AfterFunc(d, func() { called = true })
			require.True(t, called, "callback runs before AfterFunc returns")
			require.Nil(t, af.C())
			require.False(t, af.Stop())
			require.Equal(t, epoch, f.Now())
		})
	}
}

func TestStop(t *testing.T) {
	tests := []struct {
		name     string
		advance  time.Duration // before the first Stop
		wantStop bool
	}{
		{"before firing", 0, true},
		{"just before deadline", time.Second - time.Nanosecond, true},
		{"after firing", time.Second, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fakeclock.NewFake(epoch)
			tm := f.NewTimer(time.Second)
			require.NoError(t, f.Advance(tc.advance))

			require.Equal(t, tc.wantStop, tm.Stop())
			require.False(t, tm.Stop(), "second Stop always returns false")
			require.Zero(t, f.Waiters())

			require.NoError(t, f.Advance(time.Hour))
			if tc.wantStop {
				requireNotFired(t, tm)
			} else {
				requireFired(t, tm, epoch.Add(time.Second))
			}
		})
	}
}

func TestStopAfterFunc(t *testing.T) {
	f := fakeclock.NewFake(epoch)
	called := false
	tm := f.AfterFunc(time.Second, func() { called = true })
	require.True(t, tm.Stop())
	require.NoError(t, f.Advance(time.Hour))
	require.False(t, called)
}

func TestWaiters(t *testing.T) {
	f := fakeclock.NewFake(epoch)
	require.Zero(t, f.Waiters())

	a := f.NewTimer(time.Second)
	b := f.NewTimer(2 * time.Second)
	f.NewTimer(3 * time.Second)
	f.NewTimer(0) // fires at once, never pending
	require.Equal(t, 3, f.Waiters())

	require.True(t, b.Stop())
	require.Equal(t, 2, f.Waiters())

	require.NoError(t, f.Advance(time.Second))
	requireFired(t, a, epoch.Add(time.Second))
	require.Equal(t, 1, f.Waiters())

	require.NoError(t, f.Advance(time.Hour))
	require.Zero(t, f.Waiters())
}

func TestBlockUntilWaitersReturnsWhenTimerCreated(t *testing.T) {
	f := fakeclock.NewFake(epoch)
	const n = 3
	start := make(chan struct{})
	got := make(chan time.Time, n)
	for i := range n {
		go func() {
			<-start
			got <- <-f.NewTimer(time.Duration(i+1) * time.Second).C()
		}()
	}

	blocked := make(chan error, 1)
	go func() { blocked <- f.BlockUntilWaiters(context.Background(), n) }()
	close(start)
	require.NoError(t, <-blocked)
	require.Equal(t, n, f.Waiters())

	require.NoError(t, f.Advance(n*time.Second))
	seen := map[time.Time]bool{}
	for range n {
		seen[<-got] = true
	}
	require.Equal(t, map[time.Time]bool{
		epoch.Add(time.Second):     true,
		epoch.Add(2 * time.Second): true,
		epoch.Add(3 * time.Second): true,
	}, seen)
}

func TestBlockUntilWaitersAlreadySatisfied(t *testing.T) {
	f := fakeclock.NewFake(epoch)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // must not matter when the condition already holds
	require.NoError(t, f.BlockUntilWaiters(ctx, 0))
	require.NoError(t, f.BlockUntilWaiters(ctx, -1))
	f.NewTimer(time.Second)
	require.NoError(t, f.BlockUntilWaiters(ctx, 1))
}

func TestBlockUntilWaitersContextEnds(t *testing.T) {
	f := fakeclock.NewFake(epoch)
	f.NewTimer(time.Second)

	// The one real wait in these tests: a short context deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := f.BlockUntilWaiters(ctx, 2)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, f.BlockUntilWaiters(ctx, 2), context.Canceled)
}

func TestMovingBackwardsFails(t *testing.T) {
	tests := []struct {
		name string
		move func(f *fakeclock.Fake) error
	}{
		{"Advance(-1ns)", func(f *fakeclock.Fake) error { return f.Advance(-1) }},
		{"Advance(-1h)", func(f *fakeclock.Fake) error { return f.Advance(-time.Hour) }},
		{"AdvanceTo(past)", func(f *fakeclock.Fake) error { return f.AdvanceTo(epoch.Add(-time.Nanosecond)) }},
		{"AdvanceTo(zero time)", func(f *fakeclock.Fake) error { return f.AdvanceTo(time.Time{}) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fakeclock.NewFake(epoch)
			tm := f.NewTimer(time.Nanosecond)

			err := tc.move(f)
			require.ErrorIs(t, err, fakeclock.ErrBackwards)
			require.Equal(t, epoch, f.Now())
			require.Equal(t, 1, f.Waiters())
			requireNotFired(t, tm)
		})
	}
}

func TestAdvanceTo(t *testing.T) {
	f := fakeclock.NewFake(epoch)
	a := f.NewTimer(time.Second)
	b := f.NewTimer(time.Hour)

	require.NoError(t, f.AdvanceTo(epoch), "AdvanceTo(Now) is allowed")
	requireNotFired(t, a)

	target := epoch.Add(time.Minute)
	require.NoError(t, f.AdvanceTo(target))
	require.Equal(t, target, f.Now())
	requireFired(t, a, epoch.Add(time.Second))
	requireNotFired(t, b)
}

func TestAdvanceToNextTimer(t *testing.T) {
	f := fakeclock.NewFake(epoch)

	d, ok := f.AdvanceToNextTimer()
	require.False(t, ok)
	require.Zero(t, d)
	require.Equal(t, epoch, f.Now())

	a := f.NewTimer(5 * time.Second)
	b := f.NewTimer(2 * time.Second)
	c := f.NewTimer(2 * time.Second)
	stopped := f.NewTimer(time.Second)
	require.True(t, stopped.Stop())

	d, ok = f.AdvanceToNextTimer()
	require.True(t, ok)
	require.Equal(t, 2*time.Second, d)
	require.Equal(t, epoch.Add(2*time.Second), f.Now())
	requireFired(t, b, epoch.Add(2*time.Second))
	requireFired(t, c, epoch.Add(2*time.Second))
	requireNotFired(t, a)

	d, ok = f.AdvanceToNextTimer()
	require.True(t, ok)
	require.Equal(t, 3*time.Second, d)
	requireFired(t, a, epoch.Add(5*time.Second))

	d, ok = f.AdvanceToNextTimer()
	require.False(t, ok)
	require.Zero(t, d)
	require.Equal(t, epoch.Add(5*time.Second), f.Now())
}

// A callback that schedules a new timer due before the target of the
// running Advance sees it fire within the same call, at its own deadline.
func TestTimerCreatedDuringAdvanceFiresInSameCall(t *testing.T) {
	f := fakeclock.NewFake(epoch)
	var fired []time.Time
	var tick func()
	tick = func() {
		fired = append(fired, f.Now())
		f.AfterFunc(time.Second, tick)
	}
	f.AfterFunc(time.Second, tick)

	require.NoError(t, f.Advance(3*time.Second+time.Millisecond))
	require.Equal(t, []time.Time{
		epoch.Add(time.Second),
		epoch.Add(2 * time.Second),
		epoch.Add(3 * time.Second),
	}, fired)
	require.Equal(t, 1, f.Waiters())
	require.Equal(t, epoch.Add(3*time.Second+time.Millisecond), f.Now())
}

func TestUnreadChannelDoesNotBlockClock(t *testing.T) {
	f := fakeclock.NewFake(epoch)
	tm := f.NewTimer(time.Second)
	require.NoError(t, f.Advance(time.Second))
	// Nobody has received; further advances must not block.
	require.NoError(t, f.Advance(time.Hour))
	requireFired(t, tm, epoch.Add(time.Second))
}

func TestConcurrentUse(t *testing.T) {
	f := fakeclock.NewFake(epoch)
	const (
		workers   = 8
		perWorker = 200
		advancers = 3
	)

	type result struct {
		tm       fakeclock.Timer
		earliest time.Time // lower bound of the deadline
		latest   time.Time // upper bound of the deadline
		stopped  bool
	}
	results := make([][]result, workers)

	var advWG, workWG sync.WaitGroup
	stopAdv := make(chan struct{})
	advErrs := make(chan error, advancers)
	for range advancers {
		advWG.Go(func() {
			for {
				select {
				case <-stopAdv:
					return
				default:
				}
				if err := f.Advance(time.Millisecond); err != nil {
					advErrs <- err
					return
				}
				f.AdvanceToNextTimer()
				_ = f.Waiters()
			}
		})
	}
	for w := range workers {
		workWG.Go(func() {
			for i := range perWorker {
				d := time.Duration(i%7) * time.Millisecond // includes 0
				before := f.Now()
				tm := f.NewTimer(d)
				after := f.Now()
				r := result{tm: tm, earliest: before.Add(d), latest: after.Add(d)}
				if i%3 == 0 {
					r.stopped = tm.Stop()
				}
				results[w] = append(results[w], r)
			}
		})
	}
	workWG.Wait()
	close(stopAdv)
	advWG.Wait()
	close(advErrs)
	for err := range advErrs {
		require.NoError(t, err)
	}

	require.NoError(t, f.Advance(time.Hour))
	require.Zero(t, f.Waiters())
	for _, rs := range results {
		for _, r := range rs {
			if r.stopped {
				requireNotFired(t, r.tm)
				continue
			}
			select {
			case got := <-r.tm.C():
				require.False(t, got.Before(r.earliest), "fired at %v, before earliest deadline %v", got, r.earliest)
				require.False(t, got.After(r.latest), "fired at %v, after latest deadline %v", got, r.latest)
			default:
				require.Fail(t, "timer neither stopped nor fired")
			}
			requireNotFired(t, r.tm)
		}
	}
}

func TestRealSmoke(t *testing.T) {
	c := fakeclock.Real()

	before := time.Now()
	now := c.Now()
	require.False(t, now.Before(before))

	tm := c.NewTimer(time.Millisecond)
	select {
	case got := <-tm.C():
		require.False(t, got.Before(before.Add(time.Millisecond)))
	case <-time.After(10 * time.Second):
		require.Fail(t, "real 1ms timer did not fire")
	}
	require.False(t, tm.Stop())

	long := c.NewTimer(time.Hour)
	require.True(t, long.Stop())
	require.False(t, long.Stop())
}

// TestRealIsMonotonic checks the properties that follow from Real reading
// the monotonic clock (a wall-clock step cannot be provoked from a test):
// successive readings never decrease by their wall-clock value, which is
// what a provider stores (UnixNano), and a deadline stripped of its
// monotonic reading, as a provider rebuilds it with time.Unix, is measured
// against the same clock.
func TestRealIsMonotonic(t *testing.T) {
	c := fakeclock.Real()
	prev := c.Now().UnixNano()
	for range 10000 {
		n := c.Now().UnixNano()
		require.GreaterOrEqual(t, n, prev)
		prev = n
	}
	start := c.Now()
	deadline := time.Unix(0, start.Add(5*time.Millisecond).UnixNano())
	tm := c.NewTimerAt(deadline)
	select {
	case <-tm.C():
		require.GreaterOrEqual(t, c.Now().UnixNano(), deadline.UnixNano(), "fired before its deadline on the clock")
	case <-time.After(10 * time.Second):
		require.Fail(t, "real timer at a deadline 5ms away did not fire")
	}
	past := c.NewTimerAt(time.Unix(0, start.UnixNano()))
	select {
	case <-past.C():
	case <-time.After(10 * time.Second):
		require.Fail(t, "real timer at a past deadline did not fire")
	}
}

func TestErrBackwardsIsSentinel(t *testing.T) {
	f := fakeclock.NewFake(epoch)
	err := f.Advance(-time.Second)
	require.Error(t, err)
	require.NotSame(t, fakeclock.ErrBackwards, err, "error carries context")
	require.True(t, errors.Is(err, fakeclock.ErrBackwards))
}

func TestNewTimerAt(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		deadline  time.Duration // relative to start
		advance   time.Duration
		wantFired bool
		wantValue time.Duration // relative to start
	}{
		{"past deadline fires at once", -time.Second, 0, true, 0},
		{"deadline now fires at once", 0, 0, true, 0},
		{"future deadline not yet due", 2 * time.Second, time.Second, false, 0},
		{"future deadline fires with its deadline", 2 * time.Second, 3 * time.Second, true, 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fakeclock.NewFake(start)
			tm := f.NewTimerAt(start.Add(tc.deadline))
			require.NoError(t, f.Advance(tc.advance))
			select {
			case v := <-tm.C():
				require.True(t, tc.wantFired, "timer fired early")
				require.Equal(t, start.Add(tc.wantValue), v)
			default:
				require.False(t, tc.wantFired, "timer did not fire")
				require.Equal(t, 1, f.Waiters())
			}
		})
	}
}

func TestNewTimerAtNoComputeThenArmRace(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := fakeclock.NewFake(start)
	deadline := f.Now().Add(5 * time.Second) // computed before the clock moves
	require.NoError(t, f.Advance(3*time.Second))
	tm := f.NewTimerAt(deadline)
	require.NoError(t, f.Advance(2*time.Second))
	select {
	case v := <-tm.C():
		require.Equal(t, deadline, v)
	default:
		t.Fatal("timer armed at an absolute deadline fired late")
	}
}

func TestStepBack(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := fakeclock.NewFake(start)
	tm := f.NewTimer(time.Second)
	require.NoError(t, f.StepBack(time.Minute))
	require.Equal(t, start.Add(-time.Minute), f.Now())
	require.ErrorIs(t, f.StepBack(-time.Second), fakeclock.ErrBackwards)
	require.Equal(t, start.Add(-time.Minute), f.Now(), "a refused step changes nothing")
	require.NoError(t, f.Advance(time.Minute))
	select {
	case <-tm.C():
		t.Fatal("timer fired before its deadline came round again")
	default:
	}
	require.NoError(t, f.Advance(time.Second))
	require.Equal(t, start.Add(time.Second), <-tm.C())
}

// TestZeroFakeStartsAtUnixEpoch covers the zero Fake: ready to use, at the
// Unix epoch, which every nanosecond-based consumer can represent (the year
// 1 of time.Time's zero value cannot be: UnixNano is undefined there).
func TestZeroFakeStartsAtUnixEpoch(t *testing.T) {
	epoch := time.Unix(0, 0).UTC()
	tests := []struct {
		name string
		use  func(t *testing.T, f *fakeclock.Fake) time.Time // returns what Now must equal
	}{
		{"Now", func(*testing.T, *fakeclock.Fake) time.Time { return epoch }},
		{"Advance", func(t *testing.T, f *fakeclock.Fake) time.Time {
			require.NoError(t, f.Advance(time.Second))
			return epoch.Add(time.Second)
		}},
		{"AdvanceTo", func(t *testing.T, f *fakeclock.Fake) time.Time {
			require.NoError(t, f.AdvanceTo(epoch.Add(time.Minute)))
			return epoch.Add(time.Minute)
		}},
		{"NewTimer then AdvanceToNextTimer", func(t *testing.T, f *fakeclock.Fake) time.Time {
			f.NewTimer(time.Hour)
			d, ok := f.AdvanceToNextTimer()
			require.True(t, ok)
			require.Equal(t, time.Hour, d)
			return epoch.Add(time.Hour)
		}},
		{"NewTimerAt", func(t *testing.T, f *fakeclock.Fake) time.Time {
			tm := f.NewTimerAt(epoch.Add(time.Second))
			require.Equal(t, 1, f.Waiters(), "a deadline after the epoch is pending")
			require.NoError(t, f.Advance(time.Second))
			requireFired(t, tm, epoch.Add(time.Second))
			return epoch.Add(time.Second)
		}},
		{"StepBack", func(t *testing.T, f *fakeclock.Fake) time.Time {
			require.NoError(t, f.StepBack(time.Second))
			return epoch.Add(-time.Second)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f fakeclock.Fake
			want := tc.use(t, &f)
			require.True(t, want.Equal(f.Now()), "Now = %v, want %v", f.Now(), want)
		})
	}
}

// recordingTB records Fatalf calls; it does not stop the goroutine.
type recordingTB struct{ fatal []string }

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.fatal = append(r.fatal, fmt.Sprintf(format, args...))
}

func TestMustAdvance(t *testing.T) {
	tests := []struct {
		name      string
		d         time.Duration
		wantFatal bool
		wantNow   time.Time
	}{
		{"forward", time.Minute, false, epoch.Add(time.Minute)},
		{"zero", 0, false, epoch},
		{"backwards fails the test and changes nothing", -time.Second, true, epoch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fakeclock.NewFake(epoch)
			tm := f.NewTimer(time.Minute)
			var tb recordingTB
			f.MustAdvance(&tb, tc.d)
			require.Equal(t, tc.wantNow, f.Now())
			if tc.wantFatal {
				require.Len(t, tb.fatal, 1)
				require.Contains(t, tb.fatal[0], "backwards")
			} else {
				require.Empty(t, tb.fatal)
			}
			if tc.d == time.Minute {
				requireFired(t, tm, epoch.Add(time.Minute))
			}
		})
	}
	f := fakeclock.NewFake(epoch)
	f.MustAdvance(t, time.Second) // *testing.T is a TB
	require.Equal(t, epoch.Add(time.Second), f.Now())
}

func TestString(t *testing.T) {
	f := fakeclock.NewFake(epoch)
	require.Equal(t, "fake clock at 2024-01-02T03:04:05Z, no pending timer", f.String())
	f.NewTimer(time.Minute)
	require.Equal(t, "fake clock at 2024-01-02T03:04:05Z, 1 pending timer, due in 1m0s", f.String())
	f.NewTimer(time.Second)
	require.Equal(t, "fake clock at 2024-01-02T03:04:05Z, 2 pending timers, the first due in 1s", fmt.Sprint(f))
}
