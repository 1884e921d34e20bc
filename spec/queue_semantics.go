package spec

import (
	"fmt"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// queueSemanticsCases: the worker queue is a FIFO peek-lock queue, delays
// decide visibility, and orphan mailbox messages are dropped.
func queueSemanticsCases() []Case {
	return []Case{
		{"queue_semantics", "worker_queue_fifo_ordering", queueSemWorkerQueueFIFOOrdering, Required},
		{"queue_semantics", "worker_peek_lock_semantics", queueSemWorkerPeekLockSemantics, Required},
		{"queue_semantics", "worker_ack_atomicity", queueSemWorkerAckAtomicity, Required},
		{"queue_semantics", "timer_delayed_visibility", queueSemTimerDelayedVisibility, Required},
		{"queue_semantics", "lost_lock_token_handling", queueSemLostLockTokenHandling, Required},
		{"queue_semantics", "worker_item_immediate_visibility", queueSemWorkerItemImmediateVisibility, Required},
		{"queue_semantics", "worker_delayed_visibility_skips_future_items", queueSemWorkerDelayedVisibilitySkipsFutureItems, Required},
		{"queue_semantics", "orphan_queue_messages_dropped", queueSemOrphanQueueMessagesDropped, Required},
		// Not in duroxide: the head-of-line rule (a message not yet visible
		// never keeps another instance's visible messages from being fetched).
		{"queue_semantics", "early_message_does_not_block_other_instances", queueSemEarlyMessageDoesNotBlock, Required},
		// Not in duroxide: rules TestMutants showed no case checked.
		{"queue_semantics", "acked_timer_visible_at_fire_at", queueSemAckedTimerVisibleAtFireAt, Required},
		{"queue_semantics", "returned_history_not_aliased", queueSemReturnedHistoryNotAliased, Required},
		// Required: the contract's ownership rule (Provider, Ownership: a
		// provider never retains slices, maps or pointers passed in, and never
		// returns values that alias its state). The runtime reuses and
		// mutates its buffers after a call returns; a provider that keeps them
		// lets that rewrite stored history and queued messages.
		{"queue_semantics", "written_values_not_retained", queueSemWrittenValuesNotRetained, Required},
	}
}

// queueSemActivity is an untagged, session-less ActivityExecute of execution
// 1 with the given name and input.
func queueSemActivity(instance string, id uint64, name, input string) duroxide.ActivityExecuteItem {
	a := activityItem(instance, id)
	a.Name = name
	a.Input = input
	return a
}

// queueSemShortDelay is a visibility delay that is long against the time
// between two provider calls: 5 s on a fake clock (free), five Slacks in
// real time so the real-time run stays fast. It is always at least 5 Slacks,
// so waiting delay-2*Slack stays positive.
func queueSemShortDelay(h *Harness) time.Duration {
	d := 5 * h.Slack
	if h.FakeTime() {
		d = max(d, 5*time.Second)
	}
	return d
}

// Worker items are fetched in enqueue order.
func queueSemWorkerQueueFIFOOrdering(t T, h *Harness) {
	const inst = "instance-A"
	for i := range uint64(5) {
		enqueueWorker(t, h, queueSemActivity(inst, i, fmt.Sprintf("Activity%d", i), fmt.Sprintf("input%d", i)))
	}
	tokens := map[string]bool{}
	for i := range uint64(5) {
		w := mustFetchWork(t, h, longLock)
		// Stronger than duroxide: the whole item comes back unchanged, on its
		// first delivery, with a token of its own.
		require.Equal(t, queueSemActivity(inst, i, fmt.Sprintf("Activity%d", i), fmt.Sprintf("input%d", i)), w.Item)
		require.Equal(t, uint32(1), w.AttemptCount)
		require.False(t, tokens[w.LockToken], "lock token %q issued twice", w.LockToken)
		tokens[w.LockToken] = true
	}
	require.Nil(t, fetchWork(t, h, longLock), "queue should be empty")

	// Stronger than duroxide: the order is enqueue order, not id, name or
	// instance order, even when every enqueue happens at the same clock
	// instant (as on a fake clock).
	order := []duroxide.ActivityExecuteItem{
		queueSemActivity("instance-C", 9, "Zeta", "a"),
		queueSemActivity("instance-A", 7, "Alpha", "b"),
		queueSemActivity("instance-B", 8, "Mu", "c"),
		queueSemActivity("instance-A", 1, "Beta", "d"),
	}
	for _, a := range order {
		enqueueWorker(t, h, a)
	}
	for i, want := range order {
		w := mustFetchWork(t, h, longLock)
		require.Equal(t, want, w.Item, "fetch %d must return the %d-th enqueued item", i, i)
	}
	require.Nil(t, fetchWork(t, h, longLock), "queue should be empty")
}

// A fetch locks a worker item without removing it; only the ack removes it.
func queueSemWorkerPeekLockSemantics(t T, h *Harness) {
	const inst = "instance-A"
	enqueueWorker(t, h, queueSemActivity(inst, 1, "Activity1", "input1"))
	w := mustFetchWork(t, h, h.LockTimeout)
	require.IsType(t, duroxide.ActivityExecuteItem{}, w.Item)
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "a locked item must not be fetched again")

	ackWork(t, h, w.LockToken, completedItem(inst, 1, "result1"))
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "ack must remove the item")

	// Stronger than duroxide: the token is spent after the ack.
	err := h.Provider.AckWorkItem(t.Context(), w.LockToken, completedItem(inst, 1, "result1"))
	requireInvalidToken(t, err, "a second ack with the same token must fail")

	// Stronger than duroxide: the ack deleted the item rather than leaving it
	// locked: it does not come back after its lock would have expired.
	h.Sleep(t, h.LockTimeout+h.Slack)
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "an acked item must never be redelivered")
}

// ack_work_item deletes the worker item and enqueues its completion to the
// orchestrator queue together.
func queueSemWorkerAckAtomicity(t T, h *Harness) {
	const inst = "instance-A"
	createStarted(t, h, inst)

	enqueueWorker(t, h, queueSemActivity(inst, 1, "Activity1", "input1"))
	w := mustFetchWork(t, h, longLock)

	// Stronger than duroxide: an ack that fails (a completion that is not an
	// orchestrator message) changes nothing: the item stays locked under its
	// token and no completion is enqueued.
	err := h.Provider.AckWorkItem(t.Context(), w.LockToken, activityItem(inst, 1))
	requirePermanentIs(t, err, duroxide.ErrInvalidArgument, "ack with an ActivityExecute completion must fail")
	require.Nil(t, fetchWork(t, h, longLock), "a failed ack must keep the item locked")
	requireNoOrch(t, h, "a failed ack must not enqueue a completion")

	completion := completedItem(inst, 1, "result1")
	ackWork(t, h, w.LockToken, completion)

	require.Nil(t, fetchWork(t, h, longLock), "worker queue must be empty after the ack")
	item := fetchInstance(t, h, inst)
	require.Len(t, item.Messages, 1, "the start was consumed by the first ack; only the completion remains")
	require.IsType(t, duroxide.ActivityCompletedItem{}, item.Messages[0])
	// Stronger than duroxide: the completion arrives unchanged, on its first
	// delivery, with the instance's history.
	require.Equal(t, duroxide.WorkItem(completion), item.Messages[0])
	require.Equal(t, uint32(1), item.AttemptCount)
	require.Equal(t, []uint64{1}, eventIDs(item.History))
}

// A TimerFired enqueued directly with a delay is invisible until the delay
// has passed; its fire_at_ms does not count on this path.
func queueSemTimerDelayedVisibility(t T, h *Harness) {
	const inst = "instance-A"
	createStarted(t, h, inst)

	// duroxide uses 5 s; real-time mode scales it down to a few Slacks.
	delay := queueSemShortDelay(h)
	timer := duroxide.TimerFiredItem{Instance: inst, ExecutionID: 1, ID: 1, FireAtMs: 0}
	require.NoError(t, h.Provider.EnqueueForOrchestrator(t.Context(), timer, delay))
	requireNoOrch(t, h, "a delayed timer must not be visible at once, whatever its fire_at_ms")

	// Stronger than duroxide: still invisible shortly before the delay ends.
	h.Sleep(t, delay-2*h.Slack)
	requireNoOrch(t, h, "a delayed timer must stay invisible until now+delay")

	h.Sleep(t, 3*h.Slack)
	item := fetchInstance(t, h, inst)
	require.Len(t, item.Messages, 1)
	require.IsType(t, duroxide.TimerFiredItem{}, item.Messages[0])
	// Stronger than duroxide: the timer is delivered unchanged (fire_at_ms 0
	// is not rewritten).
	require.Equal(t, duroxide.WorkItem(timer), item.Messages[0])
	ackEmpty(t, h, item.LockToken)

	// Stronger than duroxide: the converse: with no delay, a fire_at_ms an
	// hour ahead does not hide the timer either.
	future := duroxide.TimerFiredItem{Instance: inst, ExecutionID: 1, ID: 2, FireAtMs: h.NowMs() + uint64(time.Hour/time.Millisecond)}
	require.NoError(t, h.Provider.EnqueueForOrchestrator(t.Context(), future, 0))
	again := mustFetchOrch(t, h, longLock)
	require.Equal(t, []duroxide.WorkItem{future}, again.Messages, "enqueue_for_orchestrator must ignore fire_at_ms")
}

// A worker item whose token is lost is redelivered once its lock expires.
func queueSemLostLockTokenHandling(t T, h *Harness) {
	const inst = "instance-A"
	want := queueSemActivity(inst, 1, "Activity1", "input1")
	enqueueWorker(t, h, want)
	first := mustFetchWork(t, h, h.LockTimeout)
	// The token is dropped, as by a crashed worker.
	require.Nil(t, fetchWork(t, h, h.LockTimeout), "a locked item must not be fetched again")

	// Stronger than duroxide: the lock holds until its timeout, not less.
	if early := h.LockTimeout - 2*h.Slack; early > 0 {
		h.Sleep(t, early)
		require.Nil(t, fetchWork(t, h, h.LockTimeout), "the item must stay locked until its lock expires")
		h.Sleep(t, 3*h.Slack)
	} else {
		h.Sleep(t, h.LockTimeout+h.Slack)
	}
	again := mustFetchWork(t, h, h.LockTimeout)
	require.IsType(t, duroxide.ActivityExecuteItem{}, again.Item)
	// Stronger than duroxide: the redelivery is the same item with a new
	// token and a second attempt, and the lost token is dead.
	require.Equal(t, duroxide.WorkItem(want), again.Item)
	require.NotEqual(t, first.LockToken, again.LockToken)
	require.Equal(t, uint32(2), again.AttemptCount)
	err := h.Provider.AckWorkItem(t.Context(), first.LockToken, completedItem(inst, 1, "stale"))
	requireInvalidToken(t, err, "ack with a superseded token must fail")
	ackWork(t, h, again.LockToken, completedItem(inst, 1, "done"))
}

// A newly enqueued worker item is visible at once.
func queueSemWorkerItemImmediateVisibility(t T, h *Harness) {
	const inst = "test-immediate-vis"
	want := queueSemActivity(inst, 1, "TestActivity", "test")
	enqueueWorker(t, h, want)
	w := fetchWork(t, h, h.LockTimeout)
	require.NotNil(t, w, "newly enqueued worker item should be immediately visible")
	require.IsType(t, duroxide.ActivityExecuteItem{}, w.Item)
	require.Equal(t, "TestActivity", w.Item.(duroxide.ActivityExecuteItem).Name)
	// Stronger than duroxide: the whole item is returned unchanged, as its
	// first delivery; on a fake clock no time passed between enqueue and fetch.
	require.Equal(t, duroxide.WorkItem(want), w.Item)
	require.Equal(t, uint32(1), w.AttemptCount)
	ackWork(t, h, w.LockToken, completedItem(inst, 1, "done"))
	// Stronger than duroxide: the ack removed it.
	require.Nil(t, fetchWork(t, h, h.LockTimeout))
}

// A worker item abandoned with a delay is unlocked but invisible: FIFO
// selection skips it and returns later items until the delay has passed.
func queueSemWorkerDelayedVisibilitySkipsFutureItems(t T, h *Harness) {
	const inst = "test-delayed-vis"
	// Locks must outlive the abandon delay: duroxide's lock_timeout does only
	// because it is at least 1 s; longLock makes that explicit.
	enqueueWorker(t, h, queueSemActivity(inst, 1, "Activity1", "first"))
	enqueueWorker(t, h, queueSemActivity(inst, 2, "Activity2", "second"))

	item1 := mustFetchWork(t, h, longLock)
	require.Equal(t, uint64(1), item1.Item.(duroxide.ActivityExecuteItem).ID)
	// duroxide uses 500 ms; derived from the harness here.
	delay := queueSemShortDelay(h)
	require.NoError(t, h.Provider.AbandonWorkItem(t.Context(), item1.LockToken, delay, false), "abandon_work_item")

	item2 := mustFetchWork(t, h, longLock)
	require.Equal(t, uint64(2), item2.Item.(duroxide.ActivityExecuteItem).ID, "should skip the delayed item and fetch the second")
	require.Nil(t, fetchWork(t, h, longLock), "no items should be available: 1 is delayed, 2 is locked")

	// Stronger than duroxide: item 1 stays invisible until the delay ends.
	h.Sleep(t, delay-2*h.Slack)
	require.Nil(t, fetchWork(t, h, longLock), "the abandoned item must stay invisible until now+delay")

	h.Sleep(t, 3*h.Slack)
	item3 := mustFetchWork(t, h, longLock)
	require.Equal(t, uint64(1), item3.Item.(duroxide.ActivityExecuteItem).ID, "first item should be visible after the delay")
	// Stronger than duroxide: the abandon kept the attempt (no
	// ignore_attempt), and the abandoned token is spent.
	require.Equal(t, uint32(2), item3.AttemptCount)
	require.NotEqual(t, item1.LockToken, item3.LockToken)
	err := h.Provider.AckWorkItem(t.Context(), item1.LockToken, completedItem(inst, 1, "stale"))
	requireInvalidToken(t, err, "ack with an abandoned token must fail")

	ackWork(t, h, item2.LockToken, completedItem(inst, 2, "done"))
	ackWork(t, h, item3.LockToken, completedItem(inst, 1, "done"))
}

// QueueMessages for an instance that was never started are dropped by the
// fetch; for an existing instance they are delivered.
func queueSemOrphanQueueMessagesDropped(t T, h *Harness) {
	const orphan = "orphan-test"
	for _, data := range []string{"v1", "v2"} {
		enqueueOrch(t, h, duroxide.QueueMessageItem{Instance: orphan, Name: "ConfigUpdate", Data: data})
	}
	require.Nil(t, fetchOrch(t, h, 5*time.Second), "expected no work for orphan queue messages")
	require.Nil(t, fetchOrch(t, h, 5*time.Second), "orphan messages must not come back")

	const existing = "orphan-test-existing"
	createInstance(t, h, existing)
	v3 := duroxide.QueueMessageItem{Instance: existing, Name: "ConfigUpdate", Data: "v3"}
	enqueueOrch(t, h, v3)
	item := mustFetchOrch(t, h, 5*time.Second)
	require.Equal(t, existing, item.Instance)
	require.Contains(t, item.Messages, duroxide.WorkItem(v3))
	// Stronger than duroxide: the batch is exactly that message.
	require.Equal(t, []duroxide.WorkItem{v3}, item.Messages)
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{ExecutionID: item.ExecutionID})

	// Stronger than duroxide: the orphans were deleted, not merely skipped:
	// when the instance is started later, its first batch holds only the
	// start.
	enqueueOrch(t, h, startItem(orphan))
	started := fetchInstance(t, h, orphan)
	require.Equal(t, []duroxide.WorkItem{startItem(orphan)}, started.Messages, "dropped orphan messages must not be delivered later")

	// Stronger than duroxide: a QueueMessage is not an orphan when its batch
	// also holds the instance's start; the batch is delivered in order.
	const early = "orphan-test-early"
	early1 := duroxide.QueueMessageItem{Instance: early, Name: "ConfigUpdate", Data: "early"}
	enqueueOrch(t, h, early1)
	enqueueOrch(t, h, startItem(early))
	batch := fetchInstance(t, h, early)
	require.Equal(t, []duroxide.WorkItem{early1, startItem(early)}, batch.Messages)
}

// An instance that was never started and whose only messages cannot start it
// (an external event that arrived before its StartOrchestration) must not
// stall other instances: fetch skips it without locking it or counting an
// attempt, keeps its messages, and delivers them with the start once the
// start arrives.
//
// Required, although duroxide's SQLite provider fails it: it returns no work
// to every fetcher while such a message is the oldest in the queue, so one
// client raising an event for an instance that does not exist yet stalls
// every orchestration of the store until that instance starts. No
// behaviour of the runtime makes up for that.
func queueSemEarlyMessageDoesNotBlock(t T, h *Harness) {
	const early, other = "early-instance", "other-instance"
	enqueueOrch(t, h, externalItem(early, "too-soon"))
	enqueueOrch(t, h, startItem(other))

	item := fetchInstance(t, h, other, "the early message must not block another instance's start")
	requireNoOrch(t, h, "the early message alone cannot start its instance")
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: []duroxide.Event{startedEvent(other, 1, testVersion)},
		Metadata:     nameVersion(testOrch, testVersion),
	})

	enqueueOrch(t, h, startItem(early))
	got := fetchInstance(t, h, early)
	require.Equal(t, []duroxide.WorkItem{externalItem(early, "too-soon"), startItem(early)}, got.Messages,
		"the early message was kept, and the batch is in enqueue order")
	require.Equal(t, uint32(1), got.AttemptCount, "skipping the instance must not have counted an attempt")
	require.Equal(t, testOrch, got.OrchestrationName)
}

// Not in duroxide ([duroxide.OrchestrationAck]): a TimerFired enqueued through an
// ack becomes visible at its fire_at_ms, not at once, and other messages of
// the same ack are not held back by it.
func queueSemAckedTimerVisibleAtFireAt(t T, h *Harness) {
	const inst = "acked-timer"
	delay := 4 * h.Slack
	enqueueOrch(t, h, startItem(inst))
	item := mustFetchOrch(t, h, longLock)
	fireAt := h.NowMs() + uint64(delay.Milliseconds())
	ack(t, h, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion), event(inst, 2, duroxide.TimerCreated{FireAtMs: fireAt})},
		OrchestratorItems: []duroxide.WorkItem{
			duroxide.TimerFiredItem{Instance: inst, ExecutionID: 1, ID: 2, FireAtMs: fireAt},
		},
		Metadata: nameVersion(testOrch, testVersion),
	})
	require.Nil(t, fetchOrch(t, h, longLock), "the timer is not visible before fire_at_ms")
	h.Sleep(t, delay-2*h.Slack)
	require.Nil(t, fetchOrch(t, h, longLock), "still invisible just before fire_at_ms")
	h.Sleep(t, 3*h.Slack)
	got := mustFetchOrch(t, h, longLock)
	require.Equal(t, []duroxide.WorkItem{duroxide.TimerFiredItem{Instance: inst, ExecutionID: 1, ID: 2, FireAtMs: fireAt}}, got.Messages)
}

// Not in duroxide (Provider ownership rule): history returned by a fetch or
// a read is the caller's; changing it, through its pointer fields too, does
// not change what is stored.
func queueSemReturnedHistoryNotAliased(t T, h *Harness) {
	const inst = "history-owner"
	started := startedEvent(inst, 1, testVersion)
	started.Kind = duroxide.OrchestrationStarted{Name: testOrch, Version: testVersion, Input: "{}", ParentInstance: ptr("parent"), ParentID: ptr(uint64(7))}
	completed := event(inst, 2, duroxide.ActivityCompleted{Result: "r"})
	completed.SourceEventID = ptr(uint64(1))
	want := []duroxide.Event{started, completed}

	enqueueOrch(t, h, startItem(inst))
	first := mustFetchOrch(t, h, longLock)
	ack(t, h, first.LockToken, duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: want, Metadata: nameVersion(testOrch, testVersion)})

	enqueueOrch(t, h, externalItem(inst, "poke"))
	item := mustFetchOrch(t, h, longLock)
	require.Equal(t, want, item.History)
	scribble := func(events []duroxide.Event) {
		os := events[0].Kind.(duroxide.OrchestrationStarted)
		*os.ParentInstance = "scribbled"
		*os.ParentID = 99
		*events[1].SourceEventID = 99
		events[0].EventID = 42
	}
	scribble(item.History)
	require.Equal(t, want, read(t, h, inst), "changing a fetched history must not change the stored one")
	events := read(t, h, inst)
	scribble(events)
	require.Equal(t, want, read(t, h, inst), "changing a read history must not change the stored one")
	abandonOrch(t, h, item.LockToken, false)
	again := mustFetchOrch(t, h, longLock)
	require.Equal(t, want, again.History, "the next fetch is unchanged")
}

// Not in duroxide (Provider ownership rule): every value written (enqueued
// items, an ack's history, items and metadata, a worker ack's completion,
// appended events) is copied, nested pointers and slices included, and every
// item returned by a fetch is the caller's: changing either afterwards does
// not change what is stored.
func queueSemWrittenValuesNotRetained(t T, h *Harness) {
	const inst = "owner-in"
	ctx := t.Context()
	start := func() duroxide.StartOrchestrationItem {
		s := startItem(inst)
		s.ParentInstance, s.ParentID = ptr("parent"), ptr(uint64(3))
		return s
	}
	nondeterminism := func() duroxide.ErrorDetails {
		return duroxide.Configuration{Kind: duroxide.Nondeterminism, Resource: "r", Message: ptr("m")}
	}
	scribbleDetails := func(d duroxide.ErrorDetails) { *d.(duroxide.Configuration).Message = "scribbled" }

	// EnqueueForOrchestrator, then a fetched message.
	in := start()
	enqueueOrch(t, h, in)
	*in.Version, *in.ParentInstance, *in.ParentID = "scribbled", "scribbled", 99
	item := fetchInstance(t, h, inst)
	require.Equal(t, []duroxide.WorkItem{start()}, item.Messages, "changing an enqueued item must not change the stored one")
	*item.Messages[0].(duroxide.StartOrchestrationItem).Version = "scribbled"
	abandonOrch(t, h, item.LockToken, false)
	item = fetchInstance(t, h, inst)
	require.Equal(t, []duroxide.WorkItem{start()}, item.Messages, "changing a fetched item must not change the stored one")

	// AckOrchestrationItem: history delta, worker and orchestrator items,
	// metadata.
	delta := func() []duroxide.Event {
		started := startedEvent(inst, 1, testVersion)
		started.Kind = duroxide.OrchestrationStarted{
			Name: testOrch, Version: testVersion, Input: "{}", ParentInstance: ptr("parent"),
			CarryForwardEvents: []duroxide.CarriedEvent{{Name: "n", Data: "d"}}, InitialCustomStatus: ptr("c"),
		}
		failed := event(inst, 2, duroxide.ActivityFailed{Details: nondeterminism()})
		failed.SourceEventID = ptr(uint64(1))
		return []duroxide.Event{started, failed, event(inst, 3, duroxide.ActivityScheduled{Name: "A", Input: "{}", Tag: ptr("t")})}
	}
	activity := func() duroxide.ActivityExecuteItem {
		a := activityItem(inst, 3)
		a.Tag = ptr("t")
		return a
	}
	subFailed := func() duroxide.SubOrchFailedItem {
		return duroxide.SubOrchFailedItem{ParentInstance: inst, ParentExecutionID: 1, ParentID: 2, Details: nondeterminism()}
	}
	a := duroxide.OrchestrationAck{
		ExecutionID:       duroxide.InitialExecutionID,
		HistoryDelta:      delta(),
		WorkerItems:       []duroxide.WorkItem{activity()},
		OrchestratorItems: []duroxide.WorkItem{subFailed()},
		Metadata:          nameVersion(testOrch, testVersion),
	}
	ack(t, h, item.LockToken, a)
	started := a.HistoryDelta[0].Kind.(duroxide.OrchestrationStarted)
	*started.ParentInstance, *started.InitialCustomStatus = "scribbled", "scribbled"
	started.CarryForwardEvents[0].Name = "scribbled"
	scribbleDetails(a.HistoryDelta[1].Kind.(duroxide.ActivityFailed).Details)
	*a.HistoryDelta[1].SourceEventID = 99
	a.HistoryDelta[2] = event(inst, 3, duroxide.ExternalEvent{Name: "scribbled"})
	*a.WorkerItems[0].(duroxide.ActivityExecuteItem).Tag = "scribbled"
	scribbleDetails(a.OrchestratorItems[0].(duroxide.SubOrchFailedItem).Details)
	*a.Metadata.OrchestrationName = "scribbled"
	require.Equal(t, delta(), read(t, h, inst), "changing an acked history delta must not change the stored history")

	// The worker item, fetched, changed and fetched again; then AckWorkItem's
	// completion.
	fetchTagged := func() *duroxide.LockedWorkItem {
		t.Helper()
		w, err := h.Provider.FetchWorkItem(ctx, longLock, 0, nil, duroxide.FilterAny())
		require.NoError(t, err, "fetch_work_item")
		require.NotNil(t, w, "the acked worker item must be fetchable")
		return w
	}
	w := fetchTagged()
	require.Equal(t, duroxide.WorkItem(activity()), w.Item, "changing an acked worker item must not change the stored one")
	*w.Item.(duroxide.ActivityExecuteItem).Tag = "scribbled"
	abandonWork(t, h, w.LockToken, false)
	w = fetchTagged()
	require.Equal(t, duroxide.WorkItem(activity()), w.Item, "changing a fetched worker item must not change the stored one")
	completion := func() duroxide.ActivityFailedItem {
		return duroxide.ActivityFailedItem{Instance: inst, ExecutionID: 1, ID: 3, Details: nondeterminism()}
	}
	c := completion()
	ackWork(t, h, w.LockToken, c)
	scribbleDetails(c.Details)

	// The next turn: the acked orchestrator item and the completion, under
	// the acked name.
	want := []duroxide.WorkItem{subFailed(), completion()}
	item = fetchInstance(t, h, inst)
	require.Equal(t, testOrch, item.OrchestrationName, "changing acked metadata must not change the stored name")
	require.Equal(t, want, item.Messages, "changing acked items must not change the stored ones")
	scribbleDetails(item.Messages[0].(duroxide.SubOrchFailedItem).Details)
	scribbleDetails(item.Messages[1].(duroxide.ActivityFailedItem).Details)
	abandonOrch(t, h, item.LockToken, false)
	item = fetchInstance(t, h, inst)
	require.Equal(t, want, item.Messages, "changing fetched items must not change the stored ones")

	// AppendWithExecution.
	appended := func() duroxide.Event {
		e := event(inst, 4, duroxide.ActivityCompleted{Result: "r"})
		e.SourceEventID = ptr(uint64(3))
		return e
	}
	events := []duroxide.Event{appended()}
	require.NoError(t, h.Provider.AppendWithExecution(ctx, inst, duroxide.InitialExecutionID, events), "append_with_execution")
	*events[0].SourceEventID = 99
	require.Equal(t, append(delta(), appended()), read(t, h, inst), "changing appended events must not change the stored ones")
}
