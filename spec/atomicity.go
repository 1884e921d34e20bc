package spec

import (
	"sync"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// atomicityCases: ack_orchestration_item is all-or-nothing, and a lock token
// acks at most once.
func atomicityCases() []Case {
	return []Case{
		{"atomicity", "atomicity_failure_rollback", atomicityFailureRollback, Required},
		{"atomicity", "multi_operation_atomic_ack", multiOperationAtomicAck, Required},
		{"atomicity", "lock_released_only_on_successful_ack", lockReleasedOnlyOnSuccessfulAck, Required},
		{"atomicity", "concurrent_ack_prevention", concurrentAckPrevention, Required},
	}
}

// A failed ack (duplicate event id) changes nothing: history, queue and lock
// stay as they were.
func atomicityFailureRollback(t T, h *Harness) {
	const inst = "instance-A"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)
	// Empty metadata: the history must still be stored and readable.
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)},
	})
	require.Len(t, read(t, h, inst), 1)

	enqueueOrch(t, h, startItem(inst))
	item2 := mustFetchOrch(t, h, longLock)
	// Stronger than duroxide: the redelivery carries a new token.
	require.NotEqual(t, item.LockToken, item2.LockToken)

	err := h.Provider.AckOrchestrationItem(t.Context(), item2.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)},
		WorkerItems:  []duroxide.WorkItem{activityItem(inst, 7)},
	})
	requirePermanentIs(t, err, duroxide.ErrDuplicateEvent, "ack with a duplicate event id must fail")

	require.Len(t, read(t, h, inst), 1, "failed ack must not append history")
	requireNoOrch(t, h, "failed ack must keep the lock and the batch")
	// Stronger than duroxide: the worker item of the failed ack was not
	// enqueued, and the lock is still usable by its token.
	require.Nil(t, fetchWork(t, h, longLock), "failed ack must not enqueue worker items")
	ack(t, h, item2.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: []duroxide.Event{event(inst, 2, duroxide.OrchestrationCompleted{Output: "done"})},
	})
	require.Equal(t, []uint64{1, 2}, eventIDs(read(t, h, inst)))
}

// One ack applies history, worker items and orchestrator items together; a
// TimerFired with a past fire_at_ms is visible at once and batch order is
// enqueue order.
func multiOperationAtomicAck(t T, h *Harness) {
	const inst = "instance-A"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)
	delta := []duroxide.Event{startedEvent(inst, 1, testVersion)}
	for i, name := range []string{"Activity1", "Activity2", "Activity3"} {
		delta = append(delta, event(inst, uint64(i+2), duroxide.ActivityScheduled{Name: name, Input: "input" + name[len(name)-1:]}))
	}
	delta = append(delta, event(inst, 5, duroxide.TimerCreated{FireAtMs: 1234567890}))
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: delta,
		// The ids do not match the event ids; the provider must not care.
		WorkerItems: []duroxide.WorkItem{activityItem(inst, 1), activityItem(inst, 2), activityItem(inst, 3)},
		OrchestratorItems: []duroxide.WorkItem{
			duroxide.TimerFiredItem{Instance: inst, ExecutionID: 1, ID: 1, FireAtMs: 1234567890},
			duroxide.ExternalRaisedItem{Instance: inst, Name: "TestEvent", Data: "test-data"},
		},
	})

	require.Equal(t, []uint64{1, 2, 3, 4, 5}, eventIDs(read(t, h, inst)))
	for i := range 3 {
		w := mustFetchWork(t, h, longLock)
		// Stronger than duroxide: worker items come back in ack order.
		a, ok := w.Item.(duroxide.ActivityExecuteItem)
		require.True(t, ok, "worker item %d is a %T, want ActivityExecute", i, w.Item)
		require.Equal(t, uint64(i+1), a.ID)
	}
	require.Nil(t, fetchWork(t, h, longLock))

	next := mustFetchOrch(t, h, longLock)
	require.Len(t, next.Messages, 2)
	require.IsType(t, duroxide.TimerFiredItem{}, next.Messages[0])
	require.IsType(t, duroxide.ExternalRaisedItem{}, next.Messages[1])
}

// The lock is released by a successful ack only: a failed ack leaves it held
// until it expires.
func lockReleasedOnlyOnSuccessfulAck(t T, h *Harness) {
	const inst = "instance-A"
	startLocked(t, h, inst)

	err := h.Provider.AckOrchestrationItem(t.Context(), "invalid-lock-token", duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 2, testVersion)},
	})
	requireInvalidToken(t, err)
	require.Nil(t, fetchOrch(t, h, h.LockTimeout), "a failed ack must not release the lock")

	h.Sleep(t, h.LockTimeout+h.Slack)
	again := mustFetchOrch(t, h, h.LockTimeout)
	require.Equal(t, inst, again.Instance)
	require.Len(t, read(t, h, inst), 0, "the failed ack must not have appended history")
}

// Of two concurrent acks with one token exactly one succeeds.
func concurrentAckPrevention(t T, h *Harness) {
	const inst = "instance-A"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)

	const racers = 2
	errs := make([]error, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = h.Provider.AckOrchestrationItem(t.Context(), item.LockToken, duroxide.OrchestrationAck{
				ExecutionID:  1,
				HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)},
			})
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		}
	}
	require.Equal(t, 1, ok, "exactly one concurrent ack must succeed: %v", errs)
	require.Len(t, read(t, h, inst), 1)
}
