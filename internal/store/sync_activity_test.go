package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/storetest"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestSyncActivity: the overview's chart counts one account's syncs that went through and that
// failed per UTC day, every day of the window present, nothing from outside the window or from
// another account.
func TestSyncActivity(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		st := storetest.Open(t, db, "acct_a", "acct_b")
		ctx := context.Background()
		now := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
		add := func(acct string, at time.Time, outcome string) {
			t.Helper()
			if err := st.AddHistory(ctx, acct, domain.KindInvoice, "INV-1", store.HistoryEntry{At: at, Action: "push", Outcome: outcome}); err != nil {
				t.Fatal(err)
			}
		}
		add("acct_a", now, "ok")
		add("acct_a", now.Add(-15*time.Hour), "ok") // 00:00 UTC today
		add("acct_a", now.Add(-15*time.Hour-time.Microsecond), "failed")
		add("acct_a", now.AddDate(0, 0, -6).Add(-15*time.Hour), "ok") // the first day, 00:00
		add("acct_a", now.AddDate(0, 0, -7), "ok")                    // before the window
		add("acct_a", now, "queued")                                  // neither went through nor failed
		add("acct_b", now, "failed")                                  // another account
		days, err := st.SyncActivity(ctx, "acct_a", now.AddDate(0, 0, -6), now)
		if err != nil {
			t.Fatal(err)
		}
		if len(days) != 7 || !days[0].Day.Equal(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)) || !days[6].Day.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("days: %+v", days)
		}
		want := []store.DayActivity{{OK: 1}, {}, {}, {}, {}, {Failed: 1}, {OK: 2}}
		for i, d := range days {
			if d.OK != want[i].OK || d.Failed != want[i].Failed {
				t.Fatalf("day %d (%s): %d ok, %d failed; want %d and %d", i, d.Day.Format("2006-01-02"), d.OK, d.Failed, want[i].OK, want[i].Failed)
			}
		}
	})
}
