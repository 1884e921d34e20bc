package proptest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"pgregory.net/rapid"

	"github.com/duroxide-go/duroxide"
)

// pollTimeouts are the poll timeouts long-polling fetches draw.
var pollTimeouts = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second}

// stallTimeout is how long, in real time, a long-polling fetch may take to
// return once the fake clock says it must (work became visible, or its poll
// timeout passed). A provider that wakes its waiters returns within
// microseconds; one that misses a wake-up never returns until its own timer
// fires, which the fake clock never reaches. It is a liveness bound, not a
// performance goal, and only a failing run waits it out.
const stallTimeout = 3 * time.Second

// longPoll issues a fetch with a poll timeout on a long-polling provider
// (Harness.LongPolling; a no-op otherwise). The fetch runs in a goroutine;
// once the model says it found nothing and the fake clock holds its timer,
// one concurrent call that may make work visible is drawn and issued (an
// enqueue, possibly delayed; a delayed abandon; a renewal that shortens or
// lengthens a lock; an ack; or nothing), the clock is moved to the first
// instant at which the model says the fetch finds work (or to its poll
// timeout), and the fetch must then return exactly what the model says at
// that instant. A fetch that is still waiting then missed a wake-up.
func (d *driver) longPoll(t *rapid.T) {
	if !d.h.LongPolling {
		return
	}
	orch := rapid.Bool().Draw(t, "orchestratorPoll")
	var o op
	if orch {
		o = d.drawFetchOrch(t)
	} else {
		o = d.drawFetchWork(t)
	}
	o.poll = pick(t, "pollTimeout", pollTimeouts)
	start := d.m.now
	deadline := start + int64(o.poll)
	ctx, cancel := context.WithCancel(d.ctx)
	base := d.h.Clock.Waiters()
	res := make(chan result, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		res <- exec(ctx, d.h, o)
	}()
	defer func() {
		// Also on a failure: end the fetch before scribbling what the
		// calls made meanwhile passed and got.
		cancel()
		select {
		case <-finished:
			d.scribbleDeferred()
		case <-time.After(stallTimeout):
			d.deferScribbles, d.unscribbled = false, nil // it ignores its context
		}
	}()

	waiting := make(chan struct{})
	go func() {
		if d.h.Clock.BlockUntilWaiters(ctx, base+1) == nil {
			close(waiting)
		}
	}()
	d.step++
	d.counts.ops.Add(1)
	select {
	case got := <-res:
		// It returned without waiting: right only when work was there.
		t.Logf("[%d] %s -> %s (without waiting)", d.step, o, got)
		if got.err == nil && got.orch == nil && got.work == nil && !d.hasWork(o) && !matchesNothing(o) {
			d.fail(t, fmt.Sprintf("wake-up: a long poll with nothing to fetch returned nothing at once instead of waiting up to its poll timeout %v", o.poll), o, got)
		}
		d.finish(t, o, got)
		return
	case <-waiting:
	case <-time.After(stallTimeout):
		cancel()
		got := <-res
		d.fail(t, fmt.Sprintf("wake-up: a long poll neither returned nor armed a timer on Harness.Clock within %v of real time (does it wait on the real clock?)", stallTimeout), o, got)
	}
	t.Logf("[%d] %s waiting since %s", d.step, o, d.m.at(start))
	if d.hasWork(o) {
		cancel()
		got := <-res
		d.fail(t, "lost work: a long poll waits although the model has work for it now", o, got)
	}
	// The first try found nothing (an orchestration fetch may have dropped
	// orphans meanwhile).
	if p := d.m.step(o, result{}); p != "" {
		d.fail(t, p, o, result{})
	}

	d.deferScribbles = true
	d.concurrentWithPoll(t, orch)

	// When work becomes due. Whether some fetch finds work does not depend
	// on orphan drops (they remove only messages of instances no fetch can
	// take), so one model answers it.
	at := deadline
	for _, ts := range append([]int64{d.m.now}, d.m.deadlines()...) {
		if ts >= d.m.now && ts <= deadline && d.m.hasWorkAt(o, ts) {
			at = ts
			break
		}
	}
	variants := d.m.pollVariants(o, at, orch)
	if at > d.m.now {
		select {
		case got := <-res:
			d.fail(t, fmt.Sprintf("wake-up: a long poll returned at %s, before work became visible (%s) and before its poll timeout (%s)", d.m.at(d.m.now), d.m.at(at), d.m.at(deadline)), o, got)
		default:
		}
		dur := time.Duration(at - d.m.now)
		d.step++
		d.counts.ops.Add(1)
		adv := op{kind: opAdvance, dur: dur}
		got := exec(d.ctx, d.h, adv)
		t.Logf("[%d] %s -> %s", d.step, adv, got)
		for _, v := range variants {
			if p := v.step(adv, got); p != "" {
				d.fail(t, p, adv, got)
			}
		}
		d.m = variants[0]
	}
	var got result
	select {
	case got = <-res:
	case <-time.After(stallTimeout):
		cancel()
		<-res
		why := "its poll timeout passed"
		if at < deadline {
			why = "the model has work for it"
		}
		d.fail(t, fmt.Sprintf("wake-up: a long poll waiting since %s (poll timeout %v) did not return at %s, when %s (a missed wake-up, or the provider disagrees that work is due then; still waiting after %v of real time)",
			d.m.at(start), o.poll, d.m.at(at), why, stallTimeout), o, got)
	}
	t.Logf("[%d] ... %s -> %s (at %s)", d.step, o, got, d.m.at(at))
	d.scribbleDeferred()
	problem := ""
	var fit []*model
	for i, v := range variants {
		if p := v.step(o, got); p == "" {
			fit = append(fit, v)
		} else if i == 0 {
			problem = p
		}
	}
	if len(fit) == 0 {
		d.fail(t, problem, o, got)
	}
	d.m = d.observedVariant(fit)
	d.record(got)
	scribbleOp(&o)
	scribbleResult(&got)
}

// observedVariant picks, among the states a long poll may have left that
// all fit its answer, the one the provider is in. They differ only in which
// orphan messages the fetch's empty tries dropped, which the answer does not
// show but the orchestrator queue depth does (with a management API; without
// one the orphans are never observable, so any state fits).
func (d *driver) observedVariant(fit []*model) *model {
	if len(fit) == 1 || d.admin == nil {
		return fit[0]
	}
	depths, err := d.admin.GetQueueDepths(d.ctx)
	if err != nil {
		return fit[0]
	}
	for _, v := range fit {
		if v.orchDepth() == depths.OrchestratorQueue {
			return v
		}
	}
	return fit[0] // the invariant check reports the mismatch
}

// maxTryInstants bounds the instants whose optional tries pollVariants
// enumerates (2^n variants).
const maxTryInstants = 6

// pollVariants returns the states a waiting fetch o may have left by the
// time it finds work (or times out) at instant at. A waiting provider may
// try again at the current instant (after the concurrent call) and at any
// deadline before at (its timer fires there, and the fake clock passes
// through each timer's deadline while it advances), or not; an
// orchestration try that finds nothing drops orphans, so each set of tries
// may leave a different state. The answer must fit one of them. Worker
// tries that find nothing change nothing: one state.
func (m *model) pollVariants(o op, at int64, orch bool) []*model {
	if !orch {
		return []*model{m.clone()}
	}
	var instants []int64
	for _, ts := range append([]int64{m.now}, m.deadlines()...) {
		if ts >= m.now && ts < at && !slices.Contains(instants, ts) {
			instants = append(instants, ts)
		}
	}
	if len(instants) > maxTryInstants {
		instants = instants[:maxTryInstants]
	}
	var out []*model
	seen := map[string]bool{}
	for mask := range 1 << len(instants) {
		v := m.clone()
		for i, ts := range instants {
			if mask&(1<<i) == 0 {
				continue
			}
			saved := v.now
			v.now = ts
			if p := v.planOrchFetch(o.filter); p.chosen == "" && len(p.drops) > 0 {
				v.applyOrchFetch(p, o.dur, "")
			}
			v.now = saved
		}
		v.fp = ""
		if fp := v.fingerprint(); !seen[fp] {
			seen[fp] = true
			out = append(out, v)
		}
	}
	return out
}

// scribbleDeferred runs the scribbles held back while a long poll ran.
func (d *driver) scribbleDeferred() {
	d.deferScribbles = false
	for _, f := range d.unscribbled {
		f()
	}
	d.unscribbled = nil
}

// wakeDelays are the delays calls made while a fetch waits draw: short, so
// that the work they delay is due before the fetch's poll timeout.
var wakeDelays = []time.Duration{time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}

// concurrentWithPoll issues, while a fetch waits, one call that may make
// work visible before the fetch planned to look again, or nothing: an
// enqueue (a random one, or a start due after a short delay), a delayed
// abandon, a renewal (often shortening the lock), an ack.
func (d *driver) concurrentWithPoll(t *rapid.T, orch bool) {
	switch rapid.IntRange(0, 9).Draw(t, "whileWaiting") {
	case 0, 1:
		d.enqueueOrch(t)
	case 2, 8:
		id := pick(t, "instance", instances)
		d.do(t, op{kind: opEnqueueOrch, dur: pick(t, "delay", wakeDelays),
			item: duroxide.StartOrchestrationItem{Instance: id, Orchestration: "Orch", Input: d.nextUID(), ExecutionID: 1}})
	case 3:
		d.enqueueWorker(t)
	case 4:
		kind := opAbandonWork
		if orch {
			kind = opAbandonOrch
		}
		d.do(t, op{kind: kind, token: d.drawToken(t, orch), dur: pick(t, "delay", wakeDelays), ignore: rapid.Bool().Draw(t, "ignoreAttempt")})
	case 5:
		kind := opRenewWork
		if orch {
			kind = opRenewOrch
		}
		d.do(t, op{kind: kind, token: d.drawToken(t, orch), dur: pick(t, "extendFor", append([]time.Duration{0}, wakeDelays...))})
	case 6:
		if orch {
			token := d.drawToken(t, true)
			d.do(t, op{kind: opAckOrch, token: token, ack: d.genAck(t, token, true)})
		} else {
			token := d.drawToken(t, false)
			d.do(t, op{kind: opAckWork, token: token, item: d.genCompletion(t, token)})
		}
	case 7:
		d.enqueueOrch(t)
		d.enqueueWorker(t)
	}
}

// matchesNothing reports whether fetch o can never find work (TagNone, or
// an empty capability range list): a provider may return at once.
func matchesNothing(o op) bool {
	if o.kind == opFetchOrch {
		return o.filter != nil && len(o.filter.SupportedDuroxideVersions) == 0
	}
	return o.tags.Kind() == duroxide.TagNone
}

// hasWork reports whether fetch o finds work now, by the model.
func (d *driver) hasWork(o op) bool { return d.m.hasWorkAt(o, d.m.now) }

// hasWorkAt reports whether fetch o would find work at instant at, by the
// model (m is not changed).
func (m *model) hasWorkAt(o op, at int64) bool {
	saved := m.now
	m.now = at
	defer func() { m.now = saved }()
	if o.kind == opFetchOrch {
		return m.planOrchFetch(o.filter).chosen != ""
	}
	return slices.ContainsFunc(m.workQ, func(w witem) bool {
		ok, _ := m.workEligible(w, o.session, o.tags)
		return ok
	})
}

// finish checks a call's answer against the model and records its tokens.
func (d *driver) finish(t *rapid.T, o op, got result) {
	t.Helper()
	if p := d.m.step(o, got); p != "" {
		d.fail(t, p, o, got)
	}
	d.record(got)
	scribbleOp(&o)
	scribbleResult(&got)
}
