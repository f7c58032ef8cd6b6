package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/posbridge/posbridge/internal/domain"
)

// TestConsoleFitsEveryWidth loads every console page of an account with data (a healthy Sandbox
// POS, synced and paid invoices, a webhook endpoint) at 390 px (a phone) and at 1,280 px, and
// checks that none scrolls sideways: the document is no wider than the viewport. Screenshots
// of the main pages at 390 px are kept.
func TestConsoleFitsEveryWidth(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := context.Background()
	acct := srv.acct.AccountID
	key := mintSandbox(t, srv, acct)
	it := healthySandbox(t, srv, key)
	set, err := srv.app.Sync.Settings(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	set.AutoSync, set.IntegrationID, set.SyncOnInvoiceCreated, set.MarkInvoicePaidOnCompletion = true, it.ID, true, true
	if _, err := srv.app.Sync.SaveSettings(ctx, acct, "system", set); err != nil {
		t.Fatal(err)
	}
	ref := "INV-2026-000123-WORKSHOP-NORTH"
	putDoc(t, srv, domain.KindInvoice, ref, "issued", nil, "Wheel truing with a very long description of the work done on the rear wheel")
	eventually(t, 30*time.Second, ref+" synced", func() bool {
		d, err := srv.app.Sync.Get(ctx, acct, domain.KindInvoice, ref)
		return err == nil && d.Sync.Status == domain.SyncSynced
	})
	if _, _, err := srv.app.Outbox.CreateEndpoint(ctx, acct, "system", "https://hooks.example.com/posbridge/a/rather/long/path/to/the/receiver", "the app", nil); err != nil {
		t.Fatal(err)
	}

	pages := []string{"/", "/integrations", "/integrations/new", "/integrations/" + it.ID, "/integrations/" + it.ID + "/deactivate",
		"/integrations/" + it.ID + "/webhooks", "/documents", "/documents?kind=invoice", "/documents/invoice/" + ref, "/order-sync",
		"/catalog-sync", "/timeline", "/webhook-endpoints", "/support", "/support/disconnect/" + it.ID, "/api-keys", "/back-office",
		"/users", "/roles", "/account/password", "/docs/sandbox"}
	shots := map[string]string{"/": "phone_home", "/integrations": "phone_integrations", "/documents?kind=invoice": "phone_documents",
		"/documents/invoice/" + ref: "phone_sync_dialog", "/timeline": "phone_timeline", "/integrations/" + it.ID: "phone_integration"}

	b := browser(t)
	w := &walk{t: t, ctx: b, url: srv.url}
	w.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	var wide []string
	for _, width := range []int64{390, 1280} {
		w.do(fmt.Sprintf("set the viewport to %d px", width), chromedp.EmulateViewport(width, 844))
		for _, p := range pages {
			w.do("open "+p, chromedp.Navigate(srv.url+p), chromedp.WaitReady(chromedp.CSS("body[data-page]")))
			got := w.evalString(`(() => { const d = document.documentElement;
				if (d.scrollWidth <= d.clientWidth) return '';
				const over = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > d.clientWidth + 0.5)
					.filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > d.clientWidth + 0.5))
					.slice(0, 4).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') + ' ' + Math.round(e.getBoundingClientRect().right));
				return d.scrollWidth + ' > ' + d.clientWidth + ': ' + over.join(', '); })()`)
			if got != "" {
				wide = append(wide, fmt.Sprintf("%d px %s: %s", width, p, got))
			}
			if name, ok := shots[p]; ok && width == 390 {
				w.shot(name)
			}
		}
	}
	if len(wide) > 0 {
		t.Fatalf("pages wider than the screen:\n%s", strings.Join(wide, "\n"))
	}
}
