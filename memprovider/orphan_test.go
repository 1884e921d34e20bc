package memprovider_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/memprovider"
)

// TestDroppedOrphansLeaveNoInstanceEntry covers QueueMessage batches for
// instances that cannot start (never started, or deleted): the fetch that
// drops them must not leave the instance entry their enqueue created, so a
// client mailing unknown ids cannot grow the store. Entries that still hold
// something (a delayed message, history) stay.
func TestDroppedOrphansLeaveNoInstanceEntry(t *testing.T) {
	queued := func(instance string) duroxide.QueueMessageItem {
		return duroxide.QueueMessageItem{Instance: instance, Name: "mail", Data: "{}"}
	}
	cases := []struct {
		name string
		// setup mails the orphans; want is the number of entries left
		// after a fetch dropped every visible orphan batch.
		setup func(t *testing.T, p *memprovider.Provider)
		want  int
	}{
		{
			name: "unknown ids",
			setup: func(t *testing.T, p *memprovider.Provider) {
				for i := range 100 {
					ptEnqueue(t, p, queued(fmt.Sprintf("ghost-%d", i)))
				}
			},
		},
		{
			name: "deleted instance",
			setup: func(t *testing.T, p *memprovider.Provider) {
				ptCreate(t, p, "gone")
				_, err := p.DeleteInstancesAtomic(t.Context(), []string{"gone"}, true)
				require.NoError(t, err)
				ptEnqueue(t, p, queued("gone"))
			},
		},
		{
			name: "orphans mailed by an ack",
			setup: func(t *testing.T, p *memprovider.Provider) {
				ptEnqueue(t, p, ptStart("sender"))
				item := ptMustFetch(t, p, "sender")
				ptAck(t, p, item.LockToken, duroxide.OrchestrationAck{
					ExecutionID:       1,
					HistoryDelta:      []duroxide.Event{ptStarted("sender", 1)},
					OrchestratorItems: []duroxide.WorkItem{queued("ghost-a"), queued("ghost-b")},
					Metadata:          ptMeta(),
				})
			},
			want: 1, // the sender
		},
		{
			name: "a delayed message keeps its entry",
			setup: func(t *testing.T, p *memprovider.Provider) {
				ptEnqueue(t, p, queued("later"))
				require.NoError(t, p.EnqueueForOrchestrator(t.Context(), queued("later"), time.Minute))
			},
			want: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := ptNew(t)
			tc.setup(t, p)
			require.Nil(t, ptFetch(t, p), "orphan batches are dropped, not delivered")
			require.Equal(t, tc.want, p.InstanceEntries())
		})
	}
}
