// Package pgharness builds the spec harnesses that run pgprovider against a
// PostgreSQL database: each harness is a fresh provider in its own schema of
// one shared pool, the schema dropped when the case ends. pgprovider's
// tests (as the external test package pgprovider_test), the conformance
// report (cmd/duroxide-spec -provider pg) and the differential test share
// them, so that every run checks the same configuration. It is internal:
// provider authors build their own harness (see package spec).
//
// The functions are safe for concurrent use; the harnesses they build may
// be used by concurrent cases, each getting its own schema.
package pgharness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/duroxide-go/duroxide/fakeclock"
	"github.com/duroxide-go/duroxide/internal/pghooks"
	"github.com/duroxide-go/duroxide/pgprovider"
	"github.com/duroxide-go/duroxide/spec"
)

// DSNVariable is the environment variable that names the database; .ci/pg
// sets it for the command it runs.
const DSNVariable = "DUROXIDE_PG_DSN"

// ErrNoDSN is returned by [ConnectEnv] when [DSNVariable] is not set.
var ErrNoDSN = errors.New("pgharness: " + DSNVariable + " is not set")

// MaxConns is the size of the pool [Connect] opens: enough for a few real-time
// cases at once, each holding a connection per concurrent call plus its
// provider's listening connection (outside the pool).
const MaxConns = 40

// Start is the fake clock's start time.
var Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// RealTimeLock and RealTimeSlack are the real-time harness's lock timeout
// and default slack: locks long enough that a database round trip under
// load stays well inside them.
const (
	RealTimeLock  = time.Second
	RealTimeSlack = 150 * time.Millisecond
)

// Connect opens a pool of [MaxConns] connections on dsn. The caller closes
// it.
func Connect(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgharness: parse %s: %w", DSNVariable, err)
	}
	cfg.MaxConns = MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgharness: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgharness: connect: %w", err)
	}
	return pool, nil
}

// ConnectEnv is [Connect] on the DSN in [DSNVariable]; it fails with
// [ErrNoDSN] when that is not set.
func ConnectEnv(ctx context.Context) (*pgxpool.Pool, error) {
	dsn := os.Getenv(DSNVariable)
	if dsn == "" {
		return nil, ErrNoDSN
	}
	return Connect(ctx, dsn)
}

// schemas numbers the schemas this process creates.
var schemas atomic.Uint64

// NewProvider creates a provider on pool in a fresh schema (named after the
// process and a counter), closed and dropped with its schema when t's case
// ends. It fails the case if the schema cannot be created.
func NewProvider(t spec.T, pool *pgxpool.Pool, opts ...pgprovider.Option) *pgprovider.Provider {
	t.Helper()
	schema := fmt.Sprintf("h%d_%d", os.Getpid(), schemas.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := pgprovider.New(ctx, pool, append([]pgprovider.Option{pgprovider.WithSchema(schema)}, opts...)...)
	if err != nil {
		t.Errorf("pgharness: new provider on schema %s: %v", schema, err)
		t.FailNow()
	}
	t.Cleanup(func() {
		p.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("pgharness: drop schema %s: %v", schema, err)
		}
	})
	return p
}

// Hooks returns the spec's white-box hooks for p, in plain SQL.
func Hooks(p *pgprovider.Provider) spec.Hooks { return pghooks.Hooks{P: p} }

// Fake returns a harness builder on a fresh fake clock per case, passed into
// every statement, with long polling. The whole specification runs on it,
// none of it skipped or not applicable: the clock may step back, since
// pgprovider compares every lock and lease with the injected time it is
// given and keeps no time of its own.
func Fake(pool *pgxpool.Pool) spec.NewHarness {
	return func(t spec.T) *spec.Harness {
		clock := fakeclock.NewFake(Start)
		p := NewProvider(t, pool, pgprovider.WithClock(clock))
		return &spec.Harness{Provider: p, Clock: clock, Hooks: Hooks(p), LongPolling: true, ClockStepsBack: true}
	}
}

// RealTime returns a harness builder on the database's clock, with long
// polling, [RealTimeLock] locks and the given slack ([RealTimeSlack] when
// zero). The cases that step a clock back do not apply to it.
func RealTime(pool *pgxpool.Pool, slack time.Duration) spec.NewHarness {
	if slack == 0 {
		slack = RealTimeSlack
	}
	return func(t spec.T) *spec.Harness {
		p := NewProvider(t, pool)
		return &spec.Harness{
			Provider:    p,
			Hooks:       Hooks(p),
			LongPolling: true,
			LockTimeout: RealTimeLock,
			Slack:       slack,
		}
	}
}
