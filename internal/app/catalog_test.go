package app_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/testdb"
)

// catalogEnv is an account with a healthy Sandbox POS (the source) and a WooCommerce sandbox
// store (a destination).
type catalogEnv struct {
	*env
	key, sbx, source, shop string
}

func newCatalogEnv(t *testing.T, db testdb.Target) *catalogEnv {
	return newCatalogEnvWith(t, db, nil)
}

func newCatalogEnvWith(t *testing.T, db testdb.Target, tweak func(*app.Config)) *catalogEnv {
	e := start(t, db, tweak)
	owner := e.account("Spoke & Chain", "owner@spoke.test")
	sbx := e.sandboxKey(owner.AccountID)
	src := e.must(201, e.call(owner.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": sbx}})).json(t)["id"].(string)
	shop := e.must(201, e.call(owner.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "woocommerce", "sandbox": true})).json(t)["id"].(string)
	e.waitStatus(owner.APIKey, src, "healthy")
	e.waitStatus(owner.APIKey, shop, "healthy")
	return &catalogEnv{env: e, key: owner.APIKey, sbx: sbx, source: src, shop: shop}
}

func TestCatalogSyncSettings(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		c := newCatalogEnv(t, db)
		got := c.must(200, c.call(c.key, "GET", "/api/v1/catalog-sync", nil)).json(t)
		if got["source_integration_id"] != "" || got["enabled"] != false || len(got["destinations"].([]any)) != 0 {
			t.Fatalf("defaults: %v", got)
		}
		// Turning it on needs a source.
		r := c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"enabled": true})
		if r.Status != 422 || r.errField(t) != "source_integration_id" {
			t.Fatalf("enabled without a source: %d %s", r.Status, r.Body)
		}
		got = c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.source, "enabled": true,
			"destinations": []any{map[string]any{"integration_id": c.shop}}})).json(t)
		d := got["destinations"].([]any)[0].(map[string]any)
		if d["integration_id"] != c.shop || d["empty_overwrites"] != true || !slices.Equal(anyStrings(d["owned_fields"]), []string{"weight", "categories"}) {
			t.Fatalf("destination defaults: %v", d)
		}
		// A partial update keeps the rest; a destination's fields left out keep theirs.
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"destinations": []any{map[string]any{"integration_id": c.shop, "empty_overwrites": false}}}))
		got = c.must(200, c.call(c.key, "GET", "/api/v1/catalog-sync", nil)).json(t)
		d = got["destinations"].([]any)[0].(map[string]any)
		if got["source_integration_id"] != c.source || got["enabled"] != true || d["empty_overwrites"] != false || len(anyStrings(d["owned_fields"])) != 2 {
			t.Fatalf("after a partial update: %v", got)
		}
		for _, bad := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"destinations": []any{map[string]any{"integration_id": c.source}}}, "destinations[0].integration_id"},
			{map[string]any{"destinations": []any{map[string]any{"integration_id": c.shop}, map[string]any{"integration_id": c.shop}}}, "destinations[1].integration_id"},
			{map[string]any{"destinations": []any{map[string]any{"integration_id": c.shop, "owned_fields": []string{"colour"}}}}, "destinations[0].owned_fields[0]"},
			{map[string]any{"destinations": []any{map[string]any{"integration_id": c.shop, "owned_fields": []string{"weight", "weight"}}}}, "destinations[0].owned_fields[1]"},
			{map[string]any{"destinations": []any{map[string]any{"owned_fields": []string{}}}}, "destinations[0].integration_id"},
			{map[string]any{"source_integration_id": "int_nope"}, "source_integration_id"},
			{map[string]any{"enabled": "yes"}, "enabled"},
			{map[string]any{"colour": "red"}, "colour"},
		} {
			r := c.call(c.key, "PUT", "/api/v1/catalog-sync", bad.body)
			if r.Status != 422 || r.errField(t) != bad.field {
				t.Errorf("%v: want 422 on %s, got %d %s", bad.body, bad.field, r.Status, r.Body)
			}
		}
		// Every change is a timeline entry; the same settings again are none.
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"enabled": true}))
		n := 0
		for _, k := range c.timelineKinds(c.key, c.source) {
			if k == "catalog_sync.settings_changed" {
				n++
			}
		}
		if n != 2 {
			t.Errorf("want 2 catalog_sync.settings_changed entries, got %d", n)
		}
		tl := fmt.Sprint(c.must(200, c.call(c.key, "GET", "/api/v1/timeline?integration_id="+c.source, nil)).json(t))
		if !strings.Contains(tl, "empty values overwrite true -> false") {
			t.Errorf("the timeline does not say what changed: %s", tl)
		}

		// Tenant isolation: another account neither sees these settings nor can name these integrations.
		other := c.account("Other shop", "owner@other.test")
		got = c.must(200, c.call(other.APIKey, "GET", "/api/v1/catalog-sync", nil)).json(t)
		if got["source_integration_id"] != "" {
			t.Fatalf("another account sees the settings: %v", got)
		}
		r = c.call(other.APIKey, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.source})
		if r.Status != 422 || r.errField(t) != "source_integration_id" {
			t.Fatalf("another account's integration as source: %d %s", r.Status, r.Body)
		}
		r = c.call(other.APIKey, "PUT", "/api/v1/catalog-sync", map[string]any{"destinations": []any{map[string]any{"integration_id": c.shop}}})
		if r.Status != 422 || r.errField(t) != "destinations[0].integration_id" {
			t.Fatalf("another account's integration as destination: %d %s", r.Status, r.Body)
		}
	})
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// addSandboxProducts creates n products in the Sandbox POS through its API, 100 per batch.
func (c *catalogEnv) addSandboxProducts(n int, prefix string) {
	c.t.Helper()
	for done := 0; done < n; {
		var batch []any
		for ; done < n && len(batch) < 100; done++ {
			batch = append(batch, map[string]any{"name": fmt.Sprintf("%s %d", prefix, done), "sku": fmt.Sprintf("%s-%05d", prefix, done),
				"description": "", "price": map[string]any{"amount": 100 + done, "currency": "EUR"}, "track_stock": false})
		}
		c.must(200, c.call(c.sbx, "POST", "/sandbox/api/v1/products/batch", map[string]any{"products": batch}))
	}
}

func (c *catalogEnv) progress() map[string]any {
	return c.must(200, c.call(c.key, "GET", "/api/v1/catalog-sync/progress", nil)).json(c.t)
}

func (c *catalogEnv) waitImport(phase string) map[string]any {
	c.t.Helper()
	var last map[string]any
	defer func() {
		if c.t.Failed() {
			c.t.Logf("last progress %v; log:\n%s", last, c.logs.String())
		}
	}()
	waitFor(c.t, "import phase "+phase, func() bool {
		last = c.progress()
		return last["phase"] == phase || last["phase"] == "failed"
	})
	if last["phase"] != phase {
		c.t.Fatalf("import %v, want phase %s", last, phase)
	}
	return last
}

func TestCatalogImport(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		c := newCatalogEnv(t, db)
		acct, err := c.app.Store.AccountByAPIKeyHash(context.Background(), auth.HashToken(c.key))
		if err != nil {
			t.Fatal(err)
		}
		if p := c.progress(); p["phase"] != "idle" || p["started_at"] != nil {
			t.Fatalf("progress before any import: %v", p)
		}
		r := c.call(c.key, "POST", "/api/v1/catalog-sync/import", nil)
		if r.Status != 422 || r.errField(t) != "source_integration_id" {
			t.Fatalf("import without a source: %d %s", r.Status, r.Body)
		}
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.source}))
		c.addSandboxProducts(230, "Bulk")    // three pages with the sample catalogue
		c.app.Catalog.SetImportWriteChunk(7) // each page in chunks, the last with the cursor

		// A product posbridge holds from before that the POS no longer has: only a complete pass
		// concludes it is gone. The first pass fails at once (the POS refuses the key).
		old := time.Now().Add(-time.Hour)
		stale, err := c.app.Store.UpsertCatalogProduct(context.Background(), acct, c.source, domain.Product{ID: "prd_gone", Name: "Gone"}, 0, old)
		if err != nil {
			t.Fatal(err)
		}
		// Every call fails until cleared: the products just added send webhooks whose fetches
		// would otherwise take a single fault before the import does.
		c.fault(c.sbx, 1000, 401)
		c.must(202, c.call(c.key, "POST", "/api/v1/catalog-sync/import", map[string]any{}))
		p := c.waitImport("failed")
		if p["error"] == "" || p["finished_at"] == nil {
			t.Fatalf("failed import: %v", p)
		}
		if g := c.productDeleted(acct, stale.ID); g {
			t.Fatalf("a failed pass concluded a deletion")
		}
		c.clearFaults(c.sbx)

		c.must(202, c.call(c.key, "POST", "/api/v1/catalog-sync/import", nil))
		r = c.call(c.key, "POST", "/api/v1/catalog-sync/import", nil)
		if r.Status != 409 && c.progress()["phase"] != "done" {
			t.Fatalf("a second import while one runs: %d %s", r.Status, r.Body)
		}
		p = c.waitImport("done")
		n, err := c.app.Store.CountCatalogRecords(context.Background(), acct)
		if err != nil {
			t.Fatal(err)
		}
		if p["done"].(float64) < 230 || p["total"] != p["done"] || p["error"] != "" || p["started_at"] == nil || p["finished_at"] == nil {
			t.Fatalf("progress after the import: %v", p)
		}
		if !c.productDeleted(acct, stale.ID) {
			t.Fatalf("the complete pass did not conclude that the stale product is gone")
		}
		if n < 230+5 {
			t.Fatalf("only %d records imported", n)
		}
		// A refresh reads everything again and changes nothing.
		before := c.changeCount(acct)
		c.must(202, c.call(c.key, "POST", "/api/v1/catalog-sync/import", nil))
		c.waitImport("done")
		if after := c.changeCount(acct); after != before {
			t.Fatalf("a refresh of an unchanged catalog wrote %d change feed entries", after-before)
		}
		// Another account cannot see the progress or start an import of this source.
		other := c.account("Other shop", "owner@other.test")
		if p := c.must(200, c.call(other.APIKey, "GET", "/api/v1/catalog-sync/progress", nil)).json(t); p["phase"] != "idle" {
			t.Fatalf("another account sees the progress: %v", p)
		}
	})
}

func (c *catalogEnv) productDeleted(acct, id string) bool {
	c.t.Helper()
	p, err := c.app.Store.GetCatalogProduct(context.Background(), acct, id)
	if err != nil {
		c.t.Fatal(err)
	}
	return p.Deleted
}

func (c *catalogEnv) changeCount(acct string) int {
	c.t.Helper()
	ch, err := c.app.Store.ListCatalogChanges(context.Background(), acct, 0, 100000)
	if err != nil {
		c.t.Fatal(err)
	}
	return len(ch)
}

func TestCatalogRecords(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		c := newCatalogEnv(t, db)
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.source}))
		c.addSandboxProducts(120, "Spoke")
		c.must(202, c.call(c.key, "POST", "/api/v1/catalog-sync/import", nil))
		c.waitImport("done")

		// Search by name, SKU and barcode, case-insensitively; LIKE's wildcards are plain text.
		find := func(q string) []any {
			return c.must(200, c.call(c.key, "GET", "/api/v1/products?q="+url.QueryEscape(q), nil)).json(t)["data"].([]any)
		}
		if n := len(find("spoke 11")); n != 11 { // Spoke 11, Spoke 110..119
			t.Errorf("q=spoke 11: %d products", n)
		}
		if n := len(find("SPOKE-00042")); n != 1 {
			t.Errorf("by SKU: %d products", n)
		}
		if n := len(find("%")) + len(find("_")); n != 0 {
			t.Errorf("a wildcard matched %d products", n)
		}
		all := c.must(200, c.call(c.key, "GET", "/api/v1/products?limit=500", nil)).json(t)["data"].([]any)
		var barcoded map[string]any
		for _, p := range all {
			if b := p.(map[string]any)["barcode"].(string); b != "" {
				barcoded = p.(map[string]any)
			}
		}
		if barcoded == nil || len(find(barcoded["barcode"].(string))) != 1 {
			t.Errorf("no product found by its barcode")
		}
		// Pages follow the cursor to the end, each product once.
		seen := map[string]bool{}
		cursor := ""
		for pages := 0; ; pages++ {
			page := c.must(200, c.call(c.key, "GET", "/api/v1/products?limit=50&cursor="+cursor, nil)).json(t)
			for _, p := range page["data"].([]any) {
				id := p.(map[string]any)["id"].(string)
				if seen[id] {
					t.Fatalf("product %s on two pages", id)
				}
				seen[id] = true
			}
			if page["next_cursor"] == nil {
				break
			}
			cursor = page["next_cursor"].(string)
		}
		if len(seen) != len(all) {
			t.Fatalf("paging saw %d products, the list has %d", len(seen), len(all))
		}
		// One product, its stock per location.
		var tracked map[string]any
		for _, p := range all {
			if p.(map[string]any)["track_stock"] == true {
				tracked = p.(map[string]any)
				break
			}
		}
		id := tracked["id"].(string)
		got := c.must(200, c.call(c.key, "GET", "/api/v1/products/"+id, nil)).json(t)
		if got["name"] != tracked["name"] || got["external_id"] == "" || got["integration_id"] != c.source {
			t.Fatalf("product: %v", got)
		}
		stock := c.must(200, c.call(c.key, "GET", "/api/v1/stock?product_id="+id, nil)).json(t)["data"].([]any)
		if len(stock) < 2 {
			t.Fatalf("stock of %s: %v", id, stock)
		}
		if r := c.call(c.key, "GET", "/api/v1/stock", nil); r.Status != 422 || r.errField(t) != "product_id" {
			t.Fatalf("stock without product_id: %d %s", r.Status, r.Body)
		}
		// Customers.
		cs := c.must(200, c.call(c.key, "GET", "/api/v1/customers", nil)).json(t)["data"].([]any)
		if len(cs) == 0 {
			t.Fatalf("no customers imported")
		}
		first := cs[0].(map[string]any)
		if n := len(c.must(200, c.call(c.key, "GET", "/api/v1/customers?q="+url.QueryEscape(first["email"].(string)), nil)).json(t)["data"].([]any)); n != 1 {
			t.Errorf("customer by email: %d", n)
		}
		// The change feed holds every record created, and pages by cursor.
		feed := c.must(200, c.call(c.key, "GET", "/api/v1/changes?limit=100", nil)).json(t)
		if len(feed["data"].([]any)) != 100 || feed["has_more"] != true {
			t.Fatalf("first page of changes: %d entries, has_more %v", len(feed["data"].([]any)), feed["has_more"])
		}
		total := 100
		for cur := feed["next_cursor"].(string); ; {
			f := c.must(200, c.call(c.key, "GET", "/api/v1/changes?cursor="+cur, nil)).json(t)
			total += len(f["data"].([]any))
			cur = f["next_cursor"].(string)
			if f["has_more"] == false {
				again := c.must(200, c.call(c.key, "GET", "/api/v1/changes?cursor="+cur, nil)).json(t)
				if len(again["data"].([]any)) != 0 || again["next_cursor"] != cur {
					t.Fatalf("the end of the feed moved: %v", again)
				}
				break
			}
		}
		if total < len(all)+len(cs) {
			t.Fatalf("the feed has %d entries for %d products and %d customers", total, len(all), len(cs))
		}
		// Links by external id only; bad links are refused by field.
		for _, bad := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"product_id": "prd_nope", "integration_id": c.shop, "external_id": "1"}, "product_id"},
			{map[string]any{"product_id": id, "integration_id": c.source, "external_id": "1"}, "integration_id"},
			{map[string]any{"product_id": id, "integration_id": c.shop, "external_id": "999999"}, "external_id"},
			{map[string]any{"product_id": id, "integration_id": c.shop}, "external_id"},
		} {
			if r := c.call(c.key, "POST", "/api/v1/links", bad.body); r.Status != 422 || r.errField(t) != bad.field {
				t.Errorf("link %v: want 422 on %s, got %d %s", bad.body, bad.field, r.Status, r.Body)
			}
		}

		// Tenant isolation: another account sees none of it.
		other := c.account("Other shop", "owner@other.test")
		if r := c.call(other.APIKey, "GET", "/api/v1/products/"+id, nil); r.Status != 404 {
			t.Fatalf("another account's product: %d", r.Status)
		}
		if r := c.call(other.APIKey, "GET", "/api/v1/stock?product_id="+id, nil); r.Status != 404 {
			t.Fatalf("another account's stock: %d", r.Status)
		}
		for _, p := range []string{"/api/v1/products", "/api/v1/customers", "/api/v1/changes"} {
			if d := c.must(200, c.call(other.APIKey, "GET", p, nil)).json(t)["data"].([]any); len(d) != 0 {
				t.Fatalf("another account lists %d records at %s", len(d), p)
			}
		}
		if r := c.call(other.APIKey, "POST", "/api/v1/links", map[string]any{"product_id": id, "integration_id": c.shop, "external_id": "1"}); r.Status != 422 || r.errField(t) != "product_id" {
			t.Fatalf("another account links this product: %d %s", r.Status, r.Body)
		}
	})
}

// shopConn opens the connector of an integration in-process, to look at (and edit) the shop as
// its merchant would.
func (c *catalogEnv) shopConn(acct, id string) interface {
	connector.ProductSource
	connector.ProductSink
} {
	c.t.Helper()
	i, err := c.app.Lifecycle.Get(context.Background(), acct, id)
	if err != nil {
		c.t.Fatal(err)
	}
	conn, err := c.app.Lifecycle.Connector(context.Background(), i)
	if err != nil {
		c.t.Fatal(err)
	}
	return conn.(interface {
		connector.Connector
		connector.ProductSource
		connector.ProductSink
	})
}

func TestCatalogPushToShop(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		c := newCatalogEnvWith(t, db, func(cfg *app.Config) { cfg.CatalogPollInterval = 300 * time.Millisecond })
		ctx := context.Background()
		acct, err := c.app.Store.AccountByAPIKeyHash(ctx, auth.HashToken(c.key))
		if err != nil {
			t.Fatal(err)
		}
		shop := c.shopConn(acct, c.shop)
		c.addSandboxProducts(3, "Wheel")
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.source, "enabled": true,
			"destinations": []any{map[string]any{"integration_id": c.shop}}}))
		c.must(202, c.call(c.key, "POST", "/api/v1/catalog-sync/import", nil))
		c.waitImport("done")

		// Every product reaches the shop and is linked to what was created there.
		var wheel map[string]any
		waitFor(t, "every product linked to the shop", func() bool {
			ps := c.must(200, c.call(c.key, "GET", "/api/v1/products?limit=500", nil)).json(t)["data"].([]any)
			for _, p := range ps {
				m := p.(map[string]any)
				if len(m["links"].([]any)) == 0 {
					return false
				}
				if m["name"] == "Wheel 1" {
					wheel = m
				}
			}
			return wheel != nil
		})
		shopID := wheel["links"].([]any)[0].(map[string]any)["external_id"].(string)

		// The shop sends a product.created back for each product pushed to it. It is not the
		// catalog's source, so nothing acts on them: they are acknowledged without being stored,
		// and only counted; the source's events are stored as before.
		waitFor(t, "the shop's product.created events counted", func() bool {
			ev := c.must(200, c.call(c.key, "GET", "/api/v1/integrations/"+c.shop+"/webhook-events?limit=500", nil)).json(t)
			for _, x := range ev["data"].([]any) {
				if m := x.(map[string]any); strings.HasPrefix(m["topic"].(string), "product.") {
					t.Fatalf("the shop's product event was stored: %v", m)
				}
			}
			for _, x := range ev["ignored"].([]any) {
				if m := x.(map[string]any); m["topic"] == "product.created" {
					return m["count"].(float64) >= 3
				}
			}
			return false
		})
		got, err := shop.GetProduct(ctx, shopID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Wheel 1" || got.SKU != "Wheel-00001" || got.Price.Amount != 101 {
			t.Fatalf("the shop's product: %+v", got)
		}

		// The merchant edits weight and categories in the shop, and writes a formatted description.
		got.Weight = &domain.Weight{Value: "1.25", Unit: "kg"}
		got.Categories = []domain.Category{{ID: "17", Name: "Wheels"}}
		got.Description = "<p>Formatted</p>"
		if _, err := shop.UpdateProduct(ctx, got); err != nil {
			t.Fatal(err)
		}
		// A product saved in the POS (new name and price, still no description) reaches the
		// shop whole, except the fields the shop owns; the empty description overwrites.
		saveInPOS := func(name string, price int) {
			c.must(200, c.call(c.sbx, "PUT", "/sandbox/api/v1/products/"+wheel["external_id"].(string), map[string]any{"name": name, "sku": "Wheel-00001",
				"description": "", "price": map[string]any{"amount": price, "currency": "EUR"}, "track_stock": false}))
		}
		saveInPOS("Wheel 1 (29 inch)", 4999)
		waitFor(t, "the POS's change in posbridge", func() bool {
			p := c.must(200, c.call(c.key, "GET", "/api/v1/products/"+wheel["id"].(string), nil)).json(t)
			return p["name"] == "Wheel 1 (29 inch)"
		})
		var now domain.Product
		defer func() {
			if t.Failed() {
				for _, l := range strings.Split(c.logs.String(), "\n") {
					if strings.Contains(l, "catalog") && (strings.Contains(l, "ERROR") || strings.Contains(l, "WARN") || strings.Contains(l, "error")) {
						t.Log(l)
					}
				}
				t.Logf("sandbox deliveries: %s", do(t, c.url, "", "GET", "/sandbox/admin/deliveries?api_key="+c.sbx, nil).Body)
				logUnfinishedJobs(t, c.app.Store.SQLDB())
			}
		}()
		waitFor(t, "the POS's change in the shop", func() bool {
			now, err = shop.GetProduct(ctx, shopID)
			return err == nil && now.Name == "Wheel 1 (29 inch)"
		})
		if now.Price.Amount != 4999 || now.Description != "" {
			t.Errorf("after the push: %+v", now)
		}
		if now.Weight == nil || now.Weight.Value != "1.25" || len(now.Categories) != 1 || now.Categories[0].ID != "17" {
			t.Errorf("the shop's weight and categories did not survive the push: %+v %+v", now.Weight, now.Categories)
		}

		// With empty_overwrites off, the shop's description stays when the POS has none.
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"destinations": []any{map[string]any{"integration_id": c.shop, "empty_overwrites": false}}}))
		// The settings change pushes every linked product again; the merchant's edit in the shop
		// comes after that push of this product (one that read the shop's product before the edit
		// would write the description it read back over it). The change makes the product due in
		// the same transaction, and the push records it pushed once the shop took it, so the wait
		// is on that record: not on the catalog jobs, one of which may be waiting out a retry's
		// backoff for minutes after this product went.
		waitFor(t, "the settings change's push of "+wheel["name"].(string), func() bool {
			pending, err := c.app.Store.PendingCatalogPushes(ctx, acct, c.source, c.shop, "", 1000)
			if err != nil {
				t.Fatalf("products due to the shop: %v", err)
			}
			for _, pp := range pending {
				if pp.Product.ID == wheel["id"] {
					return false
				}
			}
			return true
		})
		now, err = shop.GetProduct(ctx, shopID)
		if err != nil {
			t.Fatal(err)
		}
		now.Description = "<p>Formatted again</p>"
		if _, err := shop.UpdateProduct(ctx, now); err != nil {
			t.Fatal(err)
		}
		saveInPOS("Wheel 1 (29 inch, black)", 5499)
		waitFor(t, "the second change in the shop", func() bool {
			now, err = shop.GetProduct(ctx, shopID)
			return err == nil && now.Name == "Wheel 1 (29 inch, black)"
		})
		if now.Description != "<p>Formatted again</p>" || now.Price.Amount != 5499 {
			t.Errorf("with empty_overwrites off: %+v", now)
		}

		// Disconnecting the shop stops the pushes; what was synced stays.
		c.must(200, c.call(c.key, "POST", "/api/v1/integrations/"+c.shop+"/deactivate", nil))
		saveInPOS("Wheel 1 (renamed after disconnect)", 5599)
		waitFor(t, "the POS's change in posbridge", func() bool {
			p := c.must(200, c.call(c.key, "GET", "/api/v1/products/"+wheel["id"].(string), nil)).json(t)
			return p["name"] == "Wheel 1 (renamed after disconnect)"
		})
		time.Sleep(500 * time.Millisecond) // a push would have had time; none may come
		if now, _ = shop.GetProduct(ctx, shopID); now.Name != "Wheel 1 (29 inch, black)" {
			t.Errorf("a disconnected shop got a push: %+v", now)
		}
	})
}

// TestCatalogLightspeedToShopify: the Lightspeed simulator as the system of record, the Shopify
// simulator as the shop: everything is imported and every product reaches the shop, linked.
func TestCatalogLightspeedToShopify(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, nil)
		owner := e.account("Spoke & Chain", "owner@spoke.test")
		key := owner.APIKey
		src := e.must(201, e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "lightspeed", "sandbox": true})).json(t)["id"].(string)
		shop := e.must(201, e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "shopify", "sandbox": true})).json(t)["id"].(string)
		e.waitStatus(key, src, "healthy")
		e.waitStatus(key, shop, "healthy")
		e.must(200, e.call(key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": src, "enabled": true,
			"destinations": []any{map[string]any{"integration_id": shop}}}))
		e.must(202, e.call(key, "POST", "/api/v1/catalog-sync/import", nil))
		var p map[string]any
		waitFor(t, "the import done", func() bool {
			p = e.must(200, e.call(key, "GET", "/api/v1/catalog-sync/progress", nil)).json(t)
			return p["phase"] == "done" || p["phase"] == "failed"
		})
		if p["phase"] != "done" {
			t.Fatalf("import: %v", p)
		}
		ps := e.must(200, e.call(key, "GET", "/api/v1/products?limit=500", nil)).json(t)["data"].([]any)
		if len(ps) == 0 {
			t.Fatal("nothing imported from Lightspeed")
		}
		// (The Lightspeed simulator starts without customers.)
		waitFor(t, "every Lightspeed product linked to Shopify", func() bool {
			ps = e.must(200, e.call(key, "GET", "/api/v1/products?limit=500", nil)).json(t)["data"].([]any)
			for _, x := range ps {
				if len(x.(map[string]any)["links"].([]any)) == 0 {
					return false
				}
			}
			return true
		})
		acct, err := e.app.Store.AccountByAPIKeyHash(context.Background(), auth.HashToken(key))
		if err != nil {
			t.Fatal(err)
		}
		c := &catalogEnv{env: e, key: key, source: src, shop: shop}
		conn := c.shopConn(acct, shop)
		first := ps[0].(map[string]any)
		got, err := conn.GetProduct(context.Background(), first["links"].([]any)[0].(map[string]any)["external_id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != first["name"] {
			t.Fatalf("Shopify has %q for %q", got.Name, first["name"])
		}
		t.Logf("%d products from Lightspeed in Shopify", len(ps))
	})
}

// TestCatalogPushFigures imports 600 products from the Sandbox POS and pushes them to the
// WooCommerce simulator: in batches of 100 (at most one call more per 100 products), each
// product once (a product new to the shop waits for its stock to be read, then goes with it),
// and reports the time (`posbridge bench catalog` measures it at scale).
func TestCatalogPushFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("figures")
	}
	// Serial: its bound on batch calls holds when the pushes keep pace with the import in
	// batches of 100; with other tests running beside it a push once went in 11 calls for 624
	// products (bound 9), in batches cut short. Its figures are also meant to be taken alone.
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		c := newCatalogEnv(t, db)
		ctx := context.Background()
		acct, err := c.app.Store.AccountByAPIKeyHash(ctx, auth.HashToken(c.key))
		if err != nil {
			t.Fatal(err)
		}
		const n = 600
		c.addSandboxProducts(n, "Bulk")
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.source, "enabled": true,
			"destinations": []any{map[string]any{"integration_id": c.shop}}}))
		began := time.Now()
		c.must(202, c.call(c.key, "POST", "/api/v1/catalog-sync/import", nil))
		// Bulk work on a busy machine: the deadlines are generous, the figures say how long it took.
		var p map[string]any
		total, linked, waiting := 0, 0, 0
		defer func() {
			if t.Failed() {
				t.Logf("import %v; %d pushed, %d linked, %d waiting; log:\n%s", p, total, linked, waiting, c.logs.String())
			}
		}()
		waitWithin(t, 5*time.Minute, "the import", func() bool {
			p = c.progress()
			return p["phase"] == "done" || p["phase"] == "failed"
		})
		if p["phase"] != "done" {
			t.Fatalf("import %v", p)
		}
		imported := time.Since(began)
		waitWithin(t, 5*time.Minute, "every product pushed", func() bool {
			pending, err := c.app.Store.PendingCatalogPushes(ctx, acct, c.source, c.shop, "", 1)
			if err != nil {
				t.Fatal(err)
			}
			links, err := c.app.Store.ListCatalogLinks(ctx, acct, nil)
			if err != nil {
				t.Fatal(err)
			}
			linked, waiting = len(links), len(pending)
			// The push records its links before it counts them.
			total = int(c.app.Catalog.PushedProducts.Load())
			return len(pending) == 0 && linked >= n && total >= linked
		})
		took := time.Since(began)
		calls := c.app.Catalog.PushCalls.Load()
		if max := int64((total+99)/100 + 2); calls > max {
			t.Errorf("%d products took %d batch calls (at most %d)", total, calls, max)
		}
		// The bulk products and the sandbox's sample catalogue, each pushed once.
		if total != linked {
			t.Errorf("%d products pushed for %d linked: some twice", total, linked)
		}
		t.Logf("%s: %v records imported in %v; %d products pushed in %d batch calls, all done in %v", db.Name, p["done"], imported.Round(time.Millisecond), total, calls, took.Round(time.Millisecond))
	})
}
