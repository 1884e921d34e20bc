package memprovider_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/memprovider"
)

// TestRenewSessionLockIdleCutoffSaturates covers an idle cutoff (now minus
// the idle timeout) below the smallest representable instant: with a clock
// before 1970 and a huge idle timeout, every active session is renewed.
func TestRenewSessionLockIdleCutoffSaturates(t *testing.T) {
	cases := []struct {
		name  string
		start time.Time
		idle  time.Duration
	}{
		{"pre-1970 clock, max idle timeout", time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64},
		{"epoch, max idle timeout", time.Unix(0, 0), math.MaxInt64},
		{"ordinary clock, max idle timeout", ptEpoch, math.MaxInt64},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := fakeclock.NewFake(tc.start)
			p := memprovider.New(memprovider.WithClock(clock))
			a := ptActivity("i", 1, 1)
			a.SessionID = ptStr("s")
			require.NoError(t, p.EnqueueForWorker(t.Context(), a))
			w, err := p.FetchWorkItem(t.Context(), ptLock, 0, &duroxide.SessionFetchConfig{OwnerID: "o", LockTimeout: ptLock}, duroxide.FilterAny())
			require.NoError(t, err)
			require.NotNil(t, w)
			require.NoError(t, clock.Advance(time.Second))
			n, err := p.RenewSessionLock(t.Context(), []string{"o"}, ptLock, tc.idle)
			require.NoError(t, err)
			require.Equal(t, 1, n, "a session active a second ago is within any idle timeout")
		})
	}
}

// TestLongPollOnZeroFakeReturns covers a provider built on a zero
// fakeclock.Fake (documented as ready to use): its time must be one the
// provider can represent, so a long poll returns once the clock passes the
// poll timeout.
func TestLongPollOnZeroFakeReturns(t *testing.T) {
	const poll = time.Minute
	clock := new(fakeclock.Fake)
	p := memprovider.New(memprovider.WithClock(clock))
	done := make(chan error, 1)
	go func() {
		_, err := p.FetchOrchestrationItem(t.Context(), ptLock, poll, nil)
		done <- err
	}()
	ctx, cancel := context.WithTimeout(t.Context(), ptGuard)
	defer cancel()
	require.NoError(t, clock.BlockUntilWaiters(ctx, 1), "the poll never waited on the clock")
	require.NoError(t, clock.Advance(poll))
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(2 * time.Second):
		require.FailNow(t, "the long poll did not return after its poll timeout passed", "clock at %v, %d timers pending", clock.Now(), clock.Waiters())
	}
}
