package memprovider_test

import (
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
