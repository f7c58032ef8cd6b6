package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/lifecycle"
	"github.com/posbridge/posbridge/internal/store"
)

// TestConsoleCatalogSyncWalk: the merchant chooses the POS that holds the products and a web
// shop with its field-ownership table, imports everything, watches the progress bar, searches
// the products and sees their link state and the recent changes.
func TestConsoleCatalogSyncWalk(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := context.Background()
	acct := srv.acct.AccountID
	key := mintSandbox(t, srv, acct)
	src := healthySandbox(t, srv, key)
	shop, err := srv.app.Lifecycle.Add(ctx, acct, "system", lifecycle.AddInput{Type: "woocommerce", Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the shop healthy", func() bool {
		i, err := srv.app.Lifecycle.Get(ctx, acct, shop.ID)
		return err == nil && i.Status == domain.StatusHealthy
	})

	b := browser(t)
	w := &walk{t: t, ctx: b, url: srv.url}
	w.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	w.do("open Catalog sync", chromedp.Click(chromedp.CSS(`nav.side a[href="/catalog-sync"]`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="catalog_sync"] #source_integration_id`)))
	if got := w.text(`section.destination[data-integration="` + shop.ID + `"]`); !strings.Contains(got, "Weight") || !strings.Contains(got, "Categories") {
		t.Fatalf("the shop's ownership table reads %q", got)
	}
	if !w.eval(`document.querySelector('input[name="own_` + shop.ID + `_weight"]').checked && document.querySelector('input[name="own_` + shop.ID + `_categories"]').checked && !document.querySelector('input[name="own_` + shop.ID + `_name"]').checked`) {
		t.Fatal("weight and categories are not the shop's by default")
	}
	w.eval(`(() => { document.getElementById('source_integration_id').value = '` + src.ID + `';
		document.getElementById('enabled').checked = true;
		document.getElementById('dest-` + shop.ID + `').checked = true; return true; })()`)
	w.clickFor("save", "#save-catalog", "Catalog sync settings saved")
	set, err := srv.app.Catalog.Settings(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if !set.Enabled || set.SourceIntegrationID != src.ID || len(set.Destinations) != 1 || set.Destinations[0].IntegrationID != shop.ID ||
		!set.Destinations[0].EmptyOverwrites || strings.Join(set.Destinations[0].OwnedFields, ",") != "weight,categories" {
		t.Fatalf("saved settings: %+v", set)
	}

	// The shop has a product of its own with the SKU of one of the POS's: the first import,
	// asked to match by SKU, links it instead of making it again, and says so.
	srcConn, err := srv.app.Lifecycle.Connector(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	page, err := srcConn.(connector.ProductSource).ListProducts(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var sku string
	for _, p := range page.Items {
		if p.SKU != "" && len(p.Variants) == 0 {
			sku = p.SKU
			break
		}
	}
	shopConn, err := srv.app.Lifecycle.Connector(ctx, shop)
	if err != nil {
		t.Fatal(err)
	}
	made, err := shopConn.(connector.ProductSink).CreateProduct(ctx, domain.Product{Name: "Made in the shop", SKU: sku, Price: domain.Money{Amount: 100, Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	w.do("match by SKU", chromedp.Navigate(srv.url+"/catalog-sync"), chromedp.WaitVisible(chromedp.CSS(`#match-by-sku`)), chromedp.Click(chromedp.CSS(`#match-by-sku`)))
	w.shot("catalog_sync_match_by_sku")
	w.clickFor("import", "#start-import", "Import started")
	w.until("/catalog-sync", `document.getElementById('import-state').textContent.includes('Imported') && document.querySelectorAll('#product-list tr[data-id]').length > 0 && !document.body.textContent.includes('Not linked')`, 25*time.Second)
	if !w.eval(`document.getElementById('import-progress').value === 100`) {
		t.Fatal("the progress bar is not full after the import")
	}
	if got := w.text("#sku-match-sentence"); got != "Matched 1 product by SKU at the first import; no SKU was ambiguous." {
		t.Fatalf("the SKU match report reads %q", got)
	}
	w.do("open the matches", chromedp.Click(chromedp.CSS(`#sku-match-report summary`)))
	if got := w.text(`#sku-match-list tr[data-sku="` + sku + `"]`); !strings.Contains(got, "#"+made.ID) {
		t.Fatalf("the matched product's row reads %q, want the shop's #%s", got, made.ID)
	}
	if w.eval(`!!document.getElementById('match-by-sku')`) {
		t.Fatal("the SKU match is still offered once products are linked")
	}
	w.shot("catalog_sync")
	w.do("search", chromedp.Navigate(srv.url+"/catalog-sync?q=zzz-no-such"), chromedp.WaitVisible(chromedp.CSS("#no-products")))
	if got := w.text("#no-products"); !strings.Contains(got, "zzz-no-such") {
		t.Fatalf("empty search reads %q", got)
	}
	// The shop's product.created events for the pushed products are not kept (the shop is not
	// the source): View Webhook counts them.
	w.until("/integrations/"+shop.ID+"/webhooks", `!!document.querySelector('#ignored-webhooks [data-topic="product.created"]') && !document.querySelector('#webhook-events tr[data-status] code')?.textContent.startsWith('product.')`, 20*time.Second)

	// A product saved in the POS, read again by a refresh: its page says what changed and why.
	ps, err := srv.app.Catalog.Products(ctx, acct, store.RecordFilter{Limit: 1})
	if err != nil || len(ps) == 0 {
		t.Fatalf("products: %v %v", ps, err)
	}
	conn, err := srv.app.Lifecycle.Connector(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	pos, err := conn.(connector.ProductSource).GetProduct(ctx, ps[0].ExternalID)
	if err != nil {
		t.Fatal(err)
	}
	oldName := pos.Name
	pos.Name = oldName + " (new model)"
	if _, err := conn.(connector.ProductSink).UpdateProduct(ctx, pos); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.app.Catalog.StartImport(ctx, acct, "system", false); err != nil {
		t.Fatal(err)
	}
	eventually(t, 25*time.Second, "the refresh done", func() bool {
		p, err := srv.app.Catalog.Progress(ctx, acct)
		return err == nil && p.Phase == domain.PhaseDone
	})
	w.do("open the product", chromedp.Navigate(srv.url+"/catalog-sync"), chromedp.WaitVisible(chromedp.CSS(`#product-list`)),
		chromedp.Click(chromedp.CSS(`#product-list tr[data-id="`+ps[0].ID+`"] a`)), chromedp.WaitVisible(chromedp.CSS(`#history-list`)))
	if got := w.text("#history-list"); !strings.Contains(got, "name") || !strings.Contains(got, oldName) || !strings.Contains(got, pos.Name) || !strings.Contains(got, "import") {
		t.Fatalf("the product's history reads %q", got)
	}
	w.shot("catalog_product")

	// A product whose stock the POS tracks shows its stock per location, by the location's name.
	all, err := srv.app.Catalog.Products(ctx, acct, store.RecordFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var stocked string
	var levels []domain.StockLevel
	for _, p := range all {
		if levels, err = srv.app.Catalog.Stock(ctx, acct, p.ID); err == nil && len(levels) > 0 {
			stocked = p.ID
			break
		}
	}
	if stocked == "" {
		t.Fatalf("no product with stock among %d", len(all))
	}
	w.do("open a stocked product", chromedp.Navigate(srv.url+"/catalog-sync/products/"+stocked), chromedp.WaitVisible(chromedp.CSS(`#stock-locations`)))
	got := w.text("#stock-locations")
	for _, l := range levels {
		if !strings.Contains(got, l.Quantity) || !strings.Contains(got, l.LocationID) {
			t.Errorf("the stock table %q lacks %s at %s", got, l.Quantity, l.LocationID)
		}
	}
	w.shot("catalog_product_stock")
}
