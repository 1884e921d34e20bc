package pgprovider

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duroxide-go/duroxide"
)

// EnqueueForOrchestrator implements [duroxide.Provider]: one statement that
// creates the instance row if missing, queues the message visible at
// now+delay and notifies long polls.
func (p *Provider) EnqueueForOrchestrator(ctx context.Context, item duroxide.WorkItem, delay time.Duration) error {
	const op = "enqueue_for_orchestrator"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	id, err := orchestratorRoute(op, item)
	if err != nil {
		return err
	}
	if err := checkDuration(op, "delay", delay); err != nil {
		return err
	}
	b, err := duroxide.MarshalWorkItem(item)
	if err != nil {
		return invalid(op, "%v", err)
	}
	return p.autocommit(ctx, op, func(tx *txn, now any) error {
		_, err := tx.Exec(ctx, p.sql.EnqueueOrch, now, id, item.Variant(), string(b), us(delay), p.channel)
		return err
	})
}

// orchestratorRoute validates an orchestrator-queue item and returns its
// routing instance.
func orchestratorRoute(op string, item duroxide.WorkItem) (string, error) {
	if item == nil {
		return "", invalid(op, "nil work item")
	}
	id, ok := duroxide.OrchestratorInstance(item)
	if !ok {
		return "", invalid(op, "Invalid work item type %s for the orchestrator queue (it belongs to the worker queue)", item.Variant())
	}
	if id == "" {
		return "", invalid(op, "%s has an empty instance id", item.Variant())
	}
	return id, nil
}

// rangeArgs flattens a capability filter's ranges into six arrays of
// decimal strings (min major, minor, patch, max major, minor, patch).
func rangeArgs(f *duroxide.DispatcherCapabilityFilter) [6][]string {
	var a [6][]string
	if f == nil {
		return a
	}
	for _, r := range f.SupportedDuroxideVersions {
		for i, v := range []uint64{r.Min.Major, r.Min.Minor, r.Min.Patch, r.Max.Major, r.Max.Minor, r.Max.Patch} {
			a[i] = append(a[i], strconv.FormatUint(v, 10))
		}
	}
	return a
}

// candidate is what the candidate query returns about an instance.
type candidate struct {
	id         string
	hasRecord  bool
	name       string
	version    string
	currentExe int64
	latestExe  int64
	startable  bool
	allQueue   bool
	head       int64   // its oldest visible message's id
	batch      []int64 // ids of its messages visible in the candidate query's snapshot
}

// FetchOrchestrationItem implements [duroxide.Provider]. One transaction
// per attempt: the candidate query locks the instance row of the oldest
// visible message whose instance is free (skipping rows other fetches
// hold), then the lock is written, the batch tagged and history and
// key/value store read.
func (p *Provider) FetchOrchestrationItem(ctx context.Context, lockTimeout, pollTimeout time.Duration, filter *duroxide.DispatcherCapabilityFilter) (*duroxide.LockedOrchestrationItem, error) {
	const op = "fetch_orchestration_item"
	if err := checkCtx(ctx, op); err != nil {
		return nil, err
	}
	if lockTimeout <= 0 {
		return nil, invalid(op, "lock timeout must be positive, got %v", lockTimeout)
	}
	if err := checkDuration(op, "poll timeout", pollTimeout); err != nil {
		return nil, err
	}
	if filter != nil && len(filter.SupportedDuroxideVersions) == 0 {
		// Matches nothing; wait out the poll like a fetch that finds no work.
		return nil, p.poll(ctx, op, pollTimeout, func() (pollResult, error) {
			return pollResult{wakeUs: -1, now: p.clockNow()}, nil
		})
	}
	ranges := rangeArgs(filter)
	var out *duroxide.LockedOrchestrationItem
	err := p.poll(ctx, op, pollTimeout, func() (pollResult, error) {
		var r pollResult
		err := p.serialFetch(ctx, op, &p.orchFetch, p.sql.LockInstanceWait, func() error {
			return p.inTx(ctx, op, func(tx *txn, now any) error {
				out, r = nil, pollResult{wakeUs: -1, now: nowTime(now)}
				item, err := p.tryFetchOrch(ctx, tx, now, lockTimeout, filter != nil, ranges)
				if err != nil || item != nil {
					out, r.found = item, item != nil
					return err
				}
				if pollTimeout > 0 && p.longPoll {
					r.wakeUs, err = wakeAndCommit(ctx, tx, p.sql.OrchWake, now)
				}
				return err
			})
		})
		return r, err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// clockNow is the injected clock's time, or the zero time.
func (p *Provider) clockNow() time.Time {
	if p.clock == nil {
		return time.Time{}
	}
	return p.clock.Now()
}

// nowTime converts a transaction's time parameter back to a time.
func nowTime(now any) time.Time {
	t, _ := now.(time.Time)
	return t
}

// scanWake reads a wake query's microseconds (-1 for never).
func scanWake(row pgx.Row) (int64, error) {
	var us *int64
	if err := row.Scan(&us); err != nil {
		return -1, err
	}
	if us == nil {
		return -1, nil
	}
	return max(*us, 0), nil
}

// wakeAndCommit runs a wake query and commits, in one round trip.
func wakeAndCommit(ctx context.Context, tx *txn, sql string, now any) (int64, error) {
	b := &pgx.Batch{}
	b.Queue(sql, now)
	br := tx.Batch(ctx, b, true)
	us, err := scanWake(br.QueryRow())
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return us, err
}

// maxStaleRetries bounds how often a fetch whose candidate query came back
// empty runs it again because a fresh snapshot shows candidates (rows
// committed after the first snapshot, while the rows it saw were taken).
const maxStaleRetries = 3

// tryFetchOrch is one fetch attempt inside tx.
func (p *Provider) tryFetchOrch(ctx context.Context, tx *txn, now any, lockTimeout time.Duration, filtered bool, ranges [6][]string) (*duroxide.LockedOrchestrationItem, error) {
	skipped := []string{}
	var dropped int64 // the head of the last orphan batch dropped (0: none)
	for stale := 0; ; {
		var c candidate
		err := tx.QueryRow(ctx, p.sql.FetchOrchCandidate, now, skipped, filtered,
			ranges[0], ranges[1], ranges[2], ranges[3], ranges[4], ranges[5]).
			Scan(&c.id, &c.hasRecord, &c.name, &c.version, &c.currentExe, &c.latestExe, &c.startable, &c.allQueue, &c.head, &c.batch)
		if errors.Is(err, pgx.ErrNoRows) && p.clock != nil {
			return nil, checkOldest(ctx, p, tx, p.sql.OrchOldest, "", now, skipped, filtered,
				ranges[0], ranges[1], ranges[2], ranges[3], ranges[4], ranges[5])
		}
		if errors.Is(err, pgx.ErrNoRows) {
			// The snapshot may have been stale by the time rows were locked.
			var more bool
			if stale < maxStaleRetries {
				if err := tx.QueryRow(ctx, p.sql.OrchExists, now, skipped, filtered,
					ranges[0], ranges[1], ranges[2], ranges[3], ranges[4], ranges[5]).Scan(&more); err != nil {
					return nil, err
				}
			}
			if !more {
				return nil, nil
			}
			stale++
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := checkOldest(ctx, p, tx, p.sql.OrchOldest, c.id, now, skipped, filtered,
			ranges[0], ranges[1], ranges[2], ranges[3], ranges[4], ranges[5]); err != nil {
			return nil, err
		}
		if c.head < dropped {
			// An instance older than orphans this attempt dropped became
			// eligible since (an ack unlocked it): at no single instant
			// were those orphans reached and this instance the next
			// candidate. Undo the drop and start again.
			return nil, errRestart
		}
		if !c.hasRecord && !c.startable {
			// Head-of-line: a batch that can neither start the instance nor
			// be dropped as orphans is skipped, neither locked nor counted.
			if c.allQueue {
				tag, err := tx.Exec(ctx, p.sql.DeleteVisible, now, c.id)
				if err != nil {
					return nil, err
				}
				if tag.RowsAffected() == 0 {
					// A message committed since the candidate query changed
					// the instance (say, a start): look at it again.
					continue
				}
				dropped = c.head
			}
			skipped = append(skipped, c.id)
			continue
		}
		return p.lockAndBuild(ctx, tx, now, c, lockTimeout)
	}
}

// lockAndBuild writes the lock on c (whose row tx holds), tags its visible
// messages as the batch and builds the item.
func (p *Provider) lockAndBuild(ctx context.Context, tx *txn, now any, c candidate, lockTimeout time.Duration) (*duroxide.LockedOrchestrationItem, error) {
	token := p.newToken()
	item := &duroxide.LockedOrchestrationItem{LockToken: token}
	item.Instance = c.id
	if c.hasRecord {
		item.OrchestrationName = c.name
		item.Version = c.version
		item.ExecutionID = uint64(c.currentExe)
	} else {
		item.ExecutionID = uint64(c.latestExe)
	}

	b := &pgx.Batch{}
	b.Queue(p.sql.LockInstance, now, c.id, token, us(lockTimeout))
	b.Queue(p.sql.TagBatch, now, c.id, token, c.batch)
	b.Queue(p.sql.ReadHistory, c.id, int64(item.ExecutionID))
	b.Queue(p.sql.ReadKVStore, c.id)
	br := tx.Batch(ctx, b, true)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	type msg struct {
		id       int64
		item     string
		attempts int32
	}
	rows, _ := br.Query()
	msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (msg, error) {
		var m msg
		err := r.Scan(&m.id, &m.item, &m.attempts)
		return m, err
	})
	if err != nil {
		return nil, err
	}
	rows, _ = br.Query()
	events, err := pgx.CollectRows(rows, scanStoredEvent)
	if err != nil {
		return nil, err
	}
	rows, _ = br.Query()
	kv := map[string]duroxide.KvEntry{}
	var key, value string
	var at int64
	if _, err := pgx.ForEachRow(rows, []any{&key, &value, &at}, func() error {
		kv[key] = duroxide.KvEntry{Value: value, LastUpdatedAtMs: uint64(max(at, 0))}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := br.Close(); err != nil { // commits
		return nil, err
	}

	slices.SortFunc(msgs, func(a, b msg) int { return cmp.Compare(a.id, b.id) })
	for _, m := range msgs {
		item.AttemptCount = max(item.AttemptCount, uint32(m.attempts))
		w, err := duroxide.UnmarshalWorkItem([]byte(m.item))
		if err != nil {
			continue // undecodable messages are left out of the batch (and deleted by its ack)
		}
		item.Messages = append(item.Messages, w)
	}
	if !c.hasRecord {
		fallbackIdentity(item)
	}
	history, herr := decodeEvents(events, c.id, item.ExecutionID)
	if herr != "" {
		item.History = []duroxide.Event{}
		item.HistoryError = herr
		item.KVSnapshot = map[string]duroxide.KvEntry{}
		return item, nil
	}
	item.History = history
	if !c.hasRecord {
		nameFromHistory(item)
	}
	if len(kv) > 0 {
		item.KVSnapshot = kv
	}
	return item, nil
}

// fallbackIdentity names an item of an instance without a record from the
// first start or continue-as-new message of the batch.
func fallbackIdentity(item *duroxide.LockedOrchestrationItem) {
	item.Version = duroxide.UnknownVersion
	for _, w := range item.Messages {
		switch v := w.(type) {
		case duroxide.StartOrchestrationItem:
			item.OrchestrationName = v.Orchestration
			if v.Version != nil {
				item.Version = *v.Version
			}
			return
		case duroxide.ContinueAsNewItem:
			item.OrchestrationName = v.Orchestration
			if v.Version != nil {
				item.Version = *v.Version
			}
			return
		}
	}
}

// nameFromHistory takes name and version from the history's first
// OrchestrationStarted, when there is one.
func nameFromHistory(item *duroxide.LockedOrchestrationItem) {
	for _, ev := range item.History {
		if s, ok := ev.Kind.(duroxide.OrchestrationStarted); ok {
			item.OrchestrationName = s.Name
			item.Version = s.Version
			return
		}
	}
}

// storedEvent is a history row before decoding.
type storedEvent struct {
	id   int64
	text string
}

func scanStoredEvent(r pgx.CollectableRow) (storedEvent, error) {
	var e storedEvent
	err := r.Scan(&e.id, &e.text)
	return e, err
}

// decodeEvents decodes history rows in order, or returns the text of the
// first that does not decode.
func decodeEvents(rows []storedEvent, instance string, executionID uint64) ([]duroxide.Event, string) {
	out := make([]duroxide.Event, len(rows))
	for i, r := range rows {
		if err := out[i].UnmarshalJSON([]byte(r.text)); err != nil {
			return nil, fmt.Sprintf(
				"Failed to deserialize history: event at position %d (event_id %d) of instance %s execution %d is not decodable: %v",
				i, r.id, instance, executionID, err)
		}
	}
	return out, ""
}

// AckOrchestrationItem implements [duroxide.Provider]. One transaction: it
// locks the instance row by token (a concurrent second ack waits, then finds
// the token gone), then applies every write in one pipelined batch. Any
// error rolls everything back and leaves the lock held.
func (p *Provider) AckOrchestrationItem(ctx context.Context, lockToken string, a duroxide.OrchestrationAck) error {
	const op = "ack_orchestration_item"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	if lockToken == "" {
		return duroxide.Permanent(op, duroxide.ErrInvalidLockToken, "Invalid lock token: empty token")
	}
	if a.ExecutionID == 0 {
		return invalid(op, "execution_id must not be 0")
	}
	if err := checkID(op, "execution_id", a.ExecutionID); err != nil {
		return err
	}
	w, err := encodeAck(op, a)
	if err != nil {
		return err
	}
	return p.inTx(ctx, op, func(tx *txn, now any) error {
		var instance string
		err := tx.QueryRow(ctx, p.sql.AckLock, now, lockToken).Scan(&instance)
		if errors.Is(err, pgx.ErrNoRows) {
			var expired bool
			err = tx.QueryRow(ctx, p.sql.OrchTokenState, now, lockToken).Scan(&instance, &expired)
			if errors.Is(err, pgx.ErrNoRows) {
				return duroxide.Permanent(op, duroxide.ErrInvalidLockToken, "Invalid lock token %q: not held (never issued, already acked or abandoned, superseded, or its instance was deleted)", lockToken)
			}
			if err != nil {
				return err
			}
			return duroxide.Permanent(op, duroxide.ErrLockExpired, "Instance lock expired for instance %q (token %q)", instance, lockToken)
		}
		if err != nil {
			return err
		}
		if afterAckLock != nil { // tests only (export_test.go)
			afterAckLock(ctx, tx.conn)
		}
		return p.applyAck(ctx, tx, now, op, instance, lockToken, a, w)
	})
}

// afterAckLock, when set, runs inside an ack's transaction after it locked
// the instance and before it writes anything. Only tests set it (from
// export_test.go), to break the connection mid-transaction; it is nil in
// every build of the package's users.
var afterAckLock func(ctx context.Context, conn *pgx.Conn)

// encodedAck is an ack's payload turned into statement arguments.
type encodedAck struct {
	eventIDs []int64
	events   []string
	csSet    bool
	cs       *string

	orchTargets []string // sorted, distinct
	orchInst    []string
	orchKind    []string
	orchItem    []string
	orchFire    []*int64

	wInst, wSess, wTag, wItem []*string
	wExec, wAct               []int64

	cInst       []string
	cExec, cAct []int64
}

// encodeAck validates an ack's input and encodes it.
func encodeAck(op string, a duroxide.OrchestrationAck) (*encodedAck, error) {
	w := &encodedAck{}
	seen := make(map[uint64]struct{}, len(a.HistoryDelta))
	for i, ev := range a.HistoryDelta {
		if ev.EventID == 0 {
			return nil, invalid(op, "event %d has event_id 0", i)
		}
		if ev.Kind == nil {
			return nil, invalid(op, "event %d (event_id %d) has no kind", i, ev.EventID)
		}
		if err := checkID(op, "event_id", ev.EventID); err != nil {
			return nil, err
		}
		if _, dup := seen[ev.EventID]; dup {
			return nil, duroxide.Permanent(op, duroxide.ErrDuplicateEvent, "Failed to append history: duplicate event_id %d in the appended events", ev.EventID)
		}
		seen[ev.EventID] = struct{}{}
		b, err := ev.MarshalJSON()
		if err != nil {
			return nil, invalid(op, "event %d (event_id %d): %v", i, ev.EventID, err)
		}
		w.eventIDs = append(w.eventIDs, int64(ev.EventID))
		w.events = append(w.events, string(b))
		if cs, ok := ev.Kind.(duroxide.CustomStatusUpdated); ok {
			w.csSet, w.cs = true, cs.Status
		}
	}
	for i, item := range a.WorkerItems {
		if err := checkWorkerItem(op, item); err != nil {
			return nil, invalid(op, "worker_items[%d]: %v", i, err)
		}
		act := item.(duroxide.ActivityExecuteItem)
		if err := checkID(op, "activity id", act.ID); err != nil {
			return nil, err
		}
		if err := checkID(op, "execution_id", act.ExecutionID); err != nil {
			return nil, err
		}
		b, err := duroxide.MarshalWorkItem(act)
		if err != nil {
			return nil, invalid(op, "worker_items[%d]: %v", i, err)
		}
		s := string(b)
		inst := act.Instance
		w.wInst = append(w.wInst, &inst)
		w.wExec = append(w.wExec, int64(act.ExecutionID))
		w.wAct = append(w.wAct, int64(act.ID))
		w.wSess = append(w.wSess, cloneStr(act.SessionID))
		w.wTag = append(w.wTag, cloneStr(act.Tag))
		w.wItem = append(w.wItem, &s)
	}
	for i, item := range a.OrchestratorItems {
		target, err := orchestratorRoute(op, item)
		if err != nil {
			return nil, invalid(op, "orchestrator_items[%d]: %v", i, err)
		}
		b, err := duroxide.MarshalWorkItem(item)
		if err != nil {
			return nil, invalid(op, "orchestrator_items[%d]: %v", i, err)
		}
		var fire *int64
		if t, ok := item.(duroxide.TimerFiredItem); ok {
			f := fireAt(t.FireAtMs)
			fire = &f
		}
		w.orchInst = append(w.orchInst, target)
		w.orchKind = append(w.orchKind, item.Variant())
		w.orchItem = append(w.orchItem, string(b))
		w.orchFire = append(w.orchFire, fire)
	}
	w.orchTargets = slices.Compact(slices.Sorted(slices.Values(w.orchInst)))
	for i, c := range a.CancelledActivities {
		if c.Instance == "" {
			return nil, invalid(op, "cancelled_activities[%d] has an empty instance id", i)
		}
		w.cInst = append(w.cInst, c.Instance)
		w.cExec = append(w.cExec, clampID(c.ExecutionID))
		w.cAct = append(w.cAct, clampID(c.ActivityID))
	}
	w.dropCancelled(a.CancelledActivities)
	return w, nil
}

// dropCancelled removes the worker items that the same ack cancels. The
// ack deletes cancelled activities before it inserts its worker items (the
// inserts come last, under the queue order lock), so an item scheduled and
// cancelled by one ack, which memprovider inserts and then deletes, is
// never inserted.
func (w *encodedAck) dropCancelled(cancelled []duroxide.ScheduledActivityIdentifier) {
	if len(cancelled) == 0 || len(w.wItem) == 0 {
		return
	}
	type key struct {
		inst      string
		exec, act int64
	}
	gone := make(map[key]struct{}, len(cancelled))
	for _, c := range cancelled {
		gone[key{c.Instance, clampID(c.ExecutionID), clampID(c.ActivityID)}] = struct{}{}
	}
	n := 0
	for i := range w.wItem {
		if _, ok := gone[key{*w.wInst[i], w.wExec[i], w.wAct[i]}]; ok {
			continue
		}
		w.wInst[n], w.wExec[n], w.wAct[n], w.wSess[n], w.wTag[n], w.wItem[n] = w.wInst[i], w.wExec[i], w.wAct[i], w.wSess[i], w.wTag[i], w.wItem[i]
		n++
	}
	w.wInst, w.wExec, w.wAct, w.wSess, w.wTag, w.wItem = w.wInst[:n], w.wExec[:n], w.wAct[:n], w.wSess[:n], w.wTag[:n], w.wItem[:n]
}

// clampID maps an id a bigint cannot hold to one no row has.
func clampID(id uint64) int64 {
	if id > maxID {
		return -1
	}
	return int64(id)
}

// applyAck queues every write of an ack in one batch, in lock order: the
// instance's own rows (already locked), new target instance rows in id
// order, then queue rows, then worker rows.
func (p *Provider) applyAck(ctx context.Context, tx *txn, now any, op, instance, token string, a duroxide.OrchestrationAck, w *encodedAck) error {
	md := a.Metadata
	named := md.OrchestrationName != nil && md.OrchestrationVersion != nil
	var name, version string
	if named {
		name, version = *md.OrchestrationName, *md.OrchestrationVersion
	}
	var status *string
	if md.Status != "" {
		s := string(md.Status)
		status = &s
	}
	var pin [3]*string
	if v := md.PinnedDuroxideVersion; v != nil {
		for i, n := range []uint64{v.Major, v.Minor, v.Patch} {
			s := strconv.FormatUint(n, 10)
			pin[i] = &s
		}
	}
	exec := int64(a.ExecutionID)

	b := &pgx.Batch{}
	if len(w.orchInst) > 0 {
		// Before this transaction updates its own instance row: a
		// concurrent ack inserting that id with ON CONFLICT DO NOTHING
		// would wait for an updated (not for a merely locked) row.
		b.Queue(p.sql.EnsureInstances, w.orchTargets)
	}
	b.Queue(p.sql.InsertHistory, instance, exec, w.eventIDs, w.events)
	b.Queue(p.sql.AckDeleteBatch, instance, token)
	b.Queue(p.sql.AckInstance, now, instance, named, name, version, md.ParentInstanceID, exec, w.csSet, w.cs)
	b.Queue(p.sql.AckExecution, now, instance, exec, status, md.Output, md.PinnedDuroxideVersion != nil, pin[0], pin[1], pin[2])
	for _, ev := range a.HistoryDelta {
		switch k := ev.Kind.(type) {
		case duroxide.KeyValueSet:
			b.Queue(p.sql.KvSet, instance, k.Key, k.Value, int64(min(k.LastUpdatedAtMs, math.MaxInt64)))
		case duroxide.KeyValueCleared:
			b.Queue(p.sql.KvClear, now, instance, k.Key)
		case duroxide.KeyValuesCleared:
			b.Queue(p.sql.KvClearAllDelta, now, instance)
			b.Queue(p.sql.KvClearAllStore, now, instance)
		}
	}
	if md.Status.IsTerminal() {
		b.Queue(p.sql.KvMergeDelete, instance)
		b.Queue(p.sql.KvMergeUpsert, instance)
		b.Queue(p.sql.KvMergeClear, instance)
	}
	if len(w.cInst) > 0 {
		b.Queue(p.sql.CancelActivities, w.cInst, w.cExec, w.cAct)
	}
	if len(w.orchInst) > 0 || len(w.wItem) > 0 {
		// Last: the queue order lock, held until the commit that follows.
		b.Queue(p.sql.OrderLock)
	}
	if len(w.orchInst) > 0 {
		b.Queue(p.sql.InsertOrchItems, w.orchInst, w.orchKind, w.orchItem, w.orchFire)
	}
	if len(w.wItem) > 0 {
		b.Queue(p.sql.InsertWorkerItems, w.wInst, w.wExec, w.wAct, w.wSess, w.wTag, w.wItem)
	}
	b.Queue(p.sql.Notify, p.channel)

	br := tx.Batch(ctx, b, true)
	defer br.Close()
	if len(w.orchInst) > 0 {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	if _, err := br.Exec(); err != nil {
		return duplicateEvent(op, err, a.ExecutionID)
	}
	return br.Close()
}

// AbandonOrchestrationItem implements [duroxide.Provider]: it clears the
// lock by token (expired or not), then delays and un-counts the instance's
// messages, in one transaction.
func (p *Provider) AbandonOrchestrationItem(ctx context.Context, lockToken string, delay time.Duration, ignoreAttempt bool) error {
	const op = "abandon_orchestration_item"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	if err := checkDuration(op, "delay", delay); err != nil {
		return err
	}
	return p.inTx(ctx, op, func(tx *txn, now any) error {
		var instance string
		err := tx.QueryRow(ctx, p.sql.AbandonOrch, lockToken).Scan(&instance)
		if errors.Is(err, pgx.ErrNoRows) {
			return duroxide.Permanent(op, duroxide.ErrInvalidLockToken, "Invalid lock token %q: not held", lockToken)
		}
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		if ignoreAttempt || delay > 0 {
			b.Queue(p.sql.AbandonOrchMsgs, now, instance, ignoreAttempt, us(delay))
		}
		b.Queue(p.sql.Notify, p.channel)
		return tx.Batch(ctx, b, true).Close()
	})
}

// RenewOrchestrationItemLock implements [duroxide.Provider].
func (p *Provider) RenewOrchestrationItemLock(ctx context.Context, lockToken string, extendFor time.Duration) error {
	const op = "renew_orchestration_item_lock"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	if err := checkDuration(op, "extend_for", extendFor); err != nil {
		return err
	}
	return p.autocommit(ctx, op, func(tx *txn, now any) error {
		var instance string
		var shortened bool
		err := tx.QueryRow(ctx, p.sql.RenewOrch, now, lockToken, us(extendFor)).Scan(&instance, &shortened)
		if err == nil && shortened {
			// The instance may be fetchable before a waiting long poll
			// planned to look again.
			_, err = tx.Exec(ctx, p.sql.Notify, p.channel)
		}
		if err == nil || !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var expired bool
		err = tx.QueryRow(ctx, p.sql.OrchTokenState, now, lockToken).Scan(&instance, &expired)
		if errors.Is(err, pgx.ErrNoRows) {
			return duroxide.Permanent(op, duroxide.ErrInvalidLockToken, "Invalid lock token %q: not held (already acked, abandoned or superseded)", lockToken)
		}
		if err != nil {
			return err
		}
		return duroxide.Permanent(op, duroxide.ErrLockExpired, "Instance lock expired for instance %q (token %q)", instance, lockToken)
	})
}
