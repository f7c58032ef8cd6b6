// Package storetest gives the tests of posbridge's services what they all start from: a
// migrated store (posbridge's schema and River's) on the database of a testdb.Target, with
// accounts, and a key box for sealing credentials and secrets.
package storetest

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jobs"
	"github.com/posbridge/posbridge/internal/secrets"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// Open opens and migrates the target's database, closed when the test ends, and creates an
// account for each id (named after it).
func Open(t testing.TB, db testdb.Target, accountIDs ...string) *store.Store {
	t.Helper()
	ctx := context.Background()
	Migrated(t, db)
	st, err := jobs.OpenStore(ctx, store.Config{DataDir: db.DataDir, DatabaseURL: db.DatabaseURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now().UTC()
	for _, id := range accountIDs {
		if err := st.CreateAccount(ctx, domain.Account{ID: id, Name: id, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// Migrated gives a SQLite target's empty data dir a database that is already migrated
// (posbridge's schema and River's): a copy of one migrated once per test process, the same file
// that migrating the target itself would give. Under -race the SQLite engine takes seconds of CPU
// for the migrations, and most tests start on a fresh database. PostgreSQL targets, and data
// dirs that already hold a database, are left as they are.
func Migrated(t testing.TB, db testdb.Target) {
	t.Helper()
	if db.Name != "sqlite" {
		return
	}
	testdb.Seed(t, db.DataDir, "storetest.Migrated", func(dir string) error {
		st, err := jobs.OpenStore(context.Background(), store.Config{DataDir: dir})
		if err != nil {
			return err
		}
		return st.Close()
	})
}

// Box is a key box with a fresh random key.
func Box(t testing.TB) *secrets.Box {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secrets.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}
