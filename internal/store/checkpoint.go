package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite's WAL is copied back into the database file by a checkpoint. Left to SQLite, the
// commit that takes the WAL past wal_autocheckpoint pages runs it on the committing connection:
// on posbridge's one writer connection, so every write, River fetch and short read waits for
// the copy and its fsync (one webhook intake transaction held the connection 914 ms in bench
// catalog). A connection of its own checkpoints instead, every checkpointEvery, in PASSIVE mode:
// it copies what no reader still needs without taking the write lock, so it never makes a
// writer wait (FULL, RESTART and TRUNCATE wait for the writers and readers and block new
// writers meanwhile). The WAL stays bounded: the writer's automatic checkpoint remains at
// walBackstopPages, reached only when this one falls behind (a burst of writes, or readers
// that hold old snapshots), and a WAL file that grew past walSizeLimit is cut back to it when
// the writer starts it over. At Close the writer, closed last, checkpoints everything and
// removes the WAL, as before.
const (
	checkpointEvery  = 250 * time.Millisecond
	walBackstopPages = 8192     // 32 MiB of 4 KiB pages (SQLite's default is 1,000)
	walSizeLimit     = 64 << 20 // bytes of WAL file kept after it starts over
)

type checkpointer struct {
	db     *sql.DB
	cancel context.CancelFunc
	wg     sync.WaitGroup
	copied atomic.Int64 // frames copied into the database by this connection's checkpoints (tests)
}

func startCheckpointer(ctx context.Context, path string) (*checkpointer, error) {
	db, err := sql.Open(sqliteDriverName, "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("open %s to checkpoint: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s to checkpoint: %w", path, err)
	}
	// The loop outlives Open's context: it runs until Close.
	lctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, cancel: cancel}
	c.wg.Add(1)
	go c.loop(lctx)
	return c, nil
}

func (c *checkpointer) loop(ctx context.Context) {
	defer c.wg.Done()
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A failed checkpoint is harmless (the next tick or the writer's backstop does it) and
		// the database's own errors show on the writer; nothing to report here. Frames copied
		// count every frame of the WAL up to the last one copied: a WAL the writer started over
		// counts again, so the sum is an upper bound (it says the loop works).
		if _, _, n, err := c.checkpoint(ctx); err == nil && n > 0 {
			c.copied.Add(int64(n))
		}
	}
}

// checkpoint runs one PASSIVE checkpoint and answers SQLite's three figures: whether it was
// blocked (1) or not (0), the WAL's frames, and the frames copied into the database.
func (c *checkpointer) checkpoint(ctx context.Context) (busy, frames, copied int, err error) {
	err = c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("checkpoint: %w", err)
	}
	return busy, frames, copied, nil
}

func (c *checkpointer) close() error {
	c.cancel()
	c.wg.Wait()
	if err := c.db.Close(); err != nil {
		return fmt.Errorf("close the checkpoint connection: %w", err)
	}
	return nil
}
