package spec

import (
	"fmt"
	"sync"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// sessionsCases: session affinity in the worker queue. A session-aware fetch
// claims or refreshes a session lease for its owner id; while the lease is
// active only that owner gets the session's items. Leases are renewed only
// for non-idle sessions, lapse on their own, and expired sessions no item
// references are swept. Session leases and item locks are independent.
//
// Short leases are h.LockTimeout and waits past them h.LockTimeout+h.Slack;
// leases, locks and idle windows that must not lapse are sessionsLong.
func sessionsCases() []Case {
	return []Case{
		{"sessions", "non_session_items_fetchable_by_any_worker", nonSessionItemsFetchableByAnyWorker, Required},
		{"sessions", "session_item_claimable_when_no_session", sessionItemClaimableWhenNoSession, Required},
		{"sessions", "session_affinity_same_worker", sessionAffinitySameWorker, Required},
		{"sessions", "session_affinity_blocks_other_worker", sessionAffinityBlocksOtherWorker, Required},
		{"sessions", "different_sessions_different_workers", differentSessionsDifferentWorkers, Required},
		{"sessions", "mixed_session_and_non_session_items", mixedSessionAndNonSessionItems, Required},
		{"sessions", "session_claimable_after_lock_expiry", sessionClaimableAfterLockExpiry, Required},
		{"sessions", "none_session_skips_session_items", noneSessionSkipsSessionItems, Required},
		{"sessions", "some_session_returns_all_items", someSessionReturnsAllItems, Required},
		{"sessions", "renew_session_lock_active", renewSessionLockActive, Required},
		{"sessions", "renew_session_lock_skips_idle", renewSessionLockSkipsIdle, Required},
		{"sessions", "renew_session_lock_no_sessions", renewSessionLockNoSessions, Required},
		{"sessions", "cleanup_removes_expired_no_items", cleanupRemovesExpiredNoItems, Required},
		{"sessions", "cleanup_keeps_sessions_with_pending_items", cleanupKeepsSessionsWithPendingItems, Required},
		{"sessions", "cleanup_keeps_active_sessions", cleanupKeepsActiveSessions, Required},
		{"sessions", "ack_updates_session_last_activity", ackUpdatesSessionLastActivity, Required},
		{"sessions", "renew_work_item_updates_session_last_activity", renewWorkItemUpdatesSessionLastActivity, Required},
		{"sessions", "session_items_processed_in_order", sessionItemsProcessedInOrder, Required},
		{"sessions", "non_session_items_returned_with_session_config", nonSessionItemsReturnedWithSessionConfig, Required},
		{"sessions", "shared_worker_id_any_caller_can_fetch_owned_session", sharedWorkerIDAnyCallerCanFetchOwnedSession, Required},
		{"sessions", "concurrent_session_claim_only_one_wins", concurrentSessionClaimOnlyOneWins, Required},
		{"sessions", "session_takeover_after_lock_expiry", sessionTakeoverAfterLockExpiry, Required},
		{"sessions", "cleanup_then_new_item_recreates_session", cleanupThenNewItemRecreatesSession, Required},
		{"sessions", "abandoned_session_item_retryable", abandonedSessionItemRetryable, Required},
		{"sessions", "abandoned_session_item_ignore_attempt", abandonedSessionItemIgnoreAttempt, Required},
		{"sessions", "renew_session_lock_after_expiry_returns_zero", renewSessionLockAfterExpiryReturnsZero, Required},
		{"sessions", "original_worker_reclaims_expired_session", originalWorkerReclaimsExpiredSession, Required},
		{"sessions", "activity_lock_expires_session_lock_valid_same_worker_refetches", activityLockExpiresSessionLockValidSameWorkerRefetches, Required},
		{"sessions", "session_lock_expires_new_owner_gets_redelivery", sessionLockExpiresNewOwnerGetsRedelivery, Required},
		{"sessions", "session_lock_expires_same_worker_reacquires", sessionLockExpiresSameWorkerReacquires, Required},
		{"sessions", "both_locks_expire_different_worker_claims", bothLocksExpireDifferentWorkerClaims, Required},
		{"sessions", "session_lock_expires_activity_lock_valid_ack_succeeds", sessionLockExpiresActivityLockValidAckSucceeds, Required},
		{"sessions", "session_lock_renewal_extends_past_original_timeout", sessionLockRenewalExtendsPastOriginalTimeout, Required},
		// Not in duroxide:
		{"sessions", "owner_fetch_refreshes_session_lease", ownerFetchRefreshesSessionLease, Required},
		{"sessions", "owner_fetch_refreshes_session_last_activity", ownerFetchRefreshesSessionLastActivity, Required},
		{"sessions", "session_lease_expiry_is_strict", sessionLeaseExpiryIsStrict, Required},
		{"sessions", "renew_session_lock_idle_check_is_strict", renewSessionLockIdleCheckIsStrict, Required},
		{"sessions", "renew_session_lock_counts_listed_owners_only", renewSessionLockCountsListedOwnersOnly, Required},
		{"sessions", "renewed_session_lease_ends_at_renewal_plus_extend", renewedSessionLeaseEndsAtRenewalPlusExtend, Required},
		{"sessions", "cleanup_counts_exactly_across_owners", cleanupCountsExactlyAcrossOwners, Required},
		{"sessions", "former_owner_activity_refreshes_active_session", formerOwnerActivityRefreshesActiveSession, Required},
		{"sessions", "session_and_tag_filters_compose", sessionAndTagFiltersCompose, Required},
		{"sessions", "session_invalid_arguments", sessionInvalidArguments, Required},
		{"sessions", "concurrent_session_claim_losers_get_no_error", concurrentSessionClaimLosersGetNoError, Strict},
		{"sessions", "session_empty_owner_id_rejected", sessionEmptyOwnerIDRejected, Strict},
		// Not in duroxide: a clock that steps back after a call saw a lease
		// expired (only for harnesses with ClockStepsBack). Required: two
		// owners of one session run its activities on two workers, which
		// session affinity exists to prevent.
		{"sessions", "session_renewed_after_clock_step_back", sessionRenewedAfterClockStepBack, Required},
	}
}

// sessionsItem is duroxide's session_activity: a session-bound
// ActivityExecute of execution 1 named "SessionActivity".
func sessionsItem(instance string, id uint64, session string) duroxide.ActivityExecuteItem {
	a := activityItem(instance, id)
	a.Name = "SessionActivity"
	a.SessionID = ptr(session)
	return a
}

// sessionsPlain is duroxide's plain_activity: a session-less ActivityExecute
// of execution 1 named "PlainActivity".
func sessionsPlain(instance string, id uint64) duroxide.ActivityExecuteItem {
	a := activityItem(instance, id)
	a.Name = "PlainActivity"
	return a
}

// sessionsLong is a lease, lock or idle window that no case outlives: longer
// than any wait a case makes, in either time mode.
func sessionsLong(h *Harness) time.Duration { return max(longLock, 10*h.LockTimeout) }

// sessionsCfg is a session fetch config for owner with the given lease.
func sessionsCfg(owner string, lease time.Duration) *duroxide.SessionFetchConfig {
	return &duroxide.SessionFetchConfig{OwnerID: owner, LockTimeout: lease}
}

// sessionsFetch fetches a worker item with lock, no poll, the session config
// (nil: no session) and DefaultOnly; nil means no work.
func sessionsFetch(t T, h *Harness, lock time.Duration, cfg *duroxide.SessionFetchConfig) *duroxide.LockedWorkItem {
	t.Helper()
	item, err := h.Provider.FetchWorkItem(t.Context(), lock, 0, cfg, duroxide.FilterDefaultOnly())
	require.NoError(t, err, "fetch_work_item(session=%+v)", cfg)
	return item
}

// sessionsFetchAs fetches as owner with a long work lock and a long lease.
func sessionsFetchAs(t T, h *Harness, owner string) *duroxide.LockedWorkItem {
	t.Helper()
	return sessionsFetch(t, h, sessionsLong(h), sessionsCfg(owner, sessionsLong(h)))
}

// sessionsRequireItem requires got to be exactly want with attempt count
// attempts.
func sessionsRequireItem(t T, got *duroxide.LockedWorkItem, want duroxide.ActivityExecuteItem, attempts uint32, msgAndArgs ...any) {
	t.Helper()
	require.NotNil(t, got, msgAndArgs...)
	require.Equal(t, want, got.Item, msgAndArgs...)
	require.Equal(t, attempts, got.AttemptCount, msgAndArgs...)
}

// sessionsRequireNone requires a fetch to have found no work.
func sessionsRequireNone(t T, got *duroxide.LockedWorkItem, msg string) {
	t.Helper()
	if got != nil {
		require.Nil(t, got, "%s; got %+v", msg, got.Item)
	}
}

// sessionsIdleClaim has worker-A fetch (and keep locked) item 1 of
// instance inst-1 in session, waits past an idle window of the lock timeout,
// and requires renew_session_lock with that window to find the session idle.
// It returns the held item and the window.
func sessionsIdleClaim(t T, h *Harness, session string) (*duroxide.LockedWorkItem, time.Duration) {
	t.Helper()
	item := sessionsItem("inst-1", 1, session)
	enqueueWorker(t, h, item)
	got := sessionsFetchAs(t, h, "worker-A")
	sessionsRequireItem(t, got, item, 1)
	idle := h.LockTimeout
	h.Sleep(t, idle+h.Slack)
	require.Equal(t, 0, sessionsRenew(t, h, sessionsLong(h), idle, "worker-A"), "the claim's activity must be stale")
	return got, idle
}

// sessionsClaim enqueues item, fetches it with cfg and a long work lock,
// requires it to be item and acks it: cfg's owner now holds item's session.
func sessionsClaim(t T, h *Harness, item duroxide.ActivityExecuteItem, cfg *duroxide.SessionFetchConfig) {
	t.Helper()
	enqueueWorker(t, h, item)
	got := sessionsFetch(t, h, sessionsLong(h), cfg)
	sessionsRequireItem(t, got, item, 1, "claim of session %q by %q", *item.SessionID, cfg.OwnerID)
	ackWork(t, h, got.LockToken, nil)
}

// sessionsRenew calls renew_session_lock and returns its count.
func sessionsRenew(t T, h *Harness, extendFor, idle time.Duration, owners ...string) int {
	t.Helper()
	n, err := h.Provider.RenewSessionLock(t.Context(), owners, extendFor, idle)
	require.NoError(t, err, "renew_session_lock(%q)", owners)
	return n
}

// sessionsCleanup calls cleanup_orphaned_sessions and returns its count.
func sessionsCleanup(t T, h *Harness) int {
	t.Helper()
	n, err := h.Provider.CleanupOrphanedSessions(t.Context(), sessionsLong(h))
	require.NoError(t, err, "cleanup_orphaned_sessions")
	return n
}

// sessionsPastLease lets a lease of h.LockTimeout lapse.
func sessionsPastLease(t T, h *Harness) {
	t.Helper()
	h.Sleep(t, h.LockTimeout+h.Slack)
}

// A session-aware fetch returns items without a session.
func nonSessionItemsFetchableByAnyWorker(t T, h *Harness) {
	plain := sessionsPlain("inst-1", 1)
	enqueueWorker(t, h, plain)
	got := sessionsFetchAs(t, h, "worker-A")
	// Stronger than duroxide: the item comes back unchanged, and fetching a
	// session-less item claims no session.
	sessionsRequireItem(t, got, plain, 1)
	require.Equal(t, 0, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-A"),
		"a session-less item must not create a session")
}

// A session item whose session has no owner is claimable, and keeps its
// session id.
func sessionItemClaimableWhenNoSession(t T, h *Harness) {
	item := sessionsItem("inst-1", 1, "session-1")
	enqueueWorker(t, h, item)
	got := sessionsFetchAs(t, h, "worker-A")
	sessionsRequireItem(t, got, item, 1)
	// Stronger than duroxide: the fetch claimed the session for worker-A.
	require.Equal(t, 1, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-A"),
		"the fetch must have claimed session-1 for worker-A")
	require.Equal(t, 0, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-B"))
}

// The owner of a session gets the session's later items.
func sessionAffinitySameWorker(t T, h *Harness) {
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "session-1"), sessionsCfg("worker-A", sessionsLong(h)))
	second := sessionsItem("inst-1", 2, "session-1")
	enqueueWorker(t, h, second)
	// Stronger than duroxide: it is exactly the second item.
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-A"), second, 1)
}

// Ownership outlives the acked item: another owner gets nothing of the
// session while the lease is active.
func sessionAffinityBlocksOtherWorker(t T, h *Harness) {
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "session-1"), sessionsCfg("worker-A", sessionsLong(h)))
	second := sessionsItem("inst-1", 2, "session-1")
	enqueueWorker(t, h, second)
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-B"), "another owner must not fetch an owned session's item")
	// Stronger than duroxide: the item was there all along, for its owner.
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-A"), second, 1)
}

// Two owners each hold their own session and get only its items.
func differentSessionsDifferentWorkers(t T, h *Harness) {
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "session-1"), sessionsCfg("worker-A", sessionsLong(h)))
	sessionsClaim(t, h, sessionsItem("inst-2", 1, "session-2"), sessionsCfg("worker-B", sessionsLong(h)))
	s1, s2 := sessionsItem("inst-1", 2, "session-1"), sessionsItem("inst-2", 2, "session-2")
	enqueueWorker(t, h, s1)
	enqueueWorker(t, h, s2)
	// Stronger than duroxide: B is asked first, so it must skip the older
	// item of A's session; each fetch returns exactly its session's item.
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-B"), s2, 1, "worker-B must get session-2's item")
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-A"), s1, 1, "worker-A must get session-1's item")
}

// An item of another owner's session at the head of the queue is skipped,
// not a blocker: a later plain item is returned.
func mixedSessionAndNonSessionItems(t T, h *Harness) {
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "session-1"), sessionsCfg("worker-A", sessionsLong(h)))
	owned := sessionsItem("inst-1", 2, "session-1")
	plain := sessionsPlain("inst-2", 1)
	enqueueWorker(t, h, owned)
	enqueueWorker(t, h, plain)
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-B"), plain, 1, "worker-B must get the plain item")
	// Stronger than duroxide: B gets nothing more, and A gets its item.
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-B"), "worker-B must not get session-1's item")
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-A"), owned, 1)
}

// Once the lease lapses another owner can claim the session.
func sessionClaimableAfterLockExpiry(t T, h *Harness) {
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "session-1"), sessionsCfg("worker-A", h.LockTimeout))
	sessionsPastLease(t, h)
	second := sessionsItem("inst-1", 2, "session-1")
	enqueueWorker(t, h, second)
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-B"), second, 1, "worker-B must claim the expired session")
	// Stronger than duroxide: the claim moved ownership to worker-B.
	third := sessionsItem("inst-1", 3, "session-1")
	enqueueWorker(t, h, third)
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-A"), "worker-A lost session-1 to worker-B")
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-B"), third, 1)
}

// A fetch without a session config never returns session items, not even
// unclaimed ones; a session-aware fetch then does.
func noneSessionSkipsSessionItems(t T, h *Harness) {
	sess := sessionsItem("inst-1", 1, "session-1")
	plain := sessionsPlain("inst-2", 2)
	enqueueWorker(t, h, sess)
	enqueueWorker(t, h, plain)

	got := fetchWork(t, h, sessionsLong(h))
	sessionsRequireItem(t, got, plain, 1, "a session-less fetch must skip the session item")
	ackWork(t, h, got.LockToken, nil)
	sessionsRequireNone(t, fetchWork(t, h, sessionsLong(h)), "a session item must be invisible to a session-less fetch")
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-A"), sess, 1)
}

// A session-aware fetch returns claimable session items and plain items in
// one FIFO order; one owner may hold any number of sessions.
func someSessionReturnsAllItems(t T, h *Harness) {
	want := []duroxide.ActivityExecuteItem{
		sessionsItem("inst-1", 1, "sess-A"),
		sessionsItem("inst-2", 2, "sess-B"),
		sessionsItem("inst-3", 3, "sess-C"),
		sessionsPlain("inst-4", 4),
	}
	for _, w := range want {
		enqueueWorker(t, h, w)
	}
	for i, w := range want {
		got := sessionsFetchAs(t, h, "shared-proc")
		// Stronger than duroxide: whole items, not only ids.
		sessionsRequireItem(t, got, w, 1, "fetch %d must follow FIFO order", i)
		ackWork(t, h, got.LockToken, nil)
	}
	sessionsRequireNone(t, sessionsFetchAs(t, h, "shared-proc"), "the queue must be empty")
	// Stronger than duroxide: the one owner holds all three sessions.
	require.Equal(t, 3, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "shared-proc"))
}

// renew_session_lock counts every active, non-idle session of the owner.
func renewSessionLockActive(t T, h *Harness) {
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "session-1"), sessionsCfg("worker-A", h.LockTimeout))
	require.Equal(t, 1, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-A"))
	sessionsClaim(t, h, sessionsItem("inst-2", 1, "session-2"), sessionsCfg("worker-A", sessionsLong(h)))
	require.Equal(t, 2, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-A"))
	// Stronger than duroxide: only the listed owner's sessions count, and the
	// renewal really extended session-1's short lease.
	require.Equal(t, 0, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-B"))
	sessionsPastLease(t, h)
	enqueueWorker(t, h, sessionsItem("inst-1", 2, "session-1"))
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-B"), "the renewed session must still be worker-A's")
}

// An idle window of 0 makes every session idle: renew skips it.
func renewSessionLockSkipsIdle(t T, h *Harness) {
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "session-1"), sessionsCfg("worker-A", h.LockTimeout))
	require.Equal(t, 0, sessionsRenew(t, h, sessionsLong(h), 0, "worker-A"), "idle_timeout 0 must skip every session")
	// Stronger than duroxide: the skipped session was not extended; its
	// lease lapses and another owner claims it.
	sessionsPastLease(t, h)
	second := sessionsItem("inst-1", 2, "session-1")
	enqueueWorker(t, h, second)
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-B"), second, 1, "an idle session must not have been renewed")
}

// renew_session_lock on a store without sessions returns 0.
func renewSessionLockNoSessions(t T, h *Harness) {
	require.Equal(t, 0, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-A"))
	// Stronger than duroxide: an empty owner list and an empty cleanup are 0
	// too.
	require.Equal(t, 0, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h)))
	require.Equal(t, 0, sessionsCleanup(t, h))
}

// Cleanup deletes an expired session no item references, and counts it.
func cleanupRemovesExpiredNoItems(t T, h *Harness) {
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "session-1"), sessionsCfg("worker-A", h.LockTimeout))
	sessionsPastLease(t, h)
	require.Equal(t, 1, sessionsCleanup(t, h), "cleanup must delete the expired session")
	// Stronger than duroxide: it is really gone.
	require.Equal(t, 0, sessionsCleanup(t, h), "a second cleanup must find nothing")
}

// A queued item protects its expired session from cleanup.
func cleanupKeepsSessionsWithPendingItems(t T, h *Harness) {
	cfgA := sessionsCfg("worker-A", h.LockTimeout)
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "session-1"), cfgA)
	pending := sessionsItem("inst-1", 2, "session-1")
	enqueueWorker(t, h, pending)
	sessionsPastLease(t, h)
	require.Equal(t, 0, sessionsCleanup(t, h), "a pending item must protect its session")

	// Stronger than duroxide: a fetched, locked item protects it as well
	// (a session is orphaned only when no worker item of it is queued or
	// locked), and once the item is
	// acked the expired session is swept.
	got := sessionsFetch(t, h, sessionsLong(h), cfgA)
	sessionsRequireItem(t, got, pending, 1)
	sessionsPastLease(t, h)
	require.Equal(t, 0, sessionsCleanup(t, h), "a locked item must protect its session")
	ackWork(t, h, got.LockToken, nil)
	require.Equal(t, 1, sessionsCleanup(t, h), "with no item left the expired session must be swept")
}

// Cleanup keeps a session whose lease is active.
func cleanupKeepsActiveSessions(t T, h *Harness) {
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "session-1"), sessionsCfg("worker-A", sessionsLong(h)))
	require.Equal(t, 0, sessionsCleanup(t, h))
	// Stronger than duroxide: the session is still worker-A's.
	second := sessionsItem("inst-1", 2, "session-1")
	enqueueWorker(t, h, second)
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-B"), "cleanup must not release an active session")
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-A"), second, 1)
}

// ack_work_item of a session item refreshes the session's last activity, so
// a tight idle window counts it as active.
func ackUpdatesSessionLastActivity(t T, h *Harness) {
	// Stronger than duroxide: without the ack the session is idle, so the
	// final count is not vacuous.
	got, idle := sessionsIdleClaim(t, h, "session-1")
	ackWork(t, h, got.LockToken, completedItem("inst-1", 1, "ok"))
	require.Equal(t, 1, sessionsRenew(t, h, sessionsLong(h), idle, "worker-A"),
		"ack_work_item must refresh the session's last activity")
}

// renew_work_item_lock of a session item refreshes the session's last
// activity.
func renewWorkItemUpdatesSessionLastActivity(t T, h *Harness) {
	// Stronger than duroxide: without the renewal the session is idle.
	got, idle := sessionsIdleClaim(t, h, "session-1")
	require.NoError(t, h.Provider.RenewWorkItemLock(t.Context(), got.LockToken, sessionsLong(h)), "renew_work_item_lock")
	require.Equal(t, 1, sessionsRenew(t, h, sessionsLong(h), idle, "worker-A"),
		"renew_work_item_lock must refresh the session's last activity")
}

// The items of one session reach their owner in enqueue order.
func sessionItemsProcessedInOrder(t T, h *Harness) {
	for id := uint64(1); id <= 3; id++ {
		enqueueWorker(t, h, sessionsItem("inst-1", id, "session-1"))
	}
	for id := uint64(1); id <= 3; id++ {
		got := sessionsFetchAs(t, h, "worker-A")
		sessionsRequireItem(t, got, sessionsItem("inst-1", id, "session-1"), 1, "session items must come in FIFO order")
		ackWork(t, h, got.LockToken, nil)
	}
	// Stronger than duroxide: nothing is left.
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-A"), "all three items were acked")
}

// An owner of a session still gets session-less items.
func nonSessionItemsReturnedWithSessionConfig(t T, h *Harness) {
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "session-1"), sessionsCfg("worker-A", sessionsLong(h)))
	plain := sessionsPlain("inst-2", 1)
	enqueueWorker(t, h, plain)
	// Stronger than duroxide: exactly the plain item.
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-A"), plain, 1)
}

// Ownership belongs to the owner id: every caller with that id gets the
// session's items, other ids do not.
func sharedWorkerIDAnyCallerCanFetchOwnedSession(t T, h *Harness) {
	i1, i2 := sessionsItem("inst-1", 1, "shared-sess"), sessionsItem("inst-1", 2, "shared-sess")
	enqueueWorker(t, h, i1)
	enqueueWorker(t, h, i2)
	first := sessionsFetchAs(t, h, "process-1")
	sessionsRequireItem(t, first, i1, 1)
	// Stronger than duroxide: the second slot fetches while the first still
	// holds its item (duroxide acks in between).
	second := sessionsFetchAs(t, h, "process-1")
	sessionsRequireItem(t, second, i2, 1, "a second slot with the same owner id must get the next item")
	ackWork(t, h, first.LockToken, nil)
	ackWork(t, h, second.LockToken, nil)

	i3 := sessionsItem("inst-1", 3, "shared-sess")
	enqueueWorker(t, h, i3)
	sessionsRequireNone(t, sessionsFetchAs(t, h, "process-2"), "another owner id must not get an owned session's item")
	// Stronger than duroxide: the owner id still gets it.
	sessionsRequireItem(t, sessionsFetchAs(t, h, "process-1"), i3, 1)
}

// Of the owners competing for one unclaimed session exactly one gets its
// items.
func concurrentSessionClaimOnlyOneWins(t T, h *Harness) {
	i1, i2 := sessionsItem("inst-1", 1, "contested-sess"), sessionsItem("inst-1", 2, "contested-sess")
	enqueueWorker(t, h, i1)
	enqueueWorker(t, h, i2)
	a := sessionsFetchAs(t, h, "worker-A")
	sessionsRequireItem(t, a, i1, 1)
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-B"), "worker-B must not get a session worker-A holds")
	ackWork(t, h, a.LockToken, nil)
	// Stronger than duroxide: the ack does not release the session.
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-B"), "acking the item must not release the session")

	// Stronger than duroxide (its case is sequential): owners really race.
	// Exactly one wins; the losers' attempts are undone, so every item is
	// later delivered to the winner once, with attempt count 1. Required: two
	// owners of one session would run its activities on two workers at once.
	// A loser may get a retryable error (duroxide's SQLite provider answers
	// "database is locked", which the worker backs off from); that it gets
	// none is the strict case concurrent_session_claim_losers_get_no_error.
	const racers = 8
	got, errs := sessionsClaimRace(t, h, racers)
	winner := -1
	for i := range racers {
		if errs[i] != nil {
			require.True(t, duroxide.IsRetryable(errs[i]), "racer %d: losing a claim may only be a retryable error, got %v", i, errs[i])
			require.Nil(t, got[i], "racer %d: an error must come without an item", i)
		}
		if got[i] != nil {
			require.Equal(t, -1, winner, "racers %d and %d both got items of one session", winner, i)
			winner = i
		}
	}
	require.NotEqual(t, -1, winner, "one racer must claim the session")
	owner := fmt.Sprintf("racer-%d", winner)
	seen := map[uint64]bool{}
	next := got[winner]
	for range racers {
		require.NotNil(t, next, "the winner must get every item of its session")
		item, ok := next.Item.(duroxide.ActivityExecuteItem)
		require.True(t, ok, "fetched %T", next.Item)
		require.Equal(t, sessionsItem("inst-2", item.ID, "race-sess"), item)
		require.False(t, seen[item.ID], "item %d delivered twice", item.ID)
		seen[item.ID] = true
		require.Equal(t, uint32(1), next.AttemptCount, "a lost claim must not count an attempt (item %d)", item.ID)
		ackWork(t, h, next.LockToken, nil)
		next = sessionsFetchAs(t, h, owner)
	}
	sessionsRequireNone(t, next, "every item was acked")
}

// sessionsClaimRace enqueues racers items of session "race-sess" and lets
// racers owners fetch at once; it returns their outcomes by racer.
func sessionsClaimRace(t T, h *Harness, racers int) ([]*duroxide.LockedWorkItem, []error) {
	t.Helper()
	for id := range uint64(racers) {
		enqueueWorker(t, h, sessionsItem("inst-2", id+1, "race-sess"))
	}
	got := make([]*duroxide.LockedWorkItem, racers)
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			got[i], errs[i] = h.Provider.FetchWorkItem(t.Context(), sessionsLong(h), 0,
				sessionsCfg(fmt.Sprintf("racer-%d", i), sessionsLong(h)), duroxide.FilterDefaultOnly())
		})
	}
	close(start)
	wg.Wait()
	return got, errs
}

// Not in duroxide. Strict: of owners racing to claim one session, exactly
// one gets an item and the others get no work and no error. Not required:
// duroxide's worker backs off from a retryable fetch error and polls again,
// so a "database is locked" loser only delays its next poll.
func concurrentSessionClaimLosersGetNoError(t T, h *Harness) {
	const racers = 8
	got, errs := sessionsClaimRace(t, h, racers)
	wins := 0
	for i := range racers {
		require.NoError(t, errs[i], "racer %d: losing a claim is not an error", i)
		if got[i] != nil {
			wins++
		}
	}
	require.Equal(t, 1, wins, "exactly one racer must claim the session")
}

// After the lease lapses another owner takes the session over.
func sessionTakeoverAfterLockExpiry(t T, h *Harness) {
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "takeover-sess"), sessionsCfg("worker-A", h.LockTimeout))
	second := sessionsItem("inst-1", 2, "takeover-sess")
	enqueueWorker(t, h, second)
	sessionsPastLease(t, h)
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-B"), second, 1, "worker-B must take over the expired session")
	// Stronger than duroxide: the session is now worker-B's, not worker-A's.
	require.Equal(t, 0, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-A"))
	require.Equal(t, 1, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-B"))
}

// A session deleted by cleanup is created again by the next claim.
func cleanupThenNewItemRecreatesSession(t T, h *Harness) {
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "ephemeral-sess"), sessionsCfg("worker-A", h.LockTimeout))
	sessionsPastLease(t, h)
	require.Equal(t, 1, sessionsCleanup(t, h))
	second := sessionsItem("inst-1", 2, "ephemeral-sess")
	enqueueWorker(t, h, second)
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-B"), second, 1, "the session must be claimable after cleanup")
	// Stronger than duroxide: worker-B owns the re-created session.
	require.Equal(t, 1, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-B"))
	require.Equal(t, 0, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-A"))
}

// An abandoned session item is delivered again with its attempt counted.
func abandonedSessionItemRetryable(t T, h *Harness) {
	item := sessionsItem("inst-1", 1, "retry-sess")
	enqueueWorker(t, h, item)
	first := sessionsFetchAs(t, h, "worker-A")
	sessionsRequireItem(t, first, item, 1)
	abandonWork(t, h, first.LockToken, false)
	// Stronger than duroxide: abandon leaves the session with its owner.
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-B"), "abandon must not release the session")
	second := sessionsFetchAs(t, h, "worker-A")
	sessionsRequireItem(t, second, item, 2, "the redelivery must count a second attempt")
	// Stronger than duroxide: the redelivery has a new token; the old one is
	// dead.
	require.NotEqual(t, first.LockToken, second.LockToken)
	err := h.Provider.AckWorkItem(t.Context(), first.LockToken, nil)
	requireInvalidToken(t, err, "ack with the abandoned token must fail")
	ackWork(t, h, second.LockToken, nil)
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-A"), "the acked item must be gone")
}

// Abandon with ignoreAttempt leaves the attempt count as it was.
func abandonedSessionItemIgnoreAttempt(t T, h *Harness) {
	item := sessionsItem("inst-1", 1, "ignore-sess")
	enqueueWorker(t, h, item)
	first := sessionsFetchAs(t, h, "worker-A")
	sessionsRequireItem(t, first, item, 1)
	require.NoError(t, h.Provider.AbandonWorkItem(t.Context(), first.LockToken, h.Slack, true), "abandon_work_item")
	// Stronger than duroxide: the abandon delay hides the item.
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-A"), "the abandon delay must hide the item")
	h.Sleep(t, 2*h.Slack)
	second := sessionsFetchAs(t, h, "worker-A")
	sessionsRequireItem(t, second, item, 1, "ignoreAttempt must not inflate the attempt count")
	ackWork(t, h, second.LockToken, nil)
}

// renew_session_lock does not revive an expired session.
func renewSessionLockAfterExpiryReturnsZero(t T, h *Harness) {
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "expired-sess"), sessionsCfg("worker-A", h.LockTimeout))
	sessionsPastLease(t, h)
	require.Equal(t, 0, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-A"), "an expired session must not be renewed")
	// Stronger than duroxide: the session really stays expired.
	second := sessionsItem("inst-1", 2, "expired-sess")
	enqueueWorker(t, h, second)
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-B"), second, 1, "the expired session must be claimable")
}

// The former owner may claim its expired session again.
func originalWorkerReclaimsExpiredSession(t T, h *Harness) {
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "reclaim-sess"), sessionsCfg("worker-A", h.LockTimeout))
	second := sessionsItem("inst-1", 2, "reclaim-sess")
	enqueueWorker(t, h, second)
	sessionsPastLease(t, h)
	got := sessionsFetchAs(t, h, "worker-A")
	sessionsRequireItem(t, got, second, 1, "worker-A must re-claim its expired session")
	// Stronger than duroxide: the re-claim gave worker-A a fresh lease.
	ackWork(t, h, got.LockToken, nil)
	enqueueWorker(t, h, sessionsItem("inst-1", 3, "reclaim-sess"))
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-B"), "the re-claimed session must be worker-A's")
}

// An item whose lock lapsed while its session lease is active goes back to
// the session's owner only.
func activityLockExpiresSessionLockValidSameWorkerRefetches(t T, h *Harness) {
	item := sessionsItem("inst-1", 1, "sticky-sess")
	enqueueWorker(t, h, item)
	cfgA := sessionsCfg("worker-A", sessionsLong(h))
	first := sessionsFetch(t, h, h.LockTimeout, cfgA)
	sessionsRequireItem(t, first, item, 1)
	sessionsPastLease(t, h)
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-B"), "the session is still worker-A's")
	again := sessionsFetch(t, h, sessionsLong(h), cfgA)
	sessionsRequireItem(t, again, item, 2, "worker-A must get the redelivery")
	// Stronger than duroxide: the old token is dead, the new one acks.
	err := h.Provider.AckWorkItem(t.Context(), first.LockToken, nil)
	requireInvalidToken(t, err, "ack with the superseded token must fail")
	ackWork(t, h, again.LockToken, nil)
}

// A new owner may claim a session while the former owner still holds an item
// of it, and gets that item's redelivery after the former owner abandons it.
func sessionLockExpiresNewOwnerGetsRedelivery(t T, h *Harness) {
	i1 := sessionsItem("inst-1", 1, "takeover2-sess")
	enqueueWorker(t, h, i1)
	a := sessionsFetch(t, h, sessionsLong(h), sessionsCfg("worker-A", h.LockTimeout))
	sessionsRequireItem(t, a, i1, 1)
	sessionsPastLease(t, h)

	i2 := sessionsItem("inst-1", 2, "takeover2-sess")
	enqueueWorker(t, h, i2)
	b := sessionsFetchAs(t, h, "worker-B")
	sessionsRequireItem(t, b, i2, 1, "worker-B must claim the expired session and get the new item")
	ackWork(t, h, b.LockToken, nil)
	// Stronger than duroxide: worker-A's live item lock still holds.
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-B"), "worker-A's item lock is still valid")

	// Stronger than duroxide (which ignores the result): the former owner's
	// abandon succeeds and frees the item at once.
	require.NoError(t, h.Provider.AbandonWorkItem(t.Context(), a.LockToken, 0, false), "abandon by the former owner")
	b2 := sessionsFetchAs(t, h, "worker-B")
	sessionsRequireItem(t, b2, i1, 2, "the new owner must get the redelivery")
	ackWork(t, h, b2.LockToken, nil)
}

// The former owner of an expired session re-acquires it on its next fetch.
func sessionLockExpiresSameWorkerReacquires(t T, h *Harness) {
	cfgA := sessionsCfg("worker-A", h.LockTimeout)
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "reacq-sess"), cfgA)
	sessionsPastLease(t, h)
	second := sessionsItem("inst-1", 2, "reacq-sess")
	enqueueWorker(t, h, second)
	got := sessionsFetch(t, h, sessionsLong(h), cfgA)
	sessionsRequireItem(t, got, second, 1, "worker-A must re-acquire its session")
	ackWork(t, h, got.LockToken, nil)
	// Stronger than duroxide: the lease is active again.
	enqueueWorker(t, h, sessionsItem("inst-1", 3, "reacq-sess"))
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-B"), "the re-acquired session must be worker-A's")
}

// With item lock and session lease both lapsed, any owner claims the item.
func bothLocksExpireDifferentWorkerClaims(t T, h *Harness) {
	item := sessionsItem("inst-1", 1, "both-expire-sess")
	enqueueWorker(t, h, item)
	a := sessionsFetch(t, h, h.LockTimeout, sessionsCfg("worker-A", h.LockTimeout))
	sessionsRequireItem(t, a, item, 1)
	sessionsPastLease(t, h)
	b := sessionsFetchAs(t, h, "worker-B")
	sessionsRequireItem(t, b, item, 2, "worker-B must claim the item and its session")
	// Stronger than duroxide: worker-A's token is dead and worker-B owns the
	// session.
	err := h.Provider.AckWorkItem(t.Context(), a.LockToken, nil)
	requireInvalidToken(t, err, "ack with the superseded token must fail")
	require.Equal(t, 0, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-A"))
	require.Equal(t, 1, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-B"))
	ackWork(t, h, b.LockToken, nil)
}

// A lapsed session lease does not invalidate a held item lock: the worker
// still acks.
func sessionLockExpiresActivityLockValidAckSucceeds(t T, h *Harness) {
	item := sessionsItem("inst-1", 1, "sess-expires")
	enqueueWorker(t, h, item)
	got := sessionsFetch(t, h, sessionsLong(h), sessionsCfg("worker-A", h.LockTimeout))
	sessionsRequireItem(t, got, item, 1)
	sessionsPastLease(t, h)
	// Stronger than duroxide: renewal works too (an item's lock is its own,
	// independent of the session's lease), and neither
	// revives the lapsed session.
	require.NoError(t, h.Provider.RenewWorkItemLock(t.Context(), got.LockToken, sessionsLong(h)),
		"renew must succeed after the session lease lapsed")
	require.NoError(t, h.Provider.AckWorkItem(t.Context(), got.LockToken, completedItem("inst-1", 1, "done")),
		"ack must succeed after the session lease lapsed")
	require.Equal(t, 0, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-A"),
		"item activity must not revive a lapsed session")
}

// A renewed lease outlasts the original lease.
func sessionLockRenewalExtendsPastOriginalTimeout(t T, h *Harness) {
	lease := h.LockTimeout
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "renew-ext-sess"), sessionsCfg("worker-A", lease))
	early := lease * 6 / 10
	h.Sleep(t, early)
	require.Equal(t, 1, sessionsRenew(t, h, lease, sessionsLong(h), "worker-A"))
	h.Sleep(t, lease-early+h.Slack) // past the original expiry
	second := sessionsItem("inst-1", 2, "renew-ext-sess")
	enqueueWorker(t, h, second)
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-B"), "the renewed session must still be worker-A's")
	// Stronger than duroxide: exactly the second item.
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-A"), second, 1)
}

// Not in duroxide ([duroxide.Provider.FetchWorkItem]): every fetch of a session
// item by its owner refreshes the lease to now + the config's lease.
func ownerFetchRefreshesSessionLease(t T, h *Harness) {
	lease := h.LockTimeout
	cfgA := sessionsCfg("worker-A", lease)
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "refresh-sess"), cfgA)
	early := lease * 6 / 10
	h.Sleep(t, early)
	sessionsClaim(t, h, sessionsItem("inst-1", 2, "refresh-sess"), cfgA)
	h.Sleep(t, lease-early+h.Slack) // past the first claim's lease
	third := sessionsItem("inst-1", 3, "refresh-sess")
	enqueueWorker(t, h, third)
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-B"), "the owner's fetch must have refreshed the lease")
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-A"), third, 1)
}

// Not in duroxide ([duroxide.Provider.FetchWorkItem]): a fetch by the owner
// resets the session's
// last activity.
func ownerFetchRefreshesSessionLastActivity(t T, h *Harness) {
	_, idle := sessionsIdleClaim(t, h, "activity-sess")
	second := sessionsItem("inst-1", 2, "activity-sess")
	enqueueWorker(t, h, second)
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-A"), second, 1)
	require.Equal(t, 1, sessionsRenew(t, h, sessionsLong(h), idle, "worker-A"),
		"the owner's fetch must refresh the session's last activity")
}

// Not in duroxide ([duroxide.Provider.FetchWorkItem],
// [duroxide.Provider.RenewSessionLock]): a lease whose
// end equals now has expired: not renewable, claimable by anyone. The exact
// instant is checked in fake-clock mode; real time checks just past it.
func sessionLeaseExpiryIsStrict(t T, h *Harness) {
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "edge-sess"), sessionsCfg("worker-A", h.LockTimeout))
	second := sessionsItem("inst-1", 2, "edge-sess")
	enqueueWorker(t, h, second)
	wait := h.LockTimeout
	if !h.FakeTime() {
		wait += h.Slack
	}
	h.Sleep(t, wait)
	require.Equal(t, 0, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-A"),
		"a lease ending now is expired and must not be renewed")
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-B"), second, 1, "a lease ending now is expired and claimable")
}

// Not in duroxide ([duroxide.Provider.RenewSessionLock]): a session is idle
// unless its last activity
// is strictly later than now − idle_timeout. The exact instant is checked in
// fake-clock mode; real time checks just past it.
func renewSessionLockIdleCheckIsStrict(t T, h *Harness) {
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "idle-sess"), sessionsCfg("worker-A", sessionsLong(h)))
	idle := h.LockTimeout
	wait := idle
	if !h.FakeTime() {
		wait += h.Slack
	}
	h.Sleep(t, wait)
	require.Equal(t, 0, sessionsRenew(t, h, sessionsLong(h), idle, "worker-A"),
		"last activity exactly idle_timeout ago is idle")
	require.Equal(t, 1, sessionsRenew(t, h, sessionsLong(h), idle+2*h.Slack, "worker-A"),
		"last activity within idle_timeout is not idle")
}

// Not in duroxide ([duroxide.Provider.RenewSessionLock]): renew_session_lock
// renews exactly the
// active sessions of the listed owners, each once, and extends their leases.
func renewSessionLockCountsListedOwnersOnly(t T, h *Harness) {
	lease := h.LockTimeout
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "sess-a"), sessionsCfg("worker-A", lease))
	sessionsClaim(t, h, sessionsItem("inst-2", 1, "sess-b"), sessionsCfg("worker-B", lease))
	sessionsClaim(t, h, sessionsItem("inst-3", 1, "sess-c"), sessionsCfg("worker-C", lease))
	require.Equal(t, 2, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-A", "worker-B", "worker-unknown"))
	require.Equal(t, 1, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-A", "worker-A"),
		"a repeated owner id must not count its sessions twice")
	sessionsPastLease(t, h)
	enqueueWorker(t, h, sessionsItem("inst-1", 2, "sess-a"))
	enqueueWorker(t, h, sessionsItem("inst-2", 2, "sess-b"))
	c := sessionsItem("inst-3", 2, "sess-c")
	enqueueWorker(t, h, c)
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-D"), c, 1, "only the unrenewed session may lapse")
	sessionsRequireNone(t, sessionsFetchAs(t, h, "worker-D"), "the renewed sessions must still be owned")
}

// Not in duroxide ([duroxide.Provider.RenewSessionLock]): renewal sets the
// lease to renewal time +
// extend_for, so a renewed session lapses once that has passed.
func renewedSessionLeaseEndsAtRenewalPlusExtend(t T, h *Harness) {
	lease := h.LockTimeout
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "bounded-sess"), sessionsCfg("worker-A", lease))
	h.Sleep(t, lease/2)
	require.Equal(t, 1, sessionsRenew(t, h, lease, sessionsLong(h), "worker-A"))
	h.Sleep(t, lease+h.Slack) // past renewal + lease, before original end + lease
	second := sessionsItem("inst-1", 2, "bounded-sess")
	enqueueWorker(t, h, second)
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-B"), second, 1, "the renewed lease must end at renewal time + extend_for")
}

// Not in duroxide ([duroxide.Provider.CleanupOrphanedSessions]): cleanup
// sweeps every owner's expired,
// unreferenced sessions and counts exactly those.
func cleanupCountsExactlyAcrossOwners(t T, h *Harness) {
	lease := h.LockTimeout
	sessionsClaim(t, h, sessionsItem("inst-1", 1, "gone-a"), sessionsCfg("worker-A", lease))
	sessionsClaim(t, h, sessionsItem("inst-2", 1, "gone-b"), sessionsCfg("worker-B", lease))
	sessionsClaim(t, h, sessionsItem("inst-3", 1, "kept-pending"), sessionsCfg("worker-A", lease))
	sessionsClaim(t, h, sessionsItem("inst-4", 1, "kept-active"), sessionsCfg("worker-B", sessionsLong(h)))
	enqueueWorker(t, h, sessionsItem("inst-3", 2, "kept-pending"))
	sessionsPastLease(t, h)
	require.Equal(t, 2, sessionsCleanup(t, h), "cleanup must delete exactly the two orphaned expired sessions")
	require.Equal(t, 0, sessionsCleanup(t, h))
	require.Equal(t, 1, sessionsRenew(t, h, sessionsLong(h), sessionsLong(h), "worker-B"), "the active session must survive")
}

// Not in duroxide (duroxide's SQLite provider does the same in its ack and
// renew queries; docs/provider-semantics.md, Sessions): ack/renew of a session item
// refreshes the session's last activity whenever the lease is active,
// whichever owner holds it, even the new owner after a takeover.
func formerOwnerActivityRefreshesActiveSession(t T, h *Harness) {
	i1 := sessionsItem("inst-1", 1, "handover-sess")
	enqueueWorker(t, h, i1)
	a := sessionsFetch(t, h, sessionsLong(h), sessionsCfg("worker-A", h.LockTimeout))
	sessionsRequireItem(t, a, i1, 1)
	sessionsPastLease(t, h)
	sessionsClaim(t, h, sessionsItem("inst-1", 2, "handover-sess"), sessionsCfg("worker-B", sessionsLong(h)))
	idle := h.LockTimeout
	h.Sleep(t, idle+h.Slack)
	require.Equal(t, 0, sessionsRenew(t, h, sessionsLong(h), idle, "worker-B"), "worker-B's session must look idle")
	require.NoError(t, h.Provider.RenewWorkItemLock(t.Context(), a.LockToken, sessionsLong(h)),
		"the former owner's item lock is still valid")
	require.Equal(t, 1, sessionsRenew(t, h, sessionsLong(h), idle, "worker-B"),
		"activity on the session's item must refresh it whoever holds the lease")
	ackWork(t, h, a.LockToken, nil)
}

// Not in duroxide ([duroxide.Provider.FetchWorkItem]): tag filters and
// session rules compose with
// AND; items skipped by either are passed over, not blockers.
func sessionAndTagFiltersCompose(t T, h *Harness) {
	gpu, err := duroxide.FilterTags("gpu")
	require.NoError(t, err)
	fetch := func(cfg *duroxide.SessionFetchConfig, f duroxide.TagFilter) *duroxide.LockedWorkItem {
		t.Helper()
		item, err := h.Provider.FetchWorkItem(t.Context(), sessionsLong(h), 0, cfg, f)
		require.NoError(t, err, "fetch_work_item(session=%+v, filter=%v)", cfg, f)
		return item
	}
	cfgA, cfgB := sessionsCfg("worker-A", sessionsLong(h)), sessionsCfg("worker-B", sessionsLong(h))

	taggedSess := sessionsItem("inst-1", 1, "tagged-sess")
	taggedSess.Tag = ptr("gpu")
	taggedPlain := sessionsPlain("inst-2", 2)
	taggedPlain.Tag = ptr("gpu")
	untaggedSess := sessionsItem("inst-3", 3, "plain-sess")
	for _, w := range []duroxide.ActivityExecuteItem{taggedSess, taggedPlain, untaggedSess} {
		enqueueWorker(t, h, w)
	}
	sessionsRequireItem(t, fetch(cfgA, duroxide.FilterDefaultOnly()), untaggedSess, 1, "DefaultOnly must skip tagged items")
	sessionsRequireItem(t, fetch(cfgA, gpu), taggedSess, 1, "a session fetch with the tag must claim the tagged session item")
	sessionsRequireItem(t, fetch(nil, gpu), taggedPlain, 1, "a session-less fetch with the tag must get the tagged plain item")

	next := sessionsItem("inst-1", 4, "tagged-sess")
	next.Tag = ptr("gpu")
	enqueueWorker(t, h, next)
	sessionsRequireNone(t, fetch(cfgB, duroxide.FilterAny()), "another owner must not get tagged-sess, whatever its filter")
	sessionsRequireNone(t, fetch(cfgA, duroxide.FilterDefaultOnly()), "the owner must not get an item its filter refuses")
	sessionsRequireItem(t, fetch(cfgA, duroxide.FilterAny()), next, 1)
}

// Not in duroxide. Provider doc (bad input): negative session durations are
// permanent ErrInvalidArgument errors that change nothing. Required: Go's
// durations can be negative where Rust's cannot, and a provider that
// computed a lease of now+negative would hand out sessions that are expired
// before they are used.
func sessionInvalidArguments(t T, h *Harness) {
	ctx := t.Context()
	item := sessionsItem("inst-1", 1, "session-1")
	enqueueWorker(t, h, item)
	requireInvalid := func(err error, what string) {
		t.Helper()
		requirePermanentIs(t, err, duroxide.ErrInvalidArgument, what)
	}
	got, err := h.Provider.FetchWorkItem(ctx, sessionsLong(h), 0, sessionsCfg("worker-A", -time.Second), duroxide.FilterDefaultOnly())
	require.Nil(t, got)
	requireInvalid(err, "fetch with a negative session lease")
	_, err = h.Provider.RenewSessionLock(ctx, []string{"worker-A"}, -time.Second, sessionsLong(h))
	requireInvalid(err, "renew_session_lock with a negative extend_for")
	_, err = h.Provider.RenewSessionLock(ctx, []string{"worker-A"}, sessionsLong(h), -time.Second)
	requireInvalid(err, "renew_session_lock with a negative idle_timeout")
	_, err = h.Provider.CleanupOrphanedSessions(ctx, -time.Second)
	requireInvalid(err, "cleanup_orphaned_sessions with a negative idle_timeout")
	// Nothing was claimed or counted.
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-B"), item, 1, "the failed fetches must change nothing")
}

// Not in duroxide. Strict: a session fetch with an empty owner id is bad
// input, a permanent ErrInvalidArgument that claims and counts nothing. Not
// required: duroxide's runtime always passes its worker id, and duroxide's
// SQLite provider treats "" as an ordinary owner.
func sessionEmptyOwnerIDRejected(t T, h *Harness) {
	item := sessionsItem("inst-1", 1, "session-1")
	enqueueWorker(t, h, item)
	got, err := h.Provider.FetchWorkItem(t.Context(), sessionsLong(h), 0, sessionsCfg("", sessionsLong(h)), duroxide.FilterDefaultOnly())
	require.Nil(t, got)
	requirePermanentIs(t, err, duroxide.ErrInvalidArgument, "fetch with an empty owner id")
	sessionsRequireItem(t, sessionsFetchAs(t, h, "worker-B"), item, 1, "the failed fetch must change nothing")
}

// A session lease that a call saw expired, then valid again because the
// clock stepped back: if its owner's renew counts it, another owner may not
// fetch the session's items and the owner still gets them; the provider
// keeps working either way.
func sessionRenewedAfterClockStepBack(t T, h *Harness) {
	h.RequireClockStepsBack(t)
	const inst = "stepback-session"
	sessionsClaim(t, h, sessionsItem(inst, 1, "sb-s"), sessionsCfg("holder", h.LockTimeout))
	second := sessionsItem(inst, 2, "sb-s")
	enqueueWorker(t, h, second)
	elsewhere, err := duroxide.FilterTags("elsewhere")
	require.NoError(t, err)
	expireThenStepBack(t, h, func() {
		item, err := h.Provider.FetchWorkItem(t.Context(), longLock, 0, sessionsCfg("other", sessionsLong(h)), elsewhere)
		require.NoError(t, err)
		require.Nil(t, item, "no item has the tag")
	})
	var got *duroxide.LockedWorkItem
	if sessionsRenew(t, h, h.LockTimeout, sessionsLong(h), "holder") == 1 {
		sessionsRequireNone(t, sessionsFetchAs(t, h, "other"), "a renewed lease is held: another owner may not take the session's items")
		got = sessionsFetchAs(t, h, "holder")
	} else {
		got = sessionsFetchAs(t, h, "other")
	}
	sessionsRequireItem(t, got, second, 1)
	ackWork(t, h, got.LockToken, nil)
	stepBackAfterwards(t, h, "stepback-session-next")
}
