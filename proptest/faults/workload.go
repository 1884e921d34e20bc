package faults

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/spec"
)

// Config describes one run of the fault-injection workload. Zero fields take
// the defaults documented on each.
//
// Plain data, not synchronized; Run copies it.
type Config struct {
	// Seed seeds both the fault injector and the driver's scheduling: one
	// seed, one call sequence.
	Seed int64
	// Instances is the number of orchestration instances started (default 8).
	Instances int
	// Activities is the number of activities each instance schedules
	// (default 3).
	Activities int
	// Rules are the faults to inject, for example [DefaultRules]. [Check]
	// rejects a run that injected no fault, or no fault of a mode a rule
	// asks for: a run without faults proves nothing. Permanent faults are
	// survived everywhere except on enqueue_for_orchestrator, where the
	// client gives up on the start (as duroxide's client surfaces the error
	// to its caller), so that instance is lost.
	Rules []Rule
	// Slots is how many items each dispatcher holds at once (default 2).
	Slots int
	// LockTimeout is the lock duration of every fetch and renewal (default:
	// the harness's LockTimeout, else 30s).
	LockTimeout time.Duration
	// MaxSteps bounds the run; a run that has not quiesced by then fails
	// (default 500 + 100·Instances·(Activities+2)).
	MaxSteps int
	// Flaws break the driver on purpose, for negative controls.
	Flaws Flaws
}

// Flaws are deliberate departures from the contract's retry rules. A run
// with a flaw is expected to fail [Check] once the faults hit the flawed
// path: that is how the tests show that the property has teeth.
//
// Plain data, not synchronized.
type Flaws struct {
	// DropFailedStarts makes the client give up on a start whose enqueue
	// failed instead of retrying it: a Before fault loses the instance.
	DropFailedStarts bool
	// ReplayDuplicateStarts makes the orchestration start again on a
	// StartOrchestration for an instance that has already started: a retried
	// enqueue after an After fault schedules its activities twice.
	ReplayDuplicateStarts bool
}

// withDefaults fills the zero fields of c.
func (c Config) withDefaults(h *spec.Harness) Config {
	if c.Instances <= 0 {
		c.Instances = 8
	}
	if c.Activities <= 0 {
		c.Activities = 3
	}
	if c.Slots <= 0 {
		c.Slots = 2
	}
	if c.LockTimeout <= 0 {
		c.LockTimeout = h.LockTimeout
	}
	if c.LockTimeout <= 0 {
		c.LockTimeout = 30 * time.Second
	}
	if c.MaxSteps <= 0 {
		c.MaxSteps = 500 + 100*c.Instances*(c.Activities+2)
	}
	return c
}

// instanceIDs returns the ids of the run's instances.
func (c Config) instanceIDs() []string {
	ids := make([]string, c.Instances)
	for i := range ids {
		ids[i] = fmt.Sprintf("faults-%d-%03d", c.Seed, i)
	}
	return ids
}

// Stats count what the driver did and met.
//
// Plain data, not synchronized.
type Stats struct {
	// Steps is the number of driver steps, including idle clock jumps.
	Steps int
	// FakeTime is how far the driver moved the fake clock.
	FakeTime time.Duration
	// IdleAdvances counts clock jumps past the lock timeout while nothing
	// was fetchable (expired locks then return their work).
	IdleAdvances int

	// Starts counts start enqueues that succeeded; StartRetries those
	// retried after an error; DroppedStarts those given up.
	Starts, StartRetries, DroppedStarts int

	// Turns counts orchestration acks that succeeded; AckRetries retries
	// after a retryable error; UnsureAcks turns whose retry found the lock
	// gone (committed, response lost); OrchAbandons turns abandoned after a
	// permanent error or exhausted retries.
	Turns, AckRetries, UnsureAcks, OrchAbandons int
	// Redeliveries counts orchestration fetches with AttemptCount > 1.
	Redeliveries int
	// DuplicateStarts and DuplicateCompletions count messages the
	// orchestration ignored as duplicates.
	DuplicateStarts, DuplicateCompletions int

	// ActivityRuns counts activity executions; WorkAcks their acks that
	// succeeded; WorkAbandons those abandoned after an ack error;
	// CancelledActivities those dropped after a failed lock renewal.
	ActivityRuns, WorkAcks, WorkAbandons, CancelledActivities int
	// Renewals counts lock renewals that succeeded.
	Renewals int
	// FetchBackoffs counts fetch errors followed by a back-off.
	FetchBackoffs int
}

// Report is the outcome of [Run].
//
// Plain data, not synchronized; each run returns its own.
type Report struct {
	// Config is the run's configuration, defaults filled in.
	Config Config
	// Provider is the wrapped provider's name.
	Provider string
	// Instances are the ids of the instances the run started.
	Instances []string
	// Faults are the faults injected, per method and mode.
	Faults Counts
	// Calls are the calls each method received through the injector.
	Calls map[Op]int
	// Stats are the driver's counters.
	Stats Stats
	// Wall is the run's wall-clock duration (Run only, not Check).
	Wall time.Duration
}

// String summarises the report in a few lines and the fault table.
func (r *Report) String() string {
	var b strings.Builder
	s := r.Stats
	calls := 0
	for _, n := range r.Calls {
		calls += n
	}
	fmt.Fprintf(&b, "fault workload on %s, seed %d: %d instances x %d activities, %d steps, %d calls, %d faults, fake time %v, wall %v\n",
		r.Provider, r.Config.Seed, r.Config.Instances, r.Config.Activities, s.Steps, calls, r.Faults.Total(), s.FakeTime, r.Wall.Round(time.Microsecond))
	fmt.Fprintf(&b, "client: %d starts, %d retried, %d dropped\n", s.Starts, s.StartRetries, s.DroppedStarts)
	fmt.Fprintf(&b, "orchestrations: %d turns, %d ack retries, %d unsure acks, %d abandoned, %d redeliveries, %d duplicate starts and %d duplicate completions ignored\n",
		s.Turns, s.AckRetries, s.UnsureAcks, s.OrchAbandons, s.Redeliveries, s.DuplicateStarts, s.DuplicateCompletions)
	fmt.Fprintf(&b, "activities: %d runs, %d acked, %d abandoned, %d cancelled; %d renewals, %d fetch back-offs, %d idle clock jumps\n",
		s.ActivityRuns, s.WorkAcks, s.WorkAbandons, s.CancelledActivities, s.Renewals, s.FetchBackoffs, s.IdleAdvances)
	b.WriteString(r.Faults.table(r.Calls))
	return b.String()
}

// ErrNeedsFakeClock is returned by [Run] for a harness without a fake clock:
// the driver moves time past lock timeouts and back-offs, which in real time
// would take minutes.
var ErrNeedsFakeClock = errors.New("faults: the workload needs a harness with a fake clock")

// Run runs the workload against h.Provider wrapped in a fault injector with
// cfg.Rules, on h's fake clock, until it quiesces: every start enqueued, no
// item held, and no work fetchable even after the clock jumped past every
// lock. It returns the report (also on error) and an error when the run
// could not finish (invalid rules, no fake clock, no quiescence within
// MaxSteps, a cancelled context). It does not check the property: see
// [Check].
//
// Run calls the provider from the calling goroutine only, and moves h.Clock;
// nothing else may use h while it runs.
func Run(ctx context.Context, h *spec.Harness, cfg Config) (*Report, error) {
	if h.Clock == nil {
		return nil, ErrNeedsFakeClock
	}
	cfg = cfg.withDefaults(h)
	fp, err := New(h.Provider, cfg.Seed, cfg.Rules...)
	if err != nil {
		return nil, err
	}
	r := &Report{Config: cfg, Provider: h.Provider.Name(), Instances: cfg.instanceIDs()}
	d := newDriver(ctx, fp, h.Clock, cfg, r.Instances)
	start := time.Now()
	err = d.run()
	r.Wall = time.Since(start)
	r.Stats, r.Faults, r.Calls = d.stats, fp.Counts(), fp.Calls()
	return r, err
}

// Check verifies the workload's property on h.Provider (unwrapped: no faults)
// after [Run] returned r:
//
//   - faults happened: at least one, and at least one of every mode a rule
//     asks for;
//   - every instance completed: its history is OrchestrationStarted, the
//     configured number of ActivityScheduled, exactly one ActivityCompleted
//     per scheduled activity (matched by source id, with the activity's
//     result), and OrchestrationCompleted last, with event ids 1..n; and,
//     when the provider has a management API, its status is Completed;
//   - nothing is left: after the clock jumps past every lock, neither queue
//     has fetchable work.
//
// It returns every violation found, joined, or nil. Check moves h.Clock and
// may lock leftover work it finds.
func Check(ctx context.Context, h *spec.Harness, r *Report) error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if r.Faults.Total() == 0 {
		fail("no fault was injected: the run proves nothing")
	}
	for _, m := range Modes() {
		for _, rule := range r.Config.Rules {
			if rule.Mode == m && r.Faults.Mode(m) == 0 {
				fail("no %s fault was injected although rule %q asks for them", m, rule)
				break
			}
		}
	}

	admin := h.Provider.AsManagementCapability()
	for _, inst := range r.Instances {
		hist, err := h.Provider.Read(ctx, inst)
		if err != nil {
			fail("%s: read: %v", inst, err)
			continue
		}
		for _, v := range checkHistory(inst, hist, r.Config.Activities) {
			fail("%s: %s", inst, v)
		}
		if admin != nil {
			info, err := admin.GetInstanceInfo(ctx, inst)
			switch {
			case err != nil:
				fail("%s: get_instance_info: %v", inst, err)
			case info.Status != duroxide.StatusCompleted:
				fail("%s: status %s, want %s", inst, info.Status, duroxide.StatusCompleted)
			}
		}
	}

	if err := h.Clock.Advance(r.Config.LockTimeout + quiesceSlack); err != nil {
		fail("advance the clock: %v", err)
	}
	switch item, err := h.Provider.FetchOrchestrationItem(ctx, r.Config.LockTimeout, 0, nil); {
	case err != nil:
		fail("leftover check: fetch_orchestration_item: %v", err)
	case item != nil:
		fail("orchestrator queue not empty: instance %s has %d message(s), first %s", item.Instance, len(item.Messages), variants(item.Messages))
	}
	session := &duroxide.SessionFetchConfig{OwnerID: "faults-check", LockTimeout: r.Config.LockTimeout}
	switch item, err := h.Provider.FetchWorkItem(ctx, r.Config.LockTimeout, 0, session, duroxide.FilterAny()); {
	case err != nil:
		fail("leftover check: fetch_work_item: %v", err)
	case item != nil:
		fail("worker queue not empty: %s %+v", item.Item.Variant(), item.Item)
	}
	return errors.Join(errs...)
}

// variants lists the variants of items.
func variants(items []duroxide.WorkItem) string {
	names := make([]string, len(items))
	for i, w := range items {
		names[i] = w.Variant()
	}
	return strings.Join(names, ",")
}

// checkHistory returns what is wrong with one instance's final history.
func checkHistory(inst string, hist []duroxide.Event, activities int) []string {
	if len(hist) == 0 {
		return []string{"no history: the instance never started"}
	}
	var out []string
	var started, completedOrch int
	scheduled := map[uint64]int{} // activity id -> completions seen
	var order []uint64
	for i, e := range hist {
		if e.EventID != uint64(i)+1 {
			out = append(out, fmt.Sprintf("event %d has id %d, want %d", i, e.EventID, i+1))
		}
		switch k := e.Kind.(type) {
		case duroxide.OrchestrationStarted:
			started++
		case duroxide.ActivityScheduled:
			scheduled[e.EventID] = 0
			order = append(order, e.EventID)
		case duroxide.ActivityCompleted:
			id := deref(e.SourceEventID)
			n, ok := scheduled[id]
			if !ok {
				out = append(out, fmt.Sprintf("event %d completes unknown activity %d", e.EventID, id))
				break
			}
			scheduled[id] = n + 1
			if want := activityResult(inst, id); k.Result != want {
				out = append(out, fmt.Sprintf("activity %d result %q, want %q", id, k.Result, want))
			}
		case duroxide.OrchestrationCompleted:
			completedOrch++
			if want := orchestrationOutput(inst); k.Output != want {
				out = append(out, fmt.Sprintf("output %q, want %q", k.Output, want))
			}
		}
	}
	if _, ok := hist[0].Kind.(duroxide.OrchestrationStarted); !ok || started != 1 {
		out = append(out, fmt.Sprintf("%d OrchestrationStarted events (first event %s), want exactly one, first", started, hist[0].Kind.EventType()))
	}
	if len(order) != activities {
		out = append(out, fmt.Sprintf("%d activities scheduled, want %d", len(order), activities))
	}
	for _, id := range order {
		if n := scheduled[id]; n != 1 {
			out = append(out, fmt.Sprintf("activity %d completed %d times, want exactly once", id, n))
		}
	}
	if _, ok := hist[len(hist)-1].Kind.(duroxide.OrchestrationCompleted); !ok || completedOrch != 1 {
		out = append(out, fmt.Sprintf("%d OrchestrationCompleted events (last event %s), want exactly one, last", completedOrch, hist[len(hist)-1].Kind.EventType()))
	}
	return out
}

// deref returns *p, or 0 (never an event id) for nil.
func deref(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}

// RunWorkload builds a harness with newHarness, runs the workload with cfg
// on it ([Run]), logs the report, and fails t with every violation of the
// property ([Check]). It skips t when the harness has no fake clock. It
// returns the report (nil when skipped or when the run could not start).
func RunWorkload(t spec.T, newHarness spec.NewHarness, cfg Config) *Report {
	t.Helper()
	h := newHarness(t)
	r, err := Run(t.Context(), h, cfg)
	switch {
	case errors.Is(err, ErrNeedsFakeClock):
		t.Skipf("%v", err)
		return nil
	case r == nil:
		t.Errorf("fault workload (seed %d): %v", cfg.Seed, err)
		return nil
	}
	t.Logf("%s", r)
	if err != nil {
		t.Errorf("fault workload (seed %d): %v", cfg.Seed, err)
	}
	if err := Check(t.Context(), h, r); err != nil {
		t.Errorf("fault workload (seed %d) lost or duplicated work:\n%v", cfg.Seed, err)
	}
	return r
}
