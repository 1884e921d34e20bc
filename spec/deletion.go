package spec

import (
	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// deletionCases: delete_instance deletes a root with its whole tree, refuses
// running instances unless forced and sub-orchestrations always, and leaves
// nothing behind that a stale token or a recreated instance could see.
func deletionCases() []Case {
	return []Case{
		{"deletion", "delete_terminal_instances", deleteTerminalInstances, Required},
		{"deletion", "delete_running_rejected_force_succeeds", deleteRunningRejectedForceSucceeds, Required},
		{"deletion", "delete_nonexistent_instance", deleteNonexistentInstance, Required},
		{"deletion", "delete_cleans_queues_and_locks", deleteCleansQueuesAndLocks, Required},
		{"deletion", "cascade_delete_hierarchy", deleteCascadeHierarchy, Required},
		{"deletion", "force_delete_prevents_ack_recreation", deleteForcePreventsAckRecreation, Required},
		{"deletion", "list_children", deleteListChildren, Required},
		{"deletion", "delete_get_parent_id", deleteGetParentID, Required},
		{"deletion", "delete_get_instance_tree", deleteGetInstanceTree, Required},
		{"deletion", "delete_instances_atomic", deleteInstancesAtomic, Required},
		{"deletion", "delete_instances_atomic_force", deleteInstancesAtomicForce, Required},
		{"deletion", "delete_instances_atomic_orphan_detection", deleteInstancesAtomicOrphanDetection, Required},
		{"deletion", "stale_activity_after_delete_recreate", deleteStaleActivityAfterRecreate, Required},
		// Not in duroxide:
		{"deletion", "delete_removes_queued_and_locked_work", deleteRemovesQueuedAndLockedWork, Required},
		{"deletion", "stale_tokens_after_force_delete_do_not_resurrect", deleteStaleTokensDoNotResurrect, Required},
		{"deletion", "delete_root_with_running_child_rejected", deleteRootWithRunningChildRejected, Required},
		{"deletion", "delete_instances_atomic_orphan_check_ignores_force", deleteAtomicOrphanCheckIgnoresForce, Required},
		{"deletion", "delete_instances_atomic_empty_and_unknown_ids", deleteAtomicEmptyAndUnknownIDs, Required},
		{"deletion", "delete_then_recreate_starts_fresh", deleteThenRecreateStartsFresh, Required},
		{"deletion", "delete_removes_worker_items_of_instance_without_state", deleteRemovesWorkerItemsWithoutState, Required},
		{"deletion", "get_instance_tree_of_unknown_root", deleteGetInstanceTreeOfUnknownRoot, Required},
	}
}

// delTree creates a completed root with two completed ChildOrch children,
// the second of which has one completed ChildOrch child, and returns the
// three descendants' ids.
func delTree(t T, h *Harness, root string) (child1, child2, grandchild string) {
	t.Helper()
	child1, child2 = root+"::sub::2", root+"::sub::3"
	grandchild = child2 + "::sub::4"
	createCompleted(t, h, root)
	createChildOrch(t, h, child1, root)
	createChildOrch(t, h, child2, root)
	createChildOrch(t, h, grandchild, child2)
	return child1, child2, grandchild
}

// Completed, failed and cancelled (Failed) instances are deleted without
// force, with their executions and events counted.
func deleteTerminalInstances(t T, h *Harness) {
	admin := h.Admin(t)
	const completed, failed, cancelled = "delete-term-completed", "delete-term-failed", "delete-term-cancelled"
	createCompleted(t, h, completed)
	createOrch(t, h, failed, testOrch, "", nil, duroxide.StatusFailed, ptr("error: something went wrong"))
	createOrch(t, h, cancelled, testOrch, "", nil, duroxide.StatusFailed, ptr("cancelled: user requested cancellation"))
	requireInstances(t, admin, completed, failed, cancelled)

	res := deleteInstance(t, admin, completed, false)
	// Stronger than duroxide: the counts are exact (one instance, one
	// execution, one event, no queue message), not just >= 1.
	require.Equal(t, duroxide.DeleteInstanceResult{InstancesDeleted: 1, ExecutionsDeleted: 1, EventsDeleted: 1}, res)
	requireNoInstances(t, admin, completed)
	// Stronger than duroxide: the history is gone too.
	require.Empty(t, read(t, h, completed))

	for _, id := range []string{failed, cancelled} {
		res := deleteInstance(t, admin, id, false)
		require.GreaterOrEqual(t, res.InstancesDeleted, uint64(1))
		requireNoInstances(t, admin, id)
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
	requirePermanentWords(t, err, duroxide.ErrInstanceRunning, "running")
	requireInstances(t, admin, inst)
	// Stronger than duroxide: the refused delete left the history in place.
	require.Len(t, read(t, h, inst), 1)

	res := deleteInstance(t, admin, inst, true)
	require.GreaterOrEqual(t, res.InstancesDeleted, uint64(1))
	requireNoInstances(t, admin, inst)
}

// Deleting an unknown instance is a permanent "not found" error.
func deleteNonexistentInstance(t T, h *Harness) {
	admin := h.Admin(t)
	_, err := admin.DeleteInstance(t.Context(), "does-not-exist-12345", false)
	// Stronger than duroxide: the error is ErrNotFound.
	requirePermanentWords(t, err, duroxide.ErrNotFound, "not found")
	// Stronger than duroxide: forcing does not change that.
	_, err = admin.DeleteInstance(t.Context(), "does-not-exist-12345", true)
	requirePermanentWords(t, err, duroxide.ErrNotFound, "not found")
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

	res := deleteInstance(t, admin, inst, false)
	// Stronger than duroxide: exactly the one worker item was left, and it
	// is gone from the worker queue.
	require.Equal(t, uint64(1), res.QueueMessagesDeleted, "the pending worker item must be deleted and counted")
	require.Nil(t, fetchWork(t, h, longLock), "delete must remove the instance's worker items")

	const reusedInput = `{"reused": true}`
	enqueueOrch(t, h, duroxide.StartOrchestrationItem{
		Instance: inst, Orchestration: "ReusedOrch", Version: ptr("2.0.0"), Input: reusedInput,
		ExecutionID: duroxide.InitialExecutionID,
	})
	reused := fetchInstance(t, h, inst)
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

	deleteInstance(t, admin, inst, true)
}

// A sub-orchestration cannot be deleted directly, even forced; deleting the
// root deletes the whole tree and sums its counts.
func deleteCascadeHierarchy(t T, h *Harness) {
	admin := h.Admin(t)
	const root, child1, child2, grandchild = "cascade-root", "cascade-child1", "cascade-child2", "cascade-grandchild"
	createCompleted(t, h, root)
	createCompletedChild(t, h, child1, root)
	createCompletedChild(t, h, child2, root)
	createCompletedChild(t, h, grandchild, child1)
	requireInstances(t, admin, root, child1, child2, grandchild)

	_, err := admin.DeleteInstance(t.Context(), child1, false)
	// Stronger than duroxide: the error is the permanent ErrNotRoot.
	requirePermanentWords(t, err, duroxide.ErrNotRoot, "sub-orchestration", "root", "parent")
	_, err = admin.DeleteInstance(t.Context(), child1, true)
	requirePermanentWords(t, err, duroxide.ErrNotRoot, "sub-orchestration", "root", "parent")
	_, err = admin.DeleteInstance(t.Context(), grandchild, false)
	requirePermanentWords(t, err, duroxide.ErrNotRoot, "sub-orchestration", "root", "parent")
	// Stronger than duroxide: the refused deletes removed nothing.
	requireInstances(t, admin, root, child1, child2, grandchild)

	res := deleteInstance(t, admin, root, false)
	// Stronger than duroxide: exact counts over the four instances.
	require.Equal(t, uint64(4), res.InstancesDeleted, "every instance of the tree counts")
	require.Equal(t, uint64(4), res.ExecutionsDeleted)
	require.Equal(t, uint64(4), res.EventsDeleted)
	requireNoInstances(t, admin, root, child1, child2, grandchild)
}

// A force delete during a held turn invalidates its lock: the ack fails and
// does not recreate the instance.
func deleteForcePreventsAckRecreation(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "zombie-prevention"
	createInstance(t, h, inst)
	held := raiseAndFetch(t, h, inst, "test-event")

	res := deleteInstance(t, admin, inst, true)
	require.GreaterOrEqual(t, res.InstancesDeleted, uint64(1))

	err := h.Provider.AckOrchestrationItem(t.Context(), held.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{event(inst, 2, duroxide.ExternalEvent{Name: "test-event", Data: "{}"})},
	})
	// Stronger than duroxide: the failure is the permanent
	// ErrInvalidLockToken, and nothing of the ack was stored.
	requireInvalidToken(t, err, "ack after force delete must fail")
	requireNoInstances(t, admin, inst)
	require.Empty(t, read(t, h, inst), "the failed ack must not write history")
	require.Empty(t, listExecutions(t, admin, inst), "the failed ack must not create an execution")
	requireNoOrch(t, h, "the deleted batch must not come back")
}

// list_children returns the direct children only, and an empty list for a
// leaf or an unknown instance.
func deleteListChildren(t T, h *Harness) {
	admin := h.Admin(t)
	const root = "list-children-root"
	child1, child2, grandchild := delTree(t, h, root)

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

	deleteInstance(t, admin, root, true)
	// Stronger than duroxide: the cascade took the whole tree.
	requireNoInstances(t, admin, root, child1, child2, grandchild)
}

// get_parent_id is nil for a root, the parent for a child, and an error for
// an unknown instance.
func deleteGetParentID(t T, h *Harness) {
	admin := h.Admin(t)
	const root = "parent-id-root"
	child := root + "::sub::2"
	createCompleted(t, h, root)
	createChildOrch(t, h, child, root)

	parent, err := admin.GetParentID(t.Context(), root)
	require.NoError(t, err)
	require.Nil(t, parent, "a root has no parent")
	parent, err = admin.GetParentID(t.Context(), child)
	require.NoError(t, err)
	require.NotNil(t, parent)
	require.Equal(t, root, *parent)
	_, err = admin.GetParentID(t.Context(), "non-existent")
	// Stronger than duroxide: the error is the permanent ErrNotFound.
	requirePermanentWords(t, err, duroxide.ErrNotFound, "not found")

	deleteInstance(t, admin, root, true)
}

// get_instance_tree returns the root and all its descendants; a leaf's tree
// is itself.
func deleteGetInstanceTree(t T, h *Harness) {
	admin := h.Admin(t)
	const root = "tree-root"
	child1, child2, grandchild := delTree(t, h, root)

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

	deleteInstance(t, admin, root, true)
}

// delete_instances_atomic deletes every listed instance and sums the counts.
func deleteInstancesAtomic(t T, h *Harness) {
	admin := h.Admin(t)
	ids := []string{"atomic-del-1", "atomic-del-2", "atomic-del-3"}
	for _, id := range ids {
		createCompleted(t, h, id)
	}
	requireInstances(t, admin, ids...)

	res, err := admin.DeleteInstancesAtomic(t.Context(), ids, false)
	require.NoError(t, err)
	// Stronger than duroxide: exact counts.
	require.Equal(t, duroxide.DeleteInstanceResult{InstancesDeleted: 3, ExecutionsDeleted: 3, EventsDeleted: 3}, res)
	requireNoInstances(t, admin, ids...)
}

// Without force, one running instance in the list fails the whole delete and
// deletes nothing; with force everything goes.
func deleteInstancesAtomicForce(t T, h *Harness) {
	admin := h.Admin(t)
	const completed, running = "atomic-force-completed", "atomic-force-running"
	createCompleted(t, h, completed)
	createInstance(t, h, running)
	ids := []string{completed, running}

	_, err := admin.DeleteInstancesAtomic(t.Context(), ids, false)
	// Stronger than duroxide: the error is the permanent ErrInstanceRunning
	// and says "running".
	requirePermanentWords(t, err, duroxide.ErrInstanceRunning, "running")
	requireInstances(t, admin, completed, running)

	res, err := admin.DeleteInstancesAtomic(t.Context(), ids, true)
	require.NoError(t, err)
	require.GreaterOrEqual(t, res.InstancesDeleted, uint64(1))
	requireNoInstances(t, admin, completed, running)
}

// A list that names a parent but not its child fails (child/orphan/tree)
// and deletes nothing; the complete list succeeds.
func deleteInstancesAtomicOrphanDetection(t T, h *Harness) {
	admin := h.Admin(t)
	const root = "orphan-detect-root"
	child := root + "::sub::2"
	createCompleted(t, h, root)
	createChildOrch(t, h, child, root)
	requireInstances(t, admin, root, child)

	_, err := admin.DeleteInstancesAtomic(t.Context(), []string{root}, false)
	// Stronger than duroxide: the error is the permanent ErrOrphanChild.
	requirePermanentWords(t, err, duroxide.ErrOrphanChild, "child", "orphan", "tree")
	requireInstances(t, admin, root, child)

	_, err = admin.DeleteInstancesAtomic(t.Context(), []string{root, child}, false)
	require.NoError(t, err)
	requireNoInstances(t, admin, root, child)
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

	res := deleteInstance(t, admin, inst, true)
	require.GreaterOrEqual(t, res.InstancesDeleted, uint64(1))
	requireNoInstances(t, admin, inst)

	createInstance(t, h, inst)
	info, err := admin.GetInstanceInfo(t.Context(), inst)
	require.NoError(t, err)
	require.Equal(t, testOrch, info.OrchestrationName)

	err = h.Provider.AckWorkItem(t.Context(), old.LockToken, completedItem(inst, 2, "stale-result-from-old-instance"))
	// Stronger than duroxide: the failure is the permanent
	// ErrInvalidLockToken.
	requireInvalidToken(t, err, "a worker token of a deleted instance must not ack")
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
	deleteInstance(t, admin, inst, true)
}

// Not in duroxide ([duroxide.ProviderAdmin.DeleteInstancesAtomic]): delete
// removes every orchestrator
// message of the instance (the held batch, messages that arrived during the
// lock, delayed ones) and every worker item (locked or not), counts them,
// and touches no other instance.
func deleteRemovesQueuedAndLockedWork(t T, h *Harness) {
	admin := h.Admin(t)
	const inst, other = "del-work", "del-bystander"
	createInstance(t, h, other)
	createInstance(t, h, inst)

	raiseAndFetch(t, h, inst, "in-batch")
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

	res := deleteInstance(t, admin, inst, true)
	require.Equal(t, duroxide.DeleteInstanceResult{
		InstancesDeleted:     1,
		ExecutionsDeleted:    1,
		EventsDeleted:        1,
		QueueMessagesDeleted: 5, // in-batch, during-lock, delayed, two activities
	}, res)

	// Past the delay and past any lock: nothing of inst comes back.
	h.Sleep(t, h.LockTimeout+h.Slack)
	batch := fetchInstance(t, h, other, "only the bystander has orchestrator work")
	require.Equal(t, []duroxide.WorkItem{externalItem(other, "keep")}, batch.Messages)
	requireNoOrch(t, h, "no message of the deleted instance may remain")
	w := mustFetchWork(t, h, longLock)
	require.Equal(t, activityItem(other, 7), w.Item, "only the bystander has worker work")
	require.Nil(t, fetchWork(t, h, longLock), "no worker item of the deleted instance may remain")

	requireInstances(t, admin, other)
	require.Len(t, read(t, h, other), 1, "the bystander's history is untouched")
}

// Not in duroxide ([duroxide.ProviderAdmin.DeleteInstance]): after a force
// delete, every
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

	deleteInstance(t, admin, inst, true)

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
	requireInvalidToken(t, p.AckOrchestrationItem(ctx, orch.LockToken, staleAck), "stale orchestration ack")
	requireInvalidToken(t, p.RenewOrchestrationItemLock(ctx, orch.LockToken, longLock), "stale orchestration renew")
	requireInvalidToken(t, p.AbandonOrchestrationItem(ctx, orch.LockToken, 0, false), "stale orchestration abandon")
	requireInvalidToken(t, p.AckWorkItem(ctx, work.LockToken, completedItem(inst, 1, "stale")), "stale worker ack")
	requireInvalidToken(t, p.RenewWorkItemLock(ctx, work.LockToken, longLock), "stale worker renew")
	requireInvalidToken(t, p.AbandonWorkItem(ctx, work.LockToken, 0, false), "stale worker abandon")

	requireNoInstances(t, admin, inst)
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
	requireInvalidToken(t, p.AckOrchestrationItem(ctx, orch.LockToken, staleAck), "stale ack against the new incarnation")
	requireInvalidToken(t, p.AbandonOrchestrationItem(ctx, orch.LockToken, 0, false), "stale abandon against the new incarnation")
	ack(t, h, fresh.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)},
		Metadata:     nameVersion(testOrch, testVersion),
	})
	require.Equal(t, []uint64{1}, eventIDs(read(t, h, inst)))
	require.Nil(t, fetchWork(t, h, longLock))
	requireNoOrch(t, h)
}

// Not in duroxide ([duroxide.ProviderAdmin.DeleteInstance]): the running
// check covers the
// whole tree, so a non-forced delete of a completed root with a running child
// fails and deletes nothing; forced, the tree goes.
func deleteRootWithRunningChildRejected(t T, h *Harness) {
	admin := h.Admin(t)
	const root, child = "del-running-tree-root", "del-running-tree-child"
	createCompleted(t, h, root)
	createOrch(t, h, child, "ChildOrch", root, nil, "", nil) // Running

	_, err := admin.DeleteInstance(t.Context(), root, false)
	requirePermanentWords(t, err, duroxide.ErrInstanceRunning, "running")
	requireInstances(t, admin, root, child)
	_, err = admin.DeleteInstancesAtomic(t.Context(), []string{root, child}, false)
	requirePermanentWords(t, err, duroxide.ErrInstanceRunning, "running")
	requireInstances(t, admin, root, child)

	res := deleteInstance(t, admin, root, true)
	require.Equal(t, uint64(2), res.InstancesDeleted)
	requireNoInstances(t, admin, root, child)
}

// Not in duroxide ([duroxide.ProviderAdmin.DeleteInstancesAtomic]): force
// skips only the running check; the
// orphan check still refuses a list that leaves a child behind.
func deleteAtomicOrphanCheckIgnoresForce(t T, h *Harness) {
	admin := h.Admin(t)
	const root = "del-orphan-force-root"
	child := root + "::sub::2"
	createCompleted(t, h, root)
	createChildOrch(t, h, child, root)

	_, err := admin.DeleteInstancesAtomic(t.Context(), []string{root}, true)
	requirePermanentWords(t, err, duroxide.ErrOrphanChild, "child", "orphan", "tree")
	requireInstances(t, admin, root, child)
}

// Not in duroxide ([duroxide.ProviderAdmin.DeleteInstancesAtomic]): an empty
// list deletes nothing and is not
// an error; ids without an instance do not block the delete of the others.
func deleteAtomicEmptyAndUnknownIDs(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "del-empty-list"
	createCompleted(t, h, inst)

	res, err := admin.DeleteInstancesAtomic(t.Context(), []string{}, false)
	require.NoError(t, err)
	require.Equal(t, duroxide.DeleteInstanceResult{}, res)
	res, err = admin.DeleteInstancesAtomic(t.Context(), nil, true)
	require.NoError(t, err)
	require.Equal(t, duroxide.DeleteInstanceResult{}, res)
	requireInstances(t, admin, inst)

	res, err = admin.DeleteInstancesAtomic(t.Context(), []string{"del-unknown", inst}, false)
	require.NoError(t, err, "an unknown id must not block the delete")
	require.Equal(t, uint64(1), res.ExecutionsDeleted)
	requireNoInstances(t, admin, inst)
}

// Not in duroxide ([duroxide.ProviderAdmin.DeleteInstancesAtomic]): delete
// removes every execution
// and the instance's custom status; a recreated instance starts from
// execution 1 with only its own history.
func deleteThenRecreateStartsFresh(t T, h *Harness) {
	admin := h.Admin(t)
	ctx := t.Context()
	const inst = "del-recreate"
	md := nameVersion(testOrch, testVersion)
	md.Status = duroxide.StatusContinuedAsNew
	runTurn(t, h, inst, startItem(inst), 1, []duroxide.Event{
		executionStarted(inst, 1, testOrch, "", nil),
		execEvent(inst, 1, 2, duroxide.CustomStatusUpdated{Status: ptr("old-status")}),
	}, md)
	md.Status = duroxide.StatusCompleted
	runTurn(t, h, inst, duroxide.ContinueAsNewItem{Instance: inst, Orchestration: testOrch, Input: "{}", Version: ptr(testVersion)},
		2, []duroxide.Event{executionStarted(inst, 2, testOrch, "", nil)}, md)
	_, ok, err := h.Provider.GetCustomStatus(ctx, inst, 0)
	require.NoError(t, err)
	require.True(t, ok, "setup: custom status is set")

	res := deleteInstance(t, admin, inst, false)
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

// Not in duroxide ([duroxide.ProviderAdmin.DeleteInstancesAtomic]): deleting
// an id removes the worker items
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

// Not in duroxide ([duroxide.ProviderAdmin.GetInstanceTree]): the tree of an
// id with no instance
// record is that id alone; it is not an error.
func deleteGetInstanceTreeOfUnknownRoot(t T, h *Harness) {
	admin := h.Admin(t)
	tree, err := admin.GetInstanceTree(t.Context(), "no-such-root")
	require.NoError(t, err)
	require.Equal(t, duroxide.InstanceTree{RootID: "no-such-root", AllIDs: []string{"no-such-root"}}, tree)
	require.True(t, tree.IsRootOnly())
}
