package pgprovider

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/duroxide-go/duroxide"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. File names
// are NNNN_name.sql with NNNN counting from 1 without gaps.
func migrations() []migration {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		panic(err) // embedded at build time: cannot fail
	}
	var out []migration
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			panic(fmt.Sprintf("pgprovider: bad migration file name %q", e.Name()))
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			panic(err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			panic(fmt.Sprintf("pgprovider: migration %s out of sequence", m.name))
		}
	}
	return out
}

// SchemaVersion is the schema version this code migrates to and expects.
var SchemaVersion = len(migrations())

// ErrSchemaTooNew means the schema was migrated by a newer pgprovider than
// this one; this code refuses to use it. Permanent.
var ErrSchemaTooNew = errors.New("schema is newer than this pgprovider")

// advisoryClass is the first key of the advisory lock migrations take (the
// second is hashtext of the schema name), so that processes starting at once
// migrate one after the other.
const advisoryClass = 0x64757278 // "durx"

// orderClass is the first key of the advisory lock under which every
// transaction that inserts queue rows takes their ids (the second is
// hashtext of the schema name): see the package doc, Queue order.
const orderClass = 0x6475726f // "duro"

// Migrate brings schema (created if missing) to [SchemaVersion], in one
// transaction under a transaction-scoped advisory lock keyed on the schema
// name: concurrent calls wait for each other and then find nothing to do.
// Each applied migration is recorded in the schema's schema_migrations
// table. A schema already at a higher version than this code knows fails
// with [ErrSchemaTooNew] and is left untouched. Migrate is idempotent.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	const op = "migrate"
	if err := checkSchemaName(schema); err != nil {
		return err
	}
	q := quoteIdent(schema)
	tx, err := pool.Begin(ctx)
	if err != nil {
		return classify(op, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", advisoryClass, schema); err != nil {
		return classify(op, err)
	}
	current, err := schemaVersion(ctx, tx, schema)
	if err != nil {
		return classify(op, err)
	}
	if current > SchemaVersion {
		return duroxide.Permanent(op, ErrSchemaTooNew,
			"schema %q is at version %d, newer than this pgprovider's %d: upgrade pgprovider", schema, current, SchemaVersion)
	}
	if current == SchemaVersion {
		return nil
	}
	if current == 0 {
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+q+
			"; CREATE TABLE IF NOT EXISTS "+q+".schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"); err != nil {
			return classify(op, err)
		}
	}
	for _, m := range migrations()[current:] {
		if _, err := tx.Exec(ctx, strings.ReplaceAll(m.sql, "@s.", q+".")); err != nil {
			return classify(op, fmt.Errorf("migration %s: %w", m.name, err))
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+q+".schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return classify(op, err)
		}
	}
	return classify(op, tx.Commit(ctx))
}

// schemaVersion returns the highest applied migration, 0 when the schema or
// its migrations table does not exist.
func schemaVersion(ctx context.Context, tx pgx.Tx, schema string) (int, error) {
	var exists bool
	if err := tx.QueryRow(ctx,
		"SELECT to_regclass(format('%I.schema_migrations', $1::text)) IS NOT NULL", schema).Scan(&exists); err != nil {
		return 0, err
	}
	if !exists {
		return 0, nil
	}
	var v int
	err := tx.QueryRow(ctx, "SELECT COALESCE(max(version), 0) FROM "+quoteIdent(schema)+".schema_migrations").Scan(&v)
	return v, err
}
