package memprovider_test

import (
	"testing"
	"time"

	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/internal/memhooks"
	"github.com/duroxide-go/duroxide/memprovider"
	"github.com/duroxide-go/duroxide/spec"
)

// specStart is the fake clock's start time in spec runs.
var specStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestSpec runs the executable specification on a fake clock.
func TestSpec(t *testing.T) {
	spec.Run(t, fakeHarness)
}

// fakeHarness builds memprovider on a fresh fake clock, with its hooks.
func fakeHarness(spec.T) *spec.Harness {
	clock := fakeclock.NewFake(specStart)
	p := memprovider.New(memprovider.WithClock(clock))
	return &spec.Harness{Provider: p, Clock: clock, Hooks: memhooks.Hooks{P: p}, LongPolling: true}
}

// TestSpecRealTime runs the executable specification on the wall clock with
// short durations. The cases mostly sleep, so they run 32 at a time, each on
// its own provider.
func TestSpecRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time spec run sleeps; skipped in -short mode")
	}
	results := spec.RunConcurrently(t, func(spec.T) *spec.Harness {
		p := memprovider.New()
		return &spec.Harness{
			Provider:    p,
			Hooks:       memhooks.Hooks{P: p},
			LongPolling: true,
			LockTimeout: 200 * time.Millisecond,
			Slack:       50 * time.Millisecond,
		}
	}, 32, time.Minute)
	requireNoSkips(t, results)
}

// TestSpecHasNoSkips checks that memprovider, which has every optional
// capability, runs every case of the fake-clock spec: a skip would be a case
// that silently checks nothing.
func TestSpecHasNoSkips(t *testing.T) {
	var results []spec.Result
	for _, c := range spec.Cases() {
		results = append(results, spec.RunCase(c, fakeHarness, time.Minute))
	}
	requireNoSkips(t, results)
}

func requireNoSkips(t *testing.T, results []spec.Result) {
	t.Helper()
	for _, r := range results {
		if r.Outcome == spec.Skipped {
			t.Errorf("%s skipped: %v", r.Case, r.Messages)
		}
	}
}
