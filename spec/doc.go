// Package spec is duroxide-go's executable specification: every behaviour a
// duroxide provider must have, written as test cases any provider author can
// run against their own provider.
//
// Each case has a counterpart in duroxide's Rust validation suite and carries
// its name, as "group/case" (the Rust test name without "test_"), so a
// provider author porting from Rust finds each case by name. Where the Rust
// case checks less than the property it is named for, the Go case asserts the
// property and says so in a comment.
//
// # Running
//
// A provider author writes one test:
//
//	func TestSpec(t *testing.T) {
//		spec.Run(t, func(t spec.T) *spec.Harness {
//			p := myprovider.New(...) // fresh and empty for every case
//			return &spec.Harness{Provider: p, Clock: clk}
//		})
//	}
//
// [Run] runs every case as a subtest named "group/case". The harness function
// is called once per case and must return a fresh, empty provider. Cases that
// need a capability the harness lacks (hooks, management, long polling) are
// skipped with the reason, never silently passed.
//
// # Levels
//
// Every case carries one [Level]:
//
//   - [Required] (301 cases): a provider that fails the case breaks
//     duroxide's runtime, loses or duplicates work, or breaks a rule the
//     contract states as a must. A conformant provider passes every one.
//   - [Strict] (19 cases): a stronger guarantee memprovider gives and
//     recommends (sharper errors, liveness, ordering) that duroxide's
//     runtime does not rely on.
//
// Each strict case's doc comment says in one sentence why it is not
// required: what the runtime does instead. Each required case that asks
// more than duroxide's SQLite provider gives says what breaks without it.
// Where a duroxide case mixed both, the duroxide-named case keeps the
// required part and a strict case with an honest name (such as
// instance_locking/concurrent_instance_fetching_losing_fetch_moves_on)
// carries the rest. The strict cases allow, at the required level: a fetch
// that loses a race returning no work or a retryable error, one permanent
// error kind for expired and unknown lock tokens, capability filters read
// by their first range with packed version numbers, execution 1 for an
// instance without a record, whole-second management timestamps in any
// order within a second, abandoned batches left out of queue depths, and
// empty owner and instance ids treated as ordinary values where nothing
// can go wrong. A test-only provider that does all of that (behaving like
// duroxide's SQLite provider) passes every required case.
//
// # Time
//
// In fake-clock mode the harness hands over the [fakeclock.Fake] its provider
// reads; cases advance it and never sleep in real time, so the whole suite
// runs in well under a second. In real-time mode (Clock nil), for providers
// whose time is a database's now(), cases sleep for real and the durations
// come from the harness (LockTimeout, ShortPollThreshold, Slack).
//
// # What it is not
//
// spec does not import any provider: it is provider-agnostic. It is not a
// benchmark suite and not a randomized test (see package proptest).
//
// Cases are written against [T], a minimal subset of testing.TB, so the same
// cases run under go test, under the conformance report command
// (cmd/duroxide-spec, through [RunCase]), and against deliberately broken
// providers with a recording T.
package spec
