package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/posbridge/posbridge/internal/accounts"
	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/lifecycle"
)

// TestConsoleEmailSettings drives an email integration's sales file settings in Chromium: a
// form with every mistake shows a sentence at each field and keeps what was typed; the fixed
// form saves the preset, the one column that differs, the currency, time zone and senders. Staff
// may not save; another account's integration is not found.
func TestConsoleEmailSettings(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := context.Background()
	it, err := srv.app.Lifecycle.Add(ctx, srv.acct.AccountID, "system", lifecycle.AddInput{Type: "email", Credentials: map[string]string{}})
	if err != nil {
		t.Fatalf("add an email integration: %v", err)
	}
	w := &walk{t: t, ctx: browser(t), url: srv.url}
	w.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	page := "/integrations/" + it.ID
	w.do("open the integration", chromedp.Navigate(srv.url+page), chromedp.WaitVisible(chromedp.CSS("#email-inbox #email-address")),
		chromedp.Click(chromedp.CSS("#email-settings-box > summary")), chromedp.WaitVisible(chromedp.CSS("#email-settings #preset")))
	if got := w.text("#email-layout"); !strings.Contains(got, "posbridge") {
		t.Fatalf("layout %q", got)
	}
	// Choosing Square's layout puts its columns in the fields.
	w.eval(`(() => { const p = document.getElementById('preset'); p.value = 'square'; p.dispatchEvent(new Event('change')); return true; })()`)
	if !w.eval(`document.getElementById('col_sale_id').value === 'Transaction ID' && document.getElementById('col_sold_date').value === 'Date' &&
		document.getElementById('col_sold_at').value === ''`) {
		t.Fatal("choosing a preset did not fill in its columns")
	}
	// Every mistake at once: no sale id column, a currency in words, an unknown zone, a bad sender.
	w.eval(`(() => { const v = (id, x) => { document.getElementById(id).value = x; };
		v('preset', 'square'); v('col_sale_id', ''); v('currency', 'euro'); v('timezone', 'Mars/Olympus');
		v('allowed_senders', 'pos@example.com\nthe till'); return true; })()`)
	w.do("save a bad form", chromedp.Click(chromedp.CSS("#save-email-settings")), chromedp.WaitVisible(chromedp.CSS("#currency-error")))
	for sel, want := range map[string]string{
		"#col_sale_id-error":     "A column for the sale id is needed",
		"#currency-error":        "three-letter code",
		"#timezone-error":        `"Mars/Olympus" is not known`,
		"#allowed-senders-error": `"the till" is neither an email address`,
	} {
		if got := w.text(sel); !strings.Contains(got, want) {
			t.Fatalf("%s says %q, want %q", sel, got, want)
		}
	}
	if !w.eval(`document.getElementById('currency').value === 'euro' && document.getElementById('preset').value === 'square' &&
		document.getElementById('email-settings-box').open`) {
		t.Fatal("the refused form did not keep what was typed")
	}
	w.shot("email-settings")
	if in, _ := srv.app.Sales.Inbox(ctx, srv.acct.AccountID, it.ID); in.Mapping.Preset != "posbridge" || in.Mapping.Currency != "" {
		t.Fatalf("a refused form changed the settings: %+v", in.Mapping)
	}

	// Fixed: Square's layout, its sale id column back, a different total column.
	w.eval(`(() => { const v = (id, x) => { document.getElementById(id).value = x; };
		v('col_sale_id', 'Transaction ID'); v('col_total', 'Gross Sales'); v('currency', 'EUR'); v('timezone', 'Europe/Amsterdam');
		v('allowed_senders', 'pos@example.com\n@shop.example'); return true; })()`)
	w.clickFor("save the settings", "#save-email-settings", "Sales file settings saved")
	in, err := srv.app.Sales.Inbox(ctx, srv.acct.AccountID, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	m := in.Mapping
	if m.Preset != "square" || len(m.Columns) != 1 || m.Columns["total"] != "Gross Sales" || m.Currency != "EUR" ||
		m.Timezone != "Europe/Amsterdam" || strings.Join(in.AllowedSenders, " ") != "pos@example.com @shop.example" {
		t.Fatalf("saved %+v, senders %v", m, in.AllowedSenders)
	}
	if got := w.text("#email-layout"); !strings.Contains(got, "square") {
		t.Fatalf("layout after saving %q", got)
	}
	if !w.eval(`document.getElementById('col_total').value === 'Gross Sales' && document.getElementById('col_sale_id').value === 'Transaction ID'`) {
		t.Fatal("the form does not show the saved columns")
	}

	// Staff may not save; another account's integration is not found.
	hash, err := auth.HashPassword("staff-password")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.app.Store.CreateUser(ctx, domain.User{ID: auth.NewID("usr"), AccountID: srv.acct.AccountID, Email: "staff@example.com",
		Role: domain.RoleStaff, PasswordHash: hash, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"preset": {"toast"}}
	staff := newClient(t, srv.url)
	form.Set("csrf", staff.login("staff@example.com", "staff-password"))
	if resp, body := staff.get(page); resp.StatusCode != http.StatusOK || strings.Contains(body, `id="email-settings"`) {
		t.Fatalf("staff sees the form: %d", resp.StatusCode)
	}
	if resp, _ := staff.post(page+"/email-settings", form); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("staff saved: %d", resp.StatusCode)
	}
	other, err := accounts.Create(ctx, srv.app.Store, "Other shop", "other@example.com")
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := srv.app.Lifecycle.Add(ctx, other.AccountID, "system", lifecycle.AddInput{Type: "email", Credentials: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	admin := newClient(t, srv.url)
	form.Set("csrf", admin.login(srv.acct.AdminEmail, srv.acct.AdminPassword))
	if resp, _ := admin.post("/integrations/"+foreign.ID+"/email-settings", form); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another account's integration: %d", resp.StatusCode)
	}
	form.Set("currency", "euro") // a refused form of another account's integration is not found either
	if resp, _ := admin.post("/integrations/"+foreign.ID+"/email-settings", form); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another account's integration, bad form: %d", resp.StatusCode)
	}
	if in, _ := srv.app.Sales.Inbox(ctx, other.AccountID, foreign.ID); in.Mapping.Preset != "posbridge" {
		t.Fatalf("another account's settings changed: %+v", in.Mapping)
	}
	if in, _ := srv.app.Sales.Inbox(ctx, srv.acct.AccountID, it.ID); in.Mapping.Preset != "square" {
		t.Fatalf("staff changed the settings: %+v", in.Mapping)
	}
}
