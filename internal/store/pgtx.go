package store

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgTx is a PostgreSQL transaction that begins with its first statement: BEGIN goes in the same
// round trip (a pgx batch started with Batch.BeginTx) instead of one of its own. On a short
// transaction, as a document write or the end of a push is, that is one round trip in four. Once
// begun it is pgx's own transaction; before, it is a pgx.Tx too, so River's InsertTx works in it.
// A transaction that ran no statement never began, and its Commit sends nothing.
type pgTx struct {
	conn   *pgx.Conn
	tx     pgx.Tx // nil until the first statement
	closed bool   // committed or rolled back before it began
}

var _ pgx.Tx = (*pgTx)(nil)

// start sends b behind BEGIN and hands back the results of b's own statements.
func (t *pgTx) start(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	nb := &pgx.Batch{}
	nb.BeginTx(pgx.TxOptions{})
	nb.QueuedQueries = append(nb.QueuedQueries, b.QueuedQueries...)
	br := t.conn.SendBatch(ctx, nb)
	t.tx = br.Tx()
	if _, err := br.Exec(); err != nil { // BEGIN's own result
		return failedBatch{br: br, err: err}
	}
	return br
}

// begin begins the transaction by itself (for the statements that do not go in a batch).
func (t *pgTx) begin(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	if t.tx != nil {
		return nil
	}
	tx, err := t.conn.Begin(ctx)
	if err != nil {
		return err
	}
	t.tx = tx
	return nil
}

func (t *pgTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.tx != nil || t.closed {
		if err := t.begin(ctx); err != nil {
			return pgconn.CommandTag{}, err
		}
		return t.tx.Exec(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := t.start(ctx, b)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (t *pgTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.tx != nil || t.closed {
		if err := t.begin(ctx); err != nil {
			return errRow{err}
		}
		return t.tx.QueryRow(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := t.start(ctx, b)
	return batchRow{br: br, row: br.QueryRow()}
}

func (t *pgTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.tx != nil || t.closed {
		if err := t.begin(ctx); err != nil {
			return pgx.FailedBatchResults(b, err)
		}
		return t.tx.SendBatch(ctx, b)
	}
	return t.start(ctx, b)
}

func (t *pgTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := t.begin(ctx); err != nil {
		return nil, err
	}
	return t.tx.Query(ctx, sql, args...)
}

func (t *pgTx) Commit(ctx context.Context) error {
	if t.tx == nil {
		if t.closed {
			return pgx.ErrTxClosed
		}
		t.closed = true
		return nil // no statement ran: nothing to commit
	}
	return t.tx.Commit(ctx)
}

func (t *pgTx) Rollback(ctx context.Context) error {
	if t.tx == nil {
		if t.closed {
			return pgx.ErrTxClosed
		}
		t.closed = true
		return nil
	}
	return t.tx.Rollback(ctx)
}

// Begin starts a pseudo nested transaction (a savepoint).
func (t *pgTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if err := t.begin(ctx); err != nil {
		return nil, err
	}
	return t.tx.Begin(ctx)
}

func (t *pgTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.begin(ctx); err != nil {
		return 0, err
	}
	return t.tx.CopyFrom(ctx, table, cols, src)
}

// LargeObjects needs a begun transaction; call it after a statement.
func (t *pgTx) LargeObjects() pgx.LargeObjects {
	if t.tx == nil {
		return pgx.LargeObjects{}
	}
	return t.tx.LargeObjects()
}

func (t *pgTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Prepare(ctx, name, sql)
}

func (t *pgTx) Conn() *pgx.Conn { return t.conn }

// failedBatch answers every result with the error BEGIN failed with.
type failedBatch struct {
	br  pgx.BatchResults
	err error
}

func (f failedBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, f.err }
func (f failedBatch) Query() (pgx.Rows, error)         { return nil, f.err }
func (f failedBatch) QueryRow() pgx.Row                { return errRow{f.err} }
func (f failedBatch) Tx() pgx.Tx                       { return f.br.Tx() }
func (f failedBatch) Close() error {
	f.br.Close() //nolint:errcheck // BEGIN's error is the one to report
	return f.err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// batchRow is the row of a one-statement batch; scanning it ends the batch.
type batchRow struct {
	br  pgx.BatchResults
	row pgx.Row
}

func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}
