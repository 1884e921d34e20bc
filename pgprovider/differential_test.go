package pgprovider_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/internal/memhooks"
	"github.com/duroxide-go/duroxide/internal/pgharness"
	"github.com/duroxide-go/duroxide/memprovider"
	"github.com/duroxide-go/duroxide/pgprovider"
	"github.com/duroxide-go/duroxide/spec"
)

// TestDifferential applies random operation sequences to memprovider and
// pgprovider side by side, both on ONE fake clock (each rapid run gets a
// fresh memprovider and a fresh schema), and requires the same answers:
// fetched batches, histories, attempt counts and key/value snapshots, the
// outcome of every enqueue, ack, abandon, renewal, append and session call
// (error sentinel and retryability), and the management reads (instance
// and execution info, listings, histories, children, parents and trees,
// key/value state, custom status, queue depths, metrics, deletes and
// prunes). The operations cover every work-item kind, continue-as-new,
// sub-orchestrations, sessions and tags, capability filters, corrupt
// histories (both providers' white-box hooks) and clock steps back.
//
// What the spec lets two providers choose differently is normalised away:
// lock tokens are compared only by which call issued them (each provider's
// own token is passed back to it); a nil key/value snapshot, history or
// listing equals an empty one; errors are compared by sentinel and
// retryability, not words, and the values returned with an error not at
// all; a fetch's HistoryError only by being set; and the clock never steps
// back across a time at which a message became visible (whether it hides
// again is the provider's choice: pgprovider hides it, memprovider does
// not). Timestamps are compared exactly: both providers report Unix
// milliseconds of the shared fake clock, which moves in whole milliseconds
// here, so pgprovider's microsecond columns lose nothing.
//
// It complements TestProptest (pgprovider against proptest's model): this
// one needs no model, so it also catches a rule the model leaves open but
// the two providers were meant to decide alike. 100 runs of about 60
// operations by default (-rapid.checks and -rapid.steps override); most
// runs begin with started instances, and whole turns (fetch then ack) and
// worker cycles are drawn as single actions, so that acks mostly hold their
// lock. It found that pgprovider counted an id whose orphan QueueMessages
// had been dropped as a deleted instance
// (TestDeleteCountsOnlyInstancesThatHeldSomething).
//
//	.ci/pg go test -race ./pgprovider -run TestDifferential
func TestDifferential(t *testing.T) {
	pool := pgprovider.TestPool(t)
	defaultFlag(t, "rapid.checks", "100")
	defaultFlag(t, "rapid.steps", "60")
	rapid.Check(t, differential(func(rt *rapid.T, clock *fakeclock.Fake) pair {
		mem := memprovider.New(memprovider.WithClock(clock))
		pg := pgharness.NewProvider(rt, pool, pgprovider.WithClock(clock), pgprovider.WithShortPolling())
		return pair{mem, pg, memhooks.Hooks{P: mem}, pgharness.Hooks(pg)}
	}))
}

// TestDifferentialHasTeeth runs the same property on two memproviders, one
// of them wrapped to hand out a batch of two or more messages in reverse
// order (a FIFO bug), and requires the property to fail. It needs no
// database.
func TestDifferentialHasTeeth(t *testing.T) {
	// The failure is expected: rapid must not save it as a failure file
	// (it would litter testdata/rapid on every run). Safe to flip the
	// flag: this test is not parallel, so no other check runs meanwhile.
	nofail := flag.Lookup("rapid.nofailfile")
	require.NotNil(t, nofail, "rapid's -rapid.nofailfile flag is registered")
	old := nofail.Value.String()
	require.NoError(t, flag.Set("rapid.nofailfile", "true"))
	t.Cleanup(func() { _ = flag.Set("rapid.nofailfile", old) })
	tb := &recordingTB{name: t.Name()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rapid.Check(tb, differential(func(_ *rapid.T, clock *fakeclock.Fake) pair {
			return pair{ref: memprovider.New(memprovider.WithClock(clock)), cand: reversedBatches{memprovider.New(memprovider.WithClock(clock))}}
		}))
	}()
	<-done
	require.True(t, tb.failed, "the differential property did not tell a provider with reversed batches apart")
	require.Contains(t, strings.Join(tb.messages, "\n"), "FetchOrchestrationItem differs")
}

// TestDifferentialSelf runs the property on two memproviders: it must pass,
// so that a failure against pgprovider is pgprovider's (or memprovider's)
// and not the comparison's. It needs no database.
func TestDifferentialSelf(t *testing.T) {
	rapid.Check(t, differential(func(_ *rapid.T, clock *fakeclock.Fake) pair {
		a, b := memprovider.New(memprovider.WithClock(clock)), memprovider.New(memprovider.WithClock(clock))
		return pair{a, b, memhooks.Hooks{P: a}, memhooks.Hooks{P: b}}
	}))
}

// reversedBatches reverses fetched batches of two or more messages.
type reversedBatches struct{ duroxide.Provider }

func (r reversedBatches) FetchOrchestrationItem(ctx context.Context, lock, poll time.Duration, f *duroxide.DispatcherCapabilityFilter) (*duroxide.LockedOrchestrationItem, error) {
	item, err := r.Provider.FetchOrchestrationItem(ctx, lock, poll, f)
	if item != nil {
		slices.Reverse(item.Messages)
	}
	return item, err
}

// recordingTB is a rapid.TB that records failures instead of failing the
// test. Fatalf and FailNow end the goroutine, as package testing does: run
// rapid.Check in a goroutine of its own.
type recordingTB struct {
	name     string
	mu       sync.Mutex
	failed   bool
	messages []string
}

func (r *recordingTB) record(failed bool, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = r.failed || failed
	r.messages = append(r.messages, msg)
}

func (r *recordingTB) Helper()                         {}
func (r *recordingTB) Name() string                    { return r.name }
func (r *recordingTB) Logf(format string, args ...any) { r.record(false, fmt.Sprintf(format, args...)) }
func (r *recordingTB) Log(args ...any)                 { r.record(false, fmt.Sprint(args...)) }
func (r *recordingTB) Errorf(format string, args ...any) {
	r.record(true, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Error(args ...any) { r.record(true, fmt.Sprint(args...)) }
func (r *recordingTB) Fail()             { r.record(true, "") }
func (r *recordingTB) Failed() bool      { r.mu.Lock(); defer r.mu.Unlock(); return r.failed }
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.record(true, fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (r *recordingTB) Fatal(args ...any)                { r.record(true, fmt.Sprint(args...)); runtime.Goexit() }
func (r *recordingTB) FailNow()                         { r.record(true, ""); runtime.Goexit() }
func (r *recordingTB) Skipf(format string, args ...any) { r.record(false, "skip"); runtime.Goexit() }
func (r *recordingTB) Skip(args ...any)                 { r.record(false, "skip"); runtime.Goexit() }
func (r *recordingTB) SkipNow()                         { r.record(false, "skip"); runtime.Goexit() }

// differential is the property: each run builds a pair of providers on one
// fresh fake clock, applies a random sequence to both and compares.
func differential(newPair func(rt *rapid.T, clock *fakeclock.Fake) pair) func(*rapid.T) {
	return func(rt *rapid.T) {
		clock := fakeclock.NewFake(pgharness.Start)
		p := newPair(rt, clock)
		d := &differ{
			ctx:   rt.Context(),
			clock: clock,
			mem:   p.ref,
			pg:    p.cand,
			madm:  p.ref.AsManagementCapability(),
			padm:  p.cand.AsManagementCapability(),
			mhook: p.refHooks,
			phook: p.candHooks,
		}
		// Most runs start with started instances, so that turns happen.
		for _, inst := range instances {
			if rapid.IntRange(0, 3).Draw(rt, "startFirst") > 0 {
				start := duroxide.StartOrchestrationItem{Instance: inst, Orchestration: "O", Input: "in", Version: ptr("1.0.0"), ExecutionID: 1}
				d.sameErr(rt, "EnqueueForOrchestrator", d.mem.EnqueueForOrchestrator(d.ctx, start, 0), d.pg.EnqueueForOrchestrator(d.ctx, start, 0))
			}
		}
		rt.Repeat(d.actions())
		d.compareAll(rt)
	}
}

// pair is the reference provider and the candidate, with their white-box
// hooks (nil: no history corruption is drawn).
type pair struct {
	ref, cand           duroxide.Provider
	refHooks, candHooks spec.Hooks
}

// instances are the ids the operations use: few, so that operations meet.
var instances = []string{"a", "b", "c"}

// lockPair is one fetch's lock as each provider issued it.
type lockPair struct{ mem, pg string }

// orchLock is an orchestration lock (held, or used up: acks and abandons
// with used tokens are drawn too).
type orchLock struct {
	tok      lockPair
	instance string
	exec     uint64
	next     uint64  // next free event id in exec
	parent   *string // the batch's start names a parent: the creating ack records it
}

// workLock is a worker lock.
type workLock struct {
	tok  lockPair
	item duroxide.ActivityExecuteItem
}

// differ holds both providers and what the sequence has issued so far.
// Used by one rapid run, from one goroutine.
type differ struct {
	ctx     context.Context
	clock   *fakeclock.Fake
	mem, pg duroxide.Provider
	madm    duroxide.ProviderAdmin
	padm    duroxide.ProviderAdmin
	mhook   spec.Hooks
	phook   spec.Hooks
	// vis holds every time at which a message or item became or becomes
	// visible: the clock never steps back across one that has passed.
	vis       []time.Time
	orch      []*orchLock
	work      []*workLock
	scheduled []duroxide.ActivityExecuteItem // every activity an ack scheduled
}

func (d *differ) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"":                    d.check,
		"EnqueueOrchestrator": d.enqueueOrch,
		"EnqueueWorker":       d.enqueueWorker,
		"FetchOrchestration":  func(t *rapid.T) { d.fetchOrch(t) },
		"AckOrchestration":    d.ackOrch,
		"Turn": func(t *rapid.T) {
			// A whole turn, as a dispatcher runs it: fetch, then ack.
			if d.fetchOrch(t) {
				d.ackOrch(t)
			}
		},
		"WorkCycle": func(t *rapid.T) {
			if d.fetchWork(t) {
				d.ackWork(t)
			}
		},
		"AbandonOrchestration": func(t *rapid.T) {
			l := d.pickOrch(t)
			delay := drawDelay(t)
			d.visibleIn(delay)
			ignore := rapid.Bool().Draw(t, "ignoreAttempt")
			d.sameErr(t, "AbandonOrchestrationItem",
				d.mem.AbandonOrchestrationItem(d.ctx, l.mem, delay, ignore),
				d.pg.AbandonOrchestrationItem(d.ctx, l.pg, delay, ignore))
		},
		"RenewOrchestration": func(t *rapid.T) {
			l := d.pickOrch(t)
			ext := drawLock(t)
			d.sameErr(t, "RenewOrchestrationItemLock",
				d.mem.RenewOrchestrationItemLock(d.ctx, l.mem, ext),
				d.pg.RenewOrchestrationItemLock(d.ctx, l.pg, ext))
		},
		"FetchWork": func(t *rapid.T) { d.fetchWork(t) },
		"AckWork":   d.ackWork,
		"AbandonWork": func(t *rapid.T) {
			l, _ := d.pickWork(t)
			delay := drawDelay(t)
			d.visibleIn(delay)
			ignore := rapid.Bool().Draw(t, "ignoreAttempt")
			d.sameErr(t, "AbandonWorkItem",
				d.mem.AbandonWorkItem(d.ctx, l.mem, delay, ignore),
				d.pg.AbandonWorkItem(d.ctx, l.pg, delay, ignore))
		},
		"RenewWork": func(t *rapid.T) {
			l, _ := d.pickWork(t)
			ext := drawLock(t)
			d.sameErr(t, "RenewWorkItemLock", d.mem.RenewWorkItemLock(d.ctx, l.mem, ext), d.pg.RenewWorkItemLock(d.ctx, l.pg, ext))
		},
		"Advance": func(t *rapid.T) {
			if err := d.clock.Advance(rapid.SampledFrom([]time.Duration{
				time.Millisecond, 999 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second, 31 * time.Second,
			}).Draw(t, "advance")); err != nil {
				t.Fatalf("advance: %v", err)
			}
		},
		"StepBack": func(t *rapid.T) {
			// Lock and lease deadlines are absolute on both providers, but
			// whether a message once visible hides again when the clock
			// steps back before its visibility time is the provider's
			// choice (pgprovider hides it, memprovider does not): never
			// cross one.
			now := d.clock.Now()
			to := now.Add(-rapid.SampledFrom([]time.Duration{time.Millisecond, time.Second, 5 * time.Second}).Draw(t, "back"))
			for _, v := range d.vis {
				if !v.After(now) && v.After(to) {
					to = v
				}
			}
			if to.Before(now) {
				if err := d.clock.StepBack(now.Sub(to)); err != nil {
					t.Fatalf("step back: %v", err)
				}
			}
		},
		"Append": func(t *rapid.T) {
			inst := drawAnyInstance(t)
			exec := rapid.Uint64Range(1, 2).Draw(t, "exec")
			id := rapid.Uint64Range(1, 6).Draw(t, "eventID")
			events := []duroxide.Event{{EventID: id, InstanceID: inst, ExecutionID: exec, TimestampMs: uint64(d.clock.Now().UnixMilli()),
				DuroxideVersion: "1.0.0", Kind: rapid.SampledFrom([]duroxide.EventKind{
					duroxide.OrchestrationStarted{Name: "O", Version: "1.0.0", Input: "appended"},
					duroxide.ExternalEvent{Name: "ev", Data: "d"},
					duroxide.KeyValueSet{Key: "k", Value: "appended"},
					duroxide.CustomStatusUpdated{Status: ptr("appended")},
				}).Draw(t, "kind")}}
			d.sameErr(t, "AppendWithExecution",
				d.mem.AppendWithExecution(d.ctx, inst, exec, events),
				d.pg.AppendWithExecution(d.ctx, inst, exec, events))
		},
		"Corrupt": func(t *rapid.T) {
			if d.mhook == nil || rapid.IntRange(0, 3).Draw(t, "corrupt") > 0 {
				return
			}
			inst := drawAnyInstance(t)
			d.sameErr(t, "CorruptInstanceHistory", d.mhook.CorruptInstanceHistory(d.ctx, inst), d.phook.CorruptInstanceHistory(d.ctx, inst))
		},
		"PruneBulk": func(t *rapid.T) {
			filter := duroxide.InstanceFilter{Limit: ptr(uint32(rapid.IntRange(1, 3).Draw(t, "limit")))}
			opts := duroxide.PruneOptions{KeepLast: ptr(uint32(rapid.IntRange(0, 2).Draw(t, "keepLast")))}
			if rapid.Bool().Draw(t, "cutoff") {
				opts.CompletedBefore = ptr(uint64(d.clock.Now().UnixMilli()) - uint64(rapid.IntRange(0, 2000).Draw(t, "ago")))
			}
			mr, merr := d.madm.PruneExecutionsBulk(d.ctx, filter, opts)
			pr, perr := d.padm.PruneExecutionsBulk(d.ctx, filter, opts)
			d.sameErr(t, "PruneExecutionsBulk", merr, perr)
			if merr == nil {
				same(t, "PruneExecutionsBulk", mr, pr)
			}
		},
		"Read": func(t *rapid.T) {
			inst := drawAnyInstance(t)
			d.compareInstance(t, inst)
		},
		"ListInstances": func(t *rapid.T) {
			d.compareListings(t)
		},
		"Delete": func(t *rapid.T) {
			inst := drawAnyInstance(t)
			force := rapid.Bool().Draw(t, "force")
			mr, merr := d.madm.DeleteInstance(d.ctx, inst, force)
			pr, perr := d.padm.DeleteInstance(d.ctx, inst, force)
			d.sameErr(t, "DeleteInstance", merr, perr)
			if merr == nil {
				same(t, "DeleteInstance "+inst, mr, pr)
			}
		},
		"Sessions": func(t *rapid.T) {
			owners := rapid.SliceOfDistinct(rapid.SampledFrom([]string{"w1", "w2"}), rapid.ID[string]).Draw(t, "owners")
			ext, idle := drawLock(t), drawLock(t)
			mn, merr := d.mem.RenewSessionLock(d.ctx, owners, ext, idle)
			pn, perr := d.pg.RenewSessionLock(d.ctx, owners, ext, idle)
			d.sameErr(t, "RenewSessionLock", merr, perr)
			if merr == nil {
				same(t, "RenewSessionLock", mn, pn)
			}
			mn, merr = d.mem.CleanupOrphanedSessions(d.ctx, idle)
			pn, perr = d.pg.CleanupOrphanedSessions(d.ctx, idle)
			d.sameErr(t, "CleanupOrphanedSessions", merr, perr)
			if merr == nil {
				same(t, "CleanupOrphanedSessions", mn, pn)
			}
		},
		"Prune": func(t *rapid.T) {
			inst := drawAnyInstance(t)
			opts := duroxide.PruneOptions{KeepLast: ptr(uint32(rapid.IntRange(0, 2).Draw(t, "keepLast")))}
			mr, merr := d.madm.PruneExecutions(d.ctx, inst, opts)
			pr, perr := d.padm.PruneExecutions(d.ctx, inst, opts)
			d.sameErr(t, "PruneExecutions", merr, perr)
			if merr == nil {
				same(t, "PruneExecutions "+inst, mr, pr)
			}
		},
		"DeleteAtomic": func(t *rapid.T) {
			ids := rapid.SliceOfDistinct(rapid.SampledFrom([]string{"a", "b", "a-x", "a-y", "b-x"}), rapid.ID[string]).Draw(t, "ids")
			force := rapid.Bool().Draw(t, "force")
			mr, merr := d.madm.DeleteInstancesAtomic(d.ctx, ids, force)
			pr, perr := d.padm.DeleteInstancesAtomic(d.ctx, ids, force)
			d.sameErr(t, "DeleteInstancesAtomic", merr, perr)
			if merr == nil {
				same(t, "DeleteInstancesAtomic", mr, pr)
			}
		},
		"DeleteBulk": func(t *rapid.T) {
			var filter duroxide.InstanceFilter
			if rapid.Bool().Draw(t, "byID") {
				filter.InstanceIDs = rapid.SliceOfDistinct(rapid.SampledFrom(instances), rapid.ID[string]).Draw(t, "ids")
			}
			if rapid.Bool().Draw(t, "cutoff") {
				filter.CompletedBefore = ptr(uint64(d.clock.Now().UnixMilli()) - uint64(rapid.IntRange(0, 2000).Draw(t, "ago")))
			}
			if rapid.Bool().Draw(t, "limited") {
				filter.Limit = ptr(uint32(rapid.IntRange(1, 2).Draw(t, "limit")))
			}
			mr, merr := d.madm.DeleteInstanceBulk(d.ctx, filter)
			pr, perr := d.padm.DeleteInstanceBulk(d.ctx, filter)
			d.sameErr(t, "DeleteInstanceBulk", merr, perr)
			if merr == nil {
				same(t, "DeleteInstanceBulk", mr, pr)
			}
		},
	}
}

// visibleIn records that something becomes visible after delay.
func (d *differ) visibleIn(delay time.Duration) { d.vis = append(d.vis, d.clock.Now().Add(delay)) }

func drawInstance(t *rapid.T) string { return rapid.SampledFrom(instances).Draw(t, "instance") }

// drawAnyInstance draws a root or a child id.
func drawAnyInstance(t *rapid.T) string {
	return rapid.SampledFrom([]string{"a", "b", "c", "a-x", "a-y", "b-x"}).Draw(t, "instance")
}

func drawOwner(t *rapid.T) string { return rapid.SampledFrom([]string{"w1", "w2"}).Draw(t, "owner") }

func drawDelay(t *rapid.T) time.Duration {
	return rapid.SampledFrom([]time.Duration{0, 0, time.Second, 3 * time.Second}).Draw(t, "delay")
}

func drawLock(t *rapid.T) time.Duration {
	return rapid.SampledFrom([]time.Duration{time.Second, 5 * time.Second, 30 * time.Second}).Draw(t, "lock")
}

func ptr[T any](v T) *T { return &v }

// enqueueOrch enqueues an orchestrator message of a drawn kind.
func (d *differ) enqueueOrch(t *rapid.T) {
	inst := drawInstance(t)
	var item duroxide.WorkItem
	switch rapid.IntRange(0, 7).Draw(t, "kind") {
	case 0, 1:
		item = duroxide.StartOrchestrationItem{Instance: inst, Orchestration: "O", Input: "in", Version: ptr("1.0.0"), ExecutionID: 1}
	case 2:
		item = duroxide.ExternalRaisedItem{Instance: inst, Name: "ev", Data: rapid.StringMatching("[a-c]{0,2}").Draw(t, "data")}
	case 3:
		item = duroxide.QueueMessageItem{Instance: inst, Name: "q", Data: "m"}
	case 4:
		item = duroxide.CancelInstanceItem{Instance: inst, Reason: "stop"}
	case 5:
		if len(d.scheduled) == 0 {
			return
		}
		a := rapid.SampledFrom(d.scheduled).Draw(t, "activity")
		item = duroxide.ActivityCompletedItem{Instance: a.Instance, ExecutionID: a.ExecutionID, ID: a.ID, Result: "late"}
	case 6:
		item = duroxide.TimerFiredItem{Instance: inst, ExecutionID: 1, ID: 2, FireAtMs: uint64(d.clock.Now().UnixMilli()) + 1000}
	case 7:
		item = duroxide.SubOrchCompletedItem{ParentInstance: inst, ParentExecutionID: 1, ParentID: 3, Result: "child done"}
	}
	delay := drawDelay(t)
	d.visibleIn(delay)
	d.sameErr(t, "EnqueueForOrchestrator",
		d.mem.EnqueueForOrchestrator(d.ctx, item, delay),
		d.pg.EnqueueForOrchestrator(d.ctx, item, delay))
}

// enqueueWorker enqueues an activity directly, tagged or not.
func (d *differ) enqueueWorker(t *rapid.T) {
	item := duroxide.ActivityExecuteItem{
		Instance: drawInstance(t), ExecutionID: 1, ID: rapid.Uint64Range(100, 103).Draw(t, "id"), Name: "A", Input: "x",
	}
	if rapid.Bool().Draw(t, "tagged") {
		item.Tag = ptr("gpu")
	}
	d.visibleIn(0)
	d.sameErr(t, "EnqueueForWorker", d.mem.EnqueueForWorker(d.ctx, item), d.pg.EnqueueForWorker(d.ctx, item))
}

// fetchOrch fetches an orchestration item from both and requires the same
// item, apart from the lock token. It reports whether there was one.
func (d *differ) fetchOrch(t *rapid.T) bool {
	lock := drawLock(t)
	var filter *duroxide.DispatcherCapabilityFilter
	if rapid.IntRange(0, 4).Draw(t, "filtered") == 0 {
		filter = &duroxide.DispatcherCapabilityFilter{SupportedDuroxideVersions: []duroxide.SemverRange{
			{Min: duroxide.Semver{Major: 1}, Max: duroxide.Semver{Major: 1, Minor: 9}},
		}}
	}
	mi, merr := d.mem.FetchOrchestrationItem(d.ctx, lock, 0, filter)
	pi, perr := d.pg.FetchOrchestrationItem(d.ctx, lock, 0, filter)
	d.sameErr(t, "FetchOrchestrationItem", merr, perr)
	if (mi == nil) != (pi == nil) {
		t.Fatalf("FetchOrchestrationItem: memprovider returned %s, pgprovider %s", describeOrch(mi), describeOrch(pi))
	}
	if mi == nil {
		return false
	}
	if mi.LockToken == "" || pi.LockToken == "" {
		t.Fatalf("FetchOrchestrationItem: empty lock token (mem %q, pg %q)", mi.LockToken, pi.LockToken)
	}
	same(t, "FetchOrchestrationItem", normOrch(mi), normOrch(pi))
	l := &orchLock{tok: lockPair{mi.LockToken, pi.LockToken}, instance: mi.Instance, exec: max(mi.ExecutionID, 1), next: 1}
	for _, e := range mi.History {
		l.next = max(l.next, e.EventID+1)
	}
	for _, m := range mi.Messages {
		switch m := m.(type) {
		case duroxide.ContinueAsNewItem:
			// The runtime starts the next execution.
			l.exec, l.next = mi.ExecutionID+1, 1
		case duroxide.StartOrchestrationItem:
			l.parent = m.ParentInstance
		}
	}
	d.orch = append(d.orch, l)
	return true
}

// lockedOrch is a fetched item without its token, for comparison.
type lockedOrch struct {
	Item    duroxide.OrchestrationItem
	Attempt uint32
}

func normOrch(l *duroxide.LockedOrchestrationItem) lockedOrch {
	it := l.OrchestrationItem
	if len(it.KVSnapshot) == 0 {
		it.KVSnapshot = nil // nil and empty are the same snapshot
	}
	if len(it.History) == 0 {
		it.History = nil
	}
	if it.HistoryError != "" {
		it.HistoryError = "set" // its words are the provider's
	}
	return lockedOrch{Item: it, Attempt: l.AttemptCount}
}

func describeOrch(l *duroxide.LockedOrchestrationItem) string {
	if l == nil {
		return "no item"
	}
	return fmt.Sprintf("instance %q with %d messages", l.Instance, len(l.Messages))
}

// pickOrch draws a lock from those fetched so far (held or used up), or a
// made-up token.
func (d *differ) pickOrch(t *rapid.T) lockPair {
	l := d.pickOrchLock(t)
	if l == nil {
		return lockPair{"no-such-token", "no-such-token"}
	}
	return l.tok
}

// drawAge draws how far back from the newest of n locks to pick: mostly the
// newest (the likely held one), sometimes an older, likely used-up one.
func drawAge(t *rapid.T, n int) int {
	if rapid.IntRange(0, 2).Draw(t, "older") > 0 {
		return 0
	}
	return rapid.IntRange(0, n-1).Draw(t, "lockAge")
}

func (d *differ) pickOrchLock(t *rapid.T) *orchLock {
	if len(d.orch) == 0 || rapid.IntRange(0, 9).Draw(t, "madeUp") == 0 {
		return nil
	}
	return d.orch[len(d.orch)-1-drawAge(t, len(d.orch))]
}

// ackOrch acks a drawn lock with a drawn turn: a history delta (started,
// activities, timers, key/value and custom-status events, a terminal
// event), the activities as worker items, timers and messages to other
// instances as orchestrator items, metadata and cancellations.
func (d *differ) ackOrch(t *rapid.T) {
	l := d.pickOrchLock(t)
	if l == nil {
		l = &orchLock{tok: lockPair{"no-such-token", "no-such-token"}, instance: drawInstance(t), exec: 1, next: 1}
	}
	nowMs := uint64(d.clock.Now().UnixMilli())
	ack := duroxide.OrchestrationAck{ExecutionID: l.exec}
	id := l.next
	if l.next > 1 && rapid.IntRange(0, 14).Draw(t, "duplicateID") == 0 {
		id = l.next - 1 // refused: ErrDuplicateEvent, and nothing changes
	}
	event := func(kind duroxide.EventKind) {
		ack.HistoryDelta = append(ack.HistoryDelta, duroxide.Event{
			EventID: id, InstanceID: l.instance, ExecutionID: l.exec, TimestampMs: nowMs, DuroxideVersion: "1.0.0", Kind: kind,
		})
		id++
	}
	if l.next == 1 {
		event(duroxide.OrchestrationStarted{Name: "O", Version: "1.0.0", Input: "in"})
	}
	var scheduled []duroxide.ActivityExecuteItem
	for range rapid.IntRange(0, 3).Draw(t, "events") {
		switch rapid.IntRange(0, 5).Draw(t, "event") {
		case 0:
			a := duroxide.ActivityExecuteItem{Instance: l.instance, ExecutionID: l.exec, ID: id, Name: "A", Input: "x"}
			if rapid.Bool().Draw(t, "tagged") {
				a.Tag = ptr("gpu")
			}
			if rapid.Bool().Draw(t, "inSession") {
				a.SessionID = ptr(rapid.SampledFrom([]string{"s1", "s2"}).Draw(t, "session"))
			}
			event(duroxide.ActivityScheduled{Name: a.Name, Input: a.Input, SessionID: a.SessionID, Tag: a.Tag})
			scheduled = append(scheduled, a)
			ack.WorkerItems = append(ack.WorkerItems, a)
		case 1:
			fire := nowMs + uint64(rapid.IntRange(0, 3).Draw(t, "fireInS"))*1000
			timerID := id
			event(duroxide.TimerCreated{FireAtMs: fire})
			ack.OrchestratorItems = append(ack.OrchestratorItems, duroxide.TimerFiredItem{Instance: l.instance, ExecutionID: l.exec, ID: timerID, FireAtMs: fire})
		case 2:
			event(duroxide.KeyValueSet{Key: rapid.SampledFrom([]string{"k", "m", ""}).Draw(t, "key"), Value: rapid.StringMatching("[xy]{0,2}").Draw(t, "value"), LastUpdatedAtMs: nowMs})
		case 3:
			switch rapid.IntRange(0, 2).Draw(t, "clear") {
			case 0:
				event(duroxide.KeyValueCleared{Key: "k"})
			case 1:
				event(duroxide.KeyValuesCleared{})
			default:
				event(duroxide.CustomStatusUpdated{Status: ptr(rapid.StringMatching("[st]{0,2}").Draw(t, "status"))})
			}
		case 4:
			to := drawInstance(t)
			ack.OrchestratorItems = append(ack.OrchestratorItems, duroxide.ExternalRaisedItem{Instance: to, Name: "ping", Data: l.instance})
		case 5:
			child := l.instance + "-" + rapid.SampledFrom([]string{"x", "y"}).Draw(t, "child")
			ack.OrchestratorItems = append(ack.OrchestratorItems, duroxide.StartOrchestrationItem{
				Instance: child, Orchestration: "Child", Input: "c", Version: ptr("1.0.0"), ExecutionID: 1,
				ParentInstance: ptr(l.instance), ParentID: ptr(id),
			})
			event(duroxide.SubOrchestrationScheduled{Name: "Child", Instance: child, Input: "c"})
		}
	}
	if rapid.Bool().Draw(t, "metadata") {
		ack.Metadata.OrchestrationName, ack.Metadata.OrchestrationVersion = ptr("O"), ptr("1.0.0")
		ack.Metadata.ParentInstanceID = l.parent
		if rapid.Bool().Draw(t, "pinned") {
			ack.Metadata.PinnedDuroxideVersion = &duroxide.Semver{Major: 1, Minor: uint64(rapid.IntRange(0, 10).Draw(t, "minor"))}
		}
	}
	switch rapid.IntRange(0, 6).Draw(t, "terminal") {
	case 0:
		event(duroxide.OrchestrationCompleted{Output: "done"})
		ack.Metadata.Status, ack.Metadata.Output = duroxide.StatusCompleted, ptr("done")
	case 1:
		details := duroxide.Application{Kind: duroxide.AppOrchestrationFailed{}, Message: "bad"}
		event(duroxide.OrchestrationFailed{Details: details})
		ack.Metadata.Status = duroxide.StatusFailed
	case 2:
		ack.Metadata.Status = duroxide.StatusRunning
	case 3:
		event(duroxide.OrchestrationContinuedAsNew{Input: "again"})
		ack.Metadata.Status = duroxide.StatusContinuedAsNew
		ack.OrchestratorItems = append(ack.OrchestratorItems, duroxide.ContinueAsNewItem{Instance: l.instance, Orchestration: "O", Input: "again", Version: ptr("1.0.0")})
	}
	if len(d.scheduled) > 0 && rapid.IntRange(0, 3).Draw(t, "cancel") == 0 {
		a := rapid.SampledFrom(d.scheduled).Draw(t, "cancelled")
		ack.CancelledActivities = []duroxide.ScheduledActivityIdentifier{{Instance: a.Instance, ExecutionID: a.ExecutionID, ActivityID: a.ID}}
	}
	d.visibleIn(0)
	for _, it := range ack.OrchestratorItems {
		if tf, ok := it.(duroxide.TimerFiredItem); ok {
			d.vis = append(d.vis, time.UnixMilli(int64(tf.FireAtMs)))
		}
	}
	merr := d.mem.AckOrchestrationItem(d.ctx, l.tok.mem, ack)
	perr := d.pg.AckOrchestrationItem(d.ctx, l.tok.pg, ack)
	d.sameErr(t, "AckOrchestrationItem", merr, perr)
	if merr == nil {
		l.next = id
		d.scheduled = append(d.scheduled, scheduled...)
	}
}

// fetchWork fetches a worker item from both and requires the same item. It
// reports whether there was one.
func (d *differ) fetchWork(t *rapid.T) bool {
	lock := drawLock(t)
	filter := duroxide.FilterDefaultOnly()
	if rapid.Bool().Draw(t, "anyTag") {
		filter = duroxide.FilterAny()
	}
	var session *duroxide.SessionFetchConfig
	if rapid.Bool().Draw(t, "sessions") {
		session = &duroxide.SessionFetchConfig{OwnerID: drawOwner(t), LockTimeout: drawLock(t)}
	}
	mw, merr := d.mem.FetchWorkItem(d.ctx, lock, 0, session, filter)
	pw, perr := d.pg.FetchWorkItem(d.ctx, lock, 0, session, filter)
	d.sameErr(t, "FetchWorkItem", merr, perr)
	if (mw == nil) != (pw == nil) {
		t.Fatalf("FetchWorkItem: memprovider returned %v, pgprovider %v", mw, pw)
	}
	if mw == nil {
		return false
	}
	same(t, "FetchWorkItem", [2]any{mw.Item, mw.AttemptCount}, [2]any{pw.Item, pw.AttemptCount})
	item, ok := mw.Item.(duroxide.ActivityExecuteItem)
	if !ok {
		t.Fatalf("FetchWorkItem returned a %T", mw.Item)
	}
	d.work = append(d.work, &workLock{tok: lockPair{mw.LockToken, pw.LockToken}, item: item})
	return true
}

// ackWork acks a drawn worker lock with a completion or a failure.
func (d *differ) ackWork(t *rapid.T) {
	l, item := d.pickWork(t)
	var done duroxide.WorkItem = duroxide.ActivityCompletedItem{Instance: item.Instance, ExecutionID: item.ExecutionID, ID: item.ID, Result: "r"}
	if rapid.IntRange(0, 3).Draw(t, "fails") == 0 {
		done = duroxide.ActivityFailedItem{Instance: item.Instance, ExecutionID: item.ExecutionID, ID: item.ID,
			Details: duroxide.Application{Kind: duroxide.AppActivityFailed{}, Message: "boom"}}
	}
	d.visibleIn(0)
	d.sameErr(t, "AckWorkItem", d.mem.AckWorkItem(d.ctx, l.mem, done), d.pg.AckWorkItem(d.ctx, l.pg, done))
}

func (d *differ) pickWork(t *rapid.T) (lockPair, duroxide.ActivityExecuteItem) {
	if len(d.work) == 0 || rapid.IntRange(0, 9).Draw(t, "madeUp") == 0 {
		return lockPair{"no-such-token", "no-such-token"}, duroxide.ActivityExecuteItem{Instance: "a", ExecutionID: 1, ID: 1}
	}
	l := d.work[len(d.work)-1-drawAge(t, len(d.work))]
	return l.tok, l.item
}

// check runs after every operation: the cheap global reads agree.
func (d *differ) check(t *rapid.T) {
	md, merr := d.madm.GetQueueDepths(d.ctx)
	pd, perr := d.padm.GetQueueDepths(d.ctx)
	d.sameErr(t, "GetQueueDepths", merr, perr)
	if merr == nil {
		same(t, "GetQueueDepths", md, pd)
	}
	mm, merr := d.madm.GetSystemMetrics(d.ctx)
	pm, perr := d.padm.GetSystemMetrics(d.ctx)
	d.sameErr(t, "GetSystemMetrics", merr, perr)
	if merr == nil {
		same(t, "GetSystemMetrics", mm, pm)
	}
}

// compareAll compares everything readable at the end of a sequence.
func (d *differ) compareAll(t *rapid.T) {
	d.check(t)
	d.compareListings(t)
	for _, inst := range []string{"a", "b", "c", "a-x", "a-y", "b-x", "b-y", "c-x", "c-y"} {
		d.compareInstance(t, inst)
	}
}

func (d *differ) compareListings(t *rapid.T) {
	ml, merr := d.madm.ListInstances(d.ctx)
	pl, perr := d.padm.ListInstances(d.ctx)
	d.sameErr(t, "ListInstances", merr, perr)
	if merr == nil {
		same(t, "ListInstances", ml, pl)
	}
	for _, st := range []duroxide.ExecutionStatus{duroxide.StatusRunning, duroxide.StatusCompleted, duroxide.StatusFailed} {
		ml, merr := d.madm.ListInstancesByStatus(d.ctx, st)
		pl, perr := d.padm.ListInstancesByStatus(d.ctx, st)
		d.sameErr(t, "ListInstancesByStatus", merr, perr)
		if merr == nil {
			same(t, "ListInstancesByStatus "+string(st), ml, pl)
		}
	}
}

// compareInstance compares every read of one instance.
func (d *differ) compareInstance(t *rapid.T, inst string) {
	mi, merr := d.madm.GetInstanceInfo(d.ctx, inst)
	pi, perr := d.padm.GetInstanceInfo(d.ctx, inst)
	d.sameErr(t, "GetInstanceInfo "+inst, merr, perr)
	if merr == nil {
		same(t, "GetInstanceInfo "+inst, mi, pi)
	}

	mx, merr := d.madm.ListExecutions(d.ctx, inst)
	px, perr := d.padm.ListExecutions(d.ctx, inst)
	d.sameErr(t, "ListExecutions "+inst, merr, perr)
	if merr == nil {
		same(t, "ListExecutions "+inst, mx, px)
	}
	for _, x := range mx {
		me, merr := d.madm.GetExecutionInfo(d.ctx, inst, x)
		pe, perr := d.padm.GetExecutionInfo(d.ctx, inst, x)
		d.sameErr(t, "GetExecutionInfo", merr, perr)
		if merr == nil {
			same(t, fmt.Sprintf("GetExecutionInfo %s/%d", inst, x), me, pe)
		}
	}

	mh, merr := d.madm.ReadHistory(d.ctx, inst)
	ph, perr := d.padm.ReadHistory(d.ctx, inst)
	d.sameErr(t, "ReadHistory "+inst, merr, perr)
	if merr == nil {
		same(t, "ReadHistory "+inst, nilIfEmpty(mh), nilIfEmpty(ph))
	}

	mk, merr := d.mem.GetKVAllValues(d.ctx, inst)
	pk, perr := d.pg.GetKVAllValues(d.ctx, inst)
	d.sameErr(t, "GetKVAllValues "+inst, merr, perr)
	if merr == nil {
		same(t, "GetKVAllValues "+inst, nilIfEmptyMap(mk), nilIfEmptyMap(pk))
	}

	for _, x := range mx {
		mh, merr := d.mem.ReadWithExecution(d.ctx, inst, x)
		ph, perr := d.pg.ReadWithExecution(d.ctx, inst, x)
		d.sameErr(t, "ReadWithExecution", merr, perr)
		if merr == nil {
			same(t, fmt.Sprintf("ReadWithExecution %s/%d", inst, x), nilIfEmpty(mh), nilIfEmpty(ph))
		}
	}

	mc, merr := d.madm.ListChildren(d.ctx, inst)
	pc, perr := d.padm.ListChildren(d.ctx, inst)
	d.sameErr(t, "ListChildren "+inst, merr, perr)
	if merr == nil {
		same(t, "ListChildren "+inst, nilIfEmpty(mc), nilIfEmpty(pc))
	}
	mp, merr := d.madm.GetParentID(d.ctx, inst)
	pp, perr := d.padm.GetParentID(d.ctx, inst)
	d.sameErr(t, "GetParentID "+inst, merr, perr)
	if merr == nil {
		same(t, "GetParentID "+inst, mp, pp)
	}
	mt, merr := d.madm.GetInstanceTree(d.ctx, inst)
	pt, perr := d.padm.GetInstanceTree(d.ctx, inst)
	d.sameErr(t, "GetInstanceTree "+inst, merr, perr)
	if merr == nil {
		same(t, "GetInstanceTree "+inst, mt, pt)
	}
	mv, mok, merr := d.mem.GetKVValue(d.ctx, inst, "k")
	pv, pok, perr := d.pg.GetKVValue(d.ctx, inst, "k")
	d.sameErr(t, "GetKVValue "+inst, merr, perr)
	if merr == nil {
		same(t, "GetKVValue "+inst, [2]any{mv, mok}, [2]any{pv, pok})
	}
	ms, mok, merr := d.mem.GetCustomStatus(d.ctx, inst, 1)
	ps, pok, perr := d.pg.GetCustomStatus(d.ctx, inst, 1)
	d.sameErr(t, "GetCustomStatus(lastSeen 1) "+inst, merr, perr)
	if merr == nil {
		same(t, "GetCustomStatus(lastSeen 1) "+inst, [2]any{ms, mok}, [2]any{ps, pok})
	}
	ms, mok, merr = d.mem.GetCustomStatus(d.ctx, inst, 0)
	ps, pok, perr = d.pg.GetCustomStatus(d.ctx, inst, 0)
	d.sameErr(t, "GetCustomStatus "+inst, merr, perr)
	if merr == nil {
		same(t, "GetCustomStatus "+inst, [2]any{ms, mok}, [2]any{ps, pok})
	}
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func nilIfEmptyMap[K comparable, V any](m map[K]V) map[K]V {
	if len(m) == 0 {
		return nil
	}
	return m
}

// sentinels are the provider error causes, compared by identity.
var sentinels = []error{
	duroxide.ErrInvalidLockToken, duroxide.ErrLockExpired, duroxide.ErrNotFound, duroxide.ErrInstanceRunning,
	duroxide.ErrNotRoot, duroxide.ErrOrphanChild, duroxide.ErrDuplicateEvent, duroxide.ErrInvalidArgument,
	duroxide.ErrCorruptData, duroxide.ErrUnavailable,
}

// errClass names what an error means to a caller: its sentinel and whether
// it is retryable. The messages may differ.
func errClass(err error) string {
	if err == nil {
		return "ok"
	}
	cause := "no sentinel"
	for _, s := range sentinels {
		if errors.Is(err, s) {
			cause = s.Error()
			break
		}
	}
	return fmt.Sprintf("%s (retryable %v)", cause, duroxide.IsRetryable(err))
}

// sameErr fails t unless both calls failed alike or both succeeded. The
// values returned with an error are not compared: they mean nothing.
func (d *differ) sameErr(t *rapid.T, op string, merr, perr error) {
	t.Helper()
	if mc, pc := errClass(merr), errClass(perr); mc != pc {
		t.Fatalf("%s: memprovider: %s [%v]; pgprovider: %s [%v]", op, mc, merr, pc, perr)
	}
}

// same fails t unless mem and pg are deeply equal.
func same(t *rapid.T, what string, mem, pg any) {
	t.Helper()
	if !reflect.DeepEqual(mem, pg) {
		t.Fatalf("%s differs:\nmemprovider: %s\npgprovider:  %s", what, show(mem), show(pg))
	}
}

// show renders a value for a failure message, maps in key order.
func show(v any) string {
	if m, ok := v.(map[string]string); ok {
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(&b, "%q=%q ", k, m[k])
		}
		return b.String()
	}
	return fmt.Sprintf("%+v", v)
}
