package spec

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/duroxide-go/duroxide"
)

// Bench runs the provider benchmark suite as sub-benchmarks of b, with
// stable names a provider author can compare across providers and versions:
//
//   - OneActivityWorkflow: a whole one-activity orchestration at the provider
//     level (start, first turn, worker cycle, final turn).
//   - OrchestrationTurn: one fetch and one ack of an instance with a short
//     history (the ack enqueues the next turn's message).
//   - WorkerCycle: one fetch and one ack (with completion) of a work item.
//   - FanOut: one turn scheduling 100 activities, all executed, and the
//     fan-in turn.
//   - Enqueue: one visible message enqueued for an unlocked instance.
//   - Scale/...: OrchestrationTurn, WorkerCycle and Enqueue with a large
//     backlog that the measured operation must not pay for: messages queued
//     for other instances, instances locked by others, timers not yet due,
//     worker items of other tags, items of sessions other workers own, timers
//     pending on the very instance the message is enqueued for.
//   - Memory/...: heap bytes held per queued item with a small payload,
//     reported as the custom metric "B/item" (ns/op is meaningless there).
//   - Parallel/...: the turn and the worker cycle from GOMAXPROCS goroutines.
//
// newHarness is called once per sub-benchmark (and again for each b.N
// round). Benchmarks run on whatever clock the harness gives; a fake clock
// keeps time still, which the suite does not rely on.
//
// The suite builds the values it passes to the provider (work items, acks,
// instance ids) in batches with the timer stopped, as it deletes finished
// instances (see retainLimit): time and allocations per op are the
// provider's, not the cost of making its inputs. The parallel benchmarks are
// the exception (they build an ack per turn).
func Bench(b *testing.B, newHarness NewHarness) {
	b.Run("OneActivityWorkflow", func(b *testing.B) { benchOneActivity(b, newHarness(b).withDefaults()) })
	b.Run("OrchestrationTurn", func(b *testing.B) { benchTurn(b, newHarness(b).withDefaults(), 0) })
	b.Run("WorkerCycle", func(b *testing.B) { benchWorkerCycle(b, newHarness(b).withDefaults(), nil) })
	b.Run("FanOut", func(b *testing.B) { benchFanOut(b, newHarness(b).withDefaults(), 100) })
	b.Run("Enqueue", func(b *testing.B) { benchEnqueue(b, newHarness(b).withDefaults(), 0) })

	for _, n := range []int{1e3, 1e5, 1e6} {
		b.Run(fmt.Sprintf("Scale/TurnWithQueued=%d", n), func(b *testing.B) {
			benchTurn(b, newHarness(b).withDefaults(), n)
		})
	}
	for _, n := range []int{1e3, 1e5} {
		b.Run(fmt.Sprintf("Scale/TurnWithLocked=%d", n), func(b *testing.B) {
			h := newHarness(b).withDefaults()
			backlogLocked(b, h, n)
			benchTurn(b, h, 0)
		})
		b.Run(fmt.Sprintf("Scale/TurnWithFutureTimers=%d", n), func(b *testing.B) {
			h := newHarness(b).withDefaults()
			backlogTimers(b, h, n)
			benchTurn(b, h, 0)
		})
		b.Run(fmt.Sprintf("Scale/WorkerWithOtherTags=%d", n), func(b *testing.B) {
			h := newHarness(b).withDefaults()
			backlogTagged(b, h, n)
			benchWorkerCycle(b, h, nil)
		})
		b.Run(fmt.Sprintf("Scale/WorkerWithOwnedSessions=%d", n), func(b *testing.B) {
			h := newHarness(b).withDefaults()
			backlogSessions(b, h, n)
			benchWorkerCycle(b, h, &duroxide.SessionFetchConfig{OwnerID: "bench-worker", LockTimeout: time.Hour})
		})
		b.Run(fmt.Sprintf("Scale/EnqueueWithInstanceTimers=%d", n), func(b *testing.B) {
			benchEnqueue(b, newHarness(b).withDefaults(), n)
		})
	}
	b.Run("Memory/WorkerItem", func(b *testing.B) { benchMemory(b, newHarness(b).withDefaults(), true) })
	b.Run("Memory/OrchestratorMessage", func(b *testing.B) { benchMemory(b, newHarness(b).withDefaults(), false) })
	b.Run("Parallel/OrchestrationTurn", func(b *testing.B) { benchParallelTurn(b, newHarness(b).withDefaults()) })
	b.Run("Parallel/WorkerCycle", func(b *testing.B) { benchParallelWorker(b, newHarness(b).withDefaults()) })
}

// benchLock is the lock duration of every benchmark fetch.
const benchLock = time.Hour

// must fails the benchmark on err. It calls b.Helper only on failure:
// Helper walks the stack and would dominate the measured cost.
func must(b *testing.B, err error) {
	if err != nil {
		b.Helper()
		b.Fatal(err)
	}
}

// retainLimit bounds how many finished instances a benchmark leaves in the
// store: every retainLimit iterations, with the timer stopped, it deletes
// them through the management API (when the provider has one), so that the
// measured cost is that of a store holding at most retainLimit finished
// instances, whatever b.N is, rather than the garbage collector's cost of
// an ever-growing heap.
const retainLimit = 1000

// retainer deletes finished instances in batches; see retainLimit.
type retainer struct {
	admin duroxide.ProviderAdmin
	limit int
	ids   []string
}

func newRetainer(h *Harness) *retainer {
	return &retainer{admin: h.Provider.AsManagementCapability(), limit: retainLimit}
}

// done records a finished instance and deletes the batch when full.
func (r *retainer) done(b *testing.B, id string) {
	if r.admin == nil {
		return
	}
	r.ids = append(r.ids, id)
	if len(r.ids) < r.limit {
		return
	}
	b.StopTimer()
	_, err := r.admin.DeleteInstancesAtomic(context.Background(), r.ids, true)
	must(b, err)
	r.ids = r.ids[:0]
	b.StartTimer()
}

// batchInputs hands out the values of each iteration, building them in
// batches of size with the timer stopped, so that neither their time nor
// their allocations count as the provider's.
type batchInputs[V any] struct {
	size  int
	build func(i int) V
	buf   []V
	first int // iteration of buf[0]
}

func newInputs[V any](size int, build func(i int) V) *batchInputs[V] {
	return &batchInputs[V]{size: size, build: build}
}

// get returns iteration i's inputs; iterations are asked for in order.
func (in *batchInputs[V]) get(b *testing.B, i int) V {
	if i < in.first || i >= in.first+len(in.buf) {
		b.StopTimer()
		clear(in.buf)
		in.buf = in.buf[:0]
		in.first = i
		for j := i; j < i+in.size && j < b.N; j++ {
			in.buf = append(in.buf, in.build(j))
		}
		b.StartTimer()
	}
	return in.buf[i-in.first]
}

// workflowInputs are the values one OneActivityWorkflow iteration passes.
type workflowInputs struct {
	inst       string
	start      duroxide.WorkItem
	first      duroxide.OrchestrationAck
	completion duroxide.WorkItem
	final      duroxide.OrchestrationAck
}

func newWorkflowInputs(i int) workflowInputs {
	inst := "wf-" + strconv.Itoa(i)
	return workflowInputs{
		inst:  inst,
		start: startItem(inst),
		first: duroxide.OrchestrationAck{
			ExecutionID: 1,
			HistoryDelta: []duroxide.Event{
				startedEvent(inst, 1, testVersion),
				event(inst, 2, duroxide.ActivityScheduled{Name: "TestActivity", Input: "{}"}),
			},
			WorkerItems: []duroxide.WorkItem{activityItem(inst, 2)},
			Metadata:    nameVersion(testOrch, testVersion),
		},
		completion: completedItem(inst, 2, "ok"),
		final: duroxide.OrchestrationAck{
			ExecutionID: 1,
			HistoryDelta: []duroxide.Event{
				{EventID: 3, SourceEventID: ptr(uint64(2)), InstanceID: inst, ExecutionID: 1, Kind: duroxide.ActivityCompleted{Result: "ok"}},
				event(inst, 4, duroxide.OrchestrationCompleted{Output: "ok"}),
			},
			Metadata: duroxide.ExecutionMetadata{Status: duroxide.StatusCompleted, Output: ptr("ok")},
		},
	}
}

// benchOneActivity: the provider calls of a one-activity orchestration.
func benchOneActivity(b *testing.B, h *Harness) {
	ctx := context.Background()
	p := h.Provider
	keep := newRetainer(h)
	inputs := newInputs(retainLimit, newWorkflowInputs)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		in := inputs.get(b, i)
		must(b, p.EnqueueForOrchestrator(ctx, in.start, 0))
		turn1, err := p.FetchOrchestrationItem(ctx, benchLock, 0, nil)
		must(b, err)
		must(b, p.AckOrchestrationItem(ctx, turn1.LockToken, in.first))
		work, err := p.FetchWorkItem(ctx, benchLock, 0, nil, duroxide.TagFilter{})
		must(b, err)
		must(b, p.AckWorkItem(ctx, work.LockToken, in.completion))
		turn2, err := p.FetchOrchestrationItem(ctx, benchLock, 0, nil)
		must(b, err)
		must(b, p.AckOrchestrationItem(ctx, turn2.LockToken, in.final))
		keep.done(b, in.inst)
	}
}

// benchTurn measures fetch+ack turns. With queued > 0, that many start
// messages of other instances stay queued: each turn takes the oldest and
// its ack enqueues a new one, so the backlog stays constant (the turned
// instances are deleted in batches, see retainLimit). Otherwise one instance
// turns over and over, each ack enqueuing its next message (the same
// immutable value every time: the provider keeps none of its inputs).
func benchTurn(b *testing.B, h *Harness, queued int) {
	ctx := context.Background()
	p := h.Provider
	keep := newRetainer(h)
	newStart := func(i int) []duroxide.WorkItem {
		return []duroxide.WorkItem{startItem("q-" + strconv.Itoa(i))}
	}
	for i := range queued {
		must(b, p.EnqueueForOrchestrator(ctx, newStart(i)[0], 0))
	}
	starts := newInputs(retainLimit, func(i int) []duroxide.WorkItem { return newStart(queued + i) })
	const self = "turn-self"
	tick := []duroxide.WorkItem{externalItem(self, "tick")}
	if queued == 0 {
		createBenchInstance(b, h, self)
		must(b, p.EnqueueForOrchestrator(ctx, tick[0], 0))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		next := tick
		if queued > 0 {
			next = starts.get(b, i)
		}
		item, err := p.FetchOrchestrationItem(ctx, benchLock, 0, nil)
		must(b, err)
		if item == nil {
			b.Fatal("no work")
		}
		must(b, p.AckOrchestrationItem(ctx, item.LockToken, duroxide.OrchestrationAck{ExecutionID: item.ExecutionID, OrchestratorItems: next}))
		if queued > 0 {
			keep.done(b, item.Instance)
		}
	}
}

// createBenchInstance creates an instance with a one-event history.
func createBenchInstance(b *testing.B, h *Harness, inst string) {
	ctx := context.Background()
	must(b, h.Provider.EnqueueForOrchestrator(ctx, startItem(inst), 0))
	item, err := h.Provider.FetchOrchestrationItem(ctx, benchLock, 0, nil)
	must(b, err)
	must(b, h.Provider.AckOrchestrationItem(ctx, item.LockToken, duroxide.OrchestrationAck{
		ExecutionID:  1,
		HistoryDelta: []duroxide.Event{startedEvent(inst, 1, testVersion)},
		Metadata:     nameVersion(testOrch, testVersion),
	}))
}

// workerInputs are the values one WorkerCycle iteration passes.
type workerInputs struct {
	next, completion duroxide.WorkItem
	done             string // instance finished by this iteration, or ""
}

// benchWorkerCycle measures worker fetch+ack with completion; every
// iteration enqueues the next item inside the ack's time frame, so the cost
// includes one EnqueueForWorker. Items belong to a new instance every
// retainLimit iterations and each finished instance's completions are
// deleted (timer stopped), so the orchestrator queue does not grow with b.N.
func benchWorkerCycle(b *testing.B, h *Harness, sess *duroxide.SessionFetchConfig) {
	ctx := context.Background()
	p := h.Provider
	keep := newRetainer(h)
	keep.limit = 1
	block := func(i int) string { return "worker-" + strconv.Itoa(i/retainLimit) }
	inputs := newInputs(retainLimit, func(i int) workerInputs {
		cur, next := block(i), block(i+1)
		in := workerInputs{next: activityItem(next, uint64(i+2)), completion: completedItem(cur, uint64(i+1), "ok")}
		if next != cur {
			in.done = cur
		}
		return in
	})
	must(b, p.EnqueueForWorker(ctx, activityItem(block(0), 1)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		in := inputs.get(b, i)
		w, err := p.FetchWorkItem(ctx, benchLock, 0, sess, duroxide.TagFilter{})
		must(b, err)
		if w == nil {
			b.Fatal("no work")
		}
		must(b, p.EnqueueForWorker(ctx, in.next))
		must(b, p.AckWorkItem(ctx, w.LockToken, in.completion))
		if in.done != "" {
			keep.done(b, in.done)
		}
	}
}

// fanOutInputs are the values one FanOut iteration passes.
type fanOutInputs struct {
	inst        string
	start       duroxide.WorkItem
	schedule    duroxide.OrchestrationAck
	completions []duroxide.WorkItem
	fanIn       duroxide.OrchestrationAck
}

func newFanOutInputs(i, n int) fanOutInputs {
	inst := "fan-" + strconv.Itoa(i)
	delta := make([]duroxide.Event, 0, n+1)
	delta = append(delta, startedEvent(inst, 1, testVersion))
	work := make([]duroxide.WorkItem, 0, n)
	completions := make([]duroxide.WorkItem, 0, n)
	for j := range n {
		id := uint64(j + 2)
		delta = append(delta, event(inst, id, duroxide.ActivityScheduled{Name: "TestActivity", Input: "{}"}))
		work = append(work, activityItem(inst, id))
		completions = append(completions, completedItem(inst, id, "ok"))
	}
	done := make([]duroxide.Event, 0, n+1)
	for j := range n {
		done = append(done, event(inst, uint64(n+2+j), duroxide.ActivityCompleted{Result: "ok"}))
	}
	done = append(done, event(inst, uint64(2*n+2), duroxide.OrchestrationCompleted{Output: "ok"}))
	return fanOutInputs{
		inst:        inst,
		start:       startItem(inst),
		schedule:    duroxide.OrchestrationAck{ExecutionID: 1, HistoryDelta: delta, WorkerItems: work, Metadata: nameVersion(testOrch, testVersion)},
		completions: completions,
		fanIn: duroxide.OrchestrationAck{
			ExecutionID: 1, HistoryDelta: done,
			Metadata: duroxide.ExecutionMetadata{Status: duroxide.StatusCompleted, Output: ptr("ok")},
		},
	}
}

// benchFanOut: a turn scheduling n activities, n worker cycles, the fan-in
// turn.
func benchFanOut(b *testing.B, h *Harness, n int) {
	ctx := context.Background()
	p := h.Provider
	keep := newRetainer(h)
	inputs := newInputs(10, func(i int) fanOutInputs { return newFanOutInputs(i, n) })
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		in := inputs.get(b, i)
		must(b, p.EnqueueForOrchestrator(ctx, in.start, 0))
		item, err := p.FetchOrchestrationItem(ctx, benchLock, 0, nil)
		must(b, err)
		must(b, p.AckOrchestrationItem(ctx, item.LockToken, in.schedule))
		for _, c := range in.completions {
			w, err := p.FetchWorkItem(ctx, benchLock, 0, nil, duroxide.TagFilter{})
			must(b, err)
			must(b, p.AckWorkItem(ctx, w.LockToken, c))
		}
		fanIn, err := p.FetchOrchestrationItem(ctx, benchLock, 0, nil)
		must(b, err)
		if len(fanIn.Messages) != n {
			b.Fatalf("fan-in batch has %d messages, want %d", len(fanIn.Messages), n)
		}
		must(b, p.AckOrchestrationItem(ctx, fanIn.LockToken, in.fanIn))
		keep.done(b, in.inst)
	}
}

// benchEnqueue measures EnqueueForOrchestrator of a visible message to an
// unlocked instance that has timers pending (messages visible only in an
// hour). Every retainLimit iterations, with the timer stopped, one turn
// consumes the enqueued messages, so the instance's visible batch stays
// small while its timers stay pending.
func benchEnqueue(b *testing.B, h *Harness, timers int) {
	ctx := context.Background()
	p := h.Provider
	const self = "enqueue-self"
	createBenchInstance(b, h, self)
	for i := range timers {
		must(b, p.EnqueueForOrchestrator(ctx, duroxide.TimerFiredItem{Instance: self, ExecutionID: 1, ID: uint64(i + 2)}, time.Hour))
	}
	msg := duroxide.WorkItem(externalItem(self, "ping"))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		must(b, p.EnqueueForOrchestrator(ctx, msg, 0))
		if (i+1)%retainLimit == 0 {
			b.StopTimer()
			item, err := p.FetchOrchestrationItem(ctx, benchLock, 0, nil)
			must(b, err)
			if item == nil || len(item.Messages) != retainLimit {
				b.Fatalf("turn after %d enqueues: item %v", retainLimit, item)
			}
			must(b, p.AckOrchestrationItem(ctx, item.LockToken, duroxide.OrchestrationAck{ExecutionID: item.ExecutionID}))
			b.StartTimer()
		}
	}
}

// backlogLocked leaves n instances locked by another dispatcher.
func backlogLocked(b *testing.B, h *Harness, n int) {
	ctx := context.Background()
	for i := range n {
		must(b, h.Provider.EnqueueForOrchestrator(ctx, startItem("locked-"+strconv.Itoa(i)), 0))
	}
	for range n {
		item, err := h.Provider.FetchOrchestrationItem(ctx, benchLock, 0, nil)
		must(b, err)
		if item == nil {
			b.Fatal("backlog fetch found no work")
		}
	}
}

// backlogTimers queues n messages that become visible only in an hour.
func backlogTimers(b *testing.B, h *Harness, n int) {
	ctx := context.Background()
	for i := range n {
		must(b, h.Provider.EnqueueForOrchestrator(ctx, startItem("timer-"+strconv.Itoa(i)), time.Hour))
	}
}

// backlogTagged queues n worker items with a tag the benchmark's
// DefaultOnly filter does not accept.
func backlogTagged(b *testing.B, h *Harness, n int) {
	ctx := context.Background()
	for i := range n {
		item := activityItem("tagged", uint64(i+1))
		item.Tag = ptr("gpu")
		must(b, h.Provider.EnqueueForWorker(ctx, item))
	}
}

// backlogSessions queues n items in n sessions that another owner claims:
// it fetches all n items (each fetch claims a new session, the items already
// fetched being locked), then abandons them, so the items stay queued under
// active leases. (Abandoning each item right after its fetch would let the
// next fetch take the same session's item again and claim one session only.)
func backlogSessions(b *testing.B, h *Harness, n int) {
	ctx := context.Background()
	other := &duroxide.SessionFetchConfig{OwnerID: "other-worker", LockTimeout: 24 * time.Hour}
	for i := range n {
		item := activityItem("sessions", uint64(i+1))
		item.SessionID = ptr("s-" + strconv.Itoa(i))
		must(b, h.Provider.EnqueueForWorker(ctx, item))
	}
	tokens := make([]string, 0, n)
	for range n {
		w, err := h.Provider.FetchWorkItem(ctx, benchLock, 0, other, duroxide.TagFilter{})
		must(b, err)
		if w == nil {
			b.Fatal("backlog session fetch found no work")
		}
		tokens = append(tokens, w.LockToken)
	}
	for _, token := range tokens {
		must(b, h.Provider.AbandonWorkItem(ctx, token, 0, true))
	}
}

// benchParallelTurn: turns from GOMAXPROCS dispatchers on distinct
// self-perpetuating instances.
func benchParallelTurn(b *testing.B, h *Harness) {
	ctx := context.Background()
	p := h.Provider
	const instances = 64
	for i := range instances {
		inst := "par-" + strconv.Itoa(i)
		createBenchInstance(b, h, inst)
	}
	for i := range instances {
		must(b, p.EnqueueForOrchestrator(ctx, externalItem("par-"+strconv.Itoa(i), "tick"), 0))
	}
	var failed sync.Once
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			item, err := p.FetchOrchestrationItem(ctx, benchLock, 0, nil)
			if err != nil || item == nil {
				failed.Do(func() { b.Errorf("parallel fetch: item %v, err %v", item, err) })
				return
			}
			err = p.AckOrchestrationItem(ctx, item.LockToken, duroxide.OrchestrationAck{
				ExecutionID:       item.ExecutionID,
				OrchestratorItems: []duroxide.WorkItem{externalItem(item.Instance, "tick")},
			})
			if err != nil {
				failed.Do(func() { b.Errorf("parallel ack: %v", err) })
				return
			}
		}
	})
}

// benchParallelWorker: worker cycles from GOMAXPROCS workers.
func benchParallelWorker(b *testing.B, h *Harness) {
	ctx := context.Background()
	p := h.Provider
	const items = 64
	for i := range items {
		must(b, p.EnqueueForWorker(ctx, activityItem("par-worker", uint64(i+1))))
	}
	var failed sync.Once
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w, err := p.FetchWorkItem(ctx, benchLock, 0, nil, duroxide.TagFilter{})
			if err != nil || w == nil {
				failed.Do(func() { b.Errorf("parallel worker fetch: item %v, err %v", w, err) })
				return
			}
			a := w.Item.(duroxide.ActivityExecuteItem)
			if err := p.EnqueueForWorker(ctx, a); err != nil {
				failed.Do(func() { b.Errorf("parallel enqueue: %v", err) })
				return
			}
			if err := p.AckWorkItem(ctx, w.LockToken, completedItem(a.Instance, a.ID, "ok")); err != nil {
				failed.Do(func() { b.Errorf("parallel worker ack: %v", err) })
				return
			}
		}
	})
}

// memoryItems is how many items the memory benchmarks queue per round.
const memoryItems = 100_000

// benchMemory reports the heap bytes held per queued item (a worker item, or
// a start message for its own instance), measured as the live-heap growth
// after a forced collection, divided by the item count. The items are built
// before the first measurement so that only what the provider keeps counts.
func benchMemory(b *testing.B, h *Harness, worker bool) {
	ctx := context.Background()
	items := make([]duroxide.WorkItem, memoryItems)
	for i := range items {
		if worker {
			items[i] = activityItem("mem", uint64(i+1))
		} else {
			items[i] = startItem("mem-" + strconv.Itoa(i))
		}
	}
	var perItem float64
	for range b.N {
		before := liveHeap()
		for _, it := range items {
			if worker {
				must(b, h.Provider.EnqueueForWorker(ctx, it))
			} else {
				must(b, h.Provider.EnqueueForOrchestrator(ctx, it, 0))
			}
		}
		perItem = float64(liveHeap()-before) / memoryItems
		b.StopTimer()
		deleteMemoryItems(b, h)
		b.StartTimer()
	}
	b.ReportMetric(perItem, "B/item")
}

// deleteMemoryItems deletes everything the memory benchmark queued, so the
// next round starts from the same heap. Without a management API the rounds
// accumulate, which does not change the per-item figure.
func deleteMemoryItems(b *testing.B, h *Harness) {
	admin := h.Provider.AsManagementCapability()
	if admin == nil {
		return
	}
	ids := []string{"mem"}
	for i := range memoryItems {
		ids = append(ids, "mem-"+strconv.Itoa(i))
	}
	_, err := admin.DeleteInstancesAtomic(context.Background(), ids, true)
	must(b, err)
}

// liveHeap returns the live heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
