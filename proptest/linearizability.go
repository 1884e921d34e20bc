package proptest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/spec"
)

// Command-line knobs of RunLinearizability (go test ... -args style flags of
// any test binary that imports proptest).
var (
	linHistories = flag.Int("proptest.histories", 0, "proptest: concurrent histories RunLinearizability checks (0: 50, or 10 with -short)")
	linSeed      = flag.Int64("proptest.linseed", 1, "proptest: seed of RunLinearizability's first history (history i uses seed+i)")
)

// ErrInconclusive is returned (wrapped) by CheckLinearizable when the
// linearizability checker ran out of time before reaching a verdict.
var ErrInconclusive = errors.New("proptest: linearizability check inconclusive (checker timed out)")

// LinOption configures CheckLinearizable and RunLinearizability.
//
// Options are plain functions applied before a check starts.
type LinOption func(*linConfig)

type linConfig struct {
	clients   int
	ops       int
	timeout   time.Duration
	visualize string
}

// WithClients sets the number of concurrent client goroutines (default 3).
func WithClients(n int) LinOption { return func(c *linConfig) { c.clients = max(n, 1) } }

// WithOpsPerClient sets how many operations each client issues (default 30).
func WithOpsPerClient(n int) LinOption { return func(c *linConfig) { c.ops = max(n, 1) } }

// WithCheckTimeout bounds the linearizability search of one history
// (default 30s); a search that runs out is inconclusive ([ErrInconclusive]).
func WithCheckTimeout(d time.Duration) LinOption { return func(c *linConfig) { c.timeout = d } }

// WithVisualization makes CheckLinearizable write porcupine's HTML
// visualization of a non-linearizable history to path.
func WithVisualization(path string) LinOption { return func(c *linConfig) { c.visualize = path } }

func newLinConfig(opts []LinOption) linConfig {
	c := linConfig{clients: 3, ops: 30, timeout: 30 * time.Second}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// LinReport is the outcome of checking one concurrent history.
type LinReport struct {
	// Linearizable is true when some sequential order of the history's
	// operations, consistent with their real-time order, is accepted by the
	// model.
	Linearizable bool
	// Operations is the number of operations in the history.
	Operations int
	// Overlapping is the number of operations whose call-to-return interval
	// overlaps another client's operation (the ones whose order the
	// checker had to decide).
	Overlapping int
	// Info explains a violation: the longest linearizable prefix found and
	// why each operation that could come next is refused. Empty when
	// Linearizable.
	Info string
}

// RunLinearizability runs concurrent histories against providers built by
// newHarness and fails t if one is not linearizable with respect to the
// model. The number of histories is -proptest.histories (default 50; 10
// with -short), history i uses seed -proptest.linseed+i. A violation's
// porcupine visualization is written to a file named in the failure. The
// harness must have a fake Clock (t is skipped otherwise).
//
// Call it from the test's goroutine; it runs its clients in goroutines of
// its own.
func RunLinearizability(t *testing.T, newHarness spec.NewHarness, opts ...LinOption) {
	t.Helper()
	probe := newHarness(t)
	if probe == nil || probe.Provider == nil {
		t.Fatalf("proptest: harness function returned no provider")
	}
	if probe.Clock == nil {
		t.Skip("proptest: the harness has no fake Clock; concurrent histories keep the fake clock still or move it as a recorded operation")
	}
	n := *linHistories
	if n <= 0 {
		n = 50
		if testing.Short() {
			n = 10
		}
	}
	total, overlap := 0, 0
	for i := range n {
		seed := *linSeed + int64(i)
		viz := filepath.Join(os.TempDir(), fmt.Sprintf("proptest-linearizability-%s-seed%d.html", sanitize(t.Name()), seed))
		rep, err := CheckHistory(newHarness, seed, append(slices.Clone(opts), WithVisualization(viz))...)
		if err != nil {
			t.Fatalf("history %d (seed %d): %v", i, seed, err)
		}
		total += rep.Operations
		overlap += rep.Overlapping
		if !rep.Linearizable {
			t.Fatalf("history %d (seed %d) of %d operations is not linearizable:\n%s\nvisualization: %s\n(re-run its client choices with -proptest.linseed=%d -proptest.histories=1; interleavings differ between runs)",
				i, seed, rep.Operations, rep.Info, viz, seed)
		}
	}
	t.Logf("%d histories, %d operations (%d overlapping another client's), all linearizable", n, total, overlap)
}

// CheckLinearizable runs one concurrent history with seed against a fresh
// provider from newHarness and checks it for linearizability. ok is false
// with info explaining the violation when it is not linearizable; err
// reports a harness that could not be built or has no fake Clock, and a
// search that ran out of time ([ErrInconclusive]). It needs no testing.T, so
// a mutation-testing harness can call it for a verdict. It is safe to call
// from several goroutines at once (each call builds its own harness).
func CheckLinearizable(newHarness spec.NewHarness, seed int64, opts ...LinOption) (ok bool, info string, err error) {
	rep, err := CheckHistory(newHarness, seed, opts...)
	return rep.Linearizable, rep.Info, err
}

// CheckHistory is CheckLinearizable returning the full report.
func CheckHistory(newHarness spec.NewHarness, seed int64, opts ...LinOption) (LinReport, error) {
	cfg := newLinConfig(opts)
	ht := &harnessT{name: fmt.Sprintf("proptest-linearizability-seed%d", seed)}
	ht.ctx, ht.cancel = context.WithCancel(context.Background())
	defer ht.finish()
	h, err := ht.build(newHarness)
	if err != nil {
		return LinReport{}, err
	}
	if h.Clock == nil {
		return LinReport{}, errors.New("proptest: the harness has no fake Clock")
	}
	history := runClients(ht.ctx, h, seed, cfg)
	init := newModel(history.start) // never changed: both clone before stepping
	m := linModel(init)
	res, li := porcupine.CheckOperationsVerbose(m, history.ops, cfg.timeout)
	rep := LinReport{Operations: len(history.ops), Overlapping: overlapping(history.ops), Linearizable: res == porcupine.Ok}
	switch res {
	case porcupine.Unknown:
		return rep, fmt.Errorf("%w after %v on %d operations", ErrInconclusive, cfg.timeout, len(history.ops))
	case porcupine.Illegal:
		rep.Info = explainIllegal(history, init, li)
		if cfg.visualize != "" {
			if verr := porcupine.VisualizePath(m, li, cfg.visualize); verr != nil {
				rep.Info += fmt.Sprintf("\n(visualization not written: %v)", verr)
			}
		}
	}
	return rep, nil
}

// linModel is the porcupine model: the state machine's model, stepped on a
// copy (porcupine needs a pure step function).
func linModel(init *model) porcupine.Model {
	return porcupine.Model{
		Init: func() any { return init },
		Step: func(state, input, output any) (bool, any) {
			next := state.(*model).clone()
			if p := next.step(input.(op), output.(result)); p != "" {
				return false, state
			}
			return true, next
		},
		Equal: func(a, b any) bool { return a.(*model).fingerprint() == b.(*model).fingerprint() },
		Hash:  func(s any) uint64 { return s.(*model).hash() },
		DescribeOperation: func(input, output any) string {
			return fmt.Sprintf("%s -> %s", input.(op), output.(result))
		},
		DescribeState: func(s any) string { return s.(*model).fingerprint() },
	}
}

// linHistory is one recorded concurrent run.
type linHistory struct {
	start time.Time
	ops   []porcupine.Operation // Metadata is the operation's index
}

// runClients runs cfg.clients goroutines issuing cfg.ops random operations
// each against h.Provider and records every call and return. The clients
// move in rounds: each draws its next operation, waits for the others at a
// barrier, then calls, so every round's calls race. Only client 0 moves the
// clock, as one recorded operation.
func runClients(ctx context.Context, h *spec.Harness, seed int64, cfg linConfig) linHistory {
	sh := &linShared{}
	var ticks atomic.Int64
	per := make([][]porcupine.Operation, cfg.clients)
	start := h.Clock.Now()
	round := newBarrier(cfg.clients)
	var wg sync.WaitGroup
	for c := range cfg.clients {
		wg.Go(func() {
			cl := &linClient{id: c, r: rand.New(rand.NewPCG(uint64(seed), uint64(c))), sh: sh}
			for range cfg.ops {
				o := cl.next()
				round.wait()
				call := ticks.Add(1)
				got := exec(ctx, h, o)
				ret := ticks.Add(1)
				per[c] = append(per[c], porcupine.Operation{ClientId: c, Input: o, Call: call, Output: got, Return: ret})
				cl.observe(o, got)
			}
		})
	}
	wg.Wait()
	var all []porcupine.Operation
	for _, ops := range per {
		all = append(all, ops...)
	}
	slices.SortFunc(all, func(a, b porcupine.Operation) int { return int(a.Call - b.Call) })
	for i := range all {
		all[i].Metadata = i
	}
	return linHistory{start: start, ops: all}
}

// barrier is a reusable barrier for n goroutines.
type barrier struct {
	n     int
	mu    sync.Mutex
	count int
	gen   chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{n: n, gen: make(chan struct{})} }

// wait blocks until n goroutines are waiting, then releases them all.
func (b *barrier) wait() {
	b.mu.Lock()
	b.count++
	if b.count == b.n {
		close(b.gen)
		b.gen, b.count = make(chan struct{}), 0
		b.mu.Unlock()
		return
	}
	ch := b.gen
	b.mu.Unlock()
	<-ch
}

// overlapping counts the operations concurrent with another client's.
func overlapping(ops []porcupine.Operation) int {
	n := 0
	for i, a := range ops {
		for j, b := range ops {
			if i != j && a.ClientId != b.ClientId && a.Call < b.Return && b.Call < a.Return {
				n++
				break
			}
		}
	}
	return n
}

// linShared is what the clients have observed: the locks they were handed.
type linShared struct {
	mu   sync.Mutex
	orch []linLock
	work []linWork
	uid  int
}

type linLock struct {
	token, instance string
	exec, next      uint64 // fetched execution and the next fresh event id
}

type linWork struct {
	token string
	item  duroxide.ActivityExecuteItem
}

// linClient is one concurrent client. Its choices depend on its seed and on
// what the clients observed.
type linClient struct {
	id int
	r  *rand.Rand
	sh *linShared
}

var linInstances = []string{"i1", "i2"}

func (c *linClient) uid() string {
	c.sh.mu.Lock()
	defer c.sh.mu.Unlock()
	c.sh.uid++
	return fmt.Sprintf("c%d-u%d", c.id, c.sh.uid)
}

func (c *linClient) pickInstance() string { return linInstances[c.r.IntN(len(linInstances))] }

// pickLock returns a recent instance lock (or a made-up token).
func (c *linClient) pickLock() linLock {
	c.sh.mu.Lock()
	defer c.sh.mu.Unlock()
	if len(c.sh.orch) == 0 || c.r.IntN(10) == 0 {
		return linLock{token: "made-up-token", instance: c.pickInstance(), exec: 1, next: 1}
	}
	return c.sh.orch[len(c.sh.orch)-1-c.r.IntN(min(len(c.sh.orch), 3))]
}

// pickWork returns a recent worker lock (or a made-up token).
func (c *linClient) pickWork() linWork {
	c.sh.mu.Lock()
	defer c.sh.mu.Unlock()
	if len(c.sh.work) == 0 || c.r.IntN(10) == 0 {
		return linWork{token: "made-up-token", item: duroxide.ActivityExecuteItem{Instance: c.pickInstance(), ExecutionID: 1, ID: 1}}
	}
	return c.sh.work[len(c.sh.work)-1-c.r.IntN(min(len(c.sh.work), 3))]
}

// next draws the client's next operation.
func (c *linClient) next() op {
	for {
		switch k := c.r.IntN(100); {
		case k < 18:
			return op{kind: opEnqueueOrch, item: c.orchItem(c.pickInstance()), dur: []time.Duration{0, 0, 0, time.Second}[c.r.IntN(4)]}
		case k < 34:
			return op{kind: opFetchOrch, dur: []time.Duration{time.Second, 5 * time.Second}[c.r.IntN(2)]}
		case k < 50:
			l := c.pickLock()
			return op{kind: opAckOrch, token: l.token, ack: c.ack(l)}
		case k < 54:
			return op{kind: opAbandonOrch, token: c.pickLock().token, dur: []time.Duration{0, time.Second}[c.r.IntN(2)], ignore: c.r.IntN(2) == 0}
		case k < 58:
			return op{kind: opRenewOrch, token: c.pickLock().token, dur: time.Second}
		case k < 66:
			return op{kind: opEnqueueWorker, item: c.activity(c.pickInstance(), 1)}
		case k < 76:
			o := op{kind: opFetchWork, dur: []time.Duration{time.Second, 5 * time.Second}[c.r.IntN(2)], tags: duroxide.FilterAny()}
			if c.r.IntN(2) == 0 {
				o.session = &duroxide.SessionFetchConfig{OwnerID: []string{"o1", "o2"}[c.r.IntN(2)], LockTimeout: 2 * time.Second}
			}
			return o
		case k < 84:
			w := c.pickWork()
			var completion duroxide.WorkItem = duroxide.ActivityCompletedItem{Instance: w.item.Instance, ExecutionID: w.item.ExecutionID, ID: w.item.ID, Result: c.uid()}
			if c.r.IntN(5) == 0 {
				completion = nil
			}
			return op{kind: opAckWork, token: w.token, item: completion}
		case k < 87:
			return op{kind: opAbandonWork, token: c.pickWork().token, dur: []time.Duration{0, time.Second}[c.r.IntN(2)], ignore: c.r.IntN(2) == 0}
		case k < 90:
			return op{kind: opRenewWork, token: c.pickWork().token, dur: time.Second}
		case k < 95:
			id := c.pickInstance()
			return []op{{kind: opRead, instance: id}, {kind: opGetKVAll, instance: id}, {kind: opGetCustomStatus, instance: id}}[c.r.IntN(3)]
		case c.id == 0:
			return op{kind: opAdvance, dur: []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second}[c.r.IntN(4)]}
		}
	}
}

func (c *linClient) orchItem(id string) duroxide.WorkItem {
	u := c.uid()
	switch c.r.IntN(5) {
	case 0, 1:
		return duroxide.StartOrchestrationItem{Instance: id, Orchestration: "Orch", Input: u, Version: ptr("1.0.0"), ExecutionID: 1}
	case 2:
		return duroxide.ExternalRaisedItem{Instance: id, Name: "ev", Data: u}
	case 3:
		return duroxide.QueueMessageItem{Instance: id, Name: "q", Data: u}
	}
	return duroxide.ActivityCompletedItem{Instance: id, ExecutionID: 1, ID: 2, Result: u}
}

func (c *linClient) activity(id string, exec uint64) duroxide.ActivityExecuteItem {
	a := duroxide.ActivityExecuteItem{Instance: id, ExecutionID: exec, ID: uint64(1 + c.r.IntN(3)), Name: "Act", Input: c.uid()}
	if c.r.IntN(3) == 0 {
		a.SessionID = ptr("s1")
	}
	return a
}

// ack builds an ack for lock l: fresh events from its fetched history,
// metadata, sometimes a status, work, a timer or a cancellation.
func (c *linClient) ack(l linLock) duroxide.OrchestrationAck {
	a := duroxide.OrchestrationAck{ExecutionID: l.exec}
	for i := range uint64(c.r.IntN(3)) {
		id := l.next + i
		e := duroxide.Event{EventID: id, InstanceID: l.instance, ExecutionID: l.exec, DuroxideVersion: pinnedVersion}
		switch {
		case id == 1:
			e.Kind = duroxide.OrchestrationStarted{Name: "Orch", Version: "1.0.0", Input: c.uid()}
		case c.r.IntN(3) == 0:
			e.Kind = duroxide.KeyValueSet{Key: "k1", Value: c.uid()}
		case c.r.IntN(2) == 0:
			s := c.uid()
			e.Kind = duroxide.CustomStatusUpdated{Status: &s}
		default:
			e.Kind = duroxide.ActivityScheduled{Name: "Act", Input: c.uid()}
		}
		a.HistoryDelta = append(a.HistoryDelta, e)
	}
	a.Metadata.OrchestrationName, a.Metadata.OrchestrationVersion = ptr("Orch"), ptr("1.0.0")
	if c.r.IntN(4) == 0 {
		a.Metadata.Status, a.Metadata.Output = duroxide.StatusCompleted, ptr(c.uid())
	}
	if c.r.IntN(3) == 0 {
		a.WorkerItems = append(a.WorkerItems, c.activity(l.instance, l.exec))
	}
	if c.r.IntN(4) == 0 {
		other := c.pickInstance()
		a.OrchestratorItems = append(a.OrchestratorItems, duroxide.ExternalRaisedItem{Instance: other, Name: "ev", Data: c.uid()})
	}
	if c.r.IntN(5) == 0 {
		a.CancelledActivities = append(a.CancelledActivities, duroxide.ScheduledActivityIdentifier{Instance: l.instance, ExecutionID: l.exec, ActivityID: uint64(1 + c.r.IntN(3))})
	}
	return a
}

// observe records the locks a call handed out.
func (c *linClient) observe(o op, got result) {
	c.sh.mu.Lock()
	defer c.sh.mu.Unlock()
	switch {
	case got.orch != nil:
		next := uint64(1)
		if h := got.orch.History; len(h) > 0 {
			next = h[len(h)-1].EventID + 1
		}
		c.sh.orch = append(c.sh.orch, linLock{token: got.orch.LockToken, instance: got.orch.Instance, exec: got.orch.ExecutionID, next: next})
	case got.work != nil:
		if a, ok := got.work.Item.(duroxide.ActivityExecuteItem); ok {
			c.sh.work = append(c.sh.work, linWork{token: got.work.LockToken, item: a})
		}
	}
}

// explainIllegal describes a non-linearizable history: the operations, the
// longest linearization porcupine found, and why each operation that could
// come next is refused by the model.
func explainIllegal(h linHistory, init *model, li porcupine.LinearizationInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "history (call..return ticks, client):\n")
	for _, o := range h.ops {
		fmt.Fprintf(&b, "  #%-3d [%4d..%4d] c%d %s -> %s\n", o.Metadata, o.Call, o.Return, o.ClientId, o.Input.(op), o.Output.(result))
	}
	partials := li.PartialLinearizationsOperations()
	var longest []porcupine.Operation
	for _, part := range partials {
		for _, lin := range part {
			if len(lin) > len(longest) {
				longest = lin
			}
		}
	}
	m := init.clone()
	done := map[int]bool{}
	fmt.Fprintf(&b, "longest linearizable prefix (%d of %d operations):", len(longest), len(h.ops))
	for _, o := range longest {
		fmt.Fprintf(&b, " #%d", o.Metadata)
		m.step(o.Input.(op), o.Output.(result))
		done[o.Metadata.(int)] = true
	}
	b.WriteString("\nno remaining operation can come next:\n")
	// An operation can come next if no other remaining one returned before
	// it was called.
	minReturn := int64(1 << 62)
	for _, o := range h.ops {
		if !done[o.Metadata.(int)] {
			minReturn = min(minReturn, o.Return)
		}
	}
	for _, o := range h.ops {
		if done[o.Metadata.(int)] || o.Call > minReturn {
			continue
		}
		p := m.clone().step(o.Input.(op), o.Output.(result))
		if p == "" {
			p = "accepted here, but no continuation linearizes the rest"
		}
		fmt.Fprintf(&b, "  #%d %s: %s\n", o.Metadata, o.Input.(op), p)
	}
	return b.String()
}

// sanitize makes a test name usable in a file name.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ' ' || r == ':' {
			return '_'
		}
		return r
	}, s)
}
