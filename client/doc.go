// Package client is the control plane of duroxide-go: it starts
// orchestration instances, raises events on them, enqueues messages to their
// persistent event queues, cancels them, reads their status, custom status
// and key/value state, waits for them to finish, and passes management calls
// (listing, inspection, metrics, deletion, pruning) through to the provider.
//
// # What it is
//
// A thin layer over the provider contract ([duroxide.Provider]). Every
// command is one work item enqueued on the orchestrator queue of the
// instance, exactly the item duroxide's own client enqueues, so a Go client
// can drive instances that a Rust runtime runs on a shared store, and the
// other way around:
//
//   - [Client.Start] and [Client.StartVersioned]: StartOrchestration with
//     execution id 1, no parent, and the version (nil for "latest");
//   - [Client.RaiseEvent]: ExternalRaised;
//   - [Client.EnqueueEvent]: QueueMessage (a persistent, FIFO event queue);
//   - [Client.Cancel]: CancelInstance with the reason.
//
// Every query is a provider read: [Client.GetStatus] derives the state from
// the history of the latest execution plus the custom status; the KV reads
// are the provider's; the management methods call [duroxide.ProviderAdmin]
// when the provider implements it and fail with [ErrManagementUnavailable]
// otherwise.
//
// # What it is not
//
// It is not a runtime: it runs no orchestration code, and a command takes
// effect only when a runtime (in this process or another) processes it.
// Commands are asynchronous: Start returns when the start is queued, not
// when the instance exists; Cancel returns before the instance is cancelled.
// The client imports no provider; it works on any provider that passes
// package spec.
//
// # Semantics
//
// State: an instance is NotFound until a runtime has written the
// OrchestrationStarted event of its first execution, Running until its
// latest execution ends, and then Completed or Failed. A continue-as-new
// ends an execution but not the instance: between the two executions the
// instance is Running.
//
// Waiting: [Client.WaitForOrchestration], [Client.WaitForStatusChange] and
// [Client.WaitForKVValue] poll the provider: at once, then after the
// interval set by [WithPollBackoff] (5 ms by default), doubling up to its
// maximum (100 ms by default). Their timeout and intervals are measured on
// the client's clock ([WithClock]); with a [fakeclock.Fake] a waiting call
// is blocked on one pending timer between polls, so a test can wait for it
// with [fakeclock.Fake.BlockUntilWaiters] and move it on with
// [fakeclock.Fake.Advance], without sleeping. A context ends a wait early.
//
// Validation: empty instance ids, empty orchestration, event and queue
// names, versions that are not semantic versions, negative timeouts and
// values that cannot be encoded are refused with an error matching
// [ErrInvalidInput] before anything reaches the provider, so nothing is
// enqueued.
//
// Errors: every method returns an [*Error] carrying the operation and the
// instance. It wraps one of this package's sentinels, the context's error,
// or the provider's [*duroxide.ProviderError], so errors.Is matches
// duroxide.ErrNotFound, duroxide.ErrInstanceRunning, duroxide.ErrNotRoot and
// the other provider sentinels, and [IsRetryable] tells whether retrying may
// help (provider errors keep their own retryability; [ErrTimeout] is
// retryable). A failed orchestration is not an error of the call that
// observes it: it is a [Status] with State [StateFailed]; [Status.Err] and
// [Output] turn it into a [*FailedError].
//
// # JSON
//
// Inputs, outputs, event data and key/value values are strings on the wire,
// JSON by convention. The Typed methods encode values with encoding/json,
// compact, without HTML escaping of <, > and &, and with struct fields in
// declaration order, as serde_json writes them. [Output] and [KVValue]
// decode with encoding/json.
//
// # Concurrency
//
// A [Client] is immutable and safe for concurrent use; it starts no
// goroutines. Every call is independent: two calls are not atomic together,
// and commands sent concurrently for one instance are queued in the order
// the provider accepts them.
package client
