package duroxide

// DefaultBulkLimit is the default [InstanceFilter] limit of bulk deletion and
// bulk pruning.
const DefaultBulkLimit uint32 = 1000

// InstanceInfo describes an instance and its current execution.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type InstanceInfo struct {
	InstanceID           string
	OrchestrationName    string
	OrchestrationVersion string
	CurrentExecutionID   uint64
	// Status is the current execution's status, or StatusUnknown.
	Status ExecutionStatus
	Output *string
	// CreatedAt and UpdatedAt are Unix milliseconds of the provider's clock.
	CreatedAt        uint64
	UpdatedAt        uint64
	ParentInstanceID *string
}

// ExecutionInfo describes one execution.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type ExecutionInfo struct {
	ExecutionID uint64
	Status      ExecutionStatus
	Output      *string
	// StartedAt is Unix milliseconds of the provider's clock.
	StartedAt uint64
	// CompletedAt is set when an ack supplied a status.
	CompletedAt *uint64
	// EventCount is the number of stored history events.
	EventCount uint64
}

// SystemMetrics summarises a provider's store.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type SystemMetrics struct {
	TotalInstances     uint64
	TotalExecutions    uint64
	RunningInstances   uint64
	CompletedInstances uint64
	FailedInstances    uint64
	TotalEvents        uint64
}

// QueueDepths counts unlocked messages per queue.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type QueueDepths struct {
	// OrchestratorQueue counts orchestrator messages not in a held batch.
	OrchestratorQueue uint64
	// WorkerQueue counts worker items not locked by a worker.
	WorkerQueue uint64
	// TimerQueue is always 0: timers are delayed orchestrator messages.
	TimerQueue uint64
}

// InstanceFilter selects instances for bulk operations. Conditions are
// ANDed; nil fields do not filter.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type InstanceFilter struct {
	// InstanceIDs is an allow-list; a non-nil empty list selects nothing.
	InstanceIDs []string
	// CompletedBefore keeps instances whose current execution completed
	// strictly before this Unix ms time.
	CompletedBefore *uint64
	// Limit bounds the instances selected (default [DefaultBulkLimit]).
	Limit *uint32
}

// PruneOptions selects old executions to prune. Conditions are ANDed. The
// current execution and running executions are never pruned.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type PruneOptions struct {
	// KeepLast keeps the N highest execution ids.
	KeepLast *uint32
	// CompletedBefore prunes only executions completed strictly before this
	// Unix ms time.
	CompletedBefore *uint64
}

// DeleteInstanceResult counts what a deletion removed.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type DeleteInstanceResult struct {
	// InstancesDeleted counts the deleted instances that held something: a
	// record, an execution or history, orchestrator messages, a lock or
	// key/value state. An id that held nothing (never used, or whose only
	// messages were dropped as orphans) is not counted.
	InstancesDeleted     uint64
	ExecutionsDeleted    uint64
	EventsDeleted        uint64
	QueueMessagesDeleted uint64
}

// Add returns the field-wise sum of r and o.
func (r DeleteInstanceResult) Add(o DeleteInstanceResult) DeleteInstanceResult {
	return DeleteInstanceResult{
		InstancesDeleted:     r.InstancesDeleted + o.InstancesDeleted,
		ExecutionsDeleted:    r.ExecutionsDeleted + o.ExecutionsDeleted,
		EventsDeleted:        r.EventsDeleted + o.EventsDeleted,
		QueueMessagesDeleted: r.QueueMessagesDeleted + o.QueueMessagesDeleted,
	}
}

// PruneResult counts what a prune removed.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type PruneResult struct {
	InstancesProcessed uint64
	ExecutionsDeleted  uint64
	EventsDeleted      uint64
}

// Add returns the field-wise sum of r and o.
func (r PruneResult) Add(o PruneResult) PruneResult {
	return PruneResult{
		InstancesProcessed: r.InstancesProcessed + o.InstancesProcessed,
		ExecutionsDeleted:  r.ExecutionsDeleted + o.ExecutionsDeleted,
		EventsDeleted:      r.EventsDeleted + o.EventsDeleted,
	}
}

// InstanceTree is a root instance and all its descendants.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type InstanceTree struct {
	RootID string
	// AllIDs includes the root, first.
	AllIDs []string
}

// IsRootOnly reports whether the tree has no descendants.
func (t InstanceTree) IsRootOnly() bool { return len(t.AllIDs) == 1 }

// Size returns the number of instances in the tree.
func (t InstanceTree) Size() int { return len(t.AllIDs) }
