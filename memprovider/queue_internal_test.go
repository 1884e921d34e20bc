package memprovider

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
)

// White-box tests of the orchestrator queue's structure: what the package
// doc's cost table relies on.

var internalEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func internalProvider(t *testing.T) (*Provider, *fakeclock.Fake) {
	t.Helper()
	clock := fakeclock.NewFake(internalEpoch)
	return New(WithClock(clock), WithShortPolling()), clock
}

func timerItem(instance string, id uint64) duroxide.WorkItem {
	return duroxide.TimerFiredItem{Instance: instance, ExecutionID: 1, ID: id}
}

// visibleSeqs returns the sequence numbers of in's visible-message list.
func visibleSeqs(in *instance) []uint64 {
	var seqs []uint64
	for _, m := range in.msgs {
		seqs = append(seqs, m.seq)
	}
	return seqs
}

// Defect 6: an enqueue to an instance with many pending timers scanned its
// message list past every delayed message. Delayed messages must be kept
// apart from the visible ones, so that an enqueue (and the readiness check
// it makes) never visits them.
func TestDelayedMessagesAreKeptApartFromVisibleOnes(t *testing.T) {
	ctx := context.Background()
	p, _ := internalProvider(t)
	const timers = 1000
	for i := range timers {
		require.NoError(t, p.EnqueueForOrchestrator(ctx, timerItem("i", uint64(i+1)), time.Hour))
	}
	require.NoError(t, p.EnqueueForOrchestrator(ctx, duroxide.ExternalRaisedItem{Instance: "i", Name: "e"}, 0))

	in := p.instances["i"]
	require.NotNil(t, in)
	require.Len(t, in.msgs, 1, "the visible-message list holds only the visible message")
	require.Equal(t, []uint64{timers + 1}, visibleSeqs(in))
	require.Len(t, in.timers, timers, "the delayed messages are kept apart")
	for i, m := range in.timers {
		require.True(t, m.delayed())
		require.Equal(t, m, in.timers[m.slot-1], "timer %d knows its slot", i)
	}
	require.Equal(t, timers, p.orchFuture.Len())
	require.Equal(t, in.msgs[0].seq, in.readySeq)
}

// Timers promoted out of sequence order (a later-enqueued timer due first)
// are merged into the visible list in sequence order, and the instance is
// indexed by its oldest visible message.
func TestOutOfOrderPromotionKeepsVisibleMessagesInSequence(t *testing.T) {
	ctx := context.Background()
	p, clock := internalProvider(t)
	// seq 1..4: due in 4h, 3h, 2h, 1h; seq 5 visible now.
	for i := range 4 {
		require.NoError(t, p.EnqueueForOrchestrator(ctx, timerItem("i", uint64(i+1)), time.Duration(4-i)*time.Hour))
	}
	require.NoError(t, p.EnqueueForOrchestrator(ctx, duroxide.ExternalRaisedItem{Instance: "i", Name: "e"}, 0))
	in := p.instances["i"]

	clock.Advance(150 * time.Minute) // seq 3 and 4 are due
	p.mu.Lock()
	p.promoteOrch(p.now())
	p.mu.Unlock()
	require.Equal(t, []uint64{3, 4, 5}, visibleSeqs(in))
	require.Len(t, in.timers, 2)
	require.Equal(t, uint64(3), in.readySeq)

	clock.Advance(2 * time.Hour) // all due
	p.mu.Lock()
	p.promoteOrch(p.now())
	p.mu.Unlock()
	require.Equal(t, []uint64{1, 2, 3, 4, 5}, visibleSeqs(in))
	require.Empty(t, in.timers)
	require.Equal(t, uint64(1), in.readySeq)
	require.Zero(t, p.orchFuture.Len())
}

// An abandon with a delay moves the batch to the timers, and a delete
// removes the timers from the global index too.
func TestAbandonAndDeleteMoveTimers(t *testing.T) {
	ctx := context.Background()
	p, _ := internalProvider(t)
	require.NoError(t, p.EnqueueForOrchestrator(ctx, duroxide.StartOrchestrationItem{Instance: "i", Orchestration: "O", ExecutionID: 1}, 0))
	require.NoError(t, p.EnqueueForOrchestrator(ctx, timerItem("i", 9), time.Hour))
	item, err := p.FetchOrchestrationItem(ctx, time.Minute, 0, nil)
	require.NoError(t, err)
	require.NotNil(t, item)
	require.NoError(t, p.AbandonOrchestrationItem(ctx, item.LockToken, time.Minute, false))
	in := p.instances["i"]
	require.Empty(t, in.msgs)
	require.Len(t, in.timers, 2)
	require.Equal(t, 2, p.orchFuture.Len())
	require.Zero(t, in.readySeq)

	_, err = p.DeleteInstancesAtomic(ctx, []string{"i"}, true)
	require.NoError(t, err)
	require.Zero(t, p.orchFuture.Len())
	require.Zero(t, p.orchReady.Len())
}

// Dropping an instance's visible orphan messages must not forget an
// instance that still has timers: they live outside its visible list.
func TestOrphanDropKeepsAnInstanceWithTimers(t *testing.T) {
	ctx := context.Background()
	p, clock := internalProvider(t)
	require.NoError(t, p.EnqueueForOrchestrator(ctx, duroxide.QueueMessageItem{Instance: "i", Name: "q", Data: "m"}, 0))
	require.NoError(t, p.EnqueueForOrchestrator(ctx, duroxide.StartOrchestrationItem{Instance: "i", Orchestration: "O", ExecutionID: 1}, time.Hour))
	item, err := p.FetchOrchestrationItem(ctx, time.Minute, 0, nil)
	require.NoError(t, err)
	require.Nil(t, item, "the orphan QueueMessage is dropped")
	k, ok := p.orchFuture.Min()
	require.True(t, ok)
	require.Same(t, p.instances["i"], k.m.inst, "the instance with a timer is still stored")

	clock.Advance(time.Hour)
	item, err = p.FetchOrchestrationItem(ctx, time.Minute, 0, nil)
	require.NoError(t, err)
	require.NotNil(t, item)
	require.Equal(t, "i", item.Instance)
}

// Cancelled activities are removed by identity, duplicates included,
// whether the instance's identities are indexed (many items) or walked
// (few), and other instances' items with the same identity stay.
func TestCancelledActivitiesRemovedByIdentity(t *testing.T) {
	for _, items := range []int{3, actsIndexAbove + 12} {
		t.Run(strconv.Itoa(items), func(t *testing.T) {
			ctx := context.Background()
			p, _ := internalProvider(t)
			activity := func(inst string, id uint64) duroxide.ActivityExecuteItem {
				return duroxide.ActivityExecuteItem{Instance: inst, ExecutionID: 1, ID: id, Name: "A"}
			}
			for id := range uint64(items) {
				require.NoError(t, p.EnqueueForWorker(ctx, activity("i", id+1)))
			}
			require.NoError(t, p.EnqueueForWorker(ctx, activity("i", 2))) // a duplicate
			require.NoError(t, p.EnqueueForWorker(ctx, activity("other", 2)))
			require.NoError(t, p.EnqueueForOrchestrator(ctx, duroxide.StartOrchestrationItem{Instance: "i", Orchestration: "O", ExecutionID: 1}, 0))
			item, err := p.FetchOrchestrationItem(ctx, time.Minute, 0, nil)
			require.NoError(t, err)
			require.NoError(t, p.AckOrchestrationItem(ctx, item.LockToken, duroxide.OrchestrationAck{
				ExecutionID:         1,
				CancelledActivities: []duroxide.ScheduledActivityIdentifier{{Instance: "i", ExecutionID: 1, ActivityID: 2}, {Instance: "i", ExecutionID: 1, ActivityID: 3}},
			}))

			var left []uint64
			for e := p.worker.byInstance["i"].head; e != nil; e = e.instNext {
				left = append(left, e.item.ID)
			}
			require.Len(t, left, items-2)
			require.NotContains(t, left, uint64(2))
			require.NotContains(t, left, uint64(3))
			require.Equal(t, items-2, p.worker.byInstance["i"].n)
			require.Equal(t, 1, p.worker.byInstance["other"].n)
			require.Equal(t, items-1, p.worker.count)
		})
	}
}
