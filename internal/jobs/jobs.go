// Package jobs runs posbridge's background work on River, over SQLite (riversqlite) or
// PostgreSQL (riverpgxv5), whichever the store uses. It owns the River client, River's own
// migrations and transactional enqueue; the workers themselves live with the services whose
// work they do (lifecycle, outbox, ...) and are registered here through Register functions.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/posbridge/posbridge/internal/store"
)

// Config tunes the River client.
type Config struct {
	RunWorkers bool // false: insert-only client (serve --no-workers)
	MaxWorkers int  // default 50
	// Queues are further queues beside the default one, each with its own workers (the bulk
	// catalog work runs in "catalog", so it never sits in front of an invoice).
	Queues       map[string]int
	PeriodicJobs []*river.PeriodicJob
	Logger       *slog.Logger
	// FetchPollInterval is how often workers look for new jobs when the database cannot notify
	// them (SQLite). Default 100ms.
	FetchPollInterval time.Duration
	// RescueAfter is when a job left running by a crashed process is run again (default 5m).
	RescueAfter time.Duration
	// CompletedJobRetention is how long River keeps a completed job's row (default 1h): a
	// busy hub completes many jobs an hour, and River's own table should stay as flat as the
	// history tables retention prunes.
	CompletedJobRetention time.Duration
}

// Enqueuer inserts River jobs in a store transaction: the job exists if and only if the
// transaction commits. Queue is one; services take this so they can be built before it.
type Enqueuer interface {
	InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

// Queue is the River client for the store's database.
type Queue struct {
	lite *river.Client[*sql.Tx]
	pg   *river.Client[pgx.Tx]
}

// OpenStore opens the database cfg names and brings it up to date: posbridge's schema, then
// River's own tables. On error nothing is left open.
func OpenStore(ctx context.Context, cfg store.Config) (*store.Store, error) {
	st, err := store.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := Migrate(ctx, st); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// Migrate applies River's own migrations.
func Migrate(ctx context.Context, s *store.Store) error {
	var err error
	if s.Dialect() == store.Postgres {
		var m *rivermigrate.Migrator[pgx.Tx]
		if m, err = rivermigrate.New(riverpgxv5.New(s.Pool()), nil); err == nil {
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
	} else {
		var m *rivermigrate.Migrator[*sql.Tx]
		if m, err = rivermigrate.New(riversqlite.New(s.SQLDB()), nil); err == nil {
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
	}
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

// New builds the client. register adds every worker (and must be the same set on every process).
func New(s *store.Store, cfg Config, workers *river.Workers) (*Queue, error) {
	if cfg.MaxWorkers == 0 {
		cfg.MaxWorkers = 50
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	rc := &river.Config{
		Logger:               cfg.Logger,
		JobTimeout:           2 * time.Minute,
		RescueStuckJobsAfter: 5 * time.Minute,
		MaxAttempts:          10,
		// River keeps completed jobs 24h by default; posbridge needs none of them afterwards
		// (what a job did is in the documents, history and timeline).
		CompletedJobRetentionPeriod: time.Hour,
	}
	if cfg.CompletedJobRetention > 0 {
		rc.CompletedJobRetentionPeriod = cfg.CompletedJobRetention
	}
	if cfg.RescueAfter > 0 {
		rc.RescueStuckJobsAfter = cfg.RescueAfter
		if rc.JobTimeout >= cfg.RescueAfter {
			rc.JobTimeout = cfg.RescueAfter / 2
		}
	}
	if cfg.RunWorkers {
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.MaxWorkers}}
		for name, n := range cfg.Queues {
			if n > 0 {
				rc.Queues[name] = river.QueueConfig{MaxWorkers: n}
			}
		}
		rc.Workers = workers
		rc.PeriodicJobs = cfg.PeriodicJobs
		rc.FetchCooldown = 20 * time.Millisecond
		rc.FetchPollInterval = cfg.FetchPollInterval
		if rc.FetchPollInterval == 0 {
			rc.FetchPollInterval = 100 * time.Millisecond
		}
	}
	q := &Queue{}
	var err error
	if s.Dialect() == store.Postgres {
		q.pg, err = river.NewClient(riverpgxv5.New(s.Pool()), rc)
	} else {
		q.lite, err = river.NewClient(riversqlite.New(s.SQLDB()), rc)
	}
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return q, nil
}

// Start starts the workers (a no-op for an insert-only client).
func (q *Queue) Start(ctx context.Context) error {
	if q.pg != nil {
		return q.pg.Start(ctx)
	}
	return q.lite.Start(ctx)
}

// Stop waits for running jobs to finish, up to ctx's deadline.
func (q *Queue) Stop(ctx context.Context) error {
	if q.pg != nil {
		return q.pg.Stop(ctx)
	}
	return q.lite.Stop(ctx)
}

// InsertTx enqueues a job in the transaction tx, so it exists exactly when tx commits.
func (q *Queue) InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	var err error
	switch raw := tx.Raw.(type) {
	case *sql.Tx:
		_, err = q.lite.InsertTx(ctx, raw, args, opts)
	case pgx.Tx:
		_, err = q.pg.InsertTx(ctx, raw, args, opts)
	default:
		err = fmt.Errorf("unknown transaction type %T", tx.Raw)
	}
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return nil
}

// Insert enqueues a job outside any transaction.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	if q.pg != nil {
		return q.pg.Insert(ctx, args, opts)
	}
	return q.lite.Insert(ctx, args, opts)
}

// Waiting tells whether a job of the queue is available to be worked now (waiting for a worker).
// A long job that yields its worker at intervals asks it first: when none waits, it goes on.
func (q *Queue) Waiting(ctx context.Context, queue string) (bool, error) {
	params := river.NewJobListParams().Queues(queue).States(rivertype.JobStateAvailable).First(1)
	var n int
	if q.pg != nil {
		res, err := q.pg.JobList(ctx, params)
		if err != nil {
			return false, fmt.Errorf("jobs waiting in %s: %w", queue, err)
		}
		n = len(res.Jobs)
	} else {
		res, err := q.lite.JobList(ctx, params)
		if err != nil {
			return false, fmt.Errorf("jobs waiting in %s: %w", queue, err)
		}
		n = len(res.Jobs)
	}
	return n > 0, nil
}

// Subscribe returns a channel of job events of the given kinds (tests and benchmarks).
func (q *Queue) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	if q.pg != nil {
		return q.pg.Subscribe(kinds...)
	}
	return q.lite.Subscribe(kinds...)
}

// CompleteTx marks the running job completed in the transaction tx (River's JobCompleteTx), so
// that the job leaves its unique states exactly when tx commits. Call it from the job's Work.
func CompleteTx[T river.JobArgs](ctx context.Context, tx *store.Tx, job *river.Job[T]) error {
	var err error
	switch raw := tx.Raw.(type) {
	case *sql.Tx:
		_, err = river.JobCompleteTx[*riversqlite.Driver](ctx, raw, job)
	case pgx.Tx:
		_, err = river.JobCompleteTx[*riverpgxv5.Driver](ctx, raw, job)
	default:
		err = fmt.Errorf("unknown transaction type %T", tx.Raw)
	}
	if err != nil {
		return fmt.Errorf("complete %s job %d: %w", job.Kind, job.ID, err)
	}
	return nil
}
