package spec

import (
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// managementCases: the management API lists and describes instances and
// executions from what acks stored, and reports store-wide metrics and
// queue depths.
func managementCases() []Case {
	return []Case{
		{"management", "list_instances", mgmtListInstances, Required},
		{"management", "list_instances_by_status", mgmtListInstancesByStatus, Required},
		{"management", "list_executions", mgmtListExecutions, Required},
		{"management", "get_instance_info", mgmtGetInstanceInfo, Required},
		{"management", "get_execution_info", mgmtGetExecutionInfo, Required},
		{"management", "get_system_metrics", mgmtGetSystemMetrics, Required},
		{"management", "get_queue_depths", mgmtGetQueueDepths, Required},
		// Not in duroxide:
		{"management", "list_instances_requires_metadata_record", mgmtListInstancesRequiresRecord, Required},
		{"management", "list_instances_by_status_uses_current_execution", mgmtListByStatusUsesCurrentExecution, Required},
		{"management", "get_instance_info_details", mgmtGetInstanceInfoDetails, Required},
		{"management", "get_execution_info_details", mgmtGetExecutionInfoDetails, Required},
		{"management", "list_executions_and_history_reads", mgmtListExecutionsAndHistoryReads, Required},
		{"management", "system_metrics_exact_counts", mgmtSystemMetricsExactCounts, Required},
		{"management", "queue_depths_count_unlocked_messages", mgmtQueueDepthsCountUnlocked, Required},
		{"management", "list_instances_newest_first", mgmtListInstancesNewestFirst, Strict},
		{"management", "timestamps_have_millisecond_resolution", mgmtTimestampsHaveMillisecondResolution, Strict},
		{"management", "queue_depths_count_abandoned_messages_again", mgmtQueueDepthsCountAbandonedAgain, Strict},
	}
}

// mgmtRequireTime requires a management timestamp to be a plausible Unix ms
// time of the provider's clock at second resolution: within [lo, hi], lo
// rounded down to its second.
//
// Required: the client shows these times to users, and bulk deletion and
// pruning filter on completed_at. Second resolution is enough (duroxide's
// SQLite provider stores CURRENT_TIMESTAMP, whole seconds, for all but
// completed_at); millisecond resolution is the strict case
// management/timestamps_have_millisecond_resolution.
func mgmtRequireTime(t T, got, lo, hi uint64, what string) {
	t.Helper()
	lo = lo / 1000 * 1000
	require.True(t, lo <= got && got <= hi, "%s = %d must lie within [%d, %d] (Unix ms of the provider's clock, to the second)", what, got, lo, hi)
}

// mgmtInfo runs get_instance_info and requires success.
func mgmtInfo(t T, admin duroxide.ProviderAdmin, instance string) duroxide.InstanceInfo {
	t.Helper()
	info, err := admin.GetInstanceInfo(t.Context(), instance)
	require.NoError(t, err, "get_instance_info(%q)", instance)
	return info
}

// mgmtExecInfo runs get_execution_info and requires success.
func mgmtExecInfo(t T, admin duroxide.ProviderAdmin, instance string, executionID uint64) duroxide.ExecutionInfo {
	t.Helper()
	info, err := admin.GetExecutionInfo(t.Context(), instance, executionID)
	require.NoError(t, err, "get_execution_info(%q, %d)", instance, executionID)
	return info
}

// mgmtByStatus runs list_instances_by_status and requires success.
func mgmtByStatus(t T, admin duroxide.ProviderAdmin, status duroxide.ExecutionStatus) []string {
	t.Helper()
	ids, err := admin.ListInstancesByStatus(t.Context(), status)
	require.NoError(t, err, "list_instances_by_status(%q)", status)
	return ids
}

// mgmtMetrics runs get_system_metrics and requires success.
func mgmtMetrics(t T, admin duroxide.ProviderAdmin) duroxide.SystemMetrics {
	t.Helper()
	m, err := admin.GetSystemMetrics(t.Context())
	require.NoError(t, err, "get_system_metrics")
	return m
}

// mgmtDepths runs get_queue_depths and requires success.
func mgmtDepths(t T, admin duroxide.ProviderAdmin) duroxide.QueueDepths {
	t.Helper()
	d, err := admin.GetQueueDepths(t.Context())
	require.NoError(t, err, "get_queue_depths")
	return d
}

// list_instances returns every created instance.
func mgmtListInstances(t T, h *Harness) {
	admin := h.Admin(t)
	ids := []string{"mgmt-inst-0", "mgmt-inst-1", "mgmt-inst-2"}
	for _, id := range ids {
		createInstance(t, h, id)
		h.Sleep(t, h.Slack) // distinct creation times
	}
	got, err := admin.ListInstances(t.Context())
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(got), 3)
	for _, id := range ids {
		require.Contains(t, got, id)
	}
	// Stronger than duroxide: the store is fresh, so the list is exactly the
	// three. Their order is the strict case list_instances_newest_first.
	require.ElementsMatch(t, ids, got)
}

// list_instances_by_status finds a completed instance under "Completed".
func mgmtListInstancesByStatus(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "mgmt-completed"
	md := nameVersion(testOrch, testVersion)
	md.Status, md.Output = duroxide.StatusCompleted, ptr("done")
	runTurn(t, h, inst, startItem(inst), 1, []duroxide.Event{startedEvent(inst, 1, testVersion)}, md)

	completed := mgmtByStatus(t, admin, duroxide.StatusCompleted)
	require.Contains(t, completed, inst)
	// Stronger than duroxide: exactly that instance, and under no other
	// status.
	require.Equal(t, []string{inst}, completed)
	require.Empty(t, mgmtByStatus(t, admin, duroxide.StatusRunning))
	require.Empty(t, mgmtByStatus(t, admin, duroxide.StatusFailed))
}

// An execution acked without instance metadata is still listed by
// list_executions.
func mgmtListExecutions(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "mgmt-multi-exec"
	createStarted(t, h, inst)

	execs := listExecutions(t, admin, inst)
	require.Contains(t, execs, uint64(1))
	// Stronger than duroxide: exactly execution 1, which is also the latest,
	// with its history readable through the management API.
	require.Equal(t, []uint64{1}, execs)
	latest, err := admin.LatestExecutionID(t.Context(), inst)
	require.NoError(t, err)
	require.Equal(t, uint64(1), latest)
	hist, err := admin.ReadHistoryWithExecutionID(t.Context(), inst, 1)
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, eventIDs(hist))
}

// get_instance_info reports the name and version of the ack metadata, not of
// the start message.
func mgmtGetInstanceInfo(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "mgmt-info"
	start := h.NowMs()
	runTurn(t, h, inst, startItem(inst), 1, []duroxide.Event{event(inst, 1, duroxide.OrchestrationStarted{
		Name: "InfoOrch", Version: "2.0.0", Input: "test",
	})}, nameVersion("InfoOrch", "2.0.0"))

	info := mgmtInfo(t, admin, inst)
	require.Equal(t, inst, info.InstanceID)
	require.Equal(t, "InfoOrch", info.OrchestrationName)
	require.Equal(t, "2.0.0", info.OrchestrationVersion)
	require.Equal(t, uint64(1), info.CurrentExecutionID)
	// Stronger than duroxide: status, output, parent and the timestamps
	// (real Unix ms in duroxide-go, where duroxide's SQLite provider may
	// report 0).
	require.Equal(t, duroxide.StatusRunning, info.Status)
	require.Nil(t, info.Output)
	require.Nil(t, info.ParentInstanceID)
	now := h.NowMs()
	mgmtRequireTime(t, info.CreatedAt, start, now, "created_at")
	mgmtRequireTime(t, info.UpdatedAt, info.CreatedAt, now, "updated_at")
}

// get_execution_info reports the status and output of an ack that carried
// no instance metadata, filed under the locked instance even though the
// event names another.
func mgmtGetExecutionInfo(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "mgmt-exec-info"
	start := h.NowMs()
	md := duroxide.ExecutionMetadata{Status: duroxide.StatusCompleted, Output: ptr("result")}
	runTurn(t, h, inst, startItem(inst), 1, []duroxide.Event{startedEvent("mgmt-bulk-del", 1, testVersion)}, md)

	info := mgmtExecInfo(t, admin, inst, 1)
	require.Equal(t, uint64(1), info.ExecutionID)
	require.Equal(t, duroxide.StatusCompleted, info.Status)
	require.Equal(t, ptr("result"), info.Output)
	// Stronger than duroxide: the event count, the timestamps, and where the
	// history went.
	require.Equal(t, uint64(1), info.EventCount)
	now := h.NowMs()
	mgmtRequireTime(t, info.StartedAt, start, now, "started_at")
	require.NotNil(t, info.CompletedAt, "an ack with a status sets completed_at")
	mgmtRequireTime(t, *info.CompletedAt, info.StartedAt, now, "completed_at")
	require.Len(t, read(t, h, inst), 1, "the history belongs to the locked instance")
	require.Empty(t, read(t, h, "mgmt-bulk-del"), "not to the instance the event names")
}

// total_instances grows when an instance is created, and total_events
// counts its history.
func mgmtGetSystemMetrics(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "mgmt-metrics"
	baseline := mgmtMetrics(t, admin)
	// Stronger than duroxide: a fresh store reports all zeros.
	require.Equal(t, duroxide.SystemMetrics{}, baseline)

	runTurn(t, h, inst, startItem(inst), 1, []duroxide.Event{startedEvent("mgmt-cancel", 1, testVersion)}, nameVersion(testOrch, testVersion))

	m := mgmtMetrics(t, admin)
	require.Greater(t, m.TotalInstances, baseline.TotalInstances)
	require.Greater(t, m.TotalEvents, uint64(0))
	// Stronger than duroxide: every counter is exact.
	require.Equal(t, duroxide.SystemMetrics{TotalInstances: 1, TotalExecutions: 1, RunningInstances: 1, TotalEvents: 1}, m)
}

// Enqueuing a start raises the orchestrator queue depth.
func mgmtGetQueueDepths(t T, h *Harness) {
	admin := h.Admin(t)
	baseline := mgmtDepths(t, admin)
	// Stronger than duroxide: a fresh store has empty queues.
	require.Equal(t, duroxide.QueueDepths{}, baseline)

	enqueueOrch(t, h, startItem("mgmt-queue"))
	d := mgmtDepths(t, admin)
	require.Greater(t, d.OrchestratorQueue, baseline.OrchestratorQueue)
	// Stronger than duroxide: exactly one orchestrator message, and the
	// worker and timer counts are untouched.
	require.Equal(t, duroxide.QueueDepths{OrchestratorQueue: 1}, d)
}

// Not in duroxide ([duroxide.ProviderAdmin.ListInstances]): only instances with a
// metadata record (an ack with name and version) are listed; a start that
// was never acked, a held turn, or an ack without name and version create
// no record, though the latter creates an execution.
func mgmtListInstancesRequiresRecord(t T, h *Harness) {
	admin := h.Admin(t)
	const withRecord, noMeta, held, neverAcked = "mgmt-real", "mgmt-no-meta", "mgmt-held", "mgmt-never-acked"
	createInstance(t, h, withRecord)
	createStarted(t, h, noMeta)
	enqueueOrch(t, h, startItem(held))
	require.Equal(t, held, mustFetchOrch(t, h, longLock).Instance)
	enqueueOrch(t, h, startItem(neverAcked))

	got, err := admin.ListInstances(t.Context())
	require.NoError(t, err)
	require.Equal(t, []string{withRecord}, got)
	require.Equal(t, []string{withRecord}, mgmtByStatus(t, admin, duroxide.StatusRunning),
		"an execution without an instance record is not listed by status")
	for _, id := range []string{noMeta, held, neverAcked} {
		_, err := admin.GetInstanceInfo(t.Context(), id)
		requirePermanentWords(t, err, duroxide.ErrNotFound, "not found")
	}
	require.Equal(t, []uint64{1}, listExecutions(t, admin, noMeta), "the execution record exists without an instance record")
}

// Not in duroxide ([duroxide.ProviderAdmin.ListInstancesByStatus]):
// list_instances_by_status
// matches the status of the current execution only. Required: a client
// listing running instances must not be shown finished ones, nor miss a
// running one whose earlier execution continued as new.
func mgmtListByStatusUsesCurrentExecution(t T, h *Harness) {
	admin := h.Admin(t)
	const x, y, z = "mgmt-status-x", "mgmt-status-y", "mgmt-status-z"
	pruneExec(t, h, x, testOrch, 1, 0, duroxide.StatusContinuedAsNew)
	h.Sleep(t, h.Slack)
	createCompleted(t, h, y)
	h.Sleep(t, h.Slack)
	createOrch(t, h, z, testOrch, "", nil, duroxide.StatusFailed, ptr("boom"))
	pruneExec(t, h, x, testOrch, 2, 0, "") // x's current execution 2 is Running

	require.Equal(t, []string{x}, mgmtByStatus(t, admin, duroxide.StatusRunning))
	require.Empty(t, mgmtByStatus(t, admin, duroxide.StatusContinuedAsNew), "execution 1's status is not x's status")
	require.Equal(t, []string{y}, mgmtByStatus(t, admin, duroxide.StatusCompleted))
	require.Equal(t, []string{z}, mgmtByStatus(t, admin, duroxide.StatusFailed))
	require.Empty(t, mgmtByStatus(t, admin, "NoSuchStatus"))

	md := duroxide.ExecutionMetadata{Status: duroxide.StatusCompleted, Output: ptr("done")}
	runTurn(t, h, x, externalItem(x, "finish"), 2, nil, md)
	require.ElementsMatch(t, []string{y, x}, mgmtByStatus(t, admin, duroxide.StatusCompleted), "x's current execution is now completed")
	require.Empty(t, mgmtByStatus(t, admin, duroxide.StatusRunning))
}

// Not in duroxide ([duroxide.ProviderAdmin.GetInstanceInfo]): get_instance_info
// fails with ErrNotFound for an unknown instance, reports the current
// execution's status and output, the parent, the latest name/version, and
// real creation/update times.
func mgmtGetInstanceInfoDetails(t T, h *Harness) {
	admin := h.Admin(t)
	const root, child, can = "mgmt-d-root", "mgmt-d-child", "mgmt-d-can"
	start := h.NowMs()

	_, err := admin.GetInstanceInfo(t.Context(), "mgmt-d-unknown")
	requirePermanentWords(t, err, duroxide.ErrNotFound, "not found")

	createCompleted(t, h, root)
	info := mgmtInfo(t, admin, root)
	require.Equal(t, duroxide.InstanceInfo{
		InstanceID: root, OrchestrationName: testOrch, OrchestrationVersion: testVersion,
		CurrentExecutionID: 1, Status: duroxide.StatusCompleted, Output: ptr("done"),
		CreatedAt: info.CreatedAt, UpdatedAt: info.UpdatedAt,
	}, info)
	now := h.NowMs()
	mgmtRequireTime(t, info.CreatedAt, start, now, "created_at")
	mgmtRequireTime(t, info.UpdatedAt, info.CreatedAt, now, "updated_at")

	createChildOrch(t, h, child, root)
	info = mgmtInfo(t, admin, child)
	require.Equal(t, ptr(root), info.ParentInstanceID)
	require.Equal(t, "ChildOrch", info.OrchestrationName)

	createInstance(t, h, can)
	created := mgmtInfo(t, admin, can).CreatedAt
	h.Sleep(t, h.Slack)
	runTurn(t, h, can, duroxide.ContinueAsNewItem{Instance: can, Orchestration: testOrch, Input: "{}", Version: ptr("2.0.0")},
		2, []duroxide.Event{executionStarted(can, 2, testOrch, "", nil)}, nameVersion(testOrch, "2.0.0"))
	info = mgmtInfo(t, admin, can)
	require.Equal(t, uint64(2), info.CurrentExecutionID)
	require.Equal(t, "2.0.0", info.OrchestrationVersion, "an ack with name and version overwrites them")
	require.Equal(t, duroxide.StatusRunning, info.Status, "the status is the current execution's")
	require.Nil(t, info.Output)
	require.Equal(t, created, info.CreatedAt, "created_at does not change")
	now = h.NowMs()
	mgmtRequireTime(t, info.UpdatedAt, info.CreatedAt, now, "updated_at")
}

// Not in duroxide ([duroxide.ProviderAdmin.GetExecutionInfo]): get_execution_info
// counts stored events, leaves completed_at absent until an ack supplies a
// status, and fails with ErrNotFound for an unknown execution or instance.
func mgmtGetExecutionInfoDetails(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "mgmt-exec-details"
	start := h.NowMs()
	createInstance(t, h, inst)
	info := mgmtExecInfo(t, admin, inst, 1)
	require.Equal(t, duroxide.ExecutionInfo{ExecutionID: 1, Status: duroxide.StatusRunning, StartedAt: info.StartedAt, EventCount: 1}, info,
		"a running execution has no output and no completed_at")
	mgmtRequireTime(t, info.StartedAt, start, h.NowMs(), "started_at")

	h.Sleep(t, h.Slack)
	md := duroxide.ExecutionMetadata{Status: duroxide.StatusCompleted, Output: ptr("r")}
	runTurn(t, h, inst, externalItem(inst, "go"), 1, []duroxide.Event{
		event(inst, 2, duroxide.ExternalEvent{Name: "go", Data: "{}"}),
		event(inst, 3, duroxide.OrchestrationCompleted{Output: "r"}),
	}, md)
	done := mgmtExecInfo(t, admin, inst, 1)
	require.Equal(t, duroxide.StatusCompleted, done.Status)
	require.Equal(t, ptr("r"), done.Output)
	require.Equal(t, uint64(3), done.EventCount)
	require.Equal(t, info.StartedAt, done.StartedAt, "started_at does not change")
	require.NotNil(t, done.CompletedAt)
	mgmtRequireTime(t, *done.CompletedAt, done.StartedAt, h.NowMs(), "completed_at")

	_, err := admin.GetExecutionInfo(t.Context(), inst, 2)
	requirePermanentWords(t, err, duroxide.ErrNotFound, "not found")
	_, err = admin.GetExecutionInfo(t.Context(), "mgmt-exec-unknown", 1)
	requirePermanentWords(t, err, duroxide.ErrNotFound, "not found")
}

// Not in duroxide ([duroxide.ProviderAdmin.ListExecutions] and the history
// reads): list_executions is ascending and
// empty for an unknown instance; latest_execution_id is the highest id, 1
// for an unknown instance; read_history and read_history_with_execution_id
// agree with read and read_with_execution.
func mgmtListExecutionsAndHistoryReads(t T, h *Harness) {
	admin := h.Admin(t)
	ctx := t.Context()
	const inst, unknown = "mgmt-reads", "mgmt-reads-unknown"

	execs, err := admin.ListExecutions(ctx, unknown)
	require.NoError(t, err, "list_executions of an unknown instance is not an error")
	require.Empty(t, execs)
	latest, err := admin.LatestExecutionID(ctx, unknown)
	require.NoError(t, err, "latest_execution_id of an unknown instance is not an error")
	require.Equal(t, uint64(1), latest)
	hist, err := admin.ReadHistory(ctx, unknown)
	require.NoError(t, err)
	require.Empty(t, hist)

	pruneExec(t, h, inst, testOrch, 1, 0, duroxide.StatusContinuedAsNew)
	pruneExec(t, h, inst, testOrch, 2, 1, duroxide.StatusContinuedAsNew)
	pruneExec(t, h, inst, testOrch, 3, 2, "")

	execs, err = admin.ListExecutions(ctx, inst)
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 2, 3}, execs)
	latest, err = admin.LatestExecutionID(ctx, inst)
	require.NoError(t, err)
	require.Equal(t, uint64(3), latest)
	hist, err = admin.ReadHistory(ctx, inst)
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 2, 3}, eventIDs(hist))
	require.Equal(t, read(t, h, inst), hist, "read_history is read")
	for e, want := range map[uint64][]uint64{1: {1}, 2: {1, 2}, 3: {1, 2, 3}} {
		got, err := admin.ReadHistoryWithExecutionID(ctx, inst, e)
		require.NoError(t, err)
		require.Equal(t, want, eventIDs(got), "execution %d", e)
		direct, err := h.Provider.ReadWithExecution(ctx, inst, e)
		require.NoError(t, err)
		require.Equal(t, direct, got, "read_history_with_execution_id is read_with_execution")
	}
}

// Not in duroxide ([duroxide.ProviderAdmin.GetSystemMetrics]): the metrics
// count instance records,
// every execution record (also those of instances without a record), the
// current execution's status per instance (ContinuedAsNew counted nowhere),
// and every stored event.
func mgmtSystemMetricsExactCounts(t T, h *Harness) {
	admin := h.Admin(t)
	const running, completed, failed, can, noMeta = "mgmt-m-running", "mgmt-m-completed", "mgmt-m-failed", "mgmt-m-can", "mgmt-m-nometa"
	require.Equal(t, duroxide.SystemMetrics{}, mgmtMetrics(t, admin))

	// Six events in all: two for the completed instance, one for each other.
	createInstance(t, h, running)
	pruneExec(t, h, completed, testOrch, 1, 1, duroxide.StatusCompleted)
	createOrch(t, h, failed, testOrch, "", nil, duroxide.StatusFailed, ptr("boom"))
	pruneExec(t, h, can, testOrch, 1, 0, duroxide.StatusContinuedAsNew)
	createStarted(t, h, noMeta)

	require.Equal(t, duroxide.SystemMetrics{
		TotalInstances: 4, TotalExecutions: 5,
		RunningInstances: 1, CompletedInstances: 1, FailedInstances: 1,
		TotalEvents: 6,
	}, mgmtMetrics(t, admin))

	pruneExec(t, h, can, testOrch, 2, 0, duroxide.StatusCompleted)
	require.Equal(t, duroxide.SystemMetrics{
		TotalInstances: 4, TotalExecutions: 6,
		RunningInstances: 1, CompletedInstances: 2, FailedInstances: 1,
		TotalEvents: 7,
	}, mgmtMetrics(t, admin), "the continued instance now counts by its current execution")
}

// Not in duroxide ([duroxide.ProviderAdmin.GetQueueDepths]): queue depths count
// orchestrator messages not in a held batch (delayed ones and timers
// included; messages that arrive during a lock, or whose lock was abandoned,
// count again) and worker items not locked; timer_queue is always 0.
func mgmtQueueDepthsCountUnlocked(t T, h *Harness) {
	admin := h.Admin(t)
	ctx := t.Context()
	const a, b = "mgmt-q-a", "mgmt-q-b"
	createInstance(t, h, a)
	createInstance(t, h, b)
	require.Equal(t, duroxide.QueueDepths{}, mgmtDepths(t, admin), "acked starts leave the queues empty")

	enqueueOrch(t, h, externalItem(a, "a1"))
	enqueueOrch(t, h, externalItem(a, "a2"))
	enqueueOrch(t, h, externalItem(b, "b1"))
	timer := duroxide.TimerFiredItem{Instance: b, ExecutionID: 1, ID: 1, FireAtMs: 0}
	require.NoError(t, h.Provider.EnqueueForOrchestrator(ctx, timer, h.LockTimeout))
	enqueueWorker(t, h, activityItem(a, 1))
	enqueueWorker(t, h, activityItem(a, 2))
	require.Equal(t, duroxide.QueueDepths{OrchestratorQueue: 4, WorkerQueue: 2}, mgmtDepths(t, admin),
		"a delayed timer is an unlocked orchestrator message, not a timer-queue entry")

	batch := fetchInstance(t, h, a)
	require.Len(t, batch.Messages, 2)
	require.Equal(t, uint64(2), mgmtDepths(t, admin).OrchestratorQueue, "the held batch is not counted")
	enqueueOrch(t, h, externalItem(a, "a3"))
	require.Equal(t, uint64(3), mgmtDepths(t, admin).OrchestratorQueue, "a message arriving during the lock is not in the batch")

	w := mustFetchWork(t, h, longLock)
	require.Equal(t, uint64(1), mgmtDepths(t, admin).WorkerQueue, "a locked worker item is not counted")

	require.NoError(t, h.Provider.AbandonOrchestrationItem(ctx, batch.LockToken, 0, false))
	require.NoError(t, h.Provider.AbandonWorkItem(ctx, w.LockToken, 0, false))
	// The abandoned orchestrator messages may or may not be counted again
	// (the strict case queue_depths_count_abandoned_messages_again); the
	// abandoned worker item is.
	require.Equal(t, uint64(2), mgmtDepths(t, admin).WorkerQueue, "an abandoned worker item is unlocked again")

	again := fetchInstance(t, h, a)
	require.Len(t, again.Messages, 3)
	ackEmpty(t, h, again.LockToken)
	require.Equal(t, duroxide.QueueDepths{OrchestratorQueue: 2, WorkerQueue: 2}, mgmtDepths(t, admin))
}

// Not in duroxide ([duroxide.ProviderAdmin.ListInstances]). Strict:
// list_instances and
// list_instances_by_status are newest first, by creation time, for
// instances created a few milliseconds apart. Not required: duroxide's
// runtime never lists instances, and duroxide's SQLite provider orders by a
// whole-second timestamp, so instances created within one second come in
// no particular order.
func mgmtListInstancesNewestFirst(t T, h *Harness) {
	admin := h.Admin(t)
	ids := []string{"mgmt-order-0", "mgmt-order-1", "mgmt-order-2"}
	for _, id := range ids {
		createCompleted(t, h, id)
		h.Sleep(t, h.Slack) // distinct creation times
	}
	want := []string{"mgmt-order-2", "mgmt-order-1", "mgmt-order-0"}
	got, err := admin.ListInstances(t.Context())
	require.NoError(t, err)
	require.Equal(t, want, got, "list_instances must be newest first")
	require.Equal(t, want, mgmtByStatus(t, admin, duroxide.StatusCompleted), "list_instances_by_status must be newest first")
}

// Not in duroxide ([duroxide.InstanceInfo], [duroxide.ExecutionInfo]).
// Strict: management timestamps
// have millisecond resolution: created_at, updated_at, started_at and
// completed_at lie within the milliseconds of the calls that set them. Not
// required: they are for people and for retention filters, where a second
// is precise enough, and duroxide's SQLite provider keeps whole seconds for
// all of them but completed_at.
func mgmtTimestampsHaveMillisecondResolution(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "mgmt-ms"
	// Start well inside a second, so that a value rounded to the second
	// falls before start.
	if h.FakeTime() {
		h.Sleep(t, 1234*time.Millisecond)
	} else if ms := h.NowMs() % 1000; ms < 100 || ms > 800 {
		h.Sleep(t, time.Duration((1300-ms)%1000)*time.Millisecond) // to ~300 ms past a second
	}
	start := h.NowMs()
	createCompleted(t, h, inst)
	now := h.NowMs()
	within := func(got uint64, what string) {
		t.Helper()
		require.True(t, start <= got && got <= now, "%s = %d must lie within [%d, %d], to the millisecond", what, got, start, now)
	}
	info := mgmtInfo(t, admin, inst)
	within(info.CreatedAt, "created_at")
	within(info.UpdatedAt, "updated_at")
	exec := mgmtExecInfo(t, admin, inst, 1)
	within(exec.StartedAt, "started_at")
	require.NotNil(t, exec.CompletedAt, "an ack with a status sets completed_at")
	within(*exec.CompletedAt, "completed_at")
}

// Not in duroxide ([duroxide.ProviderAdmin.GetQueueDepths]). Strict:
// orchestrator messages of an
// abandoned batch are unlocked, and queue depths count them again. Not
// required: duroxide's runtime reads queue depths only to seed its metrics
// gauges, and duroxide's SQLite provider counts only messages no fetch ever
// tagged, so an abandoned batch stays uncounted until it is acked.
func mgmtQueueDepthsCountAbandonedAgain(t T, h *Harness) {
	admin := h.Admin(t)
	const inst = "mgmt-q-abandon"
	createInstance(t, h, inst)
	enqueueOrch(t, h, externalItem(inst, "a1"))
	enqueueOrch(t, h, externalItem(inst, "a2"))
	batch := fetchInstance(t, h, inst)
	require.Equal(t, uint64(0), mgmtDepths(t, admin).OrchestratorQueue, "the held batch is not counted")
	abandonOrch(t, h, batch.LockToken, false)
	require.Equal(t, uint64(2), mgmtDepths(t, admin).OrchestratorQueue, "an abandoned batch is unlocked and counted again")
}
