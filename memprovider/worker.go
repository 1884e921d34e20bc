package memprovider

import (
	"context"
	"time"

	"github.com/google/btree"

	"github.com/duroxide-go/duroxide"
)

// workerQueue holds worker items and their indexes. An item is in exactly
// one of: the ready indexes (visible, unlocked or lock expired), future
// (not yet visible), locks (held and, as of the last promotion, unexpired).
type workerQueue struct {
	items       map[uint64]*workEntry
	plainClass  *btree.BTreeG[*workEntry] // ready items without session, by (class, seq)
	plainAll    *btree.BTreeG[*workEntry] // ready items without session, by seq
	sessClass   *btree.BTreeG[*workEntry] // ready session items, by (class, seq)
	sessAll     *btree.BTreeG[*workEntry] // ready session items, by seq
	future      *btree.BTreeG[*workEntry] // by (visibleAt, seq)
	locks       *btree.BTreeG[*workEntry] // by (until, seq)
	tokens      map[string]*workEntry
	byActivity  map[activityKey]map[*workEntry]struct{}
	byInstance  map[string]map[*workEntry]struct{}
	sessionRefs map[string]int // items per session id
}

type activityKey struct {
	instance string
	exec     uint64
	id       uint64
}

// workEntry is one worker-queue item.
type workEntry struct {
	seq       uint64
	item      duroxide.ActivityExecuteItem
	class     string // "" untagged, else "#" + tag
	visibleAt int64
	state     workState
	token     string // outstanding lock token, "" when unlocked
	until     int64
	attempts  uint32
}

type workState uint8

const (
	workReady workState = iota
	workFuture
	workLocked
)

// session is a session lease.
type session struct {
	owner        string
	until        int64
	lastActivity int64
}

func (w *workerQueue) init() {
	w.items = make(map[uint64]*workEntry)
	w.plainClass = btree.NewG(btreeDegree, classLess)
	w.plainAll = btree.NewG(btreeDegree, seqLess)
	w.sessClass = btree.NewG(btreeDegree, classLess)
	w.sessAll = btree.NewG(btreeDegree, seqLess)
	w.future = btree.NewG(btreeDegree, func(a, b *workEntry) bool {
		if a.visibleAt != b.visibleAt {
			return a.visibleAt < b.visibleAt
		}
		return a.seq < b.seq
	})
	w.locks = btree.NewG(btreeDegree, func(a, b *workEntry) bool {
		if a.until != b.until {
			return a.until < b.until
		}
		return a.seq < b.seq
	})
	w.tokens = make(map[string]*workEntry)
	w.byActivity = make(map[activityKey]map[*workEntry]struct{})
	w.byInstance = make(map[string]map[*workEntry]struct{})
	w.sessionRefs = make(map[string]int)
}

func seqLess(a, b *workEntry) bool { return a.seq < b.seq }

func classLess(a, b *workEntry) bool {
	if a.class != b.class {
		return a.class < b.class
	}
	return a.seq < b.seq
}

func tagClass(tag *string) string {
	if tag == nil {
		return ""
	}
	return "#" + *tag
}

func (e *workEntry) hasSession() bool { return e.item.SessionID != nil }

// setReady puts e into the ready indexes.
func (w *workerQueue) setReady(e *workEntry) {
	e.state = workReady
	if e.hasSession() {
		w.sessClass.ReplaceOrInsert(e)
		w.sessAll.ReplaceOrInsert(e)
	} else {
		w.plainClass.ReplaceOrInsert(e)
		w.plainAll.ReplaceOrInsert(e)
	}
}

// unindex takes e out of whichever index holds it.
func (w *workerQueue) unindex(e *workEntry) {
	switch e.state {
	case workReady:
		if e.hasSession() {
			w.sessClass.Delete(e)
			w.sessAll.Delete(e)
		} else {
			w.plainClass.Delete(e)
			w.plainAll.Delete(e)
		}
	case workFuture:
		w.future.Delete(e)
	case workLocked:
		w.locks.Delete(e)
	}
}

// add queues an activity visible at visibleAt.
func (w *workerQueue) add(seq uint64, item duroxide.ActivityExecuteItem, visibleAt, now int64) {
	e := &workEntry{seq: seq, item: item, class: tagClass(item.Tag), visibleAt: visibleAt}
	w.items[seq] = e
	key := activityKey{item.Instance, item.ExecutionID, item.ID}
	addToSet(w.byActivity, key, e)
	addToSet(w.byInstance, item.Instance, e)
	if item.SessionID != nil {
		w.sessionRefs[*item.SessionID]++
	}
	if visibleAt > now {
		e.state = workFuture
		w.future.ReplaceOrInsert(e)
		return
	}
	w.setReady(e)
}

// remove deletes e and its token.
func (w *workerQueue) remove(e *workEntry) {
	w.unindex(e)
	delete(w.items, e.seq)
	if e.token != "" {
		delete(w.tokens, e.token)
	}
	removeFromSet(w.byActivity, activityKey{e.item.Instance, e.item.ExecutionID, e.item.ID}, e)
	removeFromSet(w.byInstance, e.item.Instance, e)
	if s := e.item.SessionID; s != nil {
		if w.sessionRefs[*s]--; w.sessionRefs[*s] <= 0 {
			delete(w.sessionRefs, *s)
		}
	}
}

func addToSet[K comparable](m map[K]map[*workEntry]struct{}, k K, e *workEntry) {
	s := m[k]
	if s == nil {
		s = make(map[*workEntry]struct{})
		m[k] = s
	}
	s[e] = struct{}{}
}

func removeFromSet[K comparable](m map[K]map[*workEntry]struct{}, k K, e *workEntry) {
	if s := m[k]; s != nil {
		delete(s, e)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

// promote makes due items visible and expired locks reclaimable.
func (w *workerQueue) promote(now int64) {
	for {
		e, ok := w.future.Min()
		if !ok || e.visibleAt > now {
			break
		}
		w.future.DeleteMin()
		w.setReady(e)
	}
	for {
		e, ok := w.locks.Min()
		if !ok || e.until > now {
			break
		}
		w.locks.DeleteMin()
		w.setReady(e) // keeps its token: abandon works until it is re-fetched
	}
}

// nextWake is the earliest instant an item becomes visible or a lock
// expires.
func (w *workerQueue) nextWake() int64 {
	wake := int64(1<<63 - 1)
	if e, ok := w.future.Min(); ok {
		wake = min(wake, e.visibleAt)
	}
	if e, ok := w.locks.Min(); ok {
		wake = min(wake, e.until)
	}
	return wake
}

// checkWorkerItem validates a worker-queue item.
func checkWorkerItem(op string, item duroxide.WorkItem) error {
	if item == nil {
		return invalid(op, "nil work item")
	}
	a, ok := item.(duroxide.ActivityExecuteItem)
	if !ok {
		return invalid(op, "Invalid work item type %s for the worker queue (only ActivityExecute)", item.Variant())
	}
	if a.Instance == "" {
		return invalid(op, "ActivityExecute has an empty instance id")
	}
	if a.SessionID != nil && *a.SessionID == "" {
		return invalid(op, "ActivityExecute has an empty session id")
	}
	return nil
}

// EnqueueForWorker implements [duroxide.Provider]. O(log n).
func (p *Provider) EnqueueForWorker(ctx context.Context, item duroxide.WorkItem) error {
	const op = "enqueue_for_worker"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	if err := checkWorkerItem(op, item); err != nil {
		return err
	}
	c := duroxide.CloneWorkItem(item).(duroxide.ActivityExecuteItem)
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.worker.add(p.nextSeq(), c, now, now)
	p.signal()
	return nil
}

// applyWorkerItems enqueues an ack's worker items, then removes its
// cancelled activities. Caller holds p.mu and validated the items.
func (p *Provider) applyWorkerItems(a duroxide.OrchestrationAck, now int64) {
	for _, w := range a.WorkerItems {
		p.worker.add(p.nextSeq(), duroxide.CloneWorkItem(w).(duroxide.ActivityExecuteItem), now, now)
	}
	for _, c := range a.CancelledActivities {
		for e := range p.worker.byActivity[activityKey{c.Instance, c.ExecutionID, c.ActivityID}] {
			p.worker.remove(e)
		}
	}
}

// FetchWorkItem implements [duroxide.Provider]. O(log n) per tag class for
// items without a session; session items of sessions other owners hold are
// skipped one by one.
func (p *Provider) FetchWorkItem(ctx context.Context, lockTimeout, pollTimeout time.Duration, sess *duroxide.SessionFetchConfig, filter duroxide.TagFilter) (*duroxide.LockedWorkItem, error) {
	const op = "fetch_work_item"
	if err := checkCtx(ctx, op); err != nil {
		return nil, err
	}
	if err := checkDuration(op, "lock timeout", lockTimeout); err != nil {
		return nil, err
	}
	if err := checkDuration(op, "poll timeout", pollTimeout); err != nil {
		return nil, err
	}
	if filter.Kind() == duroxide.TagNone {
		return nil, nil
	}
	var cfg *duroxide.SessionFetchConfig
	if sess != nil {
		if sess.OwnerID == "" {
			return nil, invalid(op, "session owner id is empty")
		}
		if err := checkDuration(op, "session lock timeout", sess.LockTimeout); err != nil {
			return nil, err
		}
		c := *sess
		cfg = &c
	}
	var out *duroxide.LockedWorkItem
	err := p.poll(ctx, op, pollTimeout, func(now int64) (bool, int64) {
		out = p.tryFetchWork(now, lockTimeout, cfg, filter)
		return out != nil, p.worker.nextWake()
	})
	return out, err
}

// tryFetchWork is one worker fetch attempt. Caller holds p.mu.
func (p *Provider) tryFetchWork(now int64, lockTimeout time.Duration, cfg *duroxide.SessionFetchConfig, filter duroxide.TagFilter) *duroxide.LockedWorkItem {
	w := &p.worker
	w.promote(now)
	classes := filterClasses(filter)
	best := firstIn(w.plainAll, w.plainClass, classes, func(*workEntry) bool { return true })
	if cfg != nil {
		eligible := func(e *workEntry) bool {
			s := p.sessions[*e.item.SessionID]
			return s == nil || s.until <= now || s.owner == cfg.OwnerID
		}
		if c := firstIn(w.sessAll, w.sessClass, classes, eligible); c != nil && (best == nil || c.seq < best.seq) {
			best = c
		}
	}
	if best == nil {
		return nil
	}
	w.unindex(best)
	if best.token != "" {
		delete(w.tokens, best.token)
	}
	best.token = p.newToken()
	best.until = addNs(now, lockTimeout)
	best.attempts++
	best.state = workLocked
	w.locks.ReplaceOrInsert(best)
	w.tokens[best.token] = best
	if sid := best.item.SessionID; sid != nil && cfg != nil {
		p.sessions[*sid] = &session{owner: cfg.OwnerID, until: addNs(now, cfg.LockTimeout), lastActivity: now}
	}
	return &duroxide.LockedWorkItem{
		Item:         duroxide.CloneWorkItem(best.item),
		LockToken:    best.token,
		AttemptCount: best.attempts,
	}
}

// filterClasses returns the tag classes a filter accepts, or nil for Any.
func filterClasses(f duroxide.TagFilter) []string {
	switch f.Kind() {
	case duroxide.TagAny:
		return nil
	case duroxide.TagDefaultOnly:
		return []string{""}
	}
	var classes []string
	if f.Kind() == duroxide.TagDefaultAnd {
		classes = append(classes, "")
	}
	for _, t := range f.Tags() {
		classes = append(classes, "#"+t)
	}
	return classes
}

// firstIn returns the oldest entry accepted by ok among the given classes
// (nil classes: any class, via the all index).
func firstIn(all, byClass *btree.BTreeG[*workEntry], classes []string, ok func(*workEntry) bool) *workEntry {
	var best *workEntry
	if classes == nil {
		all.Ascend(func(e *workEntry) bool {
			if ok(e) {
				best = e
				return false
			}
			return true
		})
		return best
	}
	for _, c := range classes {
		byClass.AscendGreaterOrEqual(&workEntry{class: c}, func(e *workEntry) bool {
			if e.class != c || (best != nil && e.seq > best.seq) {
				return false
			}
			if ok(e) {
				best = e
				return false
			}
			return true
		})
	}
	return best
}

// heldWork returns the entry locked by token with an unexpired lock.
func (p *Provider) heldWork(op, token string, now int64) (*workEntry, error) {
	e := p.worker.tokens[token]
	if e == nil {
		return nil, duroxide.Permanent(op, duroxide.ErrInvalidLockToken, "Invalid lock token %q: the work item was cancelled, deleted, acked or re-fetched", token)
	}
	if e.until <= now {
		return nil, duroxide.Permanent(op, duroxide.ErrLockExpired, "work item lock expired (token %q)", token)
	}
	return e, nil
}

// touchSession records activity on e's session while its lease is active.
func (p *Provider) touchSession(e *workEntry, now int64) {
	if sid := e.item.SessionID; sid != nil {
		if s := p.sessions[*sid]; s != nil && s.until > now {
			s.lastActivity = now
		}
	}
}

// AckWorkItem implements [duroxide.Provider]. O(log n).
func (p *Provider) AckWorkItem(ctx context.Context, lockToken string, completion duroxide.WorkItem) error {
	const op = "ack_work_item"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	var target string
	if completion != nil {
		switch c := completion.(type) {
		case duroxide.ActivityCompletedItem:
			target = c.Instance
		case duroxide.ActivityFailedItem:
			target = c.Instance
		default:
			return invalid(op, "invalid completion type %s (want ActivityCompleted or ActivityFailed)", completion.Variant())
		}
		if target == "" {
			return invalid(op, "%s has an empty instance id", completion.Variant())
		}
		completion = duroxide.CloneWorkItem(completion)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	e, err := p.heldWork(op, lockToken, now)
	if err != nil {
		return err
	}
	p.touchSession(e, now)
	p.worker.remove(e)
	if completion != nil {
		p.addOrchMsg(p.inst(target), completion, now, now)
	}
	return nil
}

// RenewWorkItemLock implements [duroxide.Provider]. O(log n).
func (p *Provider) RenewWorkItemLock(ctx context.Context, lockToken string, extendFor time.Duration) error {
	const op = "renew_work_item_lock"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	if err := checkDuration(op, "extend_for", extendFor); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	e, err := p.heldWork(op, lockToken, now)
	if err != nil {
		return err
	}
	if e.state == workLocked {
		p.worker.locks.Delete(e)
	} else {
		p.worker.unindex(e) // expired-lock promotion raced ahead of the clock read
	}
	e.until = addNs(now, extendFor)
	e.state = workLocked
	p.worker.locks.ReplaceOrInsert(e)
	p.touchSession(e, now)
	return nil
}

// AbandonWorkItem implements [duroxide.Provider]. The lock may have expired;
// the item must not have been re-fetched. O(log n).
func (p *Provider) AbandonWorkItem(ctx context.Context, lockToken string, delay time.Duration, ignoreAttempt bool) error {
	const op = "abandon_work_item"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	if err := checkDuration(op, "delay", delay); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.worker.tokens[lockToken]
	if e == nil {
		return duroxide.Permanent(op, duroxide.ErrInvalidLockToken, "Invalid lock token %q: not held (already acked, abandoned, re-fetched or deleted)", lockToken)
	}
	now := p.now()
	p.worker.unindex(e)
	delete(p.worker.tokens, lockToken)
	e.token = ""
	e.until = 0
	if ignoreAttempt && e.attempts > 0 {
		e.attempts--
	}
	e.visibleAt = addNs(now, delay)
	if delay > 0 {
		e.state = workFuture
		p.worker.future.ReplaceOrInsert(e)
	} else {
		p.worker.setReady(e)
		p.signal()
	}
	return nil
}

// RenewSessionLock implements [duroxide.Provider]. O(sessions).
func (p *Provider) RenewSessionLock(ctx context.Context, ownerIDs []string, extendFor, idleTimeout time.Duration) (int, error) {
	const op = "renew_session_lock"
	if err := checkCtx(ctx, op); err != nil {
		return 0, err
	}
	if err := checkDuration(op, "extend_for", extendFor); err != nil {
		return 0, err
	}
	if err := checkDuration(op, "idle timeout", idleTimeout); err != nil {
		return 0, err
	}
	if len(ownerIDs) == 0 {
		return 0, nil
	}
	owners := make(map[string]struct{}, len(ownerIDs))
	for _, o := range ownerIDs {
		owners[o] = struct{}{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	cutoff := now - int64(idleTimeout)
	n := 0
	for _, s := range p.sessions {
		if _, ok := owners[s.owner]; ok && s.until > now && s.lastActivity > cutoff {
			s.until = addNs(now, extendFor)
			n++
		}
	}
	return n, nil
}

// CleanupOrphanedSessions implements [duroxide.Provider]: it deletes
// sessions whose lease ended strictly before now and that no worker item
// references. idleTimeout is validated but unused, as in duroxide.
// O(sessions).
func (p *Provider) CleanupOrphanedSessions(ctx context.Context, idleTimeout time.Duration) (int, error) {
	const op = "cleanup_orphaned_sessions"
	if err := checkCtx(ctx, op); err != nil {
		return 0, err
	}
	if err := checkDuration(op, "idle timeout", idleTimeout); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	n := 0
	for id, s := range p.sessions {
		if s.until < now && p.worker.sessionRefs[id] == 0 {
			delete(p.sessions, id)
			n++
		}
	}
	return n, nil
}
