package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestUpsertCatalogStocksAsOneByOne: a page of stock levels written at once (new levels, changed
// ones, unchanged ones, one level twice on the page, a level of a product posbridge does not
// know) gives the same changes, stock, stock counters and change feed as writing them one by one.
func TestUpsertCatalogStocksAsOneByOne(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		st := open(t, db)
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		for _, a := range []string{"acct_one", "acct_page"} {
			if err := st.CreateAccount(ctx, domain.Account{ID: a, Name: a, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			var ps []domain.Product
			for n := 0; n < 4; n++ {
				ps = append(ps, domain.Product{ID: fmt.Sprintf("P%d", n), Name: fmt.Sprintf("Product %d", n), TrackStock: true})
			}
			if err := st.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.UpsertCatalogProducts(ctx, a, "int_src", ps, 1, now)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		lvl := func(p, loc, q string) domain.StockLevel {
			return domain.StockLevel{ProductID: p, LocationID: loc, Quantity: q}
		}
		pages := [][]domain.StockLevel{
			{lvl("P0", "L1", "3"), lvl("P0", "L2", "4"), lvl("P1", "L1", "5"), lvl("PX", "L1", "9")},
			{lvl("P0", "L1", "3"), lvl("P0", "L2", "6"), lvl("P1", "L1", "7"), lvl("P1", "L1", "8"), lvl("P2", "L1", "1"), lvl("PX", "L1", "2")},
			{lvl("P0", "L1", "3"), lvl("P2", "L1", "1")},
		}
		type result struct {
			changes []string
			stock   string
			seqs    string
			feed    []string
		}
		read := func(acct string, chs []store.RecordChange, r *result) {
			for _, ch := range chs {
				s := ch.Action
				if ch.ID != "" {
					p, err := st.GetCatalogProduct(ctx, acct, ch.ID)
					if err != nil {
						t.Fatal(err)
					}
					s = p.ExternalID + " " + s
				}
				r.changes = append(r.changes, fmt.Sprint(s, ch.Changes))
			}
		}
		var got [2]result
		for pass, page := range pages {
			for k, acct := range []string{"acct_one", "acct_page"} {
				var chs []store.RecordChange
				if err := st.InTx(ctx, func(tx *store.Tx) error {
					chs = nil
					if k == 1 {
						var err error
						chs, err = tx.UpsertCatalogStocks(ctx, acct, "int_src", page, int64(pass+2), now)
						return err
					}
					for _, l := range page {
						ch, err := tx.UpsertCatalogStock(ctx, acct, "int_src", l, int64(pass+2), now)
						if err != nil {
							return err
						}
						chs = append(chs, ch)
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				read(acct, chs, &got[k])
			}
		}
		for k, acct := range []string{"acct_one", "acct_page"} {
			stock, err := st.CatalogStockOf(ctx, acct, "int_src", []string{"P0", "P1", "P2", "P3", "PX"})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"P0", "P1", "P2", "P3", "PX"} {
				for _, l := range stock[p] {
					got[k].stock += fmt.Sprintf("%s/%s=%s ", p, l.LocationID, l.Quantity)
				}
			}
			pending, err := st.PendingCatalogPushes(ctx, acct, "int_src", "int_dest", "", 10)
			if err != nil {
				t.Fatal(err)
			}
			seqs := map[string]int64{}
			for _, pp := range pending {
				seqs[pp.Product.ExternalID] = pp.StockSeq
			}
			got[k].seqs = fmt.Sprint(seqs)
			feed, err := st.ListCatalogChanges(ctx, acct, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range feed {
				p, err := st.GetCatalogProduct(ctx, acct, c.RecordID)
				if err != nil {
					t.Fatal(err)
				}
				got[k].feed = append(got[k].feed, c.Record+" "+p.ExternalID+" "+c.Action)
			}
		}
		if fmt.Sprint(got[0]) != fmt.Sprint(got[1]) {
			t.Fatalf("one by one:\n%v\nas a page:\n%v", got[0], got[1])
		}
		if got[1].stock != "P0/L1=3 P0/L2=6 P1/L1=8 P2/L1=1 PX/L1=2 " || got[1].seqs != "map[P0:3 P1:3 P2:1 P3:0]" || len(got[1].feed) != 4+7 {
			t.Fatalf("stock %q, counters %s, feed %v", got[1].stock, got[1].seqs, got[1].feed)
		}
	})
}
