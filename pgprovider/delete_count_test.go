package pgprovider_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/internal/pgharness"
	"github.com/duroxide-go/duroxide/memprovider"
	"github.com/duroxide-go/duroxide/pgprovider"
)

// TestDeleteCountsOnlyInstancesThatHeldSomething: an id whose only messages
// were QueueMessages dropped as orphans holds nothing, so
// DeleteInstancesAtomic counts no instance for it, on both providers
// (DeleteInstance refuses it: ErrNotFound, on both). Found by TestDifferential: pgprovider
// keeps the id's instance row (its lock row) after the drop and counted it
// as a deleted instance, where memprovider forgets the id.
func TestDeleteCountsOnlyInstancesThatHeldSomething(t *testing.T) {
	pool := pgprovider.TestPool(t)
	providers := []struct {
		name string
		new  func(t *testing.T, clock *fakeclock.Fake) duroxide.Provider
	}{
		{"memprovider", func(_ *testing.T, clock *fakeclock.Fake) duroxide.Provider {
			return memprovider.New(memprovider.WithClock(clock))
		}},
		{"pgprovider", func(t *testing.T, clock *fakeclock.Fake) duroxide.Provider {
			return pgharness.NewProvider(t, pool, pgprovider.WithClock(clock))
		}},
	}
	for _, pv := range providers {
		t.Run(pv.name, func(t *testing.T) {
			ctx := t.Context()
			p := pv.new(t, fakeclock.NewFake(pgharness.Start))
			require.NoError(t, p.EnqueueForOrchestrator(ctx, duroxide.QueueMessageItem{Instance: "ghost", Name: "q", Data: "m"}, 0))
			require.NoError(t, p.EnqueueForOrchestrator(ctx, duroxide.ExternalRaisedItem{Instance: "live", Name: "e"}, 0))
			item, err := p.FetchOrchestrationItem(ctx, 30*time.Second, 0, nil)
			require.NoError(t, err)
			require.Nil(t, item, "ghost's batch is dropped as orphans, live's is skipped (head-of-line)")
			depths, err := p.AsManagementCapability().GetQueueDepths(ctx)
			require.NoError(t, err)
			require.Equal(t, uint64(1), depths.OrchestratorQueue, "only live's message is left")

			res, err := p.AsManagementCapability().DeleteInstancesAtomic(ctx, []string{"ghost", "live"}, true)
			require.NoError(t, err)
			require.Equal(t, duroxide.DeleteInstanceResult{InstancesDeleted: 1, QueueMessagesDeleted: 1}, res,
				"live held a message and counts; ghost held nothing")
		})
	}
}
