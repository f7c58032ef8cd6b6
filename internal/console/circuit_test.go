package console_test

import (
	"context"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/posbridge/posbridge/internal/circuit"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// TestIntegrationPageShowsCircuit: while an integration's circuit is open, its page says why in a
// sentence and when posbridge tries again; once closed, nothing of it shows.
func TestIntegrationPageShowsCircuit(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	it, err := srv.app.Lifecycle.Add(ctx, srv.acct.AccountID, "system", lifecycleAdd("")) // a key minted for the account
	if err != nil {
		t.Fatal(err)
	}
	// The first check's answer would close the circuit: let it happen first.
	eventually(t, 10*time.Second, "the first check", func() bool {
		i, err := srv.app.Lifecycle.Get(ctx, srv.acct.AccountID, it.ID)
		return err == nil && i.Status == domain.StatusHealthy
	})
	c := newClient(t, srv.url)
	c.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	if _, page := c.get("/integrations/" + it.ID); strings.Contains(page, `id="circuit"`) {
		t.Fatal("a closed circuit shows on the page")
	}
	now := time.Now().UTC()
	p := circuit.DefaultPolicy()
	err = srv.app.Store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.LockCircuit(ctx, srv.acct.AccountID, it.ID, now)
		if err != nil {
			return err
		}
		for range 3 {
			cur, _ = p.Failure(cur, now, domain.CircuitReasonTimeout, false)
		}
		return tx.SaveCircuit(ctx, cur)
	})
	if err != nil {
		t.Fatal(err)
	}
	_, page := c.get("/integrations/" + it.ID)
	page = html.UnescapeString(page)
	want := circuit.OpenMessage(domain.CircuitReasonTimeout, 3)
	next := now.Add(30 * time.Second).Format("15:04:05")
	if !strings.Contains(page, want) || !strings.Contains(page, next) || !strings.Contains(page, `id="circuit-next-attempt"`) {
		t.Fatalf("the page does not show the open circuit (%q, next attempt %s):\n%s", want, next, page)
	}

	// As a merchant sees it.
	bctx := browser(t)
	w := &walk{t: t, ctx: bctx, url: srv.url}
	w.do("log in",
		chromedp.Navigate(srv.url+"/login"),
		chromedp.SendKeys(chromedp.CSS("#email"), srv.acct.AdminEmail),
		chromedp.SendKeys(chromedp.CSS("#password"), srv.acct.AdminPassword),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="overview"] #add`)))
	w.do("open the integration", chromedp.Navigate(srv.url+"/integrations/"+it.ID), chromedp.WaitVisible(chromedp.CSS("#circuit")))
	if got := w.text("#circuit-message"); got != want {
		t.Fatalf("circuit message %q, want %q", got, want)
	}
	if got := w.text("#circuit-next-attempt"); !strings.Contains(got, next) {
		t.Fatalf("next attempt %q, want %s", got, next)
	}
	w.shot("edit_circuit_open")
}
