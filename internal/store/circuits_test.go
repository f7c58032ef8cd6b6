package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestCircuitSharedState: an integration's circuit reads closed until it is first written; a
// change made under LockCircuit is atomic across concurrent transactions (20 increments from 20
// goroutines give 20); another account neither reads, locks nor lists it.
func TestCircuitSharedState(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		st := open(t, db)
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		for _, a := range []string{"acct_a", "acct_b"} {
			if err := st.CreateAccount(ctx, domain.Account{ID: a, Name: a, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.CreateIntegration(ctx, domain.Integration{ID: "int_1", AccountID: "acct_a", Type: "sandbox", Status: domain.StatusHealthy,
			CreatedAt: now, UpdatedAt: now}, "sealed", ""); err != nil {
			t.Fatal(err)
		}
		c, err := st.GetCircuit(ctx, "acct_a", "int_1")
		if err != nil || c.State != domain.CircuitClosed || c.IntegrationID != "int_1" || c.NextAttemptAt != nil {
			t.Fatalf("never written: %+v %v", c, err)
		}
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				err := st.InTx(ctx, func(tx *store.Tx) error {
					c, err := tx.LockCircuit(ctx, "acct_a", "int_1", now)
					if err != nil {
						return err
					}
					c.ConsecutiveFailures++
					c.UpdatedAt = now
					return tx.SaveCircuit(ctx, c)
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		next := now.Add(30 * time.Second)
		err = st.InTx(ctx, func(tx *store.Tx) error {
			c, err := tx.LockCircuit(ctx, "acct_a", "int_1", now)
			if err != nil {
				return err
			}
			c.State, c.Reason, c.Message, c.OpenedAt, c.NextAttemptAt, c.OpenFor = domain.CircuitOpen, domain.CircuitReasonTimeout, "Paused.", &now, &next, 30*time.Second
			return tx.SaveCircuit(ctx, c)
		})
		if err != nil {
			t.Fatal(err)
		}
		c, err = st.GetCircuit(ctx, "acct_a", "int_1")
		if err != nil || c.ConsecutiveFailures != 20 || c.State != domain.CircuitOpen || c.Reason != domain.CircuitReasonTimeout || c.Message != "Paused." ||
			!c.OpenedAt.Equal(now) || !c.NextAttemptAt.Equal(next) || c.OpenFor != 30*time.Second || c.AccountID != "acct_a" {
			t.Fatalf("read back: %+v %v", c, err)
		}
		if list, err := st.ListCircuits(ctx, "acct_a"); err != nil || len(list) != 1 || list["int_1"].State != domain.CircuitOpen {
			t.Fatalf("list: %v %v", list, err)
		}
		// Another account.
		if c, err := st.GetCircuit(ctx, "acct_b", "int_1"); err != nil || c.State != domain.CircuitClosed || c.ConsecutiveFailures != 0 {
			t.Fatalf("another account read it: %+v %v", c, err)
		}
		err = st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.LockCircuit(ctx, "acct_b", "int_1", now)
			return err
		})
		if err != store.ErrNotFound {
			t.Fatalf("another account locked it: %v", err)
		}
		if err := st.SaveCircuit(ctx, domain.Circuit{AccountID: "acct_b", IntegrationID: "int_1", State: domain.CircuitClosed}); err != store.ErrNotFound {
			t.Fatalf("another account saved it: %v", err)
		}
		if list, err := st.ListCircuits(ctx, "acct_b"); err != nil || len(list) != 0 {
			t.Fatalf("another account lists %v %v", list, err)
		}
	})
}
