package pgprovider_test

import (
	"testing"
	"time"

	"github.com/duroxide-go/duroxide/internal/pgharness"
	"github.com/duroxide-go/duroxide/pgprovider"
	"github.com/duroxide-go/duroxide/spec"
)

// TestSpec runs the executable specification against PostgreSQL on a fake
// clock passed into every statement, one schema per case.
func TestSpec(t *testing.T) {
	spec.Run(t, pgharness.Fake(pgprovider.TestPool(t)))
}

// TestSpecRealTime runs the specification on the database's clock with
// short durations (1 s locks, 150 ms slack), 4 cases at a time, each on its
// own schema: the cases mostly sleep.
func TestSpecRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time spec run sleeps; skipped in -short mode")
	}
	pool := pgprovider.TestPool(t)
	results := spec.RunConcurrently(t, pgharness.RealTime(pool, pgharness.RealTimeSlack+pgprovider.RaceSlack*time.Millisecond), 4)
	for _, r := range results {
		if r.Outcome == spec.Skipped {
			t.Errorf("%s skipped: %v", r.Case, r.Messages)
		}
	}
}
