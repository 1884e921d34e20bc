package pgprovider

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/duroxide-go/duroxide/spec"
)

// The tests run against the database named by DUROXIDE_PG_DSN, each case in
// a fresh schema on one shared pool. Without it they skip, unless
// DUROXIDE_REQUIRE_PG=1 (CI), which makes the skip a failure.
const skipHint = "pgprovider tests need PostgreSQL: run them with .ci/pg go test ./pgprovider (or set DUROXIDE_PG_DSN)"

var (
	poolOnce sync.Once
	pool     *pgxpool.Pool
	poolErr  error
	schemas  atomic.Uint64
)

// testPool returns the shared pool, skipping (or failing, in CI) without a
// DSN.
func testPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dsn := os.Getenv("DUROXIDE_PG_DSN")
	if dsn == "" {
		if os.Getenv("DUROXIDE_REQUIRE_PG") == "1" {
			t.Fatalf("DUROXIDE_REQUIRE_PG=1 but DUROXIDE_PG_DSN is not set: %s", skipHint)
		}
		t.Skip(skipHint)
	}
	poolOnce.Do(func() {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			poolErr = err
			return
		}
		cfg.MaxConns = 40
		pool, poolErr = pgxpool.NewWithConfig(context.Background(), cfg)
	})
	if poolErr != nil {
		t.Fatalf("connect to DUROXIDE_PG_DSN: %v", poolErr)
	}
	return pool
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pool != nil {
		pool.Close()
	}
	os.Exit(code)
}

// freshProvider creates a provider on a new schema, dropped when the case
// ends, for the white-box tests of this package. The external test package
// (spec, proptest, faults, benchmarks) uses internal/pgharness, which does
// the same on TestPool's pool.
func freshProvider(t spec.T, tb testing.TB, opts ...Option) *Provider {
	t.Helper()
	pl := testPool(tb)
	schema := fmt.Sprintf("t%d_%d", os.Getpid(), schemas.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := New(ctx, pl, append([]Option{WithSchema(schema)}, opts...)...)
	if err != nil {
		t.Errorf("new provider on schema %s: %v", schema, err)
		t.FailNow()
	}
	t.Cleanup(func() {
		p.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pl.Exec(ctx, "DROP SCHEMA "+quoteIdent(schema)+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return p
}
