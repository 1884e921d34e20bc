package proptest

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/spec"
)

// Run checks the provider built by newHarness against the model with
// rapid: every test case builds a fresh harness, runs a random sequence of
// operations (rapid.steps on average) on one goroutine, compares every
// result with the model and checks the invariants after every step. The
// number of sequences is rapid.checks (default 100); failures are shrunk and
// saved as fail files under testdata/rapid/ of the calling package, which
// every later run replays first.
//
// The harness must have a fake Clock (the provider must read all time from
// it); Run builds one harness first to find out and skips t with the reason
// when it has none. Run calls newHarness from t's goroutine only.
func Run(t *testing.T, newHarness spec.NewHarness) {
	t.Helper()
	probe := newHarness(t)
	if probe == nil || probe.Provider == nil {
		t.Fatalf("proptest: harness function returned no provider")
	}
	if probe.Clock == nil {
		t.Skip("proptest: the harness has no fake Clock; the state machine moves time only through Harness.Clock, so a provider on the real clock cannot be checked")
	}
	var c counters
	rapid.Check(t, property(newHarness, &c))
	if !t.Failed() {
		t.Logf("proptest: %d sequences, %d operations, %d invariant checks", c.sequences.Load(), c.ops.Load(), c.checks.Load())
	}
}

// counters count what Run did.
type counters struct{ sequences, ops, checks atomic.Int64 }

// Property returns the state-machine property Run checks, for callers that
// drive rapid themselves (rapid.Check(tb, proptest.Property(h)) with any
// rapid.TB, for example a mutation-testing harness). Each call of the
// returned function builds a fresh harness with newHarness(t) and fails t
// if it has no fake Clock. The returned function may be called from several
// goroutines at once (each call has its own harness and model).
func Property(newHarness spec.NewHarness) func(*rapid.T) {
	return property(newHarness, &counters{})
}

func property(newHarness spec.NewHarness, c *counters) func(*rapid.T) {
	return func(t *rapid.T) {
		h := newHarness(t)
		if h == nil || h.Provider == nil {
			t.Fatalf("proptest: harness function returned no provider")
		}
		if h.Clock == nil {
			t.Fatalf("proptest: the harness has no fake Clock; proptest moves time only through Harness.Clock")
		}
		d := &driver{
			ctx:       t.Context(),
			h:         h,
			p:         h.Provider,
			admin:     h.Provider.AsManagementCapability(),
			m:         newModel(h.Clock.Now()),
			tokenExec: map[string]uint64{},
			counts:    c,
		}
		c.sequences.Add(1)
		for range phases {
			t.Repeat(d.actions())
		}
	}
}

// Fuzz returns a go test -fuzz target running the same property, with the
// fuzzer's bytes as rapid's random stream:
//
//	func FuzzProptest(f *testing.F) { f.Fuzz(proptest.Fuzz(newHarness)) }
//
// Inputs too short for a whole sequence are skipped.
func Fuzz(newHarness spec.NewHarness) func(*testing.T, []byte) {
	return rapid.MakeFuzz(Property(newHarness))
}

// phases is the number of rapid.Repeat runs one sequence chains on the same
// provider: a sequence averages phases×rapid.steps operations.
const phases = 3

// Fixed pools the generators draw from: small, so that operations collide
// (same instance, same session, same deadline).
var (
	instances    = []string{"i1", "i2", "i3"}
	owners       = []string{"o1", "o2"}
	sessionIDs   = []string{"s1", "s2"}
	tagValues    = []string{"t1", "t2", "", "T1"} // "" is a real tag, distinct from untagged; "T1" is not "t1"
	kvKeys       = []string{"k1", "k2", "k3"}
	lockTimeouts = []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 30 * time.Second}
	delays       = []time.Duration{0, 0, time.Second, 2 * time.Second, 5 * time.Second}
	idles        = []time.Duration{0, time.Second, 5 * time.Second, 30 * time.Second}
	pins         = []duroxide.Semver{{Major: 0, Minor: 1, Patch: 0}, {Major: 1, Minor: 0, Patch: 0}}
	orchFilters  = []*duroxide.DispatcherCapabilityFilter{
		{SupportedDuroxideVersions: []duroxide.SemverRange{{Min: duroxide.Semver{}, Max: duroxide.Semver{Minor: 9, Patch: 9}}}},
		{SupportedDuroxideVersions: []duroxide.SemverRange{{Min: duroxide.Semver{Major: 1}, Max: duroxide.Semver{Major: 1, Minor: 9}}}},
		{SupportedDuroxideVersions: []duroxide.SemverRange{
			{Min: duroxide.Semver{Major: 2}, Max: duroxide.Semver{Major: 3}},
			{Min: duroxide.Semver{Major: 1}, Max: duroxide.Semver{Major: 1}},
		}},
		{SupportedDuroxideVersions: []duroxide.SemverRange{}},
	}
	tagFilters = func() []duroxide.TagFilter {
		must := func(f duroxide.TagFilter, err error) duroxide.TagFilter {
			if err != nil {
				panic(err)
			}
			return f
		}
		return []duroxide.TagFilter{
			duroxide.FilterDefaultOnly(), duroxide.FilterAny(), duroxide.FilterNone(),
			must(duroxide.FilterTags("t1")), must(duroxide.FilterTags("t1", "t2")), must(duroxide.FilterTags("")),
			must(duroxide.FilterDefaultAnd("t1")), must(duroxide.FilterDefaultAnd("t2", "")),
			must(duroxide.FilterTags("T1")), must(duroxide.FilterDefaultAnd("T1", "t2")),
		}
	}()
)

// pinnedVersion is the runtime version written into generated events.
const pinnedVersion = "0.1.26"

// driver is one test case: the provider, the model, and what the test has
// seen (tokens, payload counter). It is used by one goroutine.
type driver struct {
	ctx   context.Context
	h     *spec.Harness
	p     duroxide.Provider
	admin duroxide.ProviderAdmin
	m     *model

	uid        int               // payload counter: every generated payload is unique
	step       int               // operations issued
	orchTokens []string          // instance lock tokens seen, in issue order
	workTokens []string          // worker lock tokens seen, in issue order
	tokenExec  map[string]uint64 // instance lock token -> execution id its fetch reported
	counts     *counters
	// deferScribbles holds back the ownership scribbles of calls issued
	// while a long poll runs in another goroutine (unscribbled runs them
	// once it returned): a provider that retains an argument or aliases a
	// result would otherwise race with its own fetch instead of failing a
	// later comparison.
	deferScribbles bool
	unscribbled    []func()
}

// opTable is the state machine's action table: each step draws one name
// from it, with the given weight. The names, weights and order are part of
// the saved fail files' meaning (rapid draws a name by its index in the
// expanded table), so renaming, reweighting, adding or removing an action,
// or changing the draws inside one, makes existing testdata/rapid fail files
// replay different sequences.
var opTable = []struct {
	name   string
	weight int
	fn     func(*driver, *rapid.T)
}{
	{"enqueueOrch", 8, (*driver).enqueueOrch},
	{"turn", 8, (*driver).turn},
	{"advanceClock", 8, (*driver).advanceClock},
	{"enqueueWorker", 5, (*driver).enqueueWorker},
	{"workTurn", 6, (*driver).workTurn},
	{"fetchOrch", 5, (*driver).fetchOrch},
	{"ackOrch", 5, (*driver).ackOrch},
	{"fetchWork", 4, (*driver).fetchWork},
	{"ackWork", 4, (*driver).ackWork},
	{"renewOrch", 3, (*driver).renewOrch},
	{"renewWork", 3, (*driver).renewWork},
	{"abandonOrch", 3, (*driver).abandonOrch},
	{"abandonWork", 3, (*driver).abandonWork},
	{"sessions", 3, (*driver).sessions},
	{"read", 2, (*driver).read},
	{"appendHistory", 2, (*driver).appendHistory},
	{"admin", 4, (*driver).adminOp},
	{"expiryProbe", 4, (*driver).expiryProbe},
	{"sessionProbe", 2, (*driver).sessionProbe},
	{"longPoll", 6, (*driver).longPoll},
	{"corruptHistory", 1, (*driver).corruptHistory},
	{"stepBack", 2, (*driver).stepBack},
}

// opNamesWeighted is opTable expanded by weight, round-robin (every action
// once, then every action with weight above 1, and so on), so rapid's bias
// towards small indices spreads over all actions instead of favouring one.
var opNamesWeighted = func() []string {
	var names []string
	for round := 0; ; round++ {
		n := len(names)
		for _, e := range opTable {
			if e.weight > round {
				names = append(names, e.name)
			}
		}
		if len(names) == n {
			return names
		}
	}
}()

// actions returns the rapid state machine: one action, "step", which draws
// an operation from opTable, and the invariant check.
func (d *driver) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"step": func(t *rapid.T) {
			name := rapid.SampledFrom(opNamesWeighted).Draw(t, "op")
			for _, e := range opTable {
				if e.name == name {
					e.fn(d, t)
					return
				}
			}
		},
		"": d.check,
	}
}

// do issues o, logs it, checks the answer against the model, records the
// tokens it returned, and then scribbles over o's arguments and the result
// (ownership: the provider must have copied what it keeps and returned
// copies). The returned result keeps its error and lock token only.
func (d *driver) do(t *rapid.T, o op) result {
	t.Helper()
	if o.kind < opAdvance && rapid.IntRange(0, 39).Draw(t, "cancelCtx") == 0 {
		o.cancelled = true
	}
	if o.kind < opAdvance && rapid.IntRange(0, 39).Draw(t, "negativeDuration") == 0 {
		o.dur = -time.Second
	}
	d.step++
	d.counts.ops.Add(1)
	got := exec(d.ctx, d.h, o)
	t.Logf("[%d] %s -> %s", d.step, o, got)
	if p := d.m.step(o, got); p != "" {
		d.fail(t, p, o, got)
	}
	d.record(got)
	if d.deferScribbles {
		d.unscribbled = append(d.unscribbled, func() { scribbleOp(&o); scribbleResult(&got) })
		return got
	}
	scribbleOp(&o)
	scribbleResult(&got)
	return got
}

// record remembers the lock token a successful fetch returned.
func (d *driver) record(got result) {
	if got.err == nil {
		switch {
		case got.orch != nil:
			d.orchTokens = append(d.orchTokens, got.orch.LockToken)
			d.tokenExec[got.orch.LockToken] = got.orch.ExecutionID
		case got.work != nil:
			d.workTokens = append(d.workTokens, got.work.LockToken)
		}
	}
}

// fail stops the test case. Each rule fails from its own line so that rapid,
// which keeps a shrunk case only if it fails with the same traceback, does
// not shrink one violation into another.
func (d *driver) fail(t *rapid.T, problem string, o op, got result) {
	t.Helper()
	rule, _, _ := strings.Cut(problem, ":")
	msg := fmt.Sprintf("%s\n    op:  %s\n    got: %s\n    now: %s", problem, o, got, d.m.at(d.m.now))
	switch rule {
	case "exclusivity":
		t.Fatalf("%s", msg)
	case "visibility":
		t.Fatalf("%s", msg)
	case "delivery", "lost work", "lost message":
		t.Fatalf("%s", msg)
	case "FIFO across instances", "FIFO within an instance", "FIFO":
		t.Fatalf("%s", msg)
	case "attempt counts":
		t.Fatalf("%s", msg)
	case "history":
		t.Fatalf("%s", msg)
	case "history error":
		t.Fatalf("%s", msg)
	case "wake-up":
		t.Fatalf("%s", msg)
	case "single ack":
		t.Fatalf("%s", msg)
	case "tokens":
		t.Fatalf("%s", msg)
	case "head-of-line rule", "orphan rule", "identity", "capability filter":
		t.Fatalf("%s", msg)
	case "key/value", "custom status":
		t.Fatalf("%s", msg)
	case "sessions", "tag filter":
		t.Fatalf("%s", msg)
	case "deletion", "management":
		t.Fatalf("%s", msg)
	case "atomicity":
		t.Fatalf("%s", msg)
	default:
		t.Fatalf("%s", msg)
	}
}

// nextUID returns a fresh payload.
func (d *driver) nextUID() string {
	d.uid++
	return fmt.Sprintf("u%d", d.uid)
}

func (d *driver) nowMs() uint64 { return unixMs(d.m.now) }

func pick[V any](t *rapid.T, label string, pool []V) V {
	return pool[rapid.IntRange(0, len(pool)-1).Draw(t, label)]
}

func ptr[V any](v V) *V { return &v }

// optString draws nil or a fresh pointer to one of pool.
func optString(t *rapid.T, label string, pool []string) *string {
	i := rapid.IntRange(-1, len(pool)-1).Draw(t, label)
	if i < 0 {
		return nil
	}
	return ptr(pool[i])
}

// genOrchItem draws an orchestrator message for instance id (sometimes a
// worker item, which the provider must refuse).
func (d *driver) genOrchItem(t *rapid.T, id string) duroxide.WorkItem {
	u := d.nextUID()
	switch rapid.IntRange(0, 11).Draw(t, "variant") {
	case 0, 1, 10:
		return duroxide.StartOrchestrationItem{Instance: id, Orchestration: "Orch", Input: u, Version: optString(t, "version", []string{"1.0.0", "2.0.0"}), ExecutionID: 1}
	case 2:
		return duroxide.ExternalRaisedItem{Instance: id, Name: "ev", Data: u}
	case 3:
		return duroxide.ActivityCompletedItem{Instance: id, ExecutionID: 1, ID: uint64(rapid.IntRange(1, 4).Draw(t, "activity")), Result: u}
	case 4:
		return duroxide.ActivityFailedItem{Instance: id, ExecutionID: 1, ID: uint64(rapid.IntRange(1, 4).Draw(t, "activity")),
			Details: duroxide.Application{Kind: duroxide.AppActivityFailed{}, Message: u}}
	case 5:
		return duroxide.TimerFiredItem{Instance: id, ExecutionID: 1, ID: 7, FireAtMs: d.nowMs()}
	case 6:
		return duroxide.QueueMessageItem{Instance: id, Name: "q", Data: u}
	case 7:
		return duroxide.CancelInstanceItem{Instance: id, Reason: u}
	case 8:
		return duroxide.ContinueAsNewItem{Instance: id, Orchestration: "Orch", Input: u, Version: optString(t, "version", []string{"1.0.0", "2.0.0"})}
	case 9:
		return duroxide.SubOrchCompletedItem{ParentInstance: id, ParentExecutionID: 1, ParentID: 1, Result: u}
	default:
		return duroxide.ActivityExecuteItem{Instance: id, ExecutionID: 1, ID: 1, Name: "Act", Input: u}
	}
}

// genActivity draws an activity for instance id and execution exec.
func (d *driver) genActivity(t *rapid.T, id string, exec uint64) duroxide.ActivityExecuteItem {
	return duroxide.ActivityExecuteItem{
		Instance: id, ExecutionID: exec, ID: uint64(rapid.IntRange(1, 4).Draw(t, "activity")), Name: "Act", Input: d.nextUID(),
		SessionID: optString(t, "session", sessionIDs), Tag: optString(t, "tag", tagValues),
	}
}

// genEvents draws up to three events for execution exec of id, with fresh
// ids after the stored ones.
func (d *driver) genEvents(t *rapid.T, id string, exec uint64) []duroxide.Event {
	next := uint64(1)
	if in := d.m.insts[id]; in != nil {
		if ev := in.execs[exec].events; len(ev) > 0 {
			next = ev[len(ev)-1].EventID + 1
		}
	}
	var out []duroxide.Event
	for i := range uint64(rapid.IntRange(0, 3).Draw(t, "events")) {
		out = append(out, d.genEvent(t, id, exec, next+i))
	}
	return out
}

// breakEvents makes events invalid: one id zero, or one id a duplicate of a
// stored or earlier event (when there is one). It returns events unchanged
// when it cannot.
func (d *driver) breakEvents(t *rapid.T, id string, exec uint64, events []duroxide.Event) []duroxide.Event {
	var ids []uint64
	if in := d.m.insts[id]; in != nil {
		for _, e := range in.execs[exec].events {
			ids = append(ids, e.EventID)
		}
	}
	for _, e := range events {
		ids = append(ids, e.EventID)
	}
	if len(ids) == 0 {
		return events
	}
	broken := slices.Clone(events)
	if len(broken) == 0 {
		broken = append(broken, d.genEvent(t, id, exec, ids[0]+1000))
	}
	i := rapid.IntRange(0, len(broken)-1).Draw(t, "brokenEvent")
	if rapid.IntRange(0, 2).Draw(t, "zeroID") == 0 {
		broken[i].EventID = 0
	} else {
		broken[i].EventID = pick(t, "duplicateID", ids)
	}
	return broken
}

// pointerEvent makes one event of events (a fresh one when there is none)
// carry a pointer to its kind, which a provider must refuse.
func (d *driver) pointerEvent(t *rapid.T, id string, exec uint64, events []duroxide.Event) []duroxide.Event {
	bad := slices.Clone(events)
	if len(bad) == 0 {
		next := uint64(1)
		if in := d.m.insts[id]; in != nil {
			if ev := in.execs[exec].events; len(ev) > 0 {
				next = ev[len(ev)-1].EventID + 1
			}
		}
		bad = append(bad, d.genEvent(t, id, exec, next))
	}
	i := rapid.IntRange(0, len(bad)-1).Draw(t, "pointerEvent")
	bad[i].Kind = pointerTo(bad[i].Kind)
	return bad
}

// genEvent draws one event with id eid.
func (d *driver) genEvent(t *rapid.T, id string, exec, eid uint64) duroxide.Event {
	u := d.nextUID()
	e := duroxide.Event{EventID: eid, InstanceID: id, ExecutionID: exec, TimestampMs: d.nowMs(), DuroxideVersion: pinnedVersion}
	if eid == 1 {
		e.Kind = duroxide.OrchestrationStarted{Name: "Orch", Version: pick(t, "startVersion", []string{"1.0.0", "2.0.0"}), Input: u}
		return e
	}
	switch rapid.IntRange(0, 8).Draw(t, "eventKind") {
	case 0:
		e.Kind = duroxide.ActivityScheduled{Name: "Act", Input: u}
	case 1:
		e.Kind = duroxide.TimerCreated{FireAtMs: d.nowMs() + 1000}
	case 2:
		e.Kind = duroxide.ExternalEvent{Name: "ev", Data: u}
	case 3:
		if rapid.Bool().Draw(t, "clearStatus") {
			e.Kind = duroxide.CustomStatusUpdated{}
		} else {
			e.Kind = duroxide.CustomStatusUpdated{Status: &u}
		}
	case 4, 8:
		if rapid.IntRange(0, 3).Draw(t, "emptyValue") == 0 {
			u = "" // an empty value is a value, not a deletion
		}
		e.Kind = duroxide.KeyValueSet{Key: pick(t, "key", kvKeys), Value: u, LastUpdatedAtMs: d.nowMs()}
	case 5:
		e.Kind = duroxide.KeyValueCleared{Key: pick(t, "key", kvKeys)}
	case 6:
		e.Kind = duroxide.KeyValuesCleared{}
	case 7:
		e.Kind = duroxide.OrchestrationCompleted{Output: u}
	}
	return e
}

// genAck draws an ack for token: the fetched execution (sometimes the next
// one, as after continue-as-new), fresh events, metadata, worker and
// orchestrator items, cancellations. With clean false, one ack in four gets
// one fault the provider must refuse (execution id 0, an event id zero or
// duplicate, a work item on the wrong queue).
func (d *driver) genAck(t *rapid.T, token string, clean bool) duroxide.OrchestrationAck {
	id, in := d.m.lockedBy(token)
	exec := d.tokenExec[token]
	if in == nil || exec == 0 {
		id, exec = pick(t, "ackInstance", instances), 1
	}
	// The runtime acks a batch holding a ContinueAsNew on the next
	// execution; other acks sometimes do too.
	can := in != nil && slices.ContainsFunc(d.m.orchQ, func(q qmsg) bool {
		_, ok := q.item.(duroxide.ContinueAsNewItem)
		return ok && q.batch == token && q.visibleAt <= d.m.now
	})
	if can && rapid.IntRange(0, 3).Draw(t, "sameExecution") > 0 || rapid.IntRange(0, 9).Draw(t, "continueAsNew") == 0 {
		exec++
	}
	a := duroxide.OrchestrationAck{ExecutionID: exec, HistoryDelta: d.genEvents(t, id, exec)}
	md := &a.Metadata
	mdKind := rapid.IntRange(0, 5).Draw(t, "metadata")
	if clean && mdKind > 2 && (in == nil || !in.record) && rapid.IntRange(0, 3).Draw(t, "firstTurnMetadata") > 0 {
		mdKind = 0 // a runtime's first turn carries name and version
	}
	switch mdKind {
	case 0, 1, 2:
		md.OrchestrationName = ptr("Orch")
		md.OrchestrationVersion = ptr(pick(t, "metaVersion", []string{"1.0.0", "2.0.0"}))
		if rapid.IntRange(0, 4).Draw(t, "hasParent") == 0 {
			md.ParentInstanceID = ptr(pick(t, "parent", instances))
		}
	case 3:
		md.OrchestrationName = ptr("Orch")
	}
	switch rapid.IntRange(0, 7).Draw(t, "status") {
	case 4:
		md.Status = duroxide.StatusRunning
	case 5:
		md.Status = duroxide.StatusCompleted
	case 6:
		md.Status = duroxide.StatusFailed
	case 7:
		md.Status = duroxide.StatusContinuedAsNew
	}
	if md.Status != "" {
		md.Output = ptr(d.nextUID())
	}
	if i := rapid.IntRange(-2, len(pins)-1).Draw(t, "pinned"); i >= 0 {
		md.PinnedDuroxideVersion = ptr(pins[i])
	}
	for range rapid.IntRange(0, 2).Draw(t, "workerItems") {
		a.WorkerItems = append(a.WorkerItems, d.genActivity(t, id, exec))
	}
	for range rapid.IntRange(0, 2).Draw(t, "orchItems") {
		other := pick(t, "target", instances)
		u := d.nextUID()
		switch rapid.IntRange(0, 5).Draw(t, "orchItem") {
		case 5:
			a.OrchestratorItems = append(a.OrchestratorItems, duroxide.ContinueAsNewItem{Instance: id, Orchestration: "Orch", Input: u})
			md.Status, md.Output = duroxide.StatusContinuedAsNew, ptr(u)
		case 0:
			at := int64(d.nowMs()) + int64(rapid.IntRange(-1, 6).Draw(t, "fireInSeconds"))*1000
			a.OrchestratorItems = append(a.OrchestratorItems, duroxide.TimerFiredItem{Instance: id, ExecutionID: exec, ID: 5, FireAtMs: uint64(max(at, 0))})
		case 1:
			a.OrchestratorItems = append(a.OrchestratorItems, duroxide.ExternalRaisedItem{Instance: other, Name: "ev", Data: u})
		case 2:
			a.OrchestratorItems = append(a.OrchestratorItems, duroxide.StartOrchestrationItem{Instance: other, Orchestration: "Orch", Input: u, ParentInstance: ptr(id), ExecutionID: 1})
		case 3:
			a.OrchestratorItems = append(a.OrchestratorItems, duroxide.SubOrchCompletedItem{ParentInstance: other, ParentExecutionID: 1, ParentID: 2, Result: u})
		case 4:
			a.OrchestratorItems = append(a.OrchestratorItems, duroxide.QueueMessageItem{Instance: other, Name: "q", Data: u})
		}
	}
	if rapid.IntRange(0, 3).Draw(t, "cancel") == 0 {
		var known []duroxide.ScheduledActivityIdentifier
		for _, w := range d.m.workQ {
			known = append(known, duroxide.ScheduledActivityIdentifier{Instance: w.item.Instance, ExecutionID: w.item.ExecutionID, ActivityID: w.item.ID})
		}
		for _, w := range a.WorkerItems {
			x := w.(duroxide.ActivityExecuteItem)
			known = append(known, duroxide.ScheduledActivityIdentifier{Instance: x.Instance, ExecutionID: x.ExecutionID, ActivityID: x.ID})
		}
		known = append(known, duroxide.ScheduledActivityIdentifier{Instance: id, ExecutionID: 9, ActivityID: 9})
		a.CancelledActivities = append(a.CancelledActivities, pick(t, "cancelled", known))
	}
	if !clean && rapid.IntRange(0, 3).Draw(t, "faulty") == 0 {
		switch rapid.IntRange(0, 5).Draw(t, "fault") {
		case 4:
			a.HistoryDelta = d.pointerEvent(t, id, exec, a.HistoryDelta)
		case 5:
			if len(a.OrchestratorItems) > 0 && rapid.Bool().Draw(t, "pointerOrchItem") {
				a.OrchestratorItems[0] = pointerTo(a.OrchestratorItems[0])
			} else {
				a.WorkerItems = append(a.WorkerItems, pointerTo(duroxide.WorkItem(d.genActivity(t, id, exec))))
			}
		case 0:
			a.HistoryDelta = d.breakEvents(t, id, exec, a.HistoryDelta)
		case 1:
			a.ExecutionID = 0
		case 2:
			a.WorkerItems = append(a.WorkerItems, duroxide.ExternalRaisedItem{Instance: id, Name: "ev", Data: "bad"})
		default:
			a.OrchestratorItems = append(a.OrchestratorItems, duroxide.ActivityExecuteItem{Instance: id, ExecutionID: exec, ID: 1, Name: "Act"})
		}
	}
	return a
}

// outstanding returns the seen tokens that still name a lock (held or
// expired but not superseded).
func (d *driver) outstanding(orch bool) []string {
	var out []string
	if orch {
		for _, tok := range d.orchTokens {
			if _, in := d.m.lockedBy(tok); in != nil {
				out = append(out, tok)
			}
		}
		return out
	}
	for _, tok := range d.workTokens {
		if d.m.workBy(tok) >= 0 {
			out = append(out, tok)
		}
	}
	return out
}

// drawToken draws a token for an orchestration (orch) or worker call:
// mostly an outstanding one (live or expired), else one seen before (stale:
// acked, abandoned, superseded, deleted), one of the other queue, a made-up
// one or the empty string. Recent tokens are favoured.
func (d *driver) drawToken(t *rapid.T, orch bool) string {
	live, seen, other := d.outstanding(orch), d.orchTokens, d.workTokens
	if !orch {
		seen, other = d.workTokens, d.orchTokens
	}
	recent := func(label string, tokens []string) string {
		return tokens[len(tokens)-1-rapid.IntRange(0, len(tokens)-1).Draw(t, label)]
	}
	kind := rapid.IntRange(0, 8).Draw(t, "tokenKind")
	switch {
	case kind <= 5 && len(live) > 0:
		return recent("liveToken", live)
	case kind <= 6 && len(seen) > 0:
		return recent("seenToken", seen)
	case kind == 7 && len(other) > 0:
		return recent("otherQueueToken", other)
	}
	return pick(t, "madeUpToken", []string{"made-up-token", ""})
}

func (d *driver) enqueueOrch(t *rapid.T) {
	id := pick(t, "instance", instances)
	d.do(t, op{kind: opEnqueueOrch, item: maybePointer(t, d.genOrchItem(t, id)), dur: pick(t, "delay", delays)})
}

func (d *driver) enqueueWorker(t *rapid.T) {
	id := pick(t, "instance", instances)
	d.do(t, op{kind: opEnqueueWorker, item: maybePointer(t, duroxide.WorkItem(d.genActivity(t, id, 1)))})
}

// maybePointer returns, one time in twenty, a pointer to v instead of v: a
// pointer variant satisfies the contract's sealed interfaces (WorkItem,
// EventKind, ErrorDetails) but is not one of their variants, so a provider
// must refuse it with ErrInvalidArgument and change nothing.
func maybePointer[V any](t *rapid.T, v V) V {
	if rapid.IntRange(0, 19).Draw(t, "pointerVariant") > 0 {
		return v
	}
	return pointerTo(v)
}

// pointerTo returns a pointer to a copy of v, as a V (v must be a non-nil
// interface value whose pointer type implements V).
func pointerTo[V any](v V) V {
	rv := reflect.ValueOf(v)
	pv := reflect.New(rv.Type())
	pv.Elem().Set(rv)
	return pv.Interface().(V)
}

func (d *driver) drawFetchOrch(t *rapid.T) op {
	o := op{kind: opFetchOrch, dur: pick(t, "lockTimeout", lockTimeouts)}
	if i := rapid.IntRange(-4, len(orchFilters)-1).Draw(t, "filter"); i >= 0 {
		o.filter = orchFilters[i]
	}
	return o
}

func (d *driver) fetchOrch(t *rapid.T) { d.do(t, d.drawFetchOrch(t)) }

// abandonOp draws an abandon (kind opAbandonOrch or opAbandonWork) of token.
func abandonOp(t *rapid.T, kind opKind, token string) op {
	return op{kind: kind, token: token, dur: pick(t, "delay", delays), ignore: rapid.Bool().Draw(t, "ignoreAttempt")}
}

// renewOp draws a renewal (kind opRenewOrch or opRenewWork) of token.
func renewOp(t *rapid.T, kind opKind, token string) op {
	return op{kind: kind, token: token, dur: pick(t, "extendFor", lockTimeouts)}
}

func (d *driver) ackOrch(t *rapid.T) {
	token := d.drawToken(t, true)
	_, in := d.m.lockedBy(token)
	wasLive := d.m.held(in)
	got := d.do(t, op{kind: opAckOrch, token: token, ack: d.genAck(t, token, false)})
	if got.err != nil && wasLive && rapid.Bool().Draw(t, "retryAck") {
		// A failed ack keeps the lock: the runtime acks again with the same
		// token to record the failure.
		a := duroxide.OrchestrationAck{ExecutionID: d.tokenExec[token], Metadata: duroxide.ExecutionMetadata{Status: duroxide.StatusFailed, Output: ptr("failed")}}
		d.do(t, op{kind: opAckOrch, token: token, ack: a})
	}
}

func (d *driver) abandonOrch(t *rapid.T) {
	token := d.drawToken(t, true)
	d.do(t, abandonOp(t, opAbandonOrch, token))
}

func (d *driver) renewOrch(t *rapid.T) {
	token := d.drawToken(t, true)
	d.do(t, renewOp(t, opRenewOrch, token))
}

// turn is a dispatcher turn: fetch, then mostly a valid ack with the new
// token (sometimes continuing as new), sometimes a renewal first, sometimes
// an abandon.
func (d *driver) turn(t *rapid.T) {
	got := d.do(t, d.drawFetchOrch(t))
	if got.orch == nil {
		return
	}
	token := got.orch.LockToken
	switch rapid.IntRange(0, 9).Draw(t, "turnEnd") {
	case 8:
		d.do(t, abandonOp(t, opAbandonOrch, token))
		return
	case 9:
		d.do(t, renewOp(t, opRenewOrch, token))
	}
	d.do(t, op{kind: opAckOrch, token: token, ack: d.genAck(t, token, true)})
}

func (d *driver) drawFetchWork(t *rapid.T) op {
	o := op{kind: opFetchWork, dur: pick(t, "lockTimeout", lockTimeouts), tags: pick(t, "tagFilter", tagFilters)}
	if rapid.IntRange(0, 2).Draw(t, "withSession") > 0 {
		o.session = &duroxide.SessionFetchConfig{OwnerID: pick(t, "owner", owners), LockTimeout: pick(t, "sessionLease", lockTimeouts)}
	}
	return o
}

func (d *driver) fetchWork(t *rapid.T) { d.do(t, d.drawFetchWork(t)) }

// genCompletion draws a worker ack's completion for the item token locks
// (nil, a result, a failure, or a wrong variant).
func (d *driver) genCompletion(t *rapid.T, token string) duroxide.WorkItem {
	id, exec, aid := pick(t, "completionInstance", instances), uint64(1), uint64(1)
	if i := d.m.workBy(token); i >= 0 {
		w := d.m.workQ[i].item
		id, exec, aid = w.Instance, w.ExecutionID, w.ID
	}
	switch rapid.IntRange(0, 10).Draw(t, "completion") {
	case 0, 1:
		return nil
	case 8:
		kind := maybePointer(t, duroxide.AppErrorKind(duroxide.AppActivityFailed{}))
		return duroxide.ActivityFailedItem{Instance: id, ExecutionID: exec, ID: aid, Details: maybePointer(t, duroxide.ErrorDetails(duroxide.Application{Kind: kind, Message: d.nextUID()}))}
	case 9:
		return duroxide.ExternalRaisedItem{Instance: id, Name: "ev", Data: d.nextUID()}
	case 10:
		return pointerTo(duroxide.WorkItem(duroxide.ActivityCompletedItem{Instance: id, ExecutionID: exec, ID: aid, Result: d.nextUID()}))
	}
	return duroxide.ActivityCompletedItem{Instance: id, ExecutionID: exec, ID: aid, Result: d.nextUID()}
}

func (d *driver) ackWork(t *rapid.T) {
	token := d.drawToken(t, false)
	d.do(t, op{kind: opAckWork, token: token, item: d.genCompletion(t, token)})
}

func (d *driver) abandonWork(t *rapid.T) {
	token := d.drawToken(t, false)
	d.do(t, abandonOp(t, opAbandonWork, token))
}

func (d *driver) renewWork(t *rapid.T) {
	token := d.drawToken(t, false)
	d.do(t, renewOp(t, opRenewWork, token))
}

// workTurn is a worker turn: fetch, then mostly an ack with a completion,
// sometimes a renewal first, sometimes an abandon.
func (d *driver) workTurn(t *rapid.T) {
	got := d.do(t, d.drawFetchWork(t))
	if got.work == nil {
		return
	}
	token := got.work.LockToken
	switch rapid.IntRange(0, 9).Draw(t, "turnEnd") {
	case 7, 8:
		d.do(t, abandonOp(t, opAbandonWork, token))
		return
	case 9:
		d.do(t, renewOp(t, opRenewWork, token))
	}
	d.do(t, op{kind: opAckWork, token: token, item: d.genCompletion(t, token)})
}

func (d *driver) sessions(t *rapid.T) {
	if rapid.IntRange(0, 2).Draw(t, "sessionOp") == 0 {
		d.do(t, op{kind: opCleanupSessions, dur2: pick(t, "idle", idles)})
		return
	}
	ownerSets := [][]string{{"o1"}, {"o2"}, {"o1", "o2"}, {"o1", "o1"}, {}}
	d.do(t, op{kind: opRenewSessions, owners: pick(t, "owners", ownerSets), dur: pick(t, "extendFor", lockTimeouts), dur2: pick(t, "idle", idles)})
}

func (d *driver) read(t *rapid.T) {
	id := pick(t, "instance", instances)
	switch rapid.IntRange(0, 4).Draw(t, "readOp") {
	case 0:
		d.do(t, op{kind: opRead, instance: id})
	case 1:
		d.do(t, op{kind: opReadExec, instance: id, exec: uint64(rapid.IntRange(1, 3).Draw(t, "exec"))})
	case 2:
		d.do(t, op{kind: opGetKV, instance: id, key: pick(t, "key", kvKeys)})
	case 3:
		d.do(t, op{kind: opGetKVAll, instance: id})
	default:
		d.do(t, op{kind: opGetCustomStatus, instance: id, lastSeen: uint64(rapid.IntRange(0, 3).Draw(t, "lastSeen"))})
	}
}

func (d *driver) appendHistory(t *rapid.T) {
	id := pick(t, "instance", instances)
	exec := uint64(rapid.IntRange(1, 3).Draw(t, "exec"))
	events := d.genEvents(t, id, exec)
	switch rapid.IntRange(0, 7).Draw(t, "faulty") {
	case 0, 1:
		events = d.breakEvents(t, id, exec, events)
	case 2:
		events = d.pointerEvent(t, id, exec, events)
	}
	d.do(t, op{kind: opAppend, instance: id, exec: exec, events: events})
}

// drawAdminInstance draws an instance, mostly one with a record (the ones
// management calls act on), favouring those with several executions.
func (d *driver) drawAdminInstance(t *rapid.T) string {
	var recs []string
	for _, id := range slices.Sorted(maps.Keys(d.m.insts)) {
		in := d.m.insts[id]
		if in.record {
			recs = append(recs, id)
			if len(in.execs) > 1 {
				recs = append(recs, id, id)
			}
		}
	}
	if len(recs) > 0 && rapid.IntRange(0, 3).Draw(t, "recordedInstance") > 0 {
		return pick(t, "instance", recs)
	}
	return pick(t, "instance", instances)
}

func (d *driver) adminOp(t *rapid.T) {
	if d.admin == nil {
		return
	}
	switch rapid.IntRange(0, 3).Draw(t, "adminOp") {
	case 0:
		d.do(t, op{kind: opDeleteInstance, instance: d.drawAdminInstance(t), force: rapid.Bool().Draw(t, "force")})
	case 1:
		var ids []string
		for _, id := range instances {
			if rapid.IntRange(0, 2).Draw(t, "list_"+id) == 0 {
				ids = append(ids, id)
			}
		}
		d.do(t, op{kind: opDeleteAtomic, ids: ids, force: rapid.Bool().Draw(t, "force")})
	case 2:
		o := op{kind: opDeleteBulk}
		if rapid.Bool().Draw(t, "filterIDs") {
			o.bulk.InstanceIDs = []string{}
			for _, id := range instances {
				if rapid.Bool().Draw(t, "bulk_"+id) {
					o.bulk.InstanceIDs = append(o.bulk.InstanceIDs, id)
				}
			}
		}
		if c := rapid.IntRange(-1, 2).Draw(t, "completedBefore"); c >= 0 {
			o.bulk.CompletedBefore = ptr(d.nowMs() + 1 - uint64(c)*1000)
		}
		if l := rapid.IntRange(-1, 2).Draw(t, "limit"); l >= 0 {
			o.bulk.Limit = ptr(uint32(l))
		}
		d.do(t, o)
	default:
		o := op{kind: opPrune, instance: d.drawAdminInstance(t)}
		if k := rapid.IntRange(-1, 2).Draw(t, "keepLast"); k >= 0 {
			o.prune.KeepLast = ptr(uint32(k))
		}
		if c := rapid.IntRange(-1, 2).Draw(t, "completedBefore"); c >= 0 {
			o.prune.CompletedBefore = ptr(d.nowMs() + 1 - uint64(c)*1000)
		}
		d.do(t, o)
	}
}

// advanceClock moves the fake clock: to just before, exactly on or just
// after the nearest (or any) model deadline, or by a random amount.
func (d *driver) advanceClock(t *rapid.T) {
	ds := d.m.deadlines()
	var dur time.Duration
	switch mode := rapid.IntRange(0, 3).Draw(t, "advanceMode"); {
	case mode <= 1 && len(ds) > 0:
		target := ds[0]
		if mode == 1 {
			target = pick(t, "deadline", ds)
		}
		off := time.Duration(rapid.IntRange(-1, 1).Draw(t, "offsetMs")) * time.Millisecond
		dur = max(time.Duration(target-d.m.now)+off, 0)
	case mode == 2:
		dur = time.Duration(rapid.IntRange(1, 40).Draw(t, "halfSeconds")) * 500 * time.Millisecond
	default:
		dur = time.Duration(rapid.IntRange(0, 2).Draw(t, "ms")) * time.Millisecond
	}
	d.do(t, op{kind: opAdvance, dur: dur})
}

// advanceTo moves the clock to at+offset, where offset is drawn from -1ms,
// 0 and +1ms (never backwards).
func (d *driver) advanceTo(t *rapid.T, at int64) {
	off := int64(rapid.IntRange(-1, 1).Draw(t, "offsetMs")) * int64(time.Millisecond)
	d.do(t, op{kind: opAdvance, dur: time.Duration(max(at+off-d.m.now, 0))})
}

// expiryProbe takes a lock (an outstanding one, or a fresh fetch), moves the
// clock to just before, exactly on or just after its expiry, and uses the
// token or fetches again: expiry must be strict (a lock whose expiry equals
// now is expired for ack and renew, and free for a fetch).
func (d *driver) expiryProbe(t *rapid.T) {
	orch := rapid.Bool().Draw(t, "instanceLock")
	var token string
	if live := d.outstanding(orch); len(live) > 0 && rapid.IntRange(0, 2).Draw(t, "fresh") > 0 {
		token = live[len(live)-1-rapid.IntRange(0, len(live)-1).Draw(t, "liveToken")]
	} else if orch {
		got := d.do(t, d.drawFetchOrch(t))
		if got.orch == nil {
			return
		}
		token = got.orch.LockToken
	} else {
		got := d.do(t, d.drawFetchWork(t))
		if got.work == nil {
			return
		}
		token = got.work.LockToken
	}
	if orch {
		_, in := d.m.lockedBy(token)
		d.advanceTo(t, in.lockUntil)
		switch rapid.IntRange(0, 3).Draw(t, "probe") {
		case 0:
			d.do(t, op{kind: opAckOrch, token: token, ack: d.genAck(t, token, true)})
		case 1:
			d.do(t, renewOp(t, opRenewOrch, token))
		case 2:
			d.do(t, abandonOp(t, opAbandonOrch, token))
		default:
			d.do(t, d.drawFetchOrch(t))
		}
		return
	}
	d.advanceTo(t, d.m.workQ[d.m.workBy(token)].until)
	switch rapid.IntRange(0, 3).Draw(t, "probe") {
	case 0:
		d.do(t, op{kind: opAckWork, token: token, item: d.genCompletion(t, token)})
	case 1:
		d.do(t, renewOp(t, opRenewWork, token))
	case 2:
		d.do(t, abandonOp(t, opAbandonWork, token))
	default:
		d.do(t, d.drawFetchWork(t))
	}
}

// corruptHistory makes an instance's stored history undecodable through the
// harness's hooks (a no-op without them): from then on reads of its
// executions that hold events fail with ErrCorruptData and fetches report
// HistoryError, while acks may still append (the runtime's poison path).
func (d *driver) corruptHistory(t *rapid.T) {
	if d.h.Hooks == nil {
		return
	}
	d.do(t, op{kind: opCorrupt, instance: pick(t, "instance", instances)})
}

// stepBack steps the fake clock back, as NTP steps a wall clock, when the
// harness says the provider survives it (Harness.ClockStepsBack; a no-op
// otherwise). Deadlines are absolute: a lock or lease that had expired is
// valid again while the clock is before its expiry, so its holder may renew
// and ack it and nobody else may take what it holds. The step is mostly to
// just before a lock or lease expiry the clock has passed, so that
// expired-then-valid-again locks are common; it never crosses a
// message's visibility time (whether a message once visible hides again
// is left to the provider), nor goes before the start.
func (d *driver) stepBack(t *rapid.T) {
	if !d.h.ClockStepsBack {
		return
	}
	floor := d.m.start
	for _, q := range d.m.orchQ {
		if q.visibleAt <= d.m.now {
			floor = max(floor, q.visibleAt)
		}
	}
	for _, w := range d.m.workQ {
		if w.visibleAt <= d.m.now {
			floor = max(floor, w.visibleAt)
		}
	}
	var past []int64
	for _, in := range d.m.insts {
		if in.lockToken != "" && in.lockUntil <= d.m.now && in.lockUntil > floor {
			past = append(past, in.lockUntil)
		}
	}
	for _, w := range d.m.workQ {
		if w.token != "" && w.until <= d.m.now && w.until > floor {
			past = append(past, w.until)
		}
	}
	for _, s := range d.m.sess {
		if s.until <= d.m.now && s.until > floor {
			past = append(past, s.until)
		}
	}
	slices.Sort(past)
	var to int64
	if len(past) > 0 && rapid.IntRange(0, 3).Draw(t, "backToExpiry") > 0 {
		to = pick(t, "expiry", past) - int64(time.Millisecond)*int64(rapid.IntRange(1, 1000).Draw(t, "beforeMs"))
	} else {
		to = d.m.now - int64(rapid.IntRange(1, 10).Draw(t, "backHalfSeconds"))*int64(500*time.Millisecond)
	}
	to = max(to, floor)
	if to >= d.m.now {
		return
	}
	d.do(t, op{kind: opStepBack, dur: time.Duration(d.m.now - to)})
}

// sessionProbe moves the clock to just before, on or after a session's
// lease expiry and fetches session work as one of the owners.
func (d *driver) sessionProbe(t *rapid.T) {
	ids := slices.Sorted(maps.Keys(d.m.sess))
	if len(ids) > 0 {
		d.advanceTo(t, d.m.sess[pick(t, "session", ids)].until)
	}
	o := op{kind: opFetchWork, dur: pick(t, "lockTimeout", lockTimeouts), tags: duroxide.FilterAny(),
		session: &duroxide.SessionFetchConfig{OwnerID: pick(t, "owner", owners), LockTimeout: pick(t, "sessionLease", lockTimeouts)}}
	d.do(t, o)
}

// check is the invariant run before the first action and after every
// action: everything the provider lets a client read without changing state
// equals the model (histories of every execution, key/value state, custom
// status and, with a management API, records, executions, queue depths and
// metrics). Together with the per-call checks this is where a failed ack
// that changed something (atomicity) or an enqueue that vanished shows up.
func (d *driver) check(t *rapid.T) {
	t.Helper()
	d.counts.checks.Add(1)
	ids := slices.Collect(maps.Keys(d.m.insts))
	for _, id := range instances {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		d.observe(t, op{kind: opRead, instance: id})
		d.observe(t, op{kind: opGetKVAll, instance: id})
		for _, k := range kvKeys {
			d.observe(t, op{kind: opGetKV, instance: id, key: k})
		}
		d.observe(t, op{kind: opGetCustomStatus, instance: id})
		if in := d.m.insts[id]; in != nil {
			for _, e := range slices.Sorted(maps.Keys(in.execs)) {
				d.observe(t, op{kind: opReadExec, instance: id, exec: e})
			}
		}
	}
	if d.admin != nil {
		d.checkAdmin(t, ids)
	}
}

// observe issues a read for the invariant check, without logging it.
func (d *driver) observe(t *rapid.T, o op) {
	t.Helper()
	got := exec(d.ctx, d.h, o)
	if p := d.m.step(o, got); p != "" {
		d.fail(t, p+" (found by the invariant check after step "+fmt.Sprint(d.step)+")", o, got)
	}
	scribbleResult(&got)
}

// checkAdmin compares the management API's view with the model.
func (d *driver) checkAdmin(t *rapid.T, ids []string) {
	t.Helper()
	m, a, ctx := d.m, d.admin, d.ctx
	bad := func(format string, args ...any) {
		t.Helper()
		d.fail(t, "management: "+fmt.Sprintf(format, args...)+fmt.Sprintf(" (invariant check after step %d)", d.step), op{kind: opRead}, result{})
	}
	var records []string
	for _, id := range ids {
		in := m.insts[id]
		info, err := a.GetInstanceInfo(ctx, id)
		if in == nil || !in.record {
			if classify(err) != duroxide.ErrNotFound {
				bad("GetInstanceInfo(%q) of an instance without record returned %+v, %v; want ErrNotFound", id, info, err)
			}
		} else {
			records = append(records, id)
			cur := in.execs[in.currentExec]
			want := duroxide.InstanceInfo{
				InstanceID: id, OrchestrationName: in.name, OrchestrationVersion: in.version, CurrentExecutionID: in.currentExec,
				Status: duroxide.StatusUnknown, CreatedAt: unixMs(in.createdAt), UpdatedAt: info.UpdatedAt, ParentInstanceID: in.parent,
			}
			if cur.record {
				want.Status, want.Output = cur.status, cur.output
			}
			switch {
			case err != nil:
				bad("GetInstanceInfo(%q): %v", id, err)
			case !instanceInfoEqual(info, want):
				bad("GetInstanceInfo(%q) = %+v (output %s parent %s), want %+v (output %s parent %s)", id, info, strp(info.Output), strp(info.ParentInstanceID), want, strp(want.Output), strp(want.ParentInstanceID))
			case info.UpdatedAt > unixMs(m.latest) || (!m.steppedBack && info.UpdatedAt < info.CreatedAt):
				bad("GetInstanceInfo(%q): UpdatedAt %d outside [CreatedAt %d, latest clock %d]", id, info.UpdatedAt, info.CreatedAt, unixMs(m.latest))
			}
		}
		latest := duroxide.InitialExecutionID
		if in != nil {
			latest = latestExec(in)
		}
		if got, err := a.LatestExecutionID(ctx, id); err != nil || got != latest {
			bad("LatestExecutionID(%q) = %d, %v; want %d (the highest execution record, 1 when none)", id, got, err, latest)
		}
		if got, err := a.ListChildren(ctx, id); err != nil || !slices.Equal(slices.Sorted(slices.Values(got)), m.children(id)) {
			bad("ListChildren(%q) = %q, %v; want %q", id, got, err, m.children(id))
		}
		parent, err := a.GetParentID(ctx, id)
		switch {
		case in == nil || !in.record:
			if classify(err) != duroxide.ErrNotFound {
				bad("GetParentID(%q) of an instance without record = %s, %v; want ErrNotFound", id, strp(parent), err)
			}
		case err != nil || strp(parent) != strp(in.parent):
			bad("GetParentID(%q) = %s, %v; want %s", id, strp(parent), err, strp(in.parent))
		}
		var wantExecs []uint64
		if in != nil {
			for _, e := range slices.Sorted(maps.Keys(in.execs)) {
				if in.execs[e].record {
					wantExecs = append(wantExecs, e)
				}
			}
		}
		gotExecs, err := a.ListExecutions(ctx, id)
		if err != nil || !slices.Equal(gotExecs, wantExecs) {
			bad("ListExecutions(%q) = %v, %v; want %v", id, gotExecs, err, wantExecs)
		}
		for _, e := range wantExecs {
			x := in.execs[e]
			info, err := a.GetExecutionInfo(ctx, id, e)
			var completed *uint64
			if x.completedAt != nil {
				completed = ptr(unixMs(*x.completedAt))
			}
			if err != nil || info.ExecutionID != e || info.Status != x.status || strp(info.Output) != strp(x.output) ||
				info.StartedAt != unixMs(x.startedAt) || fmt.Sprint(deref(info.CompletedAt)) != fmt.Sprint(deref(completed)) ||
				(info.CompletedAt == nil) != (completed == nil) || info.EventCount != uint64(len(x.events)) {
				bad("GetExecutionInfo(%q, %d) = %+v (output %s completed %v), %v; want status %q output %s started %d completed %v events %d",
					id, e, info, strp(info.Output), deref(info.CompletedAt), err, x.status, strp(x.output), unixMs(x.startedAt), deref(completed), len(x.events))
			}
		}
	}

	wantDepths := duroxide.QueueDepths{OrchestratorQueue: m.orchDepth()}
	for _, w := range m.workQ {
		if w.token == "" || w.until <= m.now {
			wantDepths.WorkerQueue++
		}
	}
	if depths, err := a.GetQueueDepths(ctx); err != nil || depths != wantDepths {
		bad("GetQueueDepths = %+v, %v; want %+v (orchestrator messages not in a held batch, worker items not locked)", depths, err, wantDepths)
	}

	var wantMetrics duroxide.SystemMetrics
	for _, in := range m.insts {
		for _, e := range in.execs {
			if e.record {
				wantMetrics.TotalExecutions++
			}
			wantMetrics.TotalEvents += uint64(len(e.events))
		}
		if !in.record {
			continue
		}
		wantMetrics.TotalInstances++
		if cur := in.execs[in.currentExec]; cur.record {
			switch cur.status {
			case duroxide.StatusRunning:
				wantMetrics.RunningInstances++
			case duroxide.StatusCompleted:
				wantMetrics.CompletedInstances++
			case duroxide.StatusFailed:
				wantMetrics.FailedInstances++
			}
		}
	}
	if metrics, err := a.GetSystemMetrics(ctx); err != nil || metrics != wantMetrics {
		bad("GetSystemMetrics = %+v, %v; want %+v", metrics, err, wantMetrics)
	}

	listed, err := a.ListInstances(ctx)
	if err != nil || !slices.Equal(slices.Sorted(slices.Values(listed)), slices.Sorted(slices.Values(records))) {
		bad("ListInstances = %q, %v; want the instances with a record %q", listed, err, records)
	}
	for _, status := range []duroxide.ExecutionStatus{duroxide.StatusRunning, duroxide.StatusCompleted, duroxide.StatusFailed, duroxide.StatusContinuedAsNew} {
		var want []string
		for _, id := range records {
			if cur := m.insts[id].execs[m.insts[id].currentExec]; cur.record && cur.status == status {
				want = append(want, id)
			}
		}
		got, err := a.ListInstancesByStatus(ctx, status)
		if err != nil || !slices.Equal(slices.Sorted(slices.Values(got)), want) {
			bad("ListInstancesByStatus(%q) = %q, %v; want %q", status, got, err, want)
		}
	}
	for i := 1; i < len(listed); i++ {
		if m.insts[listed[i-1]].createdAt < m.insts[listed[i]].createdAt {
			bad("ListInstances = %q is not newest first (%q was created before %q)", listed, listed[i-1], listed[i])
		}
	}
}

// instanceInfoEqual compares instance infos, pointers by value.
func instanceInfoEqual(a, b duroxide.InstanceInfo) bool {
	ao, bo, ap, bp := a.Output, b.Output, a.ParentInstanceID, b.ParentInstanceID
	a.Output, b.Output, a.ParentInstanceID, b.ParentInstanceID = nil, nil, nil, nil
	return a == b && strp(ao) == strp(bo) && strp(ap) == strp(bp)
}

func deref[V any](p *V) any {
	if p == nil {
		return nil
	}
	return *p
}

// orchDepth is the orchestrator queue depth the model expects: messages not
// in a held batch.
func (m *model) orchDepth() uint64 {
	var n uint64
	for _, q := range m.orchQ {
		if in := m.insts[q.instance]; !(m.held(in) && q.batch == in.lockToken) {
			n++
		}
	}
	return n
}
