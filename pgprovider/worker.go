package pgprovider

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duroxide-go/duroxide"
)

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

// EnqueueForWorker implements [duroxide.Provider]: one statement.
func (p *Provider) EnqueueForWorker(ctx context.Context, item duroxide.WorkItem) error {
	const op = "enqueue_for_worker"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	if err := checkWorkerItem(op, item); err != nil {
		return err
	}
	a := item.(duroxide.ActivityExecuteItem)
	if err := checkID(op, "execution_id", a.ExecutionID); err != nil {
		return err
	}
	if err := checkID(op, "activity id", a.ID); err != nil {
		return err
	}
	b, err := duroxide.MarshalWorkItem(a)
	if err != nil {
		return invalid(op, "%v", err)
	}
	return p.autocommit(ctx, op, func(tx *txn, now any) error {
		_, err := tx.Exec(ctx, p.sql.EnqueueWorker, a.Instance, int64(a.ExecutionID), int64(a.ID),
			a.SessionID, a.Tag, string(b), p.channel)
		return err
	})
}

// tagArgs returns the candidate query's tag filter kind (0 untagged only, 1
// tags, 2 untagged and tags, 3 any) and tags.
func tagArgs(f duroxide.TagFilter) (int32, []string) {
	switch f.Kind() {
	case duroxide.TagDefaultOnly:
		return 0, []string{}
	case duroxide.TagTags:
		return 1, slices.Clone(f.Tags())
	case duroxide.TagDefaultAnd:
		return 2, slices.Clone(f.Tags())
	}
	return 3, []string{}
}

// FetchWorkItem implements [duroxide.Provider]. One transaction per
// attempt: the candidate query locks the oldest eligible worker row,
// skipping rows other fetches hold; for a session item the session is then
// claimed or refreshed, and a fetch that loses that race to another owner
// moves on to the next candidate.
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
	var owner *string
	var lease time.Duration
	if sess != nil {
		if sess.OwnerID == "" {
			return nil, invalid(op, "session owner id is empty")
		}
		if err := checkDuration(op, "session lock timeout", sess.LockTimeout); err != nil {
			return nil, err
		}
		o := sess.OwnerID
		owner, lease = &o, sess.LockTimeout
	}
	if filter.Kind() == duroxide.TagNone {
		return nil, nil
	}
	kind, tags := tagArgs(filter)
	var out *duroxide.LockedWorkItem
	err := p.poll(ctx, op, pollTimeout, func() (pollResult, error) {
		var r pollResult
		err := p.serialFetch(ctx, op, &p.workFetch, p.sql.LockWorkWait, func() error {
			return p.inTx(ctx, op, func(tx *txn, now any) error {
				out, r = nil, pollResult{wakeUs: -1, now: nowTime(now)}
				item, err := p.tryFetchWork(ctx, tx, now, lockTimeout, owner, lease, kind, tags)
				if err != nil || item != nil {
					out, r.found = item, item != nil
					return err
				}
				if pollTimeout > 0 && p.longPoll {
					r.wakeUs, err = wakeAndCommit(ctx, tx, p.sql.WorkWake, now)
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

// tryFetchWork is one worker fetch attempt inside tx.
func (p *Provider) tryFetchWork(ctx context.Context, tx *txn, now any, lockTimeout time.Duration, owner *string, lease time.Duration, kind int32, tags []string) (*duroxide.LockedWorkItem, error) {
	skipped := []int64{}
	for stale := 0; ; {
		var id int64
		var session *string
		err := tx.QueryRow(ctx, p.sql.FetchWorkCandidate, now, owner, skipped, kind, tags).Scan(&id, &session)
		if errors.Is(err, pgx.ErrNoRows) && p.clock != nil {
			return nil, checkOldest(ctx, p, tx, p.sql.WorkOldest, int64(0), now, owner, skipped, kind, tags)
		}
		if errors.Is(err, pgx.ErrNoRows) {
			// The snapshot may have been stale by the time rows were locked.
			var more bool
			if stale < maxStaleRetries {
				if err := tx.QueryRow(ctx, p.sql.WorkExists, now, owner, skipped, kind, tags).Scan(&more); err != nil {
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
		if err := checkOldest(ctx, p, tx, p.sql.WorkOldest, id, now, owner, skipped, kind, tags); err != nil {
			return nil, err
		}
		if session != nil {
			var one int
			err := tx.QueryRow(ctx, p.sql.ClaimSession, now, *session, *owner, us(lease)).Scan(&one)
			if errors.Is(err, pgx.ErrNoRows) {
				skipped = append(skipped, id) // another owner claimed the session first
				continue
			}
			if err != nil {
				return nil, err
			}
		}
		token := p.newToken()
		var text string
		var attempts int32
		b := &pgx.Batch{}
		b.Queue(p.sql.LockWork, now, id, token, us(lockTimeout))
		br := tx.Batch(ctx, b, true)
		err = br.QueryRow().Scan(&text, &attempts)
		if cerr := br.Close(); err == nil {
			err = cerr // commits
		}
		if err != nil {
			return nil, err
		}
		item, err := duroxide.UnmarshalWorkItem([]byte(text))
		if err != nil {
			return nil, duroxide.Permanent("fetch_work_item", duroxide.ErrCorruptData, "worker item %d is not decodable: %v", id, err)
		}
		return &duroxide.LockedWorkItem{Item: item, LockToken: token, AttemptCount: uint32(attempts)}, nil
	}
}

// AckWorkItem implements [duroxide.Provider]. One transaction: the
// completion's instance row is created first (lock order), then the worker
// row is locked by token, the session touched, the row deleted and the
// completion queued.
func (p *Provider) AckWorkItem(ctx context.Context, lockToken string, completion duroxide.WorkItem) error {
	const op = "ack_work_item"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	var target, text string
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
		b, err := duroxide.MarshalWorkItem(completion)
		if err != nil {
			return invalid(op, "%v", err)
		}
		text = string(b)
	}
	return p.inTx(ctx, op, func(tx *txn, now any) error {
		var id int64
		var session *string
		first := &pgx.Batch{}
		if completion != nil {
			first.Queue(p.sql.EnsureInstance, target) // lock order: instance rows first
		}
		first.Queue(p.sql.WorkLock, now, lockToken)
		br := tx.Batch(ctx, first, false)
		var err error
		if completion != nil {
			_, err = br.Exec()
		}
		if err == nil {
			err = br.QueryRow().Scan(&id, &session)
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if errors.Is(err, pgx.ErrNoRows) {
			var expired bool
			err = tx.QueryRow(ctx, p.sql.WorkTokenState, now, lockToken).Scan(&expired)
			if errors.Is(err, pgx.ErrNoRows) {
				return duroxide.Permanent(op, duroxide.ErrInvalidLockToken, "Invalid lock token %q: the work item was cancelled, deleted, acked or re-fetched", lockToken)
			}
			if err != nil {
				return err
			}
			return duroxide.Permanent(op, duroxide.ErrLockExpired, "work item lock expired (token %q)", lockToken)
		}
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		if session != nil {
			b.Queue(p.sql.WorkTouchSession, now, *session)
		}
		b.Queue(p.sql.WorkDelete, id)
		if completion != nil {
			b.Queue(p.sql.OrderLock) // last, held until the commit that follows
			b.Queue(p.sql.InsertOrchItems, []string{target}, []string{completion.Variant()}, []string{text}, []*int64{nil})
			b.Queue(p.sql.Notify, p.channel)
		}
		return tx.Batch(ctx, b, true).Close()
	})
}

// RenewWorkItemLock implements [duroxide.Provider].
func (p *Provider) RenewWorkItemLock(ctx context.Context, lockToken string, extendFor time.Duration) error {
	const op = "renew_work_item_lock"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	if err := checkDuration(op, "extend_for", extendFor); err != nil {
		return err
	}
	return p.inTx(ctx, op, func(tx *txn, now any) error {
		var session *string
		var shortened bool
		err := tx.QueryRow(ctx, p.sql.RenewWork, now, lockToken, us(extendFor)).Scan(&session, &shortened)
		if err == nil {
			if session != nil {
				_, err = tx.Exec(ctx, p.sql.WorkTouchSession, now, *session)
			}
			if err == nil && shortened {
				// The item may be fetchable before a waiting long poll
				// planned to look again.
				_, err = tx.Exec(ctx, p.sql.Notify, p.channel)
			}
			return err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var expired bool
		err = tx.QueryRow(ctx, p.sql.WorkTokenState, now, lockToken).Scan(&expired)
		if errors.Is(err, pgx.ErrNoRows) {
			return duroxide.Permanent(op, duroxide.ErrInvalidLockToken, "Invalid lock token %q: the work item was cancelled, deleted, acked or re-fetched", lockToken)
		}
		if err != nil {
			return err
		}
		return duroxide.Permanent(op, duroxide.ErrLockExpired, "work item lock expired (token %q)", lockToken)
	})
}

// AbandonWorkItem implements [duroxide.Provider]. The lock may have
// expired; the item must not have been re-fetched.
func (p *Provider) AbandonWorkItem(ctx context.Context, lockToken string, delay time.Duration, ignoreAttempt bool) error {
	const op = "abandon_work_item"
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	if err := checkDuration(op, "delay", delay); err != nil {
		return err
	}
	return p.inTx(ctx, op, func(tx *txn, now any) error {
		var id int64
		err := tx.QueryRow(ctx, p.sql.AbandonWork, now, lockToken, ignoreAttempt, us(delay)).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return duroxide.Permanent(op, duroxide.ErrInvalidLockToken, "Invalid lock token %q: not held (already acked, abandoned, re-fetched or deleted)", lockToken)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, p.sql.Notify, p.channel)
		return err
	})
}

// RenewSessionLock implements [duroxide.Provider].
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
	owners := slices.Clone(ownerIDs)
	var n int
	err := p.autocommit(ctx, op, func(tx *txn, now any) error {
		rows, err := tx.Query(ctx, p.sql.RenewSessions, now, owners, us(extendFor), us(idleTimeout))
		if err != nil {
			return err
		}
		shortened := false
		n = 0
		for rows.Next() {
			var s bool
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return err
			}
			n++
			shortened = shortened || s
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if shortened {
			// Another owner's long poll may take the session's items
			// before it planned to look again.
			_, err = tx.Exec(ctx, p.sql.Notify, p.channel)
		}
		return err
	})
	return n, err
}

// CleanupOrphanedSessions implements [duroxide.Provider]: it deletes
// sessions whose lease ended strictly before now and that no worker item
// references. idleTimeout is validated but unused, as in duroxide.
func (p *Provider) CleanupOrphanedSessions(ctx context.Context, idleTimeout time.Duration) (int, error) {
	const op = "cleanup_orphaned_sessions"
	if err := checkCtx(ctx, op); err != nil {
		return 0, err
	}
	if err := checkDuration(op, "idle timeout", idleTimeout); err != nil {
		return 0, err
	}
	var n int
	err := p.autocommit(ctx, op, func(tx *txn, now any) error {
		tag, err := tx.Exec(ctx, p.sql.CleanupSessions, now)
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}
