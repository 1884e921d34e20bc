// Package pgprovider is a durable implementation of the duroxide provider
// contract ([duroxide.Provider] and [duroxide.ProviderAdmin]) on PostgreSQL,
// through a caller-owned [github.com/jackc/pgx/v5/pgxpool.Pool].
//
// # What it is
//
// A provider for runtimes that share one database across processes and
// machines. All state lives in one schema (see [WithSchema]), created and
// upgraded by embedded, versioned migrations ([Migrate], run by [New]).
// Every method is plain SQL sent from Go (no stored procedures); events and
// work items are stored as duroxide's own JSON text, readable by any
// duroxide tool. It mirrors package memprovider's structure (orchestrator,
// worker, history and admin files) so one can be read against the other;
// where the contract leaves room, it makes memprovider's choices.
//
// # What it is not
//
// It is not a cache, not a queue for other uses, and it does not own the
// pool: the caller creates, sizes and closes it. It does not vacuum; the
// queue tables see one insert and one delete per message, so leave
// autovacuum on.
//
// # Lock order
//
// Every transaction takes row locks in one order, so that no two can wait
// on each other in a cycle:
//
//  1. instance rows (table instances, one per instance id, which is also
//     the instance lock): a fetch locks its candidate's row with FOR UPDATE
//     SKIP LOCKED (it never waits); ack, abandon and renew lock it by token;
//     deletes and bulk operations lock several in id order; new instance
//     rows are inserted in id order; a worker ack inserts its completion's
//     instance row before anything else;
//  2. that instance's queue, execution, history and key/value rows, which
//     are only written by transactions holding its instance row (inserts of
//     new queue rows excepted: they conflict with nothing);
//  3. worker-queue rows (a fetch with SKIP LOCKED; acks, renewals and
//     abandons by token; cancellation and deletion by activity or
//     instance);
//  4. session rows;
//  5. the queue order lock (below), which a transaction takes last.
//
// # Queue order
//
// Queue rows are numbered by a sequence and delivered oldest first. Every
// transaction that inserts queue rows takes a per-schema advisory lock just
// before those inserts and holds it through its commit, so numbers follow
// commit order: a snapshot that sees a row sees every row numbered before
// it (PostgreSQL already serialises the commits of notifying transactions,
// which these all are, the same way). On the database's clock, fetches skip
// rows other transactions hold for a moment (SKIP LOCKED), so FIFO across
// instances and in the worker queue is best effort for a fetch that
// overlaps such a transaction. With [WithClock], fetches of one queue run
// one at a time and wait for the holder of the oldest eligible item instead
// of passing it by, so the store is linearizable (the property tests
// check it).
//
// Deadlocks (SQLSTATE 40P01), serialization failures (40001) and cached
// plans invalidated by a schema change (0A000) are retried internally and,
// if they persist, returned as retryable [duroxide.ErrUnavailable] errors.
//
// # Time
//
// By default the time is the database's now(), one per transaction, so that
// machines whose clocks disagree cannot steal each other's locks.
// [WithClock] passes the injected clock's time into every statement instead
// (tests on a fake clock). Times are stored as timestamptz (microseconds).
//
// # Long polling
//
// Writing transactions that may make work available call pg_notify on the
// schema's channel. Each Provider holds one extra connection that LISTENs on
// it (opened by the first long poll, closed by [Provider.Close]). A waiting
// fetch wakes on a notification, on a timer (on the injected clock) at the
// next instant a message becomes visible or a lock or session lease
// expires, or at its poll timeout. After the listening connection is lost,
// waiters re-poll every 100 ms and the listener reconnects; on reconnect
// every waiter re-polls once, since notifications sent meanwhile are lost.
//
// # Semantics worth knowing
//
//   - Head-of-line: an instance without a record or history whose visible
//     messages can neither start it nor be dropped as orphans is skipped
//     (neither locked nor counted); orphan QueueMessage batches are deleted
//     by the fetch that finds them, which moves on.
//   - A fetch that loses a race for an instance or a session moves on to
//     the next candidate; one whose candidate query comes back empty
//     re-checks in a fresh snapshot before reporting no work.
//   - Messages and items visible at once are stored with visible_at
//     '-infinity' (a transaction's now() precedes its snapshot).
//   - Capability filters accept an execution pinned in ANY of the ranges.
//   - An instance row is never deleted by a fetch (an enqueue does not lock
//     it, so deleting it could race a new message): an id whose orphan
//     batch was dropped keeps an empty row. Deletes remove it without
//     counting it as a deleted instance, as memprovider does.
//   - With [WithClock], a message that became visible hides again if the
//     clock steps back before its visibility time (memprovider keeps it
//     visible); lock and lease deadlines are absolute on both.
//   - Ids (execution, event, activity) must fit in a bigint.
//   - Bad input is a permanent [duroxide.ErrInvalidArgument] error and
//     changes nothing.
package pgprovider
