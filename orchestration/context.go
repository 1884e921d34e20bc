package orchestration

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/duroxide-go/duroxide/internal/jsonfast"
)

// Names of the built-in system activities duroxide schedules for
// deterministic GUIDs, time and cross-instance key/value reads. A runtime's
// worker must execute them.
const (
	SyscallPrefix     = "__duroxide_syscall:"
	SyscallNewGUID    = "__duroxide_syscall:new_guid"
	SyscallUtcNowMs   = "__duroxide_syscall:utc_now_ms"
	SyscallGetKVValue = "__duroxide_syscall:get_kv_value"
)

// SubOrchAutoPrefix starts generated sub-orchestration instance ids in
// history ("sub::<event id>"); [ChildInstanceID] prefixes them with the
// parent instance.
const SubOrchAutoPrefix = "sub::"

const subOrchPendingPrefix = "sub::pending_"

// ChildInstanceID returns the real instance id of a sub-orchestration whose
// SubOrchestrationScheduled event records instance: generated ids
// ("sub::…") become "<parent>::sub::…", explicit ids are kept as they are.
func ChildInstanceID(parent, instance string) string {
	if len(instance) >= len(SubOrchAutoPrefix) && instance[:len(SubOrchAutoPrefix)] == SubOrchAutoPrefix {
		return parent + "::" + instance
	}
	return instance
}

type emitted struct {
	s      *slot // nil for actions without a future
	action Action
}

// Context is the handle orchestration code receives. It schedules durable
// work, reads deterministic state (custom status, key/value store, replay
// flag) and logs without duplicates on replay.
//
// A Context is confined to its orchestration's goroutine and to one turn: it
// is not safe for concurrent use, and calling it from another goroutine is a
// determinism bug. After the turn ended (see [ErrTurnEnded]) scheduling
// calls do nothing.
type Context struct {
	*ctxState
	// co is the coroutine this view of the state runs on: the
	// orchestration's, or a branch's ([Go]).
	co *coro
}

// ctxState is the turn's orchestration state, shared by the main
// coroutine's Context and every branch's.
type ctxState struct {
	instance    string
	executionID uint64
	name        string
	version     string
	now         func() time.Time

	replaying bool
	sealed    bool

	nextToken uint64
	emitted   []emitted
	slots     []*slot

	extSubs      map[string][]*slot // bind order = raw index
	extArrivals  map[string][]string
	extCancelled map[uint64]bool

	queueSubs      []*slot
	queueArrivals  map[string][]string
	queueCancelled map[uint64]bool

	customStatus *string
	kv           map[string]string
	kvMeta       map[string]uint64

	logger *slog.Logger
	base   *slog.Logger

	branches []*coro // every branch started this turn, for teardown

	// First backing arrays of slots and emitted, and of the engine's
	// turnState.queue and turnState.open: most turns make a few decisions.
	slotsBuf   [4]*slot
	emittedBuf [4]emitted
	queueBuf   [4]emitted
	openBuf    [4]*slot

	main coro // the orchestration's coroutine (see newContext)
}

// turnContext is a turn's main Context and its state (with the main
// coroutine), kept in the engine's allocation.
type turnContext struct {
	c Context
	s ctxState
}

// newContext sets up p (zero) and returns its Context.
func newContext(p *turnContext, instance string, executionID uint64, name, version string, now func() time.Time, base *slog.Logger) *Context {
	p.s = ctxState{instance: instance, executionID: executionID, name: name, version: version,
		now: now, replaying: true, base: base}
	p.s.slots, p.s.emitted = p.s.slotsBuf[:0], p.s.emittedBuf[:0]
	p.c.ctxState = &p.s
	return &p.c
}

// InstanceID returns the orchestration instance id.
func (c *Context) InstanceID() string { return c.instance }

// ExecutionID returns the current execution id (1, then one more per
// continue-as-new).
func (c *Context) ExecutionID() uint64 { return c.executionID }

// OrchestrationName returns the orchestration's registered name.
func (c *Context) OrchestrationName() string { return c.name }

// OrchestrationVersion returns the orchestration's version.
func (c *Context) OrchestrationVersion() string { return c.version }

// IsReplaying reports whether the code is re-running decisions already
// recorded in history (true) or making new ones (false). Use it to skip side
// effects that must happen once; prefer [Context.Logger], which does this
// for logs.
func (c *Context) IsReplaying() bool { return c.replaying }

// Logger returns a slog logger that drops records while the orchestration
// replays, so each message is logged once per decision. Records carry the
// instance id, execution id and orchestration name and version.
func (c *Context) Logger() *slog.Logger {
	if c.logger == nil {
		base := c.base
		if base == nil {
			base = slog.Default()
		}
		c.logger = slog.New(&replayHandler{c: c, h: base.Handler()}).With(
			"instance_id", c.instance, "execution_id", c.executionID,
			"orchestration_name", c.name, "orchestration_version", c.version)
	}
	return c.logger
}

type replayHandler struct {
	c *Context
	h slog.Handler
}

func (r *replayHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return !r.c.replaying && !r.c.closed() && r.h.Enabled(ctx, l)
}
func (r *replayHandler) Handle(ctx context.Context, rec slog.Record) error {
	if r.c.replaying || r.c.closed() {
		return nil
	}
	return r.h.Handle(ctx, rec)
}
func (r *replayHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return &replayHandler{c: r.c, h: r.h.WithAttrs(a)}
}
func (r *replayHandler) WithGroup(n string) slog.Handler {
	return &replayHandler{c: r.c, h: r.h.WithGroup(n)}
}

func (c *Context) nowMs() uint64 {
	t := c.now().UnixMilli()
	if t < 0 {
		return 0
	}
	return uint64(t)
}

// closed reports whether this view may no longer schedule: the turn ended,
// or its branch was abandoned.
func (c *Context) closed() bool { return c.sealed || (c.co != nil && c.co.killed) }

func (c *Context) emit(kind slotKind, a Action) *slot {
	c.nextToken++
	var s *slot
	if kind != kindOther {
		s = &slot{token: c.nextToken, kind: kind, owner: c.co}
		c.slots = append(c.slots, s)
	}
	c.emitted = append(c.emitted, emitted{s: s, action: a})
	return s
}

// newFuture schedules a durable action and returns its future; the future
// and its slot share one allocation. Not inlined: it would grow its
// callers' frames on the orchestration's stack (see Marshal).
//
//go:noinline
func newFuture[T any](c *Context, kind slotKind, a Action, decode func(string) (T, error)) *Future[T] {
	p := &struct {
		f Future[T]
		s slot
	}{}
	c.nextToken++
	p.s = slot{token: c.nextToken, kind: kind, owner: c.co}
	c.slots = append(c.slots, &p.s)
	c.emitted = append(c.emitted, emitted{s: &p.s, action: a})
	p.f = Future[T]{c: c, s: &p.s, decode: decode}
	return &p.f
}

// drain returns the decisions made since the last drain. The slice is
// reused by the next decision: callers copy it at once.
func (c *Context) drain() []emitted {
	out := c.emitted
	c.emitted = c.emitted[:0]
	return out
}

// waiter is what a blocked coroutine waits for: wait reports whether it
// is ready. A *Future is one (its Get then allocates no closure).
type waiter interface{ wait() bool }

// waitFunc is a waiter from a function.
type waitFunc func() bool

func (w waitFunc) wait() bool { return w() }

// block parks the orchestration goroutine until ready holds. It returns
// false when the turn ended instead.
func (c *Context) block(ready waiter) bool {
	for !ready.wait() {
		if c.closed() || c.co == nil {
			return false
		}
		c.co.cond = ready
		if c.co.inline {
			if !c.co.yieldFn(coMsg{kind: msgBlocked}) {
				panic(errTornDown)
			}
			continue
		}
		c.co.yield <- coMsg{kind: msgBlocked}
		if !<-c.co.resume {
			runtime.Goexit()
		}
	}
	return true
}

func (c *Context) bind(s *slot, id uint64) {
	s.scheduleID = id
	s.bound = true
}

func (c *Context) bindExternal(s *slot, name string) {
	if c.extSubs == nil {
		c.extSubs = map[string][]*slot{}
	}
	s.name = name
	s.subIndex = len(c.extSubs[name])
	c.extSubs[name] = append(c.extSubs[name], s)
}

func (c *Context) bindQueue(s *slot, name string) {
	s.name = name
	c.queueSubs = append(c.queueSubs, s)
}

// hasPendingSlot reports whether an active positional subscription of name
// has no arrival yet.
func (c *Context) hasPendingSlot(name string) bool {
	active := 0
	for _, s := range c.extSubs[name] {
		if !c.extCancelled[s.scheduleID] {
			active++
		}
	}
	return active > len(c.extArrivals[name])
}

func (c *Context) externalValue(s *slot) (string, bool) {
	if !s.bound || c.extCancelled[s.scheduleID] {
		return "", false
	}
	idx := s.subIndex
	for _, o := range c.extSubs[s.name][:s.subIndex] {
		if c.extCancelled[o.scheduleID] {
			idx--
		}
	}
	arr := c.extArrivals[s.name]
	if idx < len(arr) {
		return arr[idx], true
	}
	return "", false
}

func (c *Context) queueValue(s *slot) (string, bool) {
	if s.queueDone {
		return s.value, true
	}
	if !s.bound || c.queueCancelled[s.scheduleID] {
		return "", false
	}
	idx := 0
	for _, o := range c.queueSubs {
		if o == s {
			break
		}
		if o.name == s.name && !c.queueCancelled[o.scheduleID] {
			idx++
		}
	}
	arr := c.queueArrivals[s.name]
	if idx < len(arr) {
		s.queueDone = true
		s.value = arr[idx]
		return s.value, true
	}
	return "", false
}

func (c *Context) slotReady(s *slot) bool {
	switch s.kind {
	case kindExternal:
		_, ok := c.externalValue(s)
		return ok
	case kindQueue:
		_, ok := c.queueValue(s)
		return ok
	default:
		return s.has
	}
}

func (c *Context) slotResult(s *slot) (string, error) {
	switch s.kind {
	case kindExternal:
		v, _ := c.externalValue(s)
		return v, nil
	case kindQueue:
		v, _ := c.queueValue(s)
		return v, nil
	}
	if s.failed {
		return "", &TaskFailedError{Details: s.details}
	}
	return s.value, nil
}

func (c *Context) cancelSlot(s *slot) {
	if s.completed {
		return
	}
	s.cancelled = true
}

// ---- scheduling ----

// ActivityOption configures one activity call. Options are pure functions,
// safe to share.
type ActivityOption func(*CallActivityAction)

// WithTag routes the activity to workers whose tag filter accepts tag.
func WithTag(tag string) ActivityOption {
	return func(a *CallActivityAction) { a.Tag = &tag }
}

// WithSession pins the activity to the worker that owns session id.
func WithSession(id string) ActivityOption {
	return func(a *CallActivityAction) { a.SessionID = &id }
}

// ScheduleActivity schedules the activity name with a raw (already encoded)
// input and returns its raw result. Use [CallActivity] for typed values.
func (c *Context) ScheduleActivity(name, input string, opts ...ActivityOption) *Future[string] {
	if c.closed() {
		return &Future[string]{c: c}
	}
	a := CallActivityAction{Name: name, Input: input}
	if len(opts) > 0 {
		a = withActivityOptions(a, opts)
	}
	return newFuture(c, kindActivity, a, rawString)
}

// withActivityOptions returns a with opts applied. A function of its own,
// so that only calls with options move the action to the heap.
func withActivityOptions(a CallActivityAction, opts []ActivityOption) CallActivityAction {
	for _, o := range opts {
		o(&a)
	}
	return a
}

// CallActivity schedules the activity name with input encoded as JSON and
// decodes its result into O. An input that cannot be encoded schedules
// nothing; the future's Get returns the encoding error.
func CallActivity[O any](c *Context, name string, input any, opts ...ActivityOption) *Future[O] {
	// Encoding and scheduling are separate calls, so that the encoding
	// runs with a shallow stack (see Marshal).
	in, err := Marshal(input)
	if err != nil {
		return encodeFailed[O](c, name, err)
	}
	return callActivity[O](c, name, in, opts)
}

//go:noinline
func encodeFailed[O any](c *Context, name string, err error) *Future[O] {
	return &Future[O]{c: c, err: fmt.Errorf("orchestration: encode input of activity %q: %w", name, err)}
}

// callActivity schedules the activity name with its encoded input.
//
//go:noinline
func callActivity[O any](c *Context, name, in string, opts []ActivityOption) *Future[O] {
	if c.closed() {
		return &Future[O]{c: c}
	}
	return newFuture[O](c, kindActivity, activityAction(name, in, opts), nil)
}

// activityAction returns the action of an activity call.
//
//go:noinline
func activityAction(name, in string, opts []ActivityOption) Action {
	a := CallActivityAction{Name: name, Input: in}
	if len(opts) > 0 {
		a = withActivityOptions(a, opts)
	}
	return a
}

// ScheduleTimer creates a durable timer that fires after d (measured from
// the engine's clock when first scheduled; on replay the recorded timer is
// used, matched by position).
func (c *Context) ScheduleTimer(d time.Duration) *Future[struct{}] {
	if c.closed() {
		return &Future[struct{}]{c: c}
	}
	if d < 0 {
		d = 0
	}
	fire := c.nowMs() + uint64(d/time.Millisecond)
	return newFuture(c, kindTimer, CreateTimerAction{FireAtMs: fire}, decodeNothing)
}

// WaitEvent subscribes to the external event name. Subscriptions are
// positional: the n-th subscription to a name receives the n-th event raised
// with that name after it subscribed; events raised with no open
// subscription are recorded and ignored.
func (c *Context) WaitEvent(name string) *Future[string] {
	if c.closed() {
		return &Future[string]{c: c}
	}
	return newFuture(c, kindExternal, WaitExternalAction{Name: name}, rawString)
}

// DequeueEvent takes the next message of the persistent event queue name
// (FIFO). Messages enqueued before anyone waits are kept, and unconsumed
// ones are carried across continue-as-new.
func (c *Context) DequeueEvent(queue string) *Future[string] {
	if c.closed() {
		return &Future[string]{c: c}
	}
	return newFuture(c, kindQueue, DequeueEventAction{Name: queue}, rawString)
}

// SubOrchestrationOption configures a sub-orchestration or detached start.
// Options are pure functions, safe to share.
type SubOrchestrationOption func(*subOpts)

type subOpts struct {
	version  *string
	instance *string
}

// WithVersion starts the given version of the orchestration (default: the
// runtime's version policy).
func WithVersion(v string) SubOrchestrationOption {
	return func(o *subOpts) { o.version = &v }
}

// WithInstanceID gives a sub-orchestration an explicit instance id, used as
// is (default: "<parent>::sub::<event id>").
func WithInstanceID(id string) SubOrchestrationOption {
	return func(o *subOpts) { o.instance = &id }
}

// SubOrchestration starts the child orchestration name with a raw input and
// returns its raw output.
func (c *Context) SubOrchestration(name, input string, opts ...SubOrchestrationOption) *Future[string] {
	if c.closed() {
		return &Future[string]{c: c}
	}
	var o subOpts
	for _, f := range opts {
		f(&o)
	}
	inst := subOrchPendingPrefix + strconv.FormatUint(c.nextToken+1, 10)
	if o.instance != nil {
		inst = *o.instance
	}
	a := StartSubOrchestrationAction{Name: name, Version: o.version, Instance: inst, Input: input}
	return newFuture(c, kindSubOrch, a, rawString)
}

// CallSubOrchestration starts a child with input encoded as JSON and decodes
// its output into O. An input that cannot be encoded starts nothing; the
// future's Get returns the encoding error.
func CallSubOrchestration[O any](c *Context, name string, input any, opts ...SubOrchestrationOption) *Future[O] {
	in, err := Marshal(input)
	if err != nil {
		return &Future[O]{c: c, err: fmt.Errorf("orchestration: encode input of sub-orchestration %q: %w", name, err)}
	}
	f := c.SubOrchestration(name, in, opts...)
	return &Future[O]{c: c, s: f.s}
}

// StartOrchestration starts an independent orchestration (fire and forget)
// with exactly the given instance id; only [WithVersion] applies.
func (c *Context) StartOrchestration(name, instance, input string, opts ...SubOrchestrationOption) {
	if c.closed() {
		return
	}
	var o subOpts
	for _, f := range opts {
		f(&o)
	}
	c.emit(kindDetached, StartDetachedAction{Name: name, Version: o.version, Instance: instance, Input: input})
}

// ContinueAsNewOption configures a continue-as-new. Options are pure
// functions, safe to share.
type ContinueAsNewOption func(*ContinueAsNewAction)

// ToVersion continues as the given orchestration version.
func ToVersion(v string) ContinueAsNewOption {
	return func(a *ContinueAsNewAction) { a.Version = &v }
}

// ContinueAsNew ends this execution and starts a fresh one of the same
// instance with input (raw). Unconsumed queue messages and the custom
// status are carried to the new execution. It does not return during the
// turn; it returns [ErrTurnEnded] only if called after the turn ended, so
// write `return "", ctx.ContinueAsNew(next)`.
func (c *Context) ContinueAsNew(input string, opts ...ContinueAsNewOption) error {
	if c.closed() {
		return ErrTurnEnded
	}
	a := ContinueAsNewAction{Input: input}
	for _, o := range opts {
		o(&a)
	}
	c.emit(kindOther, a)
	c.block(waitFunc(func() bool { return false }))
	return ErrTurnEnded
}

// SetCustomStatus sets the instance's custom status (visible to clients).
func (c *Context) SetCustomStatus(status string) {
	if c.closed() {
		return
	}
	c.customStatus = &status
	s := status
	c.emit(kindOther, UpdateCustomStatusAction{Status: &s})
}

// ResetCustomStatus clears the instance's custom status.
func (c *Context) ResetCustomStatus() {
	if c.closed() {
		return
	}
	c.customStatus = nil
	c.emit(kindOther, UpdateCustomStatusAction{})
}

// CustomStatus returns the current custom status (including one carried
// across continue-as-new) and whether one is set.
func (c *Context) CustomStatus() (string, bool) {
	if c.customStatus == nil {
		return "", false
	}
	return *c.customStatus, true
}

// SetKV sets key to value in the instance's key/value store.
func (c *Context) SetKV(key, value string) {
	if c.closed() {
		return
	}
	ms := c.nowMs()
	if c.kv == nil {
		c.kv, c.kvMeta = map[string]string{}, map[string]uint64{}
	}
	c.kv[key] = value
	c.kvMeta[key] = ms
	c.emit(kindOther, SetKeyValueAction{Key: key, Value: value, LastUpdatedAtMs: ms})
}

// KV returns the value of key and whether it is set. Reads are local and
// deterministic.
func (c *Context) KV(key string) (string, bool) {
	v, ok := c.kv[key]
	return v, ok
}

// KVKeys returns the keys of the store in ascending order.
func (c *Context) KVKeys() []string { return slices.Sorted(maps.Keys(c.kv)) }

// KVAll returns a copy of the whole store.
func (c *Context) KVAll() map[string]string {
	if c.kv == nil {
		return map[string]string{}
	}
	return maps.Clone(c.kv)
}

// KVLen returns the number of keys in the store.
func (c *Context) KVLen() int { return len(c.kv) }

// ClearKV removes key from the store.
func (c *Context) ClearKV(key string) {
	if c.closed() {
		return
	}
	delete(c.kv, key)
	delete(c.kvMeta, key)
	c.emit(kindOther, ClearKeyValueAction{Key: key})
}

// ClearAllKV removes every key from the store.
func (c *Context) ClearAllKV() {
	if c.closed() {
		return
	}
	clear(c.kv)
	clear(c.kvMeta)
	c.emit(kindOther, ClearKeyValuesAction{})
}

// PruneKVUpdatedBefore clears, in ascending key order, every key last
// updated before ms (Unix milliseconds) and returns how many it cleared.
func (c *Context) PruneKVUpdatedBefore(ms uint64) int {
	var keys []string
	for k, ts := range c.kvMeta {
		if _, ok := c.kv[k]; ok && ts < ms {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		c.ClearKV(k)
	}
	return len(keys)
}

// KVFromInstance reads key from another instance's store through the
// built-in get_kv_value system activity; the value is recorded, so replay
// returns the same answer. The result is nil when the key is absent.
func (c *Context) KVFromInstance(instance, key string) *Future[*string] {
	in, _ := Marshal(struct {
		InstanceID string `json:"instance_id"`
		Key        string `json:"key"`
	}{instance, key})
	f := c.ScheduleActivity(SyscallGetKVValue, in)
	return &Future[*string]{c: c, s: f.s}
}

// NewGUID returns a GUID generated once by the built-in new_guid system
// activity and replayed from history afterwards.
func (c *Context) NewGUID() *Future[string] { return c.ScheduleActivity(SyscallNewGUID, "") }

// UtcNow returns the current time, read once by the built-in utc_now_ms
// system activity and replayed from history afterwards.
func (c *Context) UtcNow() *Future[time.Time] {
	f := c.ScheduleActivity(SyscallUtcNowMs, "")
	return &Future[time.Time]{c: c, s: f.s, decode: func(raw string) (time.Time, error) {
		ms, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("orchestration: utc_now result %q: %w", raw, err)
		}
		return time.UnixMilli(int64(ms)).UTC(), nil
	}}
}

func decodeNothing(string) (struct{}, error) { return struct{}{}, nil }

// decodeJSON decodes a JSON payload into T.
func decodeJSON[T any](raw string) (T, error) {
	v, err := jsonfast.Decode[T](raw)
	if err != nil {
		return v, fmt.Errorf("orchestration: decode %q: %w", raw, err)
	}
	return v, nil
}

// WaitEventAs is [Context.WaitEvent] with the event's data decoded from
// JSON into T.
func WaitEventAs[T any](c *Context, name string) *Future[T] {
	f := c.WaitEvent(name)
	return &Future[T]{c: c, s: f.s}
}

// DequeueEventAs is [Context.DequeueEvent] with the message decoded from
// JSON into T.
func DequeueEventAs[T any](c *Context, queue string) *Future[T] {
	f := c.DequeueEvent(queue)
	return &Future[T]{c: c, s: f.s}
}
