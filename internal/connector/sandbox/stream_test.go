package sandbox

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// allSales reads every sale from the cursor on.
func allSales(t *testing.T, c *Conn, cursor string) ([]domain.Sale, string) {
	t.Helper()
	var out []domain.Sale
	for {
		p, err := c.SalesSince(context.Background(), cursor)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Items...)
		if p.Next == "" || p.Next == cursor || len(p.Items) == 0 {
			return out, p.Next
		}
		cursor = p.Next
	}
}

// TestSalesStream: a streaming sandbox has a month of sales (a dozen a day, a few refunded) as
// soon as it is made, reading them again adds nothing, and as time passes new sales and refunds
// appear after the cursor.
func TestSalesStream(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 12, 1, 15, 30, 0, 0, time.UTC)}
	e := newEnv(t, Options{SalesPerDay: 12, Now: clk.now})
	c := e.conn(t, e.key("stream"), 0)
	first, cursor := allSales(t, c, "")
	if len(first) < 25*9 || len(first) > 32*15+12 {
		t.Fatalf("%d sales after the back-fill, want about 30 days of 12", len(first))
	}
	refunded, ids := 0, map[string]bool{}
	for _, s := range first {
		if ids[s.ID] {
			t.Fatalf("sale %s listed twice", s.ID)
		}
		ids[s.ID] = true
		if s.Status == "refunded" {
			refunded++
		}
		if s.CompletedAt.After(clk.now()) || len(s.Lines) == 0 || s.Total.Amount <= 0 {
			t.Fatalf("sale %+v", s)
		}
	}
	if refunded == 0 || refunded > len(first)/5 {
		t.Fatalf("%d of %d refunded, want a few", refunded, len(first))
	}
	if again, _ := allSales(t, c, ""); len(again) != len(first) {
		t.Fatalf("read again: %d sales, want %d", len(again), len(first))
	}
	clk.add(24 * time.Hour)
	more, _ := allSales(t, c, cursor)
	if len(more) < 6 {
		t.Fatalf("a day later %d sales after the cursor, want the day's", len(more))
	}
	for _, s := range more {
		if !ids[s.ID] && s.CompletedAt.Before(clk.now().Add(-48*time.Hour)) {
			t.Fatalf("new sale %s from %s: only sales of the passing day are new", s.ID, s.CompletedAt)
		}
	}
	// Without the option, a tenant has the dozen sample sales and no more.
	e2 := newEnv(t, Options{Now: clk.now})
	if got, _ := allSales(t, e2.conn(t, e2.key("still"), 0), ""); len(got) != 12 {
		t.Fatalf("a tenant without the stream: %d sales, want 12", len(got))
	}
}
