package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/posbridge/posbridge/internal/accounts"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/lifecycle"
)

// TestConsoleSandboxStoreOrders: for each real provider's sandbox store, an invoice synced to
// it has a working order link in its sync dialog (the console's page of the order, not the
// simulator's API), Complete on that page turns the invoice paid through the store's webhook,
// Void voids another; the edit page shows the store's credentials to an admin; another
// account reaches neither the page nor the buttons. The WooCommerce round is clicked in
// Chromium with screenshots.
func TestConsoleSandboxStoreOrders(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := context.Background()
	acct := srv.acct.AccountID
	admin := newClient(t, srv.url)
	csrf := admin.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	other, err := accounts.Create(ctx, srv.app.Store, "Other shop", "other@example.com")
	if err != nil {
		t.Fatal(err)
	}
	stranger := newClient(t, srv.url)
	strangerCSRF := stranger.login(other.AdminEmail, other.AdminPassword)
	orderLink := regexp.MustCompile(`href="(/integrations/[^"]+/sandbox-orders/[^"]+)"[^>]*id="view-in-pos"`)
	var b context.Context
	for _, typ := range []string{"woocommerce", "shopify", "square", "lightspeed"} {
		it, err := srv.app.Lifecycle.Add(ctx, acct, "system", lifecycle.AddInput{Type: typ, Sandbox: true})
		if err != nil {
			t.Fatalf("%s: add sandbox store: %v", typ, err)
		}
		var last string
		waitUntil(t, 30*time.Second, func() bool {
			i, err := srv.app.Lifecycle.Get(ctx, acct, it.ID)
			sub, serr := srv.app.Store.WebhookSubscription(ctx, acct, it.ID)
			last = fmt.Sprintf("status %s (%s), subscription %q %v", i.Status, i.StatusReason, sub, serr)
			return err == nil && i.Status == domain.StatusHealthy && serr == nil && sub != ""
		}, func() { t.Fatalf("%s sandbox store not healthy and subscribed: %s", typ, last) })
		set, err := srv.app.Sync.Settings(ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		set.AutoSync, set.IntegrationID, set.SyncOnInvoiceCreated, set.MarkInvoicePaidOnCompletion = true, it.ID, true, true
		if _, err := srv.app.Sync.SaveSettings(ctx, acct, "system", set); err != nil {
			t.Fatal(err)
		}
		paid, voided := "INV-"+typ+"-1", "INV-"+typ+"-2"
		for _, ref := range []string{paid, voided} {
			putDoc(t, srv, domain.KindInvoice, ref, "issued", nil, "Wheel truing")
			eventually(t, 30*time.Second, ref+" synced", func() bool {
				d, err := srv.app.Sync.Get(ctx, acct, domain.KindInvoice, ref)
				return err == nil && d.Sync.Status == domain.SyncSynced
			})
		}

		// The edit page: where the store is and, for an admin, its credentials.
		if _, page := admin.get("/integrations/" + it.ID); !strings.Contains(page, `id="sandbox-credentials"`) || !strings.Contains(page, "/sandbox/"+typ) {
			t.Fatalf("%s: the edit page shows no sandbox store credentials:\n%s", typ, page)
		}

		// The dialog's link opens the console's page of the order, with Complete and Void.
		_, dialog := admin.get("/documents/invoice/" + paid)
		m := orderLink.FindStringSubmatch(dialog)
		if m == nil || !strings.Contains(dialog, `id="sandbox-complete"`) {
			t.Fatalf("%s: the sync dialog has no sandbox order link or buttons:\n%s", typ, dialog)
		}
		page := m[1]
		if resp, body := admin.get(page); resp.StatusCode != 200 || !strings.Contains(body, paid) || !strings.Contains(body, "Complete order") {
			t.Fatalf("%s: order page %s: %d\n%s", typ, page, resp.StatusCode, body)
		}
		// Another account: not found, and its buttons do nothing.
		if resp, _ := stranger.get(page); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: another account's session sees the order page: %d", typ, resp.StatusCode)
		}
		if resp, _ := stranger.post(page+"/complete", url.Values{"csrf": {strangerCSRF}}); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: another account completes the order: %d", typ, resp.StatusCode)
		}

		if typ == "woocommerce" {
			b = browser(t)
			w := &walk{t: t, ctx: b, url: srv.url}
			w.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
			w.do("open the sync dialog", chromedp.Navigate(srv.url+"/documents/invoice/"+paid), chromedp.WaitVisible(chromedp.CSS("#view-in-pos")))
			w.do("open the order", chromedp.Navigate(srv.url+page), chromedp.WaitVisible(chromedp.CSS("#sandbox-complete")))
			w.shot("sandbox_store_order")
			w.clickFor("complete the order", "#sandbox-complete", "Order completed in the sandbox")
			w.do("open the edit page", chromedp.Navigate(srv.url+"/integrations/"+it.ID), chromedp.WaitVisible(chromedp.CSS("#sandbox-credentials")))
			w.shot("sandbox_store_credentials")
		} else if resp, _ := admin.post(page+"/complete", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: complete: %d", typ, resp.StatusCode)
		}
		eventually(t, 30*time.Second, paid+" paid", func() bool {
			d, err := srv.app.Sync.Get(ctx, acct, domain.KindInvoice, paid)
			return err == nil && d.Status == "paid"
		})
		// Completing it again: refused in words.
		if resp, body := admin.post(page+"/complete", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "no longer open") {
			t.Fatalf("%s: complete twice: %d\n%s", typ, resp.StatusCode, body)
		}

		// Void the other one from its dialog's button.
		if resp, _ := admin.post("/documents/invoice/"+voided+"/sandbox/void", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: void: %d", typ, resp.StatusCode)
		}
		_, dialog = admin.get("/documents/invoice/" + voided)
		if m = orderLink.FindStringSubmatch(dialog); m == nil {
			t.Fatalf("%s: no order link for %s", typ, voided)
		}
		if _, body := admin.get(m[1]); !strings.Contains(body, `data-state="voided"`) {
			t.Fatalf("%s: the voided order's page:\n%s", typ, body)
		}
		if d, _ := srv.app.Sync.Get(ctx, acct, domain.KindInvoice, voided); d.Status == "paid" {
			t.Fatalf("%s: a voided order made its invoice paid", typ)
		}
	}
}

// waitUntil polls cond until it holds, calling fail when within (at least patience) passes first.
func waitUntil(t *testing.T, within time.Duration, cond func() bool, fail func()) {
	t.Helper()
	deadline := time.Now().Add(patient(within))
	for !cond() {
		if time.Now().After(deadline) {
			fail()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
