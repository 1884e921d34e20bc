// Package memharness builds the spec harnesses that run memprovider: on a
// fake clock, and on the wall clock with short durations. memprovider's own
// tests, the conformance report (cmd/duroxide-spec) and the benchmarks share
// them, so that every run checks the same configuration. It is internal:
// provider authors build their own harness (see package spec).
package memharness

import (
	"time"

	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/internal/memhooks"
	"github.com/duroxide-go/duroxide/memprovider"
	"github.com/duroxide-go/duroxide/spec"
)

// Start is the fake clock's start time.
var Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Fake builds an empty memprovider on a fresh fake clock, with its white-box
// hooks, as a long-polling provider that survives its clock stepping back.
// It is a spec.NewHarness.
func Fake(spec.T) *spec.Harness {
	clock := fakeclock.NewFake(Start)
	p := memprovider.New(memprovider.WithClock(clock))
	return &spec.Harness{Provider: p, Clock: clock, Hooks: memhooks.Hooks{P: p}, LongPolling: true, ClockStepsBack: true}
}

// RealTime builds an empty memprovider on the wall clock, with its hooks and
// short durations (300 ms locks, 150 ms slack: enough for a loaded CI machine under -race). It is a spec.NewHarness.
func RealTime(spec.T) *spec.Harness {
	p := memprovider.New()
	return &spec.Harness{
		Provider:       p,
		Hooks:          memhooks.Hooks{P: p},
		LongPolling:    true,
		ClockStepsBack: true, // unused without a fake clock; states the provider's design
		LockTimeout:    300 * time.Millisecond,
		Slack:          150 * time.Millisecond,
		RealClock:      fakeclock.Real(), // memprovider.New's default clock
	}
}
