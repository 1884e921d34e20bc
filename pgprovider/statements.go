package pgprovider

import (
	"reflect"
	"strconv"
	"strings"
)

// statements holds every SQL statement, with the schema filled in.
//
// A message or item visible at once is stored with visible_at '-infinity',
// not the time: a transaction's now() is its start, and its snapshot is
// taken later, so rows committed in between (stamped with their own, later
// now()) would otherwise look not yet visible to it. Delayed rows carry
// their time; being seen a few milliseconds late is harmless. In the
// templates, @s. is the quoted schema and a dot, @now the transaction's time
// (the injected clock's time passed as $1, or the database's now() when $1
// is NULL) and @nowms that time in Unix milliseconds. Durations are bigint
// microseconds.
//
// Lock order (see the package doc): an instance's row in instances, then
// that instance's queue, execution, history and key/value rows; new instance
// rows are inserted in sorted id order; worker rows before session rows;
// worker acks insert their target instance row before locking the worker
// row.
type statements struct {
	EnqueueOrch   string
	EnqueueWorker string
	OrderLock     string
	Notify        string

	FetchOrchCandidate string
	OrchExists         string
	OrchOldest         string
	LockInstanceWait   string
	DeleteVisible      string
	LockInstance       string
	TagBatch           string
	ReadHistory        string
	ReadKVStore        string
	OrchWake           string

	AckLock            string
	AckDeleteBatch     string
	AckInstance        string
	AckExecution       string
	InsertHistory      string
	KvSet              string
	KvClear            string
	KvClearAllDelta    string
	KvClearAllStore    string
	KvMergeDelete      string
	KvMergeUpsert      string
	KvMergeClear       string
	EnsureInstances    string
	InsertOrchItems    string
	InsertWorkerItems  string
	CancelActivities   string
	AbandonOrch        string
	AbandonOrchMsgs    string
	RenewOrch          string
	OrchTokenState     string
	FetchWorkCandidate string
	WorkExists         string
	WorkOldest         string
	LockWorkWait       string
	ClaimSession       string
	LockWork           string
	WorkWake           string
	WorkLock           string
	WorkTouchSession   string
	WorkDelete         string
	RenewWork          string
	WorkTokenState     string
	AbandonWork        string
	RenewSessions      string
	CleanupSessions    string

	EnsureInstance string
	ReadLatest     string
	ReadExecution  string
	CustomStatus   string
	KvGet          string
	KvAllStore     string
	KvAllDelta     string

	ListInstances        string
	ListInstancesByState string
	ListExecutions       string
	LatestExecution      string
	InstanceInfo         string
	ExecutionInfo        string
	SystemMetrics        string
	QueueDepths          string
	ListChildren         string
	ParentID             string
	Descendants          string
	LockInstancesSorted  string
	RunningAmong         string
	OrphanAmong          string
	CountHeldOf          string
	DeleteWorkerOf       string
	DeleteOrchOf         string
	DeleteHistoryOf      string
	DeleteExecutionsOf   string
	DeleteKVOf           string
	DeleteKVDeltaOf      string
	DeleteInstancesOf    string
	SelectInstances      string
	LockInstanceRow      string
	PruneCandidates      string
	PruneExecution       string

	CorruptHistory  string
	MaxAttemptCount string
}

const nowExpr = "COALESCE($1::timestamptz, now())"

// buildStatements fills the templates for schema (a valid schema name).
func buildStatements(schema string) statements {
	r := strings.NewReplacer(
		"@s.", quoteIdent(schema)+".",
		"@order", "pg_advisory_xact_lock("+strconv.Itoa(orderClass)+", hashtext('"+schema+"'))",
		"@nowms", "floor(extract(epoch FROM "+nowExpr+") * 1000)::bigint",
		"@now", nowExpr,
		"@us", "* interval '1 microsecond'",
	)
	var s statements
	t := reflect.ValueOf(templates)
	v := reflect.ValueOf(&s).Elem()
	for i := range t.NumField() {
		v.Field(i).SetString(r.Replace(t.Field(i).String()))
	}
	// Whether a candidate exists in a fresh snapshot, without locking: a
	// candidate query can come back empty because every row its snapshot
	// saw was taken or deleted before it could lock one, while rows
	// committed since wait.
	orch := orchCandidate(s.FetchOrchCandidate)
	work := strings.TrimSuffix(s.FetchWorkCandidate, workLocking)
	s.OrchExists = "SELECT EXISTS (" + orch + ")"
	s.WorkExists = "SELECT EXISTS (" + work + ")"
	// The oldest candidate, ignoring row locks (see Provider.serialFetch).
	s.OrchOldest = "SELECT o.id FROM (" + orch + ") o"
	s.WorkOldest = "SELECT o.id FROM (" + work + ") o"
	return s
}

// The locking clauses of the candidate queries.
const (
	orchLocking = "\nFOR UPDATE OF i SKIP LOCKED"
	workLocking = "\nFOR UPDATE OF w SKIP LOCKED"
)

// orchCandidate is the query inside FetchOrchCandidate's CTE, without its
// locking clause.
func orchCandidate(fetch string) string {
	start := strings.Index(fetch, "(") + 1
	end := strings.Index(fetch, orchLocking)
	return fetch[start:end]
}

// startable says whether an instance i without a record can be started:
// its latest execution has history, or a visible message starts it.
const startable = `(EXISTS (SELECT 1 FROM @s.history h WHERE h.instance_id = i.instance_id
      AND h.execution_id = COALESCE((SELECT max(e.execution_id) FROM @s.executions e WHERE e.instance_id = i.instance_id), 1))
    OR EXISTS (SELECT 1 FROM @s.orchestrator_queue m WHERE m.instance_id = i.instance_id AND m.visible_at <= @now
      AND m.kind IN ('StartOrchestration', 'ContinueAsNew')))`

// allQueue says whether every visible message of instance i is a
// QueueMessage (orphans, when i cannot be started).
const allQueue = `NOT EXISTS (SELECT 1 FROM @s.orchestrator_queue m WHERE m.instance_id = i.instance_id
      AND m.visible_at <= @now AND m.kind <> 'QueueMessage')`

// templates are the statements before the schema is filled in.
var templates = statements{
	// $1 now, $2 instance, $3 kind, $4 item, $5 delay, $6 channel. In
	// this order, which the references force (a data-modifying CTE nobody
	// reads runs after the main statement): the instance row if missing,
	// then the queue order lock, then the queue row, whose id is taken
	// under that lock (see OrderLock).
	EnqueueOrch: `WITH ins AS (INSERT INTO @s.instances (instance_id) VALUES ($2) ON CONFLICT DO NOTHING RETURNING 1),
o AS (SELECT @order FROM (SELECT count(*) FROM ins) c),
n AS (SELECT pg_notify($6, ''))
INSERT INTO @s.orchestrator_queue (instance_id, kind, item, visible_at)
SELECT $2, $3, $4, CASE WHEN $5::bigint > 0 THEN @now + $5::bigint @us ELSE '-infinity' END FROM o, n`,

	// $1 instance, $2 execution, $3 activity, $4 session, $5 tag, $6 item,
	// $7 channel. The id is taken under the queue order lock.
	EnqueueWorker: `WITH o AS (SELECT @order), n AS (SELECT pg_notify($7, ''))
INSERT INTO @s.worker_queue (instance_id, execution_id, activity_id, session_id, tag, item, visible_at)
SELECT $1, $2, $3, $4, $5, $6, '-infinity' FROM o, n`,

	// The queue order lock: a transaction-scoped advisory lock, one per
	// schema, that every transaction inserting queue rows takes just
	// before those inserts, as its last lock, and holds until its commit.
	// So queue ids (bigserial) are handed out in commit order, and a
	// snapshot that sees a queue row sees every row with a smaller id:
	// ordering by id is ordering by the instant each insert took effect.
	OrderLock: `SELECT @order`,

	// $1 channel.
	Notify: `SELECT pg_notify($1, '')`,

	// $1 now, $2 skipped instances, $3 filter on, $4..$9 range bounds
	// (min major, minor, patch, max major, minor, patch). The oldest visible
	// message of an instance that is unlocked (or whose lock expired) and
	// passes the capability filter; its instance row is locked, skipping
	// rows other fetches hold. Instances without a record are candidates
	// only when the batch can start them or is all QueueMessages (orphans,
	// which the fetch deletes); the others are skipped in SQL (head-of-line).
	// The last column is the batch: the ids of the chosen instance's visible
	// messages in this statement's snapshot (see TagBatch), gathered once,
	// for the chosen row only (the CTE), not for every candidate row.
	FetchOrchCandidate: `WITH c AS (SELECT i.instance_id AS id, i.has_record, COALESCE(i.name, ''), COALESCE(i.version, ''),
  COALESCE(i.current_execution_id, 0),
  COALESCE((SELECT max(e.execution_id) FROM @s.executions e WHERE e.instance_id = i.instance_id), 1),
  i.has_record OR ` + startable + `,
  NOT i.has_record AND ` + allQueue + `,
  q.id AS head
FROM @s.orchestrator_queue q
JOIN @s.instances i ON i.instance_id = q.instance_id
LEFT JOIN @s.executions x ON i.has_record AND x.instance_id = i.instance_id AND x.execution_id = i.current_execution_id
WHERE q.visible_at <= @now
  AND (i.lock_token IS NULL OR i.locked_until <= @now)
  AND i.instance_id <> ALL($2::text[])
  AND (i.has_record OR ` + startable + ` OR ` + allQueue + `)
  AND (NOT $3::boolean OR x.pinned_major IS NULL OR EXISTS (
    SELECT 1 FROM unnest($4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[], $8::numeric[], $9::numeric[]) r(a, b, c, d, e, f)
    WHERE (x.pinned_major, x.pinned_minor, x.pinned_patch) >= (r.a, r.b, r.c)
      AND (x.pinned_major, x.pinned_minor, x.pinned_patch) <= (r.d, r.e, r.f)))
ORDER BY q.id
LIMIT 1
FOR UPDATE OF i SKIP LOCKED)
SELECT c.*, ARRAY(SELECT b.id FROM @s.orchestrator_queue b WHERE b.instance_id = c.id AND b.visible_at <= @now)
FROM c`,

	// $1 instance: wait for whoever holds its row (see
	// Provider.serialFetch), then let go at once.
	LockInstanceWait: `SELECT 1 FROM @s.instances WHERE instance_id = $1 FOR UPDATE`,

	// $1 worker row id: likewise.
	LockWorkWait: `SELECT 1 FROM @s.worker_queue WHERE id = $1 FOR UPDATE`,

	// $1 now, $2 instance: drop an orphan batch (the caller holds the row).
	// The orphan test is repeated in the statement's own snapshot: enqueues
	// do not lock the instance row, and a message committed since the
	// candidate query (a start, an activity completion) must neither be
	// deleted nor let the QueueMessages go.
	DeleteVisible: `DELETE FROM @s.orchestrator_queue q USING @s.instances i
WHERE i.instance_id = $2 AND q.instance_id = i.instance_id AND q.visible_at <= @now AND q.kind = 'QueueMessage'
  AND NOT (i.has_record OR ` + startable + `) AND ` + allQueue,

	// $1 now, $2 instance, $3 token, $4 lock timeout.
	LockInstance: `UPDATE @s.instances SET lock_token = $3, locked_until = @now + $4::bigint @us WHERE instance_id = $2`,

	// $1 now, $2 instance, $3 token, $4 the batch: the ids the candidate
	// query saw visible. A message committed after that snapshot is left for
	// the next fetch: taking it would show this fetch a write (say another
	// ack's message) that committed after the snapshot in which it chose
	// the instance, and so passed over an older instance that write had
	// just unlocked; no linearization explains that.
	TagBatch: `UPDATE @s.orchestrator_queue SET batch = $3, attempts = attempts + 1
WHERE instance_id = $2 AND visible_at <= @now AND id = ANY($4::bigint[]) RETURNING id, item, attempts`,

	// $1 instance, $2 execution.
	ReadHistory: `SELECT event_id, event FROM @s.history WHERE instance_id = $1 AND execution_id = $2 ORDER BY event_id`,

	// $1 instance.
	ReadKVStore: `SELECT key, value, last_updated_ms FROM @s.kv WHERE instance_id = $1`,

	// $1 now: microseconds until a message becomes visible or a lock
	// expires; NULL for never.
	OrchWake: `SELECT (extract(epoch FROM least(
  (SELECT min(visible_at) FROM @s.orchestrator_queue WHERE visible_at > @now),
  (SELECT min(locked_until) FROM @s.instances WHERE lock_token IS NOT NULL AND locked_until > @now)
) - @now) * 1000000)::bigint`,

	// $1 now, $2 token: locks the row of a held, unexpired lock. A token
	// whose lock expired must not lock the row even briefly: a fetch would
	// skip the instance (SKIP LOCKED) although it is free to take.
	AckLock: `SELECT instance_id FROM @s.instances WHERE lock_token = $2 AND locked_until > @now FOR UPDATE`,

	// $1 instance, $2 token.
	AckDeleteBatch: `DELETE FROM @s.orchestrator_queue WHERE instance_id = $1 AND batch = $2`,

	// $1 now, $2 instance, $3 named, $4 name, $5 version, $6 parent, $7
	// execution, $8 custom status set, $9 custom status. Writes the
	// instance record and releases the lock.
	AckInstance: `UPDATE @s.instances SET
  has_record = has_record OR $3::boolean,
  name = CASE WHEN $3::boolean THEN $4::text ELSE name END,
  version = CASE WHEN $3::boolean THEN $5::text ELSE version END,
  parent_instance_id = CASE WHEN $3::boolean AND NOT has_record THEN $6::text ELSE parent_instance_id END,
  created_at = CASE WHEN $3::boolean AND NOT has_record THEN @now ELSE created_at END,
  created_seq = CASE WHEN $3::boolean AND NOT has_record THEN nextval('@s.record_seq') ELSE created_seq END,
  current_execution_id = CASE WHEN has_record THEN greatest(current_execution_id, $7::bigint)
    WHEN $3::boolean THEN $7::bigint ELSE current_execution_id END,
  updated_at = CASE WHEN has_record OR $3::boolean THEN @now ELSE updated_at END,
  custom_status = CASE WHEN (has_record OR $3::boolean) AND $8::boolean THEN $9::text ELSE custom_status END,
  custom_status_version = CASE WHEN (has_record OR $3::boolean) AND $8::boolean
    THEN custom_status_version + 1 ELSE custom_status_version END,
  lock_token = NULL, locked_until = NULL
WHERE instance_id = $2`,

	// $1 now, $2 instance, $3 execution, $4 status (NULL: none), $5 output,
	// $6 pinned set, $7..$9 pinned version.
	AckExecution: `INSERT INTO @s.executions AS x (instance_id, execution_id, status, output, started_at, completed_at,
  pinned_major, pinned_minor, pinned_patch)
VALUES ($2, $3, COALESCE($4::text, 'Running'), CASE WHEN $4::text IS NOT NULL THEN $5::text END, @now,
  CASE WHEN $4::text IS NOT NULL THEN @now END, $7::numeric, $8::numeric, $9::numeric)
ON CONFLICT (instance_id, execution_id) DO UPDATE SET
  status = COALESCE($4::text, x.status),
  output = CASE WHEN $4::text IS NOT NULL THEN $5::text ELSE x.output END,
  completed_at = CASE WHEN $4::text IS NOT NULL THEN @now ELSE x.completed_at END,
  pinned_major = CASE WHEN $6::boolean THEN $7::numeric ELSE x.pinned_major END,
  pinned_minor = CASE WHEN $6::boolean THEN $8::numeric ELSE x.pinned_minor END,
  pinned_patch = CASE WHEN $6::boolean THEN $9::numeric ELSE x.pinned_patch END`,

	// $1 instance, $2 execution, $3 event ids, $4 events. An existing event
	// id violates the primary key (history_pkey), which aborts the
	// transaction.
	InsertHistory: `INSERT INTO @s.history (instance_id, execution_id, event_id, event)
SELECT $1, $2, u.id, u.ev FROM unnest($3::bigint[], $4::text[]) u(id, ev)`,

	// $1 instance, $2 key, $3 value, $4 ms.
	KvSet: `INSERT INTO @s.kv_delta (instance_id, key, value, last_updated_ms) VALUES ($1, $2, $3, $4)
ON CONFLICT (instance_id, key) DO UPDATE SET value = EXCLUDED.value, last_updated_ms = EXCLUDED.last_updated_ms`,

	// $1 now, $2 instance, $3 key.
	KvClear: `INSERT INTO @s.kv_delta (instance_id, key, value, last_updated_ms) VALUES ($2, $3, NULL, @nowms)
ON CONFLICT (instance_id, key) DO UPDATE SET value = NULL, last_updated_ms = EXCLUDED.last_updated_ms`,

	// $1 now, $2 instance.
	KvClearAllDelta: `UPDATE @s.kv_delta SET value = NULL, last_updated_ms = @nowms WHERE instance_id = $2`,

	// $1 now, $2 instance.
	KvClearAllStore: `INSERT INTO @s.kv_delta (instance_id, key, value, last_updated_ms)
SELECT instance_id, key, NULL, @nowms FROM @s.kv WHERE instance_id = $2
ON CONFLICT (instance_id, key) DO UPDATE SET value = NULL, last_updated_ms = EXCLUDED.last_updated_ms`,

	// $1 instance.
	KvMergeDelete: `DELETE FROM @s.kv k USING @s.kv_delta d
WHERE k.instance_id = $1 AND d.instance_id = $1 AND d.key = k.key AND d.value IS NULL`,
	KvMergeUpsert: `INSERT INTO @s.kv (instance_id, key, value, last_updated_ms)
SELECT instance_id, key, value, last_updated_ms FROM @s.kv_delta WHERE instance_id = $1 AND value IS NOT NULL
ON CONFLICT (instance_id, key) DO UPDATE SET value = EXCLUDED.value, last_updated_ms = EXCLUDED.last_updated_ms`,
	KvMergeClear: `DELETE FROM @s.kv_delta WHERE instance_id = $1`,

	// $1 instance ids, sorted: creates missing instance rows in id order.
	EnsureInstances: `INSERT INTO @s.instances (instance_id) SELECT u.id FROM unnest($1::text[]) WITH ORDINALITY u(id, o)
ORDER BY u.o ON CONFLICT DO NOTHING`,

	// $1 instances, $2 kinds, $3 items, $4 fire_at ms (NULL: at once).
	InsertOrchItems: `INSERT INTO @s.orchestrator_queue (instance_id, kind, item, visible_at)
SELECT u.i, u.k, u.it, COALESCE(timestamptz 'epoch' + u.f * interval '1 millisecond', '-infinity')
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY u(i, k, it, f, o) ORDER BY u.o`,

	// $1 instances, $2 executions, $3 activities, $4 sessions, $5 tags, $6
	// items.
	InsertWorkerItems: `INSERT INTO @s.worker_queue (instance_id, execution_id, activity_id, session_id, tag, item, visible_at)
SELECT u.i, u.e, u.a, u.s, u.t, u.it, '-infinity'
FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY u(i, e, a, s, t, it, o)
ORDER BY u.o`,

	// $1 instances, $2 executions, $3 activities.
	CancelActivities: `DELETE FROM @s.worker_queue w USING unnest($1::text[], $2::bigint[], $3::bigint[]) c(i, e, a)
WHERE w.instance_id = c.i AND w.execution_id = c.e AND w.activity_id = c.a`,

	// $1 token.
	AbandonOrch: `UPDATE @s.instances SET lock_token = NULL, locked_until = NULL WHERE lock_token = $1 RETURNING instance_id`,

	// $1 now, $2 instance, $3 ignore attempt, $4 delay.
	AbandonOrchMsgs: `UPDATE @s.orchestrator_queue SET
  attempts = CASE WHEN $3::boolean THEN greatest(attempts - 1, 0) ELSE attempts END,
  visible_at = CASE WHEN $4::bigint > 0 AND visible_at <= @now THEN @now + $4::bigint @us ELSE visible_at END
WHERE instance_id = $2`,

	// $1 now, $2 token, $3 extension.
	RenewOrch: `UPDATE @s.instances i SET locked_until = @now + $3::bigint @us
FROM (SELECT instance_id, locked_until AS old FROM @s.instances
  WHERE lock_token = $2 AND locked_until > @now FOR UPDATE) o
WHERE i.instance_id = o.instance_id RETURNING i.instance_id, i.locked_until < o.old`,

	// $1 now, $2 token: whether the token is held and its lock expired.
	OrchTokenState: `SELECT instance_id, locked_until <= @now FROM @s.instances WHERE lock_token = $2`,

	// $1 now, $2 session owner (NULL: no sessions), $3 skipped ids, $4 tag
	// filter kind, $5 tags.
	FetchWorkCandidate: `SELECT w.id, w.session_id
FROM @s.worker_queue w
LEFT JOIN @s.sessions s ON s.session_id = w.session_id
WHERE w.visible_at <= @now
  AND (w.lock_token IS NULL OR w.locked_until <= @now)
  AND w.id <> ALL($3::bigint[])
  AND CASE $4::integer
    WHEN 0 THEN w.tag IS NULL
    WHEN 1 THEN w.tag = ANY($5::text[])
    WHEN 2 THEN w.tag IS NULL OR w.tag = ANY($5::text[])
    ELSE true END
  AND (w.session_id IS NULL OR ($2::text IS NOT NULL
    AND (s.session_id IS NULL OR s.locked_until <= @now OR s.owner_id = $2::text)))
ORDER BY w.id
LIMIT 1
FOR UPDATE OF w SKIP LOCKED`,

	// $1 now, $2 session, $3 owner, $4 lease: claims or refreshes a session
	// unless another owner holds an active lease. No row: lost the race.
	ClaimSession: `INSERT INTO @s.sessions AS s (session_id, owner_id, locked_until, last_activity)
VALUES ($2, $3, @now + $4::bigint @us, @now)
ON CONFLICT (session_id) DO UPDATE SET owner_id = EXCLUDED.owner_id, locked_until = EXCLUDED.locked_until,
  last_activity = EXCLUDED.last_activity
WHERE s.owner_id = EXCLUDED.owner_id OR s.locked_until <= @now
RETURNING 1`,

	// $1 now, $2 id, $3 token, $4 lock timeout.
	LockWork: `UPDATE @s.worker_queue SET lock_token = $3, locked_until = @now + $4::bigint @us, attempts = attempts + 1
WHERE id = $2 RETURNING item, attempts`,

	// $1 now.
	WorkWake: `SELECT (extract(epoch FROM least(
  (SELECT min(visible_at) FROM @s.worker_queue WHERE visible_at > @now),
  (SELECT min(locked_until) FROM @s.worker_queue WHERE lock_token IS NOT NULL AND locked_until > @now),
  (SELECT min(locked_until) FROM @s.sessions WHERE locked_until > @now)
) - @now) * 1000000)::bigint`,

	// $1 now, $2 token: locks the row of a held, unexpired lock (an expired
	// one must not lock it even briefly: a fetch would skip the item).
	WorkLock: `SELECT id, session_id FROM @s.worker_queue WHERE lock_token = $2 AND locked_until > @now FOR UPDATE`,

	// $1 now, $2 session.
	WorkTouchSession: `UPDATE @s.sessions SET last_activity = @now WHERE session_id = $2 AND locked_until > @now`,

	// $1 id.
	WorkDelete: `DELETE FROM @s.worker_queue WHERE id = $1`,

	// $1 now, $2 token, $3 extension.
	RenewWork: `UPDATE @s.worker_queue w SET locked_until = @now + $3::bigint @us
FROM (SELECT id, locked_until AS old FROM @s.worker_queue
  WHERE lock_token = $2 AND locked_until > @now FOR UPDATE) o
WHERE w.id = o.id RETURNING w.session_id, w.locked_until < o.old`,

	// $1 now, $2 token.
	WorkTokenState: `SELECT locked_until <= @now FROM @s.worker_queue WHERE lock_token = $2`,

	// $1 now, $2 token, $3 ignore attempt, $4 delay.
	AbandonWork: `UPDATE @s.worker_queue SET lock_token = NULL, locked_until = NULL,
  attempts = CASE WHEN $3::boolean THEN greatest(attempts - 1, 0) ELSE attempts END,
  visible_at = CASE WHEN $4::bigint > 0 THEN @now + $4::bigint @us ELSE '-infinity' END
WHERE lock_token = $2 RETURNING id`,

	// $1 now, $2 owners, $3 extension, $4 idle timeout.
	RenewSessions: `UPDATE @s.sessions s SET locked_until = @now + $3::bigint @us
FROM (SELECT session_id, locked_until AS old FROM @s.sessions
  WHERE owner_id = ANY($2::text[]) AND locked_until > @now AND last_activity > @now - $4::bigint @us
  FOR UPDATE) o
WHERE s.session_id = o.session_id RETURNING s.locked_until < o.old`,

	// $1 now.
	CleanupSessions: `DELETE FROM @s.sessions s WHERE s.locked_until < @now
AND NOT EXISTS (SELECT 1 FROM @s.worker_queue w WHERE w.session_id = s.session_id)`,

	// $1 instance.
	EnsureInstance: `INSERT INTO @s.instances (instance_id) VALUES ($1) ON CONFLICT DO NOTHING`,

	// $1 instance.
	ReadLatest: `SELECT event_id, event FROM @s.history WHERE instance_id = $1 AND execution_id =
  (SELECT COALESCE(max(execution_id), 1) FROM @s.executions WHERE instance_id = $1) ORDER BY event_id`,

	// $1 instance, $2 execution.
	ReadExecution: `SELECT event_id, event FROM @s.history WHERE instance_id = $1 AND execution_id = $2 ORDER BY event_id`,

	// $1 instance.
	CustomStatus: `SELECT custom_status, custom_status_version FROM @s.instances WHERE instance_id = $1 AND has_record`,

	// $1 instance, $2 key: (delta present, delta value, store value).
	KvGet: `SELECT d.key IS NOT NULL, d.value, k.value FROM (SELECT 1) one
LEFT JOIN @s.kv_delta d ON d.instance_id = $1 AND d.key = $2
LEFT JOIN @s.kv k ON k.instance_id = $1 AND k.key = $2`,
	KvAllStore: `SELECT key, value FROM @s.kv WHERE instance_id = $1`,
	KvAllDelta: `SELECT key, value FROM @s.kv_delta WHERE instance_id = $1`,

	ListInstances: `SELECT instance_id FROM @s.instances WHERE has_record ORDER BY created_at DESC, created_seq DESC`,

	// $1 status.
	ListInstancesByState: `SELECT i.instance_id FROM @s.instances i
JOIN @s.executions x ON x.instance_id = i.instance_id AND x.execution_id = i.current_execution_id
WHERE i.has_record AND x.status = $1 ORDER BY i.created_at DESC, i.created_seq DESC`,

	// $1 instance.
	ListExecutions: `SELECT execution_id FROM @s.executions WHERE instance_id = $1 ORDER BY execution_id`,

	// $1 instance.
	LatestExecution: `SELECT COALESCE(max(execution_id), 1) FROM @s.executions WHERE instance_id = $1`,

	// $1 instance.
	InstanceInfo: `SELECT i.name, i.version, i.current_execution_id, x.status, x.output, i.created_at, i.updated_at,
  i.parent_instance_id
FROM @s.instances i
LEFT JOIN @s.executions x ON x.instance_id = i.instance_id AND x.execution_id = i.current_execution_id
WHERE i.instance_id = $1 AND i.has_record`,

	// $1 instance, $2 execution.
	ExecutionInfo: `SELECT x.status, x.output, x.started_at, x.completed_at,
  (SELECT count(*) FROM @s.history h WHERE h.instance_id = x.instance_id AND h.execution_id = x.execution_id)
FROM @s.executions x WHERE x.instance_id = $1 AND x.execution_id = $2`,

	SystemMetrics: `SELECT
  (SELECT count(*) FROM @s.instances WHERE has_record),
  (SELECT count(*) FROM @s.executions),
  c.running, c.completed, c.failed,
  (SELECT count(*) FROM @s.history)
FROM (SELECT count(*) FILTER (WHERE x.status = 'Running') AS running,
    count(*) FILTER (WHERE x.status = 'Completed') AS completed,
    count(*) FILTER (WHERE x.status = 'Failed') AS failed
  FROM @s.instances i JOIN @s.executions x ON x.instance_id = i.instance_id AND x.execution_id = i.current_execution_id
  WHERE i.has_record) c`,

	// $1 now.
	QueueDepths: `SELECT
  (SELECT count(*) FROM @s.orchestrator_queue q LEFT JOIN @s.instances i ON i.instance_id = q.instance_id
   WHERE NOT (i.lock_token IS NOT NULL AND i.locked_until > @now AND q.batch IS NOT DISTINCT FROM i.lock_token)),
  (SELECT count(*) FROM @s.worker_queue WHERE lock_token IS NULL OR locked_until <= @now)`,

	// $1 parent.
	ListChildren: `SELECT instance_id FROM @s.instances WHERE has_record AND parent_instance_id = $1 ORDER BY instance_id`,

	// $1 instance.
	ParentID: `SELECT parent_instance_id FROM @s.instances WHERE instance_id = $1 AND has_record`,

	// $1 root: every (instance, parent) below root.
	Descendants: `WITH RECURSIVE d(id, parent) AS (
  SELECT instance_id, parent_instance_id FROM @s.instances WHERE has_record AND parent_instance_id = $1
  UNION
  SELECT i.instance_id, i.parent_instance_id FROM @s.instances i JOIN d ON i.parent_instance_id = d.id WHERE i.has_record
) SELECT id, parent FROM d`,

	// $1 ids: locks their instance rows in id order.
	LockInstancesSorted: `SELECT instance_id FROM @s.instances WHERE instance_id = ANY($1::text[]) ORDER BY instance_id FOR UPDATE`,

	// $1 ids: the first whose current execution is running.
	RunningAmong: `SELECT i.instance_id FROM @s.instances i
JOIN @s.executions x ON x.instance_id = i.instance_id AND x.execution_id = i.current_execution_id
WHERE i.instance_id = ANY($1::text[]) AND i.has_record AND x.status = 'Running' ORDER BY i.instance_id LIMIT 1`,

	// $1 ids: a child of a listed instance that is not listed.
	OrphanAmong: `SELECT parent_instance_id, instance_id FROM @s.instances
WHERE has_record AND parent_instance_id = ANY($1::text[]) AND NOT instance_id = ANY($1::text[])
ORDER BY instance_id LIMIT 1`,

	// $1 ids: the instance rows that hold something (a record, a lock, an
	// execution, history, an orchestrator message or key/value state). An
	// id whose orphan QueueMessages were dropped keeps an empty row (the
	// fetch cannot delete it without racing an enqueue, which does not lock
	// the row); it is deleted but not counted, as memprovider forgets it.
	CountHeldOf: `SELECT count(*) FROM @s.instances i WHERE i.instance_id = ANY($1::text[]) AND (i.has_record
  OR i.lock_token IS NOT NULL
  OR EXISTS (SELECT 1 FROM @s.executions x WHERE x.instance_id = i.instance_id)
  OR EXISTS (SELECT 1 FROM @s.history h WHERE h.instance_id = i.instance_id)
  OR EXISTS (SELECT 1 FROM @s.orchestrator_queue q WHERE q.instance_id = i.instance_id)
  OR EXISTS (SELECT 1 FROM @s.kv k WHERE k.instance_id = i.instance_id)
  OR EXISTS (SELECT 1 FROM @s.kv_delta d WHERE d.instance_id = i.instance_id))`,
	DeleteWorkerOf:     `DELETE FROM @s.worker_queue WHERE instance_id = ANY($1::text[])`,
	DeleteOrchOf:       `DELETE FROM @s.orchestrator_queue WHERE instance_id = ANY($1::text[])`,
	DeleteHistoryOf:    `DELETE FROM @s.history WHERE instance_id = ANY($1::text[])`,
	DeleteExecutionsOf: `DELETE FROM @s.executions WHERE instance_id = ANY($1::text[])`,
	DeleteKVOf:         `DELETE FROM @s.kv WHERE instance_id = ANY($1::text[])`,
	DeleteKVDeltaOf:    `DELETE FROM @s.kv_delta WHERE instance_id = ANY($1::text[])`,
	DeleteInstancesOf:  `DELETE FROM @s.instances WHERE instance_id = ANY($1::text[])`,

	// $1 filter ids on, $2 ids, $3 completed-before on, $4 completed before
	// (ms), $5 limit, $6 roots only and terminal. Oldest first.
	SelectInstances: `SELECT i.instance_id FROM @s.instances i
LEFT JOIN @s.executions x ON x.instance_id = i.instance_id AND x.execution_id = i.current_execution_id
WHERE i.has_record
  AND (NOT $1::boolean OR i.instance_id = ANY($2::text[]))
  AND (NOT $3::boolean OR (x.completed_at IS NOT NULL
    AND floor(extract(epoch FROM x.completed_at) * 1000) < $4::numeric))
  AND (NOT $6::boolean OR (i.parent_instance_id IS NULL AND x.status IN ('Completed', 'Failed', 'ContinuedAsNew')))
ORDER BY i.created_at, i.created_seq
LIMIT $5`,

	// $1 instance.
	LockInstanceRow: `SELECT current_execution_id FROM @s.instances WHERE instance_id = $1 AND has_record FOR UPDATE`,

	// $1 instance: execution records with status and completion time.
	PruneCandidates: `SELECT execution_id, status, completed_at,
  (SELECT count(*) FROM @s.history h WHERE h.instance_id = x.instance_id AND h.execution_id = x.execution_id)
FROM @s.executions x WHERE instance_id = $1 ORDER BY execution_id`,

	// $1 instance, $2 execution.
	PruneExecution: `WITH h AS (DELETE FROM @s.history WHERE instance_id = $1 AND execution_id = $2)
DELETE FROM @s.executions WHERE instance_id = $1 AND execution_id = $2`,

	// $1 instance.
	CorruptHistory:  `UPDATE @s.history SET event = 'NOT_VALID_JSON{{{' WHERE instance_id = $1`,
	MaxAttemptCount: `SELECT COALESCE(max(attempts), 0) FROM @s.orchestrator_queue WHERE instance_id = $1`,
}
