package retention_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/retention"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

func TestParseWindow(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"30d", 30 * 24 * time.Hour},
		{"365d", 365 * 24 * time.Hour},
		{"720h", 720 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"90m", 90 * time.Minute},
		{" 5s ", 5 * time.Second},
		{"0d1h", time.Hour},
	} {
		got, err := retention.ParseWindow(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseWindow(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "0", "0d", "-1d", "-5m", "d", "1.5d", "30 days", "1dd", "x1d", "40000d", "1d-2d"} {
		if d, err := retention.ParseWindow(bad); err == nil {
			t.Errorf("ParseWindow(%q) = %v, want an error", bad, d)
		}
	}
}

func TestNoticeAndRetainedSince(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 500, time.UTC)
	p := retention.Policy{Deliveries: 36 * time.Hour, Now: func() time.Time { return now }}
	if got, want := p.Notice(store.TimelineTable), "History is kept for 365 days; older entries are removed."; got != want {
		t.Errorf("timeline notice %q, want %q", got, want)
	}
	if got, want := p.Notice(store.WebhookEventsTable), "History is kept for 30 days; older entries are removed."; got != want {
		t.Errorf("webhook events notice %q, want %q", got, want)
	}
	if got := retention.FormatWindow(24 * time.Hour); got != "1 day" {
		t.Errorf("one day says %q", got)
	}
	if got := p.Notice(store.DeliveriesTable); got != "History is kept for 36h0m0s; older entries are removed." {
		t.Errorf("deliveries notice %q", got)
	}
	if got, want := p.RetainedSince(store.SyncHistoryTable), time.Date(2025, 12, 1, 12, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("sync history retained since %v, want %v", got, want)
	}
}

// TestPruneInBatches: old rows of every history table go, a bounded batch per statement and,
// with a spent budget, one batch per run that says more is left; young rows and webhook
// events still to be applied stay, however old.
func TestPruneInBatches(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		ctx := context.Background()
		st, err := store.Open(ctx, store.Config{DataDir: db.DataDir, DatabaseURL: db.DatabaseURL})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		old, young := now.Add(-48*time.Hour), now.Add(-time.Hour)
		if err := st.CreateAccount(ctx, domain.Account{ID: "acct_1", Name: "Shop", CreatedAt: old}); err != nil {
			t.Fatal(err)
		}
		const oldRows, youngRows = 250, 7
		err = st.InTx(ctx, func(tx *store.Tx) error {
			for i := 0; i < oldRows+youngRows; i++ {
				at := old.Add(time.Duration(i) * time.Second)
				if i >= oldRows {
					at = young
				}
				if err := tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: "acct_1", At: at, Kind: "k", Actor: "system", Message: "m"}); err != nil {
					return err
				}
				if err := tx.AddHistory(ctx, "acct_1", domain.KindInvoice, "INV-1", store.HistoryEntry{At: at, Action: "update", Outcome: "ok"}); err != nil {
					return err
				}
				if err := tx.AddCatalogChange(ctx, "acct_1", domain.RecordProduct, "prd_1", domain.ChangeUpdated, at); err != nil {
					return err
				}
				if err := tx.AddCatalogHistory(ctx, "acct_1", []domain.HistoryEntry{{Record: domain.RecordProduct, RecordID: "prd_1", At: at, Trigger: "product.updated",
					Changes: []domain.FieldChange{{Field: "name", From: "a", To: "b"}}}}); err != nil {
					return err
				}
				if err := tx.CreateDelivery(ctx, store.Delivery{ID: fmt.Sprintf("whd_%d", i), AccountID: "acct_1", EndpointID: "whe_1",
					EventType: "document.updated", Status: "delivered", CreatedAt: at, UpdatedAt: at}); err != nil {
					return err
				}
				status := store.EventProcessed
				if i%50 == 0 {
					status = store.EventReceived // not applied yet: kept
				}
				if _, err := tx.InsertWebhookEvent(ctx, store.WebhookEvent{ID: fmt.Sprintf("whev_%d", i), AccountID: "acct_1", IntegrationID: "int_1",
					ProviderEventID: fmt.Sprintf("evt_%d", i), Type: "order.updated", Topic: "order.completed", ObjectID: "ord_1",
					Status: status, ReceivedAt: at}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		pendingOld := int64(oldRows / 50)

		reg := prometheus.NewRegistry()
		day := 24 * time.Hour
		s := retention.New(st, retention.Config{Policy: retention.Policy{WebhookEvents: day, Deliveries: day, Timeline: day, SyncHistory: day,
			CatalogChanges: day, CatalogHistory: day,
			Now: func() time.Time { return now }}, BatchSize: 40, Budget: time.Nanosecond, Registerer: reg})

		// With no budget each run deletes one batch and says more is left.
		runs := 0
		for {
			runs++
			res, err := s.Prune(ctx)
			if err != nil {
				t.Fatal(err)
			}
			total := int64(0)
			for _, n := range res.Deleted {
				if n > 40 {
					t.Fatalf("run %d deleted %d rows of one table, more than a batch", runs, n)
				}
				total += n
			}
			if !res.More {
				break
			}
			if total == 0 || runs > 100 {
				t.Fatalf("run %d made no progress: %+v", runs, res)
			}
		}
		// 250 old rows in every table (less the pending events): a run ends at its first full
		// batch of 40 (after the short last batches of the tables before), and one more run
		// finds nothing old left.
		want := 1
		for _, tb := range store.HistoryTables {
			rows := oldRows
			if tb == store.WebhookEventsTable {
				rows -= int(pendingOld)
			}
			want += rows / 40
		}
		if runs != want {
			t.Errorf("%d runs; batches of 40 need %d", runs, want)
		}
		for _, tb := range store.HistoryTables {
			n, err := st.CountHistory(ctx, tb)
			if err != nil {
				t.Fatal(err)
			}
			want := int64(youngRows)
			if tb == store.WebhookEventsTable {
				want += pendingOld
			}
			if n != want {
				t.Errorf("%s keeps %d rows, want %d", tb, n, want)
			}
			pruned := prunedMetric(t, reg, tb)
			if wantPruned := float64(oldRows) - float64(want-int64(youngRows)); pruned != wantPruned {
				t.Errorf("posbridge_retention_pruned_rows_total{table=%q} = %v, want %v", tb, pruned, wantPruned)
			}
		}
		if n, err := st.CountPendingWebhookEvents(ctx); err != nil || n != pendingOld+1 { // and one young
			t.Errorf("%d pending webhook events (%v), want %d kept", n, err, pendingOld+1)
		}
		if _, err := st.GetWebhookEvent(ctx, "acct_1", "whev_0"); err != nil {
			t.Errorf("the oldest pending webhook event is gone: %v", err)
		}
		if _, err := st.GetWebhookEvent(ctx, "acct_1", "whev_1"); err != store.ErrNotFound {
			t.Errorf("an old processed webhook event is still there: %v", err)
		}

		// With a budget, one run takes everything that is old.
		later := retention.New(st, retention.Config{Policy: retention.Policy{Timeline: time.Minute, Now: func() time.Time { return now }}, BatchSize: 3})
		res, err := later.Prune(ctx)
		if err != nil || res.More || res.Deleted[store.TimelineTable] != youngRows {
			t.Fatalf("one run with a budget: %+v %v; want all %d young timeline rows gone", res, err, youngRows)
		}
	})
}

// prunedMetric reads posbridge_retention_pruned_rows_total{table} as the registry exposes it.
func prunedMetric(t *testing.T, reg *prometheus.Registry, tb store.HistoryTable) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "posbridge_retention_pruned_rows_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "table" && l.GetValue() == string(tb) {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no posbridge_retention_pruned_rows_total{table=%q}", tb)
	return 0
}

// BenchmarkPruneVsInsert: how fast prune_history removes rows compared with how fast the app
// writes them (one timeline insert per statement, the baseline in the same run), and the
// longest single prune statement, which is the longest any row lock (or SQLite's connection)
// is held. Run with -bench PruneVsInsert -benchtime 1x.
func BenchmarkPruneVsInsert(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var db testdb.Target
			if name == "sqlite" {
				db = testdb.SQLite(b)
			} else {
				db = testdb.Postgres(b)
			}
			ctx := context.Background()
			st, err := store.Open(ctx, store.Config{DataDir: db.DataDir, DatabaseURL: db.DatabaseURL})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			if err := st.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			if err := st.CreateAccount(ctx, domain.Account{ID: "acct_1", Name: "Shop", CreatedAt: base}); err != nil {
				b.Fatal(err)
			}
			const rows = 20000
			for i := 0; i < b.N; i++ {
				start := time.Now()
				for j := 0; j < rows; j++ {
					if err := st.AddTimeline(ctx, domain.TimelineEntry{AccountID: "acct_1", At: base.Add(time.Duration(j) * time.Millisecond),
						Kind: "k", Actor: "system", Message: "an entry of some length, like a check's outcome"}); err != nil {
						b.Fatal(err)
					}
				}
				insert := time.Since(start)
				start = time.Now()
				var longest time.Duration
				for {
					t0 := time.Now()
					n, err := st.PruneHistory(ctx, store.TimelineTable, base.Add(time.Hour), 1000)
					if err != nil {
						b.Fatal(err)
					}
					longest = max(longest, time.Since(t0))
					if n < 1000 {
						break
					}
				}
				prune := time.Since(start)
				b.ReportMetric(insert.Seconds()/prune.Seconds(), "prune_speed/insert_speed")
				b.ReportMetric(float64(longest.Microseconds())/1000, "longest_batch_ms")
			}
		})
	}
}
