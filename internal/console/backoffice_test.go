package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pollPage waits, without reloading, until the predicate holds on the page, up to within (at
// least patience).
func (w *walk) pollPage(what, predicate string, within time.Duration) {
	w.t.Helper()
	within = patient(within)
	ctx, cancel := context.WithTimeout(w.ctx, within)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		w.t.Fatalf("%s: %s did not hold within %s: %v", what, predicate, within, err)
	}
}

// TestConsoleBackOfficePublish: a Store Admin sets a short publish delay, edits a price, a
// category, a tax rate and a discount in the console and clicks Save and Publish; the paired
// /terminal/ page (a browser of its own) shows the new price by itself after the delay. With a
// long delay, the next publish reaches the terminal when its Sync button is pressed, which says
// "Synced successfully". The Terminals page lists the terminal with the version it has.
func TestConsoleBackOfficePublish(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	tok, err := srv.app.BackOffice.SeedDemo(context.Background(), srv.acct.AccountID, "main")
	if err != nil {
		t.Fatal(err)
	}
	console := &walk{t: t, ctx: browser(t), url: srv.url}
	term := &walk{t: t, ctx: browser(t), url: srv.url} // the terminal: its own browser, its own connections

	term.do("open the paired terminal", chromedp.Navigate(srv.url+"/terminal/#token="+tok),
		chromedp.WaitVisible(chromedp.CSS("#login-screen")), chromedp.Click(chromedp.CSS("#start")),
		chromedp.WaitVisible(chromedp.CSS(`#order-screen .product[data-id="espresso"]`)))
	espresso := `document.querySelector('.product[data-id="espresso"] .price')?.textContent`
	term.pollPage("the published price", espresso+` === '2.50'`, 15*time.Second)

	console.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	console.do("open Back office", chromedp.Click(chromedp.CSS(`nav.side a[href="/back-office"]`)), chromedp.WaitVisible(chromedp.CSS("#bo-form")))
	console.do("set a delay of 1 s", chromedp.SetValue(chromedp.CSS("#publish-delay"), "1"))
	console.clickFor("save the delay", "#bo-settings-save", "Publish delay saved")

	console.do("edit the back office",
		chromedp.SetValue(chromedp.CSS(`input[name="price_espresso"]`), "2.75"),
		chromedp.SetValue(chromedp.CSS("#new-cat"), "Tea"),
		chromedp.SetValue(chromedp.CSS("#new-tax"), "Standard rate"), chromedp.SetValue(chromedp.CSS("#new-tax-rate"), "21"),
		chromedp.SetValue(chromedp.CSS("#new-disc"), "Happy hour"), chromedp.SetValue(chromedp.CSS("#new-disc-pct"), "15"),
		chromedp.SetValue(chromedp.CSS(`input[name="discpct_staff"]`), "12.5"))
	console.clickFor("Save and Publish", "#bo-publish", "Published")
	if !console.eval(`document.querySelector('tr[data-version="2"]')?.textContent.includes('250 -> 275') === true`) {
		t.Fatal("version 2 with the price change is not in the history")
	}
	if !console.eval(`!!document.querySelector('#bo-categories input[value="Tea"]') && document.querySelector('#bo-taxes input[value="Standard rate"]')?.closest('tr').querySelector('input[name^="taxrate_"]').value === '21' && document.querySelector('input[name="discpct_staff"]').value === '12.5' && !!document.querySelector('#bo-discounts input[value="Happy hour"]')`) {
		t.Fatal("the category, tax rate and discounts are not in the saved draft")
	}
	if !console.eval(`Array.from(document.querySelectorAll('select[name="cat_espresso"] option')).some(o => o.textContent === 'Tea')`) {
		t.Fatal("the new category cannot be chosen for a product")
	}
	console.shot("back_office")

	// The terminal picks up version 2 by itself once the delay has passed, without a click.
	term.pollPage("the terminal picks up the publish", espresso+` === '2.75' && document.body.dataset.version === '2'`, time.Minute)

	// With a long delay, Sync gets the newest version at once.
	console.do("a long delay", chromedp.SetValue(chromedp.CSS("#publish-delay"), "3600"))
	console.clickFor("save the long delay", "#bo-settings-save", "Publish delay saved")
	console.do("edit the price again", chromedp.SetValue(chromedp.CSS(`input[name="price_espresso"]`), "3.00"))
	console.clickFor("Save and Publish again", "#bo-publish", "Published")
	if term.eval(espresso + ` === '3.00'`) {
		t.Fatal("the terminal had version 3 before its period ended")
	}
	term.do("press Sync on the order screen", chromedp.Click(chromedp.CSS("#sync-order")))
	term.pollPage("Synced successfully", `document.getElementById('toast').hidden === false && document.getElementById('toast').textContent === 'Synced successfully' && `+espresso+` === '3.00'`, 15*time.Second)
	term.shot("terminal")

	console.do("open Terminals", chromedp.Click(chromedp.CSS(`nav.side a[href="/terminals"]`)), chromedp.WaitVisible(chromedp.CSS("#all-terminals")))
	row := console.text("#all-terminals tbody tr")
	if !strings.Contains(row, "main") || !strings.Contains(row, "Demo till") || !strings.Contains(row, "version 3") {
		t.Fatalf("terminals row: %q", row)
	}
	console.shot("terminals")
}
