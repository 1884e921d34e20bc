package pgprovider

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
)

// TestMigrate: migrations are idempotent, safe when several processes
// start at once, and a schema newer than the code is refused untouched.
func TestMigrate(t *testing.T) {
	pl := testPool(t)
	ctx := t.Context()
	schema := fmt.Sprintf("mig%d_%d", os.Getpid(), schemas.Add(1))
	t.Cleanup(func() { _, _ = pl.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+quoteIdent(schema)+" CASCADE") })

	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = Migrate(ctx, pl, schema) })
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "concurrent Migrate %d", i)
	}
	require.NoError(t, Migrate(ctx, pl, schema), "again")
	var n, v int
	require.NoError(t, pl.QueryRow(ctx, "SELECT count(*), max(version) FROM "+quoteIdent(schema)+".schema_migrations").Scan(&n, &v))
	require.Equal(t, SchemaVersion, n, "each migration recorded once")
	require.Equal(t, SchemaVersion, v)

	_, err := pl.Exec(ctx, "INSERT INTO "+quoteIdent(schema)+".schema_migrations (version, name) VALUES ($1, 'from the future')", SchemaVersion+1)
	require.NoError(t, err)
	_, err = New(ctx, pl, WithSchema(schema))
	require.ErrorIs(t, err, ErrSchemaTooNew)
	require.False(t, duroxide.IsRetryable(err))
	require.NoError(t, pl.QueryRow(ctx, "SELECT count(*) FROM "+quoteIdent(schema)+".schema_migrations").Scan(&n))
	require.Equal(t, SchemaVersion+1, n, "a refused schema is left untouched")
}

// TestSchemaNameValidation: bad names are refused before any SQL runs.
func TestSchemaNameValidation(t *testing.T) {
	pl := testPool(t)
	for _, name := range []string{"", "1abc", "pg_x", "Upper", `a"b`, "a-b", "a b", "x123456789012345678901234567890123456789012345678901"} {
		_, err := New(t.Context(), pl, WithSchema(name))
		require.ErrorIs(t, err, duroxide.ErrInvalidArgument, "schema %q", name)
	}
	_, err := New(t.Context(), nil)
	require.ErrorIs(t, err, duroxide.ErrInvalidArgument)
}
