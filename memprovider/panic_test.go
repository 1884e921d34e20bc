package memprovider_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/memprovider"
)

// panickyClock is a Clock whose Now panics while armed: a stand-in for any
// panic inside a call (the provider's own code never panics on purpose).
type panickyClock struct {
	*fakeclock.Fake
	armed atomic.Bool
}

func (c *panickyClock) Now() time.Time {
	if c.armed.Load() {
		panic("clock failure")
	}
	return c.Fake.Now()
}

// TestPanicInsideACallLeavesTheProviderUsable covers the rule that no panic
// leaves the provider's mutex held: every call releases it by defer, so a
// panic (here from the clock) reaches the caller and later calls proceed.
func TestPanicInsideACallLeavesTheProviderUsable(t *testing.T) {
	calls := []struct {
		name string
		call func(ctx context.Context, p *memprovider.Provider) error
	}{
		{"long-polling orchestration fetch", func(ctx context.Context, p *memprovider.Provider) error {
			_, err := p.FetchOrchestrationItem(ctx, ptLock, time.Minute, nil)
			return err
		}},
		{"long-polling work fetch", func(ctx context.Context, p *memprovider.Provider) error {
			_, err := p.FetchWorkItem(ctx, ptLock, time.Minute, nil, duroxide.FilterAny())
			return err
		}},
		{"enqueue", func(ctx context.Context, p *memprovider.Provider) error {
			return p.EnqueueForOrchestrator(ctx, ptStart("x"), 0)
		}},
		{"renew session lock", func(ctx context.Context, p *memprovider.Provider) error {
			_, err := p.RenewSessionLock(ctx, []string{"o"}, time.Minute, time.Minute)
			return err
		}},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			clock := &panickyClock{Fake: fakeclock.NewFake(ptEpoch)}
			p := memprovider.New(memprovider.WithClock(clock))
			clock.armed.Store(true)
			require.PanicsWithValue(t, "clock failure", func() { _ = tc.call(t.Context(), p) })
			clock.armed.Store(false)

			type result struct {
				item *duroxide.LockedOrchestrationItem
				err  error
			}
			done := make(chan result, 1)
			go func() {
				if err := p.EnqueueForOrchestrator(t.Context(), ptStart("after"), 0); err != nil {
					done <- result{err: err}
					return
				}
				item, err := p.FetchOrchestrationItem(t.Context(), ptLock, 0, nil)
				done <- result{item, err}
			}()
			select {
			case r := <-done:
				require.NoError(t, r.err)
				require.NotNil(t, r.item)
				require.Equal(t, "after", r.item.Instance)
			case <-time.After(ptGuard):
				require.FailNow(t, "the provider is blocked: the panic left its mutex held")
			}
		})
	}
}
