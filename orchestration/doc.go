// Package orchestration is what orchestration authors import: the
// [Context] their code receives, typed durable [Future]s, [Select] and
// [All], timers, external events and event queues, activities (with retry
// policy, tag and session), sub-orchestrations, continue-as-new, custom
// status, the key/value store, deterministic GUIDs and time, and a
// replay-safe slog logger. It also holds the replay engine ([Engine],
// [RunTurn]) that the runtime calls once per turn.
//
// It is not the runtime: it has no registry, no dispatchers, no provider
// calls and no clock of its own. It is pure: history and messages in,
// history delta, actions and outcome out. Histories it writes are
// duroxide's (0.1.26) event model, event for event: the same event kinds,
// event-id allocation order, reason strings, sub-orchestration instance ids
// and system-activity names, so either runtime can replay the other's
// histories when the orchestration code is the same.
//
// # Writing orchestrations
//
// An orchestration is a plain Go function, [Handler] (raw strings) or, via
// [Typed], func(ctx *Context, input I) (O, error) with JSON in and out
// ([Marshal]: no HTML escaping, fields in declaration order, like
// serde_json). Scheduling calls (ScheduleActivity, ScheduleTimer,
// WaitEvent, DequeueEvent, SubOrchestration, StartOrchestration, SetKV,
// SetCustomStatus, ContinueAsNew...) record a decision at once; a future's
// Get blocks the orchestration until its result is in history.
//
// The code is re-run from the start on every turn and must make the same
// decisions in the same order each time. Hence the determinism rules: no
// time.Now (use ScheduleTimer, or UtcNow), no randomness (NewGUID), no I/O
// (activities do I/O), no goroutines, channels or select statements in
// orchestration code (use [Select] and [All]), no iteration over maps to
// make decisions (KVKeys is sorted). Replay checks each recorded schedule
// against the code's decision (activities by name, input, session and tag;
// sub-orchestrations by name and input; detached starts by name, instance
// and input; events by name; key/value writes by key and value; custom
// status by kind; timers by position only) and fails the instance with a
// Configuration error of kind Nondeterminism on a mismatch.
//
// # Futures and cancellation
//
// Go has no destructors, so duroxide's "dropped future" becomes explicit:
// the losers of a [Select] are cancelled, [Future.Cancel] cancels, and
// when the orchestration function returns every future it never observed
// is cancelled. Cancelling an activity records ActivityCancelRequested
// ("dropped_future") and puts it in the ack's cancelled activities (the
// provider takes its lock away from the worker); cancelling a
// sub-orchestration records SubOrchestrationCancelRequested and sends the
// child a CancelInstance; cancelling a subscription records its cancelled
// breadcrumb so later arrivals go to later subscriptions; timers just stop
// being waited for. On replay, every stored dropped-future breadcrumb must
// be reproduced by the code (a set check per kind, as duroxide does).
//
// [Go] runs part of an orchestration as a branch, duroxide's async block: it
// starts when first waited on, advances only when waited on, and is
// abandoned (with its unobserved work cancelled) when it loses a [Select] or
// is left unobserved when the orchestration returns. [Map] transforms a
// future's result without a branch.
//
// External events ([Context.WaitEvent]) are positional: the n-th active
// subscription to a name gets the n-th event raised with that name while a
// subscription was open; events raised with nothing waiting are recorded
// and ignored. Event queues ([Context.DequeueEvent]) are persistent FIFO
// mailboxes: messages wait for a subscriber, and unconsumed ones (at most
// [MaxCarryForwardEvents]) are carried across continue-as-new.
//
// # How a turn runs
//
// Each turn runs the orchestration on a fresh goroutine driven one step at
// a time by the engine (strict hand-off: the engine and the code never run
// at once; a branch runs on its own goroutine, driven the same way by
// whoever waits on it). The engine walks the history; each time a completion makes a
// future ready it resumes the code until the code blocks again; schedule
// events consume the code's decisions in order. Decisions beyond history
// become new events. A turn ends with the orchestration blocked (Continue),
// returned (Completed or Failed), continued as new, or cancelled; a blocked
// goroutine is then unwound with runtime.Goexit (its deferred functions run
// with the context sealed: every durable call returns [ErrTurnEnded]). No
// goroutine outlives [Engine.Execute]. A panic fails the instance
// (Application, Panicked) and never escapes the engine; so does a
// runtime.Goexit called by the code.
//
// # The dispatcher's side
//
// A runtime calls the engine once per fetched [duroxide.OrchestrationItem]:
//
//  1. batch := ReadBatch(item.Instance, item.History, item.Messages). If
//     batch.Name is empty (messages for an instance never started), ack
//     the item with an empty ack.
//  2. Resolve the handler: a new execution (empty history, or
//     batch.ContinueAsNew) uses batch.Version or the registry's policy;
//     later turns use the version stored in OrchestrationStarted. If none
//     is registered, abandon with backoff.
//  3. out := RunTurn(TurnInput{Item: item, Batch: batch, Handler: h,
//     Version: v, ParentExecutionID: ..., Options: EngineOptions{Now:
//     clock, DuroxideVersion: ..., Logger: ...}}).
//  4. Commit out.Ack with Provider.AckOrchestrationItem: its ExecutionID
//     (the fetched one, or one more for a continue-as-new), HistoryDelta
//     (OrchestrationStarted for a new execution, completions, new
//     schedules, dropped-future breadcrumbs, terminal subscription
//     breadcrumbs, the terminal event, then terminal activity
//     cancellations), WorkerItems (ActivityExecute), OrchestratorItems
//     (TimerFired at FireAtMs, StartOrchestration for children and
//     detached starts, the parent's SubOrchCompleted/SubOrchFailed,
//     CancelInstance for cancelled children, ContinueAsNew), Metadata and
//     CancelledActivities. out.Result says how the turn ended.
//
// A turn over a history that already ended acks the batch away. Poison
// handling, capability filtering, lock renewal, retries of the ack and the
// custom-status/KV size limits are the dispatcher's. [NewEngine] with
// [Engine.PrepCompletions] and [Engine.Execute] is the lower-level form
// RunTurn is built on, for tests and tools (a history replayer).
//
// # Concurrency
//
// [Engine] and [Context] are confined to one goroutine each (the engine's
// caller, the orchestration's), never shared. Distinct engines are
// independent and may run in parallel. Inputs are copied; outputs are
// fresh values.
package orchestration
