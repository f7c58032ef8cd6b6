package jobs

import (
	"context"
	"testing"
	"time"
)

func TestForeground(t *testing.T) {
	ctx := context.Background()
	var nilF *Foreground
	nilF.Begin()()
	if d := nilF.Yield(ctx, time.Hour); d != 0 || nilF.Busy() {
		t.Fatalf("nil Foreground: waited %v, busy %v", d, nilF.Busy())
	}
	f := &Foreground{}
	if d := f.Yield(ctx, time.Hour); d != 0 {
		t.Fatalf("idle: Yield waited %v", d)
	}
	end1, end2 := f.Begin(), f.Begin()
	// Bounded: with work in flight Yield returns after max.
	if d := f.Yield(ctx, 5*time.Millisecond); d < 5*time.Millisecond {
		t.Fatalf("busy: Yield waited %v, want at least max (5ms)", d)
	}
	end1()
	end1() // a second call changes nothing
	if !f.Busy() {
		t.Fatal("one of two ended: not busy")
	}
	done := make(chan time.Duration)
	go func() { done <- f.Yield(ctx, time.Hour) }()
	end2()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("Yield did not return when the foreground work ended")
	}
	if f.Busy() {
		t.Fatal("both ended: still busy")
	}
	// Again after idle, and a cancelled context ends the wait.
	end3 := f.Begin()
	defer end3()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if d := f.Yield(cctx, time.Hour); d > time.Minute {
		t.Fatalf("cancelled: Yield waited %v", d)
	}
	// Foreground work in flight without a break for longer than the window: no wait.
	f.mu.Lock()
	f.since = time.Now().Add(-2 * ForegroundWindow)
	f.mu.Unlock()
	if d := f.Yield(ctx, time.Hour); d > time.Minute {
		t.Fatalf("busy past the window: Yield waited %v", d)
	}
}
