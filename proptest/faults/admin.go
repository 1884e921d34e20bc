package faults

import (
	"context"

	"github.com/duroxide-go/duroxide"
)

// admin is a [duroxide.ProviderAdmin] that delegates to inner and injects
// faults with p's rules, generator and counters.
type admin struct {
	p     *Provider
	inner duroxide.ProviderAdmin
}

var _ duroxide.ProviderAdmin = (*admin)(nil)

func (a *admin) ListInstances(ctx context.Context) ([]string, error) {
	return call(a.p, OpListInstances, func() ([]string, error) { return a.inner.ListInstances(ctx) })
}

func (a *admin) ListInstancesByStatus(ctx context.Context, status duroxide.ExecutionStatus) ([]string, error) {
	return call(a.p, OpListInstancesByStatus, func() ([]string, error) { return a.inner.ListInstancesByStatus(ctx, status) })
}

func (a *admin) ListExecutions(ctx context.Context, instance string) ([]uint64, error) {
	return call(a.p, OpListExecutions, func() ([]uint64, error) { return a.inner.ListExecutions(ctx, instance) })
}

func (a *admin) ReadHistoryWithExecutionID(ctx context.Context, instance string, executionID uint64) ([]duroxide.Event, error) {
	return call(a.p, OpReadHistoryWithExecutionID, func() ([]duroxide.Event, error) {
		return a.inner.ReadHistoryWithExecutionID(ctx, instance, executionID)
	})
}

func (a *admin) ReadHistory(ctx context.Context, instance string) ([]duroxide.Event, error) {
	return call(a.p, OpReadHistory, func() ([]duroxide.Event, error) { return a.inner.ReadHistory(ctx, instance) })
}

func (a *admin) LatestExecutionID(ctx context.Context, instance string) (uint64, error) {
	return call(a.p, OpLatestExecutionID, func() (uint64, error) { return a.inner.LatestExecutionID(ctx, instance) })
}

func (a *admin) GetInstanceInfo(ctx context.Context, instance string) (duroxide.InstanceInfo, error) {
	return call(a.p, OpGetInstanceInfo, func() (duroxide.InstanceInfo, error) { return a.inner.GetInstanceInfo(ctx, instance) })
}

func (a *admin) GetExecutionInfo(ctx context.Context, instance string, executionID uint64) (duroxide.ExecutionInfo, error) {
	return call(a.p, OpGetExecutionInfo, func() (duroxide.ExecutionInfo, error) {
		return a.inner.GetExecutionInfo(ctx, instance, executionID)
	})
}

func (a *admin) GetSystemMetrics(ctx context.Context) (duroxide.SystemMetrics, error) {
	return call(a.p, OpGetSystemMetrics, func() (duroxide.SystemMetrics, error) { return a.inner.GetSystemMetrics(ctx) })
}

func (a *admin) GetQueueDepths(ctx context.Context) (duroxide.QueueDepths, error) {
	return call(a.p, OpGetQueueDepths, func() (duroxide.QueueDepths, error) { return a.inner.GetQueueDepths(ctx) })
}

func (a *admin) ListChildren(ctx context.Context, instance string) ([]string, error) {
	return call(a.p, OpListChildren, func() ([]string, error) { return a.inner.ListChildren(ctx, instance) })
}

func (a *admin) GetParentID(ctx context.Context, instance string) (*string, error) {
	return call(a.p, OpGetParentID, func() (*string, error) { return a.inner.GetParentID(ctx, instance) })
}

func (a *admin) GetInstanceTree(ctx context.Context, instance string) (duroxide.InstanceTree, error) {
	return call(a.p, OpGetInstanceTree, func() (duroxide.InstanceTree, error) { return a.inner.GetInstanceTree(ctx, instance) })
}

func (a *admin) DeleteInstance(ctx context.Context, instance string, force bool) (duroxide.DeleteInstanceResult, error) {
	return call(a.p, OpDeleteInstance, func() (duroxide.DeleteInstanceResult, error) {
		return a.inner.DeleteInstance(ctx, instance, force)
	})
}

func (a *admin) DeleteInstancesAtomic(ctx context.Context, ids []string, force bool) (duroxide.DeleteInstanceResult, error) {
	return call(a.p, OpDeleteInstancesAtomic, func() (duroxide.DeleteInstanceResult, error) {
		return a.inner.DeleteInstancesAtomic(ctx, ids, force)
	})
}

func (a *admin) DeleteInstanceBulk(ctx context.Context, filter duroxide.InstanceFilter) (duroxide.DeleteInstanceResult, error) {
	return call(a.p, OpDeleteInstanceBulk, func() (duroxide.DeleteInstanceResult, error) {
		return a.inner.DeleteInstanceBulk(ctx, filter)
	})
}

func (a *admin) PruneExecutions(ctx context.Context, instance string, opts duroxide.PruneOptions) (duroxide.PruneResult, error) {
	return call(a.p, OpPruneExecutions, func() (duroxide.PruneResult, error) {
		return a.inner.PruneExecutions(ctx, instance, opts)
	})
}

func (a *admin) PruneExecutionsBulk(ctx context.Context, filter duroxide.InstanceFilter, opts duroxide.PruneOptions) (duroxide.PruneResult, error) {
	return call(a.p, OpPruneExecutionsBulk, func() (duroxide.PruneResult, error) {
		return a.inner.PruneExecutionsBulk(ctx, filter, opts)
	})
}
