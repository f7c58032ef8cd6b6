package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

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
	return &cachingConn{fullConn: fc, stmts: map[string]*cachedStmt{}}, nil
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
	stmts map[string]*cachedStmt
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

// stmt returns q's prepared statement, preparing it the first time; nil when the cache is full
// or the statement is in use. (A script of several statements is cached too: modernc then parses
// it statement by statement on each run, as it would uncached.)
func (c *cachingConn) stmt(ctx context.Context, q string) (*cachedStmt, error) {
	if cs, ok := c.stmts[q]; ok {
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
	c.stmts[q] = cs
	return cs, nil
}

// drop forgets q's statement after an error, so the next run prepares it afresh.
func (c *cachingConn) drop(q string, cs *cachedStmt) {
	if c.stmts[q] == cs {
		delete(c.stmts, q)
	}
	cs.s.Close()
}

func (c *cachingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.fullConn.ExecContext(ctx, q, args)
	}
	res, err := cs.s.(driver.StmtExecContext).ExecContext(ctx, args)
	if err != nil {
		c.drop(q, cs)
	}
	return res, err
}

func (c *cachingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.fullConn.QueryContext(ctx, q, args)
	}
	r, err := cs.s.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.drop(q, cs)
		return nil, err
	}
	cs.busy = true
	return &cachedRows{fullRows: r.(fullRows), done: func(err error) {
		cs.busy = false
		if err != nil {
			c.drop(q, cs)
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
