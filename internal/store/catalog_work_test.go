package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestCatalogWorkLease: a claimed lease keeps other jobs out while its holder extends it; a
// lease not extended runs out and is taken over, and its old holder can then neither extend it
// nor is the new holder's lease touched by it.
func TestCatalogWorkLease(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		st := open(t, db)
		ctx := context.Background()
		t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		if err := st.CreateAccount(ctx, domain.Account{ID: "acct_lease", Name: "Lease", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		n, err := st.RequestCatalogWork(ctx, "acct_lease", "push:x")
		if err != nil {
			t.Fatal(err)
		}
		claim := func(at time.Time) store.WorkClaim {
			t.Helper()
			c, _, err := st.ClaimCatalogWork(ctx, "acct_lease", "push:x", n, at, at.Add(20*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		extend := func(held, until time.Time) bool {
			t.Helper()
			ok, err := st.ExtendCatalogWork(ctx, "acct_lease", "push:x", held, until)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if c := claim(t0); c != store.WorkClaimed {
			t.Fatalf("first claim: %v", c)
		}
		held := t0.Add(20 * time.Second)
		if !extend(held, t0.Add(30*time.Second)) {
			t.Fatal("the holder could not extend its lease")
		}
		if c := claim(t0.Add(25 * time.Second)); c != store.WorkBusy {
			t.Fatalf("claim within the extended lease: %v, want busy", c)
		}
		if c := claim(t0.Add(31 * time.Second)); c != store.WorkClaimed {
			t.Fatalf("claim after the lease ran out: %v, want claimed", c)
		}
		if extend(t0.Add(30*time.Second), t0.Add(60*time.Second)) {
			t.Fatal("the old holder extended a lease taken over")
		}
		if c := claim(t0.Add(45 * time.Second)); c != store.WorkBusy {
			t.Fatalf("claim within the new holder's lease: %v, want busy", c)
		}
	})
}
