package pgprovider

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
)

// gateClass keys the advisory locks with which these tests stall a
// statement inside its transaction until the test opens the gate.
const gateClass = 0x67617465 // "gate"

// gateWait is an SQL expression that waits, holding the statement's
// transaction open, until gate key is open.
func gateWait(key int) string {
	return "pg_advisory_xact_lock_shared(" + strconv.Itoa(gateClass) + ", " + strconv.Itoa(key) + ")"
}

// closeGate closes gate key (a session advisory lock on a connection of
// its own) and returns the function that opens it again; the gate is also
// opened when the test ends.
func closeGate(t *testing.T, key int) (open func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := testPool(t).Acquire(ctx)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "SELECT pg_advisory_lock($1, $2)", gateClass, key)
	require.NoError(t, err)
	var once sync.Once
	open = func() {
		once.Do(func() {
			_, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1, $2)", gateClass, key)
			conn.Release()
			require.NoError(t, err)
		})
	}
	t.Cleanup(open)
	return open
}

// stallAfterInsert makes the enqueue statement *field stop, after its row
// is inserted (and has its id) and before it commits, whenever the row's
// item mentions "slow", until gate 1 opens.
func stallAfterInsert(field *string) {
	*field += " RETURNING (SELECT 1 FROM (SELECT CASE WHEN item LIKE '%slow%' THEN " + gateWait(1) + " END) g)"
}

// fetchResult is the outcome of a fetch started by fetchAsync.
type fetchResult struct {
	item *duroxide.LockedOrchestrationItem
	err  error
}

// fetchAsync starts an orchestration fetch without a poll wait.
func fetchAsync(ctx context.Context, p *Provider) chan fetchResult {
	done := make(chan fetchResult, 1)
	go func() {
		item, err := p.FetchOrchestrationItem(ctx, time.Minute, 0, nil)
		done <- fetchResult{item, err}
	}()
	return done
}

// doneOr returns a waitFor condition: done has a value (which stays for the
// receiver), or else blocked says the call waits in the database.
func doneOr[V any](done chan V, blocked func() bool) func() bool {
	return func() bool {
		select {
		case v := <-done:
			done <- v
			return true
		default:
			return blocked()
		}
	}
}

// TestQueueOrderFollowsCommits: two enqueues race, and the one that began
// first (and took the lower row id) commits last. A fetch between the two
// commits may see only the later one; whatever it sees, the order every
// later fetch reports must agree with it, as it would if each enqueue took
// effect at one instant (the linearizability check's model): an item seen
// alone first is older than the one that was still invisible. Row ids
// follow insertion, not commit, so ordering by them alone breaks this
// unless ids are handed out in commit order.
func TestQueueOrderFollowsCommits(t *testing.T) {
	ctx := context.Background()
	event := func(id, name string) enqueue {
		return func(ctx context.Context, p *Provider) error {
			return p.EnqueueForOrchestrator(ctx, duroxide.ExternalRaisedItem{Instance: id, Name: name, Data: "d"}, 0)
		}
	}
	start := func(id, name string) enqueue {
		return func(ctx context.Context, p *Provider) error {
			return p.EnqueueForOrchestrator(ctx, duroxide.StartOrchestrationItem{Instance: id, Orchestration: name, ExecutionID: 1}, 0)
		}
	}
	work := func(id, name string) enqueue {
		return func(ctx context.Context, p *Provider) error {
			return p.EnqueueForWorker(ctx, duroxide.ActivityExecuteItem{Instance: id, ExecutionID: 1, ID: 1, Name: name})
		}
	}
	// A fetch's answer as labels in delivery order: instance:name of each
	// message of the batch, or of the worker item.
	fetchOrch := func(t *testing.T, p *Provider) []string {
		t.Helper()
		item, err := p.FetchOrchestrationItem(ctx, time.Minute, 0, nil)
		require.NoError(t, err)
		if item == nil {
			return nil
		}
		var got []string
		for _, m := range item.Messages {
			switch m := m.(type) {
			case duroxide.ExternalRaisedItem:
				got = append(got, m.Instance+":"+m.Name)
			case duroxide.StartOrchestrationItem:
				got = append(got, m.Instance+":"+m.Orchestration)
			}
		}
		require.NoError(t, p.AbandonOrchestrationItem(ctx, item.LockToken, 0, false))
		return got
	}
	fetchWork := func(t *testing.T, p *Provider) []string {
		t.Helper()
		item, err := p.FetchWorkItem(ctx, time.Minute, 0, nil, duroxide.FilterAny())
		require.NoError(t, err)
		if item == nil {
			return nil
		}
		a := item.Item.(duroxide.ActivityExecuteItem)
		require.NoError(t, p.AbandonWorkItem(ctx, item.LockToken, 0, false))
		return []string{a.Instance + ":" + a.Name}
	}
	tests := []struct {
		name       string
		stalled    func(*statements) *string
		before     []enqueue
		slow, fast enqueue
		fetch      func(*testing.T, *Provider) []string
	}{
		{
			name:    "one instance",
			stalled: func(s *statements) *string { return &s.EnqueueOrch },
			before:  []enqueue{start("x", "O")},
			slow:    event("x", "slow"),
			fast:    event("x", "fast"),
			fetch:   fetchOrch,
		},
		{
			name:    "two instances",
			stalled: func(s *statements) *string { return &s.EnqueueOrch },
			slow:    start("x", "slow"),
			fast:    start("y", "fast"),
			fetch:   fetchOrch,
		},
		{
			name:    "worker queue",
			stalled: func(s *statements) *string { return &s.EnqueueWorker },
			slow:    work("x", "slow"),
			fast:    work("y", "fast"),
			fetch:   fetchWork,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := freshProvider(t, t)
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			// The instances exist, so that the enqueues do not wait for
			// each other's new instance row.
			_, err := testPool(t).Exec(ctx, "INSERT INTO "+quoteIdent(p.schema)+".instances (instance_id) VALUES ('x'), ('y')")
			require.NoError(t, err)
			for _, e := range tc.before {
				require.NoError(t, e(ctx, p))
			}
			stallAfterInsert(tc.stalled(&p.sql))
			open := closeGate(t, 1)

			slowDone := make(chan error, 1)
			go func() { slowDone <- tc.slow(ctx, p) }()
			waitFor(t, "the slow enqueue to reach the gate", func() bool { return waiting(t, gateClass) })
			fastDone := make(chan error, 1)
			go func() { fastDone <- tc.fast(ctx, p) }()
			// The fast enqueue either commits or waits for the slow one.
			waitFor(t, "the fast enqueue to commit or wait", doneOr(fastDone, func() bool { return waiting(t, orderClass) }))

			seen := tc.fetch(t, p)
			open()
			require.NoError(t, <-slowDone)
			require.NoError(t, <-fastDone)
			got := tc.fetch(t, p)
			t.Logf("between the commits: %q; after both: %q", seen, got)

			slowSeen := slices.ContainsFunc(seen, func(s string) bool { return strings.HasSuffix(s, ":slow") })
			fastSeen := slices.ContainsFunc(seen, func(s string) bool { return strings.HasSuffix(s, ":fast") })
			if fastSeen && !slowSeen {
				// The fast enqueue took effect first: it comes first.
				fast := slices.IndexFunc(got, func(s string) bool { return strings.HasSuffix(s, ":fast") })
				slow := slices.IndexFunc(got, func(s string) bool { return strings.HasSuffix(s, ":slow") })
				require.NotEqual(t, -1, fast, "the fast item, seen alone first, is the oldest")
				if slow != -1 {
					require.Less(t, fast, slow, "the fast item, seen alone first, comes first")
				}
			}
		})
	}
}

type enqueue func(context.Context, *Provider) error

// waiting says whether some backend waits for an advisory lock of class.
func waiting(t *testing.T, class int) bool {
	t.Helper()
	var n int
	require.NoError(t, testPool(t).QueryRow(context.Background(),
		"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1::bigint::oid", class).Scan(&n))
	return n > 0
}

// waitFor polls cond (real time: it watches database backends) for up to
// 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestOrphanDropAndFetchShareOneInstant: a fetch finds an instance whose
// visible messages are all orphan QueueMessages and drops them, then looks
// for the next candidate in a later snapshot. If an older instance was
// unlocked in between (an ack), returning it means the fetch took effect
// after that ack, when the older instance came first and the orphans would
// not have been reached, let alone dropped: the fetch must either return
// no such instance or keep the orphans. Here the drop is stalled (a
// test-only change to the statement) while the ack commits.
func TestOrphanDropAndFetchShareOneInstant(t *testing.T) {
	p := freshProvider(t, t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	enq := func(w duroxide.WorkItem) {
		t.Helper()
		require.NoError(t, p.EnqueueForOrchestrator(ctx, w, 0))
	}
	enq(duroxide.StartOrchestrationItem{Instance: "old", Orchestration: "O", ExecutionID: 1})
	held, err := p.FetchOrchestrationItem(ctx, time.Minute, 0, nil)
	require.NoError(t, err)
	require.Equal(t, "old", held.Instance)
	enq(duroxide.ExternalRaisedItem{Instance: "old", Name: "e", Data: "d"}) // waits for old's lock
	enq(duroxide.QueueMessageItem{Instance: "orphan", Name: "q", Data: "m"})

	p.sql.DeleteVisible += " RETURNING (SELECT 1 FROM (SELECT " + gateWait(2) + ") g)"
	open := closeGate(t, 2)
	fetched := fetchAsync(ctx, p)
	waitFor(t, "the fetch to stall in the orphan drop", func() bool { return waiting(t, gateClass) })
	name, version := "O", "1.0.0"
	require.NoError(t, p.AckOrchestrationItem(ctx, held.LockToken, duroxide.OrchestrationAck{
		ExecutionID: 1,
		HistoryDelta: []duroxide.Event{{EventID: 1, InstanceID: "old", ExecutionID: 1, DuroxideVersion: "0.1.26",
			Kind: duroxide.OrchestrationStarted{Name: "O", Version: "1.0.0"}}},
		Metadata: duroxide.ExecutionMetadata{OrchestrationName: &name, OrchestrationVersion: &version},
	}))
	open()
	r := <-fetched
	require.NoError(t, r.err)

	enq(duroxide.StartOrchestrationItem{Instance: "orphan", Orchestration: "O", ExecutionID: 1})
	if r.item != nil && r.item.Instance == "old" {
		// The fetch took effect after the ack: the orphans were never
		// reached, so they are still there.
		next, err := p.FetchOrchestrationItem(ctx, time.Minute, 0, nil)
		require.NoError(t, err)
		require.NotNil(t, next)
		require.Equal(t, "orphan", next.Instance)
		require.Len(t, next.Messages, 2, "the QueueMessage was dropped by a fetch that returned an instance unlocked after the drop: %v", next.Messages)
	}
}

// TestFakeClockFetchWaitsForAHeldOldestInstance: on an injected clock a
// fetch does not pass by the oldest eligible instance because another
// transaction holds its row for a moment. Here that is an abandon of the
// instance's expired lock, stalled (a test-only change to the statement)
// after it locked the row: whether the abandon takes effect before the fetch
// or after, the instance is eligible and the oldest, so the fetch must
// return it, not the younger one, waiting for the abandon if need be.
func TestFakeClockFetchWaitsForAHeldOldestInstance(t *testing.T) {
	clock := fakeclock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := freshProvider(t, t, WithClock(clock))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, p.EnqueueForOrchestrator(ctx, duroxide.StartOrchestrationItem{Instance: "old", Orchestration: "O", ExecutionID: 1}, 0))
	held, err := p.FetchOrchestrationItem(ctx, time.Second, 0, nil)
	require.NoError(t, err)
	require.Equal(t, "old", held.Instance)
	require.NoError(t, p.EnqueueForOrchestrator(ctx, duroxide.StartOrchestrationItem{Instance: "young", Orchestration: "O", ExecutionID: 1}, 0))
	require.NoError(t, clock.Advance(2*time.Second)) // old's lock expires

	p.sql.AbandonOrch = strings.Replace(p.sql.AbandonOrch, "RETURNING instance_id",
		"RETURNING (SELECT instance_id FROM (SELECT "+gateWait(3)+") g)", 1)
	require.Contains(t, p.sql.AbandonOrch, "pg_advisory_xact_lock_shared")
	open := closeGate(t, 3)

	abandoned := make(chan error, 1)
	go func() { abandoned <- p.AbandonOrchestrationItem(ctx, held.LockToken, 0, false) }()
	waitFor(t, "the abandon to hold old's row", func() bool { return waiting(t, gateClass) })
	fetched := fetchAsync(ctx, p)
	waitFor(t, "the fetch to return or wait for the abandon", doneOr(fetched, func() bool {
		var n int
		require.NoError(t, testPool(t).QueryRow(ctx,
			"SELECT count(*) FROM pg_locks WHERE locktype IN ('transactionid', 'tuple') AND NOT granted").Scan(&n))
		return n > 0
	}))
	open()
	require.NoError(t, <-abandoned)
	r := <-fetched
	require.NoError(t, r.err)
	require.NotNil(t, r.item)
	require.Equal(t, "old", r.item.Instance, "the oldest eligible instance, not the one the fetch could lock at once")
}
