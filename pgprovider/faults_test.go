package pgprovider_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide/internal/pgharness"
	"github.com/duroxide-go/duroxide/pgprovider"
	"github.com/duroxide-go/duroxide/proptest/faults"
)

// TestFaultInjectionLosesNothing runs the fault-injection workload against
// pgprovider on the fake clock, under the fault mixes memprovider's test
// uses: every instance completes, every activity completion is recorded
// exactly once, and both queues end empty. Across the seeds, the paths that
// matter must have been taken.
func TestFaultInjectionLosesNothing(t *testing.T) {
	pool := pgprovider.TestPool(t)
	seeds := int64(6)
	if testing.Short() {
		seeds = 2
	}
	scenarios := []struct {
		name  string
		rules []faults.Rule
		lock  time.Duration
	}{
		{"default rules", faults.DefaultRules(), 0},
		{"flaky acks, short locks", append(faults.DefaultRules(),
			faults.Rule{Ops: faults.OpAcks | faults.OpAbandons, Mode: faults.Before, Probability: 0.5}), time.Second},
		{"permanent faults too", append(faults.DefaultRules(),
			faults.Rule{Ops: faults.OpDispatch &^ faults.OpEnqueues, Mode: faults.BeforePermanent, Probability: 0.05},
			faults.Rule{Ops: faults.OpDispatch &^ faults.OpEnqueues, Mode: faults.AfterPermanent, Probability: 0.05}), 0},
	}
	total := faults.Counts{}
	var stats faults.Stats
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			for seed := range seeds {
				r := faults.RunWorkload(t, pgharness.Fake(pool), faults.Config{
					Seed: seed, Instances: 24, Activities: 5, Rules: sc.rules, LockTimeout: sc.lock,
				})
				require.NotNil(t, r)
				total.Add(r.Faults)
				stats.UnsureAcks += r.Stats.UnsureAcks
				stats.Redeliveries += r.Stats.Redeliveries
				stats.OrchAbandons += r.Stats.OrchAbandons
				stats.WorkAbandons += r.Stats.WorkAbandons
			}
		})
	}
	t.Logf("%d faults (%d before, %d after, %d permanent)", total.Total(), total.Mode(faults.Before),
		total.Mode(faults.After), total.Mode(faults.BeforePermanent)+total.Mode(faults.AfterPermanent))
	assert.Positive(t, stats.UnsureAcks, "no ack committed with its response lost")
	assert.Positive(t, stats.Redeliveries, "no orchestration item redelivered")
	assert.Positive(t, stats.OrchAbandons, "no orchestration turn abandoned")
	assert.Positive(t, stats.WorkAbandons, "no activity abandoned")
}
