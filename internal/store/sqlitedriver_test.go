package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

func openCaching(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open(sqliteDriverName, "file:"+filepath.Join(t.TempDir(), "t.db")+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	return db
}

// cached reports how many statements the connection holds prepared.
func cached(t *testing.T, db *sql.DB) int {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := 0
	if err := c.Raw(func(dc any) error { n = len(dc.(*cachingConn).stmts); return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCachingDriverReusesStatements(t *testing.T) {
	db := openCaching(t)
	before := cached(t, db)
	for i := range 100 {
		if _, err := db.Exec(`INSERT INTO t (v) VALUES (?)`, string(rune('a'+i%26))+string(rune('a'+i/26))); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM t WHERE id <= ?`, i+1).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("count after %d inserts: %d, %v", i+1, n, err)
		}
	}
	if got := cached(t, db) - before; got != 2 {
		t.Fatalf("200 runs of 2 queries left %d new prepared statements, want 2", got)
	}
}

func TestCachingDriverNestedAndFailingStatements(t *testing.T) {
	db := openCaching(t)
	ctx := context.Background()
	for _, v := range []string{"x", "y", "z"} {
		if _, err := db.Exec(`INSERT INTO t (v) VALUES (?)`, v); err != nil {
			t.Fatal(err)
		}
	}
	// The same query while its rows are open, in one transaction (one connection): the inner one
	// must not reset the outer one's statement.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	const q = `SELECT v FROM t WHERE id >= ? ORDER BY id`
	outer, err := tx.Query(q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var v string
		if err := outer.Scan(&v); err != nil {
			t.Fatal(err)
		}
		var inner string
		if err := tx.QueryRow(q, 3).Scan(&inner); err != nil || inner != "z" {
			t.Fatalf("inner query: %q, %v", inner, err)
		}
		got = append(got, v)
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != "x" || got[2] != "z" {
		t.Fatalf("outer rows: %v", got)
	}
	// A failing run (unique violation) leaves the statement usable.
	if _, err := db.Exec(`INSERT INTO t (v) VALUES (?)`, "x"); err == nil {
		t.Fatal("a duplicate insert succeeded")
	}
	if _, err := db.Exec(`INSERT INTO t (v) VALUES (?)`, "w"); err != nil {
		t.Fatalf("the insert after a failed one: %v", err)
	}
	// A schema change: SQLite re-prepares a cached statement by itself.
	star := func() []any {
		var id int
		var v, note string
		dest := []any{&id, &v, &note}
		rows, err := db.Query(`SELECT * FROM t WHERE id = ?`, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		if !rows.Next() {
			t.Fatalf("no row 1: %v", rows.Err())
		}
		if err := rows.Scan(dest[:len(cols)]...); err != nil {
			t.Fatal(err)
		}
		return dest[:len(cols)]
	}
	if got := star(); len(got) != 2 {
		t.Fatalf("before ALTER TABLE: %d columns", len(got))
	}
	if _, err := db.Exec(`ALTER TABLE t ADD COLUMN note TEXT NOT NULL DEFAULT 'n'`); err != nil {
		t.Fatal(err)
	}
	if got := star(); len(got) != 3 || *got[2].(*string) != "n" {
		t.Fatalf("after ALTER TABLE: %d columns", len(got))
	}
}
