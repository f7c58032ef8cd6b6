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

// TestCachingDriverKeepsOnePerLimitValue: a statement whose LIMIT is a parameter is kept once
// per value bound there (SQLite prepares it again whenever that value changes), up to
// maxLimitVariants values; its other parameters do not multiply it. Alternating limits then
// parse nothing: the runs take about as long as runs with one limit (checked in a benchmark
// below, not here).
func TestCachingDriverKeepsOnePerLimitValue(t *testing.T) {
	db := openCaching(t)
	for _, v := range []string{"a", "b", "c", "d"} {
		if _, err := db.Exec(`INSERT INTO t (v) VALUES (?)`, v); err != nil {
			t.Fatal(err)
		}
	}
	before := cached(t, db)
	count := func(min, limit int) int {
		rs, err := db.Query(`SELECT id FROM t WHERE id >= ?1 ORDER BY id LIMIT ?2`, min, limit)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		n := 0
		for rs.Next() {
			n++
		}
		return n
	}
	for i := range 40 {
		if n := count(i%3+1, 1+i%2); n != 1+i%2 {
			t.Fatalf("run %d: %d rows", i, n)
		}
	}
	if got := cached(t, db) - before; got != 2 {
		t.Fatalf("40 runs with two limits and three lower bounds left %d prepared statements, want 2", got)
	}
	for limit := range 2 * maxLimitVariants {
		count(1, limit)
	}
	if got := cached(t, db) - before; got != maxLimitVariants+1 {
		t.Fatalf("%d limits left %d prepared statements, want %d and the statement without a kept value", 2*maxLimitVariants, got, maxLimitVariants+1)
	}
}

// BenchmarkCachingDriverAlternatingLimits: River's job fetch, whose LIMIT (the free workers)
// alternates between queues on one connection. Compare with BenchmarkCachingDriverOneLimit.
func BenchmarkCachingDriverAlternatingLimits(b *testing.B) { benchLimits(b, 2) }

// BenchmarkCachingDriverOneLimit is the same statement with one LIMIT value.
func BenchmarkCachingDriverOneLimit(b *testing.B) { benchLimits(b, 1) }

func benchLimits(b *testing.B, values int) {
	db, err := sql.Open(sqliteDriverName, "file:"+filepath.Join(b.TempDir(), "t.db")+"?_pragma=journal_mode(WAL)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)`); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		rs, err := db.Query(`SELECT id FROM t WHERE id >= ?1 ORDER BY id LIMIT ?2`, 1, 10+i%values)
		if err != nil {
			b.Fatal(err)
		}
		rs.Close()
	}
}
