package spec

import (
	"slices"
	"sync"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// capabilityFilteringCases: an orchestration fetch with a capability filter
// only takes instances whose current execution's pinned duroxide version is
// in one of the filter's ranges (or is unknown), decides that before locking
// and before reading history, and the pinned version is whatever the last ack
// metadata of that execution said. Undecodable history is reported, not
// raised, and the ack path is append-only.
func capabilityFilteringCases() []Case {
	return []Case{
		{"capability_filtering", "fetch_with_filter_none_returns_any_item", fetchWithFilterNoneReturnsAnyItem, Required},
		{"capability_filtering", "fetch_with_compatible_filter_returns_item", fetchWithCompatibleFilterReturnsItem, Required},
		{"capability_filtering", "fetch_with_incompatible_filter_skips_item", fetchWithIncompatibleFilterSkipsItem, Required},
		{"capability_filtering", "fetch_filter_skips_incompatible_selects_compatible", fetchFilterSkipsIncompatibleSelectsCompatible, Required},
		{"capability_filtering", "fetch_filter_does_not_lock_skipped_instances", fetchFilterDoesNotLockSkippedInstances, Required},
		{"capability_filtering", "fetch_filter_null_pinned_version_always_compatible", fetchFilterNullPinnedVersionAlwaysCompatible, Required},
		{"capability_filtering", "fetch_filter_boundary_versions", fetchFilterBoundaryVersions, Required},
		{"capability_filtering", "pinned_version_stored_via_ack_metadata", pinnedVersionStoredViaAckMetadata, Required},
		{"capability_filtering", "pinned_version_immutable_across_ack_cycles", pinnedVersionImmutableAcrossAckCycles, Required},
		{"capability_filtering", "continue_as_new_execution_gets_own_pinned_version", continueAsNewExecutionGetsOwnPinnedVersion, Required},
		{"capability_filtering", "filter_with_empty_supported_versions_returns_nothing", filterWithEmptySupportedVersionsReturnsNothing, Required},
		{"capability_filtering", "concurrent_filtered_fetch_no_double_lock", concurrentFilteredFetchNoDoubleLock, Required},
		{"capability_filtering", "ack_stores_pinned_version_via_metadata_update", ackStoresPinnedVersionViaMetadataUpdate, Required},
		{"capability_filtering", "provider_updates_pinned_version_when_told", providerUpdatesPinnedVersionWhenTold, Required},
		{"capability_filtering", "fetch_corrupted_history_filtered_vs_unfiltered", fetchCorruptedHistoryFilteredVsUnfiltered, Required},
		{"capability_filtering", "fetch_deserialization_error_increments_attempt_count", fetchDeserializationErrorIncrementsAttemptCount, Required},
		{"capability_filtering", "fetch_deserialization_error_eventually_reaches_poison", fetchDeserializationErrorEventuallyReachesPoison, Required},
		{"capability_filtering", "fetch_filter_applied_before_history_deserialization", fetchFilterAppliedBeforeHistoryDeserialization, Required},
		{"capability_filtering", "fetch_single_range_only_uses_first_range", fetchSingleRangeOnlyUsesFirstRange, Required},
		{"capability_filtering", "ack_appends_event_to_corrupted_history", ackAppendsEventToCorruptedHistory, Required},
		// Not in duroxide:
		{"capability_filtering", "fetch_filter_compares_versions_numerically", fetchFilterComparesVersionsNumerically, Required},
		{"capability_filtering", "fetch_filter_instance_without_record_is_compatible", fetchFilterInstanceWithoutRecordIsCompatible, Required},
		{"capability_filtering", "new_execution_without_pinned_version_does_not_inherit", newExecutionWithoutPinnedVersionDoesNotInherit, Required},
		{"capability_filtering", "fetch_filter_matches_any_range", fetchFilterMatchesAnyRange, Strict},
		{"capability_filtering", "fetch_filter_compares_components_above_999", fetchFilterComparesComponentsAbove999, Strict},
	}
}

// capVer builds a semver.
func capVer(major, minor, patch uint64) duroxide.Semver {
	return duroxide.Semver{Major: major, Minor: minor, Patch: patch}
}

// capRange builds the inclusive range [lo, hi].
func capRange(lo, hi duroxide.Semver) duroxide.SemverRange {
	return duroxide.SemverRange{Min: lo, Max: hi}
}

// capFilter builds a filter of one inclusive range [lo, hi].
func capFilter(lo, hi duroxide.Semver) *duroxide.DispatcherCapabilityFilter {
	return &duroxide.DispatcherCapabilityFilter{SupportedDuroxideVersions: []duroxide.SemverRange{capRange(lo, hi)}}
}

// capStarted is the OrchestrationStarted (event 1) of execution exec whose
// envelope carries duroxideVersion, as the runtime writes it.
func capStarted(instance string, exec uint64, duroxideVersion string) duroxide.Event {
	e := startedEvent(instance, duroxide.InitialEventID, testVersion)
	e.ExecutionID = exec
	e.DuroxideVersion = duroxideVersion
	return e
}

// capFetch fetches with a long lock, no poll and filter.
func capFetch(t T, h *Harness, filter *duroxide.DispatcherCapabilityFilter) *duroxide.LockedOrchestrationItem {
	t.Helper()
	item, err := h.Provider.FetchOrchestrationItem(t.Context(), longLock, 0, filter)
	require.NoError(t, err, "fetch_orchestration_item with filter %+v", filter)
	return item
}

// capMustFetch fetches with filter and requires instance's batch.
func capMustFetch(t T, h *Harness, filter *duroxide.DispatcherCapabilityFilter, instance string, msgAndArgs ...any) *duroxide.LockedOrchestrationItem {
	t.Helper()
	item := capFetch(t, h, filter)
	require.NotNil(t, item, msgAndArgs...)
	require.Equal(t, instance, item.Instance, msgAndArgs...)
	return item
}

// capRequireNone requires that a fetch with filter finds no work.
func capRequireNone(t T, h *Harness, filter *duroxide.DispatcherCapabilityFilter, msgAndArgs ...any) {
	t.Helper()
	require.Nil(t, capFetch(t, h, filter), msgAndArgs...)
}

// capPing enqueues an ExternalRaised named name for instance.
func capPing(t T, h *Harness, instance, name string) {
	t.Helper()
	enqueueOrch(t, h, externalItem(instance, name))
}

// capNamed is name/version metadata with an optional pinned version.
func capNamed(pinned *duroxide.Semver) duroxide.ExecutionMetadata {
	m := nameVersion(testOrch, testVersion)
	m.PinnedDuroxideVersion = pinned
	return m
}

// capSeed is duroxide's seed_instance_with_version: start instance, ack its
// first turn pinned at v with an OrchestrationStarted carrying v, and leave
// one visible "ping" message (enqueued by that ack). Batches of other
// instances met on the way are abandoned afterwards.
func capSeed(t T, h *Harness, instance string, v duroxide.Semver) {
	t.Helper()
	enqueueOrch(t, h, startItem(instance))
	var others []string
	var token string
	for {
		item := fetchOrch(t, h, longLock)
		require.NotNil(t, item, "seed %s: its start message was never fetched", instance)
		if item.Instance == instance {
			token = item.LockToken
			break
		}
		others = append(others, item.LockToken)
	}
	ack(t, h, token, duroxide.OrchestrationAck{
		ExecutionID:       duroxide.InitialExecutionID,
		HistoryDelta:      []duroxide.Event{capStarted(instance, duroxide.InitialExecutionID, v.String())},
		OrchestratorItems: []duroxide.WorkItem{externalItem(instance, "ping")},
		Metadata:          capNamed(&v),
	})
	for _, tok := range others {
		// duroxide ignores these errors; the locks are long, so abandon must work.
		abandonOrch(t, h, tok, true)
	}
}

// capSeedCorrupt seeds instance pinned at v and makes its history
// undecodable. It skips the case when the harness has no hooks.
func capSeedCorrupt(t T, h *Harness, instance string, v duroxide.Semver) Hooks {
	t.Helper()
	hooks := h.RequireHooks(t)
	capSeed(t, h, instance, v)
	require.NoError(t, hooks.CorruptInstanceHistory(t.Context(), instance), "corrupt_instance_history")
	return hooks
}

// capRequireHistoryError requires item to be instance's batch reported with a
// history error and no history.
func capRequireHistoryError(t T, item *duroxide.LockedOrchestrationItem, instance string) {
	t.Helper()
	require.NotNil(t, item, "a fetch of undecodable history must return the item with history_error, not no work")
	require.Equal(t, instance, item.Instance)
	require.NotEmpty(t, item.HistoryError, "undecodable history must set history_error")
	require.Empty(t, item.History, "history must be empty, not partial, when history_error is set")
}

// capPingBatch requires the batch to be exactly the seeded "ping".
func capPingBatch(t T, item *duroxide.LockedOrchestrationItem, name string) {
	t.Helper()
	require.Equal(t, []duroxide.WorkItem{externalItem(item.Instance, name)}, item.Messages)
}

// With no filter, a pinned instance is fetched whatever its version.
func fetchWithFilterNoneReturnsAnyItem(t T, h *Harness) {
	const inst = "inst-1"
	capSeed(t, h, inst, capVer(1, 2, 3))
	item := capMustFetch(t, h, nil, inst, "filter=nil must return any item")
	// Stronger than duroxide: the item is the seeded batch, with history and
	// the pinned version's carrier event intact, first delivery.
	capPingBatch(t, item, "ping")
	require.Equal(t, duroxide.InitialExecutionID, item.ExecutionID)
	require.Equal(t, uint32(1), item.AttemptCount)
	require.Equal(t, []duroxide.Event{capStarted(inst, 1, "1.2.3")}, item.History)
}

// A filter whose range holds the pinned version returns the instance.
func fetchWithCompatibleFilterReturnsItem(t T, h *Harness) {
	const inst = "inst-2"
	capSeed(t, h, inst, capVer(1, 2, 3))
	item := capMustFetch(t, h, capFilter(capVer(1, 0, 0), capVer(1, 9, 9)), inst, "compatible filter must return the item")
	// Stronger than duroxide: it is the seeded batch.
	capPingBatch(t, item, "ping")
}

// A filter whose range excludes the pinned version returns no work.
func fetchWithIncompatibleFilterSkipsItem(t T, h *Harness) {
	const inst = "inst-3"
	capSeed(t, h, inst, capVer(1, 2, 3))
	capRequireNone(t, h, capFilter(capVer(2, 0, 0), capVer(2, 9, 9)), "incompatible filter must return no work")
	// Stronger than duroxide: the skipped work is still there, uncounted.
	item := capMustFetch(t, h, nil, inst)
	require.Equal(t, uint32(1), item.AttemptCount, "a filtered-out fetch must not count an attempt")
}

// The filter is applied while choosing the instance: an older incompatible
// instance is passed over for a newer compatible one.
func fetchFilterSkipsIncompatibleSelectsCompatible(t T, h *Harness) {
	v1Filter := capFilter(capVer(1, 0, 0), capVer(1, 9, 9))
	v2Filter := capFilter(capVer(2, 0, 0), capVer(2, 9, 9))
	capSeed(t, h, "inst-v1", capVer(1, 0, 0))
	capSeed(t, h, "inst-v2", capVer(2, 0, 0))

	item := capMustFetch(t, h, v2Filter, "inst-v2", "v2 filter must pass over the older v1 instance")
	abandonOrch(t, h, item.LockToken, true)
	capMustFetch(t, h, v1Filter, "inst-v1", "v1 filter must return the v1 instance")

	// Stronger than duroxide: with inst-v1 locked the v1 filter has nothing
	// left, while inst-v2 is still there for the v2 filter.
	capRequireNone(t, h, v1Filter, "v1 filter must not fall back to the v2 instance")
	capMustFetch(t, h, v2Filter, "inst-v2")
}

// An instance skipped by the filter is not locked: a compatible fetch right
// after takes it.
func fetchFilterDoesNotLockSkippedInstances(t T, h *Harness) {
	const inst = "inst-5"
	capSeed(t, h, inst, capVer(1, 0, 0))
	capRequireNone(t, h, capFilter(capVer(2, 0, 0), capVer(2, 9, 9)))
	item := capMustFetch(t, h, capFilter(capVer(0, 0, 0), capVer(1, 9, 9)), inst,
		"instance must not have been locked by the incompatible fetch")
	// Stronger than duroxide: the skip did not count an attempt either.
	require.Equal(t, uint32(1), item.AttemptCount, "skipped instances must keep their attempt counts")
}

// An execution acked with no pinned version matches every filter; the
// provider does not derive the pinned version from the event's
// duroxide_version.
func fetchFilterNullPinnedVersionAlwaysCompatible(t T, h *Harness) {
	const inst = "inst-null"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{capStarted(inst, 1, "0.0.0")},
		Metadata:     capNamed(nil),
	})
	capPing(t, h, inst, "ping")
	got := capMustFetch(t, h, capFilter(capVer(99, 0, 0), capVer(99, 9, 9)), inst, "a NULL pinned version must match every filter")
	// Stronger than duroxide: the fetched batch is the ping.
	capPingBatch(t, got, "ping")
}

// Both ends of a range are inclusive, and versions past the ends are
// excluded.
func fetchFilterBoundaryVersions(t T, h *Harness) {
	filter := capFilter(capVer(1, 0, 0), capVer(1, 9, 99))

	capSeed(t, h, "v1-low", capVer(1, 0, 0))
	item := capMustFetch(t, h, filter, "v1-low", "1.0.0 must be within [1.0.0, 1.9.99]")
	abandonOrch(t, h, item.LockToken, true)

	capSeed(t, h, "v1-high", capVer(1, 9, 99))
	item = capFetch(t, h, filter)
	require.NotNil(t, item, "1.9.99 must be within [1.0.0, 1.9.99]")
	abandonOrch(t, h, item.LockToken, true)

	// duroxide checks the exclusion on a second, empty provider; the harness
	// has one provider per case, so both v1 instances are locked instead.
	// Stronger than duroxide: the filter returns both v1 instances.
	var got []string
	for range 2 {
		item := capFetch(t, h, filter)
		require.NotNil(t, item, "both v1 instances are in range, got only %v", got)
		got = append(got, item.Instance)
	}
	slices.Sort(got)
	require.Equal(t, []string{"v1-high", "v1-low"}, got)

	capSeed(t, h, "v2-exact", capVer(2, 0, 0))
	capRequireNone(t, h, filter, "2.0.0 must not be within [1.0.0, 1.9.99]")
	capMustFetch(t, h, nil, "v2-exact", "v2-exact must be fetchable without a filter")

	// Stronger than duroxide: the lower bound excludes what lies below it.
	capSeed(t, h, "v0-below", capVer(0, 9, 99))
	capRequireNone(t, h, filter, "0.9.99 must not be within [1.0.0, 1.9.99]")
	capMustFetch(t, h, nil, "v0-below")
}

// The pinned version stored from ack metadata is the one filters see.
func pinnedVersionStoredViaAckMetadata(t T, h *Harness) {
	const inst = "inst-8"
	capSeed(t, h, inst, capVer(3, 1, 4))
	// Stronger than duroxide: filters that exclude 3.1.4 by one patch or
	// minor step return nothing, so the value stored is exactly 3.1.4 (an
	// unstored, NULL version would match them).
	capRequireNone(t, h, capFilter(capVer(3, 1, 5), capVer(3, 9, 9)), "3.1.4 is below [3.1.5, 3.9.9]")
	capRequireNone(t, h, capFilter(capVer(3, 0, 0), capVer(3, 1, 3)), "3.1.4 is above [3.0.0, 3.1.3]")
	capRequireNone(t, h, capFilter(capVer(3, 2, 0), capVer(3, 9, 9)), "3.1.4 is below [3.2.0, 3.9.9]")
	capMustFetch(t, h, capFilter(capVer(3, 1, 4), capVer(3, 1, 4)), inst, "the exact pinned version must match")
}

// A later ack without a pinned version leaves the stored one in place.
func pinnedVersionImmutableAcrossAckCycles(t T, h *Harness) {
	const inst = "inst-9"
	filter := capFilter(capVer(0, 0, 0), capVer(1, 9, 9))
	capSeed(t, h, inst, capVer(1, 0, 0))
	item := capMustFetch(t, h, filter, inst)
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{ExecutionID: duroxide.InitialExecutionID, Metadata: capNamed(nil)})
	capPing(t, h, inst, "ping2")
	// Stronger than duroxide: a filter excluding 1.0.0 still skips the
	// instance, so the stored version was kept, not cleared to NULL (which
	// every filter matches and duroxide's check cannot tell apart).
	capRequireNone(t, h, capFilter(capVer(2, 0, 0), capVer(2, 9, 9)), "an ack without pinned version must not clear the stored one")
	got := capMustFetch(t, h, filter, inst, "pinned version must persist across ack cycles")
	capPingBatch(t, got, "ping2")
}

// After continue-as-new, the new execution has the pinned version of its own
// first ack, not its predecessor's, and filters look at the current
// execution only.
func continueAsNewExecutionGetsOwnPinnedVersion(t T, h *Harness) {
	const inst = "inst-can"
	capSeed(t, h, inst, capVer(1, 0, 0))
	item := capMustFetch(t, h, capFilter(capVer(0, 0, 0), capVer(1, 9, 9)), inst)
	capContinueAsNew(t, h, item.LockToken, inst)

	can := capMustFetch(t, h, nil, inst)
	// Stronger than duroxide: the continue-as-new batch still reports
	// execution 1.
	require.Equal(t, duroxide.InitialExecutionID, can.ExecutionID)
	require.Len(t, can.Messages, 1)
	require.IsType(t, duroxide.ContinueAsNewItem{}, can.Messages[0])
	ack(t, h, can.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  2,
		HistoryDelta: []duroxide.Event{capStarted(inst, 2, "2.0.0")},
		Metadata:     capNamed(ptr(capVer(2, 0, 0))),
	})
	capPing(t, h, inst, "ping")

	got := capMustFetch(t, h, capFilter(capVer(2, 0, 0), capVer(2, 9, 9)), inst, "v2 filter must match execution 2")
	// Stronger than duroxide: the item is execution 2 with its own history.
	require.Equal(t, uint64(2), got.ExecutionID)
	require.Equal(t, []duroxide.Event{capStarted(inst, 2, "2.0.0")}, got.History)
	abandonOrch(t, h, got.LockToken, true)
	capRequireNone(t, h, capFilter(capVer(1, 0, 0), capVer(1, 9, 9)),
		"v1 filter must not match execution 2: its pinned version is 2.0.0, not inherited")
}

// capContinueAsNew acks execution 1 of instance as continued-as-new, with the
// ContinueAsNew message for the next turn.
func capContinueAsNew(t T, h *Harness, token, instance string) {
	t.Helper()
	md := capNamed(nil)
	md.Status = duroxide.StatusContinuedAsNew
	ack(t, h, token, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{event(instance, 2, duroxide.OrchestrationContinuedAsNew{Input: "{}"})},
		OrchestratorItems: []duroxide.WorkItem{duroxide.ContinueAsNewItem{
			Instance: instance, Orchestration: testOrch, Input: "{}", Version: ptr(testVersion),
		}},
		Metadata: md,
	})
}

// A filter with no ranges supports nothing and returns no work.
func filterWithEmptySupportedVersionsReturnsNothing(t T, h *Harness) {
	const inst = "inst-empty"
	capSeed(t, h, inst, capVer(1, 0, 0))
	capRequireNone(t, h, &duroxide.DispatcherCapabilityFilter{SupportedDuroxideVersions: []duroxide.SemverRange{}},
		"an empty range list must return no work")
	// Stronger than duroxide: a nil range list is empty too, and neither
	// fetch locked or counted the instance.
	capRequireNone(t, h, &duroxide.DispatcherCapabilityFilter{}, "a nil range list must return no work")
	item := capMustFetch(t, h, nil, inst)
	require.Equal(t, uint32(1), item.AttemptCount)
}

// A filtered fetch never hands out an instance that is already locked.
func concurrentFilteredFetchNoDoubleLock(t T, h *Harness) {
	const inst = "inst-conc"
	filter := capFilter(capVer(0, 0, 0), capVer(1, 9, 9))
	capSeed(t, h, inst, capVer(1, 0, 0))

	// Stronger than duroxide: the fetches really race (duroxide's are
	// sequential); exactly one wins. Losers may see no work or a retryable
	// error (see instance_locking/multi_threaded_lock_contention).
	const racers = 8
	items := make([]*duroxide.LockedOrchestrationItem, racers)
	errs := make([]error, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Go(func() {
			<-start
			items[i], errs[i] = h.Provider.FetchOrchestrationItem(t.Context(), longLock, 0, filter)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i := range racers {
		if raceOutcome(t, i, items[i], errs[i]) != nil {
			won++
			require.Equal(t, inst, items[i].Instance)
		}
	}
	require.Equal(t, 1, won, "exactly one concurrent filtered fetch must lock the instance")
	capRequireNone(t, h, filter, "second fetch must return no work (instance locked)")
}

// A pinned version given on a later turn of an unpinned execution is stored.
func ackStoresPinnedVersionViaMetadataUpdate(t T, h *Harness) {
	const inst = "inst-backfill"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{capStarted(inst, 1, "1.2.3")},
		Metadata:     capNamed(nil),
	})
	capPing(t, h, inst, "ping")
	item = capMustFetch(t, h, nil, inst)
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID: duroxide.InitialExecutionID,
		Metadata:    capNamed(ptr(capVer(1, 2, 3))),
	})
	capPing(t, h, inst, "ping2")
	// Stronger than duroxide: a filter excluding 1.2.3 skips the instance, so
	// the version was stored (NULL would match any filter).
	capRequireNone(t, h, capFilter(capVer(2, 0, 0), capVer(2, 9, 9)), "the backfilled pinned version must be stored")
	capMustFetch(t, h, capFilter(capVer(1, 0, 0), capVer(1, 9, 9)), inst, "the backfilled pinned version must be filterable")
}

// The provider overwrites the pinned version whenever ack metadata carries
// one, even mid-execution with an empty delta.
func providerUpdatesPinnedVersionWhenTold(t T, h *Harness) {
	const inst = "inst-update"
	capSeed(t, h, inst, capVer(1, 0, 0))
	item := capMustFetch(t, h, capFilter(capVer(0, 0, 0), capVer(1, 9, 9)), inst)
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID: duroxide.InitialExecutionID,
		Metadata:    capNamed(ptr(capVer(2, 0, 0))),
	})
	capPing(t, h, inst, "ping2")
	got := capMustFetch(t, h, capFilter(capVer(2, 0, 0), capVer(2, 0, 0)), inst, "pinned version must now be 2.0.0")
	abandonOrch(t, h, got.LockToken, true)
	capRequireNone(t, h, capFilter(capVer(1, 0, 0), capVer(1, 0, 0)), "1.0.0 must have been overwritten")
}

// An instance with undecodable history is skipped by an excluding filter
// without error, and returned with history_error by an unfiltered fetch.
func fetchCorruptedHistoryFilteredVsUnfiltered(t T, h *Harness) {
	const inst = "inst-corrupt-39"
	capSeedCorrupt(t, h, inst, capVer(1, 0, 0))
	capRequireNone(t, h, capFilter(capVer(2, 0, 0), capVer(2, 9, 9)), "an excluded instance must be skipped, corrupt or not")

	item := capFetch(t, h, nil)
	capRequireHistoryError(t, item, inst)
	// Stronger than duroxide: the rest of the item is still meaningful (the
	// runtime writes name and version back on its poison ack), the KV
	// snapshot is empty, the skip counted no attempt, and the lock is held.
	require.Equal(t, testOrch, item.OrchestrationName)
	require.Equal(t, testVersion, item.Version)
	require.Equal(t, duroxide.InitialExecutionID, item.ExecutionID)
	capPingBatch(t, item, "ping")
	require.NotNil(t, item.KVSnapshot, "KV snapshot must be empty, not nil, with history_error")
	require.Empty(t, item.KVSnapshot)
	require.Equal(t, uint32(1), item.AttemptCount)
	requireNoOrch(t, h, "the item with history_error must be locked")
	abandonOrch(t, h, item.LockToken, true)
}

// Every fetch of undecodable history counts an attempt, kept by an abandon
// without ignoreAttempt.
func fetchDeserializationErrorIncrementsAttemptCount(t T, h *Harness) {
	const inst = "inst-deser-41"
	hooks := capSeedCorrupt(t, h, inst, capVer(1, 0, 0))

	item := mustFetchOrch(t, h, h.LockTimeout)
	capRequireHistoryError(t, item, inst)
	// Stronger than duroxide: attempt counts are exact, on the item and in
	// the store.
	require.Equal(t, uint32(1), item.AttemptCount)
	abandonOrch(t, h, item.LockToken, false)

	item = mustFetchOrch(t, h, h.LockTimeout)
	capRequireHistoryError(t, item, inst)
	require.Equal(t, uint32(2), item.AttemptCount)
	// Stronger than duroxide: the second lock has expired before the abandon
	// (duroxide's 50 ms lock may or may not have); abandon must still work.
	h.Sleep(t, h.LockTimeout+h.Slack)
	require.NoError(t, h.Provider.AbandonOrchestrationItem(t.Context(), item.LockToken, 0, false),
		"abandon of an expired, unsuperseded lock must succeed")

	n, err := hooks.MaxAttemptCount(t.Context(), inst)
	require.NoError(t, err)
	require.Equal(t, uint32(2), n, "two fetches of the corrupt instance must count two attempts")
}

// Repeated fetches of undecodable history keep counting attempts, so the
// runtime's poison check is eventually reached.
func fetchDeserializationErrorEventuallyReachesPoison(t T, h *Harness) {
	const inst = "inst-poison-42"
	const cycles = 5
	hooks := capSeedCorrupt(t, h, inst, capVer(1, 0, 0))
	for i := range uint32(cycles) {
		item := mustFetchOrch(t, h, h.LockTimeout)
		capRequireHistoryError(t, item, inst)
		// Stronger than duroxide: each delivery counts exactly one.
		require.Equal(t, i+1, item.AttemptCount, "fetch #%d", i+1)
		require.NoError(t, h.Provider.AbandonOrchestrationItem(t.Context(), item.LockToken, 0, false), "abandon #%d", i+1)
	}
	n, err := hooks.MaxAttemptCount(t.Context(), inst)
	require.NoError(t, err)
	require.Equal(t, uint32(cycles), n, "attempt count after %d fetch cycles", cycles)
}

// The filter is checked before history is read: an excluded instance with
// corrupt history yields no work, not an error or a history_error.
func fetchFilterAppliedBeforeHistoryDeserialization(t T, h *Harness) {
	const inst = "inst-order-43"
	hooks := capSeedCorrupt(t, h, inst, capVer(99, 0, 0))
	capRequireNone(t, h, capFilter(capVer(1, 0, 0), capVer(2, 0, 0)), "the filter must be applied before history is decoded")

	// Stronger than duroxide: the skip counted no attempt.
	n, err := hooks.MaxAttemptCount(t.Context(), inst)
	require.NoError(t, err)
	require.Zero(t, n, "a filtered-out fetch must not touch attempt counts")

	item := capFetch(t, h, nil)
	capRequireHistoryError(t, item, inst)
	require.Equal(t, uint32(1), item.AttemptCount)
	abandonOrch(t, h, item.LockToken, true)
}

// With a two-range filter, a fetch returns the instance of the first range
// and never one of the second: what duroxide checks, which holds both for a
// provider that only uses the first range (duroxide's SQLite provider,
// "Phase 1") and for one that honours every range. Stronger than duroxide:
// an instance between the ranges is never returned. Required: duroxide's
// runtime passes one range, its own; a provider that honours no range of the
// filter would hand a dispatcher history it cannot replay. That every range
// counts is the strict case fetch_filter_matches_any_range.
func fetchSingleRangeOnlyUsesFirstRange(t T, h *Harness) {
	filter := &duroxide.DispatcherCapabilityFilter{SupportedDuroxideVersions: []duroxide.SemverRange{
		capRange(capVer(1, 0, 0), capVer(1, 5, 0)),
		capRange(capVer(3, 0, 0), capVer(3, 5, 0)),
	}}
	capSeed(t, h, "inst-range-a", capVer(1, 0, 0))
	capSeed(t, h, "inst-range-b", capVer(3, 0, 0))
	capSeed(t, h, "inst-range-gap", capVer(2, 0, 0))

	first := capFetch(t, h, filter)
	require.NotNil(t, first, "the multi-range filter must return work")
	require.Equal(t, "inst-range-a", first.Instance, "the oldest instance, in the first range, comes first")
	abandonOrch(t, h, first.LockToken, true)

	// The abandoned instance may come back; the second range's must not come
	// first, since inst-range-a is older and in the first range.
	again := capFetch(t, h, filter)
	if again != nil {
		require.Equal(t, "inst-range-a", again.Instance, "inst-range-a is older and in the first range")
	}
	// With inst-range-a held, a first-range provider finds nothing and an
	// any-range one finds inst-range-b; neither returns the gap.
	if next := capFetch(t, h, filter); next != nil {
		require.NotEqual(t, "inst-range-gap", next.Instance, "2.0.0 lies in no range")
	}
}

// Not in duroxide ([duroxide.DispatcherCapabilityFilter]). Strict: an execution is compatible with
// a filter when its pinned version lies in any of the filter's ranges, never
// when it lies between them. Not required: duroxide's runtime builds every
// filter from one range, and duroxide's SQLite provider only reads the
// first.
func fetchFilterMatchesAnyRange(t T, h *Harness) {
	filter := &duroxide.DispatcherCapabilityFilter{SupportedDuroxideVersions: []duroxide.SemverRange{
		capRange(capVer(1, 0, 0), capVer(1, 5, 0)),
		capRange(capVer(3, 0, 0), capVer(3, 5, 0)),
	}}
	capSeed(t, h, "inst-range-a", capVer(1, 0, 0))
	capSeed(t, h, "inst-range-b", capVer(3, 0, 0))
	capSeed(t, h, "inst-range-gap", capVer(2, 0, 0))

	// Holding the locks, the filter yields exactly the instances of both
	// ranges, never the gap.
	var got []string
	for range 2 {
		item := capFetch(t, h, filter)
		require.NotNil(t, item, "both range instances must be returned, got only %v", got)
		got = append(got, item.Instance)
	}
	slices.Sort(got)
	require.Equal(t, []string{"inst-range-a", "inst-range-b"}, got, "an execution is compatible if it lies in any range")
	capRequireNone(t, h, filter, "2.0.0 lies in no range")
	capMustFetch(t, h, nil, "inst-range-gap")
}

// An ack on undecodable history appends (here, the runtime's poison event at
// the sentinel id) without reading the stored rows, and the management API
// reports the result without parsing history.
func ackAppendsEventToCorruptedHistory(t T, h *Harness) {
	const inst = "inst-ack-corrupt-45"
	admin := h.Admin(t)
	capSeedCorrupt(t, h, inst, capVer(1, 0, 0))

	item := capFetch(t, h, nil)
	capRequireHistoryError(t, item, inst)
	// Stronger than duroxide: name and version, written back below, are the
	// stored ones.
	require.Equal(t, testOrch, item.OrchestrationName)
	require.Equal(t, testVersion, item.Version)

	details := duroxide.Poison{
		AttemptCount: 4,
		MaxAttempts:  3,
		MessageType: duroxide.PoisonFailedDeserialization{
			Instance: inst, ExecutionID: item.ExecutionID, Error: item.HistoryError,
		},
		Message: item.HistoryError,
	}
	failed := event(inst, duroxide.PoisonSentinelEventID, duroxide.OrchestrationFailed{Details: details})
	failed.ExecutionID = item.ExecutionID
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  item.ExecutionID,
		HistoryDelta: []duroxide.Event{failed},
		Metadata: duroxide.ExecutionMetadata{
			Status:               duroxide.StatusFailed,
			Output:               ptr(details.DisplayMessage()),
			OrchestrationName:    ptr(item.OrchestrationName),
			OrchestrationVersion: ptr(item.Version),
		},
	})

	info, err := admin.GetInstanceInfo(t.Context(), inst)
	require.NoError(t, err, "get_instance_info must not parse history")
	require.Equal(t, duroxide.StatusFailed, info.Status)
	require.NotNil(t, info.Output)
	require.Contains(t, *info.Output, "deserialization failed")

	// Stronger than duroxide: the batch is gone, the lock released, the
	// execution record failed, and the corrupt rows are still stored as they
	// were (neither rewritten nor dropped), so reading history still fails.
	requireNoOrch(t, h, "the poison ack must delete the batch")
	exec, err := admin.GetExecutionInfo(t.Context(), inst, item.ExecutionID)
	require.NoError(t, err)
	require.Equal(t, duroxide.StatusFailed, exec.Status)
	_, err = h.Provider.Read(t.Context(), inst)
	requirePermanentIs(t, err, duroxide.ErrCorruptData, "reading corrupt history must fail")
}

// Not in duroxide ([duroxide.SemverRange]: standard semver ordering).
// Versions compare
// numerically per component: 1.10.0 > 1.9.99, though string order says
// otherwise. Required: a provider comparing strings would hand 1.10.0
// history to a dispatcher that supports only up to 1.9.x, which cannot
// replay it.
func fetchFilterComparesVersionsNumerically(t T, h *Harness) {
	capSeed(t, h, "inst-1-10", capVer(1, 10, 0))
	capRequireNone(t, h, capFilter(capVer(1, 0, 0), capVer(1, 9, 99)), "1.10.0 is above 1.9.99")
	item := capMustFetch(t, h, capFilter(capVer(1, 2, 0), capVer(1, 10, 0)), "inst-1-10", "1.10.0 is within [1.2.0, 1.10.0]")
	abandonOrch(t, h, item.LockToken, true)
	capMustFetch(t, h, capFilter(capVer(1, 9, 100), capVer(1, 11, 0)), "inst-1-10", "1.10.0 is within [1.9.100, 1.11.0]")
}

// Not in duroxide ([duroxide.SemverRange]). Strict: components compare as whole numbers at
// any size: 1.0.1000 < 1.1.0. Not required: duroxide's SQLite provider packs
// versions as major*10^6 + minor*10^3 + patch, which is exact while minor
// and patch stay below 1000, as duroxide's own versions do.
func fetchFilterComparesComponentsAbove999(t T, h *Harness) {
	capSeed(t, h, "inst-1-0-1000", capVer(1, 0, 1000))
	capRequireNone(t, h, capFilter(capVer(1, 1, 0), capVer(1, 1, 0)), "1.0.1000 is below 1.1.0")
	capMustFetch(t, h, capFilter(capVer(1, 0, 999), capVer(1, 0, 1000)), "inst-1-0-1000")
}

// Not in duroxide ([duroxide.Provider.FetchOrchestrationItem]; the
// pinned version is the instance record's): an instance with no instance
// record (a first start, or history acked without name/version metadata)
// has no pinned version and matches every filter.
func fetchFilterInstanceWithoutRecordIsCompatible(t T, h *Harness) {
	const inst = "inst-new"
	filter := capFilter(capVer(99, 0, 0), capVer(99, 9, 9))
	enqueueOrch(t, h, startItem(inst))
	item := capMustFetch(t, h, filter, inst, "a never-acked instance must match every filter")
	// Default metadata: history is stored, but no record and no pinned version.
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{capStarted(inst, 1, "5.0.0")},
	})
	capPing(t, h, inst, "ping")
	got := capMustFetch(t, h, filter, inst, "an instance without record must match every filter")
	capPingBatch(t, got, "ping")
}

// Not in duroxide (each execution pins its own version, from the ack that
// starts it): a new execution acked without a pinned
// version does not inherit its predecessor's; it is unpinned and matches
// every filter.
func newExecutionWithoutPinnedVersionDoesNotInherit(t T, h *Harness) {
	const inst = "inst-can-null"
	capSeed(t, h, inst, capVer(1, 0, 0))
	item := capMustFetch(t, h, nil, inst)
	capContinueAsNew(t, h, item.LockToken, inst)
	can := capMustFetch(t, h, nil, inst)
	ack(t, h, can.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  2,
		HistoryDelta: []duroxide.Event{capStarted(inst, 2, "1.0.0")},
		Metadata:     capNamed(nil),
	})
	capPing(t, h, inst, "ping")
	got := capMustFetch(t, h, capFilter(capVer(2, 0, 0), capVer(2, 9, 9)), inst,
		"execution 2 has no pinned version and must match; 1.0.0 must not be inherited")
	require.Equal(t, uint64(2), got.ExecutionID)
}
