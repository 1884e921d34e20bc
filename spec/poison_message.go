package spec

import (
	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// poisonMessageCases: attempt counts, the input of poison detection, are kept
// per message, counted per delivery and undone by abandon with ignoreAttempt.
func poisonMessageCases() []Case {
	return []Case{
		{"poison_message", "orchestration_attempt_count_starts_at_one", orchestrationAttemptCountStartsAtOne, Required},
		{"poison_message", "orchestration_attempt_count_increments_on_refetch", orchestrationAttemptCountIncrementsOnRefetch, Required},
		{"poison_message", "worker_attempt_count_starts_at_one", workerAttemptCountStartsAtOne, Required},
		{"poison_message", "worker_attempt_count_increments_on_lock_expiry", workerAttemptCountIncrementsOnLockExpiry, Required},
		{"poison_message", "attempt_count_is_per_message", attemptCountIsPerMessage, Required},
		{"poison_message", "abandon_work_item_ignore_attempt_decrements", abandonWorkItemIgnoreAttemptDecrements, Required},
		{"poison_message", "abandon_orchestration_item_ignore_attempt_decrements", abandonOrchestrationItemIgnoreAttemptDecrements, Required},
		{"poison_message", "ignore_attempt_never_goes_negative", ignoreAttemptNeverGoesNegative, Required},
		{"poison_message", "max_attempt_count_across_message_batch", maxAttemptCountAcrossMessageBatch, Required},
	}
}

// poisonFetchOrch fetches the instance's batch with the harness lock timeout
// and requires its attempt count to be want.
func poisonFetchOrch(t T, h *Harness, instance string, want uint32, msgAndArgs ...any) *duroxide.LockedOrchestrationItem {
	t.Helper()
	item := mustFetchOrch(t, h, h.LockTimeout)
	require.Equal(t, instance, item.Instance)
	require.Equal(t, want, item.AttemptCount, msgAndArgs...)
	return item
}

// poisonFetchWork fetches a worker item with the harness lock timeout and
// requires it to be want with attempt count wantCount.
func poisonFetchWork(t T, h *Harness, want duroxide.ActivityExecuteItem, wantCount uint32, msgAndArgs ...any) *duroxide.LockedWorkItem {
	t.Helper()
	item := mustFetchWork(t, h, h.LockTimeout)
	require.Equal(t, want, item.Item, "fetched another worker item")
	require.Equal(t, wantCount, item.AttemptCount, msgAndArgs...)
	return item
}

// poisonAckWork acks a worker item with an ActivityCompleted for it.
func poisonAckWork(t T, h *Harness, token string, a duroxide.ActivityExecuteItem) {
	t.Helper()
	ackWork(t, h, token, completedItem(a.Instance, a.ID, "done"))
}

// The first delivery of an orchestration batch has attempt count 1.
func orchestrationAttemptCountStartsAtOne(t T, h *Harness) {
	const inst = "poison-test-1"
	enqueueOrch(t, h, startItem(inst))
	item := poisonFetchOrch(t, h, inst, 1, "first fetch")
	ackEmpty(t, h, item.LockToken)
	// Stronger than duroxide: an ack without events still deletes the batch.
	requireNoOrch(t, h, "the acked batch must be gone")
}

// Every redelivery of an orchestration batch after abandon adds one to its
// attempt count.
func orchestrationAttemptCountIncrementsOnRefetch(t T, h *Harness) {
	const inst = "poison-test-2"
	enqueueOrch(t, h, startItem(inst))
	tokens := map[string]bool{}
	var item *duroxide.LockedOrchestrationItem
	for want := uint32(1); want <= 3; want++ {
		if item != nil {
			abandonOrch(t, h, item.LockToken, false)
		}
		item = poisonFetchOrch(t, h, inst, want, "fetch %d", want)
		// Stronger than duroxide: every delivery is the same single message
		// under a fresh token.
		require.Equal(t, []duroxide.WorkItem{startItem(inst)}, item.Messages)
		require.False(t, tokens[item.LockToken], "lock token %q reused", item.LockToken)
		tokens[item.LockToken] = true
	}
	ackEmpty(t, h, item.LockToken)
	requireNoOrch(t, h, "the acked batch must be gone")
}

// The first delivery of a worker item has attempt count 1.
func workerAttemptCountStartsAtOne(t T, h *Harness) {
	a := activityItem("poison-test-3", 1)
	enqueueWorker(t, h, a)
	// Stronger than duroxide: the item comes back field for field.
	item := poisonFetchWork(t, h, a, 1, "first fetch")
	poisonAckWork(t, h, item.LockToken, a)
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "the acked item must be gone")
}

// A worker lock that expires counts as an attempt: the next fetch reports 2.
func workerAttemptCountIncrementsOnLockExpiry(t T, h *Harness) {
	a := activityItem("poison-test-4", 1)
	enqueueWorker(t, h, a)
	// duroxide uses a fixed 1 s lock and a 1.1 s sleep.
	first := poisonFetchWork(t, h, a, 1, "first fetch")
	h.Sleep(t, h.LockTimeout+h.Slack)
	second := poisonFetchWork(t, h, a, 2, "fetch after lock expiry")
	// Stronger than duroxide: the redelivery carries a new token.
	require.NotEqual(t, first.LockToken, second.LockToken)
	poisonAckWork(t, h, second.LockToken, a)
}

// Attempt counts belong to messages: redeliveries of one worker item do not
// change another's count.
func attemptCountIsPerMessage(t T, h *Harness) {
	a := activityItem("poison-test-5a", 1)
	a.Name = "Activity1"
	b := activityItem("poison-test-5b", 2)
	b.Name = "Activity2"
	enqueueWorker(t, h, a)
	enqueueWorker(t, h, b)

	itemA := poisonFetchWork(t, h, a, 1, "first item, first fetch")
	itemB := poisonFetchWork(t, h, b, 1, "second item, first fetch")

	// Stronger than duroxide: redeliver a twice while b is locked; b's count
	// is unaffected.
	for want := uint32(2); want <= 3; want++ {
		abandonWork(t, h, itemA.LockToken, false)
		itemA = poisonFetchWork(t, h, a, want, "first item, fetch %d", want)
	}
	abandonWork(t, h, itemB.LockToken, false)
	itemB = poisonFetchWork(t, h, b, 2, "second item's count must not include the first item's deliveries")

	poisonAckWork(t, h, itemA.LockToken, a)
	poisonAckWork(t, h, itemB.LockToken, b)
}

// abandon_work_item with ignoreAttempt undoes the fetch's increment: the next
// fetch reports the same count as the abandoned one (1, 2, 2).
func abandonWorkItemIgnoreAttemptDecrements(t T, h *Harness) {
	a := activityItem("poison-test-ignore-1", 1)
	enqueueWorker(t, h, a)
	item := poisonFetchWork(t, h, a, 1, "first fetch")
	abandonWork(t, h, item.LockToken, false)
	item = poisonFetchWork(t, h, a, 2, "second fetch after a counted abandon")
	abandonWork(t, h, item.LockToken, true)
	item = poisonFetchWork(t, h, a, 2, "third fetch after an ignored abandon")
	// Stronger than duroxide: a counted abandon after that increments again.
	abandonWork(t, h, item.LockToken, false)
	item = poisonFetchWork(t, h, a, 3, "fourth fetch after a counted abandon")
	poisonAckWork(t, h, item.LockToken, a)
}

// abandon_orchestration_item with ignoreAttempt undoes the fetch's increment:
// the next fetch reports the same count as the abandoned one (1, 2, 2).
func abandonOrchestrationItemIgnoreAttemptDecrements(t T, h *Harness) {
	const inst = "poison-test-ignore-2"
	enqueueOrch(t, h, startItem(inst))
	item := poisonFetchOrch(t, h, inst, 1, "first fetch")
	abandonOrch(t, h, item.LockToken, false)
	item = poisonFetchOrch(t, h, inst, 2, "second fetch after a counted abandon")
	abandonOrch(t, h, item.LockToken, true)
	item = poisonFetchOrch(t, h, inst, 2, "third fetch after an ignored abandon")
	// Stronger than duroxide: the batch is still the one message, and a
	// counted abandon after that increments again.
	require.Equal(t, []duroxide.WorkItem{startItem(inst)}, item.Messages)
	abandonOrch(t, h, item.LockToken, false)
	item = poisonFetchOrch(t, h, inst, 3, "fourth fetch after a counted abandon")
	ackEmpty(t, h, item.LockToken)
}

// ignoreAttempt never takes a stored attempt count below zero: repeated
// ignored abandons keep reporting 1.
func ignoreAttemptNeverGoesNegative(t T, h *Harness) {
	a := activityItem("poison-test-never-neg", 1)
	enqueueWorker(t, h, a)
	item := poisonFetchWork(t, h, a, 1, "first fetch")
	for i := 2; i <= 3; i++ {
		abandonWork(t, h, item.LockToken, true)
		item = poisonFetchWork(t, h, a, 1, "fetch %d after an ignored abandon", i)
	}
	// Stronger than duroxide: the floored count still counts up normally.
	abandonWork(t, h, item.LockToken, false)
	item = poisonFetchWork(t, h, a, 2, "fetch after a counted abandon")
	poisonAckWork(t, h, item.LockToken, a)

	// Stronger than duroxide: the same floor holds on the orchestrator queue.
	const inst = "poison-test-never-neg-orch"
	enqueueOrch(t, h, startItem(inst))
	orch := poisonFetchOrch(t, h, inst, 1, "first orchestration fetch")
	for i := 2; i <= 3; i++ {
		abandonOrch(t, h, orch.LockToken, true)
		orch = poisonFetchOrch(t, h, inst, 1, "orchestration fetch %d after an ignored abandon", i)
	}
	ackEmpty(t, h, orch.LockToken)
}

// An orchestration batch reports the maximum attempt count over its messages;
// a message that arrived during a lock starts at its own count.
func maxAttemptCountAcrossMessageBatch(t T, h *Harness) {
	const inst = "poison-batch-test"
	start := startItem(inst)
	enqueueOrch(t, h, start)
	item := poisonFetchOrch(t, h, inst, 1, "first fetch")
	require.Len(t, item.Messages, 1)
	abandonOrch(t, h, item.LockToken, false)

	item = poisonFetchOrch(t, h, inst, 2, "second fetch")
	// Stronger than duroxide: the second batch is still the one message.
	require.Equal(t, []duroxide.WorkItem{start}, item.Messages)
	late := completedItem(inst, 1, "activity result")
	enqueueOrch(t, h, late)
	abandonOrch(t, h, item.LockToken, false)

	item = mustFetchOrch(t, h, h.LockTimeout)
	require.Len(t, item.Messages, 2, "the late message joins the next batch")
	require.Equal(t, uint32(3), item.AttemptCount, "attempt count must be the batch maximum (3), not the late message's (1)")
	// Stronger than duroxide: the batch is in enqueue order, and the ack
	// deletes both messages.
	require.Equal(t, []duroxide.WorkItem{start, late}, item.Messages)
	ackEmpty(t, h, item.LockToken)
	requireNoOrch(t, h, "the acked batch must be gone")
}
