package memprovider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/btree"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
)

// Version is memprovider's version string.
const Version = "0.1.0"

// btreeDegree is the degree of every index.
const btreeDegree = 16

// Free lists of B-tree nodes, one per element type, shared by every tree of
// the process (a btree.FreeListG is safe for concurrent use): a provider
// allocates no free list of its own, which made New several times slower
// (a unit-test environment builds one provider per test).
var (
	readyFree   = btree.NewFreeListG[readyKey](btree.DefaultFreeListSize)
	futureFree  = btree.NewFreeListG[futureKey](btree.DefaultFreeListSize)
	lockFree    = btree.NewFreeListG[lockKey](btree.DefaultFreeListSize)
	entryFree   = btree.NewFreeListG[*workEntry](btree.DefaultFreeListSize)
	headFree    = btree.NewFreeListG[headKey](btree.DefaultFreeListSize)
	sessionFree = btree.NewFreeListG[*session](btree.DefaultFreeListSize)
)

// Option configures a Provider.
//
// Options are applied by New, in order, before the provider is shared.
type Option func(*Provider)

// WithClock makes the provider read all time from c (default
// fakeclock.Real()). c must read between the years 1678 and 2262 (the
// provider keeps Unix nanoseconds); a zero fakeclock.Fake starts at the Unix
// epoch. On a fakeclock.Fake, a long poll (a fetch with a positive poll
// timeout, unless [WithShortPolling]) waits until work arrives, its context
// ends or the test advances the clock.
func WithClock(c fakeclock.Clock) Option { return func(p *Provider) { p.clock = c } }

// WithShortPolling makes fetches ignore their poll timeout and return at
// once when there is no work.
func WithShortPolling() Option { return func(p *Provider) { p.longPoll = false } }

// Provider is the in-memory reference provider. It implements
// [duroxide.Provider] and [duroxide.ProviderAdmin].
//
// A Provider is safe for concurrent use by multiple goroutines. Every method
// takes one mutex for its whole duration (long polls release it while they
// wait), so each call is atomic with respect to every other call. The zero
// value is not usable; call [New].
type Provider struct {
	clock       fakeclock.Clock
	longPoll    bool
	tokenPrefix string

	mu       sync.Mutex
	seq      uint64        // last enqueue sequence number (messages and worker items)
	tokens   uint64        // last token number
	tokenSrc tokenBatch    // formatted tokens not yet issued
	changed  chan struct{} // closed when work may have become available; nil when nobody waits
	// waitUntil is the latest instant at which a long poll waiting on
	// changed has armed its timer (math.MinInt64 when none waits): work
	// that becomes due before it must wake the waiters (see wakeAt).
	waitUntil int64
	// lastNow is the clock's previous reading; a lower one means the clock
	// stepped back (see now).
	lastNow int64

	instances map[string]*instance

	// Orchestrator queue indexes.
	orchReady  index[readyKey]     // unlocked instances with visible messages, by oldest visible seq
	orchFuture index[futureKey]    // not yet visible messages, by (visibleAt, seq)
	orchLocks  index[lockKey]      // held, not yet expired instance locks, by expiry
	orchTokens tokenMap[*instance] // lock token -> instance (held or expired-but-not-superseded)
	resort     []*instance         // promoteOrch's scratch list; empty between calls

	worker workerQueue
}

// processID is random per process; providerSeq numbers the providers of
// the process. Together they make each provider's token prefix unique
// without a random read per provider (a unit test builds one per test).
var (
	processID   = func() string { var b [6]byte; _, _ = rand.Read(b[:]); return hex.EncodeToString(b[:]) }()
	providerSeq atomic.Uint64
)

// newTokenPrefix returns a prefix no other provider uses: tokens of one
// provider are never valid in another.
func newTokenPrefix() string {
	return "mp-" + processID + "-" + strconv.FormatUint(providerSeq.Add(1), 36) + "-"
}

// New returns an empty provider.
func New(opts ...Option) *Provider {
	p := &Provider{
		clock:       fakeclock.Real(),
		longPoll:    true,
		tokenPrefix: newTokenPrefix(),
		waitUntil:   math.MinInt64,
		lastNow:     math.MinInt64,
		instances:   make(map[string]*instance),
		orchReady:   newIndex(readyLess, readyFree),
		orchFuture:  newIndex(futureLess, futureFree),
		orchLocks:   newIndex(lockLess, lockFree),
	}
	p.orchTokens = newTokenMap[*instance](p.tokenPrefix)
	p.worker.init(p.tokenPrefix)
	for _, o := range opts {
		o(p)
	}
	return p
}

var (
	_ duroxide.Provider      = (*Provider)(nil)
	_ duroxide.ProviderAdmin = (*Provider)(nil)
)

// Name returns "memprovider".
func (p *Provider) Name() string { return "memprovider" }

// Version returns [Version].
func (p *Provider) Version() string { return Version }

// AsManagementCapability returns p itself.
func (p *Provider) AsManagementCapability() duroxide.ProviderAdmin { return p }

// now reads the clock once, in Unix nanoseconds. Caller holds p.mu.
//
// The indexes record what an earlier reading saw: a lock or lease that was
// seen expired is out of the lock indexes and its work is fetchable. If the
// clock has stepped back since (an injected clock that is not monotonic),
// such a lock may be valid again by the clock; now first restores, for the
// new reading, the rule that a lock is indexed exactly when it has not
// expired (unexpire), so every call decides against one consistent view.
func (p *Provider) now() int64 {
	n := p.clock.Now().UnixNano()
	if n < p.lastNow {
		p.unexpire(n)
	}
	p.lastNow = n
	return n
}

// unexpire re-indexes every lock and lease that expired by an earlier
// reading but not by now, and wakes the long polls, whose plans may rely on
// the old view. O(instances + worker items + sessions); it runs only when
// the clock steps back. Caller holds p.mu.
func (p *Provider) unexpire(now int64) {
	for _, in := range p.instances {
		if l := in.lock; l != nil && !l.indexed && l.until > now {
			l.indexed = true
			p.orchLocks.ReplaceOrInsert(in.lockKey())
			p.refreshReady(in)
		}
	}
	p.worker.unexpire(now)
	p.signal()
}

// newToken returns a fresh lock token: the provider's unique prefix and
// the token number in base 36. Caller holds p.mu.
func (p *Provider) newToken() string {
	p.tokens++
	return p.tokenSrc.next(p.tokenPrefix, p.tokens)
}

// nextSeq returns the next enqueue sequence number. Caller holds p.mu.
func (p *Provider) nextSeq() uint64 {
	p.seq++
	return p.seq
}

// signal wakes every long poll waiting for work. Caller holds p.mu.
func (p *Provider) signal() {
	if p.changed != nil {
		close(p.changed)
		p.changed = nil
	}
	p.waitUntil = math.MinInt64
}

// wakeAt is called by every change that makes something happen at instant
// at without a further call (a message becomes visible, a lock expires, a
// lease lapses). If a waiting long poll planned to look again only later, it
// wakes them all, so each re-arms its timer for the new earliest instant.
// Caller holds p.mu.
func (p *Provider) wakeAt(at int64) {
	if at < p.waitUntil {
		p.signal()
	}
}

// addNs returns t+d, saturating instead of overflowing.
func addNs(t int64, d time.Duration) int64 {
	if d > 0 && t > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return t + int64(d)
}

// subNs returns t-d, saturating instead of overflowing.
func subNs(t int64, d time.Duration) int64 {
	if d > 0 && t < math.MinInt64+int64(d) {
		return math.MinInt64
	}
	return t - int64(d)
}

// poll runs try under p.mu until it finds work, or until pollTimeout has
// passed on the clock (at once when short polling or pollTimeout is 0), or
// ctx ends. try returns whether it found work and the earliest instant at
// which, without any call, work might appear (math.MaxInt64 for never). The
// timer is armed at that absolute instant under p.mu, so a clock that moves
// between the check and the wait cannot make the wait late.
func (p *Provider) poll(ctx context.Context, op string, pollTimeout time.Duration, try func(now int64) (bool, int64)) error {
	deadline := int64(math.MinInt64) // set by the first attempt
	for {
		changed, timer, err := p.pollOnce(ctx, op, pollTimeout, &deadline, try)
		if changed == nil {
			return err
		}
		select {
		case <-changed:
		case <-timer.C():
		case <-ctx.Done():
		}
		timer.Stop()
	}
}

// pollOnce is one attempt of poll, under p.mu (released by defer, so that
// nothing can leave it held). It returns a nil channel when the poll is
// over, with its error, or else the channel and timer to wait on.
func (p *Provider) pollOnce(ctx context.Context, op string, pollTimeout time.Duration, deadline *int64, try func(now int64) (bool, int64)) (<-chan struct{}, fakeclock.Timer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if *deadline == math.MinInt64 {
		*deadline = addNs(now, pollTimeout)
	}
	found, wake := try(now)
	if found || !p.longPoll || now >= *deadline {
		return nil, nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, duroxide.Retryable(op, err, "context ended while waiting for work: %v", err)
	}
	if p.changed == nil {
		p.changed = make(chan struct{})
	}
	at := min(*deadline, wake)
	p.waitUntil = max(p.waitUntil, at)
	return p.changed, p.clock.NewTimerAt(time.Unix(0, at)), nil
}

// checkCtx returns a retryable error when ctx has already ended.
func checkCtx(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return duroxide.Retryable(op, err, "context ended: %v", err)
	}
	return nil
}

// invalid returns a permanent ErrInvalidArgument error.
func invalid(op, format string, args ...any) error {
	return duroxide.Permanent(op, duroxide.ErrInvalidArgument, "invalid argument: "+format, args...)
}

// invalidArg returns a permanent ErrInvalidArgument error for argument arg
// ("item", "worker_items[2]", ...) whose problem is cause. The error matches
// ErrInvalidArgument and whatever cause wraps (ErrUnknownVariant for a value
// that is not a variant). cause carries no operation prefix, so the message
// names the operation once.
func invalidArg(op, arg string, cause error) error {
	return &duroxide.ProviderError{
		Op:  op,
		Msg: "invalid argument: " + arg + ": " + cause.Error(),
		Err: fmt.Errorf("%w: %w", duroxide.ErrInvalidArgument, cause),
	}
}

// checkDuration refuses negative durations.
func checkDuration(op, name string, d time.Duration) error {
	if d < 0 {
		return invalid(op, "%s must not be negative, got %v", name, d)
	}
	return nil
}

// NextDue returns the earliest instant at which, without any further call,
// something becomes due: a delayed orchestrator message (a timer, an
// abandoned batch's delay) or worker item becomes visible, an instance or
// activity lock expires, or a session lease lapses. ok is false when
// nothing is pending. An instant at or before the clock's time means the
// next fetch will act on it.
//
// It is for drivers that skip time on a fake clock (package duroxidetest):
// when no work is visible, advancing the clock to NextDue is the least step
// that can change that. O(log n).
func (p *Provider) NextDue() (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	at := min(p.nextOrchWake(), p.worker.nextWake())
	if at == math.MaxInt64 {
		return time.Time{}, false
	}
	return time.Unix(0, at), true
}
