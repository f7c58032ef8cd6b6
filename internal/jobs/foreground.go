package jobs

import (
	"context"
	"sync"
	"time"
)

// Foreground is the work in this process that a merchant is waiting for now: an invoice being
// written and its push to the POS. Bulk work (a catalog import, a push of a whole catalog to a
// web shop) gives way to it between its steps (Yield), so one merchant's backfill does not sit
// in front of another's invoice: on SQLite both need the one writer connection, on a small box
// both need the CPU, and neither Go's scheduler nor database/sql's pool (which hands a freed
// connection to a waiter at random) knows which is urgent. Separate River queues already keep
// bulk jobs from taking the order workers; this keeps them from taking what those workers need.
// It is per process; a nil *Foreground has no foreground work.
//
// Bulk work yields only to foreground work that comes and goes: once some has been in flight
// without a break for ForegroundWindow (a POS that hangs on a push, or so many invoices that
// they overlap), Yield no longer waits, so a busy server runs its backfills as it would without
// priorities instead of almost stopping them.
type Foreground struct {
	mu    sync.Mutex
	n     int
	idle  chan struct{} // closed when n drops to 0; nil while n is 0
	since time.Time     // when n last went from 0 to 1
}

// ForegroundWindow is how long foreground work in flight without a break makes bulk work wait.
const ForegroundWindow = 250 * time.Millisecond

// Begin marks foreground work as started; call the answer when it ends (once; more is harmless).
func (f *Foreground) Begin() (end func()) {
	if f == nil {
		return func() {}
	}
	f.mu.Lock()
	if f.n == 0 {
		f.idle = make(chan struct{})
		f.since = time.Now()
	}
	f.n++
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.n--
			if f.n == 0 {
				close(f.idle)
				f.idle = nil
			}
		})
	}
}

// Yield waits while foreground work is in flight, at most max, and answers how long it waited.
// It does not wait once foreground work has been in flight without a break for ForegroundWindow.
func (f *Foreground) Yield(ctx context.Context, max time.Duration) time.Duration {
	if f == nil {
		return 0
	}
	f.mu.Lock()
	idle, since := f.idle, f.since
	f.mu.Unlock()
	if idle == nil || time.Since(since) > ForegroundWindow {
		return 0
	}
	t0 := time.Now()
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	case <-ctx.Done():
	}
	return time.Since(t0)
}

// Busy tells whether foreground work is in flight (tests).
func (f *Foreground) Busy() bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n > 0
}
