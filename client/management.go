package client

import (
	"context"

	"github.com/duroxide-go/duroxide"
)

// This file is the management pass-through: each method calls the
// provider's [duroxide.ProviderAdmin] (from
// [duroxide.Provider.AsManagementCapability]) and returns an error matching
// [ErrManagementUnavailable] when the provider has none. Provider errors are
// wrapped in an [*Error]: duroxide.ErrNotFound, duroxide.ErrInstanceRunning,
// duroxide.ErrNotRoot and the others stay matchable with errors.Is, and
// [IsRetryable] reports the provider's retryability.

// HasManagement reports whether the provider offers the management API
// ([duroxide.ProviderAdmin]) that ListInstances, GetInstanceInfo,
// DeleteInstance, PruneExecutions and the other management methods need.
// Without it they fail with [ErrManagementUnavailable]; ReadHistory does
// not need it.
func (c *Client) HasManagement() bool { return c.p.AsManagementCapability() != nil }

// admin returns the provider's management API or an error.
func (c *Client) admin(op, instance string) (duroxide.ProviderAdmin, error) {
	a := c.p.AsManagementCapability()
	if a == nil {
		return nil, newErr(op, instance, ErrManagementUnavailable)
	}
	return a, nil
}

// ListInstances returns every instance the provider has a record of, newest
// first.
func (c *Client) ListInstances(ctx context.Context) ([]string, error) {
	const op = "list_instances"
	a, err := c.admin(op, "")
	if err != nil {
		return nil, err
	}
	ids, err := a.ListInstances(ctx)
	if err != nil {
		return nil, newErr(op, "", err)
	}
	return ids, nil
}

// ListInstancesByStatus returns the instances whose current execution has
// status (as the provider stores it: duroxide.StatusRunning,
// StatusCompleted, StatusFailed, StatusContinuedAsNew), newest first. An
// empty status is refused with [ErrInvalidInput].
func (c *Client) ListInstancesByStatus(ctx context.Context, status duroxide.ExecutionStatus) ([]string, error) {
	const op = "list_instances_by_status"
	if status == "" {
		return nil, invalid(op, "", "empty status")
	}
	a, err := c.admin(op, "")
	if err != nil {
		return nil, err
	}
	ids, err := a.ListInstancesByStatus(ctx, status)
	if err != nil {
		return nil, newErr(op, "", err)
	}
	return ids, nil
}

// GetInstanceInfo describes instance and its current execution (an error
// matching duroxide.ErrNotFound when the provider has no record of it).
func (c *Client) GetInstanceInfo(ctx context.Context, instance string) (duroxide.InstanceInfo, error) {
	const op = "get_instance_info"
	a, err := c.adminFor(op, instance)
	if err != nil {
		return duroxide.InstanceInfo{}, err
	}
	info, err := a.GetInstanceInfo(ctx, instance)
	if err != nil {
		return duroxide.InstanceInfo{}, newErr(op, instance, err)
	}
	return info, nil
}

// GetExecutionInfo describes one execution of instance (an error matching
// duroxide.ErrNotFound when it does not exist). Execution id 0 is refused
// with [ErrInvalidInput].
func (c *Client) GetExecutionInfo(ctx context.Context, instance string, executionID uint64) (duroxide.ExecutionInfo, error) {
	const op = "get_execution_info"
	if executionID == 0 {
		return duroxide.ExecutionInfo{}, invalid(op, instance, "execution id 0")
	}
	a, err := c.adminFor(op, instance)
	if err != nil {
		return duroxide.ExecutionInfo{}, err
	}
	info, err := a.GetExecutionInfo(ctx, instance, executionID)
	if err != nil {
		return duroxide.ExecutionInfo{}, newErr(op, instance, err)
	}
	return info, nil
}

// ListExecutions returns the execution ids of instance, ascending (empty for
// an unknown instance).
func (c *Client) ListExecutions(ctx context.Context, instance string) ([]uint64, error) {
	const op = "list_executions"
	a, err := c.adminFor(op, instance)
	if err != nil {
		return nil, err
	}
	ids, err := a.ListExecutions(ctx, instance)
	if err != nil {
		return nil, newErr(op, instance, err)
	}
	return ids, nil
}

// ReadExecutionHistory returns the history of one execution of instance, in
// ascending event id (empty when it has none). Execution id 0 is refused
// with [ErrInvalidInput].
func (c *Client) ReadExecutionHistory(ctx context.Context, instance string, executionID uint64) ([]duroxide.Event, error) {
	const op = "read_execution_history"
	if executionID == 0 {
		return nil, invalid(op, instance, "execution id 0")
	}
	a, err := c.adminFor(op, instance)
	if err != nil {
		return nil, err
	}
	h, err := a.ReadHistoryWithExecutionID(ctx, instance, executionID)
	if err != nil {
		return nil, newErr(op, instance, err)
	}
	return h, nil
}

// ReadHistory returns the history of the latest execution of instance, in
// ascending event id (empty for an unknown instance). It needs no
// management API: it is the provider's Read.
func (c *Client) ReadHistory(ctx context.Context, instance string) ([]duroxide.Event, error) {
	const op = "read_history"
	if err := checkInstance(op, instance); err != nil {
		return nil, err
	}
	h, err := c.p.Read(ctx, instance)
	if err != nil {
		return nil, newErr(op, instance, err)
	}
	return h, nil
}

// GetSystemMetrics summarises the provider's store.
func (c *Client) GetSystemMetrics(ctx context.Context) (duroxide.SystemMetrics, error) {
	const op = "get_system_metrics"
	a, err := c.admin(op, "")
	if err != nil {
		return duroxide.SystemMetrics{}, err
	}
	m, err := a.GetSystemMetrics(ctx)
	if err != nil {
		return duroxide.SystemMetrics{}, newErr(op, "", err)
	}
	return m, nil
}

// GetQueueDepths counts the messages of each queue that no dispatcher holds.
func (c *Client) GetQueueDepths(ctx context.Context) (duroxide.QueueDepths, error) {
	const op = "get_queue_depths"
	a, err := c.admin(op, "")
	if err != nil {
		return duroxide.QueueDepths{}, err
	}
	d, err := a.GetQueueDepths(ctx)
	if err != nil {
		return duroxide.QueueDepths{}, newErr(op, "", err)
	}
	return d, nil
}

// GetInstanceTree returns instance and all its sub-orchestrations,
// transitively, root first.
func (c *Client) GetInstanceTree(ctx context.Context, instance string) (duroxide.InstanceTree, error) {
	const op = "get_instance_tree"
	a, err := c.adminFor(op, instance)
	if err != nil {
		return duroxide.InstanceTree{}, err
	}
	t, err := a.GetInstanceTree(ctx, instance)
	if err != nil {
		return duroxide.InstanceTree{}, newErr(op, instance, err)
	}
	return t, nil
}

// DeleteInstance deletes a root instance with its whole tree of
// sub-orchestrations, atomically: history, executions, queued messages and
// key/value state. Without force, a running instance is refused (an error
// matching duroxide.ErrInstanceRunning: cancel it and wait first); a
// sub-orchestration is refused (duroxide.ErrNotRoot: delete its root); an
// unknown instance is duroxide.ErrNotFound.
func (c *Client) DeleteInstance(ctx context.Context, instance string, force bool) (duroxide.DeleteInstanceResult, error) {
	const op = "delete_instance"
	a, err := c.adminFor(op, instance)
	if err != nil {
		return duroxide.DeleteInstanceResult{}, err
	}
	r, err := a.DeleteInstance(ctx, instance, force)
	if err != nil {
		return duroxide.DeleteInstanceResult{}, newErr(op, instance, err)
	}
	return r, nil
}

// DeleteInstanceBulk deletes the finished root instances that filter
// selects, each with its tree, and returns the totals.
func (c *Client) DeleteInstanceBulk(ctx context.Context, filter duroxide.InstanceFilter) (duroxide.DeleteInstanceResult, error) {
	const op = "delete_instance_bulk"
	a, err := c.admin(op, "")
	if err != nil {
		return duroxide.DeleteInstanceResult{}, err
	}
	r, err := a.DeleteInstanceBulk(ctx, filter)
	if err != nil {
		return duroxide.DeleteInstanceResult{}, newErr(op, "", err)
	}
	return r, nil
}

// PruneExecutions deletes old executions of instance that opts selects; the
// current execution and running ones are always kept. An unknown instance is
// an error matching duroxide.ErrNotFound.
func (c *Client) PruneExecutions(ctx context.Context, instance string, opts duroxide.PruneOptions) (duroxide.PruneResult, error) {
	const op = "prune_executions"
	a, err := c.adminFor(op, instance)
	if err != nil {
		return duroxide.PruneResult{}, err
	}
	r, err := a.PruneExecutions(ctx, instance, opts)
	if err != nil {
		return duroxide.PruneResult{}, newErr(op, instance, err)
	}
	return r, nil
}

// PruneExecutionsBulk prunes, as [Client.PruneExecutions] does, every
// instance that filter selects, and returns the totals.
func (c *Client) PruneExecutionsBulk(ctx context.Context, filter duroxide.InstanceFilter, opts duroxide.PruneOptions) (duroxide.PruneResult, error) {
	const op = "prune_executions_bulk"
	a, err := c.admin(op, "")
	if err != nil {
		return duroxide.PruneResult{}, err
	}
	r, err := a.PruneExecutionsBulk(ctx, filter, opts)
	if err != nil {
		return duroxide.PruneResult{}, newErr(op, "", err)
	}
	return r, nil
}

// adminFor checks the instance id, then returns the management API.
func (c *Client) adminFor(op, instance string) (duroxide.ProviderAdmin, error) {
	if err := checkInstance(op, instance); err != nil {
		return nil, err
	}
	return c.admin(op, instance)
}
