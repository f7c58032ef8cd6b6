package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/posbridge/posbridge/internal/accounts"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/lifecycle"
)

// TestConsoleOverview: the page after login shows the account at a glance: integrations by
// status, documents synced today, a failing integration under "Needs attention" in a merchant's
// words, a chart of the last 7 days' syncs, the recent documents and the next steps a newcomer has left; another account's data
// never shows.
func TestConsoleOverview(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := context.Background()
	acct := srv.acct.AccountID
	key := mintSandbox(t, srv, acct)
	it := healthySandbox(t, srv, key)
	broken, err := srv.app.Lifecycle.Add(ctx, acct, "system", lifecycle.AddInput{Type: "woocommerce", Credentials: map[string]string{
		"store_url": "http://127.0.0.1:1", "consumer_key": "ck_" + strings.Repeat("a", 40), "consumer_secret": "cs_" + strings.Repeat("b", 40)}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the unreachable store fails its check", func() bool {
		i, err := srv.app.Lifecycle.Get(ctx, acct, broken.ID)
		return err == nil && i.Status == domain.StatusFailed
	})
	set, err := srv.app.Sync.Settings(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	set.AutoSync, set.IntegrationID, set.SyncOnInvoiceCreated = true, it.ID, true
	if _, err := srv.app.Sync.SaveSettings(ctx, acct, "system", set); err != nil {
		t.Fatal(err)
	}
	putDoc(t, srv, domain.KindInvoice, "INV-800", "issued", nil, "Wheel truing")
	eventually(t, 30*time.Second, "INV-800 synced", func() bool {
		d, err := srv.app.Sync.Get(ctx, acct, domain.KindInvoice, "INV-800")
		return err == nil && d.Sync.Status == domain.SyncSynced
	})

	b := browser(t)
	w := &walk{t: t, ctx: b, url: srv.url}
	w.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	if loc := w.location(); !strings.HasSuffix(loc, srv.url+"/") && loc != srv.url+"/" {
		t.Fatalf("after login the browser is at %s, not the overview", loc)
	}
	got := w.merchantText("/")
	for _, want := range []string{"Needs attention", "WooCommerce is Failed", "Open WooCommerce", "1 Healthy", "1 Failed",
		"Synced today", "Invoice INV-800", "Next steps", "add a webhook endpoint"} {
		if !strings.Contains(got, want) {
			t.Fatalf("the overview lacks %q:\n%s", want, got)
		}
	}
	if n := w.evalString(`document.getElementById('synced-today').textContent`); n != "1" {
		t.Fatalf("synced today: %q", n)
	}
	if !w.eval(`document.querySelector('#next-steps li.done') !== null && document.querySelectorAll('#next-steps li:not(.done)').length === 1`) {
		t.Fatal("next steps: three are done, adding a webhook endpoint is left")
	}
	// The chart of the last 7 days: today's bar of syncs that went through counts INV-800.
	if n := w.evalString(`String(document.querySelectorAll('#activity-chart g[data-day]').length)`); n != "7" {
		t.Fatalf("the activity chart has %s days, want 7", n)
	}
	if n := w.evalString(`[...document.querySelectorAll('#activity-chart g[data-day]')].pop().querySelector('rect.bar:not(.bar-failed)').dataset.n`); n != "1" {
		t.Fatalf("today's syncs that went through: %q, want 1", n)
	}
	if note := w.evalString(`document.getElementById('activity-note').textContent`); !strings.Contains(note, "1 sync(s) to the POS went through, 0 failed") {
		t.Fatalf("activity note: %q", note)
	}
	w.shot("overview")
	w.do("go to the failing integration", chromedp.Click(chromedp.CSS(`#attention a[href="/integrations/`+broken.ID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="edit"]`)))

	// Another account sees none of it.
	other := newClient(t, srv.url)
	o, err := accounts.Create(ctx, srv.app.Store, "Other shop", "other@example.com")
	if err != nil {
		t.Fatal(err)
	}
	other.login(o.AdminEmail, o.AdminPassword)
	if _, page := other.get("/"); strings.Contains(page, "INV-800") || strings.Contains(page, it.ID) || !strings.Contains(page, "No POS is connected yet") {
		t.Fatalf("another account's overview:\n%s", page)
	}
}
