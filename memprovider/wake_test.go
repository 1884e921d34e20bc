package memprovider_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/memprovider"
)

// TestLongPollRearmsWhenWorkIsDueEarlier covers calls made while a long poll
// waits that make work due earlier than the instant the poll planned to wake
// at (its poll timeout, or the expiry of a long lock): the poll must wake at
// the new instant, not sleep out its old plan.
func TestLongPollRearmsWhenWorkIsDueEarlier(t *testing.T) {
	const (
		poll = 30 * time.Second // the waiter's poll timeout
		due  = time.Second      // when the call makes work due
	)
	orch := func(ctx context.Context, p *memprovider.Provider) (bool, error) {
		item, err := p.FetchOrchestrationItem(ctx, ptLock, poll, nil)
		return item != nil, err
	}
	work := func(ctx context.Context, p *memprovider.Provider) (bool, error) {
		w, err := p.FetchWorkItem(ctx, ptLock, poll, &duroxide.SessionFetchConfig{OwnerID: "waiter", LockTimeout: ptLock}, duroxide.FilterAny())
		return w != nil, err
	}
	sessionItem := func(id uint64) duroxide.ActivityExecuteItem {
		a := ptActivity("i", 1, id)
		a.SessionID = ptStr("s")
		return a
	}
	holder := &duroxide.SessionFetchConfig{OwnerID: "holder", LockTimeout: ptLock}
	fetchWork := func(t *testing.T, p *memprovider.Provider, lock time.Duration, sess *duroxide.SessionFetchConfig) *duroxide.LockedWorkItem {
		t.Helper()
		w, err := p.FetchWorkItem(t.Context(), lock, 0, sess, duroxide.FilterAny())
		require.NoError(t, err)
		require.NotNil(t, w)
		return w
	}
	cases := []struct {
		name  string
		fetch func(context.Context, *memprovider.Provider) (bool, error)
		// setup runs before the poll starts and returns the call made while
		// it waits, which must make work due after `due`.
		setup func(t *testing.T, p *memprovider.Provider) func(t *testing.T)
	}{
		{
			name: "orchestration/delayed enqueue", fetch: orch,
			setup: func(_ *testing.T, p *memprovider.Provider) func(*testing.T) {
				return func(t *testing.T) {
					require.NoError(t, p.EnqueueForOrchestrator(t.Context(), ptStart("late"), due))
				}
			},
		},
		{
			name: "orchestration/delayed abandon", fetch: orch,
			setup: func(t *testing.T, p *memprovider.Provider) func(*testing.T) {
				ptEnqueue(t, p, ptStart("held"))
				item := ptMustFetch(t, p, "held")
				return func(t *testing.T) {
					require.NoError(t, p.AbandonOrchestrationItem(t.Context(), item.LockToken, due, false))
				}
			},
		},
		{
			name: "orchestration/renew shortens the lock", fetch: orch,
			setup: func(t *testing.T, p *memprovider.Provider) func(*testing.T) {
				ptEnqueue(t, p, ptStart("held"))
				item := ptMustFetch(t, p, "held")
				return func(t *testing.T) {
					require.NoError(t, p.RenewOrchestrationItemLock(t.Context(), item.LockToken, due))
				}
			},
		},
		{
			name: "worker/delayed abandon", fetch: work,
			setup: func(t *testing.T, p *memprovider.Provider) func(*testing.T) {
				require.NoError(t, p.EnqueueForWorker(t.Context(), ptActivity("i", 1, 1)))
				w := fetchWork(t, p, ptLock, nil)
				return func(t *testing.T) {
					require.NoError(t, p.AbandonWorkItem(t.Context(), w.LockToken, due, false))
				}
			},
		},
		{
			name: "worker/renew shortens the lock", fetch: work,
			setup: func(t *testing.T, p *memprovider.Provider) func(*testing.T) {
				require.NoError(t, p.EnqueueForWorker(t.Context(), ptActivity("i", 1, 1)))
				w := fetchWork(t, p, ptLock, nil)
				return func(t *testing.T) {
					require.NoError(t, p.RenewWorkItemLock(t.Context(), w.LockToken, due))
				}
			},
		},
		{
			name: "worker/session renew shortens the lease", fetch: work,
			setup: func(t *testing.T, p *memprovider.Provider) func(*testing.T) {
				require.NoError(t, p.EnqueueForWorker(t.Context(), sessionItem(1)))
				w := fetchWork(t, p, ptLock, holder)
				require.NoError(t, p.AckWorkItem(t.Context(), w.LockToken, nil))
				require.NoError(t, p.EnqueueForWorker(t.Context(), sessionItem(2)))
				return func(t *testing.T) {
					n, err := p.RenewSessionLock(t.Context(), []string{"holder"}, due, ptLock)
					require.NoError(t, err)
					require.Equal(t, 1, n)
				}
			},
		},
		{
			// The holder's fetch creates a lock and a lease that end
			// before the waiter planned to look again.
			name: "worker/short lock taken during the wait", fetch: work,
			setup: func(t *testing.T, p *memprovider.Provider) func(*testing.T) {
				require.NoError(t, p.EnqueueForWorker(t.Context(), sessionItem(1)))
				w := fetchWork(t, p, ptLock, holder)
				require.NoError(t, p.AckWorkItem(t.Context(), w.LockToken, nil))
				require.NoError(t, p.EnqueueForWorker(t.Context(), sessionItem(2)))
				return func(t *testing.T) {
					fetchWork(t, p, due, &duroxide.SessionFetchConfig{OwnerID: "holder", LockTimeout: due})
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, clock := ptNew(t)
			during := tc.setup(t, p)
			type result struct {
				found bool
				err   error
			}
			done := make(chan result, 1)
			baseline := clock.Waiters()
			go func() {
				found, err := tc.fetch(t.Context(), p)
				done <- result{found, err}
			}()
			waitCtx, cancel := context.WithTimeout(t.Context(), ptGuard)
			defer cancel()
			require.NoError(t, clock.BlockUntilWaiters(waitCtx, baseline+1), "the poll never waited on the clock")
			start := clock.Now()
			during(t)
			require.NoError(t, clock.Advance(due))
			var r result
			select {
			case r = <-done:
			case <-time.After(5 * time.Second): // real time: only elapses when the wake-up was missed
				// Missed wake-up: release the poll so the test ends.
				require.NoError(t, clock.Advance(poll))
				r = <-done
				require.Failf(t, "missed wake-up", "the poll slept past the instant work became due (%v after the call)", due)
			}
			require.NoError(t, r.err)
			require.True(t, r.found, "the poll must return the work due after %v", due)
			require.Equal(t, due, clock.Now().Sub(start))
		})
	}
}
