package pgprovider

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/duroxide-go/duroxide"
)

// Read implements [duroxide.Provider]: the history of the highest execution
// with a record (1 when none).
func (p *Provider) Read(ctx context.Context, instance string) ([]duroxide.Event, error) {
	const op = "read"
	if err := checkInstance(ctx, op, instance); err != nil {
		return nil, err
	}
	return p.readEvents(ctx, op, instance, 0)
}

// ReadWithExecution implements [duroxide.Provider].
func (p *Provider) ReadWithExecution(ctx context.Context, instance string, executionID uint64) ([]duroxide.Event, error) {
	const op = "read_with_execution"
	if err := checkInstance(ctx, op, instance); err != nil {
		return nil, err
	}
	if executionID == 0 {
		return nil, invalid(op, "execution_id must not be 0")
	}
	if executionID > maxID {
		return []duroxide.Event{}, nil
	}
	return p.readEvents(ctx, op, instance, executionID)
}

// readEvents reads one execution's history (0: the latest), in one
// statement.
func (p *Provider) readEvents(ctx context.Context, op, instance string, executionID uint64) ([]duroxide.Event, error) {
	var out []duroxide.Event
	err := p.read(ctx, op, func(tx *txn, _ any) error {
		var rows pgx.Rows
		if executionID == 0 {
			rows, _ = tx.Query(ctx, p.sql.ReadLatest, instance)
		} else {
			rows, _ = tx.Query(ctx, p.sql.ReadExecution, instance, int64(executionID))
		}
		stored, err := pgx.CollectRows(rows, scanStoredEvent)
		if err != nil {
			return err
		}
		events, herr := decodeEvents(stored, instance, executionID)
		if herr != "" {
			return duroxide.Permanent(op, duroxide.ErrCorruptData, "%s", herr)
		}
		out = events
		return nil
	})
	return out, err
}

// AppendWithExecution implements [duroxide.Provider]. It creates the
// instance row (not an instance record) and inserts the events; a duplicate
// rolls everything back.
func (p *Provider) AppendWithExecution(ctx context.Context, instance string, executionID uint64, events []duroxide.Event) error {
	const op = "append_with_execution"
	if err := checkInstance(ctx, op, instance); err != nil {
		return err
	}
	if executionID == 0 {
		return invalid(op, "execution_id must not be 0")
	}
	if err := checkID(op, "execution_id", executionID); err != nil {
		return err
	}
	w, err := encodeAck(op, duroxide.OrchestrationAck{ExecutionID: executionID, HistoryDelta: events})
	if err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	return p.inTx(ctx, op, func(tx *txn, _ any) error {
		b := &pgx.Batch{}
		b.Queue(p.sql.EnsureInstance, instance)
		b.Queue(p.sql.InsertHistory, instance, int64(executionID), w.eventIDs, w.events)
		b.Queue(p.sql.Notify, p.channel)
		br := tx.Batch(ctx, b, true)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return err
		}
		if _, err := br.Exec(); err != nil {
			return duplicateEvent(op, err, executionID)
		}
		return br.Close()
	})
}

// GetCustomStatus implements [duroxide.Provider].
func (p *Provider) GetCustomStatus(ctx context.Context, instance string, lastSeenVersion uint64) (duroxide.CustomStatus, bool, error) {
	const op = "get_custom_status"
	if err := checkInstance(ctx, op, instance); err != nil {
		return duroxide.CustomStatus{}, false, err
	}
	var status *string
	var version int64
	err := p.read(ctx, op, func(tx *txn, _ any) error {
		err := tx.QueryRow(ctx, p.sql.CustomStatus, instance).Scan(&status, &version)
		if errors.Is(err, pgx.ErrNoRows) {
			version = 0
			return nil
		}
		return err
	})
	if err != nil || uint64(version) <= lastSeenVersion {
		return duroxide.CustomStatus{}, false, err
	}
	return duroxide.CustomStatus{Status: status, Version: uint64(version)}, true, nil
}

// GetKVValue implements [duroxide.Provider]: the current execution's writes
// over the merged store.
func (p *Provider) GetKVValue(ctx context.Context, instance, key string) (string, bool, error) {
	const op = "get_kv_value"
	if err := checkInstance(ctx, op, instance); err != nil {
		return "", false, err
	}
	var inDelta bool
	var delta, store *string
	err := p.read(ctx, op, func(tx *txn, _ any) error {
		return tx.QueryRow(ctx, p.sql.KvGet, instance, key).Scan(&inDelta, &delta, &store)
	})
	if err != nil {
		return "", false, err
	}
	v := store
	if inDelta {
		v = delta
	}
	if v == nil {
		return "", false, nil
	}
	return *v, true, nil
}

// GetKVAllValues implements [duroxide.Provider].
func (p *Provider) GetKVAllValues(ctx context.Context, instance string) (map[string]string, error) {
	const op = "get_kv_all_values"
	if err := checkInstance(ctx, op, instance); err != nil {
		return nil, err
	}
	out := make(map[string]string)
	err := p.read(ctx, op, func(tx *txn, _ any) error {
		clear(out)
		b := &pgx.Batch{}
		b.Queue(p.sql.KvAllStore, instance)
		b.Queue(p.sql.KvAllDelta, instance)
		br := tx.Batch(ctx, b, false)
		defer br.Close()
		var key string
		var value *string
		rows, _ := br.Query()
		if _, err := pgx.ForEachRow(rows, []any{&key, &value}, func() error {
			out[key] = *value
			return nil
		}); err != nil {
			return err
		}
		rows, _ = br.Query()
		if _, err := pgx.ForEachRow(rows, []any{&key, &value}, func() error {
			if value == nil {
				delete(out, key)
			} else {
				out[key] = *value
			}
			return nil
		}); err != nil {
			return err
		}
		return br.Close()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
