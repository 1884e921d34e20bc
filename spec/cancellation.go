package spec

import (
	"fmt"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// cancellationCases: the worker queue serves activities whatever their
// orchestration's state, an orchestration ack cancels activities by deleting
// their worker rows ("lock stealing"), and a worker whose row is gone sees
// its renew and ack fail.
func cancellationCases() []Case {
	return []Case{
		{"cancellation", "fetch_returns_running_state_for_active_orchestration", cancellationFetchRunning, Required},
		{"cancellation", "fetch_returns_terminal_state_when_orchestration_completed", cancellationFetchCompleted, Required},
		{"cancellation", "fetch_returns_terminal_state_when_orchestration_failed", cancellationFetchFailed, Required},
		{"cancellation", "fetch_returns_terminal_state_when_orchestration_continued_as_new", cancellationFetchContinuedAsNew, Required},
		{"cancellation", "fetch_returns_missing_state_when_instance_deleted", cancellationFetchMissing, Required},
		{"cancellation", "renew_returns_running_when_orchestration_active", cancellationRenewRunning, Required},
		{"cancellation", "renew_returns_terminal_when_orchestration_completed", cancellationRenewTerminal, Required},
		{"cancellation", "renew_returns_missing_when_instance_deleted", cancellationRenewMissing, Required},
		{"cancellation", "ack_work_item_none_deletes_without_enqueue", cancellationAckNoneDeletes, Required},
		{"cancellation", "cancelled_activities_deleted_from_worker_queue", cancellationDeletedFromWorkerQueue, Required},
		{"cancellation", "ack_work_item_fails_when_entry_deleted", cancellationAckFailsWhenDeleted, Required},
		{"cancellation", "renew_fails_when_entry_deleted", cancellationRenewFailsWhenDeleted, Required},
		{"cancellation", "cancelling_nonexistent_activities_is_idempotent", cancellationNonexistentIdempotent, Required},
		{"cancellation", "batch_cancellation_deletes_multiple_activities", cancellationBatch, Required},
		{"cancellation", "same_activity_in_worker_items_and_cancelled_is_noop", cancellationScheduleAndCancel, Required},
		{"cancellation", "orphan_activity_after_instance_force_deletion", cancellationOrphanAfterForceDelete, Required},
		// Not in duroxide:
		{"cancellation", "cancel_locked_activity_invalidates_worker_token", cancellationLockedActivity, Required},
		{"cancellation", "cancellation_matches_full_activity_identity", cancellationFullIdentity, Required},
		{"cancellation", "cancellation_ignores_tag_and_session", cancellationIgnoresTagAndSession, Required},
		{"cancellation", "failed_ack_does_not_cancel_activities", cancellationFailedAckKeepsActivities, Required},
		{"cancellation", "cancellation_keeps_completion_that_raced_it", cancellationKeepsRacedCompletion, Required},
	}
}

// cancellationStartedEvent is the OrchestrationStarted (version "1.0") that
// duroxide's cancellation cases ack as event 1.
func cancellationStartedEvent(instance string) duroxide.Event {
	return startedEvent(instance, duroxide.InitialEventID, "1.0")
}

// cancellationActivity is activityItem with a name.
func cancellationActivity(instance string, id uint64, name string) duroxide.ActivityExecuteItem {
	a := activityItem(instance, id)
	a.Name = name
	return a
}

// cancellationID is the identity of activity id of execution 1.
func cancellationID(instance string, id uint64) duroxide.ScheduledActivityIdentifier {
	return duroxide.ScheduledActivityIdentifier{Instance: instance, ExecutionID: duroxide.InitialExecutionID, ActivityID: id}
}

// cancellationNameStatus is the metadata most duroxide cancellation cases
// ack with: a name but no version (so no instance record), and a status.
func cancellationNameStatus(status duroxide.ExecutionStatus, output *string) duroxide.ExecutionMetadata {
	return duroxide.ExecutionMetadata{OrchestrationName: ptr(testOrch), Status: status, Output: output}
}

// cancellationStart enqueues a start for instance, fetches it and acks
// execution 1 with delta, worker items and metadata.
func cancellationStart(t T, h *Harness, instance string, delta []duroxide.Event, workers []duroxide.WorkItem, md duroxide.ExecutionMetadata) {
	t.Helper()
	enqueueOrch(t, h, startItem(instance))
	item := fetchInstance(t, h, instance)
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: delta,
		WorkerItems:  workers,
		Metadata:     md,
	})
}

// cancellationTurn runs one turn of instance triggered by an ExternalRaised
// and acks it with a (execution 1).
func cancellationTurn(t T, h *Harness, instance string, a duroxide.OrchestrationAck) {
	t.Helper()
	item := raiseAndFetch(t, h, instance, "Trigger")
	a.ExecutionID = duroxide.InitialExecutionID
	ack(t, h, item.LockToken, a)
}

// cancellationRequireExecution checks, through the management API when the
// provider has one, the status and output stored for execution 1.
func cancellationRequireExecution(t T, h *Harness, instance string, status duroxide.ExecutionStatus, output *string) {
	t.Helper()
	admin := h.Provider.AsManagementCapability()
	if admin == nil {
		t.Logf("provider has no management capability: execution status not checked")
		return
	}
	info, err := admin.GetExecutionInfo(t.Context(), instance, duroxide.InitialExecutionID)
	require.NoError(t, err, "get_execution_info(%q, 1)", instance)
	require.Equal(t, status, info.Status, "status of execution 1")
	require.Equal(t, output, info.Output, "output of execution 1")
}

// cancellationRequireNoInstance checks, through the management API when the
// provider has one, that instance has no instance record.
func cancellationRequireNoInstance(t T, h *Harness, instance string) {
	t.Helper()
	admin := h.Provider.AsManagementCapability()
	if admin == nil {
		t.Logf("provider has no management capability: instance absence not checked")
		return
	}
	requireNoInstance(t, admin, instance, "get_instance_info(%q) of a missing instance must fail", instance)
}

// cancellationRequireOnlyStart enqueues a StartOrchestration for instance
// and requires the next orchestration batch to be the instance's and to hold
// that start only. It makes "nothing else was enqueued for instance"
// observable for instances that were never started, whose lone completions a
// fetch skips.
func cancellationRequireOnlyStart(t T, h *Harness, instance string) {
	t.Helper()
	start := startItem(instance)
	enqueueOrch(t, h, start)
	item := fetchInstance(t, h, instance)
	require.Equal(t, []duroxide.WorkItem{start}, item.Messages, "no other message may be queued for %q", instance)
}

// cancellationRequireServed acks a first turn of instance that schedules
// activity 1, with end (if not nil) as event 2 and status/output as
// metadata, then requires the worker queue to serve that activity and,
// stronger than duroxide (which only checks the fetch), the execution to be
// stored with status and output.
func cancellationRequireServed(t T, h *Harness, instance string, end duroxide.EventKind, status duroxide.ExecutionStatus, output *string) {
	t.Helper()
	act := activityItem(instance, 1)
	delta := []duroxide.Event{cancellationStartedEvent(instance)}
	if end != nil {
		delta = append(delta, event(instance, 2, end))
	}
	cancellationStart(t, h, instance, delta, []duroxide.WorkItem{act}, cancellationNameStatus(status, output))

	w := mustFetchWork(t, h, longLock)
	require.Equal(t, duroxide.WorkItem(act), w.Item, "the worker queue must serve the scheduled activity")
	cancellationRequireExecution(t, h, instance, status, output)
}

// The worker queue serves an activity of a running orchestration.
func cancellationFetchRunning(t T, h *Harness) {
	cancellationRequireServed(t, h, "inst-running", nil, duroxide.StatusRunning, nil)
}

// The worker queue serves an activity scheduled by the same ack that
// completes its orchestration: the provider does not look at execution state.
func cancellationFetchCompleted(t T, h *Harness) {
	cancellationRequireServed(t, h, "inst-completed", duroxide.OrchestrationCompleted{Output: "done"},
		duroxide.StatusCompleted, ptr("done"))
}

// The worker queue serves an activity scheduled by the same ack that fails
// its orchestration.
func cancellationFetchFailed(t T, h *Harness) {
	failed := duroxide.OrchestrationFailed{Details: duroxide.Application{
		Kind: duroxide.AppOrchestrationFailed{}, Message: "boom",
	}}
	// Stronger than duroxide: the execution is Failed with no output.
	cancellationRequireServed(t, h, "inst-failed", failed, duroxide.StatusFailed, nil)
}

// The worker queue serves an activity scheduled by the same ack that
// continues its orchestration as new.
func cancellationFetchContinuedAsNew(t T, h *Harness) {
	const inst = "inst-can"
	// Stronger than duroxide: the execution is ContinuedAsNew with the new
	// input as output, and the provider created no execution 2 on its own.
	cancellationRequireServed(t, h, inst, duroxide.OrchestrationContinuedAsNew{Input: "new-input"},
		duroxide.StatusContinuedAsNew, ptr("new-input"))
	if admin := h.Provider.AsManagementCapability(); admin != nil {
		require.Equal(t, []uint64{1}, listExecutions(t, admin, inst), "only the runtime's ack creates execution 2")
	}
}

// The worker queue serves an activity whose instance does not exist.
func cancellationFetchMissing(t T, h *Harness) {
	const inst = "inst-missing"
	act := activityItem(inst, 1)
	enqueueWorker(t, h, act)

	w := mustFetchWork(t, h, longLock)
	// Stronger than duroxide: the fetched item is the enqueued activity, and
	// its instance really does not exist.
	require.Equal(t, duroxide.WorkItem(act), w.Item)
	cancellationRequireNoInstance(t, h, inst)
}

// A worker lock on an activity of a running orchestration can be renewed.
func cancellationRenewRunning(t T, h *Harness) {
	const inst = "inst-renew-run"
	cancellationStart(t, h, inst, []duroxide.Event{cancellationStartedEvent(inst)},
		[]duroxide.WorkItem{activityItem(inst, 1)}, cancellationNameStatus(duroxide.StatusRunning, nil))
	w := mustFetchWork(t, h, longLock)

	require.NoError(t, h.Provider.RenewWorkItemLock(t.Context(), w.LockToken, longLock), "renew_work_item_lock")
	// Stronger than duroxide: the execution is Running, and the renewed lock
	// still acks (with its completion).
	cancellationRequireExecution(t, h, inst, duroxide.StatusRunning, nil)
	require.NoError(t, h.Provider.AckWorkItem(t.Context(), w.LockToken, completedItem(inst, 1, "done")),
		"ack_work_item after renewal")
}

// Renewing a worker lock does not look at orchestration state: it succeeds
// after the orchestration completed.
func cancellationRenewTerminal(t T, h *Harness) {
	const inst = "inst-renew-term"
	cancellationStart(t, h, inst, []duroxide.Event{cancellationStartedEvent(inst)},
		[]duroxide.WorkItem{activityItem(inst, 1)}, cancellationNameStatus(duroxide.StatusRunning, nil))
	w := mustFetchWork(t, h, longLock)

	// Complete the orchestration in a second turn; this metadata has no name.
	cancellationTurn(t, h, inst, duroxide.OrchestrationAck{
		HistoryDelta: []duroxide.Event{event(inst, 2, duroxide.OrchestrationCompleted{Output: "done"})},
		Metadata:     duroxide.ExecutionMetadata{Status: duroxide.StatusCompleted, Output: ptr("done")},
	})

	require.NoError(t, h.Provider.RenewWorkItemLock(t.Context(), w.LockToken, longLock), "renew_work_item_lock")

	// Stronger than duroxide: the execution really is Completed, and the
	// activity's completion for it is still accepted and delivered (the
	// runtime, not the provider, discards completions of finished
	// executions).
	cancellationRequireExecution(t, h, inst, duroxide.StatusCompleted, ptr("done"))
	completion := completedItem(inst, 1, "late")
	require.NoError(t, h.Provider.AckWorkItem(t.Context(), w.LockToken, completion), "ack_work_item after renewal")
	item := fetchInstance(t, h, inst)
	require.Equal(t, []duroxide.WorkItem{completion}, item.Messages)
}

// Renewing a worker lock does not need the activity's instance to exist.
func cancellationRenewMissing(t T, h *Harness) {
	const inst = "inst-renew-missing"
	enqueueWorker(t, h, activityItem(inst, 1))
	w := mustFetchWork(t, h, longLock)

	require.NoError(t, h.Provider.RenewWorkItemLock(t.Context(), w.LockToken, longLock), "renew_work_item_lock")
	// Stronger than duroxide: the instance really is missing, and the renewed
	// lock still acks.
	cancellationRequireNoInstance(t, h, inst)
	require.NoError(t, h.Provider.AckWorkItem(t.Context(), w.LockToken, nil), "ack_work_item after renewal")
}

// ack_work_item with no completion deletes the item and enqueues nothing.
func cancellationAckNoneDeletes(t T, h *Harness) {
	const inst = "inst-ack-none"
	enqueueWorker(t, h, activityItem(inst, 1))
	w := mustFetchWork(t, h, h.LockTimeout)
	ackWork(t, h, w.LockToken, nil)

	require.Nil(t, fetchWork(t, h, h.LockTimeout), "worker queue must be empty")
	requireNoOrch(t, h, "no completion may be enqueued")

	// Stronger than duroxide: the item was deleted, not left locked: it does
	// not come back once its lock would have expired.
	h.Sleep(t, h.LockTimeout+h.Slack)
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "an item acked with no completion must never be redelivered")
	// Stronger than duroxide: the orchestrator check above is vacuous for an
	// instance that was never started (a fetch skips its lone completion), so
	// start it: its batch must hold the start only.
	cancellationRequireOnlyStart(t, h, inst)
}

// Cancelled activities are deleted from the worker queue by the ack, whether
// or not they were fetched before; others stay.
func cancellationDeletedFromWorkerQueue(t T, h *Harness) {
	const inst = "inst-cancel-delete"
	cancellationStart(t, h, inst, []duroxide.Event{cancellationStartedEvent(inst)}, []duroxide.WorkItem{
		cancellationActivity(inst, 1, "Activity1"),
		cancellationActivity(inst, 2, "Activity2"),
		cancellationActivity(inst, 3, "Activity3"),
	}, cancellationNameStatus(duroxide.StatusRunning, nil))

	w := mustFetchWork(t, h, longLock)
	abandonWork(t, h, w.LockToken, false)

	cancellationTurn(t, h, inst, duroxide.OrchestrationAck{
		CancelledActivities: []duroxide.ScheduledActivityIdentifier{cancellationID(inst, 1), cancellationID(inst, 2)},
	})

	remaining := mustFetchWork(t, h, h.LockTimeout)
	require.IsType(t, duroxide.ActivityExecuteItem{}, remaining.Item)
	require.Equal(t, uint64(3), remaining.Item.(duroxide.ActivityExecuteItem).ID, "only activity 3 may remain")
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "activities 1 and 2 must be gone")

	// Stronger than duroxide: the cancelled rows are deleted, not hidden:
	// after every lock could have expired only activity 3 comes back.
	h.Sleep(t, h.LockTimeout+h.Slack)
	again := mustFetchWork(t, h, longLock)
	require.Equal(t, duroxide.WorkItem(cancellationActivity(inst, 3, "Activity3")), again.Item)
	require.Nil(t, fetchWork(t, h, longLock), "cancelled activities must never come back")
}

// ack_work_item with a token whose row is gone fails permanently.
func cancellationAckFailsWhenDeleted(t T, h *Harness) {
	const inst = "inst-ack-stolen"
	enqueueWorker(t, h, activityItem(inst, 1))
	w := mustFetchWork(t, h, longLock)
	ackWork(t, h, w.LockToken, nil)

	err := h.Provider.AckWorkItem(t.Context(), w.LockToken, completedItem(inst, 1, "done"))
	require.Error(t, err, "ack_work_item must fail when the entry is gone")
	requirePermanent(t, err)
	// Stronger than duroxide: the error is ErrInvalidLockToken, and the
	// failed ack enqueued no completion.
	require.ErrorIs(t, err, duroxide.ErrInvalidLockToken)
	cancellationRequireOnlyStart(t, h, inst)
}

// renew_work_item_lock with a token whose row is gone fails: the worker's
// cancellation signal.
func cancellationRenewFailsWhenDeleted(t T, h *Harness) {
	const inst = "inst-renew-stolen"
	enqueueWorker(t, h, activityItem(inst, 1))
	w := mustFetchWork(t, h, longLock)
	ackWork(t, h, w.LockToken, nil)

	err := h.Provider.RenewWorkItemLock(t.Context(), w.LockToken, longLock)
	require.Error(t, err, "renew_work_item_lock must fail when the entry is gone")
	// Stronger than duroxide: the failure is the permanent
	// ErrInvalidLockToken.
	requireInvalidToken(t, err)
}

// Cancelling activities that do not exist is not an error.
func cancellationNonexistentIdempotent(t T, h *Harness) {
	const inst = "inst-cancel-idempotent"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)
	cancel := []duroxide.ScheduledActivityIdentifier{cancellationID(inst, 999), cancellationID(inst, 1)}
	err := h.Provider.AckOrchestrationItem(t.Context(), item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:         duroxide.InitialExecutionID,
		HistoryDelta:        []duroxide.Event{cancellationStartedEvent(inst)},
		Metadata:            duroxide.ExecutionMetadata{OrchestrationName: ptr(testOrch)},
		CancelledActivities: cancel,
	})
	require.NoError(t, err, "cancelling non-existent activities must not fail the ack")

	// Stronger than duroxide: the rest of the ack was applied, and cancelling
	// the same identities again (now really idempotent: activity 1 was
	// scheduled and cancelled in between) succeeds too.
	require.Equal(t, []uint64{1}, eventIDs(read(t, h, inst)))
	cancellationTurn(t, h, inst, duroxide.OrchestrationAck{
		WorkerItems:         []duroxide.WorkItem{activityItem(inst, 1)},
		CancelledActivities: cancel,
	})
	cancellationTurn(t, h, inst, duroxide.OrchestrationAck{CancelledActivities: cancel})
	require.Nil(t, fetchWork(t, h, longLock), "nothing may be left in the worker queue")
}

// One ack cancels several activities.
func cancellationBatch(t T, h *Harness) {
	const inst = "inst-batch-cancel"
	var acts []duroxide.WorkItem
	var cancel []duroxide.ScheduledActivityIdentifier
	for i := range uint64(5) {
		acts = append(acts, cancellationActivity(inst, i+1, fmt.Sprintf("Activity%d", i+1)))
		cancel = append(cancel, cancellationID(inst, i+1))
	}
	cancellationStart(t, h, inst, []duroxide.Event{cancellationStartedEvent(inst)}, acts,
		cancellationNameStatus(duroxide.StatusRunning, nil))

	// Stronger than duroxide: the five activities really were queued before
	// the cancellation (duroxide would pass if they never were). Fetch them
	// all, then put them back.
	tokens := make([]string, len(acts))
	for i := range acts {
		w := mustFetchWork(t, h, longLock)
		require.Equal(t, acts[i], w.Item)
		tokens[i] = w.LockToken
	}
	for _, tok := range tokens {
		abandonWork(t, h, tok, true)
	}

	cancellationTurn(t, h, inst, duroxide.OrchestrationAck{CancelledActivities: cancel})
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "all five activities must be cancelled")
}

// When one ack both schedules and cancels an activity, the activity ends up
// absent: worker items are inserted before cancellations are applied.
func cancellationScheduleAndCancel(t T, h *Harness) {
	const inst = "inst-schedule-then-cancel"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)
	normal := cancellationActivity(inst, 3, "NormalActivity")
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:         duroxide.InitialExecutionID,
		HistoryDelta:        []duroxide.Event{cancellationStartedEvent(inst)},
		WorkerItems:         []duroxide.WorkItem{cancellationActivity(inst, 2, "DroppedActivity"), normal},
		Metadata:            cancellationNameStatus(duroxide.StatusRunning, nil),
		CancelledActivities: []duroxide.ScheduledActivityIdentifier{cancellationID(inst, 2)},
	})

	w := mustFetchWork(t, h, longLock)
	require.IsType(t, duroxide.ActivityExecuteItem{}, w.Item)
	got := w.Item.(duroxide.ActivityExecuteItem)
	require.Equal(t, uint64(3), got.ID, "only the normal activity may remain")
	require.Equal(t, "NormalActivity", got.Name)
	// Stronger than duroxide: the remaining activity is unchanged.
	require.Equal(t, duroxide.WorkItem(normal), w.Item)
	ackWork(t, h, w.LockToken, nil)
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "the scheduled-then-cancelled activity must not be queued")
}

// Force-deleting an instance with a queued activity leaves the worker queue
// usable, and a completion for the deleted instance is harmless.
func cancellationOrphanAfterForceDelete(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "inst-orphan-activity"
	act := activityItem(inst, 1)
	act.Input = "test-input"
	cancellationStart(t, h, inst, []duroxide.Event{startedEvent(inst, 1, testVersion)}, []duroxide.WorkItem{act},
		duroxide.ExecutionMetadata{OrchestrationName: ptr(testOrch), OrchestrationVersion: ptr(testVersion), Status: duroxide.StatusRunning})

	res := deleteInstance(t, admin, inst, true)
	require.Positive(t, res.InstancesDeleted, "force delete must remove the instance")
	_, err := admin.GetInstanceInfo(t.Context(), inst)
	require.Error(t, err, "the instance must be gone")
	// Stronger than duroxide: the error is the permanent ErrNotFound, and the
	// deletion counted the queued activity.
	requirePermanentIs(t, err, duroxide.ErrNotFound)
	require.GreaterOrEqual(t, res.QueueMessagesDeleted, uint64(1), "the queued activity must be counted")

	w, err := h.Provider.FetchWorkItem(t.Context(), longLock, 0, nil, duroxide.FilterDefaultOnly())
	require.NoError(t, err, "fetch_work_item after the force delete")
	// Stronger than duroxide (which accepts the activity surviving): deleting
	// an instance deletes its worker items
	// ([duroxide.ProviderAdmin.DeleteInstancesAtomic]), so the
	// orphan activity is not handed out.
	require.Nil(t, w, "deleting an instance must delete its queued activities")

	// duroxide acks the orphan activity with a completion and requires that
	// to succeed. Here the activity is gone, so enqueue the completion a
	// worker that ran it would have sent: it must be accepted and must not
	// resurrect the instance.
	require.NoError(t, h.Provider.EnqueueForOrchestrator(t.Context(), completedItem(inst, 1, "orphan-result"), 0),
		"enqueueing a completion for a deleted instance")
	requireNoOrch(t, h, "a lone completion must not start a deleted instance")
	_, err = admin.GetInstanceInfo(t.Context(), inst)
	require.ErrorIs(t, err, duroxide.ErrNotFound, "an orphan completion must not recreate the instance")
	require.Empty(t, read(t, h, inst), "the deleted instance's history must be gone")
}

// A cancelled activity that a worker holds locked is deleted anyway; the
// worker's renew, ack and abandon then fail with ErrInvalidLockToken, and
// its completion is not delivered ([duroxide.OrchestrationAck]'s cancelled
// activities, [duroxide.Provider.AckWorkItem]).
func cancellationLockedActivity(t T, h *Harness) {
	const inst = "inst-steal"
	cancellationStart(t, h, inst, []duroxide.Event{startedEvent(inst, 1, testVersion)},
		[]duroxide.WorkItem{activityItem(inst, 1), activityItem(inst, 2)}, nameVersion(testOrch, testVersion))
	held := mustFetchWork(t, h, h.LockTimeout)
	require.Equal(t, uint64(1), held.Item.(duroxide.ActivityExecuteItem).ID)

	cancellationTurn(t, h, inst, duroxide.OrchestrationAck{
		CancelledActivities: []duroxide.ScheduledActivityIdentifier{cancellationID(inst, 1)},
	})

	// The lock has not expired: every failure below is due to the deletion.
	err := h.Provider.RenewWorkItemLock(t.Context(), held.LockToken, h.LockTimeout)
	requireInvalidToken(t, err, "renewing a cancelled activity must fail")
	err = h.Provider.AckWorkItem(t.Context(), held.LockToken, completedItem(inst, 1, "too-late"))
	requireInvalidToken(t, err, "acking a cancelled activity with a completion must fail")
	err = h.Provider.AckWorkItem(t.Context(), held.LockToken, nil)
	requireInvalidToken(t, err, "acking a cancelled activity with no completion must fail")
	err = h.Provider.AbandonWorkItem(t.Context(), held.LockToken, 0, false)
	requireInvalidToken(t, err, "abandoning a cancelled activity must fail")

	// The failed ack delivered nothing: the next turn holds only its trigger.
	item := raiseAndFetch(t, h, inst, "Trigger")
	require.Equal(t, []duroxide.WorkItem{externalItem(inst, "Trigger")}, item.Messages)
	ackEmpty(t, h, item.LockToken)

	// Activity 2 is untouched; activity 1 never comes back.
	other := mustFetchWork(t, h, longLock)
	require.Equal(t, duroxide.WorkItem(activityItem(inst, 2)), other.Item)
	require.NoError(t, h.Provider.AckWorkItem(t.Context(), other.LockToken, nil), "ack_work_item of activity 2")
	h.Sleep(t, h.LockTimeout+h.Slack)
	require.Nil(t, fetchWork(t, h, longLock), "the cancelled activity must be gone, not just locked")
}

// Cancellation deletes exactly the rows with the listed (instance,
// execution, activity id) identity: the same activity id in another
// execution or another instance stays.
func cancellationFullIdentity(t T, h *Harness) {
	const instA, instB = "inst-ident-a", "inst-ident-b"
	cancellationStart(t, h, instA, []duroxide.Event{startedEvent(instA, 1, testVersion)},
		[]duroxide.WorkItem{activityItem(instA, 1), activityItem(instA, 2)}, nameVersion(testOrch, testVersion))
	otherExec := activityItem(instA, 1)
	otherExec.ExecutionID = 2
	enqueueWorker(t, h, otherExec)
	enqueueWorker(t, h, activityItem(instB, 1))

	cancellationTurn(t, h, instA, duroxide.OrchestrationAck{
		CancelledActivities: []duroxide.ScheduledActivityIdentifier{cancellationID(instA, 1)},
	})

	want := []duroxide.WorkItem{activityItem(instA, 2), otherExec, activityItem(instB, 1)}
	for _, w := range want {
		got := mustFetchWork(t, h, longLock)
		require.Equal(t, w, got.Item, "only (inst-ident-a, 1, 1) may be cancelled")
	}
	require.Nil(t, fetchWork(t, h, longLock), "the cancelled activity must be gone")
}

// Cancellation matches by identity only: tagged and session-bound
// activities are deleted like plain ones.
func cancellationIgnoresTagAndSession(t T, h *Harness) {
	const inst = "inst-cancel-routed"
	tagged := activityItem(inst, 1)
	tagged.Tag = ptr("gpu")
	sessioned := activityItem(inst, 2)
	sessioned.SessionID = ptr("session-1")
	both := activityItem(inst, 3)
	both.Tag = ptr("gpu")
	both.SessionID = ptr("session-2")
	plain := activityItem(inst, 4)
	cancellationStart(t, h, inst, []duroxide.Event{startedEvent(inst, 1, testVersion)},
		[]duroxide.WorkItem{tagged, sessioned, both, plain}, nameVersion(testOrch, testVersion))

	cancellationTurn(t, h, inst, duroxide.OrchestrationAck{
		CancelledActivities: []duroxide.ScheduledActivityIdentifier{
			cancellationID(inst, 1), cancellationID(inst, 2), cancellationID(inst, 3),
		},
	})

	fetchAny := func() *duroxide.LockedWorkItem {
		t.Helper()
		w, err := h.Provider.FetchWorkItem(t.Context(), longLock, 0,
			&duroxide.SessionFetchConfig{OwnerID: "worker-1", LockTimeout: longLock}, duroxide.FilterAny())
		require.NoError(t, err, "fetch_work_item(any tag, with sessions)")
		return w
	}
	w := fetchAny()
	require.NotNil(t, w, "the plain activity must remain")
	require.Equal(t, duroxide.WorkItem(plain), w.Item)
	require.Nil(t, fetchAny(), "tagged and session activities must be cancelled too")
}

// An ack that fails cancels nothing; retrying it with the same token does
// ([duroxide.Provider.AckOrchestrationItem] is all or nothing and a failed
// ack keeps the lock).
func cancellationFailedAckKeepsActivities(t T, h *Harness) {
	const inst = "inst-cancel-rollback"
	act := activityItem(inst, 1)
	cancellationStart(t, h, inst, []duroxide.Event{startedEvent(inst, 1, testVersion)},
		[]duroxide.WorkItem{act}, nameVersion(testOrch, testVersion))

	item := raiseAndFetch(t, h, inst, "Trigger")
	cancel := []duroxide.ScheduledActivityIdentifier{cancellationID(inst, 1)}
	err := h.Provider.AckOrchestrationItem(t.Context(), item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:         duroxide.InitialExecutionID,
		HistoryDelta:        []duroxide.Event{startedEvent(inst, 1, testVersion)}, // duplicate event id
		CancelledActivities: cancel,
	})
	requirePermanentIs(t, err, duroxide.ErrDuplicateEvent, "an ack repeating event id 1 must fail")

	w := mustFetchWork(t, h, longLock)
	require.Equal(t, duroxide.WorkItem(act), w.Item, "a failed ack must not cancel the activity")
	abandonWork(t, h, w.LockToken, true)

	ack(t, h, item.LockToken, duroxide.OrchestrationAck{ExecutionID: duroxide.InitialExecutionID, CancelledActivities: cancel})
	require.Nil(t, fetchWork(t, h, longLock), "the retried ack must cancel the activity")
}

// Cancellation removes worker rows only: the completion of an activity that
// finished while the cancelling turn was running is kept for the next turn
// (only the messages of the fetched batch are removed by the ack; one that
// arrived during the turn stays queued).
func cancellationKeepsRacedCompletion(t T, h *Harness) {
	const inst = "inst-cancel-race"
	cancellationStart(t, h, inst, []duroxide.Event{startedEvent(inst, 1, testVersion)},
		[]duroxide.WorkItem{activityItem(inst, 1)}, nameVersion(testOrch, testVersion))
	w := mustFetchWork(t, h, longLock)

	turn := raiseAndFetch(t, h, inst, "Trigger")
	completion := completedItem(inst, 1, "finished-first")
	require.NoError(t, h.Provider.AckWorkItem(t.Context(), w.LockToken, completion), "ack_work_item before the cancel")
	ack(t, h, turn.LockToken, duroxide.OrchestrationAck{
		ExecutionID:         duroxide.InitialExecutionID,
		CancelledActivities: []duroxide.ScheduledActivityIdentifier{cancellationID(inst, 1)},
	})

	next := fetchInstance(t, h, inst)
	require.Equal(t, []duroxide.WorkItem{completion}, next.Messages, "the raced completion must survive the cancellation")
}
