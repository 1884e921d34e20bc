package spec

import (
	"fmt"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// multiExecutionCases: each execution of an instance has its own history, the
// ack's execution id is authoritative, and "latest" is the highest execution.
func multiExecutionCases() []Case {
	return []Case{
		{"multi_execution", "execution_isolation", multiExecExecutionIsolation, Required},
		{"multi_execution", "latest_execution_detection", multiExecLatestExecutionDetection, Required},
		{"multi_execution", "execution_id_sequencing", multiExecExecutionIDSequencing, Required},
		{"multi_execution", "continue_as_new_creates_new_execution", multiExecContinueAsNewCreatesNewExecution, Required},
		{"multi_execution", "execution_history_persistence", multiExecExecutionHistoryPersistence, Required},
		// Not in duroxide:
		{"multi_execution", "continue_as_new_without_instance_record_reports_new_execution", multiExecContinueAsNewWithoutInstanceRecord, Strict},
	}
}

// multiExecStart is startItem with an explicit execution id in the message
// (which the provider must not use for anything).
func multiExecStart(instance string, executionID uint64) duroxide.StartOrchestrationItem {
	s := startItem(instance)
	s.ExecutionID = executionID
	return s
}

// multiExecStarted is an OrchestrationStarted of TestOrch 1.0.0 with input,
// as event 1 of the given execution.
func multiExecStarted(instance string, executionID uint64, input string) duroxide.Event {
	return execEvent(instance, executionID, 1, duroxide.OrchestrationStarted{
		Name: testOrch, Version: testVersion, Input: input,
	})
}

// multiExecTurn enqueues a start that names executionID, fetches it and acks
// execution executionID with delta and md. It returns the fetched item.
func multiExecTurn(t T, h *Harness, instance string, executionID uint64, delta []duroxide.Event, md duroxide.ExecutionMetadata) *duroxide.LockedOrchestrationItem {
	t.Helper()
	return runTurn(t, h, instance, multiExecStart(instance, executionID), executionID, delta, md)
}

// multiExecKinds returns the kinds of events.
func multiExecKinds(events []duroxide.Event) []duroxide.EventKind {
	kinds := make([]duroxide.EventKind, len(events))
	for i, e := range events {
		kinds[i] = e.Kind
	}
	return kinds
}

// Two executions of one instance keep separate histories, each numbered from
// event id 1, and read returns the latest one.
func multiExecExecutionIsolation(t T, h *Harness) {
	const inst = "instance-A"
	multiExecTurn(t, h, inst, 1, []duroxide.Event{
		multiExecStarted(inst, 1, "{}"),
		execEvent(inst, 1, 2, duroxide.ActivityScheduled{Name: "Activity1", Input: "input1"}),
		execEvent(inst, 1, 3, duroxide.OrchestrationCompleted{Output: "result1"}),
	}, duroxide.ExecutionMetadata{})
	multiExecTurn(t, h, inst, 2, []duroxide.Event{
		multiExecStarted(inst, 2, "{}"),
		execEvent(inst, 2, 2, duroxide.OrchestrationCompleted{Output: "result2"}),
	}, duroxide.ExecutionMetadata{})

	// Stronger than duroxide: errors fail the case instead of reading as an
	// empty history, and the payloads (not only the kinds) and event ids of
	// each execution are checked, so events cannot leak between executions.
	exec1 := readExecution(t, h, inst, 1)
	require.Equal(t, []uint64{1, 2, 3}, eventIDs(exec1))
	require.Equal(t, []duroxide.EventKind{
		duroxide.OrchestrationStarted{Name: testOrch, Version: testVersion, Input: "{}"},
		duroxide.ActivityScheduled{Name: "Activity1", Input: "input1"},
		duroxide.OrchestrationCompleted{Output: "result1"},
	}, multiExecKinds(exec1))

	exec2 := readExecution(t, h, inst, 2)
	wantExec2 := []duroxide.EventKind{
		duroxide.OrchestrationStarted{Name: testOrch, Version: testVersion, Input: "{}"},
		duroxide.OrchestrationCompleted{Output: "result2"},
	}
	require.Equal(t, []uint64{1, 2}, eventIDs(exec2))
	require.Equal(t, wantExec2, multiExecKinds(exec2))

	latest := read(t, h, inst)
	require.Equal(t, []uint64{1, 2}, eventIDs(latest), "read must return the latest execution")
	require.Equal(t, wantExec2, multiExecKinds(latest))

	// Stronger than duroxide: an execution that was never acked reads as
	// empty, without error.
	require.Empty(t, readExecution(t, h, inst, 3))
}

// read returns the highest execution even when no ack carried instance
// metadata and no execution has an OrchestrationStarted event.
func multiExecLatestExecutionDetection(t T, h *Harness) {
	const inst = "instance-A"
	multiExecTurn(t, h, inst, 1, []duroxide.Event{
		execEvent(inst, 1, 1, duroxide.ActivityScheduled{Name: "A"}),
	}, duroxide.ExecutionMetadata{})
	multiExecTurn(t, h, inst, 2, []duroxide.Event{
		execEvent(inst, 2, 1, duroxide.ActivityScheduled{Name: "B"}),
	}, duroxide.ExecutionMetadata{})

	require.Equal(t, []duroxide.EventKind{duroxide.ActivityScheduled{Name: "B"}}, multiExecKinds(read(t, h, inst)))
	require.Equal(t, []duroxide.EventKind{duroxide.ActivityScheduled{Name: "A"}}, multiExecKinds(readExecution(t, h, inst, 1)))

	// Stronger than duroxide: "latest" is the highest execution id, not the
	// most recently written one. Appending to execution 1 after execution 2
	// exists changes execution 1 only.
	require.NoError(t, h.Provider.AppendWithExecution(t.Context(), inst, 1, []duroxide.Event{
		execEvent(inst, 1, 2, duroxide.ActivityScheduled{Name: "A2"}),
	}))
	require.Equal(t, []duroxide.EventKind{duroxide.ActivityScheduled{Name: "B"}}, multiExecKinds(read(t, h, inst)),
		"an append to an older execution must not change which execution is latest")
	require.Equal(t, []duroxide.EventKind{
		duroxide.ActivityScheduled{Name: "A"},
		duroxide.ActivityScheduled{Name: "A2"},
	}, multiExecKinds(readExecution(t, h, inst, 1)))
}

// A fetched item reports the instance's current (highest acked) execution
// id; the execution id inside a start message is ignored.
func multiExecExecutionIDSequencing(t T, h *Harness) {
	const inst = "instance-A"
	md := nameVersion(testOrch, testVersion)
	first := multiExecTurn(t, h, inst, 1, []duroxide.Event{multiExecStarted(inst, 1, "{}")}, md)
	require.Equal(t, uint64(1), first.ExecutionID)

	second := multiExecTurn(t, h, inst, 2, []duroxide.Event{multiExecStarted(inst, 2, "{}")}, md)
	// Stronger than duroxide: before the ack of execution 2, the fetch reports
	// the stored execution 1 with its history, not the 2 named by the message.
	require.Equal(t, uint64(1), second.ExecutionID, "a fetch must report the stored execution, not the message's")
	require.Equal(t, []uint64{1}, eventIDs(second.History))

	enqueueOrch(t, h, multiExecStart(inst, 3))
	third := fetchInstance(t, h, inst)
	require.Equal(t, uint64(2), third.ExecutionID, "current execution should be 2")
	// Stronger than duroxide: the history delivered is execution 2's, and the
	// start message is delivered as enqueued (execution 3 untouched).
	require.Len(t, third.History, 1)
	require.Equal(t, uint64(2), third.History[0].ExecutionID)
	require.Equal(t, []duroxide.WorkItem{multiExecStart(inst, 3)}, third.Messages)
}

// Acking execution n+1 for a ContinueAsNew batch creates that execution and
// makes it current.
//
// Required: the runtime replays the execution a fetch reports; reporting
// the old one after a continue-as-new would replay a finished execution.
// The acks carry name and version, as the runtime's always do; for an
// instance without a record see the strict case
// continue_as_new_without_instance_record_reports_new_execution.
func multiExecContinueAsNewCreatesNewExecution(t T, h *Harness) {
	multiExecContinueAsNew(t, h, nameVersion(testOrch, testVersion))
}

// Not in duroxide. Strict: continue_as_new_creates_new_execution for an
// instance whose acks carried no name and version, so that it has no
// instance record: the fetch still reports execution 2 with execution 2's
// history. Not required: the runtime's acks always carry name and version,
// and duroxide's SQLite provider reports execution 1 for an instance without
// a record.
func multiExecContinueAsNewWithoutInstanceRecord(t T, h *Harness) {
	multiExecContinueAsNew(t, h, duroxide.ExecutionMetadata{})
}

// multiExecContinueAsNew runs execution 1, continues it as new into
// execution 2 with metadata md on both acks, and checks that execution 2 is
// current.
func multiExecContinueAsNew(t T, h *Harness, md duroxide.ExecutionMetadata) {
	const inst = "instance-A"
	multiExecTurn(t, h, inst, 1, []duroxide.Event{multiExecStarted(inst, 1, "{}")}, md)

	can := duroxide.ContinueAsNewItem{
		Instance:           inst,
		Orchestration:      testOrch,
		Input:              "new-input",
		Version:            ptr(testVersion),
		CarryForwardEvents: []duroxide.CarriedEvent{},
	}
	enqueueOrch(t, h, can)
	item := fetchInstance(t, h, inst)
	require.Len(t, item.Messages, 1)
	require.IsType(t, duroxide.ContinueAsNewItem{}, item.Messages[0])
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  2,
		HistoryDelta: []duroxide.Event{multiExecStarted(inst, 2, "new-input")},
		Metadata:     md,
	})

	// duroxide's final check is vacuous: its queue is empty at that point, so
	// the fetch returns nothing and the assertion never runs.
	requireNoOrch(t, h, "the continue-as-new ack must consume its batch")

	// Stronger than duroxide: execution 2 exists, is the latest, and execution
	// 1 is kept.
	require.Equal(t, []duroxide.EventKind{duroxide.OrchestrationStarted{Name: testOrch, Version: testVersion, Input: "new-input"}},
		multiExecKinds(read(t, h, inst)))
	require.Equal(t, []duroxide.EventKind{duroxide.OrchestrationStarted{Name: testOrch, Version: testVersion, Input: "{}"}},
		multiExecKinds(readExecution(t, h, inst, 1)))

	// Stronger than duroxide: the next turn is delivered on execution 2, with
	// execution 2's history (ExecutionID and History must agree).
	next := raiseAndFetch(t, h, inst, "after-can")
	require.Equal(t, uint64(2), next.ExecutionID, "continue-as-new should create execution 2")
	require.Len(t, next.History, 1)
	require.Equal(t, uint64(2), next.History[0].ExecutionID)
	require.Equal(t, duroxide.OrchestrationStarted{Name: testOrch, Version: testVersion, Input: "new-input"}, next.History[0].Kind)
}

// Every execution's history persists independently; read returns the last.
func multiExecExecutionHistoryPersistence(t T, h *Harness) {
	const inst = "instance-A"
	for exec := uint64(1); exec <= 3; exec++ {
		multiExecTurn(t, h, inst, exec, []duroxide.Event{
			execEvent(inst, exec, 1, duroxide.ActivityScheduled{
				Name: fmt.Sprintf("Activity-%d", exec), Input: fmt.Sprintf("input-%d", exec),
			}),
		}, duroxide.ExecutionMetadata{})
	}
	for exec := uint64(1); exec <= 3; exec++ {
		require.Equal(t, []duroxide.EventKind{duroxide.ActivityScheduled{
			Name: fmt.Sprintf("Activity-%d", exec), Input: fmt.Sprintf("input-%d", exec),
		}}, multiExecKinds(readExecution(t, h, inst, exec)), "execution %d", exec)
	}
	require.Equal(t, []duroxide.EventKind{duroxide.ActivityScheduled{Name: "Activity-3", Input: "input-3"}},
		multiExecKinds(read(t, h, inst)))

	// Stronger than duroxide: a provider with a management API lists the
	// three executions even though no ack carried instance metadata.
	if admin := h.Provider.AsManagementCapability(); admin != nil {
		require.Equal(t, []uint64{1, 2, 3}, listExecutions(t, admin, inst))
	}
}
