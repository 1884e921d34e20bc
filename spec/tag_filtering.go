package spec

import (
	"context"
	"strconv"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// tagFilteringCases: a worker fetch takes only activities whose tag its
// TagFilter accepts, oldest first, and the tag is stored exactly on both
// enqueue paths and survives redelivery.
func tagFilteringCases() []Case {
	return []Case{
		{"tag_filtering", "default_only_fetches_untagged", defaultOnlyFetchesUntagged, Required},
		{"tag_filtering", "tags_fetches_only_matching", tagsFetchesOnlyMatching, Required},
		{"tag_filtering", "default_and_fetches_untagged_and_matching", defaultAndFetchesUntaggedAndMatching, Required},
		{"tag_filtering", "none_filter_returns_nothing", noneFilterReturnsNothing, Required},
		{"tag_filtering", "multi_tag_filter", multiTagFilter, Required},
		{"tag_filtering", "tag_round_trip_preservation", tagRoundTripPreservation, Required},
		{"tag_filtering", "any_filter_fetches_everything", anyFilterFetchesEverything, Required},
		{"tag_filtering", "tag_survives_abandon_and_refetch", tagSurvivesAbandonAndRefetch, Required},
		{"tag_filtering", "multi_runtime_tag_isolation", multiRuntimeTagIsolation, Required},
		{"tag_filtering", "tag_preserved_through_ack_orchestration_item", tagPreservedThroughAckOrchestrationItem, Required},
		// Not in duroxide:
		{"tag_filtering", "tag_comparison_is_exact_and_case_sensitive", tagComparisonIsExactAndCaseSensitive, Required},
		{"tag_filtering", "empty_string_tag_is_not_untagged", emptyStringTagIsNotUntagged, Required},
		{"tag_filtering", "none_filter_returns_at_once_despite_poll_timeout", noneFilterReturnsAtOnceDespitePollTimeout, Required},
		{"tag_filtering", "tag_and_session_filters_compose", tagAndSessionFiltersCompose, Required},
	}
}

// tagActivity is duroxide's tagged_activity: ActivityExecute "Activity<id>"
// of execution 1, input "{}", no session, tag (nil = untagged).
func tagActivity(instance string, id uint64, tag *string) duroxide.ActivityExecuteItem {
	a := activityItem(instance, id)
	a.Name = "Activity" + strconv.FormatUint(id, 10)
	a.Tag = tag
	return a
}

// tagTags builds a Tags filter.
func tagTags(t T, tags ...string) duroxide.TagFilter {
	t.Helper()
	f, err := duroxide.FilterTags(tags...)
	require.NoError(t, err, "FilterTags(%q)", tags)
	return f
}

// tagDefaultAnd builds a DefaultAnd filter.
func tagDefaultAnd(t T, tags ...string) duroxide.TagFilter {
	t.Helper()
	f, err := duroxide.FilterDefaultAnd(tags...)
	require.NoError(t, err, "FilterDefaultAnd(%q)", tags)
	return f
}

// tagFetch fetches a worker item with filter, a long lock, no poll and no
// session.
func tagFetch(t T, h *Harness, filter duroxide.TagFilter) *duroxide.LockedWorkItem {
	t.Helper()
	item, err := h.Provider.FetchWorkItem(t.Context(), longLock, 0, nil, filter)
	require.NoError(t, err, "fetch_work_item(%s)", filter)
	return item
}

// tagMustFetch fetches with filter and requires exactly want.
func tagMustFetch(t T, h *Harness, filter duroxide.TagFilter, want duroxide.ActivityExecuteItem, msgAndArgs ...any) *duroxide.LockedWorkItem {
	t.Helper()
	item := tagFetch(t, h, filter)
	require.NotNil(t, item, append([]any{"fetch_work_item(%s) returned no work, want id %d"}, filter, want.ID)...)
	require.Equal(t, want, item.Item, msgAndArgs...)
	return item
}

// tagRequireNone requires a fetch with filter to find no work.
func tagRequireNone(t T, h *Harness, filter duroxide.TagFilter, msgAndArgs ...any) {
	t.Helper()
	require.Nil(t, tagFetch(t, h, filter), msgAndArgs...)
}

// tagEnqueue enqueues every item to the worker queue, in order.
func tagEnqueue(t T, h *Harness, items ...duroxide.ActivityExecuteItem) {
	t.Helper()
	for _, a := range items {
		enqueueWorker(t, h, a)
	}
}

// tagActivityOf returns the fetched item as an ActivityExecuteItem.
func tagActivityOf(t T, w *duroxide.LockedWorkItem) duroxide.ActivityExecuteItem {
	t.Helper()
	a, ok := w.Item.(duroxide.ActivityExecuteItem)
	require.True(t, ok, "worker item is %T, want ActivityExecuteItem", w.Item)
	return a
}

// DefaultOnly takes untagged items only, in FIFO order, passing over tagged
// ones.
func defaultOnlyFetchesUntagged(t T, h *Harness) {
	a1, gpu, a3 := tagActivity("inst-1", 1, nil), tagActivity("inst-1", 2, ptr("gpu")), tagActivity("inst-1", 3, nil)
	tagEnqueue(t, h, a1, gpu, a3)
	// Full item equality: ids, and no tag on the returned items.
	tagMustFetch(t, h, duroxide.FilterDefaultOnly(), a1, "first untagged item")
	tagMustFetch(t, h, duroxide.FilterDefaultOnly(), a3, "second untagged item")
	tagRequireNone(t, h, duroxide.FilterDefaultOnly(), "no more untagged items")
	// Stronger than duroxide: the gpu item was passed over, not consumed.
	tagMustFetch(t, h, tagTags(t, "gpu"), gpu)
}

// Tags{gpu} takes only gpu items, in FIFO order.
func tagsFetchesOnlyMatching(t T, h *Harness) {
	items := []duroxide.ActivityExecuteItem{
		tagActivity("inst-1", 1, nil), tagActivity("inst-1", 2, ptr("gpu")),
		tagActivity("inst-1", 3, ptr("cpu")), tagActivity("inst-1", 4, ptr("gpu")),
	}
	tagEnqueue(t, h, items...)
	gpu := tagTags(t, "gpu")
	tagMustFetch(t, h, gpu, items[1])
	tagMustFetch(t, h, gpu, items[3])
	tagRequireNone(t, h, gpu, "no more gpu items")
	// Stronger than duroxide: the others are left for their own filters.
	tagMustFetch(t, h, duroxide.FilterDefaultOnly(), items[0])
	tagMustFetch(t, h, tagTags(t, "cpu"), items[2])
}

// DefaultAnd{gpu} takes untagged and gpu items in FIFO order, never cpu.
func defaultAndFetchesUntaggedAndMatching(t T, h *Harness) {
	items := []duroxide.ActivityExecuteItem{
		tagActivity("inst-1", 1, nil), tagActivity("inst-1", 2, ptr("gpu")), tagActivity("inst-1", 3, ptr("cpu")),
	}
	tagEnqueue(t, h, items...)
	filter := tagDefaultAnd(t, "gpu")
	tagMustFetch(t, h, filter, items[0], "untagged item first")
	tagMustFetch(t, h, filter, items[1], "then the gpu item")
	tagRequireNone(t, h, filter, "cpu-tagged item must not be fetched by DefaultAnd[gpu]")
	// Stronger than duroxide: the cpu item is still there.
	tagMustFetch(t, h, tagTags(t, "cpu"), items[2])
}

// None takes nothing, whatever is queued.
func noneFilterReturnsNothing(t T, h *Harness) {
	a1, gpu := tagActivity("inst-1", 1, nil), tagActivity("inst-1", 2, ptr("gpu"))
	tagEnqueue(t, h, a1, gpu)
	tagRequireNone(t, h, duroxide.FilterNone(), "TagFilter None must never return items")
	// Stronger than duroxide: None neither locked nor counted anything.
	for _, want := range []duroxide.ActivityExecuteItem{a1, gpu} {
		w := tagMustFetch(t, h, duroxide.FilterAny(), want)
		require.Equal(t, uint32(1), w.AttemptCount, "a None fetch must not count an attempt")
	}
}

// Tags with several tags takes items carrying any of them.
func multiTagFilter(t T, h *Harness) {
	items := []duroxide.ActivityExecuteItem{
		tagActivity("inst-1", 1, ptr("gpu")), tagActivity("inst-1", 2, ptr("tpu")),
		tagActivity("inst-1", 3, ptr("cpu")), tagActivity("inst-1", 4, nil),
	}
	tagEnqueue(t, h, items...)
	filter := tagTags(t, "gpu", "tpu")
	// Stronger than duroxide: whole items, not only their tags.
	tagMustFetch(t, h, filter, items[0], "gpu item")
	tagMustFetch(t, h, filter, items[1], "tpu item")
	tagRequireNone(t, h, filter, "cpu and untagged items must not be returned")
}

// A tag set on enqueue comes back unchanged on fetch.
func tagRoundTripPreservation(t T, h *Harness) {
	want := tagActivity("inst-1", 1, ptr("gpu"))
	tagEnqueue(t, h, want)
	w := tagMustFetch(t, h, tagTags(t, "gpu"), want, "the fetched item must equal the enqueued one")
	a := tagActivityOf(t, w)
	require.Equal(t, ptr("gpu"), a.Tag, "tag must be preserved")
	require.Equal(t, "Activity1", a.Name)
}

// Any takes every item, tagged or not.
func anyFilterFetchesEverything(t T, h *Harness) {
	items := []duroxide.ActivityExecuteItem{
		tagActivity("inst-1", 1, nil), tagActivity("inst-2", 2, ptr("gpu")), tagActivity("inst-3", 3, ptr("cpu")),
	}
	tagEnqueue(t, h, items...)
	var got []duroxide.WorkItem
	for i := range items {
		w := tagFetch(t, h, duroxide.FilterAny())
		require.NotNil(t, w, "Any must fetch item %d of 3", i+1)
		got = append(got, w.Item)
	}
	// Stronger than duroxide: the three fetches are the three items, oldest
	// first.
	require.Equal(t, []duroxide.WorkItem{items[0], items[1], items[2]}, got)
	tagRequireNone(t, h, duroxide.FilterAny(), "queue must be empty")
}

// An abandoned tagged item comes back with its tag, to the same filter, with
// a new token and a higher attempt count; DefaultOnly never sees it.
func tagSurvivesAbandonAndRefetch(t T, h *Harness) {
	gpuItem, plain := tagActivity("inst-1", 1, ptr("gpu")), tagActivity("inst-1", 2, nil)
	tagEnqueue(t, h, gpuItem, plain)
	gpu := tagTags(t, "gpu")
	first := tagMustFetch(t, h, gpu, gpuItem)
	// Stronger than duroxide: exact attempt counts.
	require.Equal(t, uint32(1), first.AttemptCount)
	abandonWork(t, h, first.LockToken, false)

	second := tagMustFetch(t, h, gpu, gpuItem, "abandoned item must reappear with its tag")
	require.Equal(t, uint32(2), second.AttemptCount, "attempt count must increase after abandon")
	require.NotEqual(t, first.LockToken, second.LockToken, "lock token must differ")

	tagMustFetch(t, h, duroxide.FilterDefaultOnly(), plain, "DefaultOnly must see only the untagged item")
	// Stronger than duroxide: and nothing after it.
	tagRequireNone(t, h, duroxide.FilterDefaultOnly())
}

// Workers with different filters share one queue: each gets only what its
// filter accepts and nothing another worker holds.
func multiRuntimeTagIsolation(t T, h *Harness) {
	items := []duroxide.ActivityExecuteItem{
		tagActivity("inst-1", 1, nil), tagActivity("inst-2", 2, ptr("gpu")), tagActivity("inst-3", 3, ptr("cpu")),
		tagActivity("inst-4", 4, ptr("fpga")), tagActivity("inst-5", 5, ptr("gpu")),
	}
	tagEnqueue(t, h, items...)

	// Mutually exclusive: DefaultOnly sees only the untagged item.
	tagMustFetch(t, h, duroxide.FilterDefaultOnly(), items[0])
	tagRequireNone(t, h, duroxide.FilterDefaultOnly(), "no more untagged items")

	// Partial overlap: gpu+cpu takes gpu(2) and cpu(3).
	gpuCPU := tagTags(t, "gpu", "cpu")
	var got []duroxide.WorkItem
	for range 2 {
		w := tagFetch(t, h, gpuCPU)
		require.NotNil(t, w, "gpu+cpu filter must find an item")
		got = append(got, w.Item)
	}
	// Stronger than duroxide: whole items, and FIFO order (duroxide accepts
	// either order).
	require.Equal(t, []duroxide.WorkItem{items[1], items[2]}, got, "gpu+cpu must take gpu(2) then cpu(3)")

	// cpu(3) is locked, so cpu+fpga gets fpga(4) only.
	cpuFPGA := tagTags(t, "cpu", "fpga")
	tagMustFetch(t, h, cpuFPGA, items[3])
	tagRequireNone(t, h, cpuFPGA, "cpu locked + fpga taken = nothing for cpu+fpga")

	// Full overlap: Any picks up the remaining gpu(5).
	tagMustFetch(t, h, duroxide.FilterAny(), items[4])
	tagRequireNone(t, h, duroxide.FilterAny(), "all items taken or locked")
}

// Tags of worker items enqueued by ack_orchestration_item are stored like
// those of enqueue_for_worker.
func tagPreservedThroughAckOrchestrationItem(t T, h *Harness) {
	const inst = "tag-ack-inst"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)
	gpuWork := duroxide.ActivityExecuteItem{
		Instance: inst, ExecutionID: 1, ID: 10, Name: "GpuWork", Input: `"model-v3"`, Tag: ptr("gpu"),
	}
	cpuWork := duroxide.ActivityExecuteItem{
		Instance: inst, ExecutionID: 1, ID: 11, Name: "CpuWork", Input: `"data"`,
	}
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{startedEvent(inst, duroxide.InitialEventID, testVersion)},
		WorkerItems:  []duroxide.WorkItem{gpuWork, cpuWork},
	})

	// Stronger than duroxide: whole items, not only name and tag.
	untagged := tagMustFetch(t, h, duroxide.FilterDefaultOnly(), cpuWork, "DefaultOnly must return the untagged item")
	ackWork(t, h, untagged.LockToken, nil)
	tagRequireNone(t, h, duroxide.FilterDefaultOnly(), "DefaultOnly must not see the gpu-tagged item")
	tagMustFetch(t, h, tagTags(t, "gpu"), gpuWork, "Tags[gpu] must return the gpu item with its tag")
}

// Not in duroxide ([duroxide.TagFilter]): tags compare by exact, case-sensitive equality;
// no case folding, prefix or pattern matching.
func tagComparisonIsExactAndCaseSensitive(t T, h *Harness) {
	upper, long, exact := tagActivity("inst-1", 1, ptr("GPU")), tagActivity("inst-1", 2, ptr("gpu-large")), tagActivity("inst-1", 3, ptr("gpu"))
	tagEnqueue(t, h, upper, long, exact)
	gpu := tagTags(t, "gpu")
	tagMustFetch(t, h, gpu, exact, "Tags[gpu] must take only the item tagged exactly gpu")
	tagRequireNone(t, h, gpu, "GPU and gpu-large are other tags")
	tagRequireNone(t, h, tagDefaultAnd(t, "gpu", "Gpu", "gpu-"), "no near-miss tag matches")
	tagMustFetch(t, h, tagTags(t, "GPU"), upper)
	tagMustFetch(t, h, tagTags(t, "gpu-large"), long)
}

// Not in duroxide ([duroxide.TagFilter]): the empty string is a real tag, distinct from
// untagged, on both enqueue paths.
func emptyStringTagIsNotUntagged(t T, h *Harness) {
	plain, empty := tagActivity("inst-1", 1, nil), tagActivity("inst-1", 2, ptr(""))
	tagEnqueue(t, h, empty, plain)
	tagMustFetch(t, h, duroxide.FilterDefaultOnly(), plain, "DefaultOnly must pass over the empty-string tag")
	tagRequireNone(t, h, duroxide.FilterDefaultOnly(), "an empty-string tag is not untagged")
	w := tagMustFetch(t, h, tagTags(t, ""), empty, "Tags[\"\"] must take the empty-string tag")
	require.NotNil(t, tagActivityOf(t, w).Tag, "the empty-string tag must not come back as untagged")

	// Through ack_orchestration_item too.
	const inst = "tag-empty-ack"
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)
	viaAck := tagActivity(inst, 7, ptr(""))
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  duroxide.InitialExecutionID,
		HistoryDelta: []duroxide.Event{startedEvent(inst, duroxide.InitialEventID, testVersion)},
		WorkerItems:  []duroxide.WorkItem{viaAck},
	})
	tagRequireNone(t, h, duroxide.FilterDefaultOnly(), "an empty-string tag from ack is not untagged")
	tagRequireNone(t, h, tagTags(t, "x"), "Tags[x] does not take the empty-string tag")
	tagMustFetch(t, h, tagDefaultAnd(t, ""), viaAck)
}

// tagWatchdog bounds, in real time, a fetch that must return at once.
const tagWatchdog = 5 * time.Second

// Not in duroxide ([duroxide.FilterNone], [duroxide.Provider.FetchWorkItem]):
// a None fetch returns no work at once, even
// with a poll timeout on a long-polling provider and work queued.
func noneFilterReturnsAtOnceDespitePollTimeout(t T, h *Harness) {
	tagEnqueue(t, h, tagActivity("inst-1", 1, nil), tagActivity("inst-1", 2, ptr("gpu")))
	poll := 10 * h.ShortPollThreshold
	type result struct {
		item *duroxide.LockedWorkItem
		err  error
	}
	ctx, cancel := context.WithTimeout(t.Context(), tagWatchdog)
	defer cancel()
	ch := make(chan result, 1)
	startClock, startWall := h.Now(), time.Now()
	go func() {
		item, err := h.Provider.FetchWorkItem(ctx, longLock, poll, nil, duroxide.FilterNone())
		ch <- result{item, err}
	}()
	var r result
	select {
	case r = <-ch:
	case <-time.After(tagWatchdog):
		require.FailNow(t, "None fetch did not return", "still blocked after %v of real time", tagWatchdog)
	}
	require.NoError(t, r.err)
	require.Nil(t, r.item, "None must return no work")
	require.Less(t, time.Since(startWall), h.ShortPollThreshold, "None must return at once, not wait for poll_timeout")
	if h.Clock != nil {
		require.Equal(t, startClock, h.Now(), "a None fetch must not wait on the provider's clock")
	}
}

// Not in duroxide ([duroxide.Provider.FetchWorkItem]): tag and session
// eligibility compose with AND: a
// session item needs a session config and an accepting tag filter.
func tagAndSessionFiltersCompose(t T, h *Harness) {
	inSession := tagActivity("inst-1", 1, ptr("gpu"))
	inSession.SessionID = ptr("session-1")
	plainGPU := tagActivity("inst-1", 2, ptr("gpu"))
	tagEnqueue(t, h, inSession, plainGPU)
	cfg := &duroxide.SessionFetchConfig{OwnerID: "worker-A", LockTimeout: longLock}
	fetch := func(session *duroxide.SessionFetchConfig, filter duroxide.TagFilter) *duroxide.LockedWorkItem {
		t.Helper()
		w, err := h.Provider.FetchWorkItem(t.Context(), longLock, 0, session, filter)
		require.NoError(t, err, "fetch_work_item(session=%v, %s)", session != nil, filter)
		return w
	}

	require.Nil(t, fetch(cfg, duroxide.FilterDefaultOnly()), "a session fetch must still apply the tag filter")
	w := fetch(nil, tagTags(t, "gpu"))
	require.NotNil(t, w)
	require.Equal(t, plainGPU, w.Item, "without a session config only the session-less gpu item is eligible")
	require.Nil(t, fetch(nil, duroxide.FilterAny()), "the session item needs a session config, whatever the tag filter")
	require.Nil(t, fetch(cfg, tagTags(t, "cpu")), "the session item's tag must be accepted")
	w = fetch(cfg, tagTags(t, "gpu"))
	require.NotNil(t, w, "session config and accepting filter together reach the session item")
	require.Equal(t, inSession, w.Item)
}
