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
		// Required: the contract's bad-input rule (Provider, Errors: a value
		// that is not a variant is a permanent ErrInvalidArgument and changes
		// nothing) and its ownership rule (callers' pointers are never
		// retained). A provider that stores &KeyValueSet{} keeps a history
		// that no encoder can write, so no JSON-backed provider and no Rust
		// runtime can read it, and it lets the caller rewrite history and
		// queued messages after the call.
		{"error_handling", "pointer_variants_rejected", pointerVariantsRejected, Required},
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
	// Stronger than duroxide: the token is still known (nobody re-fetched),
	// so the error is the permanent ErrLockExpired.
	requirePermanentIs(t, err, duroxide.ErrLockExpired, "ack after lock expiry must fail")

	// Stronger than duroxide: the failed ack appended nothing and consumed no
	// message; the batch is delivered again as a second attempt.
	require.Empty(t, read(t, h, inst), "an expired ack must not append history")
	again := fetchInstance(t, h, inst)
	require.NotEqual(t, item.LockToken, again.LockToken)
	require.Len(t, again.Messages, 1)
	require.IsType(t, duroxide.StartOrchestrationItem{}, again.Messages[0])
	require.Equal(t, uint32(2), again.AttemptCount)
}

// A value that satisfies a sum-type interface but is not one of its variants
// (a pointer to a variant, at the top level or nested in ErrorDetails) is
// refused on every write path with a permanent ErrInvalidArgument, and
// changes nothing: no message, no history, no key/value write, and the held
// locks stay usable.
func pointerVariantsRejected(t T, h *Harness) {
	const inst = "instance-ptr"
	ctx := t.Context()
	refused := func(err error, what string) {
		t.Helper()
		requirePermanentIs(t, err, duroxide.ErrInvalidArgument, what+" must be refused")
	}

	start := startItem(inst)
	refused(h.Provider.EnqueueForOrchestrator(ctx, &start, 0), "enqueue_for_orchestrator(&StartOrchestration)")
	refused(h.Provider.EnqueueForOrchestrator(ctx, duroxide.ActivityFailedItem{
		Instance: inst, ExecutionID: 1, ID: 2,
		Details: &duroxide.Application{Kind: duroxide.AppActivityFailed{}, Message: "m"},
	}, 0), "enqueue_for_orchestrator(ActivityFailed with &Application)")
	requireNoOrch(t, h, "a refused enqueue must not enqueue")
	activity := activityItem(inst, 2)
	refused(h.Provider.EnqueueForWorker(ctx, &activity), "enqueue_for_worker(&ActivityExecute)")
	require.Nil(t, fetchWork(t, h, longLock), "a refused enqueue must not enqueue worker items")

	createInstance(t, h, inst)
	item := raiseAndFetch(t, h, inst, "ev")
	for _, bad := range []struct {
		what string
		ack  duroxide.OrchestrationAck
	}{
		{"ack with a &KeyValueSet event", duroxide.OrchestrationAck{
			HistoryDelta: []duroxide.Event{event(inst, 2, &duroxide.KeyValueSet{Key: "k", Value: "v"})},
		}},
		{"ack with a &CustomStatusUpdated event", duroxide.OrchestrationAck{
			HistoryDelta: []duroxide.Event{event(inst, 2, &duroxide.CustomStatusUpdated{Status: ptr("s")})},
		}},
		{"ack with OrchestrationFailed{&Application}", duroxide.OrchestrationAck{
			HistoryDelta: []duroxide.Event{event(inst, 2, duroxide.OrchestrationFailed{
				Details: &duroxide.Application{Kind: duroxide.AppOrchestrationFailed{}, Message: "m"},
			})},
			Metadata: duroxide.ExecutionMetadata{Status: duroxide.StatusFailed},
		}},
		{"ack with a &ActivityExecute worker item", duroxide.OrchestrationAck{
			HistoryDelta: []duroxide.Event{event(inst, 2, duroxide.ActivityScheduled{Name: "Activity", Input: "{}"})},
			WorkerItems:  []duroxide.WorkItem{&activity},
		}},
		{"ack with a &TimerFired orchestrator item", duroxide.OrchestrationAck{
			HistoryDelta:      []duroxide.Event{event(inst, 2, duroxide.TimerCreated{FireAtMs: 1})},
			OrchestratorItems: []duroxide.WorkItem{&duroxide.TimerFiredItem{Instance: inst, ExecutionID: 1, ID: 2, FireAtMs: 1}},
		}},
	} {
		bad.ack.ExecutionID = duroxide.InitialExecutionID
		refused(h.Provider.AckOrchestrationItem(ctx, item.LockToken, bad.ack), bad.what)
	}
	refused(h.Provider.AppendWithExecution(ctx, inst, duroxide.InitialExecutionID,
		[]duroxide.Event{event(inst, 2, &duroxide.KeyValueSet{Key: "k", Value: "v"})}), "append_with_execution(&KeyValueSet)")

	require.Equal(t, []uint64{1}, eventIDs(read(t, h, inst)), "refused writes must not append history")
	_, found, err := h.Provider.GetKVValue(ctx, inst, "k")
	require.NoError(t, err, "get_kv_value")
	require.False(t, found, "a refused KeyValueSet must not be applied")
	status, changed, err := h.Provider.GetCustomStatus(ctx, inst, 0)
	require.NoError(t, err, "get_custom_status")
	require.False(t, changed, "a refused CustomStatusUpdated must not be applied: %+v", status)
	require.Nil(t, fetchWork(t, h, longLock), "a refused ack must not enqueue worker items")
	requireNoOrch(t, h, "a refused ack must keep the lock and enqueue nothing")

	// The lock survived every refused ack: the same token acks a valid turn
	// that schedules the activity.
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{event(inst, 2, duroxide.ActivityScheduled{Name: "Activity", Input: "{}"})},
		WorkerItems:  []duroxide.WorkItem{activity},
	})
	work := mustFetchWork(t, h, longLock)
	completion := completedItem(inst, 2, "done")
	refused(h.Provider.AckWorkItem(ctx, work.LockToken, &completion), "ack_work_item(&ActivityCompleted)")
	refused(h.Provider.AckWorkItem(ctx, work.LockToken, duroxide.ActivityFailedItem{
		Instance: inst, ExecutionID: 1, ID: 2, Details: &duroxide.Infrastructure{Operation: "o", Message: "m"},
	}), "ack_work_item(ActivityFailed with &Infrastructure)")
	requireNoOrch(t, h, "a refused worker ack must not enqueue its completion")
	ackWork(t, h, work.LockToken, completion)
	next := fetchInstance(t, h, inst)
	require.Equal(t, []duroxide.WorkItem{completion}, next.Messages)
}
