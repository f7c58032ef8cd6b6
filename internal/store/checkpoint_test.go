package store

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestCheckpointer: the writer leaves the WAL to the checkpoint connection (its automatic
// checkpoint is only the backstop), that connection copies the writes into the database while
// the store is open, and Close leaves no WAL behind.
func TestCheckpointer(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			s.Close()
		}
	}()
	var pages, limit int64
	if err := s.sqlDB.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if err := s.sqlDB.QueryRowContext(ctx, "PRAGMA journal_size_limit").Scan(&limit); err != nil {
		t.Fatal(err)
	}
	if pages != walBackstopPages || limit != walSizeLimit {
		t.Fatalf("writer: wal_autocheckpoint %d, journal_size_limit %d; want %d, %d", pages, limit, walBackstopPages, walSizeLimit)
	}
	if _, err := s.sqlDB.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if _, err := s.sqlDB.ExecContext(ctx, "INSERT INTO t (v) VALUES ($1)", string(make([]byte, 1000+i))); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	for s.ckpt.copied.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the checkpoint connection copied nothing in 3 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	if _, err := os.Stat(s.path + "-wal"); !os.IsNotExist(err) {
		t.Fatalf("after Close the WAL is still there (%v)", err)
	}
}
