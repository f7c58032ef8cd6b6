package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleSales drives the Sales card in Chromium: Refresh imports the Sandbox POS's sales
// (the button shows progress, "Last sales check" and "Last sale imported" move), the chart
// draws them per day, the latest sales list them, and the check frequency is saved.
func TestConsoleSales(t *testing.T) {
	t.Parallel() // each test has its own server, database and browser
	srv := startServer(t)
	key := mintSandbox(t, srv, srv.acct.AccountID)
	it := healthySandbox(t, srv, key)
	w := &walk{t: t, ctx: browser(t), url: srv.url}
	w.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	page := "/integrations/" + it.ID
	w.do("open the integration", chromedp.Navigate(srv.url+page), chromedp.WaitVisible(chromedp.CSS("#sales #sales-chart")))
	before := w.text("#last-sales-check")
	// Progress: the button says what it is doing while the fetch runs.
	w.eval(`(() => { const b = document.getElementById('refresh-sales'); b.form.addEventListener('submit', () => {
		window.sessionStorage.setItem('busy', b.textContent + '|' + b.getAttribute('aria-busy')); }); return true; })()`)
	w.clickFor("Refresh", "#refresh-sales", "Sales refreshed")
	if busy := w.evalString(`window.sessionStorage.getItem('busy') || ''`); !strings.Contains(busy, "Refreshing") || !strings.HasSuffix(busy, "|true") {
		t.Fatalf("no progress on the Refresh button: %q", busy)
	}
	if got := w.text("#last-sale-imported"); got == "never" {
		t.Fatal("Last sale imported did not move")
	}
	if got := w.text("#last-sales-check"); got == "never" {
		t.Fatalf("Last sales check did not move: %q -> %q", before, got)
	}
	if !w.eval(`document.querySelectorAll('#sales-chart rect.bar[data-total]:not([data-total="0"])').length >= 5`) {
		t.Fatal("the chart shows fewer than 5 days with sales")
	}
	if !w.eval(`document.querySelectorAll('#recent-sales tbody tr').length === 10`) {
		t.Fatal("the latest sales are not listed")
	}
	if got := w.text("#chart-note"); !strings.Contains(got, "12 completed sale(s)") {
		t.Fatalf("chart note %q", got)
	}
	w.shot("sales")

	// A POS item is mapped to the app's recipe.
	w.eval(`(() => { document.querySelector('#pos-items input[name="app_ref"]').value = 'recipe-7'; return true; })()`)
	w.clickFor("map a POS item", "#pos-items button", "POS item mapping saved")
	if !w.eval(`document.querySelector('#pos-items input[name="app_ref"]').value === 'recipe-7'`) {
		t.Fatal("the mapping was not kept")
	}

	// The check frequency.
	w.eval(`(() => { document.getElementById('sales_interval_minutes').value = '15'; return true; })()`)
	w.clickFor("save the frequency", "#save-frequency", "Sales check frequency saved")
	if !w.eval(`document.getElementById('sales_interval_minutes').value === '15'`) {
		t.Fatal("the frequency was not kept")
	}
	// The list of integrations shows the times too.
	w.waitOn("/integrations", `!document.querySelector('tr[data-id="`+it.ID+`"]').textContent.includes('never')`, 10*time.Second)
}

func (w *walk) evalString(js string) string {
	w.t.Helper()
	s, err := chromedp.Run(w.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		w.t.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}
