package bench

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

	"github.com/posbridge/posbridge/internal/store"
)

// noopQueue is the queue of the no-op jobs: the app's own River client works only the default
// queue, so it never takes them.
const noopQueue = "bench_noop"

// noopArgs is a job that does nothing.
type noopArgs struct{}

// Kind implements river.JobArgs.
func (noopArgs) Kind() string { return "bench_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
}

// Work does nothing.
func (noopWorker) Work(context.Context, *river.Job[noopArgs]) error { return nil }

// riverNoop measures River's throughput on no-op jobs on the store's database with a client of
// its own, tuned as internal/jobs tunes the app's (fetch cooldown 20 ms, poll interval 100 ms):
// jobs are inserted first (InsertMany, in batches), then the client starts and the time until
// the last one is completed is taken. The jobs are deleted afterwards.
//
// With clients > 0 the jobs are not inserted first: the client starts, and clients goroutines
// insert them one per transaction (as the app's API writes do, each with its document) while
// the workers work; the time runs from the first insert to the last completion. That is
// River's throughput in the shape the app uses it, the like-for-like baseline of the end-to-end
// figure.
func riverNoop(ctx context.Context, st *store.Store, jobs, workers, clients int, log *slog.Logger, timeout time.Duration) (RiverResult, error) {
	ws := river.NewWorkers()
	river.AddWorker(ws, &noopWorker{})
	cfg := &river.Config{
		Logger:            log,
		Queues:            map[string]river.QueueConfig{noopQueue: {MaxWorkers: workers}},
		Workers:           ws,
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 100 * time.Millisecond,
		JobTimeout:        time.Minute,
	}
	var (
		res RiverResult
		err error
	)
	if st.Dialect() == store.Postgres {
		var c *river.Client[pgx.Tx]
		if c, err = river.NewClient(riverpgxv5.New(st.Pool()), cfg); err == nil {
			res, err = measureNoop(ctx, c, jobs, workers, clients, timeout)
		}
		if _, derr := st.Pool().Exec(context.WithoutCancel(ctx), "DELETE FROM river_job WHERE queue = $1", noopQueue); derr != nil && err == nil {
			err = fmt.Errorf("delete the no-op jobs: %w", derr)
		}
	} else {
		var c *river.Client[*sql.Tx]
		if c, err = river.NewClient(riversqlite.New(st.SQLDB()), cfg); err == nil {
			res, err = measureNoop(ctx, c, jobs, workers, clients, timeout)
		}
		if _, derr := st.SQLDB().ExecContext(context.WithoutCancel(ctx), "DELETE FROM river_job WHERE queue = ?", noopQueue); derr != nil && err == nil {
			err = fmt.Errorf("delete the no-op jobs: %w", derr)
		}
	}
	if err != nil {
		return res, fmt.Errorf("river no-op throughput (%d workers): %w", workers, err)
	}
	return res, nil
}

func measureNoop[TTx any](ctx context.Context, c *river.Client[TTx], jobs, workers, clients int, timeout time.Duration) (RiverResult, error) {
	res := RiverResult{Jobs: jobs, Workers: workers, Clients: clients}
	// feed inserts the jobs: all at once before the client starts, or, with clients, one per
	// transaction from that many goroutines once it has started.
	feed := func(ctx context.Context) error {
		const batch = 1000
		params := make([]river.InsertManyParams, 0, batch)
		for done := 0; done < jobs; done += batch {
			params = params[:0]
			for i := done; i < min(done+batch, jobs); i++ {
				params = append(params, river.InsertManyParams{Args: noopArgs{}, InsertOpts: &river.InsertOpts{Queue: noopQueue}})
			}
			if _, err := c.InsertMany(ctx, params); err != nil {
				return err
			}
		}
		return nil
	}
	if clients > 0 {
		feed = func(ctx context.Context) error {
			return forEach(ctx, clients, make([]int, jobs), func(ctx context.Context, _ int) error {
				_, err := c.Insert(ctx, noopArgs{}, &river.InsertOpts{Queue: noopQueue})
				return err
			})
		}
	}
	insertErr := make(chan error, 1)
	t0 := time.Now()
	if clients == 0 {
		if err := feed(ctx); err != nil {
			return res, fmt.Errorf("insert no-op jobs: %w", err)
		}
		res.InsertSeconds = time.Since(t0).Seconds()
		insertErr = nil // nothing more to wait for
	}

	events, cancel := c.SubscribeConfig(&river.SubscribeConfig{ChanSize: jobs + 64,
		Kinds: []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed}})
	defer cancel()
	t1 := time.Now()
	if err := c.Start(ctx); err != nil {
		return res, fmt.Errorf("start the no-op client: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		c.Stop(sctx) //nolint:errcheck // every job is done; a slow stop changes no figure
	}()
	if clients > 0 {
		t0 = t1 // fed: the time runs from the first insert
		ictx, stopInserts := context.WithCancel(ctx)
		defer stopInserts()
		go func() { insertErr <- feed(ictx) }()
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var last time.Time
	for n := 0; n < jobs; {
		select {
		case ev := <-events:
			if ev.Kind != river.EventKindJobCompleted {
				return res, fmt.Errorf("a no-op job failed: %v", ev.Job.Errors)
			}
			if ev.Job.Queue == noopQueue {
				n++
				last = time.Now()
			}
		case err := <-insertErr:
			if err != nil {
				return res, fmt.Errorf("insert no-op jobs: %w", err)
			}
			res.InsertSeconds = time.Since(t0).Seconds()
			insertErr = nil
		case <-deadline.C:
			return res, fmt.Errorf("only %d of %d no-op jobs were worked within %s", n, jobs, timeout)
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	res.WorkSeconds = last.Sub(t1).Seconds()
	res.JobsPerSec = float64(jobs) / res.WorkSeconds
	return res, nil
}
