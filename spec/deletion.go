package spec

import (
	"strings"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// deletionCases: delete_instance deletes a root with its whole tree, refuses
// running instances unless forced and sub-orchestrations always, and leaves
// nothing behind that a stale token or a recreated instance could see.
func deletionCases() []Case {
	return []Case{
		{"deletion", "delete_terminal_instances", deleteTerminalInstances},
		{"deletion", "delete_running_rejected_force_succeeds", deleteRunningRejectedForceSucceeds},
		{"deletion", "delete_nonexistent_instance", deleteNonexistentInstance},
		{"deletion", "delete_cleans_queues_and_locks", deleteCleansQueuesAndLocks},
		{"deletion", "cascade_delete_hierarchy", deleteCascadeHierarchy},
		{"deletion", "force_delete_prevents_ack_recreation", deleteForcePreventsAckRecreation},
		{"deletion", "list_children", deleteListChildren},
		{"deletion", "delete_get_parent_id", deleteGetParentID},
		{"deletion", "delete_get_instance_tree", deleteGetInstanceTree},
		{"deletion", "delete_instances_atomic", deleteInstancesAtomic},
		{"deletion", "delete_instances_atomic_force", deleteInstancesAtomicForce},
		{"deletion", "delete_instances_atomic_orphan_detection", deleteInstancesAtomicOrphanDetection},
		{"deletion", "stale_activity_after_delete_recreate", deleteStaleActivityAfterRecreate},
		// Not in duroxide:
		{"deletion", "delete_removes_queued_and_locked_work", deleteRemovesQueuedAndLockedWork},
		{"deletion", "stale_tokens_after_force_delete_do_not_resurrect", deleteStaleTokensDoNotResurrect},
		{"deletion", "delete_root_with_running_child_rejected", deleteRootWithRunningChildRejected},
		{"deletion", "delete_instances_atomic_orphan_check_ignores_force", deleteAtomicOrphanCheckIgnoresForce},
		{"deletion", "delete_instances_atomic_empty_and_unknown_ids", deleteAtomicEmptyAndUnknownIDs},
		{"deletion", "delete_then_recreate_starts_fresh", deleteThenRecreateStartsFresh},
		{"deletion", "delete_removes_worker_items_of_instance_without_state", deleteRemovesWorkerItemsWithoutState},
		{"deletion", "get_instance_tree_of_unknown_root", deleteGetInstanceTreeOfUnknownRoot},
	}
}

// delEvent builds an event of any execution.
func delEvent(instance string, executionID, eventID uint64, kind duroxide.EventKind) duroxide.Event {
	e := event(instance, eventID, kind)
	e.ExecutionID = executionID
	return e
}

// delStarted is the OrchestrationStarted (event 1) of an execution of name
// 1.0.0, with an optional parent ("" for a root).
func delStarted(instance string, executionID uint64, name, parent string, parentID *uint64) duroxide.Event {
	k := duroxide.OrchestrationStarted{Name: name, Version: testVersion, Input: "{}", ParentID: parentID}
	if parent != "" {
		k.ParentInstance = ptr(parent)
	}
	return delEvent(instance, executionID, duroxide.InitialEventID, k)
}

// delTurn enqueues item, fetches the instance's batch and acks it as
// execution executionID with delta and md. It assumes nothing else is visible
// in the orchestrator queue.
func delTurn(t T, h *Harness, instance string, item duroxide.WorkItem, executionID uint64, delta []duroxide.Event, md duroxide.ExecutionMetadata) {
	t.Helper()
	enqueueOrch(t, h, item)
	locked := mustFetchOrch(t, h, longLock)
	require.Equal(t, instance, locked.Instance, "fetched another instance than %q", instance)
	ack(t, h, locked.LockToken, duroxide.OrchestrationAck{ExecutionID: executionID, HistoryDelta: delta, Metadata: md})
}

// delCreate runs one first turn of instance: a StartOrchestration (with
// parent and parentID when parent is not ""), then an ack of execution 1 with
// one OrchestrationStarted and metadata naming name 1.0.0, the parent, and
// status/output (status "" leaves the execution Running).
func delCreate(t T, h *Harness, instance, name, parent string, parentID *uint64, status duroxide.ExecutionStatus, output *string) {
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
	delTurn(t, h, instance, start, duroxide.InitialExecutionID,
		[]duroxide.Event{delStarted(instance, duroxide.InitialExecutionID, name, parent, parentID)}, md)
}

// delCompleted is duroxide's create_completed_instance: a root TestOrch
// completed with output "done".
func delCompleted(t T, h *Harness, instance string) {
	t.Helper()
	delCreate(t, h, instance, testOrch, "", nil, duroxide.StatusCompleted, ptr("done"))
}

// delCompletedChild is create_completed_instance_with_parent: a completed
// TestOrch whose start and metadata name parent (parent id 1).
func delCompletedChild(t T, h *Harness, instance, parent string) {
	t.Helper()
	delCreate(t, h, instance, testOrch, parent, ptr(uint64(1)), duroxide.StatusCompleted, ptr("done"))
}

// delChild is deletion.rs's create_child_instance: a completed ChildOrch
// whose metadata names parent.
func delChild(t T, h *Harness, instance, parent string) {
	t.Helper()
	delCreate(t, h, instance, "ChildOrch", parent, nil, duroxide.StatusCompleted, ptr("done"))
}

// delRequireExists requires an instance record for every id.
func delRequireExists(t T, admin duroxide.ProviderAdmin, ids ...string) {
	t.Helper()
	for _, id := range ids {
		_, err := admin.GetInstanceInfo(t.Context(), id)
		require.NoError(t, err, "instance %q must exist", id)
	}
}

// delRequireGone requires that get_instance_info reports every id as a
// permanent ErrNotFound.
func delRequireGone(t T, admin duroxide.ProviderAdmin, ids ...string) {
	t.Helper()
	for _, id := range ids {
		_, err := admin.GetInstanceInfo(t.Context(), id)
		requirePermanent(t, err, "instance %q must be gone", id)
		require.ErrorIs(t, err, duroxide.ErrNotFound, "instance %q must be gone", id)
	}
}

// delRequireError requires a permanent error wrapping sentinel whose text
// contains at least one of words (case-insensitive), as duroxide's cases
// look for.
func delRequireError(t T, err error, sentinel error, words ...string) {
	t.Helper()
	requirePermanent(t, err)
	require.ErrorIs(t, err, sentinel)
	msg := strings.ToLower(err.Error())
	for _, w := range words {
		if strings.Contains(msg, w) {
			return
		}
	}
	require.Fail(t, "error text lacks the words duroxide requires", "%q must contain one of %q", err.Error(), words)
}

// delRequireInvalidToken requires a permanent ErrInvalidLockToken.
func delRequireInvalidToken(t T, err error, msgAndArgs ...any) {
	t.Helper()
	requirePermanent(t, err, msgAndArgs...)
	require.ErrorIs(t, err, duroxide.ErrInvalidLockToken, msgAndArgs...)
}

// delDelete runs delete_instance and requires success.
func delDelete(t T, admin duroxide.ProviderAdmin, instance string, force bool) duroxide.DeleteInstanceResult {
	t.Helper()
	res, err := admin.DeleteInstance(t.Context(), instance, force)
	require.NoError(t, err, "delete_instance(%q, force=%v)", instance, force)
	return res
}

// Completed, failed and cancelled (Failed) instances are deleted without
// force, with their executions and events counted.
func deleteTerminalInstances(t T, h *Harness) {
	admin := h.Admin(t)
	const completed, failed, cancelled = "delete-term-completed", "delete-term-failed", "delete-term-cancelled"
	delCompleted(t, h, completed)
	delCreate(t, h, failed, testOrch, "", nil, duroxide.StatusFailed, ptr("error: something went wrong"))
	delCreate(t, h, cancelled, testOrch, "", nil, duroxide.StatusFailed, ptr("cancelled: user requested cancellation"))
	delRequireExists(t, admin, completed, failed, cancelled)

	res := delDelete(t, admin, completed, false)
	// Stronger than duroxide: the counts are exact (one instance, one
	// execution, one event, no queue message), not just >= 1.
	require.Equal(t, duroxide.DeleteInstanceResult{InstancesDeleted: 1, ExecutionsDeleted: 1, EventsDeleted: 1}, res)
	delRequireGone(t, admin, completed)
	// Stronger than duroxide: the history is gone too.
	require.Empty(t, read(t, h, completed))

	for _, id := range []string{failed, cancelled} {
		res := delDelete(t, admin, id, false)
		require.GreaterOrEqual(t, res.InstancesDeleted, uint64(1))
		delRequireGone(t, admin, id)
	}
}

// A running instance is refused without force (permanent, "running") and
// deleted with force.
func deleteRunningRejectedForceSucceeds(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "delete-running-force"
	createInstance(t, h, inst)

	_, err := admin.DeleteInstance(t.Context(), inst, false)
	// Stronger than duroxide: the error is ErrInstanceRunning.
	delRequireError(t, err, duroxide.ErrInstanceRunning, "running")
	delRequireExists(t, admin, inst)
	// Stronger than duroxide: the refused delete left the history in place.
	require.Len(t, read(t, h, inst), 1)

	res := delDelete(t, admin, inst, true)
	require.GreaterOrEqual(t, res.InstancesDeleted, uint64(1))
	delRequireGone(t, admin, inst)
}

// Deleting an unknown instance is a permanent "not found" error.
func deleteNonexistentInstance(t T, h *Harness) {
	admin := h.Admin(t)
	_, err := admin.DeleteInstance(t.Context(), "does-not-exist-12345", false)
	// Stronger than duroxide: the error is ErrNotFound.
	delRequireError(t, err, duroxide.ErrNotFound, "not found")
	// Stronger than duroxide: forcing does not change that.
	_, err = admin.DeleteInstance(t.Context(), "does-not-exist-12345", true)
	delRequireError(t, err, duroxide.ErrNotFound, "not found")
}

// Delete removes the instance's worker items (counted as queue messages)
// and its lock, so the id can be reused by a different orchestration with no
// stale state.
func deleteCleansQueuesAndLocks(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "delete-queues-locks"
	enqueueOrch(t, h, startItem(inst))
	enqueueWorker(t, h, activityItem(inst, 1))
	item := mustFetchOrch(t, h, longLock)
	md := nameVersion(testOrch, testVersion)
	md.Status = duroxide.StatusCompleted
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)},
		Metadata:     md,
	})

	res := delDelete(t, admin, inst, false)
	// Stronger than duroxide: exactly the one worker item was left, and it
	// is gone from the worker queue.
	require.Equal(t, uint64(1), res.QueueMessagesDeleted, "the pending worker item must be deleted and counted")
	require.Nil(t, fetchWork(t, h, longLock), "delete must remove the instance's worker items")

	const reusedInput = `{"reused": true}`
	enqueueOrch(t, h, duroxide.StartOrchestrationItem{
		Instance: inst, Orchestration: "ReusedOrch", Version: ptr("2.0.0"), Input: reusedInput,
		ExecutionID: duroxide.InitialExecutionID,
	})
	reused := mustFetchOrch(t, h, longLock)
	require.Equal(t, inst, reused.Instance)
	require.Equal(t, "ReusedOrch", reused.OrchestrationName, "no stale metadata may survive delete")
	// Stronger than duroxide: the new incarnation sees no old history and
	// only its own start message.
	require.Equal(t, duroxide.InitialExecutionID, reused.ExecutionID)
	require.Empty(t, reused.History)
	require.Len(t, reused.Messages, 1)
	ack(t, h, reused.LockToken, duroxide.OrchestrationAck{
		ExecutionID: duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{event(inst, 1, duroxide.OrchestrationStarted{
			Name: "ReusedOrch", Version: "2.0.0", Input: reusedInput,
		})},
		Metadata: nameVersion("ReusedOrch", "2.0.0"),
	})

	info, err := admin.GetInstanceInfo(t.Context(), inst)
	require.NoError(t, err)
	require.Equal(t, "ReusedOrch", info.OrchestrationName)
	// Stronger than duroxide: nothing of the old incarnation's execution
	// (Completed status) survives.
	require.Equal(t, "2.0.0", info.OrchestrationVersion)
	require.Equal(t, duroxide.StatusRunning, info.Status)
	require.Nil(t, info.Output)
	require.Len(t, read(t, h, inst), 1)

	delDelete(t, admin, inst, true)
}

// A sub-orchestration cannot be deleted directly, even forced; deleting the
// root deletes the whole tree and sums its counts.
func deleteCascadeHierarchy(t T, h *Harness) {
	admin := h.Admin(t)
	const root, child1, child2, grandchild = "cascade-root", "cascade-child1", "cascade-child2", "cascade-grandchild"
	delCompleted(t, h, root)
	delCompletedChild(t, h, child1, root)
	delCompletedChild(t, h, child2, root)
	delCompletedChild(t, h, grandchild, child1)
	delRequireExists(t, admin, root, child1, child2, grandchild)

	_, err := admin.DeleteInstance(t.Context(), child1, false)
	// Stronger than duroxide: the error is the permanent ErrNotRoot.
	delRequireError(t, err, duroxide.ErrNotRoot, "sub-orchestration", "root", "parent")
	_, err = admin.DeleteInstance(t.Context(), child1, true)
	delRequireError(t, err, duroxide.ErrNotRoot, "sub-orchestration", "root", "parent")
	_, err = admin.DeleteInstance(t.Context(), grandchild, false)
	delRequireError(t, err, duroxide.ErrNotRoot, "sub-orchestration", "root", "parent")
	// Stronger than duroxide: the refused deletes removed nothing.
	delRequireExists(t, admin, root, child1, child2, grandchild)

	res := delDelete(t, admin, root, false)
	// Stronger than duroxide: exact counts over the four instances.
	require.Equal(t, uint64(4), res.InstancesDeleted, "every instance of the tree counts")
	require.Equal(t, uint64(4), res.ExecutionsDeleted)
	require.Equal(t, uint64(4), res.EventsDeleted)
	delRequireGone(t, admin, root, child1, child2, grandchild)
}

// A force delete during a held turn invalidates its lock: the ack fails and
// does not recreate the instance.
func deleteForcePreventsAckRecreation(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "zombie-prevention"
	createInstance(t, h, inst)
	enqueueOrch(t, h, externalItem(inst, "test-event"))
	held := mustFetchOrch(t, h, longLock)
	require.Equal(t, inst, held.Instance)

	res := delDelete(t, admin, inst, true)
	require.GreaterOrEqual(t, res.InstancesDeleted, uint64(1))

	err := h.Provider.AckOrchestrationItem(t.Context(), held.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{event(inst, 2, duroxide.ExternalEvent{Name: "test-event", Data: "{}"})},
	})
	// Stronger than duroxide: the failure is the permanent
	// ErrInvalidLockToken, and nothing of the ack was stored.
	delRequireInvalidToken(t, err, "ack after force delete must fail")
	delRequireGone(t, admin, inst)
	require.Empty(t, read(t, h, inst), "the failed ack must not write history")
	execs, err := admin.ListExecutions(t.Context(), inst)
	require.NoError(t, err)
	require.Empty(t, execs, "the failed ack must not create an execution")
	requireNoOrch(t, h, "the deleted batch must not come back")
}

// list_children returns the direct children only, and an empty list for a
// leaf or an unknown instance.
func deleteListChildren(t T, h *Harness) {
	admin := h.Admin(t)
	const root = "list-children-root"
	child1, child2 := root+"::sub::2", root+"::sub::3"
	grandchild := child2 + "::sub::4"
	delCompleted(t, h, root)
	delChild(t, h, child1, root)
	delChild(t, h, child2, root)
	delChild(t, h, grandchild, child2)

	children, err := admin.ListChildren(t.Context(), root)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{child1, child2}, children)
	children, err = admin.ListChildren(t.Context(), child2)
	require.NoError(t, err)
	require.Equal(t, []string{grandchild}, children)
	children, err = admin.ListChildren(t.Context(), grandchild)
	require.NoError(t, err)
	require.Empty(t, children)
	children, err = admin.ListChildren(t.Context(), "non-existent")
	require.NoError(t, err, "list_children of an unknown instance is not an error")
	require.Empty(t, children)

	delDelete(t, admin, root, true)
	// Stronger than duroxide: the cascade took the whole tree.
	delRequireGone(t, admin, root, child1, child2, grandchild)
}

// get_parent_id is nil for a root, the parent for a child, and an error for
// an unknown instance.
func deleteGetParentID(t T, h *Harness) {
	admin := h.Admin(t)
	const root = "parent-id-root"
	child := root + "::sub::2"
	delCompleted(t, h, root)
	delChild(t, h, child, root)

	parent, err := admin.GetParentID(t.Context(), root)
	require.NoError(t, err)
	require.Nil(t, parent, "a root has no parent")
	parent, err = admin.GetParentID(t.Context(), child)
	require.NoError(t, err)
	require.NotNil(t, parent)
	require.Equal(t, root, *parent)
	_, err = admin.GetParentID(t.Context(), "non-existent")
	// Stronger than duroxide: the error is the permanent ErrNotFound.
	delRequireError(t, err, duroxide.ErrNotFound, "not found")

	delDelete(t, admin, root, true)
}

// get_instance_tree returns the root and all its descendants; a leaf's tree
// is itself.
func deleteGetInstanceTree(t T, h *Harness) {
	admin := h.Admin(t)
	const root = "tree-root"
	child1, child2 := root+"::sub::2", root+"::sub::3"
	grandchild := child2 + "::sub::4"
	delCompleted(t, h, root)
	delChild(t, h, child1, root)
	delChild(t, h, child2, root)
	delChild(t, h, grandchild, child2)

	tree, err := admin.GetInstanceTree(t.Context(), root)
	require.NoError(t, err)
	require.Equal(t, root, tree.RootID)
	require.Equal(t, 4, tree.Size())
	require.False(t, tree.IsRootOnly())
	require.ElementsMatch(t, []string{root, child1, child2, grandchild}, tree.AllIDs)
	// Stronger than duroxide: the root comes first, as ProviderAdmin
	// documents.
	require.Equal(t, root, tree.AllIDs[0], "all_ids must start with the root")

	leaf, err := admin.GetInstanceTree(t.Context(), grandchild)
	require.NoError(t, err)
	require.Equal(t, 1, leaf.Size())
	require.True(t, leaf.IsRootOnly())
	// Stronger than duroxide: the leaf tree is exactly the leaf.
	require.Equal(t, grandchild, leaf.RootID)
	require.Equal(t, []string{grandchild}, leaf.AllIDs)

	delDelete(t, admin, root, true)
}

// delete_instances_atomic deletes every listed instance and sums the counts.
func deleteInstancesAtomic(t T, h *Harness) {
	admin := h.Admin(t)
	ids := []string{"atomic-del-1", "atomic-del-2", "atomic-del-3"}
	for _, id := range ids {
		delCompleted(t, h, id)
	}
	delRequireExists(t, admin, ids...)

	res, err := admin.DeleteInstancesAtomic(t.Context(), ids, false)
	require.NoError(t, err)
	// Stronger than duroxide: exact counts.
	require.Equal(t, duroxide.DeleteInstanceResult{InstancesDeleted: 3, ExecutionsDeleted: 3, EventsDeleted: 3}, res)
	delRequireGone(t, admin, ids...)
}

// Without force, one running instance in the list fails the whole delete and
// deletes nothing; with force everything goes.
func deleteInstancesAtomicForce(t T, h *Harness) {
	admin := h.Admin(t)
	const completed, running = "atomic-force-completed", "atomic-force-running"
	delCompleted(t, h, completed)
	createInstance(t, h, running)
	ids := []string{completed, running}

	_, err := admin.DeleteInstancesAtomic(t.Context(), ids, false)
	// Stronger than duroxide: the error is the permanent ErrInstanceRunning
	// and says "running".
	delRequireError(t, err, duroxide.ErrInstanceRunning, "running")
	delRequireExists(t, admin, completed, running)

	res, err := admin.DeleteInstancesAtomic(t.Context(), ids, true)
	require.NoError(t, err)
	require.GreaterOrEqual(t, res.InstancesDeleted, uint64(1))
	delRequireGone(t, admin, completed, running)
}

// A list that names a parent but not its child fails (child/orphan/tree)
// and deletes nothing; the complete list succeeds.
func deleteInstancesAtomicOrphanDetection(t T, h *Harness) {
	admin := h.Admin(t)
	const root = "orphan-detect-root"
	child := root + "::sub::2"
	delCompleted(t, h, root)
	delChild(t, h, child, root)
	delRequireExists(t, admin, root, child)

	_, err := admin.DeleteInstancesAtomic(t.Context(), []string{root}, false)
	// Stronger than duroxide: the error is the permanent ErrOrphanChild.
	delRequireError(t, err, duroxide.ErrOrphanChild, "child", "orphan", "tree")
	delRequireExists(t, admin, root, child)

	_, err = admin.DeleteInstancesAtomic(t.Context(), []string{root, child}, false)
	require.NoError(t, err)
	delRequireGone(t, admin, root, child)
}

// A worker lock held across a force delete and a recreation of the same id
// cannot ack: the stale completion never reaches the new incarnation.
func deleteStaleActivityAfterRecreate(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "stale-activity-recreate"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)
	scheduled := event(inst, 2, duroxide.ActivityScheduled{Name: "OldActivity", Input: "old-input"})
	scheduled.SourceEventID = ptr(uint64(2))
	work := activityItem(inst, 2)
	work.Name, work.Input = "OldActivity", "old-input"
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion), scheduled},
		WorkerItems:  []duroxide.WorkItem{work},
		Metadata:     nameVersion(testOrch, testVersion),
	})
	old := mustFetchWork(t, h, longLock)

	res := delDelete(t, admin, inst, true)
	require.GreaterOrEqual(t, res.InstancesDeleted, uint64(1))
	delRequireGone(t, admin, inst)

	createInstance(t, h, inst)
	info, err := admin.GetInstanceInfo(t.Context(), inst)
	require.NoError(t, err)
	require.Equal(t, testOrch, info.OrchestrationName)

	err = h.Provider.AckWorkItem(t.Context(), old.LockToken, completedItem(inst, 2, "stale-result-from-old-instance"))
	// Stronger than duroxide: the failure is the permanent
	// ErrInvalidLockToken.
	delRequireInvalidToken(t, err, "a worker token of a deleted instance must not ack")
	// Stronger than duroxide: the old worker item is not fetchable either.
	require.Nil(t, fetchWork(t, h, longLock), "the deleted instance's worker item must be gone")

	enqueueOrch(t, h, externalItem(inst, "probe-event"))
	probe := mustFetchOrch(t, h, longLock)
	for _, m := range probe.Messages {
		if c, ok := m.(duroxide.ActivityCompletedItem); ok {
			require.NotContains(t, c.Result, "stale-result", "the new incarnation must not see the stale completion")
		}
	}
	// Stronger than duroxide: the batch is exactly the probe.
	require.Equal(t, []duroxide.WorkItem{externalItem(inst, "probe-event")}, probe.Messages)
	md := duroxide.ExecutionMetadata{Status: duroxide.StatusCompleted}
	ack(t, h, probe.LockToken, duroxide.OrchestrationAck{ExecutionID: duroxide.InitialExecutionID, Metadata: md})
	delDelete(t, admin, inst, true)
}

// Not in duroxide (contract §5.14, §9.11): delete removes every orchestrator
// message of the instance (the held batch, messages that arrived during the
// lock, delayed ones) and every worker item (locked or not), counts them,
// and touches no other instance.
func deleteRemovesQueuedAndLockedWork(t T, h *Harness) {
	admin := h.Admin(t)
	const inst, other = "del-work", "del-bystander"
	createInstance(t, h, other)
	createInstance(t, h, inst)

	enqueueOrch(t, h, externalItem(inst, "in-batch"))
	held := mustFetchOrch(t, h, longLock)
	require.Equal(t, inst, held.Instance)
	enqueueOrch(t, h, externalItem(inst, "during-lock"))
	require.NoError(t, h.Provider.EnqueueForOrchestrator(t.Context(), externalItem(inst, "delayed"), h.LockTimeout))
	enqueueWorker(t, h, activityItem(inst, 1))
	enqueueWorker(t, h, activityItem(inst, 2))
	locked := mustFetchWork(t, h, longLock)
	require.Equal(t, activityItem(inst, 1), locked.Item)
	// The bystander's work is enqueued last so that the fetches above could
	// not take it.
	enqueueOrch(t, h, externalItem(other, "keep"))
	enqueueWorker(t, h, activityItem(other, 7))

	res := delDelete(t, admin, inst, true)
	require.Equal(t, duroxide.DeleteInstanceResult{
		InstancesDeleted:     1,
		ExecutionsDeleted:    1,
		EventsDeleted:        1,
		QueueMessagesDeleted: 5, // in-batch, during-lock, delayed, two activities
	}, res)

	// Past the delay and past any lock: nothing of inst comes back.
	h.Sleep(t, h.LockTimeout+h.Slack)
	batch := mustFetchOrch(t, h, longLock)
	require.Equal(t, other, batch.Instance, "only the bystander has orchestrator work")
	require.Equal(t, []duroxide.WorkItem{externalItem(other, "keep")}, batch.Messages)
	requireNoOrch(t, h, "no message of the deleted instance may remain")
	w := mustFetchWork(t, h, longLock)
	require.Equal(t, activityItem(other, 7), w.Item, "only the bystander has worker work")
	require.Nil(t, fetchWork(t, h, longLock), "no worker item of the deleted instance may remain")

	delRequireExists(t, admin, other)
	require.Len(t, read(t, h, other), 1, "the bystander's history is untouched")
}

// Not in duroxide (contract §5.13, §6.3, §9.11): after a force delete, every
// token of the deleted instance (orchestration and worker) fails with
// ErrInvalidLockToken on ack, renew and abandon; none of those calls
// recreates the instance or enqueues anything, and after the id is reused
// the stale tokens still cannot touch the new incarnation.
func deleteStaleTokensDoNotResurrect(t T, h *Harness) {
	admin := h.Admin(t)
	ctx := t.Context()
	p := h.Provider
	const inst = "del-stale"
	createInstance(t, h, inst)
	enqueueOrch(t, h, externalItem(inst, "e"))
	orch := mustFetchOrch(t, h, longLock)
	enqueueWorker(t, h, activityItem(inst, 1))
	work := mustFetchWork(t, h, longLock)

	delDelete(t, admin, inst, true)

	md := nameVersion(testOrch, testVersion)
	md.Status = duroxide.StatusCompleted
	md.Output = ptr("zombie")
	staleAck := duroxide.OrchestrationAck{
		ExecutionID: duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{
			event(inst, 2, duroxide.ExternalEvent{Name: "e", Data: "{}"}),
			event(inst, 3, duroxide.CustomStatusUpdated{Status: ptr("zombie")}),
		},
		WorkerItems:       []duroxide.WorkItem{activityItem(inst, 9)},
		OrchestratorItems: []duroxide.WorkItem{externalItem(inst, "from-stale-ack")},
		Metadata:          md,
	}
	delRequireInvalidToken(t, p.AckOrchestrationItem(ctx, orch.LockToken, staleAck), "stale orchestration ack")
	delRequireInvalidToken(t, p.RenewOrchestrationItemLock(ctx, orch.LockToken, longLock), "stale orchestration renew")
	delRequireInvalidToken(t, p.AbandonOrchestrationItem(ctx, orch.LockToken, 0, false), "stale orchestration abandon")
	delRequireInvalidToken(t, p.AckWorkItem(ctx, work.LockToken, completedItem(inst, 1, "stale")), "stale worker ack")
	delRequireInvalidToken(t, p.RenewWorkItemLock(ctx, work.LockToken, longLock), "stale worker renew")
	delRequireInvalidToken(t, p.AbandonWorkItem(ctx, work.LockToken, 0, false), "stale worker abandon")

	delRequireGone(t, admin, inst)
	require.Empty(t, read(t, h, inst))
	execs, err := admin.ListExecutions(ctx, inst)
	require.NoError(t, err)
	require.Empty(t, execs)
	ids, err := admin.ListInstances(ctx)
	require.NoError(t, err)
	require.Empty(t, ids)
	_, ok, err := p.GetCustomStatus(ctx, inst, 0)
	require.NoError(t, err)
	require.False(t, ok, "the stale ack must not set a custom status")
	metrics, err := admin.GetSystemMetrics(ctx)
	require.NoError(t, err)
	require.Equal(t, duroxide.SystemMetrics{}, metrics, "the store must be empty")
	depths, err := admin.GetQueueDepths(ctx)
	require.NoError(t, err)
	require.Equal(t, duroxide.QueueDepths{}, depths, "both queues must be empty")
	requireNoOrch(t, h, "the stale calls must not enqueue orchestrator work")
	require.Nil(t, fetchWork(t, h, longLock), "the stale calls must not enqueue worker work")

	// Reuse the id; the stale orchestration token still cannot ack, and the
	// new turn's lock is undisturbed.
	enqueueOrch(t, h, startItem(inst))
	fresh := mustFetchOrch(t, h, longLock)
	require.NotEqual(t, orch.LockToken, fresh.LockToken)
	require.Empty(t, fresh.History)
	delRequireInvalidToken(t, p.AckOrchestrationItem(ctx, orch.LockToken, staleAck), "stale ack against the new incarnation")
	delRequireInvalidToken(t, p.AbandonOrchestrationItem(ctx, orch.LockToken, 0, false), "stale abandon against the new incarnation")
	ack(t, h, fresh.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)},
		Metadata:     nameVersion(testOrch, testVersion),
	})
	require.Equal(t, []uint64{1}, eventIDs(read(t, h, inst)))
	require.Nil(t, fetchWork(t, h, longLock))
	requireNoOrch(t, h)
}

// Not in duroxide (contract §5.13, §5.14): the running check covers the
// whole tree, so a non-forced delete of a completed root with a running child
// fails and deletes nothing; forced, the tree goes.
func deleteRootWithRunningChildRejected(t T, h *Harness) {
	admin := h.Admin(t)
	const root, child = "del-running-tree-root", "del-running-tree-child"
	delCompleted(t, h, root)
	delCreate(t, h, child, "ChildOrch", root, nil, "", nil) // Running

	_, err := admin.DeleteInstance(t.Context(), root, false)
	delRequireError(t, err, duroxide.ErrInstanceRunning, "running")
	delRequireExists(t, admin, root, child)
	_, err = admin.DeleteInstancesAtomic(t.Context(), []string{root, child}, false)
	delRequireError(t, err, duroxide.ErrInstanceRunning, "running")
	delRequireExists(t, admin, root, child)

	res := delDelete(t, admin, root, true)
	require.Equal(t, uint64(2), res.InstancesDeleted)
	delRequireGone(t, admin, root, child)
}

// Not in duroxide (contract §5.14): force skips only the running check; the
// orphan check still refuses a list that leaves a child behind.
func deleteAtomicOrphanCheckIgnoresForce(t T, h *Harness) {
	admin := h.Admin(t)
	const root = "del-orphan-force-root"
	child := root + "::sub::2"
	delCompleted(t, h, root)
	delChild(t, h, child, root)

	_, err := admin.DeleteInstancesAtomic(t.Context(), []string{root}, true)
	delRequireError(t, err, duroxide.ErrOrphanChild, "child", "orphan", "tree")
	delRequireExists(t, admin, root, child)
}

// Not in duroxide (contract §5.14): an empty list deletes nothing and is not
// an error; ids without an instance do not block the delete of the others.
func deleteAtomicEmptyAndUnknownIDs(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "del-empty-list"
	delCompleted(t, h, inst)

	res, err := admin.DeleteInstancesAtomic(t.Context(), []string{}, false)
	require.NoError(t, err)
	require.Equal(t, duroxide.DeleteInstanceResult{}, res)
	res, err = admin.DeleteInstancesAtomic(t.Context(), nil, true)
	require.NoError(t, err)
	require.Equal(t, duroxide.DeleteInstanceResult{}, res)
	delRequireExists(t, admin, inst)

	res, err = admin.DeleteInstancesAtomic(t.Context(), []string{"del-unknown", inst}, false)
	require.NoError(t, err, "an unknown id must not block the delete")
	require.Equal(t, uint64(1), res.ExecutionsDeleted)
	delRequireGone(t, admin, inst)
}

// Not in duroxide (contract §5.14, §9.11): delete removes every execution
// and the instance's custom status; a recreated instance starts from
// execution 1 with only its own history.
func deleteThenRecreateStartsFresh(t T, h *Harness) {
	admin := h.Admin(t)
	ctx := t.Context()
	const inst = "del-recreate"
	md := nameVersion(testOrch, testVersion)
	md.Status = duroxide.StatusContinuedAsNew
	delTurn(t, h, inst, startItem(inst), 1, []duroxide.Event{
		delStarted(inst, 1, testOrch, "", nil),
		delEvent(inst, 1, 2, duroxide.CustomStatusUpdated{Status: ptr("old-status")}),
	}, md)
	md.Status = duroxide.StatusCompleted
	delTurn(t, h, inst, duroxide.ContinueAsNewItem{Instance: inst, Orchestration: testOrch, Input: "{}", Version: ptr(testVersion)},
		2, []duroxide.Event{delStarted(inst, 2, testOrch, "", nil)}, md)
	_, ok, err := h.Provider.GetCustomStatus(ctx, inst, 0)
	require.NoError(t, err)
	require.True(t, ok, "setup: custom status is set")

	res := delDelete(t, admin, inst, false)
	require.Equal(t, duroxide.DeleteInstanceResult{InstancesDeleted: 1, ExecutionsDeleted: 2, EventsDeleted: 3}, res)
	_, ok, err = h.Provider.GetCustomStatus(ctx, inst, 0)
	require.NoError(t, err)
	require.False(t, ok, "delete must remove the custom status")
	execs, err := admin.ListExecutions(ctx, inst)
	require.NoError(t, err)
	require.Empty(t, execs)
	for _, e := range []uint64{1, 2} {
		hist, err := h.Provider.ReadWithExecution(ctx, inst, e)
		require.NoError(t, err)
		require.Empty(t, hist, "execution %d's history must be gone", e)
	}

	createInstance(t, h, inst)
	info, err := admin.GetInstanceInfo(ctx, inst)
	require.NoError(t, err)
	require.Equal(t, duroxide.InitialExecutionID, info.CurrentExecutionID)
	require.Equal(t, duroxide.StatusRunning, info.Status)
	require.Nil(t, info.Output)
	execs, err = admin.ListExecutions(ctx, inst)
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, execs)
	require.Equal(t, []uint64{1}, eventIDs(read(t, h, inst)))
	hist, err := h.Provider.ReadWithExecution(ctx, inst, 2)
	require.NoError(t, err)
	require.Empty(t, hist)
	_, ok, err = h.Provider.GetCustomStatus(ctx, inst, 0)
	require.NoError(t, err)
	require.False(t, ok, "the new incarnation has no custom status")
}

// Not in duroxide (contract §5.14): deleting an id removes the worker items
// whose activity identity names it, even when the instance has no other
// state (no record, history or orchestrator message). Found by proptest:
// memprovider once looked worker items up only through instance state.
func deleteRemovesWorkerItemsWithoutState(t T, h *Harness) {
	admin := h.Admin(t)
	enqueueWorker(t, h, activityItem("worker-only", 1))
	enqueueWorker(t, h, activityItem("other", 1))
	res, err := admin.DeleteInstancesAtomic(t.Context(), []string{"worker-only"}, false)
	require.NoError(t, err)
	require.Equal(t, uint64(1), res.QueueMessagesDeleted)
	w := mustFetchWork(t, h, longLock)
	require.Equal(t, "other", w.Item.(duroxide.ActivityExecuteItem).Instance, "only the other instance's item is left")
	require.Nil(t, fetchWork(t, h, longLock))
}

// Not in duroxide (contract §5.12): the tree of an id with no instance
// record is that id alone; it is not an error.
func deleteGetInstanceTreeOfUnknownRoot(t T, h *Harness) {
	admin := h.Admin(t)
	tree, err := admin.GetInstanceTree(t.Context(), "no-such-root")
	require.NoError(t, err)
	require.Equal(t, duroxide.InstanceTree{RootID: "no-such-root", AllIDs: []string{"no-such-root"}}, tree)
	require.True(t, tree.IsRootOnly())
}
