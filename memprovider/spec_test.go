package memprovider_test

import (
	"slices"
	"strings"
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
	results := spec.RunConcurrently(t, memharness.RealTime, 32, time.Minute)
	// The clock-step-back cases need a fake clock to step.
	requireNoSkips(t, results, func(c string) bool { return strings.Contains(c, "clock_step_back") })
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

// requireNoSkips requires every result not to be a skip, except those of
// the cases (group/case) that allowed accepts.
func requireNoSkips(t *testing.T, results []spec.Result, allowed ...func(string) bool) {
	t.Helper()
	for _, r := range results {
		if r.Outcome == spec.Skipped && !slices.ContainsFunc(allowed, func(ok func(string) bool) bool { return ok(r.Case) }) {
			t.Errorf("%s skipped: %v", r.Case, r.Messages)
		}
	}
}
