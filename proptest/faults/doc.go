// Package faults injects provider faults and shows, with a small
// deterministic runtime, that retrying as duroxide's contract says loses
// nothing.
//
// # The injector
//
// [New] (or [Wrap], its panicking form for tests) decorates any
// [duroxide.Provider] (and its [duroxide.ProviderAdmin]) with [Rule]s. A
// rule selects methods ([Op], a bit set: single methods such as
// [OpAckOrchestrationItem], or sets such as [OpFetches] and [OpDispatch]),
// a [Mode], and a schedule: a probability drawn from a generator seeded by
// New's seed, or every N-th call. The modes:
//
//   - [Before]: the call never reaches the wrapped provider; the caller gets
//     a retryable error wrapping [duroxide.ErrUnavailable].
//   - [After]: the call runs and takes effect, then the caller gets the same
//     retryable error — "committed, but the caller saw an error". A fetch
//     keeps its lock and returns no item (the work returns when the lock
//     expires); an ack commits and releases its lock, so a retry fails with
//     [duroxide.ErrInvalidLockToken]; an enqueue queues the item, so a retry
//     queues it twice.
//   - [BeforePermanent], [AfterPermanent]: the same with a permanent error.
//
// Every injected error is a *[duroxide.ProviderError] whose cause is a
// *[Fault]: errors.Is(err, [ErrInjected]) tells injected from real errors,
// and [InjectedFault] returns the method and mode. [Provider.Counts] counts
// injected faults per method and mode.
//
// # The workload
//
// [Run] drives a workload through the injector on a harness's fake clock: a
// client starts instances, an orchestration dispatcher replays each
// instance (it schedules Config.Activities activities, waits for their
// completions, and completes), and a worker dispatcher runs the activities.
// The driver reacts to errors as duroxide's runtime does (see
// docs/provider-semantics.md, Errors, and docs/fault-injection.md):
// it backs off and retries fetches, retries retryable acks up to five times,
// takes a retry that finds its lock gone as "maybe committed", abandons
// after other ack errors, stops renewing or cancels the activity when a
// renewal fails, and retries failed starts; its orchestration ignores
// duplicate starts and completions, as replay does. [Check] then verifies
// that every instance completed with each activity's completion recorded
// exactly once, that no work is left in either queue, and that faults of
// every configured mode were injected. [RunWorkload] does both for a
// [spec.NewHarness]; [Flaws] break the driver on purpose to show that the
// check catches lost and duplicated work.
//
// # Concurrency
//
// A [Provider] is safe for concurrent use; its decisions are reproducible
// from the seed when its calls come in a reproducible order. [Run] is a
// single goroutine: the same seed on the same provider gives the same calls,
// faults and report (except wall time).
//
// This package is for tests and property checks only; no production package
// imports it.
package faults
