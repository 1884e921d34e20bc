package memprovider

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/duroxide-go/duroxide"
)

// ms converts provider nanoseconds to Unix milliseconds (0 before 1970).
func ms(ns int64) uint64 { return uint64(max(ns, 0) / int64(time.Millisecond)) }

// notFound returns the permanent "Instance <id> not found" error.
func notFound(op, instance string) error {
	return duroxide.Permanent(op, duroxide.ErrNotFound, "Instance %s not found", instance)
}

// records returns instances with a metadata record, newest first. Caller
// holds p.mu. O(i log i).
func (p *Provider) records(keep func(*instance) bool) []string {
	var ins []*instance
	for _, in := range p.instances {
		if in.meta != nil && keep(in) {
			ins = append(ins, in)
		}
	}
	slices.SortFunc(ins, func(a, b *instance) int {
		if c := cmp.Compare(b.meta.createdAt, a.meta.createdAt); c != 0 {
			return c
		}
		return cmp.Compare(b.meta.createdSeq, a.meta.createdSeq)
	})
	ids := make([]string, len(ins))
	for i, in := range ins {
		ids[i] = in.id
	}
	return ids
}

// currentStatus returns the status of in's current execution, and false
// when it has no metadata or no current execution record.
func (in *instance) currentStatus() (duroxide.ExecutionStatus, bool) {
	if in.meta == nil {
		return "", false
	}
	e := in.execByID(in.meta.currentExec)
	if e == nil || !e.row {
		return "", false
	}
	return e.status, true
}

// ListInstances implements [duroxide.ProviderAdmin]. O(i log i).
func (p *Provider) ListInstances(ctx context.Context) ([]string, error) {
	if err := checkCtx(ctx, "list_instances"); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.records(func(*instance) bool { return true }), nil
}

// ListInstancesByStatus implements [duroxide.ProviderAdmin]. O(i log i).
func (p *Provider) ListInstancesByStatus(ctx context.Context, status duroxide.ExecutionStatus) ([]string, error) {
	if err := checkCtx(ctx, "list_instances_by_status"); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.records(func(in *instance) bool {
		s, ok := in.currentStatus()
		return ok && s == status
	}), nil
}

// ListExecutions implements [duroxide.ProviderAdmin]. O(x log x).
func (p *Provider) ListExecutions(ctx context.Context, instance string) ([]uint64, error) {
	if err := checkInstance(ctx, "list_executions", instance); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := []uint64{}
	if in := p.instances[instance]; in != nil {
		for _, e := range in.execs {
			if e.row {
				ids = append(ids, e.id)
			}
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// ReadHistoryWithExecutionID implements [duroxide.ProviderAdmin].
func (p *Provider) ReadHistoryWithExecutionID(ctx context.Context, instance string, executionID uint64) ([]duroxide.Event, error) {
	return p.ReadWithExecution(ctx, instance, executionID)
}

// ReadHistory implements [duroxide.ProviderAdmin].
func (p *Provider) ReadHistory(ctx context.Context, instance string) ([]duroxide.Event, error) {
	return p.Read(ctx, instance)
}

// LatestExecutionID implements [duroxide.ProviderAdmin]: 1 when the
// instance has no execution record.
func (p *Provider) LatestExecutionID(ctx context.Context, instance string) (uint64, error) {
	if err := checkInstance(ctx, "latest_execution_id", instance); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if in := p.instances[instance]; in != nil {
		return in.latestExecID(), nil
	}
	return duroxide.InitialExecutionID, nil
}

// GetInstanceInfo implements [duroxide.ProviderAdmin].
func (p *Provider) GetInstanceInfo(ctx context.Context, instance string) (duroxide.InstanceInfo, error) {
	const op = "get_instance_info"
	if err := checkInstance(ctx, op, instance); err != nil {
		return duroxide.InstanceInfo{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.instances[instance]
	if in == nil || in.meta == nil {
		return duroxide.InstanceInfo{}, notFound(op, instance)
	}
	m := in.meta
	info := duroxide.InstanceInfo{
		InstanceID:           instance,
		OrchestrationName:    m.name,
		OrchestrationVersion: m.version,
		CurrentExecutionID:   m.currentExec,
		Status:               duroxide.StatusUnknown,
		CreatedAt:            ms(m.createdAt),
		UpdatedAt:            ms(m.updatedAt),
		ParentInstanceID:     cloneStr(m.parent),
	}
	if e := in.execByID(m.currentExec); e != nil && e.row {
		info.Status = e.status
		info.Output = e.outputPtr()
	}
	return info, nil
}

// GetExecutionInfo implements [duroxide.ProviderAdmin].
func (p *Provider) GetExecutionInfo(ctx context.Context, instance string, executionID uint64) (duroxide.ExecutionInfo, error) {
	const op = "get_execution_info"
	if err := checkInstance(ctx, op, instance); err != nil {
		return duroxide.ExecutionInfo{}, err
	}
	if executionID == 0 {
		return duroxide.ExecutionInfo{}, invalid(op, "execution_id must not be 0")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var e *execution
	if in := p.instances[instance]; in != nil {
		e = in.execByID(executionID)
	}
	if e == nil || !e.row {
		return duroxide.ExecutionInfo{}, duroxide.Permanent(op, duroxide.ErrNotFound, "Execution %d of instance %s not found", executionID, instance)
	}
	info := duroxide.ExecutionInfo{
		ExecutionID: executionID,
		Status:      e.status,
		Output:      e.outputPtr(),
		StartedAt:   ms(e.startedAt),
		EventCount:  uint64(len(e.history)),
	}
	if e.completed {
		c := ms(e.completedAt)
		info.CompletedAt = &c
	}
	return info, nil
}

// GetSystemMetrics implements [duroxide.ProviderAdmin]. O(i + executions).
func (p *Provider) GetSystemMetrics(ctx context.Context) (duroxide.SystemMetrics, error) {
	if err := checkCtx(ctx, "get_system_metrics"); err != nil {
		return duroxide.SystemMetrics{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var m duroxide.SystemMetrics
	for _, in := range p.instances {
		for _, e := range in.execs {
			if e.row {
				m.TotalExecutions++
			}
			m.TotalEvents += uint64(len(e.history))
		}
		if in.meta == nil {
			continue
		}
		m.TotalInstances++
		switch s, _ := in.currentStatus(); s {
		case duroxide.StatusRunning:
			m.RunningInstances++
		case duroxide.StatusCompleted:
			m.CompletedInstances++
		case duroxide.StatusFailed:
			m.FailedInstances++
		}
	}
	return m, nil
}

// GetQueueDepths implements [duroxide.ProviderAdmin]: orchestrator messages
// not in a held batch, and worker items not locked (delayed ones included).
// O(n).
func (p *Provider) GetQueueDepths(ctx context.Context) (duroxide.QueueDepths, error) {
	if err := checkCtx(ctx, "get_queue_depths"); err != nil {
		return duroxide.QueueDepths{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var d duroxide.QueueDepths
	for _, in := range p.instances {
		held := ""
		if in.lock != nil && in.lock.until > now {
			held = in.lock.token
		}
		d.OrchestratorQueue += uint64(len(in.timers))
		for _, m := range in.msgs {
			if held == "" || m.batch != held {
				d.OrchestratorQueue++
			}
		}
	}
	d.WorkerQueue = uint64(p.worker.count - p.worker.locks.Len())
	p.worker.locks.Ascend(func(e *workEntry) bool {
		if e.until <= now { // expired, not yet promoted: unlocked
			d.WorkerQueue++
		}
		return e.until <= now
	})
	return d, nil
}

// children returns the ids of instances whose parent is id, sorted. O(i).
func (p *Provider) children(id string) []string {
	var out []string
	for _, in := range p.instances {
		if in.meta != nil && in.meta.parent != nil && *in.meta.parent == id {
			out = append(out, in.id)
		}
	}
	slices.Sort(out)
	return out
}

// ListChildren implements [duroxide.ProviderAdmin]. O(i).
func (p *Provider) ListChildren(ctx context.Context, instance string) ([]string, error) {
	if err := checkInstance(ctx, "list_children", instance); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.children(instance)
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// GetParentID implements [duroxide.ProviderAdmin].
func (p *Provider) GetParentID(ctx context.Context, instance string) (*string, error) {
	const op = "get_parent_id"
	if err := checkInstance(ctx, op, instance); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.instances[instance]
	if in == nil || in.meta == nil {
		return nil, notFound(op, instance)
	}
	return cloneStr(in.meta.parent), nil
}

// tree returns root and its descendants, depth first, root first. Caller
// holds p.mu. O(i) per instance in the tree.
func (p *Provider) tree(root string) []string {
	var all []string
	stack := []string{root}
	seen := map[string]bool{}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		all = append(all, id)
		stack = append(stack, p.children(id)...)
	}
	return all
}

// GetInstanceTree implements [duroxide.ProviderAdmin]. An unknown root
// yields a tree of itself, as in duroxide.
func (p *Provider) GetInstanceTree(ctx context.Context, instance string) (duroxide.InstanceTree, error) {
	if err := checkInstance(ctx, "get_instance_tree", instance); err != nil {
		return duroxide.InstanceTree{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return duroxide.InstanceTree{RootID: instance, AllIDs: p.tree(instance)}, nil
}

// DeleteInstance implements [duroxide.ProviderAdmin]: the parent check, the
// tree walk and the delete happen in one critical section.
func (p *Provider) DeleteInstance(ctx context.Context, instance string, force bool) (duroxide.DeleteInstanceResult, error) {
	const op = "delete_instance"
	if err := checkInstance(ctx, op, instance); err != nil {
		return duroxide.DeleteInstanceResult{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.instances[instance]
	if in == nil || in.meta == nil {
		return duroxide.DeleteInstanceResult{}, notFound(op, instance)
	}
	if in.meta.parent != nil {
		return duroxide.DeleteInstanceResult{}, duroxide.Permanent(op, duroxide.ErrNotRoot,
			"Instance %s is a sub-orchestration of parent %s; delete the root instance instead", instance, *in.meta.parent)
	}
	return p.deleteAtomic(op, p.tree(instance), force)
}

// DeleteInstancesAtomic implements [duroxide.ProviderAdmin]. The running
// check and the orphan check run in the same critical section as the
// delete.
func (p *Provider) DeleteInstancesAtomic(ctx context.Context, ids []string, force bool) (duroxide.DeleteInstanceResult, error) {
	const op = "delete_instances_atomic"
	if err := checkCtx(ctx, op); err != nil {
		return duroxide.DeleteInstanceResult{}, err
	}
	for i, id := range ids {
		if id == "" {
			return duroxide.DeleteInstanceResult{}, invalid(op, "ids[%d] is empty", i)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.deleteAtomic(op, slices.Clone(ids), force)
}

// deleteAtomic checks and deletes ids. Caller holds p.mu.
func (p *Provider) deleteAtomic(op string, ids []string, force bool) (duroxide.DeleteInstanceResult, error) {
	var res duroxide.DeleteInstanceResult
	if len(ids) == 0 {
		return res, nil
	}
	listed := make(map[string]bool, len(ids))
	for _, id := range ids {
		listed[id] = true
	}
	if !force {
		for _, id := range ids {
			if in := p.instances[id]; in != nil {
				if s, ok := in.currentStatus(); ok && s == duroxide.StatusRunning {
					return res, duroxide.Permanent(op, duroxide.ErrInstanceRunning,
						"Instance %s is still running; use force or cancel it first", id)
				}
			}
		}
	}
	for _, in := range p.instances {
		if in.meta != nil && in.meta.parent != nil && listed[*in.meta.parent] && !listed[in.id] {
			return res, duroxide.Permanent(op, duroxide.ErrOrphanChild,
				"deleting %s would orphan child %s, which is not in the list; re-read the instance tree and retry", *in.meta.parent, in.id)
		}
	}
	for id := range listed {
		// Worker items are keyed by their own instance field: an activity can
		// be queued for an instance that has no other state.
		for ii := p.worker.byInstance[id]; ii != nil; ii = p.worker.byInstance[id] {
			p.worker.remove(ii.head)
			res.QueueMessagesDeleted++
		}
		in := p.instances[id]
		if in == nil {
			continue
		}
		res.InstancesDeleted++
		for _, e := range in.execs {
			if e.row {
				res.ExecutionsDeleted++
			}
			res.EventsDeleted += uint64(len(e.history))
		}
		res.QueueMessagesDeleted += uint64(p.removeOrchMsgs(in, func(*orchMsg) bool { return true }) + p.removeTimers(in))
		p.releaseLock(in)
		in.parked = false
		p.refreshReady(in)
		delete(p.instances, id)
	}
	return res, nil
}

// selectInstances applies an InstanceFilter to instances with a metadata
// record that pass keep, oldest first. Caller holds p.mu.
func (p *Provider) selectInstances(f duroxide.InstanceFilter, keep func(*instance) bool) []string {
	if f.InstanceIDs != nil && len(f.InstanceIDs) == 0 {
		return nil
	}
	allowed := map[string]bool{}
	for _, id := range f.InstanceIDs {
		allowed[id] = true
	}
	limit := duroxide.DefaultBulkLimit
	if f.Limit != nil {
		limit = *f.Limit
	}
	ids := p.records(func(in *instance) bool {
		if f.InstanceIDs != nil && !allowed[in.id] {
			return false
		}
		if f.CompletedBefore != nil {
			e := in.execByID(in.meta.currentExec)
			if e == nil || !e.completed || ms(e.completedAt) >= *f.CompletedBefore {
				return false
			}
		}
		return keep(in)
	})
	slices.Reverse(ids)
	if uint64(len(ids)) > uint64(limit) {
		ids = ids[:limit]
	}
	return ids
}

// DeleteInstanceBulk implements [duroxide.ProviderAdmin]: terminal roots
// (Completed, Failed, ContinuedAsNew) matching the filter, oldest first, each
// with its whole tree (forced).
func (p *Provider) DeleteInstanceBulk(ctx context.Context, filter duroxide.InstanceFilter) (duroxide.DeleteInstanceResult, error) {
	const op = "delete_instance_bulk"
	if err := checkCtx(ctx, op); err != nil {
		return duroxide.DeleteInstanceResult{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	roots := p.selectInstances(filter, func(in *instance) bool {
		s, ok := in.currentStatus()
		return in.meta.parent == nil && ok && s.IsTerminal()
	})
	var total duroxide.DeleteInstanceResult
	for _, root := range roots {
		res, err := p.deleteAtomic(op, p.tree(root), true)
		if err != nil {
			return total, err
		}
		total = total.Add(res)
	}
	return total, nil
}

// PruneExecutions implements [duroxide.ProviderAdmin]: never the current or
// a running execution; key/value state and queues are untouched.
func (p *Provider) PruneExecutions(ctx context.Context, instance string, opts duroxide.PruneOptions) (duroxide.PruneResult, error) {
	const op = "prune_executions"
	if err := checkInstance(ctx, op, instance); err != nil {
		return duroxide.PruneResult{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.instances[instance]
	if in == nil || in.meta == nil {
		return duroxide.PruneResult{}, notFound(op, instance)
	}
	return p.prune(in, opts), nil
}

// prune deletes in's prunable executions. Caller holds p.mu.
func (p *Provider) prune(in *instance, opts duroxide.PruneOptions) duroxide.PruneResult {
	res := duroxide.PruneResult{InstancesProcessed: 1}
	var ids []uint64
	for _, e := range in.execs {
		if e.row {
			ids = append(ids, e.id)
		}
	}
	slices.Sort(ids)
	kept := map[uint64]bool{}
	if opts.KeepLast != nil {
		for i := len(ids) - 1; i >= 0 && len(ids)-i <= int(*opts.KeepLast); i-- {
			kept[ids[i]] = true
		}
	}
	for _, id := range ids {
		e := in.execByID(id)
		if id == in.meta.currentExec || e.status == duroxide.StatusRunning || kept[id] {
			continue
		}
		if opts.CompletedBefore != nil && (!e.completed || ms(e.completedAt) >= *opts.CompletedBefore) {
			continue
		}
		res.ExecutionsDeleted++
		res.EventsDeleted += uint64(len(e.history))
		in.deleteExec(id)
	}
	return res
}

// PruneExecutionsBulk implements [duroxide.ProviderAdmin]: every instance
// matching the filter, running ones included.
func (p *Provider) PruneExecutionsBulk(ctx context.Context, filter duroxide.InstanceFilter, opts duroxide.PruneOptions) (duroxide.PruneResult, error) {
	if err := checkCtx(ctx, "prune_executions_bulk"); err != nil {
		return duroxide.PruneResult{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var total duroxide.PruneResult
	for _, id := range p.selectInstances(filter, func(*instance) bool { return true }) {
		total = total.Add(p.prune(p.instances[id], opts))
	}
	return total, nil
}
