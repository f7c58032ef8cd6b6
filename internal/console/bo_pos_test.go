package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/posbridge/posbridge/internal/access"
	"github.com/posbridge/posbridge/internal/backoffice"
	"github.com/posbridge/posbridge/internal/domain"
)

// TestConsoleBackOfficePOSDeliveries: a published version that the store's POS refuses shows
// where a merchant looks, on the Back office page of the store: a banner naming the POS and
// why in a sentence, and per version "Delivered to": the terminals that have it and each POS
// integration with its outcome, the POS's own words one click away (Technical details).
func TestConsoleBackOfficePOSDeliveries(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := context.Background()
	acct := srv.acct.AccountID
	key := mintSandbox(t, srv, acct)
	it, err := srv.app.Lifecycle.Get(ctx, acct, healthySandbox(t, srv, key).ID)
	if err != nil || it.StoreID == "" {
		t.Fatalf("the Sandbox POS's store: %+v %v", it, err)
	}
	admin, _ := domain.PresetRole(domain.RoleStoreAdmin)
	p := access.Principal{AccountID: acct, Kind: "system", Actor: domain.ActorSystem, Role: admin}
	if _, err := srv.app.BackOffice.SaveSettings(ctx, p, 0); err != nil {
		t.Fatal(err)
	}
	// The POS refuses every call from now on.
	sandboxCall(t, srv, "POST", "/sandbox/admin/faults", map[string]any{"api_key": key, "fail_next": 1000, "status": 401}, nil)
	tok, err := srv.app.BackOffice.SeedDemo(ctx, acct, it.StoreID) // publishes version 1 and pairs a terminal
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "version 1 failed at the POS", func() bool {
		v, err := srv.app.BackOffice.GetVersion(ctx, p, it.StoreID, 1)
		return err == nil && len(v.Deliveries.POS) == 1 && v.Deliveries.POS[0].Status == backoffice.POSFailed
	})
	// The terminal syncs: it has version 1.
	req, _ := http.NewRequest("POST", srv.url+"/terminal/v1/sync", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("terminal sync: %v %v", res, err)
	}
	res.Body.Close()

	w := &walk{t: t, ctx: browser(t), url: srv.url}
	w.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	w.do("open the store's back office", chromedp.Navigate(srv.url+"/back-office?store_id="+it.StoreID), chromedp.WaitVisible(chromedp.CSS("#bo-versions")))
	banner := w.text("#bo-pos-failed")
	if !strings.Contains(banner, "Version 1 did not reach Sandbox POS") || !strings.Contains(banner, "refused the credentials") {
		t.Fatalf("banner: %q", banner)
	}
	row := w.text(`tr[data-version="1"] .bo-deliveries`)
	if !strings.Contains(row, "Terminals: 1 of 1") || !strings.Contains(row, "Sandbox POS") || !strings.Contains(row, "Failed") ||
		!strings.Contains(row, "refused the credentials") {
		t.Fatalf("deliveries of version 1: %q", row)
	}
	if w.eval(`document.querySelector('tr[data-version="1"] details.tech').open`) {
		t.Fatal("the technical details are open before a click")
	}
	w.do("open the technical details", chromedp.Click(chromedp.CSS(`tr[data-version="1"] details.tech summary`)))
	if !w.eval(`document.querySelector('tr[data-version="1"] details.tech').open && document.querySelector('tr[data-version="1"] details.tech code').textContent.includes('401')`) {
		t.Fatal("the technical details do not show the POS's answer")
	}
	w.do("scroll to the versions", chromedp.ScrollIntoView(chromedp.CSS("#bo-versions")))
	w.shot("back_office_pos_failed")
}
