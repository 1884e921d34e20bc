package memprovider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/btree"

	"github.com/duroxide-go/duroxide"
)

// workerQueue holds worker items, session rows and their indexes.
//
// An item is in exactly one of: the ready indexes (visible, unlocked or lock
// expired), future (not yet visible), locks (held and, as of the last
// promotion, unexpired). Ready items without a session are indexed by tag
// class and globally. Ready session items are grouped per (session, class)
// sub-queue; each non-empty sub-queue has one head entry in a partition
// named by the session's current owner ("" when no lease is active), so a
// fetch looks only at unowned sessions and its own, whatever other owners
// hold.
type workerQueue struct {
	count      int                           // items in the queue
	untagged   index[*workEntry]             // ready items without session or tag, by seq
	plainClass map[string]*index[*workEntry] // the same per tag class ("#tag"), nil until one is used
	plainAll   index[*workEntry]             // ready items without session, by seq
	sessItems  *index[*workEntry]            // ready session items, by (session, class, seq); nil until a session is used
	heads      *index[headKey]               // sub-queue heads, by (part, class, seq); nil until a session is used
	headsAll   *index[headKey]               // sub-queue heads, by (part, seq); nil until a session is used
	partHeads  map[string]int                // heads per partition, for those with any; nil until a session is used
	future     index[*workEntry]             // by (visibleAt, seq)
	locks      index[*workEntry]             // by (until, seq)
	tokens     tokenMap[*workEntry]
	byInstance map[string]*instItems // items per instance id, for those with any
	pivot      workEntry             // search key for index lookups; used under p.mu

	// Sessions; the maps are nil until a session is used.
	queues  map[string]*sessQueue            // per session id with at least one item
	rows    map[string]*session              // session rows (leases)
	leases  *index[*session]                 // rows with an indexed active lease, by (until, id); nil until a session is used
	byOwner map[string]map[*session]struct{} // rows per owner
}

// activityKey is an activity's identity within its instance.
type activityKey struct {
	exec uint64
	id   uint64
}

// instItems indexes one instance's worker items: a list of all of them, for
// deletes, and, once the instance has more than actsIndexAbove items, a map
// of activity identities, for cancellations. Keeping the identity index per
// instance keeps it small and cache-resident: a global one held an entry per
// queued item, and every enqueue and ack missed the cache in it.
type instItems struct {
	head *workEntry                 // the instance's items (instPrev/instNext links)
	n    int                        // items in the list
	acts map[activityKey]*workEntry // head of each identity's list (actPrev/actNext links); nil until n > actsIndexAbove
}

// actsIndexAbove is how many items an instance may have before its
// activity identities are indexed; up to it a cancellation walks the list.
const actsIndexAbove = 8

// workEntry is one worker-queue item.
type workEntry struct {
	seq       uint64
	item      duroxide.ActivityExecuteItem
	boxed     duroxide.WorkItem // item as stored; shared with callers when it holds no pointers
	class     string            // "" untagged, else "#" + tag
	session   string            // "" without session
	visibleAt int64
	state     workState
	token     string // outstanding lock token, "" when unlocked
	until     int64
	attempts  uint32

	// Intrusive doubly linked lists: items of the same instance, and (once
	// indexed, see instItems) items with the same activity identity.
	owner              *instItems
	actPrev, actNext   *workEntry
	instPrev, instNext *workEntry
}

func (e *workEntry) activity() activityKey { return activityKey{e.item.ExecutionID, e.item.ID} }

// linkActivity puts e at the head of its identity's list in ii.acts.
func (ii *instItems) linkActivity(e *workEntry) {
	k := e.activity()
	e.actPrev, e.actNext = nil, ii.acts[k]
	if e.actNext != nil {
		e.actNext.actPrev = e
	}
	ii.acts[k] = e
}

// unlinkActivity takes e out of its identity's list in ii.acts.
func (ii *instItems) unlinkActivity(e *workEntry) {
	switch {
	case e.actPrev != nil:
		e.actPrev.actNext = e.actNext
	case e.actNext != nil:
		ii.acts[e.activity()] = e.actNext
	default:
		delete(ii.acts, e.activity())
	}
	if e.actNext != nil {
		e.actNext.actPrev = e.actPrev
	}
	e.actPrev, e.actNext = nil, nil
}

type workState uint8

const (
	workReady workState = iota
	workFuture
	workLocked
)

// session is a session row: its owner's lease and last activity.
type session struct {
	id           string
	owner        string
	until        int64
	lastActivity int64
	leased       bool // in leases
}

// sessQueue indexes one session's items.
type sessQueue struct {
	id    string
	refs  int                   // items of the session, in any state
	part  string                // partition of its heads: owner with an active lease, or ""
	heads map[string]*workEntry // class -> head entry in the head indexes
}

// headKey is the head of one (session, class) sub-queue.
type headKey struct {
	part    string
	class   string
	seq     uint64
	session string
	e       *workEntry
}

func (w *workerQueue) init(tokenPrefix string) {
	// One tree per tag class, so a fetch's search never descends through
	// other classes' items. A class's tree is kept once created: classes
	// are the tags workers use, few.
	w.untagged = newIndex(seqLess, entryFree)
	w.plainAll = newIndex(seqLess, entryFree)
	w.future = newIndex(func(a, b *workEntry) bool {
		if a.visibleAt != b.visibleAt {
			return a.visibleAt < b.visibleAt
		}
		return a.seq < b.seq
	}, entryFree)
	w.locks = newIndex(func(a, b *workEntry) bool {
		if a.until != b.until {
			return a.until < b.until
		}
		return a.seq < b.seq
	}, entryFree)
	w.tokens = newTokenMap[*workEntry](tokenPrefix)
	w.byInstance = make(map[string]*instItems)
}

// The session indexes' orders.
func sessItemLess(a, b *workEntry) bool {
	if a.session != b.session {
		return a.session < b.session
	}
	return classLess(a, b)
}

func headLess(a, b headKey) bool {
	if a.part != b.part {
		return a.part < b.part
	}
	if a.class != b.class {
		return a.class < b.class
	}
	return a.seq < b.seq
}

func headAllLess(a, b headKey) bool {
	if a.part != b.part {
		return a.part < b.part
	}
	return a.seq < b.seq
}

func leaseLess(a, b *session) bool {
	if a.until != b.until {
		return a.until < b.until
	}
	return a.id < b.id
}

// made returns *x, made first if nil: the session indexes are made on
// first insertion (a nil index reads as empty).
func made[T any](x **index[T], less btree.LessFunc[T], free *btree.FreeListG[T]) *index[T] {
	if *x == nil {
		*x = &index[T]{less: less, free: free}
	}
	return *x
}

// classIndex returns the ready index of class, nil when it has none and
// create is false.
func (w *workerQueue) classIndex(class string, create bool) *index[*workEntry] {
	if class == "" {
		return &w.untagged
	}
	t := w.plainClass[class]
	if t == nil && create {
		if w.plainClass == nil {
			w.plainClass = make(map[string]*index[*workEntry])
		}
		t = &index[*workEntry]{less: seqLess, free: entryFree}
		w.plainClass[class] = t
	}
	return t
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

// setReady puts e into the ready indexes.
func (w *workerQueue) setReady(e *workEntry) {
	e.state = workReady
	if e.session == "" {
		w.classIndex(e.class, true).ReplaceOrInsert(e)
		w.plainAll.ReplaceOrInsert(e)
		return
	}
	made(&w.sessItems, sessItemLess, entryFree).ReplaceOrInsert(e)
	w.refreshHead(w.queues[e.session], e.class)
}

// unindex takes e out of whichever index holds it.
func (w *workerQueue) unindex(e *workEntry) {
	switch e.state {
	case workReady:
		if e.session == "" {
			w.classIndex(e.class, false).Delete(e)
			w.plainAll.Delete(e)
		} else {
			w.sessItems.Delete(e)
			w.refreshHead(w.queues[e.session], e.class)
		}
	case workFuture:
		w.future.Delete(e)
	case workLocked:
		w.locks.Delete(e)
	}
}

// refreshHead re-indexes the head of q's sub-queue for class.
func (w *workerQueue) refreshHead(q *sessQueue, class string) {
	var head *workEntry
	w.pivot = workEntry{session: q.id, class: class}
	w.sessItems.AscendGreaterOrEqual(&w.pivot, func(e *workEntry) bool {
		if e.session == q.id && e.class == class {
			head = e
		}
		return false
	})
	old := q.heads[class]
	if old == head {
		return
	}
	if old != nil {
		w.deleteHead(headKey{q.part, class, old.seq, q.id, old})
		delete(q.heads, class)
	}
	if head != nil {
		q.heads[class] = head
		w.insertHead(headKey{q.part, class, head.seq, q.id, head})
	}
}

func (w *workerQueue) insertHead(k headKey) {
	made(&w.heads, headLess, headFree).ReplaceOrInsert(k)
	made(&w.headsAll, headAllLess, headFree).ReplaceOrInsert(k)
	if w.partHeads == nil {
		w.partHeads = make(map[string]int)
	}
	w.partHeads[k.part]++
}

func (w *workerQueue) deleteHead(k headKey) {
	w.heads.Delete(k)
	w.headsAll.Delete(k)
	if w.partHeads[k.part]--; w.partHeads[k.part] == 0 {
		delete(w.partHeads, k.part)
	}
}

// setPart moves q's heads to partition part.
func (w *workerQueue) setPart(q *sessQueue, part string) {
	if q == nil || q.part == part {
		return
	}
	for class, e := range q.heads {
		w.deleteHead(headKey{q.part, class, e.seq, q.id, e})
		w.insertHead(headKey{part, class, e.seq, q.id, e})
	}
	q.part = part
}

// add queues boxed (an ActivityExecuteItem the queue owns) visible at
// visibleAt.
func (w *workerQueue) add(seq uint64, boxed duroxide.WorkItem, visibleAt, now int64) {
	item := boxed.(duroxide.ActivityExecuteItem)
	e := &workEntry{seq: seq, item: item, boxed: boxed, class: tagClass(item.Tag), visibleAt: visibleAt}
	w.count++
	ii := w.byInstance[item.Instance]
	if ii == nil {
		ii = &instItems{}
		w.byInstance[item.Instance] = ii
	}
	e.owner = ii
	if ii.head != nil {
		e.instNext, ii.head.instPrev = ii.head, e
	}
	ii.head = e
	ii.n++
	switch {
	case ii.acts != nil:
		ii.linkActivity(e)
	case ii.n > actsIndexAbove:
		ii.acts = make(map[activityKey]*workEntry, ii.n)
		for x := ii.head; x != nil; x = x.instNext {
			ii.linkActivity(x)
		}
	}
	if item.SessionID != nil {
		e.session = *item.SessionID
		q := w.queues[e.session]
		if q == nil {
			q = &sessQueue{id: e.session, heads: make(map[string]*workEntry)}
			if r := w.rows[e.session]; r != nil && r.until > now {
				q.part = r.owner
			}
			if w.queues == nil {
				w.queues = make(map[string]*sessQueue)
			}
			w.queues[e.session] = q
		}
		q.refs++
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
	w.count--
	if e.token != "" {
		w.tokens.del(e.token)
	}
	ii := e.owner
	if ii.acts != nil {
		ii.unlinkActivity(e)
	}
	if e.instPrev != nil {
		e.instPrev.instNext = e.instNext
	} else {
		ii.head = e.instNext
	}
	if e.instNext != nil {
		e.instNext.instPrev = e.instPrev
	}
	if ii.n--; ii.n == 0 {
		delete(w.byInstance, e.item.Instance)
	}
	e.owner, e.instPrev, e.instNext = nil, nil, nil
	if e.session != "" {
		if q := w.queues[e.session]; q != nil {
			if q.refs--; q.refs == 0 {
				delete(w.queues, e.session)
			}
		}
	}
}

// lease gives session id to owner until until (claim or refresh), with
// activity at now.
func (w *workerQueue) lease(id, owner string, until, now int64) {
	r := w.rows[id]
	if r == nil {
		r = &session{id: id}
		if w.rows == nil {
			w.rows = make(map[string]*session)
		}
		w.rows[id] = r
	}
	if r.leased {
		w.leases.Delete(r)
	}
	if r.owner != owner {
		if set := w.byOwner[r.owner]; set != nil {
			delete(set, r)
			if len(set) == 0 {
				delete(w.byOwner, r.owner)
			}
		}
		if w.byOwner == nil {
			w.byOwner = make(map[string]map[*session]struct{})
		}
		if w.byOwner[owner] == nil {
			w.byOwner[owner] = make(map[*session]struct{})
		}
		w.byOwner[owner][r] = struct{}{}
		r.owner = owner
	}
	r.until, r.lastActivity = until, now
	r.leased = until > now
	if r.leased {
		made(&w.leases, leaseLess, sessionFree).ReplaceOrInsert(r)
		w.setPart(w.queues[id], owner)
	} else {
		w.setPart(w.queues[id], "")
	}
}

// extendLease moves an active lease's expiry. A lease that promotion took
// out of the index (seen expired before the clock stepped back) gets its
// owner's partition back too.
func (w *workerQueue) extendLease(r *session, until int64) {
	if r.leased {
		w.leases.Delete(r)
	} else {
		w.setPart(w.queues[r.id], r.owner)
	}
	r.until = until
	r.leased = true
	made(&w.leases, leaseLess, sessionFree).ReplaceOrInsert(r)
}

// unexpire re-locks every ready item whose token's lock has not expired by
// now, and re-activates every lease that has not, with its owner's
// partition: the state before an earlier reading, later than now, saw them
// expire. O(items + sessions); see Provider.unexpire.
func (w *workerQueue) unexpire(now int64) {
	var relock []*workEntry
	collect := func(e *workEntry) bool {
		if e.token != "" && e.until > now {
			relock = append(relock, e)
		}
		return true
	}
	w.plainAll.Ascend(collect)
	w.sessItems.Ascend(collect)
	for _, e := range relock {
		w.unindex(e)
		e.state = workLocked
		w.locks.ReplaceOrInsert(e)
	}
	for _, r := range w.rows {
		if !r.leased && r.until > now {
			w.extendLease(r, r.until)
		}
	}
}

// dropRow deletes a session row.
func (w *workerQueue) dropRow(r *session) {
	if r.leased {
		w.leases.Delete(r)
	}
	if set := w.byOwner[r.owner]; set != nil {
		delete(set, r)
		if len(set) == 0 {
			delete(w.byOwner, r.owner)
		}
	}
	delete(w.rows, r.id)
}

// promote makes due items visible, expired locks reclaimable and expired
// leases' sessions claimable.
func (w *workerQueue) promote(now int64) {
	for {
		r, ok := w.leases.Min()
		if !ok || r.until > now {
			break
		}
		w.leases.DeleteMin()
		r.leased = false
		w.setPart(w.queues[r.id], "")
	}
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

// nextWake is the earliest instant an item becomes visible, a lock expires
// or a lease lapses.
func (w *workerQueue) nextWake() int64 {
	wake := int64(1<<63 - 1)
	if e, ok := w.future.Min(); ok {
		wake = min(wake, e.visibleAt)
	}
	if e, ok := w.locks.Min(); ok {
		wake = min(wake, e.until)
	}
	if r, ok := w.leases.Min(); ok {
		wake = min(wake, r.until)
	}
	return wake
}

// checkWorkerItem validates a worker-queue item and returns the problem
// (without operation prefix).
func checkWorkerItem(item duroxide.WorkItem) error {
	if err := duroxide.ValidateWorkItem(item); err != nil {
		return err
	}
	a, ok := item.(duroxide.ActivityExecuteItem)
	if !ok {
		return fmt.Errorf("%s belongs to the orchestrator queue (the worker queue takes only ActivityExecute)", item.Variant())
	}
	if a.Instance == "" {
		return errors.New("ActivityExecute has an empty instance id")
	}
	if a.SessionID != nil && *a.SessionID == "" {
		return errors.New("ActivityExecute has an empty session id")
	}
	return nil
}

// EnqueueForWorker implements [duroxide.Provider]. O(log n).
func (p *Provider) EnqueueForWorker(ctx context.Context, item duroxide.WorkItem) error {
	const op = "enqueue_for_worker"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	if err := checkWorkerItem(item); err != nil {
		return invalidArg(op, "item", err)
	}
	c := duroxide.CloneWorkItem(item)
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
		p.worker.add(p.nextSeq(), duroxide.CloneWorkItem(w), now, now)
	}
	for _, c := range a.CancelledActivities {
		if ii := p.worker.byInstance[c.Instance]; ii != nil {
			p.worker.removeActivity(ii, activityKey{c.ExecutionID, c.ActivityID})
		}
	}
}

// removeActivity deletes ii's items with identity k: O(log n) each with
// ii's identity index, else a walk of at most actsIndexAbove items.
func (w *workerQueue) removeActivity(ii *instItems, k activityKey) {
	if ii.acts != nil {
		for e := ii.acts[k]; e != nil; e = ii.acts[k] {
			w.remove(e)
		}
		return
	}
	for e := ii.head; e != nil; {
		next := e.instNext
		if e.activity() == k {
			w.remove(e)
		}
		e = next
	}
}

// FetchWorkItem implements [duroxide.Provider]. O(log n) per accepted tag
// class; sessions other owners hold are never visited.
func (p *Provider) FetchWorkItem(ctx context.Context, lockTimeout, pollTimeout time.Duration, sess *duroxide.SessionFetchConfig, filter duroxide.TagFilter) (*duroxide.LockedWorkItem, error) {
	const op = "fetch_work_item"
	if err := checkCtx(ctx, op); err != nil {
		return nil, err
	}
	if lockTimeout <= 0 {
		return nil, invalid(op, "lock timeout must be positive, got %v", lockTimeout)
	}
	if err := checkDuration(op, "poll timeout", pollTimeout); err != nil {
		return nil, err
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
	if filter.Kind() == duroxide.TagNone {
		return nil, nil
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
	best := w.firstPlain(classes)
	if cfg != nil {
		for _, part := range []string{"", cfg.OwnerID} {
			if c := w.firstSession(part, classes); c != nil && (best == nil || c.seq < best.seq) {
				best = c
			}
		}
	}
	if best == nil {
		return nil
	}
	w.unindex(best)
	if best.token != "" {
		w.tokens.del(best.token)
	}
	best.token = p.newToken()
	best.until = addNs(now, lockTimeout)
	best.attempts++
	best.state = workLocked
	w.locks.ReplaceOrInsert(best)
	w.tokens.put(best.token, p.tokens, best)
	p.wakeAt(best.until)
	if best.session != "" {
		until := addNs(now, cfg.LockTimeout)
		w.lease(best.session, cfg.OwnerID, until, now)
		p.wakeAt(until)
	}
	return &duroxide.LockedWorkItem{
		Item:         duroxide.CloneWorkItem(best.boxed),
		LockToken:    best.token,
		AttemptCount: best.attempts,
	}
}

// untaggedOnly is DefaultOnly's class list; shared, never modified.
var untaggedOnly = []string{""}

// filterClasses returns the tag classes a filter accepts, or nil for Any.
// The result is read-only.
func filterClasses(f duroxide.TagFilter) []string {
	switch f.Kind() {
	case duroxide.TagAny:
		return nil
	case duroxide.TagDefaultOnly:
		return untaggedOnly
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

// firstPlain returns the oldest ready item without session in classes (nil:
// any class). O(log n) per class.
func (w *workerQueue) firstPlain(classes []string) *workEntry {
	if classes == nil {
		e, _ := w.plainAll.Min()
		return e
	}
	var best *workEntry
	for _, c := range classes {
		if t := w.classIndex(c, false); t != nil {
			if e, ok := t.Min(); ok && (best == nil || e.seq < best.seq) {
				best = e
			}
		}
	}
	return best
}

// firstSession returns the oldest ready session item whose session is in
// partition part, in classes (nil: any class). O(log n) per class.
func (w *workerQueue) firstSession(part string, classes []string) *workEntry {
	if w.partHeads[part] == 0 {
		return nil // no ready session item in part: no descent
	}
	var best *workEntry
	if classes == nil {
		w.headsAll.AscendGreaterOrEqual(headKey{part: part}, func(k headKey) bool {
			if k.part == part {
				best = k.e
			}
			return false
		})
		return best
	}
	for _, c := range classes {
		w.heads.AscendGreaterOrEqual(headKey{part: part, class: c}, func(k headKey) bool {
			if k.part == part && k.class == c && (best == nil || k.seq < best.seq) {
				best = k.e
			}
			return false
		})
	}
	return best
}

// heldWork returns the entry locked by token with an unexpired lock.
func (p *Provider) heldWork(op, token string, now int64) (*workEntry, error) {
	e, _ := p.worker.tokens.get(token)
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
	if e.session != "" {
		if r := p.worker.rows[e.session]; r != nil && r.until > now {
			r.lastActivity = now
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
		if err := duroxide.ValidateWorkItem(completion); err != nil {
			return invalidArg(op, "completion", err)
		}
		switch c := completion.(type) {
		case duroxide.ActivityCompletedItem:
			target = c.Instance
		case duroxide.ActivityFailedItem:
			target = c.Instance
		default:
			return invalidArg(op, "completion", fmt.Errorf("%s is not a completion (want ActivityCompleted or ActivityFailed)", completion.Variant()))
		}
		if target == "" {
			return invalidArg(op, "completion", fmt.Errorf("%s has an empty instance id", completion.Variant()))
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
	p.wakeAt(e.until) // a shorter lock frees the item earlier
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
	e, _ := p.worker.tokens.get(lockToken)
	if e == nil {
		return duroxide.Permanent(op, duroxide.ErrInvalidLockToken, "Invalid lock token %q: not held (already acked, abandoned, re-fetched or deleted)", lockToken)
	}
	now := p.now()
	p.worker.unindex(e)
	p.worker.tokens.del(lockToken)
	e.token = ""
	e.until = 0
	if ignoreAttempt && e.attempts > 0 {
		e.attempts--
	}
	e.visibleAt = addNs(now, delay)
	if delay > 0 {
		e.state = workFuture
		p.worker.future.ReplaceOrInsert(e)
		p.wakeAt(e.visibleAt)
	} else {
		p.worker.setReady(e)
		p.signal()
	}
	return nil
}

// RenewSessionLock implements [duroxide.Provider]. O(sessions of ownerIDs).
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
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	cutoff := subNs(now, idleTimeout)
	n := 0
	seen := make(map[string]bool, len(ownerIDs))
	for _, owner := range ownerIDs {
		if seen[owner] {
			continue
		}
		seen[owner] = true
		for r := range p.worker.byOwner[owner] {
			if r.until > now && r.lastActivity > cutoff {
				until := addNs(now, extendFor)
				p.worker.extendLease(r, until)
				p.wakeAt(until) // a shorter lease frees the session earlier
				n++
			}
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
	for id, r := range p.worker.rows {
		if r.until < now && p.worker.queues[id] == nil {
			p.worker.dropRow(r)
			n++
		}
	}
	return n, nil
}
