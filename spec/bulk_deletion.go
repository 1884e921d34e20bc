package spec

import (
	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// bulkDeletionCases: delete_instance_bulk deletes terminal root instances
// matching a filter, each with its whole tree, skips running ones, and
// honours instance ids, completed_before and limit.
func bulkDeletionCases() []Case {
	return []Case{
		{"bulk_deletion", "delete_instance_bulk_filter_combinations", bulkDelFilterCombinations, Required},
		{"bulk_deletion", "delete_instance_bulk_safety_and_limits", bulkDelSafetyAndLimits, Required},
		{"bulk_deletion", "delete_instance_bulk_completed_before_filter", bulkDelCompletedBeforeFilter, Required},
		{"bulk_deletion", "delete_instance_bulk_cascades_to_children", bulkDelCascadesToChildren, Required},
		// Not in duroxide:
		{"bulk_deletion", "delete_instance_bulk_terminal_statuses", bulkDelTerminalStatuses, Required},
		{"bulk_deletion", "delete_instance_bulk_roots_only", bulkDelRootsOnly, Required},
		{"bulk_deletion", "delete_instance_bulk_empty_id_list", bulkDelEmptyIDList, Required},
		{"bulk_deletion", "delete_instance_bulk_limit_counts_roots", bulkDelLimitCountsRoots, Required},
	}
}

// bulkDel runs delete_instance_bulk and requires success.
func bulkDel(t T, admin duroxide.ProviderAdmin, f duroxide.InstanceFilter) duroxide.DeleteInstanceResult {
	t.Helper()
	res, err := admin.DeleteInstanceBulk(t.Context(), f)
	require.NoError(t, err, "delete_instance_bulk(%+v)", f)
	return res
}

// Instance ids select exactly the listed instances; unknown ids match nothing;
// an empty filter takes every remaining terminal instance.
func bulkDelFilterCombinations(t T, h *Harness) {
	admin := h.Admin(t)
	ids := []string{"bulk-del-filter-0", "bulk-del-filter-1", "bulk-del-filter-2", "bulk-del-filter-3", "bulk-del-filter-4"}
	for _, id := range ids {
		createCompleted(t, h, id)
	}

	res := bulkDel(t, admin, duroxide.InstanceFilter{InstanceIDs: ids[:2]})
	require.Equal(t, uint64(2), res.InstancesDeleted)
	requireNoInstances(t, admin, ids[:2]...)
	// Stronger than duroxide: all three unlisted instances remain (duroxide
	// checks one).
	requireInstances(t, admin, ids[2:]...)

	res = bulkDel(t, admin, duroxide.InstanceFilter{InstanceIDs: []string{"does-not-exist-1", "does-not-exist-2"}})
	// Stronger than duroxide: the whole result is zero, not only the
	// instance count.
	require.Equal(t, duroxide.DeleteInstanceResult{}, res, "unknown ids match nothing")
	requireInstances(t, admin, ids[2:]...)

	res = bulkDel(t, admin, duroxide.InstanceFilter{})
	// Stronger than duroxide: exactly the three remaining instances (the
	// store is fresh), with their executions and events.
	require.Equal(t, duroxide.DeleteInstanceResult{InstancesDeleted: 3, ExecutionsDeleted: 3, EventsDeleted: 3}, res)
	requireNoInstances(t, admin, ids[2:]...)
}

// Running instances are skipped silently, and limit bounds each call so
// repeated calls drain the terminal instances in batches.
func bulkDelSafetyAndLimits(t T, h *Harness) {
	admin := h.Admin(t)
	const completed1, completed2 = "bulk-del-safe-completed-1", "bulk-del-safe-completed-2"
	const running1, running2 = "bulk-del-safe-running-1", "bulk-del-safe-running-2"
	createCompleted(t, h, completed1)
	createCompleted(t, h, completed2)
	createInstance(t, h, running1)
	createInstance(t, h, running2)

	res := bulkDel(t, admin, duroxide.InstanceFilter{InstanceIDs: []string{completed1, completed2, running1, running2}})
	require.Equal(t, uint64(2), res.InstancesDeleted, "only the completed instances are deleted")
	requireInstances(t, admin, running1, running2)
	// Stronger than duroxide: the completed ones really are gone.
	requireNoInstances(t, admin, completed1, completed2)

	batch := []string{"bulk-del-batch-0", "bulk-del-batch-1", "bulk-del-batch-2", "bulk-del-batch-3"}
	for _, id := range batch {
		createCompleted(t, h, id)
	}
	for i, want := range []uint64{2, 2, 0} {
		res := bulkDel(t, admin, duroxide.InstanceFilter{Limit: ptr(uint32(2))})
		require.Equal(t, want, res.InstancesDeleted, "batch %d", i+1)
	}
	// Stronger than duroxide: every batch instance is gone and the running
	// instances survived the unfiltered calls.
	requireNoInstances(t, admin, batch...)
	requireInstances(t, admin, running1, running2)
}

// completed_before keeps instances whose current execution completed
// strictly before the cut-off.
func bulkDelCompletedBeforeFilter(t T, h *Harness) {
	admin := h.Admin(t)
	const time1, time2 = "bulk-del-time-1", "bulk-del-time-2"
	ids := []string{time1, time2}
	before := h.NowMs()
	h.Sleep(t, h.Slack)
	createCompleted(t, h, time1)
	createCompleted(t, h, time2)
	h.Sleep(t, h.Slack)
	after := h.NowMs()

	res := bulkDel(t, admin, duroxide.InstanceFilter{InstanceIDs: ids, CompletedBefore: ptr(before)})
	require.Equal(t, uint64(0), res.InstancesDeleted, "both completed after the cut-off")
	requireInstances(t, admin, ids...)

	// Stronger than duroxide: the comparison is strict, at the provider's
	// own completed_at: a cut-off equal to it keeps the instance, one
	// millisecond later deletes it.
	exec, err := admin.GetExecutionInfo(t.Context(), time1, duroxide.InitialExecutionID)
	require.NoError(t, err)
	require.NotNil(t, exec.CompletedAt, "a completed execution has completed_at")
	completedAt := *exec.CompletedAt
	require.True(t, before <= completedAt && completedAt <= after,
		"completed_at %d must lie within [%d, %d] on the provider's clock", completedAt, before, after)
	res = bulkDel(t, admin, duroxide.InstanceFilter{InstanceIDs: []string{time1}, CompletedBefore: ptr(completedAt)})
	require.Equal(t, uint64(0), res.InstancesDeleted, "completed_before equal to completed_at must not match")
	requireInstances(t, admin, time1)

	res = bulkDel(t, admin, duroxide.InstanceFilter{InstanceIDs: ids, CompletedBefore: ptr(after)})
	require.Equal(t, uint64(2), res.InstancesDeleted, "both completed before the cut-off")
	requireNoInstances(t, admin, ids...)
}

// Listing roots deletes their whole trees, and every deleted instance is
// counted.
func bulkDelCascadesToChildren(t T, h *Harness) {
	admin := h.Admin(t)
	const parent1, child1 = "bulk-del-cascade-parent1", "bulk-del-cascade-child1"
	const parent2 = "bulk-del-cascade-parent2"
	const child2a, child2b, child2c = "bulk-del-cascade-child2a", "bulk-del-cascade-child2b", "bulk-del-cascade-child2c"
	const standalone = "bulk-del-cascade-standalone"
	createCompleted(t, h, parent1)
	createCompletedChild(t, h, child1, parent1)
	createCompleted(t, h, parent2)
	createCompletedChild(t, h, child2a, parent2)
	createCompletedChild(t, h, child2b, parent2)
	createCompletedChild(t, h, child2c, parent2)
	createCompleted(t, h, standalone)
	all := []string{parent1, child1, parent2, child2a, child2b, child2c, standalone}
	requireInstances(t, admin, all...)

	res := bulkDel(t, admin, duroxide.InstanceFilter{InstanceIDs: []string{parent1, parent2, standalone}})
	require.Equal(t, uint64(7), res.InstancesDeleted, "three roots and four children")
	// Stronger than duroxide: executions and events of the children are
	// counted too.
	require.Equal(t, uint64(7), res.ExecutionsDeleted)
	require.Equal(t, uint64(7), res.EventsDeleted)
	requireNoInstances(t, admin, all...)
}

// Not in duroxide ([duroxide.ProviderAdmin.DeleteInstanceBulk]): Completed,
// Failed and
// ContinuedAsNew roots are eligible; a Running root is not.
func bulkDelTerminalStatuses(t T, h *Harness) {
	admin := h.Admin(t)
	const completed, failed, can, running = "bulk-st-completed", "bulk-st-failed", "bulk-st-can", "bulk-st-running"
	createCompleted(t, h, completed)
	createOrch(t, h, failed, testOrch, "", nil, duroxide.StatusFailed, ptr("boom"))
	createOrch(t, h, can, testOrch, "", nil, duroxide.StatusContinuedAsNew, nil)
	createInstance(t, h, running)

	res := bulkDel(t, admin, duroxide.InstanceFilter{})
	require.Equal(t, uint64(3), res.InstancesDeleted)
	requireNoInstances(t, admin, completed, failed, can)
	requireInstances(t, admin, running)
}

// Not in duroxide ([duroxide.ProviderAdmin.DeleteInstanceBulk]): only roots
// are selected: a child
// listed alone is not deleted, a child listed with its root is counted once,
// and a root's running child goes with its tree (the cascade is forced).
func bulkDelRootsOnly(t T, h *Harness) {
	admin := h.Admin(t)
	const root1, child1 = "bulk-roots-r1", "bulk-roots-c1"
	const root2, child2 = "bulk-roots-r2", "bulk-roots-c2"
	createCompleted(t, h, root1)
	createCompletedChild(t, h, child1, root1)
	createCompleted(t, h, root2)
	createOrch(t, h, child2, testOrch, root2, ptr(uint64(1)), "", nil) // Running

	res := bulkDel(t, admin, duroxide.InstanceFilter{InstanceIDs: []string{child1, child2}})
	require.Equal(t, duroxide.DeleteInstanceResult{}, res, "children are never selected on their own")
	requireInstances(t, admin, root1, child1, root2, child2)

	res = bulkDel(t, admin, duroxide.InstanceFilter{InstanceIDs: []string{root1, child1}})
	require.Equal(t, uint64(2), res.InstancesDeleted, "the child is deleted once, with its root")
	require.Equal(t, uint64(2), res.ExecutionsDeleted)
	requireNoInstances(t, admin, root1, child1)

	res = bulkDel(t, admin, duroxide.InstanceFilter{InstanceIDs: []string{root2}})
	require.Equal(t, uint64(2), res.InstancesDeleted, "a running child goes with its completed root")
	requireNoInstances(t, admin, root2, child2)
}

// Not in duroxide ([duroxide.InstanceFilter]): a present but empty id
// list selects nothing.
func bulkDelEmptyIDList(t T, h *Harness) {
	admin := h.Admin(t)
	const a, b = "bulk-empty-a", "bulk-empty-b"
	createCompleted(t, h, a)
	createCompleted(t, h, b)

	res := bulkDel(t, admin, duroxide.InstanceFilter{InstanceIDs: []string{}})
	require.Equal(t, duroxide.DeleteInstanceResult{}, res)
	requireInstances(t, admin, a, b)
}

// Not in duroxide ([duroxide.ProviderAdmin.DeleteInstanceBulk]): limit bounds
// the number of roots per
// call, not the number of instances: each call removes one whole tree.
func bulkDelLimitCountsRoots(t T, h *Harness) {
	admin := h.Admin(t)
	const rootA, childA, rootB, childB = "bulk-limit-ra", "bulk-limit-ca", "bulk-limit-rb", "bulk-limit-cb"
	createCompleted(t, h, rootA)
	createCompletedChild(t, h, childA, rootA)
	createCompleted(t, h, rootB)
	createCompletedChild(t, h, childB, rootB)

	res := bulkDel(t, admin, duroxide.InstanceFilter{Limit: ptr(uint32(1))})
	require.Equal(t, uint64(2), res.InstancesDeleted, "one root and its child")
	left, err := admin.ListInstances(t.Context())
	require.NoError(t, err)
	require.Len(t, left, 2, "exactly one tree must remain")
	require.True(t, (left[0] == rootA || left[0] == childA) == (left[1] == rootA || left[1] == childA),
		"the remaining instances must form one tree: %v", left)

	res = bulkDel(t, admin, duroxide.InstanceFilter{Limit: ptr(uint32(1))})
	require.Equal(t, uint64(2), res.InstancesDeleted)
	res = bulkDel(t, admin, duroxide.InstanceFilter{Limit: ptr(uint32(1))})
	require.Equal(t, duroxide.DeleteInstanceResult{}, res)
	requireNoInstances(t, admin, rootA, childA, rootB, childB)
}
