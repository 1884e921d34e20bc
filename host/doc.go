// Package host runs orchestrations and activities written in Go against any
// [duroxide.Provider]: it is the runtime of duroxide-go (named host because
// a package must not shadow the standard library's runtime).
//
// # What it is
//
// A [Runtime] owns two kinds of dispatchers. Orchestration dispatchers fetch
// locked batches from the provider's orchestrator queue, replay the
// orchestration's code from its history with package orchestration's
// engine, and commit the turn with one atomic ack. Worker dispatchers fetch
// activities from the worker queue, run the registered [ActivityHandler],
// renew its lock while it runs, and ack its completion or failure to the
// orchestrator queue. Orchestrations and activities are looked up in a
// [Registry] by name (and, for orchestrations, by semantic version).
//
// [Runtime.Run] runs the dispatchers on goroutines until its context ends.
// [Runtime.StepOrchestration] and [Runtime.StepWorker] process at most one
// item each, synchronously, without goroutines and without waiting: they
// are what a deterministic test environment (package duroxidetest) drives.
//
// Package host depends on the provider contract only, so it runs on
// memprovider, pgprovider or any provider that passes package spec. Use
// package client to start orchestrations and read their results.
//
// # What it is not
//
// It is not a scheduler of its own: all state is the provider's. It keeps
// no cache of histories between turns (every turn replays from the fetched
// history), and it has no metrics exporter; pass a [log/slog] logger.
//
// # Semantics
//
// One turn, in order (duroxide's dispatcher, turn by turn):
//
//  1. Fetch with the capability filter of [Options.SupportedVersions]
//     (default: executions pinned at or below this build's duroxide
//     version).
//  2. A batch delivered more than [Options.MaxAttempts] times fails the
//     instance with a Poison error (and notifies a parent).
//  3. A history the provider could not decode is abandoned with a one
//     second delay, so another node (a newer build) may take it, until the
//     poison rule fails it.
//  4. A batch whose orchestration is not registered (or not at the wanted
//     version) is abandoned with an exponential backoff
//     ([Options.UnregisteredBackoff]) and poisoned in the end.
//  5. Otherwise the turn runs ([orchestration.RunTurn]) and its ack is
//     committed; a turn over a size limit ([MaxCustomStatusBytes],
//     [MaxKVValueBytes], [MaxKVKeys], [MaxTagBytes]) fails the orchestration
//     instead. A retryable ack error is
//     retried (up to five times); a permanent one fails the orchestration
//     with an Infrastructure error.
//
// Activities: a panic or an error becomes an ActivityFailed completion with
// an Application error; an item delivered more than MaxAttempts times fails
// with a Poison error without running; an unregistered activity is
// abandoned with backoff. While an activity runs its lock is renewed at
// half the lock timeout; when a renewal fails (the orchestration cancelled
// it, or the instance ended or was deleted) the activity's context is
// cancelled, and after [Options.ActivityCancellationGrace] its result is
// dropped.
//
// # Concurrency
//
// A [Registry] is safe for concurrent use, but must be complete before
// [New]; a [Runtime] is safe for concurrent use; Run may be called once,
// and the Step methods may be called from any goroutine, concurrently with
// each other.
package host
