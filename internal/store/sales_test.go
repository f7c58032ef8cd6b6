package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

func testSale(ext, status string, at time.Time, lines ...domain.SaleLine) domain.ImportedSale {
	var total int64
	for _, l := range lines {
		total += l.Total
	}
	return domain.ImportedSale{ExternalID: ext, StoreID: "st1", Status: status, Currency: "EUR", Total: total, SoldAt: at,
		Lines: lines, Payments: []domain.SalePayment{{Method: "card", Amount: total}}}
}

// TestImportSalesIdempotent: an overlapping re-import adds nothing, a refund updates the sale,
// POS items are kept once per integration with their mapping, and another account sees none of it.
func TestImportSalesIdempotent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		st := open(t, db)
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
		for _, a := range []string{"acct_a", "acct_b"} {
			if err := st.CreateAccount(ctx, domain.Account{ID: a, Name: a, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.CreateIntegration(ctx, domain.Integration{ID: "int_1", AccountID: "acct_a", Type: "sandbox",
			Status: domain.StatusHealthy, CreatedAt: now, UpdatedAt: now}, "sealed", ""); err != nil {
			t.Fatal(err)
		}
		n := 0
		newID := func(p string) string { n++; return fmt.Sprintf("%s_%04d", p, n) }
		coffee := domain.SaleLine{ItemKey: "p1", Name: "Coffee", Quantity: "2", UnitPrice: 250, Total: 500}
		cake := domain.SaleLine{ItemKey: "p2", Name: "Cake", Quantity: "1", UnitPrice: 400, Total: 400}
		imp := func(sales ...domain.ImportedSale) store.ImportResult {
			t.Helper()
			var res store.ImportResult
			err := st.InTx(ctx, func(tx *store.Tx) error {
				var err error
				res, err = tx.ImportSales(ctx, "acct_a", "int_1", sales, newID, now)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		s1 := testSale("s1", domain.SaleCompleted, now.Add(-2*time.Hour), coffee, cake)
		s2 := testSale("s2", domain.SaleCompleted, now.Add(-26*time.Hour), coffee)
		if r := imp(s1, s2); r.New != 2 || r.NewItems != 2 || r.FirstSeq != 1 || r.LastSeq != 2 {
			t.Fatalf("first import %+v", r)
		}
		// The overlapping window: s2 again, and a new s3.
		s3 := testSale("s3", domain.SaleCompleted, now.Add(-time.Hour), cake)
		if r := imp(s2, s3); r.New != 1 || r.Unchanged != 1 || r.Updated != 0 || r.NewItems != 0 || r.FirstSeq != 3 {
			t.Fatalf("overlapping import %+v", r)
		}
		if c, _ := st.CountSales(ctx, "acct_a", "int_1"); c != 3 {
			t.Fatalf("%d sales after the overlap, want 3", c)
		}
		// A refund updates s1 (and only it).
		s1r := s1
		s1r.Status = domain.SaleRefunded
		if r := imp(s1r, s2, s3); r.Updated != 1 || r.Unchanged != 2 || r.LastSeq != 4 {
			t.Fatalf("refund import %+v", r)
		}
		all, err := st.ListSales(ctx, "acct_a", store.SaleFilter{IntegrationID: "int_1"})
		if err != nil || len(all) != 3 {
			t.Fatalf("list %v %v", all, err)
		}
		last := all[2]
		if last.ExternalID != "s1" || last.Status != domain.SaleRefunded || len(last.Lines) != 2 || len(last.Payments) != 1 || last.Total != 900 {
			t.Fatalf("refunded sale %+v", last)
		}
		// The cursor: after seq 3 only the refunded sale.
		after, _ := st.ListSales(ctx, "acct_a", store.SaleFilter{IntegrationID: "int_1", AfterSeq: 3})
		if len(after) != 1 || after[0].ExternalID != "s1" {
			t.Fatalf("after seq 3: %+v", after)
		}
		// since/until on sold_at.
		since := now.Add(-3 * time.Hour)
		recent, _ := st.ListSales(ctx, "acct_a", store.SaleFilter{Since: &since})
		if len(recent) != 2 {
			t.Fatalf("since: %d sales", len(recent))
		}
		days, err := st.SalesSummary(ctx, "acct_a", "int_1", now.Add(-72*time.Hour), now)
		if err != nil || len(days) != 2 || days[0].Count != 1 || days[0].Total != 500 || days[1].Count != 1 || days[1].Total != 400 ||
			days[1].RefundedCount != 1 || days[1].RefundedTotal != 900 {
			t.Fatalf("summary %+v %v", days, err)
		}
		items, err := st.ListPosItems(ctx, "acct_a", store.PosItemFilter{IntegrationID: "int_1"})
		if err != nil || len(items) != 2 || items[0].Name != "Cake" {
			t.Fatalf("items %+v %v", items, err)
		}
		if found, _ := st.ListPosItems(ctx, "acct_a", store.PosItemFilter{Query: "COF"}); len(found) != 1 {
			t.Fatalf("q=COF: %+v", found)
		}
		m, err := st.SetPosItemMapping(ctx, "acct_a", items[1].ID, "recipe:espresso")
		if err != nil || m.AppRef != "recipe:espresso" {
			t.Fatalf("mapping %+v %v", m, err)
		}
		// Another account: nothing.
		if _, err := st.SetPosItemMapping(ctx, "acct_b", items[1].ID, "x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another account mapped the item: %v", err)
		}
		if l, _ := st.ListSales(ctx, "acct_b", store.SaleFilter{}); len(l) != 0 {
			t.Fatalf("another account sees %d sales", len(l))
		}
		// One import in chunks, of an integration without sales: a sale in two chunks is added by
		// the first and updated by the second; one in a single chunk twice counts once.
		if err := st.CreateIntegration(ctx, domain.Integration{ID: "int_2", AccountID: "acct_a", Type: "email",
			Status: domain.StatusHealthy, CreatedAt: now, UpdatedAt: now}, "sealed", ""); err != nil {
			t.Fatal(err)
		}
		err = st.InTx(ctx, func(tx *store.Tx) error {
			im, err := tx.BeginSalesImport(ctx, "acct_a", "int_2", newID, now)
			if err != nil {
				return err
			}
			if err := im.Add(ctx, []domain.ImportedSale{s1, s2, s2}); err != nil {
				return err
			}
			if err := im.Add(ctx, []domain.ImportedSale{s3, s1r}); err != nil {
				return err
			}
			r, err := im.Finish(ctx)
			if err == nil && (r.New != 3 || r.Updated != 1 || r.Unchanged != 0 || r.NewItems != 2 || r.FirstSeq != 1 || r.LastSeq != 4) {
				err = fmt.Errorf("chunked import %+v", r)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		two, err := st.ListSales(ctx, "acct_a", store.SaleFilter{IntegrationID: "int_2"})
		if err != nil || len(two) != 3 || two[2].ExternalID != "s1" || two[2].Status != domain.SaleRefunded {
			t.Fatalf("chunked import: %+v %v", two, err)
		}
		// A failed import leaves nothing.
		bad := testSale("s4", domain.SaleCompleted, now, coffee)
		err = st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ImportSales(ctx, "acct_a", "int_1", []domain.ImportedSale{bad}, newID, now); err != nil {
				return err
			}
			return errors.New("the fetch failed halfway")
		})
		if err == nil {
			t.Fatal("no error")
		}
		if c, _ := st.CountSales(ctx, "acct_a", "int_1"); c != 3 {
			t.Fatalf("%d sales after a rolled-back import", c)
		}
	})
}
