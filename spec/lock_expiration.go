package spec

import (
	"errors"
	"sync"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// lockExpirationCases: instance and worker locks expire by time, are released
// by ack and abandon, and are renewed only while held and unexpired.
func lockExpirationCases() []Case {
	return []Case{
		{"lock_expiration", "lock_expires_after_timeout", lockExpiresAfterTimeout, Required},
		{"lock_expiration", "abandon_releases_lock_immediately", abandonReleasesLockImmediately, Required},
		{"lock_expiration", "lock_renewal_on_ack", lockRenewalOnAck, Required},
		{"lock_expiration", "concurrent_lock_attempts_respect_expiration", concurrentLockAttemptsRespectExpiration, Required},
		{"lock_expiration", "worker_lock_renewal_success", workerLockRenewalSuccess, Required},
		{"lock_expiration", "worker_lock_renewal_invalid_token", workerLockRenewalInvalidToken, Required},
		{"lock_expiration", "worker_lock_renewal_after_expiration", workerLockRenewalAfterExpiration, Required},
		{"lock_expiration", "worker_lock_renewal_extends_timeout", workerLockRenewalExtendsTimeout, Required},
		{"lock_expiration", "worker_lock_renewal_after_ack", workerLockRenewalAfterAck, Required},
		{"lock_expiration", "abandon_work_item_releases_lock", abandonWorkItemReleasesLock, Required},
		{"lock_expiration", "abandon_work_item_with_delay", abandonWorkItemWithDelay, Required},
		{"lock_expiration", "worker_ack_fails_after_lock_expiry", workerAckFailsAfterLockExpiry, Required},
		{"lock_expiration", "orchestration_lock_renewal_after_expiration", orchestrationLockRenewalAfterExpiration, Required},
		// Not in duroxide: rules TestMutants showed no case checked.
		{"lock_expiration", "abandon_orchestration_item_with_delay", abandonOrchestrationItemWithDelay, Required},
		{"lock_expiration", "orchestration_lock_renewal_extends_from_now", orchestrationLockRenewalExtendsFromNow, Required},
		{"lock_expiration", "worker_lock_expiry_is_strict", workerLockExpiryIsStrict, Required},
		{"lock_expiration", "used_tokens_are_invalid", usedTokensAreInvalid, Required},
		{"lock_expiration", "expired_lock_errors_are_lock_expired", expiredLockErrorsAreLockExpired, Strict},
		// Not in duroxide: a clock that steps back after a call saw a lock
		// expired (only for harnesses with ClockStepsBack). Required: two
		// dispatchers that both hold one instance's (or item's) lock run
		// one turn (or activity) twice and ack conflicting results, and a
		// provider that corrupts its state on a wall-clock step stops
		// serving everyone.
		{"lock_expiration", "orchestration_lock_renewed_after_clock_step_back", orchestrationLockRenewedAfterClockStepBack, Required},
		{"lock_expiration", "orchestration_ack_after_clock_step_back", orchestrationAckAfterClockStepBack, Required},
		{"lock_expiration", "worker_lock_renewed_after_clock_step_back", workerLockRenewedAfterClockStepBack, Required},
		// Strict: duroxide's runtime survives a second dispatcher taking
		// the lock as long as only one of them can ack (the Required cases
		// above); keeping the lock held by the clock also avoids running the
		// turn or activity twice.
		{"lock_expiration", "lock_valid_again_after_clock_step_back_stays_held", lockValidAgainAfterClockStepBackStaysHeld, Strict},
	}
}

// requireTokenRefused requires the required-level answer to a call with an
// expired lock: a permanent error, either ErrLockExpired or
// ErrInvalidLockToken. duroxide's runtime only asks whether a token error is
// retryable (a failed renewal cancels the activity, a failed ack is not
// retried), so which of the two a provider names is the strict case
// expired_lock_errors_are_lock_expired.
func requireTokenRefused(t T, err error, msg string) {
	t.Helper()
	requirePermanent(t, err, msg)
	require.True(t, errors.Is(err, duroxide.ErrLockExpired) || errors.Is(err, duroxide.ErrInvalidLockToken),
		"%s: want ErrLockExpired or ErrInvalidLockToken, got %v", msg, err)
}

// lockExpRequireStart requires item to be a batch of instance's single
// StartOrchestration message.
func lockExpRequireStart(t T, item *duroxide.LockedOrchestrationItem, instance string) {
	t.Helper()
	require.Equal(t, instance, item.Instance)
	require.Len(t, item.Messages, 1, "batch must hold the one start message")
	require.Equal(t, startItem(instance), item.Messages[0])
}

// lockExpAckWork acks a worker item with an ActivityCompleted for activity 1
// of instance and requires success.
func lockExpAckWork(t T, h *Harness, token, instance string) {
	t.Helper()
	ackWork(t, h, token, completedItem(instance, 1, "done"))
}

// An instance lock expires after its lock timeout: the instance is fetched
// again with a new token and the old token can no longer ack.
func lockExpiresAfterTimeout(t T, h *Harness) {
	const inst = "instance-A"
	first := startLocked(t, h, inst)

	h.Sleep(t, h.LockTimeout+h.Slack)
	second := mustFetchOrch(t, h, h.LockTimeout)
	require.NotEqual(t, first.LockToken, second.LockToken, "redelivery must carry a new token")
	// Stronger than duroxide: the redelivered batch is the same message, and
	// the expired delivery counted as an attempt.
	lockExpRequireStart(t, second, inst)
	require.Equal(t, uint32(2), second.AttemptCount, "an expired delivery counts as an attempt")

	err := h.Provider.AckOrchestrationItem(t.Context(), first.LockToken, duroxide.OrchestrationAck{ExecutionID: 1})
	// Stronger than duroxide: the superseded token fails permanently with
	// ErrInvalidLockToken, and the failed ack leaves the new lock intact.
	requireInvalidToken(t, err, "ack with a superseded token must fail")
	require.Nil(t, fetchOrch(t, h, h.LockTimeout), "a stale ack must not release the new lock")
	ack(t, h, second.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)},
	})
	require.Equal(t, []uint64{1}, eventIDs(read(t, h, inst)))
}

// Abandon releases the instance lock at once: the instance is fetchable
// again without waiting for the lock to expire.
func abandonReleasesLockImmediately(t T, h *Harness) {
	const inst = "instance-A"
	first := startLocked(t, h, inst)

	abandonOrch(t, h, first.LockToken, false)
	second := mustFetchOrch(t, h, h.LockTimeout)
	require.Equal(t, inst, second.Instance)
	// Stronger than duroxide: the same message comes back under a new token
	// with its attempt counted, and the abandoned token can no longer ack.
	lockExpRequireStart(t, second, inst)
	require.NotEqual(t, first.LockToken, second.LockToken)
	require.Equal(t, uint32(2), second.AttemptCount)
	err := h.Provider.AckOrchestrationItem(t.Context(), first.LockToken, duroxide.OrchestrationAck{ExecutionID: 1})
	requireInvalidToken(t, err, "ack with an abandoned token must fail")
}

// A successful ack releases the instance lock at once and deletes only the
// fetched batch: a message enqueued during the lock is fetched right after.
func lockRenewalOnAck(t T, h *Harness) {
	const inst = "instance-A"
	first := startLocked(t, h, inst)

	late := startItem(inst)
	late.Input = `{"late":true}`
	enqueueOrch(t, h, late)
	require.Nil(t, fetchOrch(t, h, h.LockTimeout), "a message for a locked instance must not unlock it")

	ack(t, h, first.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)},
	})
	second := mustFetchOrch(t, h, h.LockTimeout)
	require.Equal(t, inst, second.Instance)
	// Stronger than duroxide: the new batch is exactly the message that
	// arrived during the lock, on its first delivery, with the acked history.
	require.Equal(t, []duroxide.WorkItem{late}, second.Messages, "the ack must delete only the fetched batch")
	require.Equal(t, uint32(1), second.AttemptCount, "the late message was never delivered before")
	require.Equal(t, []uint64{1}, eventIDs(second.History))
}

// While an instance lock is held, concurrent and repeated fetches all find no
// work; once the lock expires the instance is fetched again.
func concurrentLockAttemptsRespectExpiration(t T, h *Harness) {
	const inst = "instance-A"
	enqueueOrch(t, h, startItem(inst))
	first := mustFetchOrch(t, h, h.LockTimeout)

	const racers = 5
	type result struct {
		item *duroxide.LockedOrchestrationItem
		err  error
	}
	results := make([]result, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Go(func() {
			<-start
			item, err := h.Provider.FetchOrchestrationItem(t.Context(), h.LockTimeout, 0, nil)
			results[i] = result{item, err}
		})
	}
	close(start)
	wg.Wait()
	for i, r := range results {
		// A racing fetch may also answer with a retryable error (see
		// instance_locking/multi_threaded_lock_contention).
		require.Nil(t, raceOutcome(t, i, r.item, r.err), "concurrent fetch %d must not take a held lock", i)
	}

	// Staggered fetches across the lock's lifetime, up to just before expiry.
	const steps = 4
	step := (h.LockTimeout - h.Slack) / steps
	for i := range steps {
		h.Sleep(t, step)
		require.Nil(t, fetchOrch(t, h, h.LockTimeout), "fetch %d during the lock must find no work", i)
	}
	// Stronger than duroxide: in fake-clock mode the lock is reclaimable at
	// exactly its expiry instant (expiry uses a strict comparison).
	rest := h.LockTimeout - steps*step
	if !h.FakeTime() {
		rest += h.Slack
	}
	h.Sleep(t, rest)
	second := mustFetchOrch(t, h, h.LockTimeout)
	require.Equal(t, inst, second.Instance)
	require.NotEqual(t, first.LockToken, second.LockToken)
	// Stronger than duroxide: fetches that found the instance locked did not
	// count as attempts.
	require.Equal(t, uint32(2), second.AttemptCount, "only the two deliveries count as attempts")
}

// A held worker lock can be renewed, and renewal does not require the
// orchestration instance to exist.
func workerLockRenewalSuccess(t T, h *Harness) {
	const inst = "test-instance"
	enqueueWorker(t, h, activityItem(inst, 1))
	item := mustFetchWork(t, h, h.LockTimeout)
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "a locked item must not be fetched again")

	h.Sleep(t, h.Slack)
	require.NoError(t, h.Provider.RenewWorkItemLock(t.Context(), item.LockToken, h.LockTimeout), "renew_work_item_lock")
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "a renewed item must stay locked")
	// Stronger than duroxide: repeated renewal succeeds too, and the renewed
	// token still acks.
	require.NoError(t, h.Provider.RenewWorkItemLock(t.Context(), item.LockToken, h.LockTimeout), "second renew_work_item_lock")
	lockExpAckWork(t, h, item.LockToken, inst)
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "the acked item must be gone")
}

// Renewing a token that was never issued fails.
func workerLockRenewalInvalidToken(t T, h *Harness) {
	err := h.Provider.RenewWorkItemLock(t.Context(), "invalid-token-123", longLock)
	// Stronger than duroxide: the failure is permanent and ErrInvalidLockToken.
	requireInvalidToken(t, err, "renewing an unknown token must fail")
}

// An expired worker lock cannot be renewed, even when nobody re-fetched the
// item: expiry is checked by time.
func workerLockRenewalAfterExpiration(t T, h *Harness) {
	const inst = "test-instance"
	enqueueWorker(t, h, activityItem(inst, 1))
	// duroxide fetches with a fixed 1 s lock here; the harness lock timeout
	// keeps the wait past expiry valid for any LockTimeout.
	item := mustFetchWork(t, h, h.LockTimeout)

	h.Sleep(t, h.LockTimeout+h.Slack)
	err := h.Provider.RenewWorkItemLock(t.Context(), item.LockToken, h.LockTimeout)
	// Stronger than duroxide: the failure is permanent, and it does not
	// revive the lock.
	requireTokenRefused(t, err, "renewing an expired lock must fail")
	again := mustFetchWork(t, h, h.LockTimeout)
	require.NotEqual(t, item.LockToken, again.LockToken)
	require.Equal(t, uint32(2), again.AttemptCount)
}

// Renewal sets a worker lock's expiry to now+extendFor: a lock renewed before
// it expired outlives its original expiry.
func workerLockRenewalExtendsTimeout(t T, h *Harness) {
	const inst = "test-lock-renewal-extends"
	enqueueOrch(t, h, startItem(inst))
	orch := mustFetchOrch(t, h, longLock)
	activity := activityItem(inst, 1)
	// Name without version and a Running status: the ack must still succeed.
	ack(t, h, orch.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)},
		WorkerItems:  []duroxide.WorkItem{activity},
		Metadata:     duroxide.ExecutionMetadata{OrchestrationName: ptr(testOrch), Status: duroxide.StatusRunning},
	})

	item := mustFetchWork(t, h, h.LockTimeout)
	require.Equal(t, activity, item.Item)
	before := h.LockTimeout * 6 / 10
	h.Sleep(t, before)
	require.NoError(t, h.Provider.RenewWorkItemLock(t.Context(), item.LockToken, h.LockTimeout), "renew_work_item_lock")
	h.Sleep(t, h.LockTimeout-before)
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "the renewed lock must outlive its original expiry")

	// Stronger than duroxide: the new expiry is renewal time + extendFor (not
	// the old expiry + extendFor): still held just before it, free after it.
	h.Sleep(t, before-h.Slack)
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "the renewed lock must hold until renewal time + extendFor")
	h.Sleep(t, 2*h.Slack)
	again := mustFetchWork(t, h, h.LockTimeout)
	require.NotEqual(t, item.LockToken, again.LockToken)
	require.Equal(t, uint32(2), again.AttemptCount)
}

// A worker lock consumed by ack cannot be renewed.
func workerLockRenewalAfterAck(t T, h *Harness) {
	const inst = "test-instance"
	enqueueWorker(t, h, activityItem(inst, 1))
	item := mustFetchWork(t, h, h.LockTimeout)
	lockExpAckWork(t, h, item.LockToken, inst)

	err := h.Provider.RenewWorkItemLock(t.Context(), item.LockToken, h.LockTimeout)
	// Stronger than duroxide: the failure is permanent and ErrInvalidLockToken,
	// and a second ack with the token fails the same way.
	requireInvalidToken(t, err, "renewing an acked token must fail")
	err = h.Provider.AckWorkItem(t.Context(), item.LockToken, completedItem(inst, 1, "done"))
	requireInvalidToken(t, err, "acking a token twice must fail")
}

// abandon_work_item releases the worker lock at once: the item is fetched
// again with a new token.
func abandonWorkItemReleasesLock(t T, h *Harness) {
	const inst = "test-abandon-work"
	activity := activityItem(inst, 1)
	enqueueWorker(t, h, activity)
	item := mustFetchWork(t, h, h.LockTimeout)
	require.IsType(t, duroxide.ActivityExecuteItem{}, item.Item)
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "a locked item must not be fetched again")

	abandonWork(t, h, item.LockToken, false)
	again := mustFetchWork(t, h, h.LockTimeout)
	require.IsType(t, duroxide.ActivityExecuteItem{}, again.Item)
	require.NotEqual(t, item.LockToken, again.LockToken, "redelivery must carry a new token")
	// Stronger than duroxide: it is the same item with its attempt counted,
	// and the abandoned token can no longer ack.
	require.Equal(t, activity, again.Item)
	require.Equal(t, uint32(2), again.AttemptCount)
	err := h.Provider.AckWorkItem(t.Context(), item.LockToken, completedItem(inst, 1, "done"))
	requireInvalidToken(t, err, "ack with an abandoned token must fail")
	lockExpAckWork(t, h, again.LockToken, inst)
}

// abandon_work_item with a delay unlocks the item but hides it until the
// delay has passed.
func abandonWorkItemWithDelay(t T, h *Harness) {
	const inst = "test-abandon-delay"
	activity := activityItem(inst, 1)
	enqueueWorker(t, h, activity)
	item := mustFetchWork(t, h, h.LockTimeout)

	// duroxide uses 500 ms; half the lock timeout is 500 ms in real-time mode
	// and shows that the delay, not the old lock, decides visibility.
	delay := h.LockTimeout / 2
	require.NoError(t, h.Provider.AbandonWorkItem(t.Context(), item.LockToken, delay, false), "abandon_work_item")
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "an item abandoned with a delay must not be visible at once")

	// Stronger than duroxide: still hidden just before the delay ends.
	h.Sleep(t, delay-h.Slack)
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "the item must stay hidden until the delay ends")
	h.Sleep(t, 2*h.Slack)
	again := mustFetchWork(t, h, h.LockTimeout)
	require.IsType(t, duroxide.ActivityExecuteItem{}, again.Item)
	// Stronger than duroxide: same item, attempt counted.
	require.Equal(t, activity, again.Item)
	require.Equal(t, uint32(2), again.AttemptCount)
	lockExpAckWork(t, h, again.LockToken, inst)
}

// ack_work_item fails once the worker lock has expired, even when nobody
// re-fetched the item, and the item stays queued.
func workerAckFailsAfterLockExpiry(t T, h *Harness) {
	const inst = "ack-expiry-test"
	// Stronger than duroxide: the instance exists, so a completion wrongly
	// enqueued by the failed ack would be fetchable below.
	createInstance(t, h, inst)
	activity := activityItem(inst, 1)
	enqueueWorker(t, h, activity)
	// duroxide fetches with a fixed 1 s lock and sleeps 1.2 s.
	item := mustFetchWork(t, h, h.LockTimeout)

	h.Sleep(t, h.LockTimeout+h.Slack)
	err := h.Provider.AckWorkItem(t.Context(), item.LockToken, completedItem(inst, 1, "done"))
	// Stronger than duroxide: the failure is permanent, and the completion
	// was not enqueued.
	requireTokenRefused(t, err, "ack after lock expiry must fail")
	requireNoOrch(t, h, "a failed worker ack must not enqueue its completion")

	again := mustFetchWork(t, h, 5*time.Second)
	// Stronger than duroxide: it is the same item on its second delivery.
	require.Equal(t, activity, again.Item)
	require.Equal(t, uint32(2), again.AttemptCount)
	require.NotEqual(t, item.LockToken, again.LockToken)
}

// An expired instance lock cannot be renewed, even when nobody re-fetched the
// instance.
func orchestrationLockRenewalAfterExpiration(t T, h *Harness) {
	const inst = "orch-renewal-expiry"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, h.LockTimeout)

	h.Sleep(t, h.LockTimeout+h.Slack)
	err := h.Provider.RenewOrchestrationItemLock(t.Context(), item.LockToken, h.LockTimeout)
	// Stronger than duroxide: the failure is permanent, and it does not
	// revive the lock.
	requireTokenRefused(t, err, "renewing an expired instance lock must fail")
	again := mustFetchOrch(t, h, h.LockTimeout)
	require.Equal(t, inst, again.Instance)
	require.NotEqual(t, item.LockToken, again.LockToken)
}

// Not in duroxide ([duroxide.Provider.AbandonOrchestrationItem]): abandoning an orchestration item with a
// delay hides its messages until the delay has passed, then they come back
// as the same batch.
func abandonOrchestrationItemWithDelay(t T, h *Harness) {
	const inst = "abandon-delay"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)
	delay := 4 * h.Slack
	require.NoError(t, h.Provider.AbandonOrchestrationItem(t.Context(), item.LockToken, delay, false))
	require.Nil(t, fetchOrch(t, h, longLock), "abandoned messages are hidden during the delay")
	h.Sleep(t, delay-2*h.Slack)
	require.Nil(t, fetchOrch(t, h, longLock), "still hidden just before the delay ends")
	h.Sleep(t, 3*h.Slack)
	again := mustFetchOrch(t, h, longLock)
	lockExpRequireStart(t, again, inst)
	require.Equal(t, uint32(2), again.AttemptCount)
}

// Not in duroxide ([duroxide.Provider.RenewOrchestrationItemLock]): renewing
// an orchestration lock sets its
// expiry to renewal time + extend_for, not old expiry + extend_for.
func orchestrationLockRenewalExtendsFromNow(t T, h *Harness) {
	const inst = "renew-from-now"
	l := h.LockTimeout
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, l)
	h.Sleep(t, l/2)
	require.NoError(t, h.Provider.RenewOrchestrationItemLock(t.Context(), item.LockToken, l))
	// The renewed lock ends at 1.5 L (from the start), not at 2 L.
	h.Sleep(t, l-h.Slack)
	require.Nil(t, fetchOrch(t, h, l), "the renewed lock still holds just before renewal + extend_for")
	h.Sleep(t, 2*h.Slack)
	again := mustFetchOrch(t, h, l)
	require.Equal(t, inst, again.Instance, "the lock ended at renewal + extend_for")
	err := h.Provider.AckOrchestrationItem(t.Context(), item.LockToken, duroxide.OrchestrationAck{ExecutionID: 1})
	requireInvalidToken(t, err, "the first token was superseded")
}

// Not in duroxide (docs/provider-semantics.md, The lock model: expiry is
// strict): a work-item lock whose expiry equals now
// is expired: it can be neither renewed nor acked, and another fetch takes
// the item. Only a fake clock can stop exactly at the boundary; in real time
// the case checks just past it.
func workerLockExpiryIsStrict(t T, h *Harness) {
	const inst = "strict-expiry"
	enqueueWorker(t, h, activityItem(inst, 1))
	w := mustFetchWork(t, h, h.LockTimeout)
	if h.FakeTime() {
		h.Sleep(t, h.LockTimeout)
	} else {
		h.Sleep(t, h.LockTimeout+h.Slack)
	}
	err := h.Provider.RenewWorkItemLock(t.Context(), w.LockToken, h.LockTimeout)
	requireTokenRefused(t, err, "renew at the exact expiry instant")
	err = h.Provider.AckWorkItem(t.Context(), w.LockToken, nil)
	requireTokenRefused(t, err, "ack at the exact expiry instant")
	again := mustFetchWork(t, h, h.LockTimeout)
	require.Equal(t, uint32(2), again.AttemptCount, "the item is fetchable at the exact expiry instant")
}

// Not in duroxide (docs/provider-semantics.md, The lock model): once a token
// has been used by a
// successful ack or an abandon, every later ack, renew or abandon with it
// fails with ErrInvalidLockToken, on both queues.
func usedTokensAreInvalid(t T, h *Harness) {
	const inst = "used-tokens"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)},
		Metadata:     nameVersion(testOrch, testVersion),
	})
	// At once, before any other fetch could supersede it, the acked token is
	// dead.
	err := h.Provider.AckOrchestrationItem(t.Context(), item.LockToken, duroxide.OrchestrationAck{ExecutionID: 1})
	requireInvalidToken(t, err, "a second ack right after the first")
	enqueueOrch(t, h, externalItem(inst, "next"))
	next := mustFetchOrch(t, h, longLock)
	abandonOrch(t, h, next.LockToken, false)
	for _, token := range []string{item.LockToken, next.LockToken} {
		err := h.Provider.AckOrchestrationItem(t.Context(), token, duroxide.OrchestrationAck{
			ExecutionID:  1,
			HistoryDelta: []duroxide.Event{event(inst, 2, duroxide.OrchestrationCompleted{Output: "twice"})},
		})
		requireInvalidToken(t, err, "ack with a used token")
		err = h.Provider.RenewOrchestrationItemLock(t.Context(), token, longLock)
		require.ErrorIs(t, err, duroxide.ErrInvalidLockToken, "renew with a used token")
		err = h.Provider.AbandonOrchestrationItem(t.Context(), token, 0, false)
		require.ErrorIs(t, err, duroxide.ErrInvalidLockToken, "abandon with a used token")
	}
	require.Equal(t, []uint64{1}, eventIDs(read(t, h, inst)), "no used token appended history")
	fetchInstance(t, h, inst, "the abandoned batch is fetchable: no used token relocked it")

	enqueueWorker(t, h, activityItem(inst, 2))
	w := mustFetchWork(t, h, longLock)
	ackWork(t, h, w.LockToken, nil)
	for name, call := range map[string]func() error{
		"ack":     func() error { return h.Provider.AckWorkItem(t.Context(), w.LockToken, nil) },
		"renew":   func() error { return h.Provider.RenewWorkItemLock(t.Context(), w.LockToken, longLock) },
		"abandon": func() error { return h.Provider.AbandonWorkItem(t.Context(), w.LockToken, 0, false) },
	} {
		err := call()
		requireInvalidToken(t, err, "worker %s with a used token", name)
	}
}

// Not in duroxide ([duroxide.ErrLockExpired]). Strict: a known token whose
// lock expired
// (and was not taken by another fetch) fails with ErrLockExpired, on both
// queues, for ack and renew; a token used by an ack fails with
// ErrInvalidLockToken. Not required: duroxide's runtime only asks whether a
// token error is retryable (a failed worker renewal cancels the activity,
// a failed ack is given up), and duroxide's SQLite provider reports both as
// one permanent "invalid, expired, or already acked" error.
func expiredLockErrorsAreLockExpired(t T, h *Harness) {
	const inst = "expired-kinds"
	enqueueOrch(t, h, startItem(inst))
	orch := mustFetchOrch(t, h, h.LockTimeout)
	enqueueWorker(t, h, activityItem(inst, 1))
	work := mustFetchWork(t, h, h.LockTimeout)
	h.Sleep(t, h.LockTimeout+h.Slack)

	err := h.Provider.RenewOrchestrationItemLock(t.Context(), orch.LockToken, h.LockTimeout)
	requirePermanentIs(t, err, duroxide.ErrLockExpired, "orchestration renew after expiry")
	err = h.Provider.AckOrchestrationItem(t.Context(), orch.LockToken, duroxide.OrchestrationAck{ExecutionID: 1})
	requirePermanentIs(t, err, duroxide.ErrLockExpired, "orchestration ack after expiry")
	err = h.Provider.RenewWorkItemLock(t.Context(), work.LockToken, h.LockTimeout)
	requirePermanentIs(t, err, duroxide.ErrLockExpired, "worker renew after expiry")
	err = h.Provider.AckWorkItem(t.Context(), work.LockToken, nil)
	requirePermanentIs(t, err, duroxide.ErrLockExpired, "worker ack after expiry")

	again := mustFetchWork(t, h, h.LockTimeout)
	ackWork(t, h, again.LockToken, nil)
	err = h.Provider.RenewWorkItemLock(t.Context(), again.LockToken, h.LockTimeout)
	requireInvalidToken(t, err, "worker renew after ack")
	err = h.Provider.AckWorkItem(t.Context(), again.LockToken, nil)
	requireInvalidToken(t, err, "worker ack after ack")
}

// expireThenStepBack lets the lock taken at the case's start (for
// h.LockTimeout) expire, runs seeExpired (a call that sees it expired but
// does not take what it holds), then steps the clock back so that half of
// the lock is left again.
func expireThenStepBack(t T, h *Harness, seeExpired func()) {
	t.Helper()
	h.Sleep(t, h.LockTimeout+h.Slack)
	seeExpired()
	require.NoError(t, h.Clock.StepBack(h.LockTimeout/2+h.Slack))
}

// noVersions is a capability filter that accepts no instance.
func noVersions() *duroxide.DispatcherCapabilityFilter {
	return &duroxide.DispatcherCapabilityFilter{SupportedDuroxideVersions: []duroxide.SemverRange{}}
}

// orchSeeExpired is a fetch that matches nothing; a provider may promote
// expired locks on the way.
func orchSeeExpired(t T, h *Harness) func() {
	return func() {
		item, err := h.Provider.FetchOrchestrationItem(t.Context(), longLock, 0, noVersions())
		require.NoError(t, err)
		require.Nil(t, item, "a filter with no versions matches nothing")
	}
}

// stepBackAfterwards requires the provider to keep working once every lock
// has run out: nothing is left held or fetchable, and new work flows.
func stepBackAfterwards(t T, h *Harness, instance string) {
	t.Helper()
	h.Sleep(t, 2*longLock)
	requireNoOrch(t, h, "every batch was acked")
	require.Nil(t, fetchWork(t, h, longLock), "every work item was acked")
	enqueueOrch(t, h, startItem(instance))
	fetchInstance(t, h, instance, "new work must be fetchable after the clock stepped back")
}

// An instance lock that a call saw expired, then valid again because the
// clock stepped back: if its holder's renew succeeds, nobody else may fetch
// the instance and the holder's ack succeeds; if the renew fails (lock
// expired or token invalid), whoever fetches the instance next is its only
// holder. Either way the provider keeps working.
func orchestrationLockRenewedAfterClockStepBack(t T, h *Harness) {
	h.RequireClockStepsBack(t)
	const inst = "stepback-renew"
	first := startLocked(t, h, inst)
	expireThenStepBack(t, h, orchSeeExpired(t, h))
	started := duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)}, Metadata: nameVersion(testOrch, testVersion)}
	if err := h.Provider.RenewOrchestrationItemLock(t.Context(), first.LockToken, h.LockTimeout); err != nil {
		requireLostLock(t, err)
		second := fetchInstance(t, h, inst, "the instance of a lost lock must be fetchable")
		require.Error(t, h.Provider.AckOrchestrationItem(t.Context(), first.LockToken, started), "the lost lock must not ack")
		ack(t, h, second.LockToken, started)
	} else {
		requireNoOrch(t, h, "a renewed lock is held: nobody else may fetch its instance")
		ack(t, h, first.LockToken, started)
	}
	require.Equal(t, []uint64{1}, eventIDs(read(t, h, inst)), "exactly one holder acked")
	stepBackAfterwards(t, h, "stepback-renew-next")
}

// As orchestrationLockRenewedAfterClockStepBack, without a renew: at most
// one of the holder and a dispatcher fetching after the step back may ack.
func orchestrationAckAfterClockStepBack(t T, h *Harness) {
	h.RequireClockStepsBack(t)
	const inst = "stepback-ack"
	first := startLocked(t, h, inst)
	expireThenStepBack(t, h, orchSeeExpired(t, h))
	started := duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)}, Metadata: nameVersion(testOrch, testVersion)}
	if rival := fetchOrch(t, h, longLock); rival != nil {
		require.Error(t, h.Provider.AckOrchestrationItem(t.Context(), first.LockToken, started), "two holders of one instance lock: the superseded one must not ack")
		ack(t, h, rival.LockToken, started)
	} else {
		ack(t, h, first.LockToken, started)
	}
	require.Equal(t, []uint64{1}, eventIDs(read(t, h, inst)), "exactly one holder acked")
	stepBackAfterwards(t, h, "stepback-ack-next")
}

// As orchestrationLockRenewedAfterClockStepBack, for a worker item lock
// seen expired by a worker fetch for another tag.
func workerLockRenewedAfterClockStepBack(t T, h *Harness) {
	h.RequireClockStepsBack(t)
	const inst = "stepback-work"
	createInstance(t, h, inst) // so that the completion is a turn of a started instance
	enqueueWorker(t, h, activityItem(inst, 1))
	first := mustFetchWork(t, h, h.LockTimeout)
	elsewhere, err := duroxide.FilterTags("elsewhere")
	require.NoError(t, err)
	expireThenStepBack(t, h, func() {
		item, err := h.Provider.FetchWorkItem(t.Context(), longLock, 0, nil, elsewhere)
		require.NoError(t, err)
		require.Nil(t, item, "no item has the tag")
	})
	done := completedItem(inst, 1, "done")
	if err := h.Provider.RenewWorkItemLock(t.Context(), first.LockToken, h.LockTimeout); err != nil {
		requireLostLock(t, err)
		second := mustFetchWork(t, h, longLock)
		require.Error(t, h.Provider.AckWorkItem(t.Context(), first.LockToken, done), "the lost lock must not ack")
		ackWork(t, h, second.LockToken, done)
	} else {
		require.Nil(t, fetchWork(t, h, longLock), "a renewed lock is held: nobody else may fetch its item")
		ackWork(t, h, first.LockToken, done)
	}
	item := mustFetchOrch(t, h, longLock)
	require.Equal(t, []duroxide.WorkItem{done}, item.Messages, "exactly one holder acked")
	ackEmpty(t, h, item.LockToken)
	stepBackAfterwards(t, h, "stepback-work-next")
}

// An instance lock and a worker lock that calls saw expired, then valid
// again because the clock stepped back, are held again without a renew:
// nobody else may fetch them until they expire by the clock, and their
// holders' acks succeed. Not required: duroxide's runtime survives a second
// dispatcher taking the lock as long as only one of them can ack, which the
// required step-back cases check.
func lockValidAgainAfterClockStepBackStaysHeld(t T, h *Harness) {
	h.RequireClockStepsBack(t)
	const inst = "stepback-held"
	createInstance(t, h, inst)
	enqueueWorker(t, h, activityItem(inst, 1))
	enqueueOrch(t, h, externalItem(inst, "ping"))
	orch := mustFetchOrch(t, h, h.LockTimeout)
	work := mustFetchWork(t, h, h.LockTimeout)
	elsewhere, err := duroxide.FilterTags("elsewhere")
	require.NoError(t, err)
	expireThenStepBack(t, h, func() {
		orchSeeExpired(t, h)()
		item, err := h.Provider.FetchWorkItem(t.Context(), longLock, 0, nil, elsewhere)
		require.NoError(t, err)
		require.Nil(t, item, "no item has the tag")
	})
	requireNoOrch(t, h, "the instance lock is valid again by the clock")
	require.Nil(t, fetchWork(t, h, longLock), "the work item lock is valid again by the clock")
	ackEmpty(t, h, orch.LockToken)
	ackWork(t, h, work.LockToken, nil)
	stepBackAfterwards(t, h, "stepback-held-next")
}

// requireLostLock requires err to be the permanent error of a lock that is
// no longer held: expired, or its token invalid.
func requireLostLock(t T, err error) {
	t.Helper()
	requirePermanent(t, err, "a failed renew must be permanent")
	require.True(t, errors.Is(err, duroxide.ErrLockExpired) || errors.Is(err, duroxide.ErrInvalidLockToken),
		"a failed renew must say the lock expired or the token is invalid, got %v", err)
}
