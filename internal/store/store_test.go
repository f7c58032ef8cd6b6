package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

func open(t *testing.T, db testdb.Target) *store.Store {
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
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("second migrate should be a no-op: %v", err)
	}
	return st
}

func TestStoreTenantScopeAndTimeline(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		st := open(t, db)
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC)
		for _, a := range []string{"acct_a", "acct_b"} {
			if err := st.CreateAccount(ctx, domain.Account{ID: a, Name: a, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		in := domain.Integration{ID: "int_1", AccountID: "acct_a", Type: "sandbox", Status: domain.StatusInitializing,
			CreatedAt: now, UpdatedAt: now, NextCheckAt: &now}
		if err := st.CreateIntegration(ctx, in, "sealed", ""); err != nil {
			t.Fatal(err)
		}
		got, err := st.GetIntegration(ctx, "acct_a", "int_1")
		if err != nil || !got.CreatedAt.Equal(now) || got.NextCheckAt == nil || !got.NextCheckAt.Equal(now) {
			t.Fatalf("read back %+v %v", got, err)
		}
		if _, err := st.GetIntegration(ctx, "acct_b", "int_1"); err != store.ErrNotFound {
			t.Fatalf("another account read the integration: %v", err)
		}
		got.Nickname = "x"
		got.AccountID = "acct_b"
		if err := st.UpdateIntegration(ctx, got); err != store.ErrNotFound {
			t.Fatalf("another account updated the integration: %v", err)
		}
		// Transactions roll back on error.
		err = st.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: "acct_a", Kind: "k", Actor: "a", Message: "rolled back"}); err != nil {
				return err
			}
			return domain.Errorf(domain.CodeConflict, "stop")
		})
		if !domain.IsCode(err, domain.CodeConflict) {
			t.Fatalf("InTx error: %v", err)
		}
		for i := 0; i < 5; i++ {
			if err := st.AddTimeline(ctx, domain.TimelineEntry{AccountID: "acct_a", At: now, Kind: "k", IntegrationID: "int_1", Actor: "a", Message: "m"}); err != nil {
				t.Fatal(err)
			}
		}
		page, err := st.ListTimeline(ctx, "acct_a", store.TimelineFilter{Limit: 3})
		if err != nil || len(page) != 3 || page[0].ID <= page[1].ID {
			t.Fatalf("newest first: %+v %v", page, err)
		}
		rest, _ := st.ListTimeline(ctx, "acct_a", store.TimelineFilter{Limit: 10, Before: page[2].ID})
		if len(rest) != 2 {
			t.Fatalf("before cursor: %d entries, want 2 (rolled back entry must not exist)", len(rest))
		}
		if b, _ := st.ListTimeline(ctx, "acct_b", store.TimelineFilter{}); len(b) != 0 {
			t.Fatalf("account b sees %d entries of a", len(b))
		}
		due, err := st.DueIntegrations(ctx, now.Add(time.Second), 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("due: %v %v", due, err)
		}
		claimed, err := st.ClaimDueCheck(ctx, "acct_a", "int_1", now.Add(time.Second), now.Add(time.Hour))
		if err != nil || !claimed {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		if again, _ := st.ClaimDueCheck(ctx, "acct_a", "int_1", now.Add(time.Second), now.Add(time.Hour)); again {
			t.Fatal("claimed twice")
		}
	})
}

// TestPushLeaseAndFinish walks one push through the store: the claim returns the row and the
// order target and holds the lease, a second claim is refused, FinishPush refuses a row that
// moved on (another version, another manual action) and writes nothing, and on the pushed
// version it records the order, writes the history and gives the lease back.
func TestPushLeaseAndFinish(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		st := open(t, db)
		ctx := context.Background()
		now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
		if err := st.CreateAccount(ctx, domain.Account{ID: "acct_a", Name: "A", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateIntegration(ctx, domain.Integration{ID: "int_1", AccountID: "acct_a", Type: "sandbox",
			Status: domain.StatusHealthy, CreatedAt: now, UpdatedAt: now}, "sealed-creds", "sealed-secret"); err != nil {
			t.Fatal(err)
		}
		d := domain.Document{AccountID: "acct_a", Kind: domain.KindInvoice, Ref: "INV-1", Version: 2, CreatedAt: now, UpdatedAt: now,
			DocContent: domain.DocContent{Status: "issued", Lines: []domain.DocLine{}},
			Sync:       domain.DocSync{Status: domain.SyncPending, AutoSync: true, Action: "resync", ExternalID: "ord_1", IntegrationID: "int_1"}}
		if created, err := st.InsertDocument(ctx, d); err != nil || !created {
			t.Fatalf("insert: %v %v", created, err)
		}
		if created, err := st.InsertDocument(ctx, d); err != nil || created {
			t.Fatalf("second insert of one ref: created %v, %v", created, err)
		}
		got, target, ok, err := st.ClaimDocumentWithTarget(ctx, "acct_a", domain.KindInvoice, "INV-1", now, now.Add(time.Minute))
		if err != nil || !ok || got.Sync.Status != domain.SyncSyncing || got.Version != 2 || got.Sync.ExternalID != "ord_1" {
			t.Fatalf("claim: %v %v %+v", ok, err, got.Sync)
		}
		if target == nil || target.Integration.ID != "int_1" || target.Integration.Status != domain.StatusHealthy ||
			target.SealedCredentials != "sealed-creds" || target.Settings != domain.DefaultOrderSyncSettings() {
			t.Fatalf("the claim's order target: %+v", target)
		}
		if _, _, ok, err := st.ClaimDocumentWithTarget(ctx, "acct_a", domain.KindInvoice, "INV-1", now.Add(time.Second), now.Add(time.Minute)); err != nil || ok {
			t.Fatalf("second claim while leased: %v %v", ok, err)
		}
		v := store.Synced{Version: 1, Action: "resync", IntegrationID: "int_1", ExternalID: "ord_1", At: now}
		h := store.HistoryEntry{At: now, Action: "update", Outcome: "ok", Summary: "Updated order ord_1"}
		history := func() int {
			hs, err := st.ListHistory(ctx, "acct_a", domain.KindInvoice, "INV-1", 10)
			if err != nil {
				t.Fatal(err)
			}
			return len(hs)
		}
		if f, err := st.FinishPush(ctx, "acct_a", domain.KindInvoice, "INV-1", v, h); err != nil || f.Synced {
			t.Fatalf("finish a push of an older version: %v %v", f.Synced, err)
		}
		v.Version, v.Action = 2, "new"
		if f, err := st.FinishPush(ctx, "acct_a", domain.KindInvoice, "INV-1", v, h); err != nil || f.Synced {
			t.Fatalf("finish a push while another action is asked for: %v %v", f.Synced, err)
		}
		if got, _ := st.GetDocument(ctx, "acct_a", domain.KindInvoice, "INV-1"); got.Sync.Status != domain.SyncSyncing || got.Sync.Action != "resync" || history() != 0 {
			t.Fatalf("a refused FinishPush wrote: %+v, %d history entries", got.Sync, history())
		}
		v.Action, v.ExternalURL = "resync", "https://pos.example/orders/ord_1"
		f, err := st.FinishPush(ctx, "acct_a", domain.KindInvoice, "INV-1", v, h)
		if err != nil || !f.Synced || len(f.Endpoints) != 0 || history() != 1 {
			t.Fatalf("finish the push: %+v %v, %d history entries", f, err, history())
		}
		got = f.Document
		if s := got.Sync; s.Status != domain.SyncSynced || s.Action != "" || s.SyncedVersion != 2 || s.IntegrationID != "int_1" ||
			s.ExternalURL != v.ExternalURL || s.LastSyncedAt == nil || !s.LastSyncedAt.Equal(now) {
			t.Fatalf("after FinishPush: %+v", s)
		}
		// The lease went back: the next push claims at once.
		if _, _, ok, err := st.ClaimDocumentWithTarget(ctx, "acct_a", domain.KindInvoice, "INV-1", now.Add(2*time.Second), now.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("claim after FinishPush: %v %v", ok, err)
		}
		// Another account's ref is not found.
		if _, _, ok, err := st.ClaimDocumentWithTarget(ctx, "acct_b", domain.KindInvoice, "INV-1", now.Add(time.Hour), now.Add(2*time.Hour)); err != nil || ok {
			t.Fatalf("claim from another account: %v %v", ok, err)
		}
	})
}

// TestTransactions checks InTx on both databases, PostgreSQL's transaction beginning with its
// first statement included: whichever kind of statement comes first (a row, a batch, a plain
// statement, a query of rows), a commit keeps every write and an error rolls all of them back; a
// failing first statement leaves nothing behind; a transaction without statements commits.
func TestTransactions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		st := open(t, db)
		ctx := context.Background()
		now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
		accounts := func() int {
			n := 0
			for _, id := range []string{"acct_1", "acct_2", "acct_3", "acct_4", "acct_5"} {
				if _, err := st.GetAccount(ctx, id); err == nil {
					n++
				}
			}
			return n
		}
		boom := errors.New("boom")
		firsts := map[string]func(tx *store.Tx) error{
			"row": func(tx *store.Tx) error { _, err := tx.GetOrderSyncSettings(ctx, "acct_x"); return err },
			"batch": func(tx *store.Tx) error {
				_, err := tx.FinishPush(ctx, "acct_x", domain.KindInvoice, "none", store.Synced{}, store.HistoryEntry{})
				return err
			},
			"exec": func(tx *store.Tx) error {
				return tx.CreateAccount(ctx, domain.Account{ID: "acct_5", Name: "5", CreatedAt: now})
			},
			"rows": func(tx *store.Tx) error { _, err := tx.ListWebhookEndpoints(ctx, "acct_x"); return err },
		}
		for name, first := range firsts {
			// Rolled back: nothing stays.
			err := st.InTx(ctx, func(tx *store.Tx) error {
				if err := first(tx); err != nil {
					return err
				}
				if err := tx.CreateAccount(ctx, domain.Account{ID: "acct_1", Name: "1", CreatedAt: now}); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) || accounts() != 0 {
				t.Fatalf("%s first, rolled back: %v, %d accounts", name, err, accounts())
			}
		}
		// Committed: every write stays.
		for name, first := range firsts {
			if err := st.InTx(ctx, func(tx *store.Tx) error {
				if err := first(tx); err != nil {
					return err
				}
				return tx.CreateAccount(ctx, domain.Account{ID: "acct_" + map[string]string{"row": "1", "batch": "2", "exec": "3", "rows": "4"}[name], Name: name, CreatedAt: now})
			}); err != nil {
				t.Fatalf("%s first, committed: %v", name, err)
			}
		}
		if accounts() != 5 {
			t.Fatalf("after four commits: %d accounts, want 5", accounts())
		}
		// A failing first statement (a duplicate key): the error comes back, nothing stays, and the
		// next transaction works.
		err := st.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateAccount(ctx, domain.Account{ID: "acct_1", Name: "again", CreatedAt: now}); err != nil {
				return err
			}
			return tx.CreateAccount(ctx, domain.Account{ID: "acct_6", Name: "6", CreatedAt: now})
		})
		if err == nil {
			t.Fatal("a duplicate account was created")
		}
		if _, err := st.GetAccount(ctx, "acct_6"); err == nil {
			t.Fatal("a write after a failed first statement stayed")
		}
		if err := st.InTx(ctx, func(*store.Tx) error { return nil }); err != nil {
			t.Fatalf("a transaction without statements: %v", err)
		}
		if a, err := st.GetAccount(ctx, "acct_1"); err != nil || a.Name != "row" {
			t.Fatalf("acct_1 after all: %+v %v", a, err)
		}
	})
}

// TestNULNeverReachesTheDatabase: a NUL byte or invalid UTF-8 in a text argument is refused
// before the database sees it, with a typed 4xx error, on both databases.
func TestNULNeverReachesTheDatabase(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		st := open(t, db)
		ctx := context.Background()
		for _, bad := range []string{"int_\x00", "a\xffb"} {
			_, err := st.AccountByAPIKeyHash(ctx, bad)
			if !errors.Is(err, store.ErrBadText) || domain.ErrorCode(err) != domain.CodeInvalid {
				t.Fatalf("lookup of %q: %v", bad, err)
			}
			err = st.CreateAccount(ctx, domain.Account{ID: "acct_x", Name: bad, CreatedAt: time.Now()})
			if !errors.Is(err, store.ErrBadText) {
				t.Fatalf("insert of %q: %v", bad, err)
			}
			err = st.InTx(ctx, func(tx *store.Tx) error {
				return tx.CreateAccount(ctx, domain.Account{ID: "acct_x", Name: bad, CreatedAt: time.Now()})
			})
			if !errors.Is(err, store.ErrBadText) {
				t.Fatalf("insert of %q in a transaction: %v", bad, err)
			}
		}
	})
}
