// Package store holds all of posbridge's SQL: one Store over SQLite (modernc.org/sqlite, WAL, the
// default) or PostgreSQL (pgx v5), the same schema on both (migrations run by goose at start), and
// the account id in every query so one tenant never reads another's rows. Queries are written once
// with $n placeholders, which both databases accept. Times are stored as Unix microseconds.
//
// Round trips are the cost that counts: on SQLite every statement stays prepared on its
// connection (sqlitedriver.go); on PostgreSQL a transaction's BEGIN travels with its first
// statement (pgtx.go) and statements that do not depend on each other go as one pgx batch
// (the batcher of a query; FinishPush, ClaimDocumentWithTarget).
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

//go:embed migrations
var migrations embed.FS

// Dialect names the database in use.
type Dialect string

// The supported databases.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Config says where the data lives.
type Config struct {
	DataDir     string // SQLite: posbridge.db inside; created when missing
	DatabaseURL string // postgres:// or postgresql:// switches to PostgreSQL
	MaxConns    int32  // PostgreSQL pool size (default 40)
}

// Store is the one way into the database. Its query methods run outside any transaction;
// Tx runs a function in one, and the same methods exist on the *Tx it gets.
type Store struct {
	queries
	dialect Dialect
	sqlDB   *sql.DB       // SQLite (and goose on PostgreSQL)
	pool    *pgxpool.Pool // PostgreSQL
	path    string
	readDB  *sql.DB // SQLite: read-only connections beside the one sqlDB has (see Reader)
	ckpt    *checkpointer
}

// Reader is the store's query methods for reads outside any transaction that may take long
// (a scan of a catalog): on SQLite they run on read-only connections of their own, so they do
// not hold the one connection every write, River's fetches and short reads wait for (SQLite's
// WAL lets reads run beside the writer; each read sees what was committed when it started). On
// PostgreSQL it is the store's pool. A write through it fails on SQLite.
type Reader struct{ queries }

// maxReadConns bounds the SQLite read-only connections (the long reads at once).
const maxReadConns = 2

// Open connects to the database the config names. It does not migrate; call Migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	u := cfg.DatabaseURL
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		pc, err := pgxpool.ParseConfig(u)
		if err != nil {
			return nil, fmt.Errorf("parse --database-url: %w", err)
		}
		pc.MaxConns = 40 // River workers, API requests and River's own maintenance share it
		if cfg.MaxConns > 0 {
			pc.MaxConns = cfg.MaxConns
		}
		pool, err := pgxpool.NewWithConfig(ctx, pc)
		if err != nil {
			return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := pool.Ping(pctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("connect to PostgreSQL at %s: %w", pc.ConnConfig.Host, err)
		}
		s := &Store{dialect: Postgres, pool: pool, sqlDB: stdlib.OpenDBFromPool(pool)}
		s.queries = queries{q: pgxQuerier{pool}, dialect: Postgres}
		return s, nil
	}
	if u != "" {
		return nil, fmt.Errorf("--database-url %q: only postgres:// URLs are supported (leave it empty for SQLite)", u)
	}
	dir := cfg.DataDir
	if dir == "" {
		dir = "data"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dir, "posbridge.db")
	// The WAL is checkpointed by a connection of its own (checkpoint.go); the writer's automatic
	// checkpoint is only the backstop when that one falls behind, and a WAL file grown past
	// journal_size_limit is cut back when it starts over.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_pragma=synchronous(NORMAL)" +
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)&_pragma=journal_size_limit(%d)", walBackstopPages, walSizeLimit) + "&_txlock=immediate"
	db, err := sql.Open(sqliteDriverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// River's SQLite driver wants a single connection (no SQLITE_BUSY between its goroutines).
	// Inside a transaction use only the transaction: the pool has nothing else to give.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Opened after the writer made the file and set WAL mode; query_only refuses any write.
	rdb, err := sql.Open(sqliteDriverName, "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_pragma=query_only(1)")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s to read: %w", path, err)
	}
	rdb.SetMaxOpenConns(maxReadConns)
	rdb.SetMaxIdleConns(maxReadConns)
	rdb.SetConnMaxIdleTime(0)
	rdb.SetConnMaxLifetime(0)
	ckpt, err := startCheckpointer(ctx, path)
	if err != nil {
		rdb.Close()
		db.Close()
		return nil, err
	}
	s := &Store{dialect: SQLite, sqlDB: db, path: path, readDB: rdb, ckpt: ckpt}
	s.queries = queries{q: sqlQuerier{db}, dialect: SQLite}
	return s, nil
}

// Reader runs reads that may take long outside the connection writes need (see Reader).
func (s *Store) Reader() Reader {
	if s.readDB == nil {
		return Reader{s.queries}
	}
	return Reader{queries{q: sqlQuerier{s.readDB}, dialect: SQLite}}
}

// Dialect tells which database the store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

// Path is the SQLite file, "" on PostgreSQL.
func (s *Store) Path() string { return s.path }

// SQLDB is the database/sql handle (River's SQLite driver uses it).
func (s *Store) SQLDB() *sql.DB { return s.sqlDB }

// Pool is the pgx pool on PostgreSQL (River's pgx driver uses it), nil on SQLite.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close releases the database.
func (s *Store) Close() error {
	var err error
	if s.ckpt != nil {
		err = s.ckpt.close()
	}
	if s.readDB != nil {
		err = errors.Join(err, s.readDB.Close()) // first: the writer, closed last, checkpoints the WAL
	}
	err = errors.Join(err, s.sqlDB.Close())
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.pool != nil {
		return s.pool.Ping(ctx)
	}
	return s.sqlDB.PingContext(ctx)
}

// Migrate applies the schema migrations that are not yet applied.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations/"+string(s.dialect))
	if err != nil {
		return err
	}
	d := goose.DialectSQLite3
	if s.dialect == Postgres {
		d = goose.DialectPostgres
	}
	// Numbers are handed out ahead of landing, so a database may hold a later migration than
	// one that lands after it: apply such a missing one instead of refusing to start.
	p, err := goose.NewProvider(d, s.sqlDB, sub, goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// Tx is an open transaction. Raw is the driver's own transaction (*sql.Tx on SQLite, pgx.Tx on
// PostgreSQL), for River's InsertTx.
type Tx struct {
	queries
	Raw any
}

// InTx runs fn in one transaction, committed when fn returns nil and rolled back otherwise.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	if s.pool != nil {
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer conn.Release() // a connection left inside a transaction is closed, not reused
		ptx := &pgTx{conn: conn.Conn()}
		defer ptx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
		if err := fn(&Tx{queries: queries{q: pgxQuerier{ptx}, dialect: Postgres}, Raw: ptx}); err != nil {
			return err
		}
		return ptx.Commit(ctx)
	}
	stx, err := s.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer stx.Rollback() //nolint:errcheck // no-op after commit
	if err := fn(&Tx{queries: queries{q: sqlQuerier{stx}, dialect: SQLite}, Raw: stx}); err != nil {
		return err
	}
	return stx.Commit()
}

// ErrNotFound is returned when a row does not exist (in the caller's account).
var ErrNotFound = errors.New("not found")

// querier is what both databases offer, in or out of a transaction.
type querier interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	query(ctx context.Context, q string, args ...any) (rows, error)
	queryRow(ctx context.Context, q string, args ...any) row
	batcher
}

// step is one statement of a batch and what to do with its answer: row for a query of one row,
// rows for a query of many, neither for a statement without rows.
type step struct {
	q    string
	args []any
	row  func(row) error
	rows func(rows) error
}

// batcher runs statements in order: on PostgreSQL in one round trip (a pgx batch), on SQLite one
// after the other (the database is in-process; there is no round trip to save).
type batcher interface {
	batch(ctx context.Context, steps []step) error
}

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

type row interface{ Scan(dest ...any) error }

type sqlConn interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

type sqlQuerier struct{ c sqlConn }

func (s sqlQuerier) exec(ctx context.Context, q string, args ...any) (int64, error) {
	if err := checkArgs(args); err != nil {
		return 0, err
	}
	res, err := s.c.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s sqlQuerier) query(ctx context.Context, q string, args ...any) (rows, error) {
	if err := checkArgs(args); err != nil {
		return nil, err
	}
	r, err := s.c.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func (s sqlQuerier) queryRow(ctx context.Context, q string, args ...any) row {
	if err := checkArgs(args); err != nil {
		return errRow{err}
	}
	return notFoundRow{s.c.QueryRowContext(ctx, q, args...)}
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

type pgxConn interface {
	Exec(ctx context.Context, q string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, q string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

func (p pgxQuerier) batch(ctx context.Context, steps []step) error {
	b := &pgx.Batch{}
	for _, st := range steps {
		if err := checkArgs(st.args); err != nil {
			return err
		}
		b.Queue(st.q, st.args...)
	}
	br := p.c.SendBatch(ctx, b)
	for _, st := range steps {
		var err error
		switch {
		case st.row != nil:
			err = st.row(notFoundRow{br.QueryRow()})
		case st.rows != nil:
			var rs pgx.Rows
			if rs, err = br.Query(); err == nil {
				err = st.rows(rs)
				rs.Close()
			}
		default:
			_, err = br.Exec()
		}
		if err != nil {
			br.Close()
			return mapDBError(err)
		}
	}
	return br.Close()
}

func (s sqlQuerier) batch(ctx context.Context, steps []step) error {
	for _, st := range steps {
		var err error
		switch {
		case st.row != nil:
			err = st.row(s.queryRow(ctx, st.q, st.args...))
		case st.rows != nil:
			var rs rows
			if rs, err = s.query(ctx, st.q, st.args...); err == nil {
				err = st.rows(rs)
				rs.Close()
			}
		default:
			_, err = s.exec(ctx, st.q, st.args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

type pgxQuerier struct{ c pgxConn }

func (p pgxQuerier) exec(ctx context.Context, q string, args ...any) (int64, error) {
	if err := checkArgs(args); err != nil {
		return 0, err
	}
	tag, err := p.c.Exec(ctx, q, args...)
	return tag.RowsAffected(), mapDBError(err)
}

func (p pgxQuerier) query(ctx context.Context, q string, args ...any) (rows, error) {
	if err := checkArgs(args); err != nil {
		return nil, err
	}
	r, err := p.c.Query(ctx, q, args...)
	return r, mapDBError(err)
}

func (p pgxQuerier) queryRow(ctx context.Context, q string, args ...any) row {
	if err := checkArgs(args); err != nil {
		return errRow{err}
	}
	return notFoundRow{p.c.QueryRow(ctx, q, args...)}
}

type notFoundRow struct{ r row }

func (n notFoundRow) Scan(dest ...any) error {
	err := n.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return mapDBError(err)
}

// queries holds every query method; Store and Tx both embed it.
type queries struct {
	q       querier
	dialect Dialect
}

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func microsPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := micros(*t)
	return &v
}

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromMicrosPtr(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMicros(*v)
	return &t
}
