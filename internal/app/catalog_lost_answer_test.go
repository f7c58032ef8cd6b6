package app_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/connector/shopify"
	"github.com/posbridge/posbridge/internal/connector/woocommerce"
	"github.com/posbridge/posbridge/internal/testdb"
)

// lossyShop is a shop simulator that can lose the answers of its next product writes.
type lossyShop interface {
	connector.Simulator
	LoseNextAnswers(n int)
	Close()
}

// shopifyLosingAs is a Shopify simulator whose lost answers are the given status (0: the
// connection breaks without an answer).
type shopifyLosingAs struct {
	*shopify.Simulator
	status int
}

func (s shopifyLosingAs) LoseNextAnswers(n int) { s.LoseNextAnswersAs(n, s.status) }

// TestCatalogPushLostAnswerCreatesOnce: the shop creates products but its answers are lost (a
// 504 from the proxy in front of it, as when posbridge dies between the shop's accept and saving
// the links; for Shopify also a 500 from the shop after it created the product, and a connection
// that breaks without an answer). The push is tried again, finds what the shop created by the
// reference posbridge wrote with it, and links it: every product is in the shop once, with or
// without a SKU. For WooCommerce the first batch call's answer is lost, for Shopify (a
// productSet a product) the first three.
func TestCatalogPushLostAnswerCreatesOnce(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"woocommerce", "shopify", "shopify-500", "shopify-dropped"} {
		t.Run(name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db testdb.Target) {
				var sim lossyShop
				shopType, lost := name, 1
				switch name {
				case "shopify":
					sim, lost = shopify.NewSimulator(), 3
				case "shopify-500":
					shopType, sim, lost = "shopify", shopifyLosingAs{shopify.NewSimulator(), 500}, 3
				case "shopify-dropped":
					shopType, sim, lost = "shopify", shopifyLosingAs{shopify.NewSimulator(), 0}, 3
				default:
					sim = woocommerce.NewSimulator()
				}
				lostAnswerCreatesOnce(t, db, shopType, sim, lost)
			})
		})
	}
}

func lostAnswerCreatesOnce(t *testing.T, db testdb.Target, shopType string, sim lossyShop, lost int) {
	{
		c := newCatalogEnv(t, db)
		hs := httptest.NewServer(sim)
		t.Cleanup(func() { sim.Close(); hs.Close() })
		shop := c.must(201, c.call(c.key, "POST", "/api/v1/integrations", map[string]any{"type": shopType, "nickname": "Behind a proxy", "credentials": sim.Info(hs.URL).Credentials})).json(t)["id"].(string)
		c.waitStatus(c.key, shop, "healthy")
		t.Cleanup(func() {
			if t.Failed() {
				for _, l := range strings.Split(c.logs.String(), "\n") {
					if strings.Contains(l, "catalog") && (strings.Contains(l, "WARN") || strings.Contains(l, "ERROR") || strings.Contains(l, "adopted") || strings.Contains(l, "error")) {
						t.Log(l)
					}
				}
			}
		})
		var batch []any
		for i := 0; i < 6; i++ {
			sku := ""
			if i%2 == 0 {
				sku = fmt.Sprintf("LOST-%d", i)
			}
			batch = append(batch, map[string]any{"name": fmt.Sprintf("Lost answer %d", i), "sku": sku, "description": "",
				"price": map[string]any{"amount": 100 + i, "currency": "EUR"}, "track_stock": false})
		}
		c.must(200, c.call(c.sbx, "POST", "/sandbox/api/v1/products/batch", map[string]any{"products": batch}))
		// The first product writes create their products, and their answers are lost.
		sim.LoseNextAnswers(lost)
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.source, "enabled": true,
			"destinations": []any{map[string]any{"integration_id": shop}}}))
		c.must(202, c.call(c.key, "POST", "/api/v1/catalog-sync/import", nil))
		c.waitImport("done")
		waitFor(t, "every product linked to the shop", func() bool {
			for _, p := range c.must(200, c.call(c.key, "GET", "/api/v1/products?limit=500", nil)).json(t)["data"].([]any) {
				if len(p.(map[string]any)["links"].([]any)) == 0 {
					return false
				}
			}
			return true
		})
		conn := c.shopOf(mustAccount(t, c), shop).conn
		names := map[string]int{}
		linked := map[string]bool{}
		for cur := ""; ; {
			page, err := conn.ListProducts(context.Background(), cur)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page.Items {
				names[p.Name]++
				linked[p.ID] = true
			}
			if page.Next == "" {
				break
			}
			cur = page.Next
		}
		for i := 0; i < 6; i++ {
			if n := names[fmt.Sprintf("Lost answer %d", i)]; n != 1 {
				t.Errorf("product %d is in the shop %d times", i, n)
			}
		}
		for name, n := range names {
			if n > 1 {
				t.Errorf("%s is in the shop %d times", name, n)
			}
		}
		for _, p := range c.must(200, c.call(c.key, "GET", "/api/v1/products?limit=500", nil)).json(t)["data"].([]any) {
			m := p.(map[string]any)
			if id := m["links"].([]any)[0].(map[string]any)["external_id"].(string); !linked[id] {
				t.Errorf("%s is linked to %s, which the shop does not have", m["name"], id)
			}
		}
		if !strings.Contains(c.logs.String(), "adopted products") {
			t.Errorf("the retry did not say it adopted the products the shop had created")
		}
	}
}

func mustAccount(t *testing.T, c *catalogEnv) string {
	t.Helper()
	acct, err := c.app.Store.AccountByAPIKeyHash(context.Background(), auth.HashToken(c.key))
	if err != nil {
		t.Fatal(err)
	}
	return acct
}
