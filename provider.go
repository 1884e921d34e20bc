package duroxide

import (
	"context"
	"time"
)

// Provider is the storage a duroxide runtime runs on: history, two peek-lock
// queues, instance locks, sessions, custom status and key/value state.
//
// # Concurrency
//
// Implementations must be safe for concurrent use by many goroutines (and, for
// shared stores, by several processes).
//
// # Errors
//
// Every error returned is a *[ProviderError] whose Retryable flag says whether
// the same call may succeed later; match causes with errors.Is against the
// sentinels of this package. An error means the call changed nothing, except
// where a method documents otherwise. Bad input (empty ids, event id 0, nil
// items, negative durations, a work item on the wrong queue, an event or work
// item that is not a variant) is a permanent [ErrInvalidArgument] error.
//
// # Variants
//
// Go cannot seal an interface against pointers: &KeyValueSet{} satisfies
// [EventKind] and &Application{} satisfies [ErrorDetails]. Such values are
// not variants and the JSON encoder refuses them, so every method that stores
// events or work items refuses, with [ErrInvalidArgument], every one that
// [ValidateEvent] or [ValidateWorkItem] refuses, at every level of nesting.
//
// # Ownership
//
// Methods never retain slices, maps or pointers passed in, and never return
// values that alias the provider's state: results are the caller's to mutate.
//
// # Time
//
// "now" is the provider's clock. Lock and lease expiry uses strict
// comparisons: a lock whose expiry equals now is expired (reclaimable by a
// fetch, unusable by ack and renew).
type Provider interface {
	// Name returns a short diagnostic name, e.g. "memprovider".
	Name() string
	// Version returns the provider's version string.
	Version() string

	// FetchOrchestrationItem locks one instance that has at least one visible
	// orchestrator message and no unexpired lock, and returns all of its
	// visible messages as one batch, in enqueue order, with the current
	// execution's history and the merged key/value snapshot.
	//
	// With filter non-nil, only instances whose current execution's pinned
	// version is compatible (or unknown) are candidates; the filter is applied
	// before locking and before reading history, so skipped instances are
	// neither locked nor counted. Every message of the batch has its attempt
	// count incremented; AttemptCount is the batch maximum. Messages arriving
	// later are not part of the batch.
	//
	// A nil result and nil error mean no instance was available: a fetch that
	// loses a race for one instance moves on to the next candidate instead
	// of returning nil. If the stored history cannot be decoded the item is
	// still returned, locked, with HistoryError set.
	// An error means no lock is held. pollTimeout > 0 lets the provider wait
	// up to that long for work (long polling); lockTimeout must be positive
	// ([ErrInvalidArgument] otherwise).
	FetchOrchestrationItem(ctx context.Context, lockTimeout, pollTimeout time.Duration, filter *DispatcherCapabilityFilter) (*LockedOrchestrationItem, error)

	// AckOrchestrationItem commits a turn atomically: it deletes exactly the
	// fetched batch, creates or updates instance and execution records from
	// ack.Metadata, appends ack.HistoryDelta to execution ack.ExecutionID
	// (append-only; existing rows are never read), applies custom-status and
	// key/value events, enqueues worker and orchestrator items, removes
	// cancelled activities, and releases the lock.
	//
	// Metadata without both OrchestrationName and OrchestrationVersion is
	// valid (the runtime sends them only on the turn that starts an
	// execution) and creates no instance record: history, execution record,
	// queues and key/value delta are still written; custom status, which
	// lives on the record, is not; later fetches take the name from history.
	//
	// The token must name a held, unexpired lock ([ErrInvalidLockToken],
	// [ErrLockExpired]). A duplicate or zero event id fails the whole ack
	// ([ErrDuplicateEvent], [ErrInvalidArgument]), and so does an event or
	// item that is not a variant, or an item on the wrong queue
	// ([ErrInvalidArgument]). On any error nothing
	// changes and the lock stays held, so the runtime can ack again with the
	// same token to record a failure. Of two concurrent acks with one token,
	// exactly one succeeds.
	AckOrchestrationItem(ctx context.Context, lockToken string, ack OrchestrationAck) error

	// AbandonOrchestrationItem releases an instance lock without committing.
	// delay > 0 hides the instance's currently visible messages until
	// now+delay. ignoreAttempt undoes the fetch's attempt increment on every
	// message of the instance (never below zero). The lock may have expired,
	// but the token must not have been superseded ([ErrInvalidLockToken]).
	AbandonOrchestrationItem(ctx context.Context, lockToken string, delay time.Duration, ignoreAttempt bool) error

	// RenewOrchestrationItemLock sets a held, unexpired lock's expiry to
	// now+extendFor ([ErrInvalidLockToken], [ErrLockExpired]).
	RenewOrchestrationItemLock(ctx context.Context, lockToken string, extendFor time.Duration) error

	// Read returns the history of the instance's latest execution in
	// ascending event id; empty for an unknown instance. Undecodable history
	// is a permanent [ErrCorruptData] error.
	Read(ctx context.Context, instance string) ([]Event, error)

	// ReadWithExecution returns the history of one execution in ascending
	// event id; empty if it has none.
	ReadWithExecution(ctx context.Context, instance string, executionID uint64) ([]Event, error)

	// AppendWithExecution appends events to one execution atomically. A zero
	// or duplicate event id, or an event that is not a variant
	// ([ValidateEvent]), fails the call and nothing is appended; existing
	// events are never overwritten. It creates no instance or execution
	// records and has no custom-status or key/value side effects.
	AppendWithExecution(ctx context.Context, instance string, executionID uint64, events []Event) error

	// EnqueueForOrchestrator adds item to its routing instance's orchestrator
	// queue, visible at now+delay. It never creates an instance. An
	// [ActivityExecuteItem] is refused ([ErrInvalidArgument]). For a
	// TimerFiredItem only delay counts, not FireAtMs. The item is stored
	// opaquely apart from its routing fields: a StartOrchestrationItem's
	// ExecutionID (the runtime ignores it) is kept as given, 0 included. A
	// value that is not a variant ([ValidateWorkItem]) is refused.
	EnqueueForOrchestrator(ctx context.Context, item WorkItem, delay time.Duration) error

	// EnqueueForWorker adds an activity to the worker queue, visible at once,
	// keeping its session id and tag. Anything but an [ActivityExecuteItem]
	// value is refused ([ErrInvalidArgument]).
	EnqueueForWorker(ctx context.Context, item WorkItem) error

	// FetchWorkItem locks the oldest worker item that is visible, not locked
	// (or whose lock expired), accepted by tagFilter and eligible under the
	// session rules, and increments its attempt count.
	//
	// With session nil only items without a session are eligible. With a
	// session config, items of sessions owned by config.OwnerID or with no
	// active owner are eligible too, and fetching one claims or refreshes the
	// session lease for config.LockTimeout. tagFilter [TagNone] returns no
	// work at once. A nil result and nil error mean no work; lockTimeout and
	// pollTimeout as for FetchOrchestrationItem.
	FetchWorkItem(ctx context.Context, lockTimeout, pollTimeout time.Duration, session *SessionFetchConfig, tagFilter TagFilter) (*LockedWorkItem, error)

	// AckWorkItem deletes a locked worker item and, when completion is
	// non-nil, enqueues it (an ActivityCompletedItem or ActivityFailedItem)
	// to the orchestrator queue, atomically. The lock must be held and
	// unexpired: a token whose lock expired (and whose item was not fetched
	// again) fails with [ErrLockExpired]; an unknown or superseded token, or
	// an item deleted by cancellation or instance deletion, fails with
	// [ErrInvalidLockToken]. A completion that is not an ActivityCompletedItem
	// or ActivityFailedItem value ([ValidateWorkItem]) fails with
	// [ErrInvalidArgument]. On error nothing changes.
	AckWorkItem(ctx context.Context, lockToken string, completion WorkItem) error

	// RenewWorkItemLock sets a held, unexpired worker lock's expiry to
	// now+extendFor. Errors as for AckWorkItem ([ErrLockExpired],
	// [ErrInvalidLockToken]). Its failure is the runtime's signal that the
	// activity was cancelled.
	RenewWorkItemLock(ctx context.Context, lockToken string, extendFor time.Duration) error

	// AbandonWorkItem unlocks a worker item, visible again at now+delay;
	// ignoreAttempt undoes the fetch's attempt increment (never below zero).
	// The lock may have expired, but the item must not have been re-fetched,
	// cancelled or deleted ([ErrInvalidLockToken]).
	AbandonWorkItem(ctx context.Context, lockToken string, delay time.Duration, ignoreAttempt bool) error

	// RenewSessionLock extends to now+extendFor every active session owned by
	// one of ownerIDs that had activity within idleTimeout, and returns how
	// many it renewed.
	RenewSessionLock(ctx context.Context, ownerIDs []string, extendFor, idleTimeout time.Duration) (int, error)

	// CleanupOrphanedSessions deletes sessions whose lease has expired and
	// that no worker item references, and returns how many it deleted.
	CleanupOrphanedSessions(ctx context.Context, idleTimeout time.Duration) (int, error)

	// GetCustomStatus returns the instance's custom status and its version
	// when the version is greater than lastSeenVersion; ok is false otherwise
	// and for unknown instances.
	GetCustomStatus(ctx context.Context, instance string, lastSeenVersion uint64) (status CustomStatus, ok bool, err error)

	// GetKVValue returns the live value of key: the current execution's
	// writes over the merged store. ok is false when absent.
	GetKVValue(ctx context.Context, instance, key string) (value string, ok bool, err error)

	// GetKVAllValues returns the live key/value state of an instance (empty
	// for an unknown instance).
	GetKVAllValues(ctx context.Context, instance string) (map[string]string, error)

	// AsManagementCapability returns the provider's management API, or nil if
	// it has none.
	AsManagementCapability() ProviderAdmin
}

// CustomStatus is an instance's custom status with its version counter.
//
// Plain data, not synchronized (see the package doc, Concurrency).
type CustomStatus struct {
	// Status is nil when the status was cleared.
	Status *string
	// Version counts acks that changed the status.
	Version uint64
}

// ProviderAdmin is the optional management API of a provider: listing,
// inspection, metrics, deletion and pruning. Same concurrency, error and
// ownership rules as [Provider]. Unknown instances are [ErrNotFound] where a
// method says so.
type ProviderAdmin interface {
	// ListInstances returns every instance with a metadata record, newest
	// first.
	ListInstances(ctx context.Context) ([]string, error)
	// ListInstancesByStatus returns instances whose current execution has
	// status, newest first.
	ListInstancesByStatus(ctx context.Context, status ExecutionStatus) ([]string, error)
	// ListExecutions returns an instance's execution ids ascending (empty
	// for an unknown instance).
	ListExecutions(ctx context.Context, instance string) ([]uint64, error)
	// ReadHistoryWithExecutionID is ReadWithExecution.
	ReadHistoryWithExecutionID(ctx context.Context, instance string, executionID uint64) ([]Event, error)
	// ReadHistory returns the latest execution's history.
	ReadHistory(ctx context.Context, instance string) ([]Event, error)
	// LatestExecutionID returns the highest execution id, 1 when there is
	// none (not an error).
	LatestExecutionID(ctx context.Context, instance string) (uint64, error)
	// GetInstanceInfo describes an instance ([ErrNotFound]).
	GetInstanceInfo(ctx context.Context, instance string) (InstanceInfo, error)
	// GetExecutionInfo describes an execution ([ErrNotFound]).
	GetExecutionInfo(ctx context.Context, instance string, executionID uint64) (ExecutionInfo, error)
	// GetSystemMetrics summarises the store.
	GetSystemMetrics(ctx context.Context) (SystemMetrics, error)
	// GetQueueDepths counts unlocked messages per queue.
	GetQueueDepths(ctx context.Context) (QueueDepths, error)
	// ListChildren returns the instances whose parent is instance.
	ListChildren(ctx context.Context, instance string) ([]string, error)
	// GetParentID returns an instance's parent, nil for a root
	// ([ErrNotFound]).
	GetParentID(ctx context.Context, instance string) (*string, error)
	// GetInstanceTree returns instance and all its descendants, root first.
	GetInstanceTree(ctx context.Context, instance string) (InstanceTree, error)
	// DeleteInstance deletes a root instance and its whole tree atomically;
	// running instances are refused unless force ([ErrNotFound],
	// [ErrNotRoot], [ErrInstanceRunning]).
	DeleteInstance(ctx context.Context, instance string, force bool) (DeleteInstanceResult, error)
	// DeleteInstancesAtomic deletes the listed instances and everything they
	// own in one step, or nothing ([ErrInstanceRunning], [ErrOrphanChild]).
	DeleteInstancesAtomic(ctx context.Context, ids []string, force bool) (DeleteInstanceResult, error)
	// DeleteInstanceBulk deletes terminal root instances matching filter,
	// with their trees.
	DeleteInstanceBulk(ctx context.Context, filter InstanceFilter) (DeleteInstanceResult, error)
	// PruneExecutions deletes old executions of one instance, never the
	// current or a running one ([ErrNotFound]).
	PruneExecutions(ctx context.Context, instance string, opts PruneOptions) (PruneResult, error)
	// PruneExecutionsBulk prunes every instance matching filter.
	PruneExecutionsBulk(ctx context.Context, filter InstanceFilter, opts PruneOptions) (PruneResult, error)
}
