// Package proptest checks a duroxide provider against a model with random
// operations: a state machine driven by pgregory.net/rapid, and concurrent
// histories checked for linearizability with
// github.com/anishathalye/porcupine. It is provider-agnostic: it imports the
// contract, package spec (for the harness) and fakeclock, never a provider.
//
// # The model
//
// The model is a naive provider in plain slices and maps, written from the
// contract and from memprovider's documented choices (FIFO across instances
// by oldest visible message, the head-of-line rule, orphan QueueMessage
// drops, fallback identity, strict expiry). It shares no code with any
// provider. For every call it decides which answers are allowed (the
// errors, or exactly one result; lock tokens are the provider's own) and
// how the state changes.
//
// # The state machine ([Run], [Property], [Fuzz])
//
// Each test case builds a fresh harness and issues, from one goroutine, a
// random sequence of operations: enqueues of every work-item kind (with
// delays), orchestration fetches (with capability filters), acks (valid,
// stale, expired, superseded, made-up and empty tokens; history deltas with
// fresh, zero and duplicate event ids; worker and orchestrator items,
// timers, metadata, continue-as-new, cancelled activities, key/value and
// custom-status events), abandons and renewals; worker fetches with tag
// filters and session configs, worker acks, abandons and renewals; session
// renewal and cleanup; AppendWithExecution; reads; management deletes,
// bulk deletes and prunes; calls on an ended context or with negative
// durations; and moves of the fake clock to just before, exactly on or just
// after the model's next lock, lease or visibility deadline. The draws also
// cover case-variant and empty-string tags, empty key/value values, pointer
// variants of work items, event kinds and error details (which must be
// refused), corrupt histories when the harness has Hooks (HistoryError,
// ErrCorruptData), long polls when Harness.LongPolling is set (a fetch
// waits in a goroutine while a concurrent call makes work due; it must
// return when the model says work is due: no missed wake-up), and clock
// steps back when Harness.ClockStepsBack is set (deadlines are absolute: a
// lock seen expired is valid again before its expiry). Every answer is
// compared with the model, and after every step everything readable
// (histories of every execution, key/value state, custom status, and with a
// management API instance and execution records, children, parents,
// listings, queue depths and metrics) must equal the model. That covers:
//
//   - atomicity: a failed ack (or any failed call) changes nothing, and the
//     lock it held stays held (a retry with the same token succeeds);
//   - single ack: a lock token acks at most once;
//   - delivery: nothing enqueued is lost, nothing is delivered twice while
//     it is locked, nothing acked or deleted comes back;
//   - exclusivity: no two holders of one instance or one worker item;
//   - FIFO within an instance (batch order), across instances (oldest
//     visible message first), in the worker queue and within a session;
//   - attempt counts (per message, batch maximum, ignoreAttempt, floor 0);
//   - visibility: delayed messages, abandoned items and timers are
//     invisible until due; expiry is strict (a deadline equal to now has
//     passed);
//   - history equals what was acked and appended, in event-id order;
//   - sessions, tags, capability filters, key/value delta and merge, custom
//     status versions, deletion and pruning as the contract states them;
//   - tokens are never empty and never reused;
//   - ownership: arguments are scribbled over after each call and results
//     after each check, so a provider that retains or aliases them is
//     caught by a later answer.
//
// Time comes only from the harness's fake clock; nothing sleeps. A long
// poll that has not returned 3 s of real time after the fake clock says it
// must is reported as a missed wake-up (a liveness bound that only a
// failing run reaches). Shrunk
// failures are saved by rapid under testdata/rapid/<TestName>/ of the
// calling package and replayed first by every later run. The action table
// and the draws inside each action define what a fail file means:
// renaming, reweighting, adding or removing an action, or changing its
// draws makes saved fail files replay different sequences.
//
// # Linearizability ([RunLinearizability], [CheckLinearizable], [CheckHistory])
//
// Several client goroutines (default 3) issue random operations (default 30
// each) against one provider in rounds that start together, recording each
// call's invocation and return. The fake clock stands still except when
// client 0 moves it, as one more recorded operation. The history must be
// linearizable with respect to the same model: some order of the
// operations, consistent with real time, in which every answer is one the
// model allows. A violation reports the longest linearizable prefix and why
// each operation that could come next is refused.
//
// # What it is not
//
// It is not the specification (package spec holds the example-based cases,
// including real-time mode, which proptest does not exercise), not a fault
// injector (package
// proptest/faults), not a benchmark. It needs a harness with a fake Clock.
//
// See docs/proptest.md for budgets, long runs, reproducing a failure and
// wiring a provider.
package proptest
