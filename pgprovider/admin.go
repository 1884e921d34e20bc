package pgprovider

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duroxide-go/duroxide"
)

// notFound returns the permanent "Instance <id> not found" error.
func notFound(op, instance string) error {
	return duroxide.Permanent(op, duroxide.ErrNotFound, "Instance %s not found", instance)
}

// strings runs a query returning one text column.
func (p *Provider) strings(ctx context.Context, op, sql string, args ...any) ([]string, error) {
	var out []string
	err := p.read(ctx, op, func(tx *txn, _ any) error {
		rows, _ := tx.Query(ctx, sql, args...)
		var err error
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if out == nil {
		out = []string{}
	}
	return out, err
}

// ListInstances implements [duroxide.ProviderAdmin]: instances with a
// record, newest first.
func (p *Provider) ListInstances(ctx context.Context) ([]string, error) {
	const op = "list_instances"
	if err := checkCtx(ctx, op); err != nil {
		return nil, err
	}
	return p.strings(ctx, op, p.sql.ListInstances)
}

// ListInstancesByStatus implements [duroxide.ProviderAdmin].
func (p *Provider) ListInstancesByStatus(ctx context.Context, status duroxide.ExecutionStatus) ([]string, error) {
	const op = "list_instances_by_status"
	if err := checkCtx(ctx, op); err != nil {
		return nil, err
	}
	return p.strings(ctx, op, p.sql.ListInstancesByState, string(status))
}

// ListExecutions implements [duroxide.ProviderAdmin].
func (p *Provider) ListExecutions(ctx context.Context, instance string) ([]uint64, error) {
	const op = "list_executions"
	if err := checkInstance(ctx, op, instance); err != nil {
		return nil, err
	}
	ids := []uint64{}
	err := p.read(ctx, op, func(tx *txn, _ any) error {
		ids = ids[:0]
		rows, _ := tx.Query(ctx, p.sql.ListExecutions, instance)
		var id int64
		_, err := pgx.ForEachRow(rows, []any{&id}, func() error {
			ids = append(ids, uint64(id))
			return nil
		})
		return err
	})
	return ids, err
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
	const op = "latest_execution_id"
	if err := checkInstance(ctx, op, instance); err != nil {
		return 0, err
	}
	var id int64
	err := p.read(ctx, op, func(tx *txn, _ any) error {
		return tx.QueryRow(ctx, p.sql.LatestExecution, instance).Scan(&id)
	})
	return uint64(id), err
}

// GetInstanceInfo implements [duroxide.ProviderAdmin].
func (p *Provider) GetInstanceInfo(ctx context.Context, instance string) (duroxide.InstanceInfo, error) {
	const op = "get_instance_info"
	if err := checkInstance(ctx, op, instance); err != nil {
		return duroxide.InstanceInfo{}, err
	}
	var info duroxide.InstanceInfo
	err := p.read(ctx, op, func(tx *txn, _ any) error {
		var exec int64
		var status *string
		var created, updated time.Time
		info = duroxide.InstanceInfo{InstanceID: instance}
		err := tx.QueryRow(ctx, p.sql.InstanceInfo, instance).Scan(&info.OrchestrationName, &info.OrchestrationVersion,
			&exec, &status, &info.Output, &created, &updated, &info.ParentInstanceID)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(op, instance)
		}
		if err != nil {
			return err
		}
		info.CurrentExecutionID = uint64(exec)
		info.Status = duroxide.StatusUnknown
		if status != nil {
			info.Status = duroxide.ExecutionStatus(*status)
		}
		info.CreatedAt, info.UpdatedAt = ms(created), ms(updated)
		return nil
	})
	return info, err
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
	var info duroxide.ExecutionInfo
	err := p.read(ctx, op, func(tx *txn, _ any) error {
		var status string
		var started time.Time
		var completed *time.Time
		var count int64
		info = duroxide.ExecutionInfo{ExecutionID: executionID}
		err := tx.QueryRow(ctx, p.sql.ExecutionInfo, instance, clampID(executionID)).Scan(&status, &info.Output, &started, &completed, &count)
		if errors.Is(err, pgx.ErrNoRows) {
			return duroxide.Permanent(op, duroxide.ErrNotFound, "Execution %d of instance %s not found", executionID, instance)
		}
		if err != nil {
			return err
		}
		info.Status = duroxide.ExecutionStatus(status)
		info.StartedAt = ms(started)
		info.EventCount = uint64(count)
		if completed != nil {
			c := ms(*completed)
			info.CompletedAt = &c
		}
		return nil
	})
	return info, err
}

// GetSystemMetrics implements [duroxide.ProviderAdmin].
func (p *Provider) GetSystemMetrics(ctx context.Context) (duroxide.SystemMetrics, error) {
	const op = "get_system_metrics"
	if err := checkCtx(ctx, op); err != nil {
		return duroxide.SystemMetrics{}, err
	}
	var m duroxide.SystemMetrics
	err := p.read(ctx, op, func(tx *txn, _ any) error {
		var c [6]int64
		if err := tx.QueryRow(ctx, p.sql.SystemMetrics).Scan(&c[0], &c[1], &c[2], &c[3], &c[4], &c[5]); err != nil {
			return err
		}
		m = duroxide.SystemMetrics{
			TotalInstances: uint64(c[0]), TotalExecutions: uint64(c[1]), RunningInstances: uint64(c[2]),
			CompletedInstances: uint64(c[3]), FailedInstances: uint64(c[4]), TotalEvents: uint64(c[5]),
		}
		return nil
	})
	return m, err
}

// GetQueueDepths implements [duroxide.ProviderAdmin]: orchestrator messages
// not in a held batch, and worker items not locked (delayed ones included).
func (p *Provider) GetQueueDepths(ctx context.Context) (duroxide.QueueDepths, error) {
	const op = "get_queue_depths"
	if err := checkCtx(ctx, op); err != nil {
		return duroxide.QueueDepths{}, err
	}
	var d duroxide.QueueDepths
	err := p.autocommit(ctx, op, func(tx *txn, now any) error {
		var o, w int64
		if err := tx.QueryRow(ctx, p.sql.QueueDepths, now).Scan(&o, &w); err != nil {
			return err
		}
		d = duroxide.QueueDepths{OrchestratorQueue: uint64(o), WorkerQueue: uint64(w)}
		return nil
	})
	return d, err
}

// ListChildren implements [duroxide.ProviderAdmin].
func (p *Provider) ListChildren(ctx context.Context, instance string) ([]string, error) {
	const op = "list_children"
	if err := checkInstance(ctx, op, instance); err != nil {
		return nil, err
	}
	return p.strings(ctx, op, p.sql.ListChildren, instance)
}

// GetParentID implements [duroxide.ProviderAdmin].
func (p *Provider) GetParentID(ctx context.Context, instance string) (*string, error) {
	const op = "get_parent_id"
	if err := checkInstance(ctx, op, instance); err != nil {
		return nil, err
	}
	var parent *string
	err := p.read(ctx, op, func(tx *txn, _ any) error {
		err := tx.QueryRow(ctx, p.sql.ParentID, instance).Scan(&parent)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(op, instance)
		}
		return err
	})
	return parent, err
}

// tree returns root and its descendants, depth first, root first, the
// largest child id first (as memprovider).
func (p *Provider) tree(ctx context.Context, tx *txn, root string) ([]string, error) {
	rows, _ := tx.Query(ctx, p.sql.Descendants, root)
	children := map[string][]string{}
	var id, parent string
	if _, err := pgx.ForEachRow(rows, []any{&id, &parent}, func() error {
		children[parent] = append(children[parent], id)
		return nil
	}); err != nil {
		return nil, err
	}
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
		kids := children[id]
		slices.Sort(kids)
		stack = append(stack, kids...)
	}
	return all, nil
}

// GetInstanceTree implements [duroxide.ProviderAdmin]. An unknown root
// yields a tree of itself.
func (p *Provider) GetInstanceTree(ctx context.Context, instance string) (duroxide.InstanceTree, error) {
	const op = "get_instance_tree"
	if err := checkInstance(ctx, op, instance); err != nil {
		return duroxide.InstanceTree{}, err
	}
	var all []string
	err := p.read(ctx, op, func(tx *txn, _ any) error {
		var err error
		all, err = p.tree(ctx, tx, instance)
		return err
	})
	return duroxide.InstanceTree{RootID: instance, AllIDs: all}, err
}

// DeleteInstance implements [duroxide.ProviderAdmin]: in one transaction it
// reads the tree, locks every instance row in it in id order, re-checks
// that the root is a root, and deletes.
func (p *Provider) DeleteInstance(ctx context.Context, instance string, force bool) (duroxide.DeleteInstanceResult, error) {
	const op = "delete_instance"
	if err := checkInstance(ctx, op, instance); err != nil {
		return duroxide.DeleteInstanceResult{}, err
	}
	var res duroxide.DeleteInstanceResult
	err := p.inTx(ctx, op, func(tx *txn, _ any) error {
		ids, err := p.tree(ctx, tx, instance)
		if err != nil {
			return err
		}
		if err := p.lockSorted(ctx, tx, ids); err != nil {
			return err
		}
		var parent *string
		err = tx.QueryRow(ctx, p.sql.ParentID, instance).Scan(&parent)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(op, instance)
		}
		if err != nil {
			return err
		}
		if parent != nil {
			return duroxide.Permanent(op, duroxide.ErrNotRoot,
				"Instance %s is a sub-orchestration of parent %s; delete the root instance instead", instance, *parent)
		}
		res, err = p.deleteLocked(ctx, tx, op, ids, force)
		return err
	})
	return res, err
}

// lockSorted locks the instance rows of ids in id order.
func (p *Provider) lockSorted(ctx context.Context, tx *txn, ids []string) error {
	rows, _ := tx.Query(ctx, p.sql.LockInstancesSorted, ids)
	rows.Close()
	return rows.Err()
}

// DeleteInstancesAtomic implements [duroxide.ProviderAdmin]: the running
// and orphan checks run in the transaction that deletes, after the rows are
// locked.
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
	if len(ids) == 0 {
		return duroxide.DeleteInstanceResult{}, nil
	}
	list := slices.Compact(slices.Sorted(slices.Values(ids)))
	var res duroxide.DeleteInstanceResult
	err := p.inTx(ctx, op, func(tx *txn, _ any) error {
		if err := p.lockSorted(ctx, tx, list); err != nil {
			return err
		}
		var err error
		res, err = p.deleteLocked(ctx, tx, op, list, force)
		return err
	})
	return res, err
}

// deleteLocked checks and deletes ids, whose rows tx holds.
func (p *Provider) deleteLocked(ctx context.Context, tx *txn, op string, ids []string, force bool) (duroxide.DeleteInstanceResult, error) {
	var res duroxide.DeleteInstanceResult
	if !force {
		var id string
		err := tx.QueryRow(ctx, p.sql.RunningAmong, ids).Scan(&id)
		if err == nil {
			return res, duroxide.Permanent(op, duroxide.ErrInstanceRunning,
				"Instance %s is still running; use force or cancel it first", id)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return res, err
		}
	}
	var parent, child string
	err := tx.QueryRow(ctx, p.sql.OrphanAmong, ids).Scan(&parent, &child)
	if err == nil {
		return res, duroxide.Permanent(op, duroxide.ErrOrphanChild,
			"deleting %s would orphan child %s, which is not in the list; re-read the instance tree and retry", parent, child)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return res, err
	}
	b := &pgx.Batch{}
	b.Queue(p.sql.CountHeldOf, ids) // before the deletes
	for _, s := range []string{p.sql.DeleteWorkerOf, p.sql.DeleteOrchOf, p.sql.DeleteHistoryOf,
		p.sql.DeleteExecutionsOf, p.sql.DeleteKVOf, p.sql.DeleteKVDeltaOf, p.sql.DeleteInstancesOf} {
		b.Queue(s, ids)
	}
	br := tx.Batch(ctx, b, true)
	defer br.Close()
	var held int64
	if err := br.QueryRow().Scan(&held); err != nil {
		return res, err
	}
	var n [7]int64
	for i := range n {
		tag, err := br.Exec()
		if err != nil {
			return res, err
		}
		n[i] = tag.RowsAffected()
	}
	res.QueueMessagesDeleted = uint64(n[0] + n[1])
	res.EventsDeleted = uint64(n[2])
	res.ExecutionsDeleted = uint64(n[3])
	res.InstancesDeleted = uint64(held)
	return res, br.Close()
}

// selectInstances returns instances with a record matching f, oldest
// first; terminalRoots keeps only terminal roots.
func (p *Provider) selectInstances(ctx context.Context, tx *txn, f duroxide.InstanceFilter, terminalRoots bool) ([]string, error) {
	if f.InstanceIDs != nil && len(f.InstanceIDs) == 0 {
		return nil, nil
	}
	limit := duroxide.DefaultBulkLimit
	if f.Limit != nil {
		limit = *f.Limit
	}
	var before *string
	if f.CompletedBefore != nil {
		s := formatUint(*f.CompletedBefore)
		before = &s
	}
	rows, _ := tx.Query(ctx, p.sql.SelectInstances, f.InstanceIDs != nil, f.InstanceIDs,
		f.CompletedBefore != nil, before, int64(limit), terminalRoots)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// DeleteInstanceBulk implements [duroxide.ProviderAdmin]: terminal roots
// matching the filter, oldest first, each with its whole tree (forced), in
// one transaction.
func (p *Provider) DeleteInstanceBulk(ctx context.Context, filter duroxide.InstanceFilter) (duroxide.DeleteInstanceResult, error) {
	const op = "delete_instance_bulk"
	if err := checkCtx(ctx, op); err != nil {
		return duroxide.DeleteInstanceResult{}, err
	}
	var total duroxide.DeleteInstanceResult
	err := p.inTx(ctx, op, func(tx *txn, _ any) error {
		total = duroxide.DeleteInstanceResult{}
		roots, err := p.selectInstances(ctx, tx, filter, true)
		if err != nil {
			return err
		}
		var all []string
		for _, root := range roots {
			ids, err := p.tree(ctx, tx, root)
			if err != nil {
				return err
			}
			all = append(all, ids...)
		}
		if len(all) == 0 {
			return nil
		}
		all = slices.Compact(slices.Sorted(slices.Values(all)))
		if err := p.lockSorted(ctx, tx, all); err != nil {
			return err
		}
		total, err = p.deleteLocked(ctx, tx, op, all, true)
		return err
	})
	return total, err
}

// PruneExecutions implements [duroxide.ProviderAdmin]: never the current or
// a running execution; key/value state and queues are untouched.
func (p *Provider) PruneExecutions(ctx context.Context, instance string, opts duroxide.PruneOptions) (duroxide.PruneResult, error) {
	const op = "prune_executions"
	if err := checkInstance(ctx, op, instance); err != nil {
		return duroxide.PruneResult{}, err
	}
	var res duroxide.PruneResult
	err := p.inTx(ctx, op, func(tx *txn, _ any) error {
		var err error
		res, err = p.prune(ctx, tx, op, instance, opts)
		return err
	})
	return res, err
}

// prune deletes an instance's prunable executions; the instance row is
// locked first.
func (p *Provider) prune(ctx context.Context, tx *txn, op, instance string, opts duroxide.PruneOptions) (duroxide.PruneResult, error) {
	var current int64
	err := tx.QueryRow(ctx, p.sql.LockInstanceRow, instance).Scan(&current)
	if errors.Is(err, pgx.ErrNoRows) {
		return duroxide.PruneResult{}, notFound(op, instance)
	}
	if err != nil {
		return duroxide.PruneResult{}, err
	}
	type execRow struct {
		id        int64
		status    string
		completed *time.Time
		events    int64
	}
	rows, _ := tx.Query(ctx, p.sql.PruneCandidates, instance)
	execs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (execRow, error) {
		var e execRow
		err := r.Scan(&e.id, &e.status, &e.completed, &e.events)
		return e, err
	})
	if err != nil {
		return duroxide.PruneResult{}, err
	}
	res := duroxide.PruneResult{InstancesProcessed: 1}
	keep := 0
	if opts.KeepLast != nil {
		keep = int(*opts.KeepLast)
	}
	b := &pgx.Batch{}
	for i, e := range execs {
		if e.id == current || e.status == string(duroxide.StatusRunning) || len(execs)-i <= keep {
			continue
		}
		if opts.CompletedBefore != nil && (e.completed == nil || ms(*e.completed) >= *opts.CompletedBefore) {
			continue
		}
		res.ExecutionsDeleted++
		res.EventsDeleted += uint64(e.events)
		b.Queue(p.sql.PruneExecution, instance, e.id)
	}
	if b.Len() > 0 {
		if err := tx.Batch(ctx, b, false).Close(); err != nil {
			return duroxide.PruneResult{}, err
		}
	}
	return res, nil
}

// PruneExecutionsBulk implements [duroxide.ProviderAdmin]: every instance
// matching the filter, running ones included, in one transaction.
func (p *Provider) PruneExecutionsBulk(ctx context.Context, filter duroxide.InstanceFilter, opts duroxide.PruneOptions) (duroxide.PruneResult, error) {
	const op = "prune_executions_bulk"
	if err := checkCtx(ctx, op); err != nil {
		return duroxide.PruneResult{}, err
	}
	var total duroxide.PruneResult
	err := p.inTx(ctx, op, func(tx *txn, _ any) error {
		total = duroxide.PruneResult{}
		ids, err := p.selectInstances(ctx, tx, filter, false)
		if err != nil {
			return err
		}
		slices.Sort(ids) // lock order
		for _, id := range ids {
			r, err := p.prune(ctx, tx, op, id, opts)
			if err != nil {
				return err
			}
			total = total.Add(r)
		}
		return nil
	})
	return total, err
}
