package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestLoginThrottleShared: the login throttle's counters are claimed atomically in the
// database, so two store handles (two posbridge processes) share one limit, and of 40
// concurrent attempts exactly as many as the limit allows get through.
func TestLoginThrottleShared(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		a, b := open(t, db), open(t, db) // two handles on one database, as two processes
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		window := 15 * time.Minute
		email := []store.LoginLimit{{Key: "addr:203.0.113.9", Max: 50}, {Key: "email:a@shop.test", Max: 10}}

		// 10 attempts, alternating between the processes, go through; the 11th is refused on both.
		for i := 0; i < 10; i++ {
			st := a
			if i%2 == 1 {
				st = b
			}
			if wait, err := st.ClaimLoginAttempt(ctx, email, window, now.Add(time.Duration(i)*time.Second)); err != nil || wait != 0 {
				t.Fatalf("attempt %d: wait %v, %v", i+1, wait, err)
			}
		}
		for _, st := range []*store.Store{a, b} {
			wait, err := st.ClaimLoginAttempt(ctx, email, window, now.Add(time.Minute))
			if err != nil || wait != window-time.Minute {
				t.Fatalf("11th attempt: wait %v (want %v), %v", wait, window-time.Minute, err)
			}
		}
		// The window ends 15 minutes after it started: attempts count from 1 again.
		if wait, err := b.ClaimLoginAttempt(ctx, email, window, now.Add(window)); err != nil || wait != 0 {
			t.Fatalf("after the window: wait %v, %v", wait, err)
		}

		// 40 concurrent attempts on a fresh email, from both processes: exactly 10 get through.
		fresh := []store.LoginLimit{{Key: "addr:198.51.100.1", Max: 50}, {Key: "email:b@shop.test", Max: 10}}
		var passed, refused atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := 0; i < 40; i++ {
			st := a
			if i%2 == 1 {
				st = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				wait, err := st.ClaimLoginAttempt(ctx, fresh, window, now)
				switch {
				case err != nil:
					errs <- err
				case wait == 0:
					passed.Add(1)
				default:
					refused.Add(1)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent claim: %v", err)
		}
		if passed.Load() != 10 || refused.Load() != 30 {
			t.Fatalf("40 concurrent attempts: %d passed, %d refused; want 10 and 30", passed.Load(), refused.Load())
		}

		// Per client address: 50 attempts on 50 emails, then the address is refused for any email.
		addr := "addr:192.0.2.77"
		for i := 0; i < 50; i++ {
			l := []store.LoginLimit{{Key: addr, Max: 50}, {Key: "email:u" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@x.test", Max: 10}}
			if wait, err := a.ClaimLoginAttempt(ctx, l, window, now); err != nil || wait != 0 {
				t.Fatalf("address attempt %d: %v %v", i+1, wait, err)
			}
		}
		if wait, _ := b.ClaimLoginAttempt(ctx, []store.LoginLimit{{Key: addr, Max: 50}, {Key: "email:new@x.test", Max: 10}}, window, now); wait == 0 {
			t.Fatal("the 51st attempt from one address went through")
		}

		// A successful login clears the email's count and gives the address its attempt back.
		other := []store.LoginLimit{{Key: "addr:192.0.2.1", Max: 2}, {Key: "email:c@shop.test", Max: 2}}
		for i := 0; i < 2; i++ {
			if wait, _ := a.ClaimLoginAttempt(ctx, other, window, now); wait != 0 {
				t.Fatalf("attempt %d refused", i+1)
			}
		}
		if err := b.LoginSucceeded(ctx, []string{"email:c@shop.test"}, []string{"addr:192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
		if wait, _ := a.ClaimLoginAttempt(ctx, other, window, now); wait != 0 {
			t.Fatal("refused after a successful login")
		}
		if wait, _ := a.ClaimLoginAttempt(ctx, other, window, now); wait == 0 {
			t.Fatal("the address's failures were all forgotten by one success")
		}

		// Windows long over are pruned.
		n, err := a.PruneLoginThrottle(ctx, now.Add(2*window))
		if err != nil || n == 0 {
			t.Fatalf("prune: %d, %v", n, err)
		}
	})
}
