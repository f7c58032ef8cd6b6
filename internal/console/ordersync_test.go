package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/posbridge/posbridge/internal/accounts"
	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/ordersync"
	"github.com/posbridge/posbridge/internal/testdb"
)

// sandboxOrder is an order as GET /sandbox/admin/orders shows it.
type sandboxOrder struct {
	ID        string            `json:"id"`
	Reference string            `json:"reference"`
	State     string            `json:"state"`
	Lines     []json.RawMessage `json:"lines"`
}

// sandboxCall calls one of the Sandbox POS's admin routes and decodes its JSON answer into out.
func sandboxCall(t *testing.T, srv *server, method, path string, body any, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: patience}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// ordersOf lists the sandbox's orders whose reference is ref.
func ordersOf(t *testing.T, srv *server, key, ref string) []sandboxOrder {
	t.Helper()
	var all []sandboxOrder
	sandboxCall(t, srv, "GET", "/sandbox/admin/orders?api_key="+url.QueryEscape(key), nil, &all)
	var out []sandboxOrder
	for _, o := range all {
		if o.Reference == ref {
			out = append(out, o)
		}
	}
	return out
}

// putDoc writes a document the way the business app does, with one line per description.
func putDoc(t *testing.T, srv *server, kind domain.DocKind, ref, status string, links []domain.DocLink, lines ...string) ordersync.PutResult {
	t.Helper()
	in := ordersync.PutInput{DocContent: domain.DocContent{Status: status, Customer: &domain.DocCustomer{Name: "Ada Lovelace"}, Links: links}}
	for _, l := range lines {
		in.Lines = append(in.Lines, domain.DocLine{Description: l, Quantity: "1", UnitPrice: domain.Money{Amount: 2500, Currency: "EUR"}})
	}
	res, err := srv.app.Sync.Put(context.Background(), srv.acct.AccountID, kind, ref, in)
	if err != nil {
		t.Fatalf("put %s %s: %v", kind, ref, err)
	}
	return res
}

// healthySandbox adds a Sandbox POS with key and waits until it is healthy and subscribed to
// its webhooks.
func healthySandbox(t *testing.T, srv *server, key string) domain.Integration {
	t.Helper()
	ctx := context.Background()
	it, err := srv.app.Lifecycle.Add(ctx, srv.acct.AccountID, "system", lifecycleAdd(key))
	if err != nil {
		t.Fatalf("add sandbox: %v", err)
	}
	eventually(t, 20*time.Second, "sandbox healthy and subscribed to webhooks", func() bool {
		i, err := srv.app.Lifecycle.Get(ctx, srv.acct.AccountID, it.ID)
		if err != nil || i.Status != domain.StatusHealthy {
			return false
		}
		sub, err := srv.app.Store.WebhookSubscription(ctx, srv.acct.AccountID, it.ID)
		return err == nil && sub != ""
	})
	return it
}

// login logs the browser in as email.
func (w *walk) login(email, password string) {
	w.t.Helper()
	w.do("log in", chromedp.Navigate(w.url+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="login"] #email`)),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="overview"]`)))
}

// clickFor clicks sel and waits until the next page's flash says want (a flash of the page
// before may still show while the click's answer loads).
func (w *walk) clickFor(what, sel, want string) {
	w.t.Helper()
	w.clickForAny(what, sel, want)
}

// clickForAny clicks sel and waits for a flash that contains one of wants; it answers that one.
func (w *walk) clickForAny(what, sel string, wants ...string) string {
	w.t.Helper()
	w.do(what, chromedp.Click(chromedp.CSS(sel)))
	deadline := time.Now().Add(patience)
	for {
		for _, want := range wants {
			js := `document.readyState !== 'loading' && document.getElementById('flash')?.textContent.includes(` + strconvQuote(want) + `) === true`
			ctx, cancel := context.WithTimeout(w.ctx, time.Second)
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)) // fails while the page navigates: ask again
			cancel()
			if err == nil && ok {
				return want
			}
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s: no flash with any of %q within %s (at %s)", what, wants, patience, w.location())
		}
		time.Sleep(25 * time.Millisecond) // polling interval
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// until reloads path until the predicate holds on the page, up to within (at least patience).
// Each look is a fresh page load (the pages are rendered on the server), so it sees a change at
// once.
func (w *walk) until(path, predicate string, within time.Duration) {
	w.t.Helper()
	within = patient(within)
	deadline := time.Now().Add(within)
	for {
		w.do("open "+path, chromedp.Navigate(w.url+path))
		ok := w.eval(predicate)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s: %s did not hold within %s", path, predicate, within)
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
}

// syncOf is a predicate on a row's POS sync icon.
func syncOf(ref, status string) string {
	return `document.querySelector('tr[data-ref="` + ref + `"] .sync')?.dataset.sync === '` + status + `'`
}

// dialogSync is a predicate on the open sync dialog's status.
func dialogSync(status string) string {
	return `document.querySelector('#dialog-status .sync')?.dataset.sync === '` + status + `'`
}

// TestConsoleOrderSyncWalk drives the order sync pages in headless Chromium: the Automatic
// Sync settings, the documents list with its sync icons, the sync dialog and its actions, the
// "View Webhook" modal after the order is completed in the POS, and a failed sync with Retry.
func TestConsoleOrderSyncWalk(t *testing.T) {
	t.Parallel() // each test has its own server, database and browser
	srv := startServer(t)
	ctx := context.Background()
	acct := srv.acct.AccountID
	key := mintSandbox(t, srv, acct)
	it := healthySandbox(t, srv, key)

	b := browser(t)
	w := &walk{t: t, ctx: b, url: srv.url}
	w.login(srv.acct.AdminEmail, srv.acct.AdminPassword)

	// Automatic Sync: the settings appear only under the master toggle; bookings' dropdown only
	// when "Sync on online bookings" is on.
	w.do("open Automatic Sync", chromedp.Click(chromedp.CSS(`nav.side a[href="/order-sync"]`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="order_sync"] #auto_sync`)))
	if !w.eval(`getComputedStyle(document.getElementById('when-on')).display === 'none'`) {
		t.Fatal("the settings show while automatic sync is off")
	}
	w.eval(`(() => { document.getElementById('integration_id').value = '` + it.ID + `'; return true; })()`)
	w.do("turn automatic sync on", chromedp.Click(chromedp.CSS("#auto_sync")), chromedp.WaitVisible(chromedp.CSS("#sync_on_job_created")))
	for _, id := range []string{"sync_on_job_created", "sync_on_items_changed", "sync_on_invoice_created", "sync_on_sale_completed",
		"mark_invoice_paid_on_completion", "mark_job_completed_on_completion"} {
		if !w.eval(`document.getElementById('` + id + `').checked`) {
			t.Fatalf("%s is not on by default", id)
		}
	}
	if w.eval(`getComputedStyle(document.getElementById('booking-when')).display !== 'none'`) {
		t.Fatal("the bookings dropdown shows while Sync on online bookings is off")
	}
	w.do("turn Sync on online bookings on", chromedp.Click(chromedp.CSS("#sync_on_booking")),
		chromedp.WaitVisible(chromedp.CSS("#sync_on_booking_when")))
	if got := w.text("#booking-when"); !strings.Contains(got, "When booking is created") || !strings.Contains(got, "When job is accepted") {
		t.Fatalf("bookings dropdown reads %q", got)
	}
	w.eval(`(() => { document.getElementById('sync_on_booking_when').value = 'accepted';
		document.getElementById('on_cancel').value = 'void'; return true; })()`)
	if got := w.text("#on_cancel"); !strings.Contains(got, "Void the order") || !strings.Contains(got, "Archive") || !strings.Contains(got, "Delete") {
		t.Fatalf("on_cancel options read %q", got)
	}
	w.shot("order_sync")
	w.clickFor("save", "#save-sync", "Automatic sync settings saved")
	set, err := srv.app.Sync.Settings(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if !set.AutoSync || set.IntegrationID != it.ID || set.SyncOnBooking != "accepted" || set.OnCancel != "void" || !set.MarkInvoicePaidOnCompletion {
		t.Fatalf("saved settings: %+v", set)
	}
	if !w.eval(`document.getElementById('auto_sync').checked && getComputedStyle(document.getElementById('when-on')).display !== 'none'`) {
		t.Fatal("after saving, the page does not show automatic sync on with its settings")
	}

	// Documents from the app: the sync icon turns synced; an open booking waits for acceptance.
	putDoc(t, srv, domain.KindInvoice, "INV-100", "issued", nil, "Brake service", "Chain")
	putDoc(t, srv, domain.KindJob, "JOB-1", "open", []domain.DocLink{{Kind: domain.KindInvoice, Ref: "INV-100"}}, "Full service")
	putDoc(t, srv, domain.KindSale, "SALE-1", "completed", nil, "Inner tube")
	putDoc(t, srv, domain.KindBooking, "BOOK-1", "open", nil, "Wheel true")
	w.until("/documents", syncOf("INV-100", "synced")+" && "+syncOf("JOB-1", "synced")+" && "+syncOf("SALE-1", "synced")+
		" && "+syncOf("BOOK-1", "not_sent"), 25*time.Second)
	if got := w.text(`tr[data-ref="BOOK-1"] .sync`); got != "Not yet sent" {
		t.Fatalf("booking icon reads %q", got)
	}
	w.shot("documents")
	w.do("open the Invoices tab", chromedp.Click(chromedp.CSS(`#kind-tabs a[data-kind="invoice"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-ref="INV-100"]`)))
	if w.eval(`!!document.querySelector('tr[data-ref="JOB-1"]')`) {
		t.Fatal("the Invoices tab lists a job")
	}

	// The sync dialog: status, external reference with its link, no Retry while synced.
	w.do("open the sync dialog", chromedp.Click(chromedp.CSS(`tr[data-ref="INV-100"] a.sync-link`)),
		chromedp.WaitVisible(chromedp.CSS("#sync-dialog")))
	doc, err := srv.app.Sync.Get(ctx, acct, domain.KindInvoice, "INV-100")
	if err != nil {
		t.Fatal(err)
	}
	firstOrder := doc.Sync.ExternalID
	dl := w.text("#sync-dialog")
	for _, want := range []string{"Synced", firstOrder, "View the order in Sandbox POS", "Auto-sync this invoice", "Re-sync to Sandbox POS",
		"Send as new order", "Sync history", "Created order " + firstOrder} {
		if !strings.Contains(dl, want) {
			t.Fatalf("sync dialog lacks %q:\n%s", want, dl)
		}
	}
	if !w.eval(`document.getElementById('view-in-pos').getAttribute('href').includes('/sandbox/orders/` + firstOrder + `')`) {
		t.Fatal("View the order link does not point at the sandbox order")
	}
	if w.eval(`!!document.getElementById('retry')`) {
		t.Fatal("Retry shows although the last sync succeeded")
	}
	if !w.eval(`document.activeElement === document.getElementById('sync-dialog')`) {
		t.Fatal("the open dialog does not have the focus")
	}
	w.shot("sync_dialog")

	// The per-document toggle: off, a change stays here; on again.
	w.clickFor("turn auto-sync off", "#auto-sync", "Auto-sync turned off")
	if w.eval(`document.getElementById('auto-sync').checked`) {
		t.Fatal("the toggle is still on after turning auto-sync off")
	}
	if res := putDoc(t, srv, domain.KindInvoice, "INV-100", "issued", nil, "Brake service", "Chain", "Cassette"); res.Queued {
		t.Fatal("a change was queued although auto-sync is off for the invoice")
	}
	if os := ordersOf(t, srv, key, "INV-100"); len(os) != 1 || len(os[0].Lines) != 2 {
		t.Fatalf("sandbox orders with auto-sync off: %+v", os)
	}
	w.do("reopen the dialog", chromedp.Navigate(srv.url+"/documents/invoice/INV-100"), chromedp.WaitVisible(chromedp.CSS("#auto-sync")))
	w.clickFor("turn auto-sync on", "#auto-sync", "Auto-sync turned on")
	if !w.eval(`document.getElementById('auto-sync').checked`) {
		t.Fatal("the toggle is off after turning auto-sync on")
	}

	// Re-sync pushes the latest data to the existing order.
	w.clickFor("re-sync", "#resync", "Re-sync queued")
	w.until("/documents/invoice/INV-100", dialogSync("synced")+` && document.getElementById('sync-history').textContent.includes('Re-sync requested')`, 20*time.Second)
	if os := ordersOf(t, srv, key, "INV-100"); len(os) != 1 || len(os[0].Lines) != 3 || os[0].ID != firstOrder {
		t.Fatalf("sandbox orders after re-sync: %+v", os)
	}

	// Send as new order asks whether to void the existing one first; both answers are offered.
	w.do("open Send as new order", chromedp.Click(chromedp.CSS("#send-new > summary")), chromedp.WaitVisible(chromedp.CSS("#send-new-void")))
	ask := w.text("#send-new-form")
	for _, want := range []string{"Should the existing order " + firstOrder, "Yes, void the existing order first", "No, keep the existing order"} {
		if !strings.Contains(ask, want) {
			t.Fatalf("send-as-new question lacks %q: %q", want, ask)
		}
	}
	w.shot("send_as_new")
	w.clickFor("send as new, voiding the old order", "#send-new-void", "the existing order is voided first")
	w.until("/documents/invoice/INV-100", dialogSync("synced")+` && document.getElementById('sync-history').textContent.includes('Voided order `+firstOrder+`')`, 20*time.Second)
	os := ordersOf(t, srv, key, "INV-100")
	if len(os) != 2 || os[0].ID != firstOrder || os[0].State != "voided" || os[1].State != "open" {
		t.Fatalf("sandbox orders after send as new with void: %+v", os)
	}
	newOrder := os[1].ID
	if got := w.text("#external-ref"); !strings.Contains(got, newOrder) {
		t.Fatalf("external reference after send as new: %q", got)
	}

	// The order is completed in the POS: its webhook shows in View Webhook, the invoice is paid.
	sandboxCall(t, srv, "POST", "/sandbox/admin/orders/"+newOrder+"/complete?api_key="+key, nil, nil)
	w.do("open the integration", chromedp.Navigate(srv.url+"/integrations/"+it.ID), chromedp.Click(chromedp.CSS("#view-webhook")),
		chromedp.WaitVisible(chromedp.CSS("#webhook-dialog")))
	w.until("/integrations/"+it.ID+"/webhooks", `[...document.querySelectorAll('#webhook-events tr')].some(r =>
		r.dataset.status === 'processed' && r.textContent.includes('`+newOrder+`') && r.textContent.includes('invoice INV-100 set to paid'))`, 20*time.Second)
	w.shot("webhooks")
	w.until("/documents?kind=invoice", `document.querySelector('tr[data-ref="INV-100"] .doc-status')?.textContent === 'paid'`, 10*time.Second)
	w.shot("documents_paid")

	// A failed sync: the dialog shows Failed, Retry and the expandable error; Retry fixes it.
	sandboxCall(t, srv, "POST", "/sandbox/admin/faults", map[string]any{"api_key": key, "fail_next": 1, "status": 401}, nil)
	putDoc(t, srv, domain.KindInvoice, "INV-101", "issued", nil, "Saddle")
	w.until("/documents?kind=invoice", syncOf("INV-101", "failed"), 20*time.Second)
	w.do("open the failed sync", chromedp.Click(chromedp.CSS(`tr[data-ref="INV-101"] a.sync-link`)),
		chromedp.WaitVisible(chromedp.CSS("#retry")))
	if got := w.text("#last-error"); got == "" {
		t.Fatal("no last error shown")
	}
	if w.eval(`document.querySelector('details.error-details pre').checkVisibility()`) {
		t.Fatal("the error details show before they are expanded")
	}
	w.do("expand the error", chromedp.Click(chromedp.CSS("details.error-details summary")),
		chromedp.WaitVisible(chromedp.CSS("details.error-details[open] pre")))
	if got := w.text("details.error-details pre"); !strings.Contains(strings.ToLower(got), "401") && !strings.Contains(strings.ToLower(got), "credential") {
		t.Fatalf("error details read %q", got)
	}
	w.shot("sync_failed")
	w.clickFor("retry", "#retry", "Retry queued")
	w.until("/documents/invoice/INV-101", dialogSync("synced")+` && !document.getElementById('retry')`, 20*time.Second)
	if os := ordersOf(t, srv, key, "INV-101"); len(os) != 1 {
		t.Fatalf("sandbox orders after retry: %+v", os)
	}

	// Every settings change is on the Timeline.
	w.do("open the Timeline", chromedp.Navigate(srv.url+"/timeline"), chromedp.WaitVisible(chromedp.CSS("table.timeline")))
	if got := w.text("table.timeline"); !strings.Contains(got, "Automatic sync settings changed") || !strings.Contains(got, "Automatic Sync off -> on") {
		t.Fatalf("timeline lacks the settings change:\n%s", got)
	}
}

// TestConsoleOrderSyncGuards checks roles, CSRF, bad input and other accounts on the order sync
// pages over plain HTTP, on SQLite and PostgreSQL.
func TestConsoleOrderSyncGuards(t *testing.T) {
	t.Parallel() // each test has its own server, database and browser
	testdb.Each(t, testOrderSyncGuards)
}

func testOrderSyncGuards(t *testing.T, db testdb.Target) {
	srv := startServerOn(t, db)
	ctx := context.Background()
	acct := srv.acct.AccountID
	it, err := srv.app.Lifecycle.Add(ctx, acct, "system", lifecycleAdd(""))
	if err != nil {
		t.Fatal(err)
	}
	putDoc(t, srv, domain.KindInvoice, "INV-1", "issued", nil, "Brake service")
	putDoc(t, srv, domain.KindJob, "JOB-1", "open", nil, "Full service")

	hash, err := auth.HashPassword("staff-password")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.app.Store.CreateUser(ctx, domain.User{ID: auth.NewID("usr"), AccountID: acct, Email: "staff@example.com",
		Role: domain.RoleStaff, PasswordHash: hash, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}

	// Anonymous visitors go to the login page.
	anon := newClient(t, srv.url)
	for _, path := range []string{"/documents", "/documents/invoice/INV-1", "/order-sync", "/integrations/" + it.ID + "/webhooks"} {
		if resp, _ := anon.get(path); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Fatalf("anonymous GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	// Staff may view every page but act on nothing.
	staff := newClient(t, srv.url)
	csrf := staff.login("staff@example.com", "staff-password")
	resp, body := staff.get("/documents")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-ref="INV-1"`) || !strings.Contains(body, `data-sync="not_sent"`) {
		t.Fatalf("staff documents: %d", resp.StatusCode)
	}
	resp, body = staff.get("/documents/invoice/INV-1")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="sync-dialog"`) || strings.Contains(body, `id="resync"`) ||
		!strings.Contains(body, `id="auto-sync" checked disabled`) {
		t.Fatalf("staff dialog: %d\n%s", resp.StatusCode, body)
	}
	resp, body = staff.get("/order-sync")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<fieldset disabled>") || strings.Contains(body, `id="save-sync"`) {
		t.Fatalf("staff settings: %d", resp.StatusCode)
	}
	if resp, body := staff.get("/integrations/" + it.ID + "/webhooks"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="no-webhooks"`) {
		t.Fatalf("staff webhooks: %d", resp.StatusCode)
	}
	// Each history says how far back it goes (the default windows).
	for path, want := range map[string]string{
		"/documents/invoice/INV-1":             "History is kept for 365 days; older entries are removed.",
		"/timeline":                            "History is kept for 365 days; older entries are removed.",
		"/integrations/" + it.ID + "/webhooks": "History is kept for 30 days; older entries are removed.",
	} {
		if resp, body := staff.get(path); resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("staff GET %s: %d, want %q on the page", path, resp.StatusCode, want)
		}
	}
	form := url.Values{"csrf": {csrf}, "integration_id": {it.ID}, "auto_sync": {"on"}, "on_cancel": {"void"}, "void_existing": {"no"}}
	for _, path := range []string{"/documents/invoice/INV-1/resync", "/documents/invoice/INV-1/retry", "/documents/invoice/INV-1/send-as-new",
		"/documents/invoice/INV-1/auto-sync", "/order-sync"} {
		if resp, _ := staff.post(path, form); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("staff POST %s: %d", path, resp.StatusCode)
		}
	}
	if d, _ := srv.app.Sync.Get(ctx, acct, domain.KindInvoice, "INV-1"); !d.Sync.AutoSync || d.Sync.Status != domain.SyncNotSent {
		t.Fatalf("staff changed the invoice's sync: %+v", d.Sync)
	}
	if s, _ := srv.app.Sync.Settings(ctx, acct); s.AutoSync || s.IntegrationID != "" {
		t.Fatalf("staff changed the settings: %+v", s)
	}

	// An admin: CSRF, unknown documents, actions the state forbids, unanswered questions.
	admin := newClient(t, srv.url)
	csrf = admin.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	for _, body := range []url.Values{{}, {"csrf": {"forged"}}} {
		if resp, _ := admin.post("/documents/invoice/INV-1/resync", body); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("POST without a valid CSRF token: %d", resp.StatusCode)
		}
	}
	if resp, _ := admin.get("/documents?kind=parcel"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown kind tab: %d", resp.StatusCode)
	}
	for _, path := range []string{"/documents/invoice/NOPE", "/documents/parcel/INV-1", "/documents/invoice/bad%20ref", "/integrations/int_nope/webhooks"} {
		if resp, _ := admin.get(path); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
	}
	if resp, _ := admin.post("/documents/invoice/NOPE/resync", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("resync of an unknown invoice: %d", resp.StatusCode)
	}
	resp, body = admin.post("/documents/invoice/INV-1/retry", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, `id="sync-dialog"`) || !strings.Contains(body, `id="error"`) {
		t.Fatalf("retry without a failure: %d\n%s", resp.StatusCode, body)
	}
	resp, body = admin.post("/documents/invoice/INV-1/send-as-new", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "voided first") {
		t.Fatalf("send as new without an answer: %d", resp.StatusCode)
	}

	// Settings: the master toggle needs an integration; bad values are refused and change nothing.
	valid := url.Values{"csrf": {csrf}, "integration_id": {""}, "auto_sync": {"on"}, "on_cancel": {"void"}}
	resp, body = admin.post("/order-sync", valid)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="integration_id-error"`) {
		t.Fatalf("auto sync without an integration: %d", resp.StatusCode)
	}
	bad := url.Values{"csrf": {csrf}, "integration_id": {it.ID}, "on_cancel": {"shred"}}
	if resp, body := admin.post("/order-sync", bad); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "on_cancel must be") {
		t.Fatalf("bad on_cancel: %d", resp.StatusCode)
	}
	bad = url.Values{"csrf": {csrf}, "integration_id": {it.ID}, "on_cancel": {"void"}, "sync_on_booking": {"on"}, "sync_on_booking_when": {"later"}}
	if resp, _ := admin.post("/order-sync", bad); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad booking choice: %d", resp.StatusCode)
	}
	if s, _ := srv.app.Sync.Settings(ctx, acct); s != domain.DefaultOrderSyncSettings() {
		t.Fatalf("refused settings changed something: %+v", s)
	}
	ok := url.Values{"csrf": {csrf}, "integration_id": {it.ID}, "on_cancel": {"archive"}, "sync_on_booking": {"on"}, "sync_on_booking_when": {"created"},
		"sync_on_sale_completed": {"on"}}
	if resp, _ := admin.post("/order-sync", ok); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/order-sync?msg=syncsaved" {
		t.Fatalf("save settings: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	want := domain.OrderSyncSettings{IntegrationID: it.ID, SyncOnSaleCompleted: true, SyncOnBooking: "created", OnCancel: "archive"}
	if s, _ := srv.app.Sync.Settings(ctx, acct); s != want {
		t.Fatalf("saved settings %+v, want %+v", s, want)
	}

	// The per-document toggle from a form: unchecked means off.
	if resp, _ := admin.post("/documents/invoice/INV-1/auto-sync", url.Values{"csrf": {csrf}, "tab": {"invoice"}}); resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") != "/documents/invoice/INV-1?tab=invoice&msg=autosync_off" {
		t.Fatalf("auto-sync off: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if d, _ := srv.app.Sync.Get(ctx, acct, domain.KindInvoice, "INV-1"); d.Sync.AutoSync {
		t.Fatal("auto-sync still on")
	}
	if _, body := admin.get("/documents/invoice/INV-1?tab=invoice&msg=autosync_off"); !strings.Contains(body, "Auto-sync turned off") ||
		!strings.Contains(body, `href="/documents?kind=invoice"`) {
		t.Fatal("the dialog after the toggle lacks its flash or its way back to the tab")
	}

	// Another account's documents and integrations are not found.
	other, err := accounts.Create(ctx, srv.app.Store, "Other shop", "other@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.app.Sync.Put(ctx, other.AccountID, domain.KindInvoice, "INV-X", ordersync.PutInput{DocContent: domain.DocContent{Status: "draft"}}); err != nil {
		t.Fatal(err)
	}
	foreign, err := srv.app.Lifecycle.Add(ctx, other.AccountID, "system", lifecycleAdd(""))
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := admin.get("/documents/invoice/INV-X"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("foreign document: %d", resp.StatusCode)
	}
	if resp, _ := admin.post("/documents/invoice/INV-X/resync", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("resync a foreign document: %d", resp.StatusCode)
	}
	if resp, _ := admin.get("/integrations/" + foreign.ID + "/webhooks"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("foreign webhooks: %d", resp.StatusCode)
	}
	if _, body := admin.get("/documents"); strings.Contains(body, "INV-X") {
		t.Fatal("the list shows another account's document")
	}
	if resp, body := admin.post("/order-sync", url.Values{"csrf": {csrf}, "integration_id": {foreign.ID}, "on_cancel": {"void"}}); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "no integration") {
		t.Fatalf("another account's integration as the target: %d", resp.StatusCode)
	}
}
