package memprovider_test

import (
	"testing"
	"time"

	"github.com/duroxide-go/duroxide/internal/memharness"
	"github.com/duroxide-go/duroxide/spec"
)

// TestSpec runs the executable specification on a fake clock.
func TestSpec(t *testing.T) {
	spec.Run(t, memharness.Fake)
}

// TestSpecRealTime runs the executable specification on the wall clock with
// short durations. The cases mostly sleep, so they run 32 at a time, each on
// its own provider.
func TestSpecRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time spec run sleeps; skipped in -short mode")
	}
	results := spec.RunConcurrently(t, memharness.RealTime, 32)
	requireNoSkips(t, results)
}

// TestSpecHasNoSkips checks that memprovider, which has every optional
// capability, runs every case of the fake-clock spec: a skip would be a case
// that silently checks nothing.
func TestSpecHasNoSkips(t *testing.T) {
	var results []spec.Result
	for _, c := range spec.Cases() {
		results = append(results, spec.RunCase(c, memharness.Fake, time.Minute))
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
