package pgprovider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/fakeclock"
)

// Version is pgprovider's version string.
const Version = "0.1.0"

// DefaultSchema is the schema a Provider uses unless [WithSchema] names
// another.
const DefaultSchema = "duroxide"

// maxTxAttempts bounds how often a transaction that failed with a deadlock,
// serialization failure or stale cached plan is retried before the call
// returns a retryable error.
const maxTxAttempts = 5

// Option configures a Provider.
//
// Options are applied by New, in order, before the provider is shared.
type Option func(*config)

type config struct {
	schema   string
	clock    fakeclock.Clock
	longPoll bool
}

// WithSchema makes the provider keep its tables in schema (default
// [DefaultSchema]), so several stores can share one database. The name must
// be 1 to 50 characters of lower-case ASCII letters, digits and
// underscores, start with a letter or underscore, and not start with "pg_".
func WithSchema(schema string) Option { return func(c *config) { c.schema = schema } }

// WithClock makes the provider read all time from c and pass it into every
// statement, instead of using the database's now(). It exists for tests on
// a [fakeclock.Fake]: in production, leave the database's clock in charge,
// so that machines whose clocks disagree cannot steal each other's locks.
// Long polls wait on c's timers either way.
func WithClock(c fakeclock.Clock) Option { return func(cfg *config) { cfg.clock = c } }

// WithShortPolling makes fetches ignore their poll timeout and return at
// once when there is no work; the provider then opens no listening
// connection.
func WithShortPolling() Option { return func(c *config) { c.longPoll = false } }

// Provider is a durable duroxide provider on PostgreSQL. It implements
// [duroxide.Provider] and [duroxide.ProviderAdmin].
//
// A Provider is safe for concurrent use by multiple goroutines, and several
// Providers (in one process or many) may share one schema: every call is
// one or a few transactions whose row locks follow the order documented in
// the package doc. The pool belongs to the caller and must outlive the
// Provider; [Provider.Close] releases what the Provider owns (its listening
// connection). The zero value is not usable; call [New].
type Provider struct {
	pool     *pgxpool.Pool
	schema   string
	clock    fakeclock.Clock // nil: the database's now()
	wait     fakeclock.Clock // long-poll timers: clock, or the wall clock
	longPoll bool
	channel  string // NOTIFY channel
	sql      statements

	tokenPrefix string
	tokens      atomic.Uint64

	listener *listener

	retried atomic.Uint64 // transactions retried after a deadlock, serialization failure or stale plan

	// On an injected clock, fetches of one queue run one at a time (see
	// serialFetch).
	orchFetch, workFetch sync.Mutex
}

// serialFetch runs one fetch attempt (a transaction and its retries).
//
// On the database's clock it just runs f: fetches run concurrently, and a
// fetch skips (SKIP LOCKED) the rows other transactions hold for a moment.
//
// On an injected clock the store must be linearizable (the property tests
// check it), and skipping is not: a skipped row may be released unchanged
// (a transaction rolls back and runs again when the clock moves under it;
// an abandon, renewal or failed ack of an expired lock changes nothing a
// fetch cares about), and then the fetch passed by the oldest eligible
// item, which nobody took. So fetches of one queue run one at a time (mu),
// and an attempt whose candidate is not the oldest eligible one ignoring
// row locks fails with *passedBy: serialFetch waits until that row's
// holder is done and runs the attempt again.
func (p *Provider) serialFetch(ctx context.Context, op string, mu *sync.Mutex, wait string, f func() error) error {
	if p.clock == nil {
		return f()
	}
	mu.Lock()
	defer mu.Unlock()
	for range maxPassedBy {
		err := f()
		var pb *passedBy
		if !errors.As(err, &pb) {
			return err
		}
		if err := p.read(ctx, op, func(tx *txn, _ any) error {
			_, err := tx.Exec(ctx, wait, pb.key)
			return err
		}); err != nil {
			return err
		}
	}
	return duroxide.Retryable(op, duroxide.ErrUnavailable, "the oldest eligible item stayed held by other transactions through %d attempts", maxPassedBy)
}

// maxPassedBy bounds serialFetch's waits.
const maxPassedBy = 1000

// passedBy fails a fetch attempt on an injected clock whose candidate query
// skipped the oldest eligible item (instance id or worker row id key)
// because another transaction held its row.
type passedBy struct{ key any }

func (e *passedBy) Error() string {
	return fmt.Sprintf("pgprovider: fetch passed by held row %v", e.key)
}

// checkOldest, on an injected clock, fails with *passedBy when the oldest
// eligible candidate ignoring row locks (query oldest, same arguments as the
// candidate query) exists and is not chosen (the zero K: nothing was
// chosen). K is the candidate's key: an instance id or a worker row id.
func checkOldest[K comparable](ctx context.Context, p *Provider, tx *txn, oldest string, chosen K, args ...any) error {
	if p.clock == nil {
		return nil
	}
	var key K
	err := tx.QueryRow(ctx, oldest, args...).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if key != chosen {
		return &passedBy{key}
	}
	return nil
}

// schemaName is what WithSchema accepts.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,49}$`)

// New returns a provider on pool, after migrating its schema to the newest
// version this code knows (see [Migrate]). It fails with [ErrSchemaTooNew]
// when the schema was migrated by newer code. ctx bounds the migration
// only.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Provider, error) {
	if pool == nil {
		return nil, duroxide.Permanent("new", duroxide.ErrInvalidArgument, "invalid argument: nil pool")
	}
	cfg := config{schema: DefaultSchema, longPoll: true}
	for _, o := range opts {
		o(&cfg)
	}
	if err := checkSchemaName(cfg.schema); err != nil {
		return nil, err
	}
	if err := Migrate(ctx, pool, cfg.schema); err != nil {
		return nil, err
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics on a broken system source)
	p := &Provider{
		pool:        pool,
		schema:      cfg.schema,
		clock:       cfg.clock,
		wait:        cfg.clock,
		longPoll:    cfg.longPoll,
		channel:     cfg.schema + "_duroxide",
		tokenPrefix: "pg-" + hex.EncodeToString(b[:]) + "-",
	}
	if p.wait == nil {
		p.wait = fakeclock.Real()
	}
	p.sql = buildStatements(cfg.schema)
	if p.longPoll {
		p.listener = newListener(pool, p.channel)
	}
	return p, nil
}

// checkSchemaName validates a schema name.
func checkSchemaName(s string) error {
	if !schemaName.MatchString(s) || strings.HasPrefix(s, "pg_") {
		return duroxide.Permanent("new", duroxide.ErrInvalidArgument,
			"invalid argument: schema name %q: want 1-50 of [a-z0-9_], not starting with a digit or pg_", s)
	}
	return nil
}

// quoteIdent quotes an identifier for SQL.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

var (
	_ duroxide.Provider      = (*Provider)(nil)
	_ duroxide.ProviderAdmin = (*Provider)(nil)
)

// Close stops the provider's listening connection and waits for its
// goroutine. Calls in progress may fail; the pool is left open (it is the
// caller's). Close is idempotent.
func (p *Provider) Close() {
	if p.listener != nil {
		p.listener.close()
	}
}

// Schema returns the provider's schema name.
func (p *Provider) Schema() string { return p.schema }

// Name returns "pgprovider".
func (p *Provider) Name() string { return "pgprovider" }

// Version returns [Version].
func (p *Provider) Version() string { return Version }

// AsManagementCapability returns p itself.
func (p *Provider) AsManagementCapability() duroxide.ProviderAdmin { return p }

// now returns the value every statement of one transaction receives as its
// time parameter: the injected clock's time, or nil for the database's
// now().
func (p *Provider) now() any {
	if p.clock == nil {
		return nil
	}
	return p.clock.Now()
}

// newToken returns a fresh lock token, unique across providers.
func (p *Provider) newToken() string {
	var buf [64]byte
	b := append(buf[:0], p.tokenPrefix...)
	return string(strconv.AppendUint(b, p.tokens.Add(1), 36))
}

// us converts a duration to whole microseconds, the unit statements take.
func us(d time.Duration) int64 { return int64(d / time.Microsecond) }

// maxFireMs bounds fire times so that visibility stays inside timestamptz's
// range (about year 290000).
const maxFireMs = 8_000_000_000_000_000

// fireAt converts a timer's fire_at_ms to a bounded int64.
func fireAt(ms uint64) int64 { return int64(min(ms, maxFireMs)) }

// maxID is the largest execution or event id a bigint column holds.
const maxID = math.MaxInt64

// inTx runs f in a transaction, retrying the whole transaction when it fails
// with a deadlock (40P01), a serialization failure (40001) or a cached plan
// invalidated by a schema change (0A000). f must be safe to run again; it
// receives the transaction's time parameter. Errors f returns that are
// already ProviderErrors pass through; database errors are classified.
func (p *Provider) inTx(ctx context.Context, op string, f func(tx *txn, now any) error) error {
	return p.run(ctx, op, false, f)
}

// autocommit runs f like inTx, but without a transaction on the
// database's clock: each statement (or batch, which PostgreSQL runs as one
// implicit transaction) commits on its own. For calls that are one
// statement or one batch. On an injected clock it is inTx, so that the
// commit can check that the clock did not move (see txn).
func (p *Provider) autocommit(ctx context.Context, op string, f func(tx *txn, now any) error) error {
	return p.run(ctx, op, p.clock == nil, f)
}

// read runs f, whose statements do not depend on the time, without a
// transaction.
func (p *Provider) read(ctx context.Context, op string, f func(tx *txn, now any) error) error {
	return p.run(ctx, op, true, f)
}

// errClockMoved aborts a transaction whose injected clock moved while it
// ran: it is retried with the new time.
var errClockMoved = errors.New("pgprovider: the injected clock moved during the transaction")

// errRestart aborts a transaction that found the store changed under it in
// a way it cannot take back (see tryFetchOrch): it runs again at once.
var errRestart = errors.New("pgprovider: the transaction must start again")

// maxRestarts bounds the reruns of a transaction that failed with
// errClockMoved or errRestart (neither counts as a failed attempt).
const maxRestarts = 100

func (p *Provider) run(ctx context.Context, op string, auto bool, f func(tx *txn, now any) error) error {
	var err error
	for attempt, restarts := 1, 0; ; attempt++ {
		err = p.tryTx(ctx, auto, f)
		if err == nil {
			return nil
		}
		if (errors.Is(err, errClockMoved) || errors.Is(err, errRestart)) && restarts < maxRestarts && ctx.Err() == nil {
			attempt--
			restarts++
			continue
		}
		if !isRetryableTx(err) || attempt >= maxTxAttempts || ctx.Err() != nil {
			break
		}
		p.retried.Add(1)
	}
	return classify(op, err)
}

func (p *Provider) tryTx(ctx context.Context, auto bool, f func(tx *txn, now any) error) (err error) {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	now := p.now()
	t := &txn{conn: conn.Conn(), auto: auto, clock: p.clock}
	if p.clock != nil {
		t.now = now.(time.Time)
	}
	defer func() {
		if t.begun && !t.done {
			if _, rerr := t.conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
				_ = t.conn.Close(context.WithoutCancel(ctx)) // the pool drops a closed connection
			}
		}
		conn.Release()
	}()
	if err = f(t, now); err != nil {
		return err
	}
	if t.begun && !t.done {
		if err = t.checkClock(); err != nil {
			return err
		}
		if _, err = t.conn.Exec(ctx, "COMMIT"); err != nil {
			return err
		}
		t.done = true
	}
	return nil
}

// txn is a transaction on one connection whose BEGIN and COMMIT travel
// with the first and last batch instead of costing round trips of their
// own: [txn.Batch] prepends BEGIN when the transaction has not begun and
// appends COMMIT when asked to. The other methods send BEGIN on their own
// first. In autocommit mode it sends neither. Used by one goroutine.
//
// On an injected clock, every statement receives the time read when the
// transaction started; before committing, the transaction checks that the
// clock still reads that time, and otherwise rolls back and runs again
// (errClockMoved). So each call takes effect at an instant at which the
// clock read the time it used, as with memprovider's mutex: a fake clock
// advanced by another goroutine mid-call cannot make a lock start in the
// past of an operation that already saw the advance.
type txn struct {
	conn  *pgx.Conn
	auto  bool
	begun bool // BEGIN sent
	done  bool // COMMIT succeeded
	clock fakeclock.Clock
	now   time.Time
}

// checkClock fails with errClockMoved when the injected clock moved since
// the transaction read it.
func (t *txn) checkClock() error {
	if t.clock != nil && !t.clock.Now().Equal(t.now) {
		return errClockMoved
	}
	return nil
}

func (t *txn) begin(ctx context.Context) error {
	if t.auto || t.begun {
		return nil
	}
	if _, err := t.conn.Exec(ctx, "BEGIN"); err != nil {
		return err
	}
	t.begun = true
	return nil
}

// Exec runs one statement (with BEGIN in the same round trip when the
// transaction has not begun).
func (t *txn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.auto || t.begun {
		return t.conn.Exec(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := t.Batch(ctx, b, false)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// Query runs one query.
func (t *txn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := t.begin(ctx); err != nil {
		return nil, err
	}
	return t.conn.Query(ctx, sql, args...)
}

// QueryRow runs one query returning at most one row (with BEGIN in the
// same round trip when the transaction has not begun).
func (t *txn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.auto || t.begun {
		return t.conn.QueryRow(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	return batchRow{t.Batch(ctx, b, false)}
}

// batchRow is the one row of a one-query batch.
type batchRow struct{ br pgx.BatchResults }

func (r batchRow) Scan(dest ...any) error {
	err := r.br.QueryRow().Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

// Batch sends b in one round trip, with BEGIN in front when the
// transaction has not begun and, when commit is set, COMMIT behind. The
// caller reads b's results in order and must call Close, which reads the
// COMMIT's result: the transaction is committed only when Close returns
// nil. Any statement's failure makes the transaction roll back.
func (t *txn) Batch(ctx context.Context, b *pgx.Batch, commit bool) pgx.BatchResults {
	commit = commit && !t.auto
	if commit {
		if err := t.checkClock(); err != nil {
			return errBatch{err}
		}
	}
	begin := !t.auto && !t.begun
	if begin {
		b.QueuedQueries = append([]*pgx.QueuedQuery{{SQL: "BEGIN"}}, b.QueuedQueries...)
		t.begun = true
	}
	if commit {
		b.Queue("COMMIT")
	}
	br := t.conn.SendBatch(ctx, b)
	if begin {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return errBatch{err}
		}
	}
	return &txBatch{BatchResults: br, t: t, commit: commit}
}

// txBatch marks the transaction committed when its COMMIT succeeded.
type txBatch struct {
	pgx.BatchResults
	t      *txn
	commit bool
}

func (b *txBatch) Close() error {
	err := b.BatchResults.Close()
	if err == nil && b.commit {
		b.t.done = true
	}
	return err
}

// errRow is a pgx.Row that fails with err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// errBatch is a pgx.BatchResults that fails with err.
type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow(b) }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }

// duplicateEvent turns a history primary-key violation into the contract's
// duplicate-event error; other errors pass through.
func duplicateEvent(op string, err error, executionID uint64) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "history_pkey" {
		return duroxide.Permanent(op, duroxide.ErrDuplicateEvent,
			"Failed to append history: an event id already exists in execution %d (%s)", executionID, pe.Detail)
	}
	return err
}

// isRetryableTx reports whether a failed transaction may simply be run
// again.
func isRetryableTx(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40P01", "40001", "0A000":
			return true
		}
	}
	return false
}

// classify turns an error into a ProviderError: ProviderErrors pass
// through; context ends, lost connections, deadlocks, serialization
// failures, stale plans and resource shortages are retryable
// ErrUnavailable; anything else is permanent.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *duroxide.ProviderError
	var pb *passedBy
	if errors.As(err, &pe) || errors.As(err, &pb) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return duroxide.Retryable(op, err, "context ended: %v", err)
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case isRetryableTx(err),
			strings.HasPrefix(pg.Code, "08"), // connection exception
			strings.HasPrefix(pg.Code, "53"), // insufficient resources
			strings.HasPrefix(pg.Code, "57"), // operator intervention (shutdown, cancel)
			pg.Code == "55P03":               // lock not available
			return duroxide.Retryable(op, fmt.Errorf("%w: %w", duroxide.ErrUnavailable, err), "database unavailable: %v", err)
		}
		return duroxide.Permanent(op, err, "database error: %v", err)
	}
	// Network errors, a closed pool, a connection lost mid-statement.
	return duroxide.Retryable(op, fmt.Errorf("%w: %w", duroxide.ErrUnavailable, err), "database unavailable: %v", err)
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

// checkDuration refuses negative durations.
func checkDuration(op, name string, d time.Duration) error {
	if d < 0 {
		return invalid(op, "%s must not be negative, got %v", name, d)
	}
	return nil
}

// checkInstance validates the context and an instance id.
func checkInstance(ctx context.Context, op, instance string) error {
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	if instance == "" {
		return invalid(op, "empty instance id")
	}
	return nil
}

// checkID refuses ids a bigint cannot hold.
func checkID(op, name string, id uint64) error {
	if id > maxID {
		return invalid(op, "%s %d is too large (max %d)", name, id, int64(maxID))
	}
	return nil
}

// ms converts a database time to Unix milliseconds (0 before 1970).
func ms(t time.Time) uint64 { return uint64(max(t.UnixMilli(), 0)) }

func cloneStr(s *string) *string {
	if s == nil {
		return nil
	}
	v := *s
	return &v
}

func formatUint(v uint64) string { return strconv.FormatUint(v, 10) }
