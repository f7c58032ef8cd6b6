package circuit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// clock is a settable time shared by the guards of a test ("processes" over one database).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openStore(t *testing.T, db testdb.Target) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: db.DataDir, DatabaseURL: db.DatabaseURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, a := range []string{"acct_a", "acct_b"} {
		if err := st.CreateAccount(ctx, domain.Account{ID: a, Name: a, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateIntegration(ctx, domain.Integration{ID: "int_" + a, AccountID: a, Type: "sandbox", Status: domain.StatusHealthy,
			CreatedAt: now, UpdatedAt: now}, "sealed", ""); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func timeout() error {
	return &connector.Error{Kind: connector.KindTemporary, Message: "the provider did not answer in time", Err: context.DeadlineExceeded}
}

func newTestGuard(st *store.Store, c *clock) *Guard {
	g := NewGuard(st, Policy{}, nil)
	g.now = c.now
	return g
}

// TestGuardSharedState: the breaker's state lives in the database, so a second process (a
// second Guard) sees what the first one recorded; exactly one trial is claimed among many
// concurrent jobs of both; opening and closing are timeline entries; other accounts see nothing.
func TestGuardSharedState(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		st := openStore(t, db)
		ctx := context.Background()
		clk := &clock{t: time.Now().UTC().Truncate(time.Microsecond)}
		p1, p2 := newTestGuard(st, clk), newTestGuard(st, clk)
		const acct, id = "acct_a", "int_acct_a"

		for i := range 3 {
			c, err := p1.Acquire(ctx, acct, id)
			if err != nil {
				t.Fatalf("call %d refused while closed: %v", i+1, err)
			}
			if err := c.Done(ctx, timeout()); err != nil {
				t.Fatal(err)
			}
		}
		cur, err := st.GetCircuit(ctx, acct, id)
		if err != nil || cur.State != domain.CircuitOpen || cur.ConsecutiveFailures != 3 || cur.Reason != domain.CircuitReasonTimeout ||
			cur.NextAttemptAt == nil || !cur.NextAttemptAt.Equal(clk.now().Add(30*time.Second)) {
			t.Fatalf("stored state after 3 timeouts: %+v %v", cur, err)
		}
		// The other process sees it at once (it never looked before) and snoozes to the next attempt.
		_, err = p2.Acquire(ctx, acct, id)
		w := AsWait(err)
		if w == nil || w.Reason != "circuit_open" || w.After < 30*time.Second || w.After > 38*time.Second {
			t.Fatalf("second process while open: %v", err)
		}
		// Tenant scope: another account reads nothing of it, and its own integration is closed.
		if other, err := st.GetCircuit(ctx, "acct_b", id); err != nil || other.State != domain.CircuitClosed || other.ConsecutiveFailures != 0 {
			t.Fatalf("another account read the circuit: %+v %v", other, err)
		}
		if _, err := st.LockCircuit(ctx, "acct_b", id, clk.now()); err != store.ErrNotFound {
			t.Fatalf("another account locked the circuit: %v", err)
		}
		if list, err := st.ListCircuits(ctx, "acct_b"); err != nil || len(list) != 0 {
			t.Fatalf("another account listed circuits: %v %v", list, err)
		}
		if c, err := p1.Acquire(ctx, "acct_b", "int_acct_b"); err != nil {
			t.Fatalf("account B's integration is held back by A's circuit: %v", err)
		} else {
			c.Done(ctx, nil)
		}

		// Due: 16 jobs on two processes at once; one trial.
		clk.add(30 * time.Second)
		var trials, waits atomic.Int64
		var trial *Call
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 16 {
			g := p1
			if i%2 == 1 {
				g = p2
			}
			wg.Go(func() {
				c, err := g.Acquire(ctx, acct, id)
				if w := AsWait(err); w != nil {
					waits.Add(1)
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				if !c.Trial {
					t.Error("a call went out without being the trial")
				}
				trials.Add(1)
				mu.Lock()
				trial = c
				mu.Unlock()
			})
		}
		wg.Wait()
		if trials.Load() != 1 || waits.Load() != 15 {
			t.Fatalf("trials %d, waits %d; want 1 and 15", trials.Load(), waits.Load())
		}
		if cur, _ := st.GetCircuit(ctx, acct, id); cur.State != domain.CircuitHalfOpen {
			t.Fatalf("state while the trial is out: %+v", cur)
		}
		// The others look again within seconds, not at the end of the trial's minute.
		clk.add(2 * time.Second)
		if _, err := p2.Acquire(ctx, acct, id); AsWait(err) == nil || AsWait(err).Reason != "trial_out" || AsWait(err).After > 6250*time.Millisecond {
			t.Fatalf("while the trial is out: %v", err)
		}
		// The trial fails: open again for twice as long.
		if err := trial.Done(ctx, timeout()); err != nil {
			t.Fatal(err)
		}
		cur, _ = st.GetCircuit(ctx, acct, id)
		if cur.State != domain.CircuitOpen || cur.OpenFor != time.Minute || !cur.NextAttemptAt.Equal(clk.now().Add(time.Minute)) {
			t.Fatalf("after a failed trial: %+v", cur)
		}
		// The next trial succeeds: closed, and both processes let calls through again.
		clk.add(time.Minute)
		c, err := p2.Acquire(ctx, acct, id)
		if err != nil || !c.Trial {
			t.Fatalf("second trial: %v %+v", err, c)
		}
		if err := c.Done(ctx, nil); err != nil {
			t.Fatal(err)
		}
		cur, _ = st.GetCircuit(ctx, acct, id)
		if cur.State != domain.CircuitClosed || cur.ConsecutiveFailures != 0 || cur.NextAttemptAt != nil {
			t.Fatalf("after a good trial: %+v", cur)
		}
		clk.add(2 * time.Second) // past p1's cache
		if c, err := p1.Acquire(ctx, acct, id); err != nil {
			t.Fatalf("first process after closing: %v", err)
		} else {
			c.Done(ctx, nil)
		}
		tl, err := st.ListTimeline(ctx, acct, store.TimelineFilter{IntegrationID: id, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range tl {
			kinds = append(kinds, e.Kind)
		}
		if len(kinds) != 2 || kinds[0] != domain.KindCircuitClosed || kinds[1] != domain.KindCircuitOpened {
			t.Fatalf("timeline kinds %v, want closed then opened (newest first)", kinds)
		}
		if tl[1].Message == "" || tl[0].Message == "" {
			t.Fatalf("timeline messages: %+v", tl)
		}
	})
}

// TestGuardInFlightCap: at most MaxInFlight calls to one integration are out at once in a
// process; the next job snoozes, and another integration is not affected.
func TestGuardInFlightCap(t *testing.T) {
	st := openStore(t, testdb.SQLite(t))
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	g := newTestGuard(st, clk)
	var out []*Call
	for range g.Policy().MaxInFlight {
		c, err := g.Acquire(ctx, "acct_a", "int_acct_a")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	clk.add(3 * time.Second)
	_, err := g.Acquire(ctx, "acct_a", "int_acct_a")
	w := AsWait(err)
	if w == nil || w.Reason != "in_flight_cap" || w.After < 3*time.Second || w.After > 4*time.Second {
		t.Fatalf("call over the cap: %v", err)
	}
	if c, err := g.Acquire(ctx, "acct_b", "int_acct_b"); err != nil {
		t.Fatalf("another integration: %v", err)
	} else {
		c.Done(ctx, nil)
	}
	out[0].Done(ctx, nil)
	out[0].Done(ctx, nil) // twice is harmless
	if c, err := g.Acquire(ctx, "acct_a", "int_acct_a"); err != nil {
		t.Fatalf("after a slot came back: %v", err)
	} else {
		out[0] = c
	}
	for _, c := range out {
		c.Done(ctx, nil)
	}
	if n := g.InFlight("int_acct_a"); n != 0 {
		t.Fatalf("%d calls still counted", n)
	}
}

// TestGuardCapWaitsForFastCalls: over the cap of a POS that answers quickly (its last call did,
// and the calls out are young), a job waits for the next slot instead of snoozing; it gives up
// when its context ends. After a failed call, a job over the cap snoozes at once.
func TestGuardCapWaitsForFastCalls(t *testing.T) {
	st := openStore(t, testdb.SQLite(t))
	ctx := context.Background()
	g := NewGuard(st, Policy{CapWait: time.Minute}, nil) // a generous wait: the test never races it
	fill := func() []*Call {
		var out []*Call
		for range g.Policy().MaxInFlight {
			c, err := g.Acquire(ctx, "acct_a", "int_acct_a")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out
	}
	out := fill()
	if _, err := g.Acquire(ctx, "acct_a", "int_acct_a"); AsWait(err) == nil {
		t.Fatalf("over the cap with no call answered yet: %v, want a snooze", err)
	}
	for _, c := range out {
		c.Done(ctx, nil)
	}
	out = fill()
	got := make(chan error, 1)
	go func() {
		c, err := g.Acquire(ctx, "acct_a", "int_acct_a")
		if err == nil {
			c.Done(ctx, nil)
		}
		got <- err
	}()
	out[0].Done(ctx, nil)
	if err := <-got; err != nil {
		t.Fatalf("a job over the cap of a fast POS: %v, want a slot once one came back", err)
	}
	if _, err := g.Acquire(ctx, "acct_a", "int_acct_a"); err != nil {
		t.Fatalf("a free slot: %v", err)
	}
	// Now all slots are out again (7 of out plus the one just taken): a cancelled context ends the wait.
	short, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := g.Acquire(short, "acct_a", "int_acct_a"); err == nil || AsWait(err) != nil {
		t.Fatalf("cancelled wait: %v, want the context's error", err)
	}
	// A call that timed out: the next job over the cap does not wait for this POS.
	out[1].Done(ctx, context.DeadlineExceeded)
	if _, err := g.Acquire(ctx, "acct_a", "int_acct_a"); err != nil {
		t.Fatalf("a free slot: %v", err)
	}
	if _, err := g.Acquire(ctx, "acct_a", "int_acct_a"); AsWait(err) == nil {
		t.Fatalf("over the cap after a timeout: %v, want a snooze", err)
	}
}
