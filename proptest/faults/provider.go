package faults

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/duroxide-go/duroxide"
)

// Provider is a [duroxide.Provider] that delegates every call to another
// provider and injects faults into some of them, as its rules say.
//
// Decisions are drawn from a generator seeded by [New]'s seed, one call at
// a time, so the same sequence of calls meets the same faults: a
// single-goroutine driver is reproducible from its seed. Calls from several
// goroutines are safe (the decision state is behind a mutex, and the wrapped
// provider is called outside it) but their order, and so the faults they
// meet, is up to the scheduler.
//
// Name, Version and AsManagementCapability never fail. Errors of the wrapped
// provider are returned unchanged and count as no fault.
type Provider struct {
	inner duroxide.Provider

	mu     sync.Mutex
	rng    *rand.Rand
	rules  []ruleState
	calls  map[Op]int
	counts Counts
}

type ruleState struct {
	Rule
	seen     int // calls of the rule's methods
	injected int // faults this rule decided
}

// New returns a Provider that delegates to p and injects faults by rules,
// deterministically from seed. It returns an error if p is nil or a rule is
// invalid (see [Rule.Validate]).
func New(p duroxide.Provider, seed int64, rules ...Rule) (*Provider, error) {
	if p == nil {
		return nil, errors.New("faults: nil provider")
	}
	w := &Provider{
		inner:  p,
		rng:    rand.New(rand.NewPCG(uint64(seed), 0x6661756c7473)), // "faults"
		calls:  make(map[Op]int),
		counts: make(Counts),
	}
	for i, r := range rules {
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("faults: rule %d: %w", i, err)
		}
		w.rules = append(w.rules, ruleState{Rule: r})
	}
	return w, nil
}

// Wrap is [New] for rules written in a test: like regexp.MustCompile, it
// panics where New returns an error.
func Wrap(p duroxide.Provider, seed int64, rules ...Rule) *Provider {
	w, err := New(p, seed, rules...)
	if err != nil {
		panic(err)
	}
	return w
}

// Unwrap returns the wrapped provider.
func (p *Provider) Unwrap() duroxide.Provider { return p.inner }

// Counts returns a snapshot of the faults injected so far, per method and
// mode. Faults decided for a call that the wrapped provider failed on its
// own are not counted.
func (p *Provider) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.counts)
}

// Calls returns a snapshot of how many calls each method received, faulted
// or not, keyed by single-method Op.
func (p *Provider) Calls() map[Op]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.calls)
}

// decide draws the fault, if any, for one call of op.
func (p *Provider) decide(op Op) (Mode, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[op]++
	var mode Mode
	for i := range p.rules {
		r := &p.rules[i]
		if !r.Ops.Has(op) || (r.Limit > 0 && r.injected >= r.Limit) {
			continue
		}
		r.seen++
		var fire bool
		if r.Every > 0 {
			fire = r.seen%r.Every == 0
		} else {
			fire = p.rng.Float64() < r.Probability
		}
		if fire && mode == 0 {
			mode = r.Mode
			r.injected++
		}
	}
	return mode, mode != 0
}

// count records one injected fault and returns its error.
func (p *Provider) count(op Op, m Mode) error {
	p.mu.Lock()
	p.counts[Key{op, m}]++
	p.mu.Unlock()
	return (&Fault{Op: op, Mode: m}).providerError()
}

// call runs f under the fault decided for op.
func call[T any](p *Provider, op Op, f func() (T, error)) (T, error) {
	var zero T
	mode, ok := p.decide(op)
	if !ok {
		return f()
	}
	if !mode.Committed() {
		return zero, p.count(op, mode)
	}
	if _, err := f(); err != nil {
		return zero, err
	}
	return zero, p.count(op, mode)
}

// call0 is call for methods that return only an error.
func call0(p *Provider, op Op, f func() error) error {
	_, err := call(p, op, func() (struct{}, error) { return struct{}{}, f() })
	return err
}

// Key names one fault counter: a single method and a mode.
//
// A Key is an immutable value.
type Key struct {
	// Op is a single method.
	Op Op
	// Mode is the fault's mode.
	Mode Mode
}

// Counts are injected faults per method and mode. A nil Counts reads as
// empty; Add needs a non-nil one (Counts{}).
//
// Counts returned by Provider.Counts are a snapshot the caller owns; not
// synchronized.
type Counts map[Key]int

// Total returns the number of faults.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Mode returns the number of faults of mode m.
func (c Counts) Mode(m Mode) int {
	n := 0
	for k, v := range c {
		if k.Mode == m {
			n += v
		}
	}
	return n
}

// Op returns the number of faults in methods of ops.
func (c Counts) Op(ops Op) int {
	n := 0
	for k, v := range c {
		if ops.Has(k.Op) {
			n += v
		}
	}
	return n
}

// Add adds o's counts to c.
func (c Counts) Add(o Counts) {
	for k, v := range o {
		c[k] += v
	}
}

// String renders the counts as a table, one method per line in method
// order, one column per mode, for logs and reports.
func (c Counts) String() string { return c.table(nil) }

// table renders c, with a column of call counts when calls is non-nil.
func (c Counts) table(calls map[Op]int) string {
	var ops Op
	for k := range c {
		ops |= k.Op
	}
	for op := range calls {
		ops |= op
	}
	var b strings.Builder
	row := func(name string, ncalls int, cell func(Mode) int) {
		fmt.Fprintf(&b, "%-31s", name)
		if calls != nil {
			fmt.Fprintf(&b, " %7d", ncalls)
		}
		for _, m := range Modes() {
			fmt.Fprintf(&b, " %16d", cell(m))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%-31s", "method")
	if calls != nil {
		fmt.Fprintf(&b, " %7s", "calls")
	}
	for _, m := range Modes() {
		fmt.Fprintf(&b, " %16s", m)
	}
	b.WriteString("\n")
	total := 0
	for op := range ops.Each() {
		total += calls[op]
		row(op.String(), calls[op], func(m Mode) int { return c[Key{op, m}] })
	}
	row("total", total, c.Mode)
	return strings.TrimSuffix(b.String(), "\n")
}

var _ duroxide.Provider = (*Provider)(nil)

// Name returns "faults(<wrapped provider's name>)".
func (p *Provider) Name() string { return "faults(" + p.inner.Name() + ")" }

// Version returns the wrapped provider's version.
func (p *Provider) Version() string { return p.inner.Version() }

// FetchOrchestrationItem implements [duroxide.Provider]. An After fault
// keeps the lock the wrapped fetch took and returns no item: the instance
// comes back only when that lock expires.
func (p *Provider) FetchOrchestrationItem(ctx context.Context, lockTimeout, pollTimeout time.Duration, filter *duroxide.DispatcherCapabilityFilter) (*duroxide.LockedOrchestrationItem, error) {
	return call(p, OpFetchOrchestrationItem, func() (*duroxide.LockedOrchestrationItem, error) {
		return p.inner.FetchOrchestrationItem(ctx, lockTimeout, pollTimeout, filter)
	})
}

// AckOrchestrationItem implements [duroxide.Provider]. After an After fault
// the turn is committed and the lock released, so a retry with the same
// token fails with [duroxide.ErrInvalidLockToken].
func (p *Provider) AckOrchestrationItem(ctx context.Context, lockToken string, ack duroxide.OrchestrationAck) error {
	return call0(p, OpAckOrchestrationItem, func() error { return p.inner.AckOrchestrationItem(ctx, lockToken, ack) })
}

// AbandonOrchestrationItem implements [duroxide.Provider].
func (p *Provider) AbandonOrchestrationItem(ctx context.Context, lockToken string, delay time.Duration, ignoreAttempt bool) error {
	return call0(p, OpAbandonOrchestrationItem, func() error {
		return p.inner.AbandonOrchestrationItem(ctx, lockToken, delay, ignoreAttempt)
	})
}

// RenewOrchestrationItemLock implements [duroxide.Provider].
func (p *Provider) RenewOrchestrationItemLock(ctx context.Context, lockToken string, extendFor time.Duration) error {
	return call0(p, OpRenewOrchestrationItemLock, func() error {
		return p.inner.RenewOrchestrationItemLock(ctx, lockToken, extendFor)
	})
}

// Read implements [duroxide.Provider].
func (p *Provider) Read(ctx context.Context, instance string) ([]duroxide.Event, error) {
	return call(p, OpRead, func() ([]duroxide.Event, error) { return p.inner.Read(ctx, instance) })
}

// ReadWithExecution implements [duroxide.Provider].
func (p *Provider) ReadWithExecution(ctx context.Context, instance string, executionID uint64) ([]duroxide.Event, error) {
	return call(p, OpReadWithExecution, func() ([]duroxide.Event, error) {
		return p.inner.ReadWithExecution(ctx, instance, executionID)
	})
}

// AppendWithExecution implements [duroxide.Provider].
func (p *Provider) AppendWithExecution(ctx context.Context, instance string, executionID uint64, events []duroxide.Event) error {
	return call0(p, OpAppendWithExecution, func() error {
		return p.inner.AppendWithExecution(ctx, instance, executionID, events)
	})
}

// EnqueueForOrchestrator implements [duroxide.Provider]. After an After
// fault the item is queued, so a caller that retries enqueues it twice.
func (p *Provider) EnqueueForOrchestrator(ctx context.Context, item duroxide.WorkItem, delay time.Duration) error {
	return call0(p, OpEnqueueForOrchestrator, func() error { return p.inner.EnqueueForOrchestrator(ctx, item, delay) })
}

// EnqueueForWorker implements [duroxide.Provider].
func (p *Provider) EnqueueForWorker(ctx context.Context, item duroxide.WorkItem) error {
	return call0(p, OpEnqueueForWorker, func() error { return p.inner.EnqueueForWorker(ctx, item) })
}

// FetchWorkItem implements [duroxide.Provider]. An After fault keeps the
// lock (and any session claim) the wrapped fetch took and returns no item.
func (p *Provider) FetchWorkItem(ctx context.Context, lockTimeout, pollTimeout time.Duration, session *duroxide.SessionFetchConfig, tagFilter duroxide.TagFilter) (*duroxide.LockedWorkItem, error) {
	return call(p, OpFetchWorkItem, func() (*duroxide.LockedWorkItem, error) {
		return p.inner.FetchWorkItem(ctx, lockTimeout, pollTimeout, session, tagFilter)
	})
}

// AckWorkItem implements [duroxide.Provider].
func (p *Provider) AckWorkItem(ctx context.Context, lockToken string, completion duroxide.WorkItem) error {
	return call0(p, OpAckWorkItem, func() error { return p.inner.AckWorkItem(ctx, lockToken, completion) })
}

// RenewWorkItemLock implements [duroxide.Provider].
func (p *Provider) RenewWorkItemLock(ctx context.Context, lockToken string, extendFor time.Duration) error {
	return call0(p, OpRenewWorkItemLock, func() error { return p.inner.RenewWorkItemLock(ctx, lockToken, extendFor) })
}

// AbandonWorkItem implements [duroxide.Provider].
func (p *Provider) AbandonWorkItem(ctx context.Context, lockToken string, delay time.Duration, ignoreAttempt bool) error {
	return call0(p, OpAbandonWorkItem, func() error {
		return p.inner.AbandonWorkItem(ctx, lockToken, delay, ignoreAttempt)
	})
}

// RenewSessionLock implements [duroxide.Provider].
func (p *Provider) RenewSessionLock(ctx context.Context, ownerIDs []string, extendFor, idleTimeout time.Duration) (int, error) {
	return call(p, OpRenewSessionLock, func() (int, error) {
		return p.inner.RenewSessionLock(ctx, ownerIDs, extendFor, idleTimeout)
	})
}

// CleanupOrphanedSessions implements [duroxide.Provider].
func (p *Provider) CleanupOrphanedSessions(ctx context.Context, idleTimeout time.Duration) (int, error) {
	return call(p, OpCleanupOrphanedSessions, func() (int, error) {
		return p.inner.CleanupOrphanedSessions(ctx, idleTimeout)
	})
}

// customStatus is GetCustomStatus's result as one value.
type customStatus struct {
	status duroxide.CustomStatus
	ok     bool
}

// GetCustomStatus implements [duroxide.Provider].
func (p *Provider) GetCustomStatus(ctx context.Context, instance string, lastSeenVersion uint64) (duroxide.CustomStatus, bool, error) {
	r, err := call(p, OpGetCustomStatus, func() (customStatus, error) {
		s, ok, err := p.inner.GetCustomStatus(ctx, instance, lastSeenVersion)
		return customStatus{s, ok}, err
	})
	return r.status, r.ok, err
}

// kvValue is GetKVValue's result as one value.
type kvValue struct {
	value string
	ok    bool
}

// GetKVValue implements [duroxide.Provider].
func (p *Provider) GetKVValue(ctx context.Context, instance, key string) (string, bool, error) {
	r, err := call(p, OpGetKVValue, func() (kvValue, error) {
		v, ok, err := p.inner.GetKVValue(ctx, instance, key)
		return kvValue{v, ok}, err
	})
	return r.value, r.ok, err
}

// GetKVAllValues implements [duroxide.Provider].
func (p *Provider) GetKVAllValues(ctx context.Context, instance string) (map[string]string, error) {
	return call(p, OpGetKVAllValues, func() (map[string]string, error) { return p.inner.GetKVAllValues(ctx, instance) })
}

// AsManagementCapability returns the wrapped provider's management API
// wrapped with the same rules, generator and counters, or nil when the
// wrapped provider has none.
func (p *Provider) AsManagementCapability() duroxide.ProviderAdmin {
	a := p.inner.AsManagementCapability()
	if a == nil {
		return nil
	}
	return &admin{p: p, inner: a}
}
