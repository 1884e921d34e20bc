// Package memprovider is the in-memory reference implementation of the
// duroxide provider contract ([duroxide.Provider] and
// [duroxide.ProviderAdmin]).
//
// Its behaviour is the specification: package spec's cases are checked
// against it, and where the contract leaves room, the choice memprovider makes
// is documented here and in docs/.
//
// # What it is
//
// A fast, exact provider for unit tests of runtimes and orchestrations, and
// the model other providers are compared with. All state lives behind one
// mutex. All time is read from an injected [fakeclock.Clock], so tests on a
// [fakeclock.Fake] control lock expiry, delayed visibility, session leases and
// long polls without sleeping.
//
// # What it is not
//
// It is not durable (state dies with the process), not shared between
// processes, and not a cache in front of another provider. It keeps every
// value in memory until it is deleted.
//
// # Semantics worth knowing
//
//   - Long polling: a fetch with a positive poll timeout waits until work may
//     be available (an enqueue, an ack or abandon, a message becoming
//     visible, a lock expiring), the poll timeout passes on the injected
//     clock, or the context ends. A call that makes work due earlier than a
//     waiting fetch planned to look again (a delayed enqueue or abandon, a
//     renew that shortens a lock or lease, a fetch that takes a short lock)
//     wakes it to re-plan. [WithShortPolling] turns waiting off. On a
//     [fakeclock.Fake] a waiting fetch returns only when work arrives, its
//     context ends or someone advances the clock: a test that long-polls
//     from its only goroutine blocks forever.
//   - Clock steps: the default clock, [fakeclock.Real], never steps back. An
//     injected clock may: when a reading is earlier than the previous one,
//     every lock and session lease that an earlier call saw expired but that
//     has not expired by the new reading is held again by its holder
//     (O(instances + items + sessions), once per step back). Renew and ack
//     behave as for any unexpired lock.
//   - Head-of-line: an instance with no metadata and no history whose visible
//     messages can neither start it (no StartOrchestration or ContinueAsNew)
//     nor be dropped as orphans (not all QueueMessage) is parked: fetches
//     skip it, without locking it or counting attempts, until a new message
//     for it becomes visible or history is appended to it. It never blocks
//     other instances (duroxide's SQLite provider returns no work instead).
//   - Orphan QueueMessage batches (instance never started) are deleted by the
//     fetch that finds them, which then goes on to the next candidate.
//   - Lock tokens are unique per provider and do not depend on the clock.
//   - Capability filters accept an execution pinned in ANY of the ranges.
//   - Bad input (empty ids, event id 0, nil items, wrong queue, negative
//     durations) is a permanent [duroxide.ErrInvalidArgument] error and
//     changes nothing. So is every event or work item that
//     [duroxide.ValidateEvent] or [duroxide.ValidateWorkItem] refuses (a
//     pointer to a variant, nested ones included): memprovider stores only
//     what a JSON-backed provider can store, and the error also matches
//     [duroxide.ErrUnknownVariant]. Everything stored is a deep copy, and
//     everything returned is a fresh deep copy.
//   - Times (visibility, lock expiry, completion) are kept in nanoseconds;
//     the clock must read between the years 1678 and 2262.
//
// # Cost
//
// n is the number of queued messages (or worker items), i the number of
// instances, e the events of one execution, b one instance's visible
// messages, t its delayed ones (timers, abandoned batches), d what an
// operation changes. An instance keeps its delayed messages apart from its
// visible ones, so nothing but ignoreAttempt and deletes visits its timers.
//
//   - EnqueueForOrchestrator, EnqueueForWorker: O(log n), whatever the
//     target instance's timers.
//   - FetchOrchestrationItem: O(log n) per index change (promoting due
//     messages and expired locks, locking) plus O(b + e) to build the item;
//     timers of one instance that fall due out of order cost one sort of its
//     visible messages, O(b log b); instances skipped by a capability filter
//     are visited once each.
//   - AckOrchestrationItem: O(b + d log n + e) (duplicate-event checks are
//     O(log e) per appended event when event ids ascend; a cancelled
//     activity is found through its instance's identity index, or a walk
//     of at most 8 items).
//   - Abandon and renew: O(b log n), plus O(t) with ignoreAttempt, and
//     O(log n).
//   - FetchWorkItem: O(log n) per tag class the filter accepts (at most
//     MaxWorkerTags+1), for items without a session and, per partition, for
//     session items: a session's items are indexed under its current owner
//     (or none), so sessions other workers hold are never visited.
//   - AckWorkItem, RenewWorkItemLock, AbandonWorkItem: O(log n).
//   - RenewSessionLock: O(sessions of the given owners).
//     CleanupOrphanedSessions: O(sessions).
//   - Read, ReadWithExecution: O(e); AppendWithExecution: O(d log e).
//   - GetCustomStatus, GetKVValue: O(1); GetKVAllValues: O(keys).
//   - Management listing, metrics and trees: O(i) or O(i log i); deletes
//     add an O(i) orphan check to what they delete. These are not on the
//     runtime's hot path, and an index per parent would cost every ack.
//
// docs/PERFORMANCE.md has the measured costs.
//
// The white-box hooks the spec needs (corrupting an instance's history,
// reading its messages' highest attempt count) are reachable only from this
// module's own tests and commands, not from the public API.
package memprovider
