package spec

import (
	"strings"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// Helpers used by more than one group's cases. helpers.go holds the basic
// builders and provider calls; these are the compositions several groups
// wrote for themselves.

// execEvent builds an event of execution executionID.
func execEvent(instance string, executionID, eventID uint64, kind duroxide.EventKind) duroxide.Event {
	e := event(instance, eventID, kind)
	e.ExecutionID = executionID
	return e
}

// executionStarted is the OrchestrationStarted (event 1) of an execution of
// name 1.0.0, with an optional parent ("" for a root).
func executionStarted(instance string, executionID uint64, name, parent string, parentID *uint64) duroxide.Event {
	k := duroxide.OrchestrationStarted{Name: name, Version: testVersion, Input: "{}", ParentID: parentID}
	if parent != "" {
		k.ParentInstance = ptr(parent)
	}
	return execEvent(instance, executionID, duroxide.InitialEventID, k)
}

// fetchInstance fetches with a long lock and requires the batch to be
// instance's.
func fetchInstance(t T, h *Harness, instance string, msgAndArgs ...any) *duroxide.LockedOrchestrationItem {
	t.Helper()
	if len(msgAndArgs) == 0 {
		msgAndArgs = []any{"fetched another instance than %q", instance}
	}
	item := mustFetchOrch(t, h, longLock)
	require.Equal(t, instance, item.Instance, msgAndArgs...)
	return item
}

// raiseAndFetch enqueues an ExternalRaised name for instance and fetches the
// turn it starts; the caller holds the lock.
func raiseAndFetch(t T, h *Harness, instance, name string) *duroxide.LockedOrchestrationItem {
	t.Helper()
	enqueueOrch(t, h, externalItem(instance, name))
	return fetchInstance(t, h, instance)
}

// startLocked enqueues a start for instance, fetches it with the harness
// lock timeout and requires a second fetch to find nothing while the lock is
// held.
func startLocked(t T, h *Harness, instance string) *duroxide.LockedOrchestrationItem {
	t.Helper()
	enqueueOrch(t, h, startItem(instance))
	item := mustFetchOrch(t, h, h.LockTimeout)
	require.Nil(t, fetchOrch(t, h, h.LockTimeout), "a locked instance must not be fetched again")
	return item
}

// runTurn enqueues item, fetches the instance's batch and acks it as
// execution executionID with delta and md. It returns the fetched item. It
// assumes nothing else is visible in the orchestrator queue.
func runTurn(t T, h *Harness, instance string, item duroxide.WorkItem, executionID uint64, delta []duroxide.Event, md duroxide.ExecutionMetadata) *duroxide.LockedOrchestrationItem {
	t.Helper()
	enqueueOrch(t, h, item)
	locked := fetchInstance(t, h, instance)
	ack(t, h, locked.LockToken, duroxide.OrchestrationAck{ExecutionID: executionID, HistoryDelta: delta, Metadata: md})
	return locked
}

// createStarted runs a first turn of instance that acks execution 1 with an
// OrchestrationStarted and default metadata (so no instance record).
func createStarted(t T, h *Harness, instance string) {
	t.Helper()
	runTurn(t, h, instance, startItem(instance), duroxide.InitialExecutionID,
		[]duroxide.Event{startedEvent(instance, duroxide.InitialEventID, testVersion)}, duroxide.ExecutionMetadata{})
}

// createOrch runs one first turn of instance: a StartOrchestration (with
// parent and parentID when parent is not ""), then an ack of execution 1 with
// one OrchestrationStarted and metadata naming name 1.0.0, the parent, and
// status/output (status "" leaves the execution Running).
func createOrch(t T, h *Harness, instance, name, parent string, parentID *uint64, status duroxide.ExecutionStatus, output *string) {
	t.Helper()
	start := startItem(instance)
	md := nameVersion(name, testVersion)
	md.Status = status
	md.Output = output
	if parent != "" {
		start.ParentInstance = ptr(parent)
		start.ParentID = parentID
		md.ParentInstanceID = ptr(parent)
	}
	runTurn(t, h, instance, start, duroxide.InitialExecutionID,
		[]duroxide.Event{executionStarted(instance, duroxide.InitialExecutionID, name, parent, parentID)}, md)
}

// createCompleted is duroxide's create_completed_instance: a root TestOrch
// completed with output "done".
func createCompleted(t T, h *Harness, instance string) {
	t.Helper()
	createOrch(t, h, instance, testOrch, "", nil, duroxide.StatusCompleted, ptr("done"))
}

// createCompletedChild is create_completed_instance_with_parent: a completed
// TestOrch whose start and metadata name parent (parent id 1).
func createCompletedChild(t T, h *Harness, instance, parent string) {
	t.Helper()
	createOrch(t, h, instance, testOrch, parent, ptr(uint64(1)), duroxide.StatusCompleted, ptr("done"))
}

// createChildOrch is deletion.rs's create_child_instance: a completed
// ChildOrch whose metadata names parent.
func createChildOrch(t T, h *Harness, instance, parent string) {
	t.Helper()
	createOrch(t, h, instance, "ChildOrch", parent, nil, duroxide.StatusCompleted, ptr("done"))
}

// readExecution reads one execution's history and requires success.
func readExecution(t T, h *Harness, instance string, executionID uint64) []duroxide.Event {
	t.Helper()
	events, err := h.Provider.ReadWithExecution(t.Context(), instance, executionID)
	require.NoError(t, err, "Provider.ReadWithExecution(%q, %d)", instance, executionID)
	return events
}

// ackEmpty acks execution 1 with no events and default metadata.
func ackEmpty(t T, h *Harness, token string) {
	t.Helper()
	ack(t, h, token, duroxide.OrchestrationAck{ExecutionID: duroxide.InitialExecutionID})
}

// ackWork acks a worker item with completion (nil for none) and requires
// success.
func ackWork(t T, h *Harness, token string, completion duroxide.WorkItem) {
	t.Helper()
	require.NoError(t, h.Provider.AckWorkItem(t.Context(), token, completion), "Provider.AckWorkItem")
}

// abandonOrch abandons an orchestration item with no delay.
func abandonOrch(t T, h *Harness, token string, ignoreAttempt bool) {
	t.Helper()
	require.NoError(t, h.Provider.AbandonOrchestrationItem(t.Context(), token, 0, ignoreAttempt),
		"Provider.AbandonOrchestrationItem(ignoreAttempt=%v)", ignoreAttempt)
}

// abandonWork abandons a worker item with no delay.
func abandonWork(t T, h *Harness, token string, ignoreAttempt bool) {
	t.Helper()
	require.NoError(t, h.Provider.AbandonWorkItem(t.Context(), token, 0, ignoreAttempt),
		"Provider.AbandonWorkItem(ignoreAttempt=%v)", ignoreAttempt)
}

// deleteInstance runs delete_instance and requires success.
func deleteInstance(t T, admin duroxide.ProviderAdmin, instance string, force bool) duroxide.DeleteInstanceResult {
	t.Helper()
	res, err := admin.DeleteInstance(t.Context(), instance, force)
	require.NoError(t, err, "ProviderAdmin.DeleteInstance(%q, force=%v)", instance, force)
	return res
}

// listExecutions lists the instance's executions and requires success.
func listExecutions(t T, admin duroxide.ProviderAdmin, instance string) []uint64 {
	t.Helper()
	ids, err := admin.ListExecutions(t.Context(), instance)
	require.NoError(t, err, "ProviderAdmin.ListExecutions(%q)", instance)
	return ids
}

// requireInstances requires an instance record for every id.
func requireInstances(t T, admin duroxide.ProviderAdmin, ids ...string) {
	t.Helper()
	for _, id := range ids {
		_, err := admin.GetInstanceInfo(t.Context(), id)
		require.NoError(t, err, "instance %q must exist", id)
	}
}

// requireNoInstance requires get_instance_info(instance) to fail with the
// permanent ErrNotFound.
func requireNoInstance(t T, admin duroxide.ProviderAdmin, instance string, msgAndArgs ...any) {
	t.Helper()
	_, err := admin.GetInstanceInfo(t.Context(), instance)
	requirePermanentIs(t, err, duroxide.ErrNotFound, msgAndArgs...)
}

// requireNoInstances requires that no id has an instance record.
func requireNoInstances(t T, admin duroxide.ProviderAdmin, ids ...string) {
	t.Helper()
	for _, id := range ids {
		requireNoInstance(t, admin, id, "instance %q must be gone", id)
	}
}

// requirePermanentIs requires err to be a permanent ProviderError wrapping
// sentinel.
func requirePermanentIs(t T, err, sentinel error, msgAndArgs ...any) {
	t.Helper()
	requirePermanent(t, err, msgAndArgs...)
	require.ErrorIs(t, err, sentinel, msgAndArgs...)
}

// requireInvalidToken requires a permanent ErrInvalidLockToken.
func requireInvalidToken(t T, err error, msgAndArgs ...any) {
	t.Helper()
	requirePermanentIs(t, err, duroxide.ErrInvalidLockToken, msgAndArgs...)
}

// requireInvalidTokenText is requireInvalidToken whose message also carries
// the words duroxide's cases look for ("Invalid lock token" or
// "lock_token").
func requireInvalidTokenText(t T, err error, msgAndArgs ...any) {
	t.Helper()
	requireInvalidToken(t, err, msgAndArgs...)
	var pe *duroxide.ProviderError
	require.ErrorAs(t, err, &pe)
	require.True(t, strings.Contains(pe.Msg, "Invalid lock token") || strings.Contains(pe.Msg, "lock_token"),
		"error message %q must contain \"Invalid lock token\" or \"lock_token\"", pe.Msg)
}

// requirePermanentWords requires a permanent error wrapping sentinel whose
// text contains at least one of words (case-insensitive), as duroxide's cases
// look for.
func requirePermanentWords(t T, err, sentinel error, words ...string) {
	t.Helper()
	requirePermanentIs(t, err, sentinel)
	msg := strings.ToLower(err.Error())
	for _, w := range words {
		if strings.Contains(msg, w) {
			return
		}
	}
	require.Fail(t, "error text lacks the words duroxide requires", "%q must contain one of %q", err.Error(), words)
}
