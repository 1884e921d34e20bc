package duroxide

import (
	"slices"
	"time"
)

// ExecutionStatus is the status of one execution, as stored by the provider.
// The runtime writes Running, Completed, Failed or ContinuedAsNew; the
// management API may also report Unknown. Providers store other strings
// verbatim.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type ExecutionStatus string

// Execution statuses used by the contract.
const (
	StatusRunning        ExecutionStatus = "Running"
	StatusCompleted      ExecutionStatus = "Completed"
	StatusFailed         ExecutionStatus = "Failed"
	StatusContinuedAsNew ExecutionStatus = "ContinuedAsNew"
	// StatusUnknown is reported by management calls when an instance's
	// current execution has no record.
	StatusUnknown ExecutionStatus = "Unknown"
)

// IsTerminal reports whether s ends an execution: Completed, Failed or
// ContinuedAsNew. A terminal status on ack merges the key/value delta.
func (s ExecutionStatus) IsTerminal() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusContinuedAsNew
}

// UnknownVersion is the orchestration version reported when none is stored.
const UnknownVersion = "unknown"

// OrchestrationItem is one locked turn of an orchestration instance: its
// batch of messages plus the state the runtime needs to replay it.
//
// A fetched item is owned by the caller: providers return copies that share
// no memory with their state.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type OrchestrationItem struct {
	// Instance is the locked instance.
	Instance string
	// OrchestrationName is the stored name, or one derived from the batch or
	// history when the instance has no metadata yet.
	OrchestrationName string
	// ExecutionID is the instance's current execution id as stored (not
	// incremented for a pending continue-as-new).
	ExecutionID uint64
	// Version is the stored orchestration version, or [UnknownVersion].
	Version string
	// History holds all events of ExecutionID in ascending event id; empty for
	// a new instance and when HistoryError is set.
	History []Event
	// Messages is the batch: every visible orchestrator message of the
	// instance at fetch time, in enqueue order.
	Messages []WorkItem
	// HistoryError is non-empty when stored history could not be decoded. The
	// item is still locked and its attempt counts were incremented.
	HistoryError string
	// KVSnapshot is the instance's merged key/value store as of the last
	// finished execution, excluding the current execution's writes. It may
	// be nil when the store is empty; it is empty and non-nil when
	// HistoryError is set.
	KVSnapshot map[string]KvEntry
}

// LockedOrchestrationItem is the result of a successful orchestration fetch:
// the item, the lock token that acks, abandons or renews it, and the attempt
// count (the maximum over the batch's messages after this delivery; the first
// delivery is 1).
//
// Plain data, not synchronized (see the package doc, Concurrency).
type LockedOrchestrationItem struct {
	OrchestrationItem
	LockToken    string
	AttemptCount uint32
}

// LockedWorkItem is the result of a successful worker fetch.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type LockedWorkItem struct {
	// Item is the fetched work item (an [ActivityExecuteItem] in practice).
	Item WorkItem
	// LockToken acks, abandons or renews the item.
	LockToken string
	// AttemptCount counts deliveries of this item; the first is 1.
	AttemptCount uint32
}

// KvEntry is one value of an instance's key/value store.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type KvEntry struct {
	// Value is the stored value; the empty string is a value, distinct from
	// absent.
	Value string
	// LastUpdatedAtMs is the runtime's time of the write, in Unix ms.
	LastUpdatedAtMs uint64
}

// ExecutionMetadata is computed by the runtime from a turn's history delta
// and stored by the provider on ack. Every field is optional (nil = absent).
//
// Plain data, not synchronized (see the package doc, Concurrency).
type ExecutionMetadata struct {
	// Status, when non-empty, is written to the acked execution together with
	// Output and a completion time. A terminal status also merges the
	// key/value delta.
	Status ExecutionStatus
	// Output is written (possibly as absent) only together with Status.
	Output *string
	// OrchestrationName and OrchestrationVersion, when both are present,
	// create the instance record if it is missing and overwrite its name and
	// version.
	OrchestrationName    *string
	OrchestrationVersion *string
	// ParentInstanceID is recorded only when the instance record is created.
	ParentInstanceID *string
	// PinnedDuroxideVersion, when present, is stored on the acked execution.
	PinnedDuroxideVersion *Semver
}

// Clone returns a deep copy of m.
func (m ExecutionMetadata) Clone() ExecutionMetadata {
	m.Output = clonePtr(m.Output)
	m.OrchestrationName = clonePtr(m.OrchestrationName)
	m.OrchestrationVersion = clonePtr(m.OrchestrationVersion)
	m.ParentInstanceID = clonePtr(m.ParentInstanceID)
	m.PinnedDuroxideVersion = clonePtr(m.PinnedDuroxideVersion)
	return m
}

// ScheduledActivityIdentifier is an activity identity: the worker-queue item
// with ActivityExecuteItem{Instance, ExecutionID, ID: ActivityID}.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type ScheduledActivityIdentifier struct {
	Instance    string
	ExecutionID uint64
	ActivityID  uint64
}

// OrchestrationAck is everything an orchestration turn commits, applied
// atomically by [Provider.AckOrchestrationItem].
//
// Plain data, not synchronized (see the package doc, Concurrency).
type OrchestrationAck struct {
	// ExecutionID is the execution the history delta belongs to, decided by
	// the runtime (the fetched ExecutionID, or one more for a
	// continue-as-new). Must be non-zero.
	ExecutionID uint64
	// HistoryDelta is appended to the execution as given. Every event id must
	// be non-zero and new.
	HistoryDelta []Event
	// WorkerItems are enqueued to the worker queue, visible at once.
	WorkerItems []WorkItem
	// OrchestratorItems are enqueued to the orchestrator queue; a
	// TimerFiredItem becomes visible at its FireAtMs.
	OrchestratorItems []WorkItem
	// Metadata updates instance and execution records.
	Metadata ExecutionMetadata
	// CancelledActivities are removed from the worker queue, after
	// WorkerItems were added and whether or not a worker holds them.
	CancelledActivities []ScheduledActivityIdentifier
}

// SessionFetchConfig enables session-bound work items in a worker fetch.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type SessionFetchConfig struct {
	// OwnerID is the identity that owns sessions; worker slots sharing it
	// share sessions.
	OwnerID string
	// LockTimeout is the session lease applied when a fetch claims or
	// refreshes a session.
	LockTimeout time.Duration
}

// DispatcherCapabilityFilter restricts an orchestration fetch to executions
// whose pinned duroxide version lies in any of the ranges. Executions with no
// pinned version are compatible with any non-empty list. An empty range list
// matches nothing.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type DispatcherCapabilityFilter struct {
	SupportedDuroxideVersions []SemverRange
}

// Compatible reports whether an execution pinned at v may be fetched under
// the filter. An empty range list matches nothing; otherwise a nil v (no
// pinned version) is always compatible.
func (f DispatcherCapabilityFilter) Compatible(v *Semver) bool {
	if len(f.SupportedDuroxideVersions) == 0 {
		return false
	}
	if v == nil {
		return true
	}
	return slices.ContainsFunc(f.SupportedDuroxideVersions, func(r SemverRange) bool { return r.Contains(*v) })
}
