// Package testdb gives tests a fresh database of each kind: a SQLite file in a temporary
// directory, and a PostgreSQL schema of its own on the server named by
// POSBRIDGE_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test). Where no
// PostgreSQL answers, PostgreSQL tests skip with a message, unless POSBRIDGE_REQUIRE_POSTGRES is
// set (as CI does), where they fail.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Target is one database to run a test on.
type Target struct {
	Name        string // "sqlite" or "postgres"
	DataDir     string // for SQLite
	DatabaseURL string // for PostgreSQL
}

// DefaultURL is the PostgreSQL used when POSBRIDGE_TEST_DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// SQLite returns a target with a fresh data directory.
func SQLite(t testing.TB) Target {
	return Target{Name: "sqlite", DataDir: t.TempDir()}
}

// Postgres returns a target in a fresh schema, dropped when the test ends.
func Postgres(t testing.TB) Target {
	t.Helper()
	base := os.Getenv("POSBRIDGE_TEST_DATABASE_URL")
	if base == "" {
		base = DefaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("POSBRIDGE_REQUIRE_POSTGRES") != "" {
			t.Fatalf("PostgreSQL is required here but unreachable at %s: %v", base, err)
		}
		t.Skipf("skipping PostgreSQL test: no server at %s (%v); set POSBRIDGE_TEST_DATABASE_URL", base, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE") //nolint:errcheck // best effort
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return Target{Name: "postgres", DatabaseURL: u.String(), DataDir: t.TempDir()}
}

// Each runs fn as a subtest on SQLite and on PostgreSQL.
func Each(t *testing.T, fn func(t *testing.T, db Target)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// EachParallel is Each with the two subtests run in parallel (with each other and with the
// other parallel tests, within -parallel): for a long test, whose two runs one after the other
// would be the last test of its package to end.
func EachParallel(t *testing.T, fn func(t *testing.T, db Target)) {
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); fn(t, Postgres(t)) })
}
