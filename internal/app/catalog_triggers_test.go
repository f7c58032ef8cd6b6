package app_test

import (
	"context"
	encjson "encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/connector/lightspeed"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/testdb"
)

// triggerShop is a WooCommerce shop that catalog sync pushes to, seen as its merchant sees it.
type triggerShop struct {
	t    *testing.T
	conn interface {
		connector.ProductSource
		connector.ProductSink
		connector.StockSource
	}
}

// stock answers the shop's stock of a product ("" when it keeps none).
func (s triggerShop) stock(id string) string {
	s.t.Helper()
	q := ""
	for cur := ""; ; {
		page, err := s.conn.ListStock(context.Background(), cur)
		if err != nil {
			s.t.Fatal(err)
		}
		for _, l := range page.Items {
			if l.ProductID == id && l.VariantID == "" {
				q = l.Quantity
			}
		}
		if page.Next == "" {
			return q
		}
		cur = page.Next
	}
}

// tamper renames the shop's product, a field the shop does not own: the next push of the full
// product data puts the source's name back.
func (s triggerShop) tamper(id string) {
	s.t.Helper()
	p, err := s.conn.GetProduct(context.Background(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	p.Name = "Renamed in the shop"
	if _, err := s.conn.UpdateProduct(context.Background(), p); err != nil {
		s.t.Fatal(err)
	}
}

// waitPushed waits until the shop's product has the name, price (minor units, 0: any) and stock.
func (s triggerShop) waitPushed(trigger, id, name string, price int64, stock string) {
	s.t.Helper()
	var p domain.Product
	var q string
	deadline := time.Now().Add(scenarioWait)
	for {
		var err error
		p, err = s.conn.GetProduct(context.Background(), id)
		if err == nil {
			q = s.stock(id)
			if p.Name == name && (price == 0 || p.Price.Amount == price) && q == stock {
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: the shop has %q at %d with stock %q, want %q at %d with stock %q", trigger, p.Name, p.Price.Amount, q, name, price, stock)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (c *catalogEnv) shopOf(acct, id string) triggerShop {
	c.t.Helper()
	i, err := c.app.Lifecycle.Get(context.Background(), acct, id)
	if err != nil {
		c.t.Fatal(err)
	}
	conn, err := c.app.Lifecycle.Connector(context.Background(), i)
	if err != nil {
		c.t.Fatal(err)
	}
	return triggerShop{t: c.t, conn: conn.(interface {
		connector.Connector
		connector.ProductSource
		connector.ProductSink
		connector.StockSource
	})}
}

// linkedShopID waits until the product is linked to the shop and answers the shop's id.
func (c *catalogEnv) linkedShopID(productID string) string {
	c.t.Helper()
	var id string
	waitFor(c.t, "product "+productID+" linked to the shop", func() bool {
		p := c.must(200, c.call(c.key, "GET", "/api/v1/products/"+productID, nil)).json(c.t)
		for _, l := range p["links"].([]any) {
			if m := l.(map[string]any); m["integration_id"] == c.shop {
				id = m["external_id"].(string)
			}
		}
		return id != ""
	})
	return id
}

// TestCatalogTriggersSandboxToWooCommerce: each kind of product change (saved, CSV import, sale,
// refund or exchange, stock count, stock order, transfer, adjustment), done in the Sandbox POS's
// back office, reaches the WooCommerce shop as a push of the whole product with its stock (the
// shop counts the main store only), by the POS's webhook alone (the reconciliation poll is an
// hour away).
func TestCatalogTriggersSandboxToWooCommerce(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		c := newCatalogEnvWith(t, db, func(cfg *app.Config) { cfg.CatalogPollInterval = time.Hour })
		acct, err := c.app.Store.AccountByAPIKeyHash(context.Background(), auth.HashToken(c.key))
		if err != nil {
			t.Fatal(err)
		}
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.source, "enabled": true,
			"destinations": []any{map[string]any{"integration_id": c.shop, "stock_locations": map[string]string{"st_main": ""}}}}))
		c.must(202, c.call(c.key, "POST", "/api/v1/catalog-sync/import", nil))
		c.waitImport("done")
		var prod map[string]any
		for _, p := range c.must(200, c.call(c.key, "GET", "/api/v1/products?limit=500", nil)).json(t)["data"].([]any) {
			m := p.(map[string]any)
			if m["track_stock"] == true && len(m["variants"].([]any)) == 0 && m["sku"] != "" {
				prod = m
				break
			}
		}
		if prod == nil {
			t.Fatal("no simple product that tracks stock in the sample catalogue")
		}
		pos, sku := prod["external_id"].(string), prod["sku"].(string)
		shopID := c.linkedShopID(prod["id"].(string))
		shop := c.shopOf(acct, c.shop)
		name := prod["name"].(string)
		admin := func(path string, body map[string]any) map[string]any {
			t.Helper()
			body["integration_id"] = c.source
			return c.must(200, c.call(c.key, "POST", "/sandbox/admin/"+path, body)).json(t)
		}
		lines := func(q string) []any { return []any{map[string]any{"product_id": pos, "quantity": q}} }

		// The count differs from the stock the shop has now: a count to the same number changes
		// nothing, and nothing would be pushed.
		base, err := strconv.Atoi(shop.stock(shopID))
		if err != nil {
			t.Fatalf("the shop's stock of %s: %v", shopID, err)
		}
		at := func(n int) string { return strconv.Itoa(base + 7 + n) }
		shop.tamper(shopID)
		admin("stock-counts", map[string]any{"store_id": "st_main", "lines": lines(at(0))})
		shop.waitPushed("stock count", shopID, name, 0, at(0))
		shop.tamper(shopID)
		admin("stock-orders", map[string]any{"store_id": "st_main", "lines": lines("5")})
		shop.waitPushed("stock order", shopID, name, 0, at(5))
		shop.tamper(shopID)
		admin("transfers", map[string]any{"from_store_id": "st_main", "store_id": "st_harbour", "lines": lines("3")})
		shop.waitPushed("transfer", shopID, name, 0, at(2))
		shop.tamper(shopID)
		admin("adjustments", map[string]any{"store_id": "st_main", "lines": lines("-2")})
		shop.waitPushed("adjustment", shopID, name, 0, at(0))
		shop.tamper(shopID)
		sale := c.must(201, c.call(c.key, "POST", "/sandbox/admin/sales", map[string]any{"integration_id": c.source, "store_id": "st_main",
			"lines": []any{map[string]any{"product_id": pos, "name": name, "quantity": "2", "unit_price": map[string]any{"amount": 100, "currency": "EUR"},
				"total": map[string]any{"amount": 200, "currency": "EUR"}}}})).json(t)
		shop.waitPushed("sale", shopID, name, 0, at(-2))
		shop.tamper(shopID)
		admin("sales/"+sale["id"].(string)+"/refund", map[string]any{})
		shop.waitPushed("refund", shopID, name, 0, at(0))
		shop.tamper(shopID)
		admin("products/"+pos+"/save", map[string]any{"name": "Saved in the POS"})
		shop.waitPushed("product saved", shopID, "Saved in the POS", 0, at(0))
		shop.tamper(shopID)
		admin("products/import", map[string]any{"csv": "sku,name,price\n" + sku + ",Imported by CSV,77.70\n"})
		shop.waitPushed("product CSV import", shopID, "Imported by CSV", 7770, at(0))
	})
}

// TestCatalogTriggersLightspeedToWooCommerce: the same for the Lightspeed simulator as the
// system of record (its own outlets; the shop counts the first), with Lightspeed's webhooks: a
// sale, a return and an exchange, a stock count, a stock order (SUPPLIER consignment), a transfer
// (OUTLET consignment), an adjustment, a product saved and a product CSV.
func TestCatalogTriggersLightspeedToWooCommerce(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, func(cfg *app.Config) { cfg.CatalogPollInterval = time.Hour })
		sim := lightspeed.NewSimulator(lightspeed.WithSimRegisters(2), lightspeed.WithSimDeliveryClient(nil, 3, 100*time.Millisecond))
		ids := sim.SeedProducts(3)
		hs := httptest.NewServer(sim)
		t.Cleanup(func() { sim.Close(); hs.Close() })
		owner := e.account("Spoke & Chain", "owner@spoke.test")
		key := owner.APIKey
		src := e.must(201, e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "lightspeed", "credentials": sim.Info(hs.URL).Credentials})).json(t)["id"].(string)
		shopInt := e.must(201, e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "woocommerce", "sandbox": true})).json(t)["id"].(string)
		e.waitStatus(key, src, "healthy")
		e.waitStatus(key, shopInt, "healthy")
		outlets := sim.OutletIDs()
		e.must(200, e.call(key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": src, "enabled": true,
			"destinations": []any{map[string]any{"integration_id": shopInt, "stock_locations": map[string]string{outlets[0]: ""}}}}))
		c := &catalogEnv{env: e, key: key, source: src, shop: shopInt}
		c.must(202, c.call(key, "POST", "/api/v1/catalog-sync/import", nil))
		c.waitImport("done")
		acct, err := e.app.Store.AccountByAPIKeyHash(context.Background(), auth.HashToken(key))
		if err != nil {
			t.Fatal(err)
		}
		prod, err := e.app.Store.CatalogProductByExternalID(context.Background(), acct, src, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		shopID := c.linkedShopID(prod.ID)
		shop := c.shopOf(acct, shopInt)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("delivered %d; events %s", sim.Delivered(), c.call(key, "GET", "/api/v1/integrations/"+src+"/webhook-events", nil).Body)
				for _, l := range strings.Split(c.logs.String(), "\n") {
					if strings.Contains(l, "hook") || strings.Contains(l, "catalog") || strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
						t.Log(l)
					}
				}
			}
		})
		name := prod.Product.Name
		line := func(q string) []lightspeed.SimLine {
			return []lightspeed.SimLine{{ProductID: ids[0], Quantity: jsonNumber(q)}}
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}

		shop.tamper(shopID)
		_, err = sim.Stocktake(outlets[0], line("10"))
		must(err)
		shop.waitPushed("stock count", shopID, name, 0, "10")
		shop.tamper(shopID)
		_, err = sim.ReceiveConsignment("SUPPLIER", outlets[0], "", line("5"))
		must(err)
		shop.waitPushed("stock order", shopID, name, 0, "15")
		shop.tamper(shopID)
		_, err = sim.ReceiveConsignment("OUTLET", outlets[1], outlets[0], line("3"))
		must(err)
		shop.waitPushed("transfer", shopID, name, 0, "12")
		shop.tamper(shopID)
		_, err = sim.Adjust(outlets[0], line("-2"))
		must(err)
		shop.waitPushed("adjustment", shopID, name, 0, "10")
		shop.tamper(shopID)
		sale, err := sim.Sell(outlets[0], line("2"))
		must(err)
		shop.waitPushed("sale", shopID, name, 0, "8")
		shop.tamper(shopID)
		_, err = sim.Return(sale, nil)
		must(err)
		shop.waitPushed("refund", shopID, name, 0, "10")
		shop.tamper(shopID)
		sale, err = sim.Sell(outlets[0], line("1"))
		must(err)
		shop.waitPushed("sale", shopID, name, 0, "9")
		shop.tamper(shopID)
		_, err = sim.Return(sale, []lightspeed.SimLine{{ProductID: ids[1], Quantity: "1"}})
		must(err)
		shop.waitPushed("exchange", shopID, name, 0, "10")
		shop.tamper(shopID)
		_, err = sim.SaveProduct(ids[0], lightspeed.ProductEdit{Name: ptrTo("Saved in Lightspeed")})
		must(err)
		shop.waitPushed("product saved", shopID, "Saved in Lightspeed", 0, "10")
		shop.tamper(shopID)
		_, err = sim.ImportProductsCSV("sku,name,price_excluding_tax\n" + prod.Product.SKU + ",Imported by CSV,10\n")
		must(err)
		shop.waitPushed("product CSV import", shopID, "Imported by CSV", 0, "10")
		if strings.Contains(c.logs.String(), "level=ERROR") {
			t.Logf("errors in the log:\n%s", c.logs.String())
		}
	})
}

func ptrTo[T any](v T) *T { return &v }

func jsonNumber(s string) encjson.Number { return encjson.Number(s) }
