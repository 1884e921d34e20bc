package memprovider_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/internal/memharness"
	"github.com/duroxide-go/duroxide/proptest/faults"
)

// faultScenarios are the fault mixes the workload runs under.
var faultScenarios = []struct {
	name  string
	rules []faults.Rule
	lock  time.Duration
}{
	// Before and After faults, p=0.1 each, on every dispatcher method.
	{"default rules", faults.DefaultRules(), 0},
	// A store that fails half the acks and abandons before they happen, with
	// one-second locks: ack retries run out (abandon paths) and locks lapse
	// during back-offs and retries (ErrLockExpired paths).
	{"flaky acks, short locks", append(faults.DefaultRules(),
		faults.Rule{Ops: faults.OpAcks | faults.OpAbandons, Mode: faults.Before, Probability: 0.5}), time.Second},
	// Permanent faults as well, except on enqueues (a client gives up on a
	// start that failed permanently, by design): the driver abandons a turn
	// whose ack failed permanently, and the work comes back.
	{"permanent faults too", append(faults.DefaultRules(),
		faults.Rule{Ops: faults.OpDispatch &^ faults.OpEnqueues, Mode: faults.BeforePermanent, Probability: 0.05},
		faults.Rule{Ops: faults.OpDispatch &^ faults.OpEnqueues, Mode: faults.AfterPermanent, Probability: 0.05}), 0},
}

// TestFaultInjectionLosesNothing runs the fault-injection workload against
// memprovider for several seeds per scenario: every instance completes,
// every activity completion is recorded exactly once, and both queues end
// empty. Across the seeds, the paths that matter must have been taken.
func TestFaultInjectionLosesNothing(t *testing.T) {
	const seeds = 24
	total := faults.Counts{}
	var stats faults.Stats
	var runs, instances, activities int
	var wall time.Duration
	for _, sc := range faultScenarios {
		t.Run(sc.name, func(t *testing.T) {
			for seed := range int64(seeds) {
				r := faults.RunWorkload(t, memharness.Fake, faults.Config{
					Seed: seed, Instances: 24, Activities: 5, Rules: sc.rules, LockTimeout: sc.lock,
				})
				require.NotNil(t, r)
				runs++
				instances += r.Config.Instances
				activities += r.Config.Instances * r.Config.Activities
				wall += r.Wall
				total.Add(r.Faults)
				stats.UnsureAcks += r.Stats.UnsureAcks
				stats.DuplicateStarts += r.Stats.DuplicateStarts
				stats.Redeliveries += r.Stats.Redeliveries
				stats.CancelledActivities += r.Stats.CancelledActivities
				stats.OrchAbandons += r.Stats.OrchAbandons
				stats.WorkAbandons += r.Stats.WorkAbandons
			}
		})
	}
	t.Logf("%d runs, %d instances, %d activities, %d faults (%d before, %d after, %d permanent), workload wall time %v; faults:\n%s",
		runs, instances, activities, total.Total(), total.Mode(faults.Before), total.Mode(faults.After),
		total.Mode(faults.BeforePermanent)+total.Mode(faults.AfterPermanent), wall.Round(time.Millisecond), total)
	for _, op := range []faults.Op{
		faults.OpFetchOrchestrationItem, faults.OpAckOrchestrationItem, faults.OpAbandonOrchestrationItem,
		faults.OpRenewOrchestrationItemLock, faults.OpEnqueueForOrchestrator,
		faults.OpFetchWorkItem, faults.OpAckWorkItem, faults.OpAbandonWorkItem, faults.OpRenewWorkItemLock,
	} {
		for _, m := range []faults.Mode{faults.Before, faults.After} {
			assert.Positive(t, total[faults.Key{Op: op, Mode: m}], "no %s fault on %s in any run", m, op)
		}
	}
	assert.Positive(t, stats.UnsureAcks, "no ack committed with its response lost")
	assert.Positive(t, stats.DuplicateStarts, "no duplicate start ignored")
	assert.Positive(t, stats.Redeliveries, "no orchestration item redelivered")
	assert.Positive(t, stats.CancelledActivities, "no activity cancelled by a failed renewal")
	assert.Positive(t, stats.OrchAbandons, "no orchestration turn abandoned")
	assert.Positive(t, stats.WorkAbandons, "no activity abandoned")
}

// TestFaultInjectionDeterministic: one seed, one run — the same calls,
// faults and driver counters.
func TestFaultInjectionDeterministic(t *testing.T) {
	run := func(seed int64) *faults.Report {
		r, err := faults.Run(t.Context(), memharness.Fake(t), faults.Config{Seed: seed, Rules: faults.DefaultRules()})
		require.NoError(t, err)
		return r
	}
	a, b, c := run(5), run(5), run(6)
	assert.Equal(t, a.Stats, b.Stats)
	assert.Equal(t, a.Faults, b.Faults)
	assert.Equal(t, a.Calls, b.Calls)
	assert.NotEqual(t, a.Faults, c.Faults, "another seed, the same faults")
}

// TestFaultInjectionCheckHasTeeth: a driver that breaks the contract's retry
// rules fails the check, and the same faults with a correct driver pass —
// so the failure comes from the flaw. A run that injected nothing fails
// too: it proves nothing.
func TestFaultInjectionCheckHasTeeth(t *testing.T) {
	tests := []struct {
		name  string
		rules []faults.Rule
		flaws faults.Flaws
		want  string // a violation the flawed run must report
	}{
		{
			name:  "client drops a start whose enqueue failed before it took effect",
			rules: []faults.Rule{{Ops: faults.OpEnqueueForOrchestrator, Mode: faults.Before, Every: 3}},
			flaws: faults.Flaws{DropFailedStarts: true},
			want:  "no history: the instance never started",
		},
		{
			name:  "orchestration replays a duplicate start left by a committed enqueue",
			rules: []faults.Rule{{Ops: faults.OpEnqueueForOrchestrator, Mode: faults.After, Every: 3}},
			flaws: faults.Flaws{ReplayDuplicateStarts: true},
			want:  "2 OrchestrationStarted events",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := faults.Config{Seed: 1, Rules: tt.rules}
			h := memharness.Fake(t)
			r, err := faults.Run(t.Context(), h, cfg)
			require.NoError(t, err)
			require.Positive(t, r.Faults.Total())
			require.NoError(t, faults.Check(t.Context(), h, r), "the correct driver must pass under these faults")

			cfg.Flaws = tt.flaws
			h = memharness.Fake(t)
			r, err = faults.Run(t.Context(), h, cfg)
			require.NoError(t, err)
			err = faults.Check(t.Context(), h, r)
			require.Error(t, err, "the flawed driver passed the check")
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	t.Run("provider acks a turn but drops its worker items", func(t *testing.T) {
		h := memharness.Fake(t)
		h.Provider = &lossyAck{Provider: h.Provider, every: 5}
		r, err := faults.Run(t.Context(), h, faults.Config{Seed: 1, Rules: faults.DefaultRules()})
		require.NoError(t, err)
		err = faults.Check(t.Context(), h, r)
		require.Error(t, err, "a provider that loses committed work passed the check")
		assert.Contains(t, err.Error(), "completed 0 times, want exactly once")
	})

	t.Run("no faults", func(t *testing.T) {
		h := memharness.Fake(t)
		r, err := faults.Run(t.Context(), h, faults.Config{Seed: 1})
		require.NoError(t, err)
		err = faults.Check(t.Context(), h, r)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no fault was injected")
	})
}

// lossyAck is a broken provider for the negative control: every every-th
// orchestration ack commits without its worker items.
type lossyAck struct {
	duroxide.Provider
	every, acks int
}

func (p *lossyAck) AckOrchestrationItem(ctx context.Context, token string, ack duroxide.OrchestrationAck) error {
	if p.acks++; p.acks%p.every == 0 {
		ack.WorkerItems = nil
	}
	return p.Provider.AckOrchestrationItem(ctx, token, ack)
}
