package store_test

import (
	"context"
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
