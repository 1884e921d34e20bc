package client_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/memprovider"
)

// managementCalls calls every management method of c once; "" stands for a
// valid instance id i1 (so that only the missing API can fail).
func managementCalls(ctx context.Context, c *client.Client) map[string]error {
	calls := map[string]error{}
	_, calls["list_instances"] = c.ListInstances(ctx)
	_, calls["list_instances_by_status"] = c.ListInstancesByStatus(ctx, duroxide.StatusRunning)
	_, calls["get_instance_info"] = c.GetInstanceInfo(ctx, "i1")
	_, calls["get_execution_info"] = c.GetExecutionInfo(ctx, "i1", 1)
	_, calls["list_executions"] = c.ListExecutions(ctx, "i1")
	_, calls["read_execution_history"] = c.ReadExecutionHistory(ctx, "i1", 1)
	_, calls["get_system_metrics"] = c.GetSystemMetrics(ctx)
	_, calls["get_queue_depths"] = c.GetQueueDepths(ctx)
	_, calls["get_instance_tree"] = c.GetInstanceTree(ctx, "i1")
	_, calls["delete_instance"] = c.DeleteInstance(ctx, "i1", true)
	_, calls["delete_instance_bulk"] = c.DeleteInstanceBulk(ctx, duroxide.InstanceFilter{})
	_, calls["prune_executions"] = c.PruneExecutions(ctx, "i1", duroxide.PruneOptions{})
	_, calls["prune_executions_bulk"] = c.PruneExecutionsBulk(ctx, duroxide.InstanceFilter{}, duroxide.PruneOptions{})
	return calls
}

func TestManagementWithoutProviderAdmin(t *testing.T) {
	ctx := context.Background()
	mp := memprovider.New()
	c, err := client.New(&faultyProvider{Provider: mp, noAdmin: true})
	require.NoError(t, err)
	require.False(t, c.HasManagement())
	for op, err := range managementCalls(ctx, c) {
		require.ErrorIs(t, err, client.ErrManagementUnavailable, op)
		require.False(t, client.IsRetryable(err), op)
		var ce *client.Error
		require.ErrorAs(t, err, &ce, op)
		require.Equal(t, op, ce.Op)
	}

	// The reads of the base contract still work.
	require.NoError(t, c.Start(ctx, "i1", "Greet", ""))
	_, err = c.ReadHistory(ctx, "i1")
	require.NoError(t, err)
	_, err = c.GetStatus(ctx, "i1")
	require.NoError(t, err)
}

func TestManagementRefusesBadInput(t *testing.T) {
	h := newHarness(t)
	require.True(t, h.c.HasManagement())
	calls := map[string]error{}
	_, calls["list by empty status"] = h.c.ListInstancesByStatus(h.ctx, "")
	_, calls["info"] = h.c.GetInstanceInfo(h.ctx, "")
	_, calls["execution info: instance"] = h.c.GetExecutionInfo(h.ctx, "", 1)
	_, calls["execution info: id 0"] = h.c.GetExecutionInfo(h.ctx, "i1", 0)
	_, calls["executions"] = h.c.ListExecutions(h.ctx, "")
	_, calls["execution history: instance"] = h.c.ReadExecutionHistory(h.ctx, "", 1)
	_, calls["execution history: id 0"] = h.c.ReadExecutionHistory(h.ctx, "i1", 0)
	_, calls["history"] = h.c.ReadHistory(h.ctx, "")
	_, calls["tree"] = h.c.GetInstanceTree(h.ctx, "")
	_, calls["delete"] = h.c.DeleteInstance(h.ctx, "", true)
	_, calls["prune"] = h.c.PruneExecutions(h.ctx, "", duroxide.PruneOptions{})
	for name, err := range calls {
		require.ErrorIs(t, err, client.ErrInvalidInput, name)
	}
}

// fleet plays the runtime for a few instances: i1 completed, i2 running
// with a running child, i3 failed, i4 completed in its third execution
// after two continue-as-new.
func fleet(h *harness) {
	h.t.Helper()
	for _, id := range []string{"i1", "i2", "i3", "i4"} {
		require.NoError(h.t, h.c.Start(h.ctx, id, "Work", ""))
		h.start(id)
	}
	h.complete("i1", "1")
	h.startChild("i2", "i2::sub::2", "Child")
	h.fail("i3", boom)
	for n := range 2 {
		h.continueAsNew("i4", "Work", string(rune('1'+n)))
		h.startNext("i4")
	}
	h.complete("i4", "4")
}

// Each pass-through returns exactly what the provider's management API
// returns.
func TestManagementPassesThrough(t *testing.T) {
	h := newHarness(t)
	fleet(h)
	a := h.p.AsManagementCapability()
	ctx := h.ctx

	ids, err := h.c.ListInstances(ctx)
	require.NoError(t, err)
	want, err := a.ListInstances(ctx)
	require.NoError(t, err)
	require.Equal(t, want, ids)
	require.ElementsMatch(t, []string{"i1", "i2", "i2::sub::2", "i3", "i4"}, ids)

	for status, wantIDs := range map[duroxide.ExecutionStatus][]string{
		duroxide.StatusRunning:   {"i2", "i2::sub::2"},
		duroxide.StatusCompleted: {"i1", "i4"},
		duroxide.StatusFailed:    {"i3"},
	} {
		ids, err := h.c.ListInstancesByStatus(ctx, status)
		require.NoError(t, err)
		require.ElementsMatch(t, wantIDs, ids, status)
	}

	info, err := h.c.GetInstanceInfo(ctx, "i4")
	require.NoError(t, err)
	require.Equal(t, "Work", info.OrchestrationName)
	require.Equal(t, uint64(3), info.CurrentExecutionID)
	require.Equal(t, duroxide.StatusCompleted, info.Status)
	require.Equal(t, ptr("4"), info.Output)

	_, err = h.c.GetInstanceInfo(ctx, "nope")
	require.ErrorIs(t, err, duroxide.ErrNotFound)

	execs, err := h.c.ListExecutions(ctx, "i4")
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 2, 3}, execs)

	ei, err := h.c.GetExecutionInfo(ctx, "i4", 1)
	require.NoError(t, err)
	require.Equal(t, duroxide.StatusContinuedAsNew, ei.Status)
	_, err = h.c.GetExecutionInfo(ctx, "i4", 9)
	require.ErrorIs(t, err, duroxide.ErrNotFound)

	hist, err := h.c.ReadExecutionHistory(ctx, "i4", 2)
	require.NoError(t, err)
	require.Len(t, hist, 2)
	require.Equal(t, duroxide.OrchestrationContinuedAsNew{Input: "2"}, hist[1].Kind)
	latest, err := h.c.ReadHistory(ctx, "i4")
	require.NoError(t, err)
	require.Equal(t, duroxide.OrchestrationCompleted{Output: "4"}, latest[len(latest)-1].Kind)

	m, err := h.c.GetSystemMetrics(ctx)
	require.NoError(t, err)
	wantM, err := a.GetSystemMetrics(ctx)
	require.NoError(t, err)
	require.Equal(t, wantM, m)
	require.Equal(t, uint64(5), m.TotalInstances)

	require.NoError(t, h.c.RaiseEvent(ctx, "i2", "E", ""))
	d, err := h.c.GetQueueDepths(ctx)
	require.NoError(t, err)
	require.Equal(t, duroxide.QueueDepths{OrchestratorQueue: 1}, d)

	tree, err := h.c.GetInstanceTree(ctx, "i2")
	require.NoError(t, err)
	require.Equal(t, duroxide.InstanceTree{RootID: "i2", AllIDs: []string{"i2", "i2::sub::2"}}, tree)
}

func TestDeleteInstanceErrorsAreMatchable(t *testing.T) {
	tests := []struct {
		name     string
		instance string
		force    bool
		sentinel error
	}{
		{"running without force", "i2", false, duroxide.ErrInstanceRunning},
		{"sub-orchestration", "i2::sub::2", true, duroxide.ErrNotRoot},
		{"unknown", "nope", false, duroxide.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			fleet(h)
			_, err := h.c.DeleteInstance(h.ctx, tt.instance, tt.force)
			require.ErrorIs(t, err, tt.sentinel)
			require.False(t, client.IsRetryable(err))
			var ce *client.Error
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "delete_instance", ce.Op)
			require.Equal(t, tt.instance, ce.Instance)
			st, err := h.c.GetStatus(h.ctx, "i2")
			require.NoError(t, err)
			require.Equal(t, client.StateRunning, st.State, "nothing was deleted")
		})
	}
}

func TestDeleteAndPrune(t *testing.T) {
	h := newHarness(t)
	fleet(h)
	ctx := h.ctx

	r, err := h.c.DeleteInstance(ctx, "i1", false)
	require.NoError(t, err)
	require.Equal(t, uint64(1), r.InstancesDeleted)
	require.Equal(t, uint64(1), r.ExecutionsDeleted)

	r, err = h.c.DeleteInstance(ctx, "i2", true)
	require.NoError(t, err)
	require.Equal(t, uint64(2), r.InstancesDeleted, "the tree goes with its root")

	pr, err := h.c.PruneExecutions(ctx, "i4", duroxide.PruneOptions{KeepLast: ptr(uint32(1))})
	require.NoError(t, err)
	require.Equal(t, uint64(2), pr.ExecutionsDeleted)
	execs, err := h.c.ListExecutions(ctx, "i4")
	require.NoError(t, err)
	require.Equal(t, []uint64{3}, execs)
	_, err = h.c.PruneExecutions(ctx, "nope", duroxide.PruneOptions{})
	require.ErrorIs(t, err, duroxide.ErrNotFound)

	pr, err = h.c.PruneExecutionsBulk(ctx, duroxide.InstanceFilter{}, duroxide.PruneOptions{KeepLast: ptr(uint32(1))})
	require.NoError(t, err)
	require.Zero(t, pr.ExecutionsDeleted)

	r, err = h.c.DeleteInstanceBulk(ctx, duroxide.InstanceFilter{})
	require.NoError(t, err)
	require.Equal(t, uint64(2), r.InstancesDeleted, "i3 and i4")
	ids, err := h.c.ListInstances(ctx)
	require.NoError(t, err)
	require.Empty(t, ids)
}
