package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/retention"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestCatalogProductHistory: a product saved in the POS shows in GET /api/v1/products/{id}/history
// with the fields that changed, from what to what, and what brought the change; a product a
// complete import no longer reads is a "deleted" entry of trigger import; another account gets 404.
func TestCatalogProductHistory(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		c := newCatalogEnvWith(t, db, func(cfg *app.Config) { cfg.CatalogPollInterval = 300 * time.Millisecond })
		ctx := context.Background()
		acct, err := c.app.Store.AccountByAPIKeyHash(ctx, auth.HashToken(c.key))
		if err != nil {
			t.Fatal(err)
		}
		c.addSandboxProducts(2, "Saddle")
		stale, err := c.app.Store.UpsertCatalogProduct(ctx, acct, c.source, domain.Product{ID: "prd_gone", Name: "Gone"}, 0, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.source, "enabled": true}))
		c.must(202, c.call(c.key, "POST", "/api/v1/catalog-sync/import", nil))
		c.waitImport("done")
		var saddle map[string]any
		for _, p := range c.must(200, c.call(c.key, "GET", "/api/v1/products?q=Saddle+1", nil)).json(t)["data"].([]any) {
			saddle = p.(map[string]any)
		}
		if saddle == nil {
			t.Fatal("Saddle 1 not imported")
		}
		id := saddle["id"].(string)
		history := func(id string) []any {
			return c.must(200, c.call(c.key, "GET", "/api/v1/products/"+id+"/history", nil)).json(t)["data"].([]any)
		}
		if h := history(id); len(h) != 0 {
			t.Fatalf("a product just imported has history: %v", h)
		}
		// Concluded deleted by the complete pass.
		h := history(stale.ID)
		if len(h) != 1 || h[0].(map[string]any)["trigger"] != "import" {
			t.Fatalf("history of the product the import no longer read: %v", h)
		}
		if f := h[0].(map[string]any)["changes"].([]any)[0].(map[string]any); f["field"] != "deleted" || f["from"] != false || f["to"] != true {
			t.Fatalf("deletion entry: %v", f)
		}

		// Saved in the POS: name and price change; the rest does not.
		c.must(200, c.call(c.sbx, "PUT", "/sandbox/api/v1/products/"+saddle["external_id"].(string), map[string]any{"name": "Saddle 1 (gel)", "sku": "Saddle-00001",
			"description": "", "price": map[string]any{"amount": 2599, "currency": "EUR"}, "track_stock": false}))
		waitFor(t, "the POS's change in the history", func() bool { return len(history(id)) > 0 })
		e := history(id)[0].(map[string]any)
		if e["record"] != "product" || e["record_id"] != id || e["integration_id"] != c.source || e["actor"] != "system" || e["trigger"] == "" || e["at"] == nil {
			t.Fatalf("history entry: %v", e)
		}
		got := map[string]map[string]any{}
		for _, f := range e["changes"].([]any) {
			got[f.(map[string]any)["field"].(string)] = f.(map[string]any)
		}
		if len(got) != 2 || got["name"]["from"] != "Saddle 1" || got["name"]["to"] != "Saddle 1 (gel)" ||
			got["price"]["from"].(map[string]any)["amount"] != float64(101) || got["price"]["to"].(map[string]any)["amount"] != float64(2599) {
			t.Fatalf("changes: %v", e["changes"])
		}
		t.Logf("trigger of the POS's save: %v", e["trigger"])

		// Paging and bad cursors; tenant isolation.
		if r := c.call(c.key, "GET", "/api/v1/products/"+id+"/history?cursor=x", nil); r.Status != 422 || r.errField(t) != "cursor" {
			t.Fatalf("bad cursor: %d %s", r.Status, r.Body)
		}
		if r := c.call(c.key, "GET", "/api/v1/products/prd_nope/history", nil); r.Status != 404 {
			t.Fatalf("unknown product: %d", r.Status)
		}
		other := c.account("Other shop", "owner@other.test")
		if r := c.call(other.APIKey, "GET", "/api/v1/products/"+id+"/history", nil); r.Status != 404 {
			t.Fatalf("another account reads the history: %d %s", r.Status, r.Body)
		}
	})
}

// TestRetentionKeepsCatalogTablesFlat: with windows of a few seconds and a product saved in the
// POS every round (read by the reconciliation poll), the change feed and the field history hold
// exactly the rows of the last window after each prune: their counts stay flat. The clock is
// the test's: a round is one second later than the one before.
func TestRetentionKeepsCatalogTablesFlat(t *testing.T) {
	t.Parallel()
	testdb.EachParallel(t, func(t *testing.T, db testdb.Target) {
		const (
			window = 3 * time.Second
			step   = time.Second
			rounds = 8
		)
		clk := &testClock{t: time.Now().UTC().Truncate(time.Second)}
		c := newCatalogEnvWith(t, db, func(cfg *app.Config) {
			cfg.Clock = clk.now
			cfg.CatalogPollInterval = 200 * time.Millisecond
			cfg.Retention = retention.Policy{CatalogChanges: window, CatalogHistory: window}
		})
		ctx := context.Background()
		tables := []store.HistoryTable{store.CatalogChangesTable, store.CatalogHistoryTable}
		counts := func() map[store.HistoryTable]int64 {
			out := map[store.HistoryTable]int64{}
			for _, tb := range tables {
				n, err := c.app.Store.CountHistory(ctx, tb)
				if err != nil {
					t.Fatal(err)
				}
				out[tb] = n
			}
			return out
		}
		c.addSandboxProducts(1, "Bell")
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.source, "enabled": true}))
		c.must(202, c.call(c.key, "POST", "/api/v1/catalog-sync/import", nil))
		c.waitImport("done")
		bell := c.must(200, c.call(c.key, "GET", "/api/v1/products?q=Bell+0", nil)).json(t)["data"].([]any)[0].(map[string]any)
		id, ext := bell["id"].(string), bell["external_id"].(string)

		created := []map[store.HistoryTable]int64{counts()}
		after := created[0]
		for r := 1; r <= rounds; r++ {
			clk.advance(step)
			name := fmt.Sprintf("Bell (round %d)", r)
			c.must(200, c.call(c.sbx, "PUT", "/sandbox/api/v1/products/"+ext, map[string]any{"name": name, "sku": "Bell-00000",
				"description": "", "price": map[string]any{"amount": 100 + r, "currency": "EUR"}, "track_stock": false}))
			waitFor(t, "round "+name+" in the history", func() bool {
				h := c.must(200, c.call(c.key, "GET", "/api/v1/products/"+id+"/history?limit=1", nil)).json(t)["data"].([]any)
				return len(h) == 1 && h[0].(map[string]any)["changes"].([]any)[0].(map[string]any)["to"] == name
			})
			before := counts()
			round := map[store.HistoryTable]int64{}
			for _, tb := range tables {
				if round[tb] = before[tb] - after[tb]; round[tb] <= 0 {
					t.Fatalf("round %d wrote no %s rows", r, tb)
				}
			}
			created = append(created, round)
			if _, err := c.app.Retention.Prune(ctx); err != nil {
				t.Fatal(err)
			}
			after = counts()
			oldest := max(0, r-int(window/step))
			for _, tb := range tables {
				var want int64
				for j := oldest; j <= r; j++ {
					want += created[j][tb]
				}
				if after[tb] != want {
					t.Errorf("round %d: %s holds %d rows after the prune, want %d (rounds %d to %d)", r, tb, after[tb], want, oldest, r)
				}
			}
			if r > int(window/step) && (after[store.CatalogHistoryTable] != int64(window/step)+1) {
				t.Errorf("round %d: the history holds %d rows, not flat at %d", r, after[store.CatalogHistoryTable], int64(window/step)+1)
			}
		}
		// The product's history is the window's rounds; the feed from the start misses what went.
		h := c.must(200, c.call(c.key, "GET", "/api/v1/products/"+id+"/history", nil)).json(t)["data"].([]any)
		if len(h) != int(window/step)+1 {
			t.Errorf("the product's history holds %d entries after the prunes", len(h))
		}
	})
}
