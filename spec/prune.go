package spec

import (
	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// pruneCases: prune_executions deletes old executions of an instance, never
// the current one nor a running one, and prune_executions_bulk applies it to
// every matching instance, running ones included.
func pruneCases() []Case {
	return []Case{
		{"prune", "prune_options_combinations", pruneOptionsCombinations, Required},
		{"prune", "prune_safety", pruneSafety, Required},
		{"prune", "prune_bulk", pruneBulk, Required},
		{"prune", "prune_bulk_includes_running_instances", pruneBulkIncludesRunningInstances, Required},
		// Not in duroxide:
		{"prune", "prune_completed_before", pruneCompletedBefore, Required},
		{"prune", "prune_never_deletes_running_execution", pruneNeverDeletesRunningExecution, Required},
		{"prune", "prune_removes_only_old_execution_history", pruneRemovesOnlyOldExecutionHistory, Required},
		{"prune", "prune_bulk_filters", pruneBulkFilters, Required},
	}
}

// pruneExec runs one turn that starts execution executionID of instance:
// StartOrchestration for execution 1, ContinueAsNew of name otherwise. The
// ack carries an OrchestrationStarted plus extra ExternalEvents, name/version
// metadata and status ("" leaves it Running).
func pruneExec(t T, h *Harness, instance, name string, executionID uint64, extra int, status duroxide.ExecutionStatus) {
	t.Helper()
	var item duroxide.WorkItem = startItem(instance)
	if executionID > 1 {
		item = duroxide.ContinueAsNewItem{Instance: instance, Orchestration: name, Input: "{}", Version: ptr(testVersion)}
	}
	delta := []duroxide.Event{executionStarted(instance, executionID, name, "", nil)}
	for i := range extra {
		delta = append(delta, execEvent(instance, executionID, uint64(i+2), duroxide.ExternalEvent{Name: "e", Data: "{}"}))
	}
	md := nameVersion(name, testVersion)
	md.Status = status
	runTurn(t, h, instance, item, executionID, delta, md)
}

// pruneMultiExec is duroxide's create_multi_execution_instance: executions
// 1..n with one event each, ContinuedAsNew except the last, which gets last.
func pruneMultiExec(t T, h *Harness, instance, name string, n uint64, last duroxide.ExecutionStatus) {
	t.Helper()
	for e := uint64(1); e <= n; e++ {
		status := duroxide.StatusContinuedAsNew
		if e == n {
			status = last
		}
		pruneExec(t, h, instance, name, e, 0, status)
	}
}

// pruneRun runs prune_executions and requires success.
func pruneRun(t T, admin duroxide.ProviderAdmin, instance string, opts duroxide.PruneOptions) duroxide.PruneResult {
	t.Helper()
	res, err := admin.PruneExecutions(t.Context(), instance, opts)
	require.NoError(t, err, "prune_executions(%q)", instance)
	return res
}

// pruneBulkRun runs prune_executions_bulk and requires success.
func pruneBulkRun(t T, admin duroxide.ProviderAdmin, f duroxide.InstanceFilter, opts duroxide.PruneOptions) duroxide.PruneResult {
	t.Helper()
	res, err := admin.PruneExecutionsBulk(t.Context(), f, opts)
	require.NoError(t, err, "prune_executions_bulk")
	return res
}

// keep_last keeps the newest executions; empty options prune every
// execution but the current one.
func pruneOptionsCombinations(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "prune-options-test"
	pruneMultiExec(t, h, inst, testOrch, 4, duroxide.StatusCompleted)
	require.Len(t, listExecutions(t, admin, inst), 4)

	res := pruneRun(t, admin, inst, duroxide.PruneOptions{KeepLast: ptr(uint32(2))})
	require.Equal(t, uint64(1), res.InstancesProcessed)
	// Stronger than duroxide: exactly 3 and 4 are kept (duroxide accepts
	// either one of them), and the counts are exact.
	require.Equal(t, []uint64{3, 4}, listExecutions(t, admin, inst))
	require.Equal(t, duroxide.PruneResult{InstancesProcessed: 1, ExecutionsDeleted: 2, EventsDeleted: 2}, res)

	const inst2 = "prune-options-empty"
	pruneMultiExec(t, h, inst2, testOrch, 3, duroxide.StatusCompleted)
	info, err := admin.GetInstanceInfo(t.Context(), inst2)
	require.NoError(t, err)
	res = pruneRun(t, admin, inst2, duroxide.PruneOptions{})
	require.Equal(t, []uint64{info.CurrentExecutionID}, listExecutions(t, admin, inst2), "only the current execution remains")
	// Stronger than duroxide: the current execution is 3 and the result is
	// exact.
	require.Equal(t, uint64(3), info.CurrentExecutionID)
	require.Equal(t, duroxide.PruneResult{InstancesProcessed: 1, ExecutionsDeleted: 2, EventsDeleted: 2}, res)
}

// The current execution survives every keep_last (None, 0, 1), and pruning
// an unknown instance is an error.
func pruneSafety(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "prune-safety-current"
	pruneMultiExec(t, h, inst, testOrch, 3, duroxide.StatusCompleted)
	pruneRun(t, admin, inst, duroxide.PruneOptions{KeepLast: ptr(uint32(0))})
	info, err := admin.GetInstanceInfo(t.Context(), inst)
	require.NoError(t, err)
	require.Equal(t, uint64(3), info.CurrentExecutionID)
	// Stronger than duroxide: keep_last 0 keeps only the current execution,
	// and its history is intact.
	require.Equal(t, []uint64{3}, listExecutions(t, admin, inst))
	require.Equal(t, []uint64{1}, eventIDs(read(t, h, inst)))

	_, err = admin.PruneExecutions(t.Context(), "does-not-exist-prune", duroxide.PruneOptions{KeepLast: ptr(uint32(1))})
	// Stronger than duroxide: the error is the permanent ErrNotFound.
	requirePermanentWords(t, err, duroxide.ErrNotFound, "not found")

	for _, tc := range []struct {
		name string
		keep *uint32
	}{{"none", nil}, {"some0", ptr(uint32(0))}, {"some1", ptr(uint32(1))}} {
		inst := "prune-terminal-" + tc.name
		pruneMultiExec(t, h, inst, testOrch, 4, duroxide.StatusCompleted)
		info, err := admin.GetInstanceInfo(t.Context(), inst)
		require.NoError(t, err)
		require.Equal(t, duroxide.StatusCompleted, info.Status)
		res := pruneRun(t, admin, inst, duroxide.PruneOptions{KeepLast: tc.keep})
		require.Equal(t, []uint64{info.CurrentExecutionID}, listExecutions(t, admin, inst), "keep_last=%s", tc.name)
		require.GreaterOrEqual(t, res.ExecutionsDeleted, uint64(3), "keep_last=%s", tc.name)
		// Stronger than duroxide: exactly the three old executions, and the
		// instance still reports its current execution and status.
		require.Equal(t, duroxide.PruneResult{InstancesProcessed: 1, ExecutionsDeleted: 3, EventsDeleted: 3}, res, "keep_last=%s", tc.name)
		after, err := admin.GetInstanceInfo(t.Context(), inst)
		require.NoError(t, err)
		require.Equal(t, info.CurrentExecutionID, after.CurrentExecutionID)
		require.Equal(t, duroxide.StatusCompleted, after.Status)
	}
}

// Bulk prune by instance ids prunes exactly the listed instances.
func pruneBulk(t T, h *Harness) {
	admin := h.Admin(t)
	ids := []string{"prune-bulk-0", "prune-bulk-1", "prune-bulk-2"}
	for _, id := range ids {
		pruneMultiExec(t, h, id, testOrch, 4, duroxide.StatusCompleted)
	}

	res := pruneBulkRun(t, admin, duroxide.InstanceFilter{InstanceIDs: ids[:2]}, duroxide.PruneOptions{KeepLast: ptr(uint32(1))})
	require.Equal(t, uint64(2), res.InstancesProcessed)
	require.GreaterOrEqual(t, res.ExecutionsDeleted, uint64(4))
	// Stronger than duroxide: exact sums over the two instances.
	require.Equal(t, duroxide.PruneResult{InstancesProcessed: 2, ExecutionsDeleted: 6, EventsDeleted: 6}, res)
	// Stronger than duroxide: the kept execution is the current one.
	require.Equal(t, []uint64{4}, listExecutions(t, admin, ids[0]))
	require.Equal(t, []uint64{4}, listExecutions(t, admin, ids[1]))
	require.Equal(t, []uint64{1, 2, 3, 4}, listExecutions(t, admin, ids[2]), "unlisted instances are untouched")
}

// Bulk prune includes running instances: their old executions go, the
// running current execution stays.
func pruneBulkIncludesRunningInstances(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "prune-running-inst"
	pruneMultiExec(t, h, inst, "LongRunning", 3, duroxide.StatusRunning)
	require.Len(t, listExecutions(t, admin, inst), 3)
	info, err := admin.GetInstanceInfo(t.Context(), inst)
	require.NoError(t, err)
	require.Equal(t, duroxide.StatusRunning, info.Status)
	require.Equal(t, uint64(3), info.CurrentExecutionID)

	res := pruneBulkRun(t, admin, duroxide.InstanceFilter{InstanceIDs: []string{inst}}, duroxide.PruneOptions{KeepLast: ptr(uint32(1))})
	require.Equal(t, uint64(1), res.InstancesProcessed)
	require.Equal(t, uint64(2), res.ExecutionsDeleted)
	// Stronger than duroxide: the events of the two executions are counted.
	require.Equal(t, uint64(2), res.EventsDeleted)
	require.Equal(t, []uint64{3}, listExecutions(t, admin, inst))
	info, err = admin.GetInstanceInfo(t.Context(), inst)
	require.NoError(t, err)
	require.Equal(t, duroxide.StatusRunning, info.Status)
	// Stronger than duroxide: the running execution's history is intact.
	require.Equal(t, []uint64{1}, eventIDs(read(t, h, inst)))
}

// Not in duroxide ([duroxide.ProviderAdmin.PruneExecutions],
// [duroxide.PruneOptions]): completed_before
// prunes only executions completed strictly before the cut-off, and ANDs
// with keep_last.
func pruneCompletedBefore(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "prune-completed-before"
	pruneExec(t, h, inst, testOrch, 1, 0, duroxide.StatusContinuedAsNew)
	pruneExec(t, h, inst, testOrch, 2, 0, duroxide.StatusContinuedAsNew)
	h.Sleep(t, h.Slack)
	cut1 := h.NowMs()
	h.Sleep(t, h.Slack)
	pruneExec(t, h, inst, testOrch, 3, 0, duroxide.StatusContinuedAsNew)
	pruneExec(t, h, inst, testOrch, 4, 0, duroxide.StatusContinuedAsNew)
	pruneExec(t, h, inst, testOrch, 5, 0, duroxide.StatusCompleted)
	h.Sleep(t, h.Slack)
	cut2 := h.NowMs()

	res := pruneRun(t, admin, inst, duroxide.PruneOptions{CompletedBefore: ptr(cut1)})
	require.Equal(t, duroxide.PruneResult{InstancesProcessed: 1, ExecutionsDeleted: 2, EventsDeleted: 2}, res)
	require.Equal(t, []uint64{3, 4, 5}, listExecutions(t, admin, inst), "only executions completed before the cut-off go")

	// The cut-off equal to an execution's own completed_at does not match.
	exec3, err := admin.GetExecutionInfo(t.Context(), inst, 3)
	require.NoError(t, err)
	require.NotNil(t, exec3.CompletedAt)
	res = pruneRun(t, admin, inst, duroxide.PruneOptions{CompletedBefore: ptr(*exec3.CompletedAt)})
	require.Equal(t, uint64(0), res.ExecutionsDeleted, "completed_before equal to completed_at must not match")
	require.Equal(t, []uint64{3, 4, 5}, listExecutions(t, admin, inst))

	// keep_last 2 protects 4 and 5; completed_before alone would take 3 and 4.
	res = pruneRun(t, admin, inst, duroxide.PruneOptions{KeepLast: ptr(uint32(2)), CompletedBefore: ptr(cut2)})
	require.Equal(t, duroxide.PruneResult{InstancesProcessed: 1, ExecutionsDeleted: 1, EventsDeleted: 1}, res)
	require.Equal(t, []uint64{4, 5}, listExecutions(t, admin, inst))
}

// Not in duroxide ([duroxide.ProviderAdmin.PruneExecutions]): an execution
// whose status is Running is
// never pruned, even when it is not the current one.
func pruneNeverDeletesRunningExecution(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "prune-running-exec"
	pruneExec(t, h, inst, testOrch, 1, 1, "") // Running, never finished
	pruneExec(t, h, inst, testOrch, 2, 0, duroxide.StatusContinuedAsNew)
	pruneExec(t, h, inst, testOrch, 3, 0, duroxide.StatusCompleted)

	res := pruneRun(t, admin, inst, duroxide.PruneOptions{})
	require.Equal(t, duroxide.PruneResult{InstancesProcessed: 1, ExecutionsDeleted: 1, EventsDeleted: 1}, res)
	require.Equal(t, []uint64{1, 3}, listExecutions(t, admin, inst), "the running execution 1 stays")
	require.Equal(t, []uint64{1, 2}, eventIDs(readExecution(t, h, inst, 1)), "its history is intact")

	res = pruneBulkRun(t, admin, duroxide.InstanceFilter{InstanceIDs: []string{inst}}, duroxide.PruneOptions{KeepLast: ptr(uint32(0))})
	require.Equal(t, duroxide.PruneResult{InstancesProcessed: 1}, res, "nothing is left to prune")
	require.Equal(t, []uint64{1, 3}, listExecutions(t, admin, inst))
}

// Not in duroxide ([duroxide.ProviderAdmin.PruneExecutions]): prune deletes
// the old executions'
// records and history (counted exactly), and nothing else: the current
// execution, the instance record and both queues are untouched.
func pruneRemovesOnlyOldExecutionHistory(t T, h *Harness) {
	admin := h.Admin(t)
	ctx := t.Context()
	const inst = "prune-history"
	pruneExec(t, h, inst, testOrch, 1, 2, duroxide.StatusContinuedAsNew) // 3 events
	pruneExec(t, h, inst, testOrch, 2, 1, duroxide.StatusContinuedAsNew) // 2 events
	pruneExec(t, h, inst, testOrch, 3, 3, "")                            // 4 events, Running
	enqueueOrch(t, h, externalItem(inst, "pending"))
	enqueueWorker(t, h, activityItem(inst, 5))
	infoBefore, err := admin.GetInstanceInfo(ctx, inst)
	require.NoError(t, err)

	res := pruneRun(t, admin, inst, duroxide.PruneOptions{})
	require.Equal(t, duroxide.PruneResult{InstancesProcessed: 1, ExecutionsDeleted: 2, EventsDeleted: 5}, res)
	for _, e := range []uint64{1, 2} {
		hist, err := h.Provider.ReadWithExecution(ctx, inst, e)
		require.NoError(t, err)
		require.Empty(t, hist, "execution %d's history must be gone", e)
		_, err = admin.GetExecutionInfo(ctx, inst, e)
		requirePermanentWords(t, err, duroxide.ErrNotFound, "not found")
	}
	require.Equal(t, []uint64{1, 2, 3, 4}, eventIDs(read(t, h, inst)))
	infoAfter, err := admin.GetInstanceInfo(ctx, inst)
	require.NoError(t, err)
	require.Equal(t, infoBefore, infoAfter, "prune must not change the instance record")
	metrics, err := admin.GetSystemMetrics(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1), metrics.TotalExecutions)
	require.Equal(t, uint64(4), metrics.TotalEvents)

	batch := mustFetchOrch(t, h, longLock)
	require.Equal(t, []duroxide.WorkItem{externalItem(inst, "pending")}, batch.Messages, "prune must not touch the orchestrator queue")
	w := mustFetchWork(t, h, longLock)
	require.Equal(t, activityItem(inst, 5), w.Item, "prune must not touch the worker queue")
}

// Not in duroxide ([duroxide.ProviderAdmin.PruneExecutionsBulk],
// [duroxide.InstanceFilter]): bulk prune selects
// nothing for an empty or unknown id list, honours limit, and with
// completed_before selects instances by their current execution's
// completed_at, so running instances and late completions are skipped.
func pruneBulkFilters(t T, h *Harness) {
	admin := h.Admin(t)
	const early, running, late = "prune-bf-early", "prune-bf-running", "prune-bf-late"
	pruneMultiExec(t, h, early, testOrch, 3, duroxide.StatusCompleted)
	pruneMultiExec(t, h, running, testOrch, 3, "") // current execution never finished
	h.Sleep(t, h.Slack)
	cut := h.NowMs()
	h.Sleep(t, h.Slack)
	pruneMultiExec(t, h, late, testOrch, 3, duroxide.StatusCompleted)
	keep0 := duroxide.PruneOptions{KeepLast: ptr(uint32(0))}

	res := pruneBulkRun(t, admin, duroxide.InstanceFilter{InstanceIDs: []string{}}, keep0)
	require.Equal(t, duroxide.PruneResult{}, res, "an empty id list selects nothing")
	res = pruneBulkRun(t, admin, duroxide.InstanceFilter{InstanceIDs: []string{"prune-bf-unknown"}}, keep0)
	require.Equal(t, duroxide.PruneResult{}, res, "unknown ids match nothing")
	for _, id := range []string{early, running, late} {
		require.Len(t, listExecutions(t, admin, id), 3)
	}

	res = pruneBulkRun(t, admin, duroxide.InstanceFilter{CompletedBefore: ptr(cut)}, keep0)
	require.Equal(t, duroxide.PruneResult{InstancesProcessed: 1, ExecutionsDeleted: 2, EventsDeleted: 2}, res)
	require.Equal(t, []uint64{3}, listExecutions(t, admin, early))
	require.Len(t, listExecutions(t, admin, running), 3, "a running current execution has not completed")
	require.Len(t, listExecutions(t, admin, late), 3, "completed after the cut-off")

	res = pruneBulkRun(t, admin, duroxide.InstanceFilter{InstanceIDs: []string{running, late}, Limit: ptr(uint32(1))}, keep0)
	require.Equal(t, uint64(1), res.InstancesProcessed, "limit bounds the instances processed")
	require.Equal(t, uint64(2), res.ExecutionsDeleted)
	pruned := 0
	for _, id := range []string{running, late} {
		if len(listExecutions(t, admin, id)) == 1 {
			pruned++
		}
	}
	require.Equal(t, 1, pruned, "exactly one of the two instances was pruned")
}
