package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/lifecycle"
)

// rawText is what must never reach a merchant's page: Go's error strings, formatting mistakes and raw ids.
var rawText = regexp.MustCompile(`dial tcp|Get "|Post "|%!|int_[0-9a-z]{10}|connection refused|context deadline`)

// merchantText opens path and fails when the page's visible text carries technical text. The
// technical details behind a closed <details> are not visible text.
func (w *walk) merchantText(path string) string {
	w.t.Helper()
	w.do("open "+path, chromedp.Navigate(w.url+path), chromedp.WaitVisible(chromedp.CSS("main")))
	ctx, cancel := context.WithTimeout(w.ctx, patience)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		w.t.Fatalf("read %s: %v", path, err)
	}
	if m := rawText.FindString(text); m != "" {
		w.t.Fatalf("%s shows technical text %q:\n%s", path, m, text)
	}
	return text
}

func (w *walk) evalInt(js string) int {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, patience)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
	if err != nil {
		w.t.Fatalf("eval %s: %v", js, err)
	}
	return n
}

// TestConsoleMerchantMessages: a POS that cannot be reached shows a sentence for the merchant on
// the list, the detail page and the timeline, with the technical detail one click away; two
// integrations of one type are told apart; the SMTP notice is for admins on the Support page.
func TestConsoleMerchantMessages(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := context.Background()
	acct := srv.acct.AccountID
	wooIn := func(nick string) lifecycle.AddInput {
		return lifecycle.AddInput{Type: "woocommerce", Nickname: nick, Credentials: map[string]string{
			"store_url": "http://127.0.0.1:1", "consumer_key": "ck_" + strings.Repeat("a", 40), "consumer_secret": "cs_" + strings.Repeat("b", 40)}}
	}
	woo, err := srv.app.Lifecycle.Add(ctx, acct, "system", wooIn(""))
	if err != nil {
		t.Fatalf("add woocommerce: %v", err)
	}
	woo2, err := srv.app.Lifecycle.Add(ctx, acct, "system", wooIn("Bar shop"))
	if err != nil {
		t.Fatalf("add second woocommerce: %v", err)
	}
	eventually(t, 20*time.Second, "the unreachable store fails its check", func() bool {
		i, err := srv.app.Lifecycle.Get(ctx, acct, woo.ID)
		return err == nil && i.Status == domain.StatusFailed && strings.Contains(i.StatusReason, "connection refused")
	})
	// A settings change naming an integration: the timeline names it, never its id.
	set, err := srv.app.Sync.Settings(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	set.IntegrationID = woo2.ID
	if _, err := srv.app.Sync.SaveSettings(ctx, acct, "system", set); err != nil {
		t.Fatalf("save settings: %v", err)
	}

	b := browser(t)
	w := &walk{t: t, ctx: b, url: srv.url}
	w.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	if w.eval(`!!document.getElementById('email-banner')`) {
		t.Fatal("the SMTP notice shows on a merchant page")
	}
	list := w.merchantText("/integrations")
	if !strings.Contains(list, "nothing answered at its address") {
		t.Fatalf("the list does not explain the failure:\n%s", list)
	}
	if !w.eval(`!!document.querySelector('tr[data-id="` + woo.ID + `"] details.tech')`) {
		t.Fatal("the technical detail is not one click away on the list")
	}
	w.do("open the technical details", chromedp.Click(chromedp.CSS(`tr[data-id="`+woo.ID+`"] details.tech summary`)))
	if got := w.text(`tr[data-id="` + woo.ID + `"] details.tech code`); !strings.Contains(got, "connection refused") {
		t.Fatalf("technical details read %q", got)
	}
	w.shot("integrations_failed")
	if edit := w.merchantText("/integrations/" + woo.ID); !strings.Contains(edit, "nothing answered at its address") {
		t.Fatalf("the detail page does not explain the failure:\n%s", edit)
	}
	tl := w.merchantText("/timeline")
	if !strings.Contains(tl, "WooCommerce (Bar shop)") || !strings.Contains(tl, "WooCommerce integration added") {
		t.Fatalf("the timeline does not tell the two WooCommerce integrations apart:\n%s", tl)
	}
	if !strings.Contains(tl, "POS none -> WooCommerce (Bar shop)") {
		t.Fatalf("the settings change does not name the POS:\n%s", tl)
	}
	// Filters: integration, kind of event, period; paging keeps them.
	for i := 0; i < 60; i++ {
		if err := srv.app.Store.AddTimeline(ctx, domain.TimelineEntry{AccountID: acct, Kind: domain.KindIntegrationChecked,
			IntegrationID: woo2.ID, Actor: domain.ActorSystem, Message: "Checked the POS: OK"}); err != nil {
			t.Fatal(err)
		}
	}
	w.do("filter the timeline", chromedp.Navigate(srv.url+"/timeline"), chromedp.WaitVisible(chromedp.CSS("#timeline-filters")),
		chromedp.SetValue(chromedp.CSS("#filter-integration"), woo.ID), chromedp.SetValue(chromedp.CSS("#filter-kind"), domain.KindStatusChanged),
		chromedp.SetValue(chromedp.CSS("#filter-period"), "1d"), chromedp.Click(chromedp.CSS("#filter-apply")),
		chromedp.WaitVisible(chromedp.CSS("#filter-clear")))
	if n := w.evalInt(`document.querySelectorAll('table.timeline tbody tr').length`); n != 1 {
		t.Fatalf("filtered timeline has %d rows:\n%s", n, w.text("main"))
	}
	w.shot("timeline_filtered")
	w.do("page the checks of one integration", chromedp.Navigate(srv.url+"/timeline?integration="+woo2.ID+"&kind="+domain.KindIntegrationChecked),
		chromedp.WaitVisible(chromedp.CSS("#older")), chromedp.Click(chromedp.CSS("#older")), chromedp.WaitVisible(chromedp.CSS("#newest")))
	if n := w.evalInt(`document.querySelectorAll('table.timeline tbody tr').length`); n != 11 {
		t.Fatalf("the second page has %d rows, want 11", n)
	}
	if !strings.Contains(w.location(), "integration="+woo2.ID) {
		t.Fatalf("paging lost the filter: %s", w.location())
	}
	sup := w.merchantText("/support")
	if !strings.Contains(sup, "Email is not configured") {
		t.Fatalf("the admin's Support page has no SMTP notice:\n%s", sup)
	}
	add := w.merchantText("/integrations/new?type=woocommerce")
	if strings.Contains(add, "also works") {
		t.Fatalf("the add page still promises a loopback address:\n%s", add)
	}

	// Adding a real provider offers its sandbox store.
	w.do("open Add for Square", chromedp.Navigate(srv.url+"/integrations/new?type=square"), chromedp.WaitVisible(chromedp.CSS("#sandbox-option")))
	w.shot("add_sandbox_option")
	w.do("use a sandbox store", chromedp.Click(chromedp.CSS("#add-sandbox")), chromedp.WaitVisible(chromedp.CSS(`body[data-page="edit"] #flash`)))
	sq := idFromURL(t, w.location())
	eventually(t, 20*time.Second, "the Square sandbox store is healthy", func() bool {
		i, err := srv.app.Lifecycle.Get(ctx, acct, sq)
		return err == nil && i.Status == domain.StatusHealthy && i.Type == "square"
	})
}

// TestConsoleRetrying: while automatic retries are due the documents list and the sync dialog
// say "Retrying" and when the next attempt runs, not "Failed"; Retry now sends it at once.
func TestConsoleRetrying(t *testing.T) {
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
	set.AutoSync, set.IntegrationID, set.SyncOnInvoiceCreated = true, it.ID, true
	if _, err := srv.app.Sync.SaveSettings(ctx, acct, "system", set); err != nil {
		t.Fatal(err)
	}
	sandboxCall(t, srv, "POST", "/sandbox/admin/faults", map[string]any{"api_key": key, "fail_next": 1000, "status": 503}, nil)
	putDoc(t, srv, domain.KindInvoice, "INV-503", "issued", nil, "Tune-up")

	b := browser(t)
	w := &walk{t: t, ctx: b, url: srv.url}
	w.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	w.until("/documents?kind=invoice", syncOf("INV-503", "retrying"), 20*time.Second)
	w.do("open the sync dialog", chromedp.Click(chromedp.CSS(`tr[data-ref="INV-503"] a.sync-link`)),
		chromedp.WaitVisible(chromedp.CSS("#next-attempt")))
	if got := w.text("#next-attempt"); !strings.Contains(got, "tries again by itself at") || !strings.Contains(got, " of 8)") {
		t.Fatalf("next attempt reads %q", got)
	}
	if got := w.text("#retry"); got != "Retry now" {
		t.Fatalf("retry button reads %q", got)
	}
	w.merchantText("/documents/invoice/INV-503?tab=invoice")
	w.shot("sync_retrying")
	sandboxCall(t, srv, "DELETE", "/sandbox/admin/faults?api_key="+key, nil, nil)
	w.do("open the sync dialog again", chromedp.Navigate(srv.url+"/documents/invoice/INV-503?tab=invoice"), chromedp.WaitVisible(chromedp.CSS("#retry")))
	// posbridge's own next attempt may come first (the POS answers again): then Retry is refused
	// in words and the invoice syncs all the same.
	w.clickForAny("retry now", "#retry", "Retry queued", "retry is only possible after a failed sync")
	w.until("/documents?kind=invoice", syncOf("INV-503", "synced"), 60*time.Second)
}

// TestConsoleSandboxComplete: a Sandbox POS order is completed from its document's sync dialog,
// and the invoice turns paid.
func TestConsoleSandboxComplete(t *testing.T) {
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
	putDoc(t, srv, domain.KindInvoice, "INV-700", "issued", nil, "Wheel truing")

	b := browser(t)
	w := &walk{t: t, ctx: b, url: srv.url}
	w.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	w.until("/documents?kind=invoice", syncOf("INV-700", "synced"), 20*time.Second)
	w.do("open the sync dialog", chromedp.Click(chromedp.CSS(`tr[data-ref="INV-700"] a.sync-link`)),
		chromedp.WaitVisible(chromedp.CSS("#sandbox-complete")))
	w.shot("sync_sandbox_actions")
	w.clickFor("complete in the Sandbox POS", "#sandbox-complete", "Order completed in the sandbox")
	w.until("/documents?kind=invoice", `document.querySelector('tr[data-ref="INV-700"] .doc-status')?.textContent === 'paid'`, 20*time.Second)
	// Completing it twice: the POS says why not, in words.
	w.do("open the sync dialog again", chromedp.Navigate(srv.url+"/documents/invoice/INV-700?tab=invoice"), chromedp.WaitVisible(chromedp.CSS("#sandbox-complete")))
	w.do("complete again", chromedp.Click(chromedp.CSS("#sandbox-complete")), chromedp.WaitVisible(chromedp.CSS(`body[data-page="error"], #error`)))
	if got := w.merchantText("/documents/invoice/INV-700?tab=invoice"); !strings.Contains(got, "Complete in Sandbox POS") {
		t.Fatalf("dialog:\n%s", got)
	}
}

// TestConsoleGettingStarted: with Automatic Sync off and no documents (a fresh demo), the
// documents page says what to do and does it: turn on Automatic Sync with the connected POS,
// then send a sample invoice, which syncs.
func TestConsoleGettingStarted(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	key := mintSandbox(t, srv, srv.acct.AccountID)
	it := healthySandbox(t, srv, key)

	b := browser(t)
	w := &walk{t: t, ctx: b, url: srv.url}
	w.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	w.do("open the documents", chromedp.Navigate(srv.url+"/documents"), chromedp.WaitVisible(chromedp.CSS("#quick-start")))
	if got := w.merchantText("/documents"); !strings.Contains(got, "PUT /api/v1/documents/{kind}/{ref}") || !strings.Contains(got, "Turn on Automatic Sync with Sandbox POS") {
		t.Fatalf("the empty documents page does not guide:\n%s", got)
	}
	w.shot("documents_getting_started")
	w.clickFor("turn on automatic sync", "#quick-start", "Automatic Sync is on")
	set, err := srv.app.Sync.Settings(context.Background(), srv.acct.AccountID)
	if err != nil || !set.AutoSync || set.IntegrationID != it.ID || !set.SyncOnInvoiceCreated {
		t.Fatalf("settings after quick start: %+v %v", set, err)
	}
	w.clickFor("send a sample invoice", "#sample-invoice", "A sample invoice was sent")
	w.until("/documents?kind=invoice", `[...document.querySelectorAll('#documents tr[data-ref^="SAMPLE-"] .sync')].some(s => s.dataset.sync === 'synced')`, 20*time.Second)
	if w.eval(`!!document.getElementById('getting-started')`) {
		t.Fatal("the getting-started card stays once sync is on and a document synced")
	}
}

// TestConsoleWebhookDeliveries: the Webhook endpoints page lists what was sent to each endpoint
// and its answer; "Send test event" and "Redeliver" work from it.
func TestConsoleWebhookDeliveries(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := context.Background()
	var mu sync.Mutex
	hits := 0
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	defer app.Close()
	ep, _, err := srv.app.Outbox.CreateEndpoint(ctx, srv.acct.AccountID, "system", app.URL+"/hook", "the app", nil)
	if err != nil {
		t.Fatal(err)
	}
	b := browser(t)
	w := &walk{t: t, ctx: b, url: srv.url}
	w.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	w.do("open Webhook endpoints", chromedp.Navigate(srv.url+"/webhook-endpoints"), chromedp.WaitVisible(chromedp.CSS(`button[data-test="`+ep.ID+`"]`)))
	w.clickFor("send a test event", `button[data-test="`+ep.ID+`"]`, "Test event queued")
	w.until("/webhook-endpoints", `document.querySelector('tr[data-status="delivered"]')?.textContent.includes('webhook.test') === true`, 20*time.Second)
	w.merchantText("/webhook-endpoints")
	w.shot("webhook_endpoints")
	w.clickFor("redeliver", `button[data-redeliver]`, "Delivery queued again")
	w.until("/webhook-endpoints", `!!document.querySelector('tr[data-status="delivered"]')`, 20*time.Second)
	eventually(t, 20*time.Second, "the redelivery reached the app", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return hits == 2
	})
}
