package pgprovider_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/internal/pgharness"
	"github.com/duroxide-go/duroxide/pgprovider"
	"github.com/duroxide-go/duroxide/spec"
)

// sqlMutant is a plausible mistake in one of pgprovider's statements.
type sqlMutant struct {
	name, field, from, to, bug string
}

var sqlMutants = []sqlMutant{
	{"fetch_newest_first", "FetchOrchCandidate", "ORDER BY q.id\nLIMIT 1", "ORDER BY q.id DESC\nLIMIT 1", "a fetch takes the newest message's instance"},
	{"fetch_ignores_visibility", "FetchOrchCandidate", "q.visible_at <= ", "q.visible_at - interval '1000 years' <= ", "delayed messages (timers) are fetched early"},
	{"fetch_ignores_locks", "FetchOrchCandidate", "(i.lock_token IS NULL OR", "(true OR", "a locked instance is fetched again"},
	{"fetch_ignores_capability", "FetchOrchCandidate", "(NOT $3::boolean OR", "(true OR", "the capability filter accepts every pinned version"},
	{"tag_batch_no_attempt", "TagBatch", "attempts = attempts + 1", "attempts = attempts", "orchestration deliveries are not counted"},
	{"ack_ignores_expiry", "AckLock", "AND locked_until > ", "AND locked_until + interval '100 years' > ", "an expired lock can still ack"},
	{"ack_keeps_batch", "AckDeleteBatch", "WHERE instance_id = $1", "WHERE false AND instance_id = $1", "an ack leaves its batch in the queue"},
	{"renew_ignores_expiry", "RenewOrch", "WHERE lock_token = $2 AND locked_until > ", "WHERE lock_token = $2 AND locked_until + interval '100 years' > ", "an expired lock can be renewed"},
	{"abandon_ignores_delay", "AbandonOrchMsgs", "WHEN $4::bigint > 0 AND", "WHEN $4::bigint < 0 AND", "an abandon's delay is ignored"},
	{"cancel_is_noop", "CancelActivities", "WHERE w.instance_id = c.i", "WHERE false AND w.instance_id = c.i", "cancelled activities stay in the worker queue"},
	{"work_ignores_tags", "FetchWorkCandidate", "WHEN 0 THEN w.tag IS NULL", "WHEN 0 THEN true", "a default-only worker takes tagged items"},
	{"session_lease_never_lapses", "FetchWorkCandidate", "OR s.locked_until <= ", "OR s.locked_until IS NULL AND s.locked_until <= ", "a session whose lease lapsed is never taken over"},
	{"lock_work_no_attempt", "LockWork", "attempts = attempts + 1", "attempts = attempts", "worker deliveries are not counted"},
	{"abandon_work_ignores_delay", "AbandonWork", "WHEN $4::bigint > 0 THEN", "WHEN $4::bigint < 0 THEN", "a worker abandon's delay is ignored"},
	{"renew_work_ignores_expiry", "RenewWork", "WHERE lock_token = $2 AND locked_until > ", "WHERE lock_token = $2 AND locked_until + interval '100 years' > ", "an expired activity lock can be renewed"},
}

// TestSQLMutants shows the fake-clock spec catches each SQL mutant: the
// cases run in order against providers whose statement is mutated, until
// one fails (the mutant is killed) or all pass (it survived: a spec gap).
// It logs the first killing case of each, the kill matrix of
// docs/mutants.md:
//
//	.ci/pg go test ./pgprovider -run TestSQLMutants -v
func TestSQLMutants(t *testing.T) {
	pool := pgprovider.TestPool(t)
	cases := spec.Cases()
	// The mutants run eight at a time on goroutines of this test (t.Parallel
	// would run GOMAXPROCS at a time; these wait on the database, not the
	// CPU).
	type outcome struct{ killer, problem string }
	results := make([]outcome, len(sqlMutants))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, m := range sqlMutants {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			harness := func(st spec.T) *spec.Harness {
				clock := fakeclock.NewFake(pgharness.Start)
				p := pgharness.NewProvider(st, pool, pgprovider.WithClock(clock))
				if err := pgprovider.MutateSQL(p, m.field, m.from, m.to); err != nil {
					st.Errorf("mutation does not apply: %v", err)
					st.FailNow()
				}
				return &spec.Harness{Provider: p, Clock: clock, Hooks: pgharness.Hooks(p), LongPolling: true, ClockStepsBack: true}
			}
			for _, c := range cases {
				r := spec.RunCase(c, harness, 20*time.Second)
				if r.Outcome != spec.Failed {
					continue
				}
				msg := ""
				if len(r.Messages) > 0 {
					msg = strings.SplitN(strings.TrimSpace(r.Messages[0]), "\n", 2)[0]
				}
				if strings.Contains(msg, "mutation does not apply") {
					results[i] = outcome{problem: msg}
				} else {
					results[i] = outcome{killer: fmt.Sprintf("%s (%s)", r.Case, c.Level)}
				}
				return
			}
			results[i] = outcome{problem: fmt.Sprintf("survived all %d spec cases", len(cases))}
		})
	}
	wg.Wait()
	for i, m := range sqlMutants {
		if results[i].problem != "" {
			t.Errorf("mutant %s (%s): %s", m.name, m.bug, results[i].problem)
		}
	}
	killers := map[string]string{}
	for i, m := range sqlMutants {
		killers[m.name] = results[i].killer
	}
	for _, m := range sqlMutants {
		t.Logf("%-28s %-48s killed by %s", m.name, m.bug, killers[m.name])
	}
}
