package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"modernc.org/sqlite"
)

// sqliteDriverName is modernc's SQLite driver with a prepared-statement cache per connection.
// Parsing a statement costs SQLite more than running the small statements posbridge and River
// run, and on SQLite everything goes through one connection, so each parse is time every other
// query waits. database/sql's db.Query prepares afresh each time; this driver keeps each
// statement prepared on its connection and runs it again (River's queries included: it gets the
// same *sql.DB).
const sqliteDriverName = "sqlite-posbridge"

func init() {
	sql.Register(sqliteDriverName, cachingDriver{&sqlite.Driver{}})
}

// maxCachedStmts bounds each connection's cache (posbridge and River have a few hundred queries).
const maxCachedStmts = 1024

type cachingDriver struct{ d driver.Driver }

func (d cachingDriver) Open(name string) (driver.Conn, error) {
	c, err := d.d.Open(name)
	if err != nil {
		return nil, err
	}
	fc, ok := c.(fullConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("the SQLite driver's connection (%T) lacks a method posbridge relies on", c)
	}
	return &cachingConn{fullConn: fc, stmts: map[string]*cachedStmt{}, limits: map[string][]int{}, variants: map[string]int{}}, nil
}

// cachedStmt is a statement prepared on one connection; busy while rows of it are open (a
// second query of the same text meanwhile runs unprepared).
type cachedStmt struct {
	s    driver.Stmt
	busy bool
}

// cachingConn is used by one goroutine at a time (database/sql's guarantee), so its map needs no
// lock.
type cachingConn struct {
	fullConn
	stmts    map[string]*cachedStmt
	limits   map[string][]int // statement text -> ordinals of its LIMIT parameters
	variants map[string]int   // statement text -> statements kept for its LIMIT values
}

// interfaces of modernc's conn database/sql looks for.
type fullConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// limitParams finds the parameters a statement's LIMIT takes ("LIMIT ?5", "LIMIT $2").
var limitParams = regexp.MustCompile(`(?i)\bLIMIT\s+[?$]([0-9]+)\b`)

// cacheKey is the key of q's prepared statement with these arguments. SQLite (3.47 and later)
// plans a statement whose LIMIT is a bound parameter for the value bound when it prepares it,
// and prepares the statement again whenever another value is bound there. So a statement is kept
// once per value of its LIMIT parameters: River's job fetch (LIMIT ?5, the number of free
// workers) alternates between queues with different worker counts on one connection, and was
// parsed again on nearly every poll (7 ms a poll under -race, 0.5 ms cached: a fifth of the CPU
// of the app tests).
func (c *cachingConn) cacheKey(q string, args []driver.NamedValue) string {
	ords, ok := c.limits[q]
	if !ok {
		if strings.Contains(strings.ToUpper(q), "LIMIT") {
			for _, m := range limitParams.FindAllStringSubmatch(q, -1) {
				if n, err := strconv.Atoi(m[1]); err == nil {
					ords = append(ords, n)
				}
			}
		}
		if len(c.limits) < maxCachedStmts {
			c.limits[q] = ords
		}
	}
	if len(ords) == 0 {
		return q
	}
	var b strings.Builder
	b.WriteString(q)
	for _, n := range ords {
		for _, a := range args {
			if a.Ordinal == n && a.Name == "" {
				fmt.Fprintf(&b, "\x00%v", a.Value)
			}
		}
	}
	key := b.String()
	if _, ok := c.stmts[key]; !ok && c.variants[q] >= maxLimitVariants {
		return q // a page size of the caller's choosing: the few kept values serve most runs
	}
	return key
}

// maxLimitVariants bounds the statements kept for one text, one per LIMIT value.
const maxLimitVariants = 16

// stmt returns q's prepared statement kept under key, preparing it the first time; nil when
// the cache is full or the statement is in use. (A script of several statements is cached too:
// modernc then parses it statement by statement on each run, as it would uncached.)
func (c *cachingConn) stmt(ctx context.Context, key, q string) (*cachedStmt, error) {
	if cs, ok := c.stmts[key]; ok {
		if cs.busy {
			return nil, nil
		}
		return cs, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil, nil
	}
	s, err := c.fullConn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{s: s}
	c.stmts[key] = cs
	if key != q {
		c.variants[q]++
	}
	return cs, nil
}

// drop forgets the statement kept under key after an error, so the next run prepares it afresh.
func (c *cachingConn) drop(key, q string, cs *cachedStmt) {
	if c.stmts[key] == cs {
		delete(c.stmts, key)
		if key != q {
			c.variants[q]--
		}
	}
	cs.s.Close()
}

func (c *cachingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	key := c.cacheKey(q, args)
	cs, err := c.stmt(ctx, key, q)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.fullConn.ExecContext(ctx, q, args)
	}
	res, err := cs.s.(driver.StmtExecContext).ExecContext(ctx, args)
	if err != nil {
		c.drop(key, q, cs)
	}
	return res, err
}

func (c *cachingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	key := c.cacheKey(q, args)
	cs, err := c.stmt(ctx, key, q)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.fullConn.QueryContext(ctx, q, args)
	}
	r, err := cs.s.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.drop(key, q, cs)
		return nil, err
	}
	cs.busy = true
	return &cachedRows{fullRows: r.(fullRows), done: func(err error) {
		cs.busy = false
		if err != nil {
			c.drop(key, q, cs)
		}
	}}, nil
}

// PrepareContext, BeginTx, Ping, ResetSession and IsValid are modernc's own (embedded).

func (c *cachingConn) Close() error {
	for q, cs := range c.stmts {
		cs.s.Close()
		delete(c.stmts, q)
	}
	return c.fullConn.Close()
}

// fullRows is what modernc's rows offer.
type fullRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// cachedRows gives the statement back when closed.
type cachedRows struct {
	fullRows
	done func(error)
}

func (r *cachedRows) Close() error {
	err := r.fullRows.Close()
	if r.done != nil {
		r.done(err)
		r.done = nil
	}
	return err
}
