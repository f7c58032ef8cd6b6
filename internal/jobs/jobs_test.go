package jobs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/jobs"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

type pingArgs struct {
	N int `json:"n"`
}

func (pingArgs) Kind() string { return "jobs_test_ping" }

type pingWorker struct {
	river.WorkerDefaults[pingArgs]
	mu   sync.Mutex
	seen map[int]bool
	ran  chan int
}

func (w *pingWorker) Work(_ context.Context, job *river.Job[pingArgs]) error {
	w.mu.Lock()
	w.seen[job.Args.N] = true
	w.mu.Unlock()
	w.ran <- job.Args.N
	return nil
}

// TestOpenStoreAndInsertTx: OpenStore migrates both schemas and may run again on a migrated
// database; a job enqueued in a transaction exists exactly when the transaction commits.
func TestOpenStoreAndInsertTx(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		ctx := context.Background()
		cfg := store.Config{DataDir: db.DataDir, DatabaseURL: db.DatabaseURL}
		first, err := jobs.OpenStore(ctx, cfg)
		if err != nil {
			t.Fatalf("open a fresh database: %v", err)
		}
		first.Close()
		st, err := jobs.OpenStore(ctx, cfg)
		if err != nil {
			t.Fatalf("open a migrated database again: %v", err)
		}
		t.Cleanup(func() { st.Close() })

		w := &pingWorker{seen: map[int]bool{}, ran: make(chan int, 4)}
		workers := river.NewWorkers()
		river.AddWorker(workers, w)
		q, err := jobs.New(st, jobs.Config{RunWorkers: true, MaxWorkers: 2, FetchPollInterval: 20 * time.Millisecond}, workers)
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			q.Stop(sctx) //nolint:errcheck // test teardown
		})

		rollback := errors.New("roll back")
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			if err := q.InsertTx(ctx, tx, pingArgs{N: 1}, nil); err != nil {
				return err
			}
			return rollback
		}); !errors.Is(err, rollback) {
			t.Fatalf("rolled-back transaction: %v", err)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return q.InsertTx(ctx, tx, pingArgs{N: 2}, nil) }); err != nil {
			t.Fatal(err)
		}
		// The committed job runs; the generous limit only bounds a broken run.
		select {
		case n := <-w.ran:
			if n != 2 {
				t.Fatalf("ran job %d, want the committed job 2", n)
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("the committed job never ran")
		}
		// The rolled-back job does not exist: a job inserted after it runs, and it never does.
		if _, err := q.Insert(ctx, pingArgs{N: 3}, nil); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-w.ran:
			if n != 3 {
				t.Fatalf("ran job %d, want 3", n)
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("job 3 never ran")
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.seen[1] {
			t.Fatal("the job of the rolled-back transaction ran")
		}
	})
}
