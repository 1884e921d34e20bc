package spec

import (
	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// customStatusCases: an ack's CustomStatusUpdated events set or clear the
// instance's custom status, bumping its version once per ack, and
// get_custom_status reports it only when the version is newer than the
// caller's.
func customStatusCases() []Case {
	return []Case{
		{"custom_status", "custom_status_set", customStatusSet, Required},
		{"custom_status", "custom_status_clear", customStatusClear, Required},
		{"custom_status", "custom_status_none_preserves", customStatusNonePreserves, Required},
		{"custom_status", "custom_status_version_increments", customStatusVersionIncrements, Required},
		{"custom_status", "custom_status_polling_no_change", customStatusPollingNoChange, Required},
		{"custom_status", "custom_status_nonexistent_instance", customStatusNonexistentInstance, Required},
		{"custom_status", "custom_status_default_on_new_instance", customStatusDefaultOnNewInstance, Required},
		// Not in duroxide:
		{"custom_status", "custom_status_last_event_wins_one_bump_per_ack", customStatusLastEventWins, Required},
		{"custom_status", "custom_status_set_by_instance_creating_ack", customStatusSetOnCreatingAck, Required},
		{"custom_status", "custom_status_empty_string_is_a_value", customStatusEmptyString, Required},
		{"custom_status", "custom_status_survives_continue_as_new", customStatusSurvivesContinueAsNew, Required},
		{"custom_status", "custom_status_unchanged_by_failed_ack", customStatusFailedAck, Required},
		{"custom_status", "custom_status_not_set_by_append_with_execution", customStatusNotSetByAppend, Required},
		{"custom_status", "custom_status_is_per_instance", customStatusPerInstance, Required},
		{"custom_status", "custom_status_readable_while_instance_locked", customStatusReadableWhileLocked, Required},
		{"custom_status", "custom_status_not_aliased", customStatusNotAliased, Required},
		{"custom_status", "custom_status_removed_with_instance", customStatusRemovedWithInstance, Required},
		{"custom_status", "custom_status_ignored_without_instance_record", customStatusIgnoredWithoutRecord, Required},
	}
}

// customStatusEvent is a CustomStatusUpdated of execution 1 (status nil
// clears).
func customStatusEvent(instance string, eventID uint64, status *string) duroxide.Event {
	return event(instance, eventID, duroxide.CustomStatusUpdated{Status: status})
}

// customStatusTurnExec enqueues an ExternalRaised "poke" for instance,
// fetches the turn and acks execution exec with delta and empty metadata.
func customStatusTurnExec(t T, h *Harness, instance string, exec uint64, delta ...duroxide.Event) {
	t.Helper()
	runTurn(t, h, instance, externalItem(instance, "poke"), exec, delta, duroxide.ExecutionMetadata{})
}

// customStatusTurn is duroxide's poke-and-ack turn on execution 1.
func customStatusTurn(t T, h *Harness, instance string, delta ...duroxide.Event) {
	t.Helper()
	customStatusTurnExec(t, h, instance, duroxide.InitialExecutionID, delta...)
}

// customStatusGet calls get_custom_status and requires success.
func customStatusGet(t T, h *Harness, instance string, lastSeen uint64) (duroxide.CustomStatus, bool) {
	t.Helper()
	cs, ok, err := h.Provider.GetCustomStatus(t.Context(), instance, lastSeen)
	require.NoError(t, err, "get_custom_status(%q, %d)", instance, lastSeen)
	return cs, ok
}

// customStatusRequire requires get_custom_status(instance, lastSeen) to
// report status and version.
func customStatusRequire(t T, h *Harness, instance string, lastSeen uint64, status *string, version uint64) {
	t.Helper()
	cs, ok := customStatusGet(t, h, instance, lastSeen)
	require.True(t, ok, "get_custom_status(%q, %d) must report a change", instance, lastSeen)
	require.Equal(t, duroxide.CustomStatus{Status: status, Version: version}, cs, "custom status of %q", instance)
}

// customStatusRequireNone requires get_custom_status(instance, lastSeen) to
// report no change.
func customStatusRequireNone(t T, h *Harness, instance string, lastSeen uint64) {
	t.Helper()
	cs, ok := customStatusGet(t, h, instance, lastSeen)
	require.False(t, ok, "get_custom_status(%q, %d) must report no change, got %+v", instance, lastSeen, cs)
}

// A CustomStatusUpdated event in an ack sets the status; version 1.
func customStatusSet(t T, h *Harness) {
	const inst = "cs-set"
	createInstance(t, h, inst)
	customStatusTurn(t, h, inst, customStatusEvent(inst, 100, ptr("progress")))

	customStatusRequire(t, h, inst, 0, ptr("progress"), 1)
	// Stronger than duroxide: the event is also stored as history, like any
	// other (the gap in event ids is allowed).
	require.Equal(t, []uint64{1, 100}, eventIDs(read(t, h, inst)))
}

// A CustomStatusUpdated event with no status clears it, and the clear is a
// change: version 2.
func customStatusClear(t T, h *Harness) {
	const inst = "cs-clear"
	createInstance(t, h, inst)
	customStatusTurn(t, h, inst, customStatusEvent(inst, 100, ptr("temp")))
	cs, ok := customStatusGet(t, h, inst, 0)
	require.True(t, ok)
	require.Equal(t, ptr("temp"), cs.Status)

	customStatusTurn(t, h, inst, customStatusEvent(inst, 101, nil))
	customStatusRequire(t, h, inst, 0, nil, 2)
	// Stronger than duroxide: a poller that saw version 1 sees the clear.
	customStatusRequire(t, h, inst, 1, nil, 2)
}

// An ack without a CustomStatusUpdated event leaves status and version
// unchanged.
func customStatusNonePreserves(t T, h *Harness) {
	const inst = "cs-noop"
	createInstance(t, h, inst)
	customStatusTurn(t, h, inst, customStatusEvent(inst, 100, ptr("keep-me")))
	customStatusTurn(t, h, inst)

	customStatusRequire(t, h, inst, 0, ptr("keep-me"), 1)
	// Stronger than duroxide: a poller that saw version 1 sees no change.
	customStatusRequireNone(t, h, inst, 1)
}

// Each ack that sets or clears the status adds one to the version.
func customStatusVersionIncrements(t T, h *Harness) {
	const inst = "cs-ver"
	createInstance(t, h, inst)
	// Stronger than duroxide: the status of every step is checked, not only
	// the version.
	customStatusTurn(t, h, inst, customStatusEvent(inst, 100, ptr("a")))
	customStatusRequire(t, h, inst, 0, ptr("a"), 1)
	customStatusTurn(t, h, inst, customStatusEvent(inst, 101, ptr("b")))
	customStatusRequire(t, h, inst, 0, ptr("b"), 2)
	customStatusTurn(t, h, inst, customStatusEvent(inst, 102, nil))
	customStatusRequire(t, h, inst, 0, nil, 3)
}

// get_custom_status reports the status only when its version is greater
// than last_seen_version.
func customStatusPollingNoChange(t T, h *Harness) {
	const inst = "cs-poll"
	createInstance(t, h, inst)
	customStatusTurn(t, h, inst, customStatusEvent(inst, 100, ptr("v1")))

	customStatusRequireNone(t, h, inst, 1)
	// Stronger than duroxide: the report carries the status and version, and
	// a last_seen_version ahead of the stored one reports nothing either.
	customStatusRequire(t, h, inst, 0, ptr("v1"), 1)
	customStatusRequireNone(t, h, inst, 2)
}

// get_custom_status of an unknown instance reports nothing, without error.
func customStatusNonexistentInstance(t T, h *Harness) {
	customStatusRequireNone(t, h, "does-not-exist", 0)
	// Stronger than duroxide: an enqueued but never acked start does not
	// create the instance either.
	enqueueOrch(t, h, startItem("cs-enqueued"))
	customStatusRequireNone(t, h, "cs-enqueued", 0)
}

// A new instance has version 0 and no status, so nothing is reported.
func customStatusDefaultOnNewInstance(t T, h *Harness) {
	const inst = "cs-default"
	createInstance(t, h, inst)
	customStatusRequireNone(t, h, inst, 0)
	// Stronger than duroxide: a turn without a custom-status event keeps
	// version 0.
	customStatusTurn(t, h, inst)
	customStatusRequireNone(t, h, inst, 0)
}

// Of several CustomStatusUpdated events in one ack the last wins, and the
// version goes up by one per ack, not per event ([duroxide.CustomStatus]).
func customStatusLastEventWins(t T, h *Harness) {
	const inst = "cs-last-wins"
	createInstance(t, h, inst)
	customStatusTurn(t, h, inst, customStatusEvent(inst, 100, ptr("first")), customStatusEvent(inst, 101, ptr("second")))
	customStatusRequire(t, h, inst, 0, ptr("second"), 1)
	customStatusTurn(t, h, inst, customStatusEvent(inst, 102, ptr("x")), customStatusEvent(inst, 103, nil))
	customStatusRequire(t, h, inst, 0, nil, 2)
	customStatusTurn(t, h, inst,
		customStatusEvent(inst, 104, nil),
		event(inst, 105, duroxide.ActivityScheduled{Name: "A", Input: "{}"}),
		customStatusEvent(inst, 106, ptr("y")),
		event(inst, 107, duroxide.TimerCreated{FireAtMs: 1}),
	)
	customStatusRequire(t, h, inst, 0, ptr("y"), 3)
}

// The ack that creates the instance record applies its custom-status event
// too: the record is created before custom status is applied.
func customStatusSetOnCreatingAck(t T, h *Harness) {
	const inst = "cs-first-turn"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion), customStatusEvent(inst, 2, ptr("init"))},
		Metadata:     nameVersion(testOrch, testVersion),
	})
	customStatusRequire(t, h, inst, 0, ptr("init"), 1)
}

// The empty string is a status, distinct from a cleared one (set → value,
// clear → none).
func customStatusEmptyString(t T, h *Harness) {
	const inst = "cs-empty"
	createInstance(t, h, inst)
	customStatusTurn(t, h, inst, customStatusEvent(inst, 100, ptr("")))
	customStatusRequire(t, h, inst, 0, ptr(""), 1)
	customStatusTurn(t, h, inst, customStatusEvent(inst, 101, nil))
	customStatusRequire(t, h, inst, 0, nil, 2)
}

// Custom status lives on the instance: a continue-as-new neither resets nor
// bumps it, and the next execution's updates continue its version.
func customStatusSurvivesContinueAsNew(t T, h *Harness) {
	const inst = "cs-can"
	createInstance(t, h, inst)
	customStatusTurn(t, h, inst, customStatusEvent(inst, 100, ptr("before")))

	// Execution 1 continues as new.
	item := raiseAndFetch(t, h, inst, "poke")
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{event(inst, 101, duroxide.OrchestrationContinuedAsNew{Input: "next"})},
		OrchestratorItems: []duroxide.WorkItem{duroxide.ContinueAsNewItem{
			Instance: inst, Orchestration: testOrch, Input: "next", Version: ptr(testVersion),
		}},
		Metadata: duroxide.ExecutionMetadata{Status: duroxide.StatusContinuedAsNew, Output: ptr("next")},
	})
	customStatusRequire(t, h, inst, 0, ptr("before"), 1)

	// Execution 2 starts without touching the status.
	item = mustFetchOrch(t, h, longLock)
	require.Equal(t, inst, item.Instance)
	started := startedEvent(inst, 1, testVersion)
	started.ExecutionID = 2
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  2,
		HistoryDelta: []duroxide.Event{started},
		Metadata:     nameVersion(testOrch, testVersion),
	})
	customStatusRequire(t, h, inst, 0, ptr("before"), 1)
	customStatusRequireNone(t, h, inst, 1)

	after := customStatusEvent(inst, 2, ptr("after"))
	after.ExecutionID = 2
	customStatusTurnExec(t, h, inst, 2, after)
	customStatusRequire(t, h, inst, 1, ptr("after"), 2)
}

// A failed ack changes no custom status; retrying it with the same token
// applies its update ([duroxide.Provider.AckOrchestrationItem] is all or
// nothing, and a failed ack keeps the lock).
func customStatusFailedAck(t T, h *Harness) {
	const inst = "cs-failed-ack"
	createInstance(t, h, inst)
	customStatusTurn(t, h, inst, customStatusEvent(inst, 100, ptr("keep")))

	item := raiseAndFetch(t, h, inst, "poke")
	err := h.Provider.AckOrchestrationItem(t.Context(), item.LockToken, duroxide.OrchestrationAck{
		ExecutionID: duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{
			customStatusEvent(inst, 101, ptr("lost")),
			startedEvent(inst, 1, testVersion), // duplicate event id
		},
	})
	requirePermanentIs(t, err, duroxide.ErrDuplicateEvent, "an ack repeating event id 1 must fail")
	customStatusRequire(t, h, inst, 0, ptr("keep"), 1)

	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{customStatusEvent(inst, 101, ptr("new"))},
	})
	customStatusRequire(t, h, inst, 0, ptr("new"), 2)
}

// append_with_execution stores a CustomStatusUpdated event as history only:
// it has no custom-status side effect
// ([duroxide.Provider.AppendWithExecution]).
func customStatusNotSetByAppend(t T, h *Harness) {
	const inst = "cs-append"
	createInstance(t, h, inst)
	require.NoError(t, h.Provider.AppendWithExecution(t.Context(), inst, duroxide.InitialExecutionID,
		[]duroxide.Event{customStatusEvent(inst, 50, ptr("appended"))}), "append_with_execution")
	require.Equal(t, []uint64{1, 50}, eventIDs(read(t, h, inst)), "the event must be appended")
	customStatusRequireNone(t, h, inst, 0)

	// A later ack does not pick the stored event up either.
	customStatusTurn(t, h, inst)
	customStatusRequireNone(t, h, inst, 0)
}

// Custom status is per instance: it is stored on the instance.
func customStatusPerInstance(t T, h *Harness) {
	const instA, instB = "cs-inst-a", "cs-inst-b"
	createInstance(t, h, instA)
	createInstance(t, h, instB)
	customStatusTurn(t, h, instA, customStatusEvent(instA, 100, ptr("only-a")))

	customStatusRequire(t, h, instA, 0, ptr("only-a"), 1)
	customStatusRequireNone(t, h, instB, 0)
	customStatusTurn(t, h, instB, customStatusEvent(instB, 100, ptr("only-b")))
	customStatusRequire(t, h, instB, 0, ptr("only-b"), 1)
	customStatusRequire(t, h, instA, 0, ptr("only-a"), 1)
}

// get_custom_status is read-only and takes no lock: it answers while the
// instance is locked by a turn, with the last acked status
// ([duroxide.Provider.GetCustomStatus]).
func customStatusReadableWhileLocked(t T, h *Harness) {
	const inst = "cs-locked"
	createInstance(t, h, inst)
	customStatusTurn(t, h, inst, customStatusEvent(inst, 100, ptr("v1")))

	item := raiseAndFetch(t, h, inst, "poke")
	customStatusRequire(t, h, inst, 0, ptr("v1"), 1)
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{customStatusEvent(inst, 101, ptr("v2"))},
	})
	customStatusRequire(t, h, inst, 1, ptr("v2"), 2)
}

// The provider neither keeps the caller's status pointer nor hands out its
// own (Provider ownership rule).
func customStatusNotAliased(t T, h *Harness) {
	const inst = "cs-alias"
	createInstance(t, h, inst)
	status := "original"
	customStatusTurn(t, h, inst, customStatusEvent(inst, 100, &status))
	status = "changed-by-caller"
	customStatusRequire(t, h, inst, 0, ptr("original"), 1)

	cs, ok := customStatusGet(t, h, inst, 0)
	require.True(t, ok)
	require.NotNil(t, cs.Status)
	*cs.Status = "changed-by-reader"
	customStatusRequire(t, h, inst, 0, ptr("original"), 1)
}

// Deleting an instance deletes its custom status; an instance recreated
// under the same id starts again at version 0.
func customStatusRemovedWithInstance(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "cs-deleted"
	createInstance(t, h, inst)
	item := raiseAndFetch(t, h, inst, "poke")
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID: duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{
			customStatusEvent(inst, 100, ptr("old")),
			event(inst, 101, duroxide.OrchestrationCompleted{Output: "done"}),
		},
		Metadata: duroxide.ExecutionMetadata{Status: duroxide.StatusCompleted, Output: ptr("done")},
	})
	customStatusRequire(t, h, inst, 0, ptr("old"), 1)

	deleteInstance(t, admin, inst, false)
	customStatusRequireNone(t, h, inst, 0) // a deleted instance has no custom status

	createInstance(t, h, inst)
	customStatusRequireNone(t, h, inst, 0) // a recreated instance starts afresh
	customStatusTurn(t, h, inst, customStatusEvent(inst, 100, ptr("new")))
	customStatusRequire(t, h, inst, 0, ptr("new"), 1)
}

// Not in duroxide: custom status lives on the
// instance record, so an ack that creates no record (no name and version)
// changes no custom status, and a later ack that creates the record starts
// the version at 1.
func customStatusIgnoredWithoutRecord(t T, h *Harness) {
	const inst = "cs-no-record"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID: 1,
		HistoryDelta: []duroxide.Event{
			startedEvent(inst, 1, testVersion),
			event(inst, 2, duroxide.CustomStatusUpdated{Status: ptr("ignored")}),
		},
	})
	_, ok, err := h.Provider.GetCustomStatus(t.Context(), inst, 0)
	require.NoError(t, err)
	require.False(t, ok, "no instance record, no custom status")

	enqueueOrch(t, h, externalItem(inst, "poke"))
	next := mustFetchOrch(t, h, longLock)
	ack(t, h, next.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: []duroxide.Event{event(inst, 3, duroxide.CustomStatusUpdated{Status: ptr("kept")})},
		Metadata:     nameVersion(testOrch, testVersion),
	})
	got, ok, err := h.Provider.GetCustomStatus(t.Context(), inst, 0)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, duroxide.CustomStatus{Status: ptr("kept"), Version: 1}, got)
}
