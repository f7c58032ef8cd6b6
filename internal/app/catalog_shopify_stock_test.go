package app_test

import (
	"fmt"
	"math/big"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/connector/shopify"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestCatalogVariantStockToShopify: the Sandbox POS's products with variants reach Shopify with
// each variant's stock at the Shopify location its store is mapped to (Main Street to the first
// location, Harbour Outlet to the second), and a stock count of one variant in the POS changes
// that variant's level in the shop.
func TestCatalogVariantStockToShopify(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		c := newCatalogEnvWith(t, db, func(cfg *app.Config) { cfg.CatalogPollInterval = time.Hour })
		sim := shopify.NewSimulator()
		hs := httptest.NewServer(sim)
		t.Cleanup(func() { sim.Close(); hs.Close() })
		shop := c.must(201, c.call(c.key, "POST", "/api/v1/integrations", map[string]any{"type": "shopify", "nickname": "Web shop", "credentials": sim.Info(hs.URL).Credentials})).json(t)["id"].(string)
		c.waitStatus(c.key, shop, "healthy")
		c.shop = shop // linkedShopID looks for links to it
		t.Cleanup(func() {
			if t.Failed() {
				for _, l := range strings.Split(c.logs.String(), "\n") {
					if strings.Contains(l, "catalog") && (strings.Contains(l, "WARN") || strings.Contains(l, "ERROR") || strings.Contains(l, "error")) {
						t.Log(l)
					}
				}
			}
		})
		locs := sim.Locations()
		toShop := map[string]int64{"st_main": locs[0], "st_harbour": locs[1]}
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.source, "enabled": true,
			"destinations": []any{map[string]any{"integration_id": shop, "stock_locations": map[string]string{
				"st_main": strconv.FormatInt(locs[0], 10), "st_harbour": strconv.FormatInt(locs[1], 10)}}}}))
		c.must(202, c.call(c.key, "POST", "/api/v1/catalog-sync/import", nil))
		c.waitImport("done")

		// want is a product's stock as the shop should hold it: variant name -> location -> units.
		want := func(p map[string]any) string {
			names := map[string]string{}
			for _, v := range p["variants"].([]any) {
				names[v.(map[string]any)["id"].(string)] = v.(map[string]any)["name"].(string)
			}
			out := map[string]map[int64]int{}
			for _, n := range names {
				out[n] = map[int64]int{}
			}
			for _, l := range c.must(200, c.call(c.key, "GET", "/api/v1/stock?product_id="+p["id"].(string), nil)).json(t)["data"].([]any) {
				m := l.(map[string]any)
				q, _ := new(big.Rat).SetString(m["quantity"].(string))
				n, ok := names[m["variant_id"].(string)]
				if !ok {
					continue
				}
				out[n][toShop[m["location_id"].(string)]] += int(new(big.Int).Div(q.Num(), q.Denom()).Int64())
			}
			return fmt.Sprint(out)
		}
		var withVariants []map[string]any
		for _, p := range c.must(200, c.call(c.key, "GET", "/api/v1/products?limit=500", nil)).json(t)["data"].([]any) {
			m := p.(map[string]any)
			if m["track_stock"] == true && len(m["variants"].([]any)) > 1 {
				withVariants = append(withVariants, m)
			}
		}
		if len(withVariants) == 0 {
			t.Fatal("no product with variants that tracks stock in the sample catalogue")
		}
		for _, p := range withVariants {
			id := c.linkedShopID(p["id"].(string))
			w := want(p)
			waitFor(t, "the stock of "+p["name"].(string)+" in the shop", func() bool { return fmt.Sprint(sim.VariantStock(id)) == w })
		}

		// A stock count of one variant at the outlet reaches the shop's second location.
		p := withVariants[0]
		v := p["variants"].([]any)[1].(map[string]any)
		c.must(200, c.call(c.key, "POST", "/sandbox/admin/stock-counts", map[string]any{"integration_id": c.source, "store_id": "st_harbour",
			"lines": []any{map[string]any{"product_id": p["external_id"], "variant_id": v["id"], "quantity": "17"}}}))
		id := c.linkedShopID(p["id"].(string))
		waitFor(t, "the counted variant's stock in the shop", func() bool { return sim.VariantStock(id)[v["name"].(string)][locs[1]] == 17 })
		if w := want(p); fmt.Sprint(sim.VariantStock(id)) != w {
			t.Fatalf("after the count the shop holds %v, want %s", sim.VariantStock(id), w)
		}
		if n := sim.GraphQLThrottled(); n != 0 {
			t.Errorf("%d THROTTLED answers", n)
		}
	})
}
