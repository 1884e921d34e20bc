package spec

import (
	"fmt"
	"sync"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// instanceLockingCases: a fetch locks one whole instance exclusively, with a
// fresh token, until ack, abandon or expiry; messages arriving meanwhile wait
// for the next turn; concurrent fetchers never share an instance.
func instanceLockingCases() []Case {
	return []Case{
		{"instance_locking", "exclusive_instance_lock", exclusiveInstanceLock, Required},
		{"instance_locking", "lock_token_uniqueness", lockTokenUniqueness, Required},
		{"instance_locking", "invalid_lock_token_rejection", invalidLockTokenRejection, Required},
		{"instance_locking", "concurrent_instance_fetching", concurrentInstanceFetching, Required},
		{"instance_locking", "completions_arriving_during_lock_blocked", completionsArrivingDuringLockBlocked, Required},
		{"instance_locking", "cross_instance_lock_isolation", crossInstanceLockIsolation, Required},
		{"instance_locking", "message_tagging_during_lock", messageTaggingDuringLock, Required},
		{"instance_locking", "ack_only_affects_locked_messages", ackOnlyAffectsLockedMessages, Required},
		{"instance_locking", "multi_threaded_lock_contention", multiThreadedLockContention, Required},
		{"instance_locking", "multi_threaded_no_duplicate_processing", multiThreadedNoDuplicateProcessing, Required},
		{"instance_locking", "multi_threaded_lock_expiration_recovery", multiThreadedLockExpirationRecovery, Required},
		// Not in duroxide:
		{"instance_locking", "concurrent_instance_fetching_losing_fetch_moves_on", concurrentInstanceFetchingLosingFetchMovesOn, Strict},
		{"instance_locking", "multi_threaded_lock_contention_losers_get_no_error", multiThreadedLockContentionLosersGetNoError, Strict},
	}
}

// instanceLockingFetch is the outcome of one orchestration fetch made on
// another goroutine.
type instanceLockingFetch struct {
	item *duroxide.LockedOrchestrationItem
	err  error
}

// instanceLockingConcurrentFetches runs n orchestration fetches with the given
// lock, released together, and returns their outcomes in goroutine order for
// the case goroutine to assert on.
func instanceLockingConcurrentFetches(t T, h *Harness, n int, lock time.Duration) []instanceLockingFetch {
	t.Helper()
	out := make([]instanceLockingFetch, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			item, err := h.Provider.FetchOrchestrationItem(t.Context(), lock, 0, nil)
			out[i] = instanceLockingFetch{item, err}
		})
	}
	close(start)
	wg.Wait()
	return out
}

// instanceLockingCompletionIDs returns the ids of msgs, which must all be
// ActivityCompleted items.
func instanceLockingCompletionIDs(t T, msgs []duroxide.WorkItem) []uint64 {
	t.Helper()
	ids := make([]uint64, len(msgs))
	for i, m := range msgs {
		ac, ok := m.(duroxide.ActivityCompletedItem)
		require.True(t, ok, "message %d must be ActivityCompleted, got %T", i, m)
		ids[i] = ac.ID
	}
	return ids
}

// An instance locked by a fetch cannot be fetched again until the lock
// expires; the redelivery carries a new token.
func exclusiveInstanceLock(t T, h *Harness) {
	const inst = "instance-A"
	first := startLocked(t, h, inst)

	h.Sleep(t, h.LockTimeout+h.Slack)
	second := mustFetchOrch(t, h, h.LockTimeout)
	require.NotEqual(t, first.LockToken, second.LockToken, "a redelivery must carry a new token")
	// Stronger than duroxide: the redelivery is the same instance and batch,
	// counted as the second attempt.
	require.Equal(t, inst, second.Instance)
	require.Equal(t, []duroxide.WorkItem{startItem(inst)}, second.Messages)
	require.Equal(t, uint32(1), first.AttemptCount)
	require.Equal(t, uint32(2), second.AttemptCount)
}

// Each fetch issues a token of its own, and a fetch skips locked instances.
func lockTokenUniqueness(t T, h *Harness) {
	const n = 5
	for i := range n {
		enqueueOrch(t, h, startItem(fmt.Sprintf("inst-%d", i)))
	}
	tokens := map[string]bool{}
	for i := range n {
		item := mustFetchOrch(t, h, longLock)
		tokens[item.LockToken] = true
		// Stronger than duroxide: each fetch takes the next unlocked instance
		// in order of its oldest message.
		require.Equal(t, fmt.Sprintf("inst-%d", i), item.Instance)
	}
	require.Len(t, tokens, n, "all lock tokens must be distinct")
	// Stronger than duroxide: with every instance locked there is no work.
	requireNoOrch(t, h, "all instances are locked")
}

// Ack and abandon with an unknown token fail and leave the real lock held.
func invalidLockTokenRejection(t T, h *Harness) {
	const inst = "instance-A"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)

	err := h.Provider.AckOrchestrationItem(t.Context(), "invalid-token", duroxide.OrchestrationAck{
		ExecutionID: duroxide.InitialExecutionID,
	})
	// Stronger than duroxide: both errors are the permanent
	// ErrInvalidLockToken, not just any error.
	requireInvalidTokenText(t, err, "ack with an unknown token must fail")
	err = h.Provider.AbandonOrchestrationItem(t.Context(), "invalid-token", 0, false)
	requireInvalidToken(t, err, "abandon with an unknown token must fail")

	requireNoOrch(t, h, "the real lock must still be held")
	// Stronger than duroxide: the real token still acks its batch.
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)},
		Metadata:     nameVersion(testOrch, testVersion),
	})
	require.Equal(t, []uint64{1}, eventIDs(read(t, h, inst)))
	requireNoOrch(t, h, "the batch was consumed by the ack")
}

// raceOutcome checks one concurrent orchestration fetch's outcome at the
// required level: a fetch may lose a race by returning no work or a
// retryable error (duroxide's SQLite provider does both: a lost lock upsert
// returns None, a busy database "database is locked"), never a permanent
// error. It returns the item, nil for a lost race.
func raceOutcome(t T, i int, item *duroxide.LockedOrchestrationItem, err error) *duroxide.LockedOrchestrationItem {
	t.Helper()
	if err != nil {
		require.True(t, duroxide.IsRetryable(err), "fetch %d: losing a race may only be a retryable error, got %v", i, err)
		require.Nil(t, item, "fetch %d: an error must come without an item", i)
	}
	return item
}

// Concurrent fetchers over as many instances never lock one instance twice;
// what they leave, sequential fetches take, each instance exactly once.
//
// Required: two fetchers holding one instance would run the same turn
// twice. A fetch that loses a race may come back empty or with a retryable
// error (the runtime polls again); that it moves on instead is the strict
// case concurrent_instance_fetching_losing_fetch_moves_on.
func concurrentInstanceFetching(t T, h *Harness) {
	const n = 10
	for i := range n {
		enqueueOrch(t, h, startItem(fmt.Sprintf("inst-%d", i)))
	}
	// Stronger than duroxide: the fetches start together instead of 30 ms
	// apart, so they really overlap.
	results := instanceLockingConcurrentFetches(t, h, n, longLock)
	instances := map[string]bool{}
	tokens := map[string]bool{}
	for i, r := range results {
		item := raceOutcome(t, i, r.item, r.err)
		if item == nil {
			continue
		}
		require.False(t, instances[item.Instance], "instance %s locked by two fetches", item.Instance)
		instances[item.Instance] = true
		tokens[item.LockToken] = true
	}
	require.NotEmpty(t, instances, "at least one racing fetch must lock an instance")
	require.Len(t, tokens, len(instances), "each fetch must have its own token")
	for range n + 1 {
		item := fetchOrch(t, h, longLock)
		if item == nil {
			break
		}
		require.False(t, instances[item.Instance], "instance %s is fetchable while locked", item.Instance)
		instances[item.Instance] = true
	}
	require.Len(t, instances, n, "each instance must be fetched exactly once")
}

// Not in duroxide. Strict: of concurrent fetchers over as many instances,
// every one locks an instance: a fetch that loses the race for one instance
// moves on to the next instead of returning no work or an error. Not
// required: duroxide's runtime treats an empty or retryable fetch as "poll
// again", so a losing fetch only costs a poll interval.
func concurrentInstanceFetchingLosingFetchMovesOn(t T, h *Harness) {
	const n = 10
	for i := range n {
		enqueueOrch(t, h, startItem(fmt.Sprintf("inst-%d", i)))
	}
	results := instanceLockingConcurrentFetches(t, h, n, longLock)
	instances := map[string]bool{}
	tokens := map[string]bool{}
	for i, r := range results {
		require.NoError(t, r.err, "fetch %d: losing a race is not an error", i)
		require.NotNil(t, r.item, "fetch %d found no work while instances were unlocked", i)
		instances[r.item.Instance] = true
		tokens[r.item.LockToken] = true
	}
	require.Len(t, instances, n, "each instance must be fetched exactly once")
	require.Len(t, tokens, n, "each fetch must have its own token")
	requireNoOrch(t, h, "all instances are locked")
}

// Messages arriving while an instance is locked are not fetchable; after the
// lock expires the next batch holds the old and the new messages in enqueue
// order.
func completionsArrivingDuringLockBlocked(t T, h *Harness) {
	const inst = "instance-A"
	enqueueOrch(t, h, startItem(inst))
	item1 := mustFetchOrch(t, h, h.LockTimeout)
	require.Equal(t, inst, item1.Instance)

	for i := uint64(1); i <= 3; i++ {
		enqueueOrch(t, h, completedItem(inst, i, fmt.Sprintf("result-%d", i)))
	}
	require.Nil(t, fetchOrch(t, h, h.LockTimeout), "the instance is still locked")

	h.Sleep(t, h.LockTimeout+h.Slack)
	item3 := mustFetchOrch(t, h, h.LockTimeout)
	require.Equal(t, inst, item3.Instance)
	require.Len(t, item3.Messages, 4, "StartOrchestration plus 3 completions")
	// Stronger than duroxide: the whole batch is in enqueue order (duroxide
	// checks the completions' order only), with their results intact.
	require.Equal(t, startItem(inst), item3.Messages[0])
	require.Equal(t, []uint64{1, 2, 3}, instanceLockingCompletionIDs(t, item3.Messages[1:]))
	for i, m := range item3.Messages[1:] {
		require.Equal(t, fmt.Sprintf("result-%d", i+1), m.(duroxide.ActivityCompletedItem).Result)
	}
	// Stronger than duroxide: the batch maximum counts the StartOrchestration's
	// second delivery.
	require.Equal(t, uint32(2), item3.AttemptCount)
}

// A lock on one instance does not block others, and fetch picks the instance
// with the oldest visible message.
func crossInstanceLockIsolation(t T, h *Harness) {
	const a, b = "instance-A", "instance-B"
	createInstance(t, h, a)
	createInstance(t, h, b)
	enqueueOrch(t, h, startItem(a))
	enqueueOrch(t, h, startItem(b))

	itemA := fetchInstance(t, h, a, "the instance with the oldest message comes first")
	itemB := fetchInstance(t, h, b, "a lock on A must not block B")
	// Stronger than duroxide: each batch holds only its own instance's
	// message.
	require.Equal(t, []duroxide.WorkItem{startItem(a)}, itemA.Messages)
	require.Equal(t, []duroxide.WorkItem{startItem(b)}, itemB.Messages)

	ack(t, h, itemB.LockToken, duroxide.OrchestrationAck{
		ExecutionID: duroxide.InitialExecutionID,
		Metadata:    nameVersion(testOrch, testVersion),
	})
	enqueueOrch(t, h, completedItem(b, 1, "done"))
	itemB2 := fetchInstance(t, h, b, "B is unlocked while A is still locked")
	// Stronger than duroxide: B's new batch is exactly the completion, A is
	// still locked, and A's lock still acks.
	require.Equal(t, []uint64{1}, instanceLockingCompletionIDs(t, itemB2.Messages))
	requireNoOrch(t, h, "A and B are both locked")
	ackEmpty(t, h, itemA.LockToken)
}

// An ack deletes only the messages of its own batch: one enqueued during the
// lock is delivered next.
func messageTaggingDuringLock(t T, h *Harness) {
	const inst = "instance-A"
	createInstance(t, h, inst)
	enqueueOrch(t, h, completedItem(inst, 1, "msg1"))
	enqueueOrch(t, h, completedItem(inst, 2, "msg2"))
	item := fetchInstance(t, h, inst)
	require.Len(t, item.Messages, 2)
	// Stronger than duroxide: the batch is in enqueue order.
	require.Equal(t, []uint64{1, 2}, instanceLockingCompletionIDs(t, item.Messages))

	enqueueOrch(t, h, completedItem(inst, 3, "msg3"))
	ackEmpty(t, h, item.LockToken)

	item2 := fetchInstance(t, h, inst)
	require.Equal(t, []uint64{3}, instanceLockingCompletionIDs(t, item2.Messages))
	// Stronger than duroxide: it is the message as enqueued.
	require.Equal(t, "msg3", item2.Messages[0].(duroxide.ActivityCompletedItem).Result)
}

// Messages enqueued while an instance is locked are not fetchable, survive
// the ack of the current batch, and form the next batch.
func ackOnlyAffectsLockedMessages(t T, h *Harness) {
	const inst = "instance-A"
	createInstance(t, h, inst)
	enqueueOrch(t, h, completedItem(inst, 1, "msg1"))
	item1 := mustFetchOrch(t, h, longLock)
	// Stronger than duroxide: the batch is exactly message 1.
	require.Equal(t, []uint64{1}, instanceLockingCompletionIDs(t, item1.Messages))

	enqueueOrch(t, h, completedItem(inst, 2, "msg2"))
	enqueueOrch(t, h, completedItem(inst, 3, "msg3"))
	requireNoOrch(t, h, "the instance is locked")

	ackEmpty(t, h, item1.LockToken)
	item2 := fetchInstance(t, h, inst)
	require.Equal(t, []uint64{2, 3}, instanceLockingCompletionIDs(t, item2.Messages), "only messages 2 and 3 remain")
	// Stronger than duroxide: they are the messages as enqueued, first
	// delivery each.
	require.Equal(t, "msg2", item2.Messages[0].(duroxide.ActivityCompletedItem).Result)
	require.Equal(t, "msg3", item2.Messages[1].(duroxide.ActivityCompletedItem).Result)
	require.Equal(t, uint32(1), item2.AttemptCount)
}

// Of many concurrent fetchers of one instance exactly one gets it, and only
// the winner counts an attempt.
//
// Required: a second lock holder would run the turn twice, and losers that
// counted attempts would push a healthy instance towards poison. A loser may
// see no work or a retryable error (duroxide's SQLite provider returns
// "database is locked", which the runtime backs off from); that losers see
// no error at all is the strict case
// multi_threaded_lock_contention_losers_get_no_error.
func multiThreadedLockContention(t T, h *Harness) {
	const inst = "contention-instance"
	enqueueOrch(t, h, startItem(inst))

	// Stronger than duroxide: the fetches start together instead of 5 ms
	// apart.
	results := instanceLockingConcurrentFetches(t, h, 10, longLock)
	var winner *duroxide.LockedOrchestrationItem
	wins := 0
	for i, r := range results {
		if item := raceOutcome(t, i, r.item, r.err); item != nil {
			wins++
			winner = item
		}
	}
	require.Equal(t, 1, wins, "exactly one fetch must lock the instance")
	require.Equal(t, inst, winner.Instance)
	requireNoOrch(t, h, "the instance is locked")

	// Stronger than duroxide: the losers did not count a delivery. After an
	// abandon that keeps the winner's attempt, the redelivery is attempt 2.
	require.Equal(t, uint32(1), winner.AttemptCount)
	abandonOrch(t, h, winner.LockToken, false)
	again := fetchInstance(t, h, inst)
	require.Equal(t, uint32(2), again.AttemptCount, "only the winning fetch may count an attempt")
}

// Not in duroxide. Strict: of many concurrent fetchers of one instance,
// exactly one gets it and every other one gets no work and no error. Not
// required: the runtime backs off from a retryable fetch error and polls
// again, so a "database is locked" loser only delays its next poll.
// (duroxide's own case staggers its fetches 5 ms apart, which keeps its
// SQLite provider's fetches from colliding.)
func multiThreadedLockContentionLosersGetNoError(t T, h *Harness) {
	const inst = "contention-instance"
	enqueueOrch(t, h, startItem(inst))
	results := instanceLockingConcurrentFetches(t, h, 10, longLock)
	wins := 0
	for i, r := range results {
		require.NoError(t, r.err, "fetch %d: losing a race is not an error", i)
		if r.item != nil {
			wins++
		}
	}
	require.Equal(t, 1, wins, "exactly one fetch must lock the instance")
}

// Under heavy contention (40 fetchers, 20 instances) no instance is fetched
// twice, and none is lost.
//
// Required: a twice-fetched instance runs its turn twice. Fetchers that lose
// a race may report no work while instances are unlocked (see the strict
// case concurrent_instance_fetching_losing_fetch_moves_on).
func multiThreadedNoDuplicateProcessing(t T, h *Harness) {
	const instances, fetchers = 20, 40
	all := map[string]bool{}
	for i := range instances {
		id := fmt.Sprintf("dup-test-%d", i)
		all[id] = true
		enqueueOrch(t, h, startItem(id))
	}

	// As in duroxide, a fetcher retries a retryable error up to twice
	// (immediately here). Stronger than duroxide: the fetchers start together,
	// and a permanent error fails the case instead of being dropped.
	type outcome struct {
		instance  string
		permanent error
		gaveUp    bool
	}
	out := make([]outcome, fetchers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range fetchers {
		wg.Go(func() {
			<-start
			for attempt := range 3 {
				item, err := h.Provider.FetchOrchestrationItem(t.Context(), longLock, 0, nil)
				switch {
				case err == nil && item == nil:
					out[i] = outcome{} // no work: a lost race
				case err == nil:
					out[i] = outcome{instance: item.Instance}
				case duroxide.IsRetryable(err) && attempt < 2:
					continue
				case duroxide.IsRetryable(err):
					out[i] = outcome{gaveUp: true}
				default:
					out[i] = outcome{permanent: err}
				}
				return
			}
		})
	}
	close(start)
	wg.Wait()

	fetched := map[string]bool{}
	for i, o := range out {
		require.NoError(t, o.permanent, "fetcher %d got a permanent error", i)
		if o.gaveUp {
			t.Logf("fetcher %d gave up after 3 retryable errors", i)
		}
		if o.instance == "" {
			continue
		}
		require.False(t, fetched[o.instance], "instance %s fetched twice", o.instance)
		require.True(t, all[o.instance], "fetched unknown instance %q", o.instance)
		fetched[o.instance] = true
	}
	require.LessOrEqual(t, len(fetched), instances)

	// Stronger than duroxide: no instance is lost or left locked by a failed
	// fetch: what the concurrent fetchers did not take, sequential fetches
	// still can.
	for range instances + 1 {
		item := fetchOrch(t, h, longLock)
		if item == nil {
			break
		}
		require.False(t, fetched[item.Instance], "instance %s is fetchable while locked", item.Instance)
		fetched[item.Instance] = true
	}
	require.Len(t, fetched, instances, "every instance must have been fetched exactly once")
}

// When a fetcher dies holding a lock, another fetcher is refused while the
// lock lasts and gets the instance, with a new token, once it expires.
//
// The three fetchers run on their own goroutines; the case goroutine orders
// them and lets time pass (duroxide orders them by sleeping).
func multiThreadedLockExpirationRecovery(t T, h *Harness) {
	const inst = "expiration-instance"
	enqueueOrch(t, h, startItem(inst))

	fetchOn := func(gate <-chan struct{}, res chan<- instanceLockingFetch) {
		select {
		case <-gate:
		case <-t.Context().Done(): // the case ended early
			return
		}
		item, err := h.Provider.FetchOrchestrationItem(t.Context(), h.LockTimeout, 0, nil)
		res <- instanceLockingFetch{item, err}
	}
	gate1, gate2, gate3 := make(chan struct{}), make(chan struct{}), make(chan struct{})
	res1, res2, res3 := make(chan instanceLockingFetch, 1), make(chan instanceLockingFetch, 1), make(chan instanceLockingFetch, 1)
	go fetchOn(gate1, res1)
	go fetchOn(gate2, res2)
	go fetchOn(gate3, res3)

	// T1 takes the lock and then "crashes": it never acks in time.
	close(gate1)
	r1 := <-res1
	require.NoError(t, r1.err, "T1 fetch")
	require.NotNil(t, r1.item, "T1 must lock the instance")
	require.Equal(t, inst, r1.item.Instance)

	// T2 tries while the lock is held.
	close(gate2)
	r2 := <-res2
	require.NoError(t, r2.err, "T2 fetch")
	require.Nil(t, r2.item, "the instance is locked by T1")

	// T3 tries after the lock expired.
	h.Sleep(t, h.LockTimeout+h.Slack)
	close(gate3)
	r3 := <-res3
	require.NoError(t, r3.err, "T3 fetch")
	require.NotNil(t, r3.item, "T3 must reclaim the expired lock")
	require.Equal(t, inst, r3.item.Instance)
	// Stronger than duroxide (whose token check compares with a literal):
	// T3's token is new, and T1's superseded token can no longer ack, while
	// T3's can.
	require.NotEqual(t, r1.item.LockToken, r3.item.LockToken)
	err := h.Provider.AckOrchestrationItem(t.Context(), r1.item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)},
	})
	requireInvalidToken(t, err, "T1's superseded token must not ack")
	require.Empty(t, read(t, h, inst), "the stale ack must not append history")
	ack(t, h, r3.item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)},
	})
	require.Equal(t, []uint64{1}, eventIDs(read(t, h, inst)))
}
