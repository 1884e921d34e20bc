// Package duroxidetest runs orchestrations in unit tests, with time skipped.
//
// # What it is
//
// An [Env] is a complete duroxide application in one goroutine: the real
// runtime (package host) on the in-memory reference provider (memprovider)
// and a fake clock. It runs orchestration and activity code exactly as
// production does (same replay engine, same provider contract, same
// histories), but synchronously: it steps the dispatchers until nothing is
// left to do, then moves the fake clock straight to the next instant at
// which something becomes due (a timer, a retry backoff, a delayed event,
// an activity mock that takes time). A workflow that waits thirty days
// finishes in microseconds of wall time, deterministically.
//
//	env := duroxidetest.New(t)
//	env.RegisterOrchestration("Hello", orchestration.Typed(hello))
//	env.OnActivity("Greet").Return("Hello, World!")
//	out, err := duroxidetest.RunAs[string](env, "Hello", "World")
//
// Activities run their registered handler unless mocked ([Env.OnActivity]):
// a mock returns a fixed value or error, or runs a function, optionally a
// fixed number of times ([Mock.Times], checked when the test ends) and
// taking fake time ([Mock.After]).
//
// An orchestration that can never finish (nothing to run, nothing
// scheduled, not completed) is reported as a [*StuckError] naming what it
// waits for, instead of hanging the test.
//
// # What it is not
//
// It is not a simulator of concurrency: one dispatcher of each kind runs,
// turn after turn, in a fixed order. Races between runtimes, lock expiry
// under load and provider faults are the business of package e2e, proptest
// and the fault injector. Activities run inline: an activity that blocks
// blocks the test.
//
// # Concurrency
//
// An Env belongs to one test goroutine. Its methods must not be called
// concurrently, and activity code must not call back into the Env.
package duroxidetest
