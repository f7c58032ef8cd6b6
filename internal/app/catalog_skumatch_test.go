package app_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"

	"github.com/posbridge/posbridge/internal/connector/woocommerce"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestCatalogSKUMatch: a product the shop had before posbridge, with a POS product's SKU, stays
// unlinked by default (posbridge links by the shop's id only); an import started with
// match_by_sku links it to the POS product before any push (so the shop's product is updated,
// not made twice), leaves a SKU two shop products share unlinked, and reports what it did in the
// progress and the timeline; once the POS's products are linked, match_by_sku is refused.
func TestCatalogSKUMatch(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		c := newCatalogEnv(t, db)
		ctx := context.Background()
		acct := mustAccount(t, c)

		// By default: the shop's product with a POS product's SKU is not linked to it.
		c.addSandboxProducts(3, "Gear")
		made, err := c.shopConn(acct, c.shop).CreateProduct(ctx, domain.Product{Name: "Gear made in the shop", SKU: "Gear-00000",
			Price: domain.Money{Amount: 999, Currency: "EUR"}})
		if err != nil {
			t.Fatal(err)
		}
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.source, "enabled": true,
			"destinations": []any{map[string]any{"integration_id": c.shop}}}))
		for _, bad := range []any{map[string]any{"match_by_sku": "yes"}, map[string]any{"match_by_sku": true, "match_by_name": true}} {
			if r := c.call(c.key, "POST", "/api/v1/catalog-sync/import", bad); r.Status != 422 {
				t.Errorf("import with %v: %d %s", bad, r.Status, r.Body)
			}
		}
		imp := c.must(202, c.call(c.key, "POST", "/api/v1/catalog-sync/import", nil)).json(t)
		if imp["match_by_sku"] != false || imp["sku_matches"] != nil {
			t.Fatalf("an import without match_by_sku: %v", imp)
		}
		p := c.waitImport("done")
		if p["match_by_sku"] != false || p["sku_matches"] != nil {
			t.Fatalf("progress of an import without match_by_sku: %v", p)
		}
		gear := productBySKU(t, c, "Gear-00000")
		other := productBySKU(t, c, "Gear-00001")
		c.linkedShopID(other["id"].(string)) // the push ran
		links, err := c.app.Store.ListCatalogLinks(ctx, acct, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, ls := range links {
			for _, l := range ls {
				if l.ExternalID == made.ID || l.ProductID == gear["id"] {
					t.Fatalf("matched by SKU though not asked: %+v", l)
				}
			}
		}
		// The POS's products are linked now: a SKU match is refused.
		r := c.call(c.key, "POST", "/api/v1/catalog-sync/import", map[string]any{"match_by_sku": true})
		if r.Status != 409 || r.errField(t) != "match_by_sku" {
			t.Fatalf("match_by_sku after the first import: %d %s", r.Status, r.Body)
		}

		// Another merchant asks for the match at the first import; its shop takes a SKU another
		// product has (its SKU check is off), and has two products with the SKU Bolt-00001, which
		// stay unlinked. The POS's products track no stock, so without the match first they would
		// be pushed (made again in the shop) while the products are still being read.
		owner := c.account("Bolt & Nut", "owner@bolt.test")
		sbx := c.sandboxKey(owner.AccountID)
		src := c.must(201, c.call(owner.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": sbx}})).json(t)["id"].(string)
		sim := woocommerce.NewSimulator()
		hs := httptest.NewServer(sim)
		t.Cleanup(func() { sim.Close(); hs.Close() })
		shopA := sim.SeedProduct("Bolt (shop)", "Bolt-00000", 1999)
		dupes := []string{sim.SeedProduct("Bolt M4", "Bolt-00001", 100), sim.SeedProduct("Bolt M5", "Bolt-00001", 100)}
		shopB := sim.SeedProduct("Another bolt (shop)", "Bolt-00002", 2999)
		only := sim.SeedProduct("Shop only", "SHOP-ONLY", 500)
		sim.SeedProduct("No SKU", "", 500)
		sim.ShareSKUs()
		shop := c.must(201, c.call(owner.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "woocommerce", "nickname": "Bolt shop",
			"credentials": sim.Info(hs.URL).Credentials})).json(t)["id"].(string)
		c.waitStatus(owner.APIKey, src, "healthy")
		c.waitStatus(owner.APIKey, shop, "healthy")
		b := &catalogEnv{env: c.env, key: owner.APIKey, sbx: sbx, source: src, shop: shop}
		b.addSandboxProducts(4, "Bolt")
		b.must(200, b.call(b.key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": src, "enabled": true,
			"destinations": []any{map[string]any{"integration_id": shop}}}))
		imp = b.must(202, b.call(b.key, "POST", "/api/v1/catalog-sync/import", map[string]any{"match_by_sku": true})).json(t)
		if imp["match_by_sku"] != true {
			t.Fatalf("import with match_by_sku: %v", imp)
		}
		p = b.waitImport("done")
		bolt0, bolt1, bolt2 := productBySKU(t, b, "Bolt-00000"), productBySKU(t, b, "Bolt-00001"), productBySKU(t, b, "Bolt-00002")
		rep, _ := p["sku_matches"].(map[string]any)
		if p["match_by_sku"] != true || rep == nil || rep["matched"] != 2.0 || rep["ambiguous"] != 1.0 {
			t.Fatalf("the SKU match report: %v", p)
		}
		want := []map[string]any{
			{"product_id": bolt0["id"], "source_external_id": bolt0["external_id"], "integration_id": shop, "external_id": shopA, "sku": "Bolt-00000"},
			{"product_id": bolt2["id"], "source_external_id": bolt2["external_id"], "integration_id": shop, "external_id": shopB, "sku": "Bolt-00002"},
		}
		ex := rep["examples"].([]any)
		if len(ex) != len(want) {
			t.Fatalf("examples %v, want %v", ex, want)
		}
		for i, w := range want {
			for k, v := range w {
				if ex[i].(map[string]any)[k] != v {
					t.Errorf("example %d: %s = %v, want %v", i, k, ex[i].(map[string]any)[k], v)
				}
			}
		}
		for _, m := range []struct {
			p    map[string]any
			shop string
		}{{bolt0, shopA}, {bolt2, shopB}} {
			ls := m.p["links"].([]any)
			if len(ls) != 1 || ls[0].(map[string]any)["external_id"] != m.shop || ls[0].(map[string]any)["origin"] != "sku_match" {
				t.Errorf("links of %s: %v, want %s by sku_match", m.p["sku"], ls, m.shop)
			}
		}
		msgs := b.timelineOf(b.key, shop, "catalog_sync.linked")
		if !slices.Contains(msgs, "Matched 2 products by SKU at the first import; 1 SKU was ambiguous and was left unlinked.") {
			t.Errorf("timeline of the shop: %q", msgs)
		}
		// The matched shop products get the POS's data and no twin; the shop's products of the
		// ambiguous SKU, its own product and the one without a SKU stay unlinked (the POS's
		// product of the ambiguous SKU is created in the shop, as any product not linked).
		conn := b.shopConn(owner.AccountID, shop)
		waitFor(t, "the matched products pushed", func() bool {
			a, err := conn.GetProduct(ctx, shopA)
			if err != nil {
				t.Fatal(err)
			}
			bb, err := conn.GetProduct(ctx, shopB)
			if err != nil {
				t.Fatal(err)
			}
			return a.Name == "Bolt 0" && bb.Name == "Bolt 2"
		})
		b.linkedShopID(productBySKU(t, b, "Bolt-00003")["id"].(string)) // created in the shop
		links, err = b.app.Store.ListCatalogLinks(ctx, owner.AccountID, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, ls := range links {
			for _, l := range ls {
				if slices.Contains(dupes, l.ExternalID) || l.ExternalID == only || l.ProductID == bolt1["id"] && l.Origin != domain.LinkCreated {
					t.Errorf("linked though ambiguous or without a match: %+v", l)
				}
			}
		}
		n := 0
		for cur := ""; ; {
			page, err := conn.ListProducts(ctx, cur)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range page.Items {
				if x.SKU == "Bolt-00000" || x.SKU == "Bolt-00002" {
					n++
				}
			}
			if cur = page.Next; cur == "" {
				break
			}
		}
		if n != 2 {
			t.Errorf("the shop has %d products with the matched SKUs, want 2 (no twins)", n)
		}
		// Only once: the POS's products are linked now.
		r = b.call(b.key, "POST", "/api/v1/catalog-sync/import", map[string]any{"match_by_sku": true})
		if r.Status != 409 || r.errField(t) != "match_by_sku" {
			t.Fatalf("a second match_by_sku: %d %s", r.Status, r.Body)
		}
		// Another account sees none of it.
		if p := c.progress(); p["sku_matches"] != nil {
			t.Errorf("the first account's progress shows a match: %v", p)
		}
	})
}

// productBySKU reads the account's product with the SKU (with its links) through the API.
func productBySKU(t *testing.T, c *catalogEnv, sku string) map[string]any {
	t.Helper()
	ps := c.must(200, c.call(c.key, "GET", "/api/v1/products?q="+url.QueryEscape(sku), nil)).json(t)["data"].([]any)
	for _, p := range ps {
		if m := p.(map[string]any); m["sku"] == sku {
			return c.must(200, c.call(c.key, "GET", "/api/v1/products/"+m["id"].(string), nil)).json(t)
		}
	}
	t.Fatalf("no product with SKU %s among %v", sku, ps)
	return nil
}
