package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/retention"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// testClock is a clock that stands still until the test moves it: every timestamp of a round
// is the same, and the windows are crossed without waiting real seconds.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// waitIdle waits until River holds no job that writes history (every push, webhook event,
// delivery and check has run), so that a round's rows all carry the round's time.
func waitIdle(t *testing.T, e *env) {
	t.Helper()
	poll(t, "background work done", func() bool {
		var n int
		err := e.app.Store.SQLDB().QueryRowContext(context.Background(), `SELECT count(*) FROM river_job
			WHERE state IN ('available', 'pending', 'running', 'retryable', 'scheduled')
			AND kind NOT IN ('prune_history', 'reconcile_orders', 'schedule_checks')`).Scan(&n)
		if err != nil {
			t.Fatalf("count River jobs: %v", err)
		}
		return n == 0
	})
}

// orderHistoryTables are the history tables order sync writes (the catalog's are
// TestRetentionKeepsCatalogTablesFlat's).
var orderHistoryTables = []store.HistoryTable{store.WebhookEventsTable, store.DeliveriesTable, store.TimelineTable, store.SyncHistoryTable}

// TestRetentionKeepsTablesFlat: with windows of a few seconds and a steady stream of documents
// (each synced to the Sandbox POS, completed there, its webhook received and applied, the app
// told through a webhook endpoint) and integration checks, all through the API, the history
// tables hold exactly the rows of the last window after each prune: their row counts stay
// flat. A webhook event not yet applied is never deleted. The clock is the test's: a round is
// one second later than the one before, in no real time.
func TestRetentionKeepsTablesFlat(t *testing.T) {
	t.Parallel()
	testdb.EachParallel(t, func(t *testing.T, db testdb.Target) {
		const (
			window   = 3 * time.Second
			step     = time.Second
			rounds   = 9
			perRound = 2
		)
		start0 := time.Now().UTC().Truncate(time.Second)
		clk := &testClock{t: start0}
		e := start(t, db, func(c *app.Config) {
			c.Clock = clk.now
			c.Retention = retention.Policy{WebhookEvents: window, Deliveries: window, Timeline: window, SyncHistory: window}
		})
		ctx := context.Background()
		s := newScen(t, e, map[string]any{"mark_invoice_paid_on_completion": true})
		s.waitSubscribed()
		hook := s.appHook()

		// A webhook event stored but not yet applied (its job has not run), from long ago. It
		// belongs to a quiet account: the stream's own intake drains s's pending events.
		quiet := newScen(t, e, nil)
		quiet.waitSubscribed()
		pending := store.WebhookEvent{ID: "whev_pending_retention", AccountID: quiet.accountID, IntegrationID: quiet.integration,
			ProviderEventID: "evt_pending_retention", Type: domain.ProviderOrderUpdated, Topic: "order.completed", ObjectID: "ord_none",
			Status: "received", Payload: "{}", ReceivedAt: clk.now().Add(-time.Hour)}
		if _, err := e.app.Store.InsertWebhookEvent(ctx, pending); err != nil {
			t.Fatal(err)
		}
		// counts are the history rows besides the pending event.
		counts := func() map[store.HistoryTable]int64 {
			t.Helper()
			out := map[store.HistoryTable]int64{}
			for _, tb := range orderHistoryTables {
				n, err := e.app.Store.CountHistory(ctx, tb)
				if err != nil {
					t.Fatal(err)
				}
				out[tb] = n
			}
			p, err := e.app.Store.CountPendingWebhookEvents(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if p != 1 {
				t.Fatalf("%d webhook events wait to be applied, want only the one the test stored", p)
			}
			out[store.WebhookEventsTable] -= p
			return out
		}
		waitIdle(t, e)
		// The periodic prune_history runs once when the workers start (River's leader, elected a
		// moment after); then not for the interval. Rounds begin after that run, so only the
		// test's prunes delete.
		poll(t, "the first prune_history run", func() bool {
			var n int
			if err := e.app.Store.SQLDB().QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE kind = 'prune_history' AND state = 'completed'`).Scan(&n); err != nil {
				t.Fatalf("count River jobs: %v", err)
			}
			return n > 0
		})

		// at(from, until) counts each table's rows whose time lies in [from, until). A round's
		// rows all carry its time (the clock stands still in a round), so a round's rows are
		// told apart by their time, not by when they were counted: a row written late (an
		// answer the Sandbox POS retried, a check a periodic job queued after waitIdle) still
		// belongs to its round, and is still in the window.
		at := func(from, until time.Time) map[store.HistoryTable]int64 {
			t.Helper()
			out := map[store.HistoryTable]int64{}
			for _, tb := range orderHistoryTables {
				n, err := e.app.Store.CountHistoryBetween(ctx, tb, from, until)
				if err != nil {
					t.Fatal(err)
				}
				out[tb] = n
			}
			return out
		}
		roundTime := func(r int) time.Time { return start0.Add(time.Duration(r) * step) }
		counts() // checks the pending event is the only one waiting
		series := map[store.HistoryTable][]int64{}
		most := map[store.HistoryTable]int64{} // the most rows one round wrote
		for r := 1; r <= rounds; r++ {
			clk.advance(step)
			var refs []string
			for k := 0; k < perRound; k++ {
				ref := fmt.Sprintf("RET-%d-%d", r, k)
				refs = append(refs, ref)
				s.put("invoice", ref, docBody("issued", "Service"))
			}
			for _, ref := range refs {
				ext := syncOf(s.waitSync("invoice", ref, "synced"))["external_id"].(string)
				if ev := s.complete(ext); ev["status"] != "processed" {
					t.Fatalf("round %d: webhook event of %s: %v", r, ref, ev)
				}
				if d := s.doc("invoice", ref); d["status"] != "paid" {
					t.Fatalf("round %d: %s is %v after its order completed", r, ref, d["status"])
				}
			}
			s.must(200, "POST", "/api/v1/integrations/"+s.integration+"/check", nil)
			waitIdle(t, e)

			for tb, n := range at(roundTime(r), roundTime(r+1)) {
				if n == 0 {
					t.Fatalf("round %d wrote no %s rows: the stream must touch every table", r, tb)
				}
			}
			// The window keeps the rounds whose time is not older than now - window.
			oldest := max(0, r-int(window/step))
			cutoff := clk.now().Add(-window)
			if r >= int(window/step) && !cutoff.Equal(roundTime(oldest)) {
				t.Fatalf("round %d: cutoff %s is not round %d's time %s", r, cutoff, oldest, roundTime(oldest))
			}
			kept := make([]map[store.HistoryTable]int64, r+1)
			for j := oldest; j <= r; j++ {
				kept[j] = at(roundTime(j), roundTime(j+1))
			}
			res, err := e.app.Retention.Prune(ctx)
			if err != nil {
				t.Fatalf("round %d: prune: %v", r, err)
			}
			// Nothing older than the window is left but the pending event, and nothing of the
			// window's rounds is gone.
			for tb, n := range at(time.Unix(0, 0), cutoff) {
				if want := map[bool]int64{true: 1}[tb == store.WebhookEventsTable]; n != want {
					t.Errorf("round %d: %s holds %d rows older than the window after the prune (deleted %d), want %d", r, tb, n, res.Deleted[tb], want)
				}
			}
			for j := oldest; j <= r; j++ {
				for tb, n := range at(roundTime(j), roundTime(j+1)) {
					if n < kept[j][tb] {
						t.Errorf("round %d: the prune deleted %d of round %d's %s rows, inside the window", r, kept[j][tb]-n, j, tb)
					}
				}
			}
			after := counts()
			for tb, n := range at(roundTime(r), roundTime(r+1)) {
				most[tb] = max(most[tb], n)
				series[tb] = append(series[tb], after[tb])
			}
		}
		// Flat: once the window is full, the counts stay within what one window of rounds
		// writes, and one round more for rows that came in after their round was counted.
		for _, tb := range orderHistoryTables {
			bound := most[tb] * int64(window/step+2)
			for i, n := range series[tb][int(window/step):] {
				if n > bound {
					t.Errorf("%s holds %d rows in round %d, more than a window's %d", tb, n, i+int(window/step)+1, bound)
				}
			}
			t.Logf("%s after each prune: %v", tb, series[tb])
		}
		hook.check(t)

		// The API says how far back each history goes.
		since := clk.now().Add(-window).UTC().Format(time.RFC3339)
		for _, path := range []string{"/api/v1/timeline", "/api/v1/documents/invoice/RET-1-0/sync-history",
			"/api/v1/integrations/" + s.integration + "/webhook-events"} {
			if got := s.must(200, "GET", path, nil)["retained_since"]; got != since {
				t.Errorf("GET %s: retained_since %v, want %s", path, got, since)
			}
		}

		// The periodic job itself: past every window, one run through River leaves nothing old,
		// and still the pending event.
		clk.advance(window + step)
		events, cancel := e.app.Queue.Subscribe(river.EventKindJobCompleted)
		defer cancel()
		if _, err := e.app.Queue.Insert(ctx, retention.PruneArgs{}, nil); err != nil {
			t.Fatal(err)
		}
		deadline := time.After(scenarioWait)
	wait:
		for {
			select {
			case ev := <-events:
				if ev.Job.Kind == "prune_history" {
					break wait
				}
			case <-deadline:
				t.Fatal("prune_history did not complete")
			}
		}
		for tb, n := range counts() {
			if n != 0 {
				t.Errorf("%s holds %d rows after a prune past every window (the clock at %d us)", tb, n, clk.now().UnixMicro())
				if tb == store.TimelineTable {
					rs, err := e.app.Store.SQLDB().QueryContext(ctx, `SELECT at, kind, actor, message FROM timeline ORDER BY id`)
					if err != nil {
						t.Fatal(err)
					}
					for rs.Next() {
						var at int64
						var kind, actor, msg string
						if err := rs.Scan(&at, &kind, &actor, &msg); err != nil {
							t.Fatal(err)
						}
						t.Logf("timeline row: at %d us, %s, %s: %s", at, kind, actor, msg)
					}
					rs.Close()
				}
			}
		}
		if _, err := e.app.Store.GetWebhookEvent(ctx, quiet.accountID, pending.ID); err != nil {
			t.Errorf("the pending webhook event is gone: %v", err)
		}

		// /metrics counts what was pruned, per table.
		metrics := string(mustStatus(t, 200, do(t, e.url, "", "GET", "/metrics", nil)).Body)
		for _, tb := range orderHistoryTables {
			if !strings.Contains(metrics, `posbridge_retention_pruned_rows_total{table="`+string(tb)+`"}`) ||
				strings.Contains(metrics, `posbridge_retention_pruned_rows_total{table="`+string(tb)+`"} 0`+"\n") {
				t.Errorf("/metrics shows no pruned %s rows", tb)
			}
		}
	})
}
