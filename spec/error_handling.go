package spec

import (
	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// errorHandlingCases: bad tokens, duplicate event ids, expired locks, unknown
// instances and undecodable history are reported as the contract says, and
// leave the store unchanged.
func errorHandlingCases() []Case {
	return []Case{
		{"error_handling", "invalid_lock_token_on_ack", invalidLockTokenOnAck, Required},
		{"error_handling", "duplicate_event_id_rejection", duplicateEventIDRejection, Required},
		{"error_handling", "missing_instance_metadata", missingInstanceMetadata, Required},
		{"error_handling", "corrupted_serialization_data", corruptedSerializationData, Required},
		{"error_handling", "lock_expiration_during_ack", lockExpirationDuringAck, Required},
	}
}

// An ack with a token that was never issued fails with a permanent
// "Invalid lock token" error.
func invalidLockTokenOnAck(t T, h *Harness) {
	const inst = "instance-A"
	// Stronger than duroxide: the ack carries history, a worker item, an
	// orchestrator item and instance metadata (duroxide sends an empty ack),
	// and none of it may be applied.
	err := h.Provider.AckOrchestrationItem(t.Context(), "invalid-token", duroxide.OrchestrationAck{
		ExecutionID:       duroxide.InitialExecutionID,
		HistoryDelta:      []duroxide.Event{startedEvent(inst, duroxide.InitialEventID, testVersion)},
		WorkerItems:       []duroxide.WorkItem{activityItem(inst, 1)},
		OrchestratorItems: []duroxide.WorkItem{externalItem(inst, "ev")},
		Metadata:          nameVersion(testOrch, testVersion),
	})
	// Stronger than duroxide: the error is the permanent ErrInvalidLockToken,
	// not just any error with the right words.
	requireInvalidTokenText(t, err, "ack with a never-issued token must fail")

	require.Empty(t, read(t, h, inst), "a rejected ack must not append history")
	require.Nil(t, fetchWork(t, h, longLock), "a rejected ack must not enqueue worker items")
	requireNoOrch(t, h, "a rejected ack must not enqueue orchestrator items")
}

// An ack whose history delta repeats a stored event id fails, and the stored
// history is unchanged.
func duplicateEventIDRejection(t T, h *Harness) {
	const inst = "instance-A"
	createStarted(t, h, inst)

	enqueueOrch(t, h, startItem(inst))
	item2 := mustFetchOrch(t, h, longLock)
	err := h.Provider.AckOrchestrationItem(t.Context(), item2.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{event(inst, 1, duroxide.ActivityScheduled{Name: "Activity", Input: "{}"})},
	})
	// Stronger than duroxide: the failure is a permanent ErrDuplicateEvent.
	requirePermanentIs(t, err, duroxide.ErrDuplicateEvent, "ack repeating event id 1 must fail")

	history := read(t, h, inst)
	require.Len(t, history, 1, "a rejected ack must not change history")
	started, ok := history[0].Kind.(duroxide.OrchestrationStarted)
	require.True(t, ok, "event 1 must still be OrchestrationStarted, got %T", history[0].Kind)
	// Stronger than duroxide: the stored event is the original, not overwritten.
	require.Equal(t, testOrch, started.Name)

	// Stronger than duroxide: the lock survives the failed ack and the same
	// token can ack again (the runtime records the failure this way).
	requireNoOrch(t, h, "a failed ack must keep the instance locked")
	ack(t, h, item2.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{event(inst, 2, duroxide.ActivityScheduled{Name: "Activity", Input: "{}"})},
	})
	require.Equal(t, []uint64{1, 2}, eventIDs(read(t, h, inst)))
}

// Reading an instance that does not exist returns an empty history.
func missingInstanceMetadata(t T, h *Harness) {
	// Stronger than duroxide: the read must succeed (duroxide also accepts an
	// error), for the latest execution and for execution 1.
	require.Empty(t, read(t, h, "non-existent-instance"))
	events, err := h.Provider.ReadWithExecution(t.Context(), "non-existent-instance", duroxide.InitialExecutionID)
	require.NoError(t, err, "read_with_execution of an unknown instance")
	require.Empty(t, events)
	requireNoOrch(t, h, "reading must not create work")

	// Stronger than duroxide: an instance whose first ack carried no metadata
	// (so it has no instance record) still has readable history, and a later
	// batch holding only an ExternalRaised is fetched with the name and
	// execution taken from that history.
	const inst = "instance-no-metadata"
	createStarted(t, h, inst)
	require.Equal(t, []uint64{1}, eventIDs(read(t, h, inst)))

	next := raiseAndFetch(t, h, inst, "ev")
	require.Equal(t, testOrch, next.OrchestrationName, "name must come from the stored OrchestrationStarted")
	require.Equal(t, duroxide.InitialExecutionID, next.ExecutionID)
	require.Equal(t, []uint64{1}, eventIDs(next.History))
	require.Len(t, next.Messages, 1)
	require.IsType(t, duroxide.ExternalRaisedItem{}, next.Messages[0])
}

// A fetch never fails on what it finds: on an empty store it reports no work,
// and an instance whose stored history cannot be decoded is still returned,
// locked, with HistoryError set.
func corruptedSerializationData(t T, h *Harness) {
	// duroxide checks only that a fetch on an empty store does not fail.
	// Stronger than duroxide: it must also report no work.
	require.Nil(t, fetchOrch(t, h, longLock), "an empty store has no work")

	// Stronger than duroxide: corrupt data for real (duroxide corrupts nothing
	// despite the name).
	hooks := h.RequireHooks(t)
	const inst = "instance-corrupt"
	createInstance(t, h, inst)
	enqueueOrch(t, h, externalItem(inst, "ev"))
	require.NoError(t, hooks.CorruptInstanceHistory(t.Context(), inst), "corrupt history")

	item := fetchInstance(t, h, inst)
	require.NotEmpty(t, item.HistoryError, "undecodable history must be reported in HistoryError")
	require.Empty(t, item.History, "history must be empty, not partial, when HistoryError is set")
	require.NotNil(t, item.KVSnapshot, "KVSnapshot must be empty, not nil, when HistoryError is set")
	require.Empty(t, item.KVSnapshot)
	require.Len(t, item.Messages, 1, "the batch must still be delivered")
	require.IsType(t, duroxide.ExternalRaisedItem{}, item.Messages[0])
	require.Equal(t, uint32(1), item.AttemptCount)

	requireNoOrch(t, h, "the item with HistoryError must be locked")
	attempts, err := hooks.MaxAttemptCount(t.Context(), inst)
	require.NoError(t, err, "max attempt count")
	require.Equal(t, uint32(1), attempts, "the fetch's attempt increment must be committed")

	_, err = h.Provider.Read(t.Context(), inst)
	requirePermanentIs(t, err, duroxide.ErrCorruptData, "read of undecodable history must fail")
}

// An ack after the lock expired fails, even when nobody re-fetched the
// instance, and changes nothing.
func lockExpirationDuringAck(t T, h *Harness) {
	const inst = "instance-A"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, h.LockTimeout)

	h.Sleep(t, h.LockTimeout+h.Slack)

	err := h.Provider.AckOrchestrationItem(t.Context(), item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)},
	})
	// Stronger than duroxide: the error is permanent (ErrLockExpired, or
	// ErrInvalidLockToken at the required level; see
	// lock_expiration/expired_lock_errors_are_lock_expired).
	requireTokenRefused(t, err, "ack after lock expiry must fail")

	// Stronger than duroxide: the failed ack appended nothing and consumed no
	// message; the batch is delivered again as a second attempt.
	require.Empty(t, read(t, h, inst), "an expired ack must not append history")
	again := fetchInstance(t, h, inst)
	require.NotEqual(t, item.LockToken, again.LockToken)
	require.Len(t, again.Messages, 1)
	require.IsType(t, duroxide.StartOrchestrationItem{}, again.Messages[0])
	require.Equal(t, uint32(2), again.AttemptCount)
}
