package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/domain"
)

// addUser makes a console user of the account with a role, and returns its password.
func addUser(t *testing.T, srv *server, email, role string) string {
	t.Helper()
	pw := auth.NewPassword()
	h, err := auth.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.app.Store.CreateUser(context.Background(), domain.User{ID: auth.NewID("usr"), AccountID: srv.acct.AccountID,
		Email: email, Role: domain.Role(role), PasswordHash: h, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return pw
}

func apiStatus(t *testing.T, srv *server, key, path string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestConsoleAPIKeys: a Store Admin creates a key with a role (shown once), sees it listed and
// revokes it, which the API refuses at once; Staff find no API keys page in the menu.
func TestConsoleAPIKeys(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := browser(t)
	w := &walk{t: t, ctx: ctx, url: srv.url}
	w.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	if !w.eval(`!!document.querySelector('nav.side a[href="/api-keys"]')`) {
		t.Fatal("a Store Admin finds no API keys in the menu")
	}
	w.do("open API keys", chromedp.Click(chromedp.CSS(`nav.side a[href="/api-keys"]`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="api_keys"] #new-key-form`)))
	w.do("create a key", chromedp.SendKeys(chromedp.CSS("#key-name"), "Web shop"),
		chromedp.SetValue(chromedp.CSS("#key-role"), "manager"),
		chromedp.Click(chromedp.CSS(`#new-key-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#new-key-value")))
	key := w.text("#new-key-value")
	if !strings.HasPrefix(key, "pbk_") {
		t.Fatalf("the new key reads %q", key)
	}
	if got := apiStatus(t, srv, key, "/api/v1/integrations"); got != 200 {
		t.Fatalf("the new key answers %d", got)
	}
	if got := apiStatus(t, srv, key, "/api/v1/api-keys"); got != 403 {
		t.Fatalf("a Manager's key reads the API keys: %d", got)
	}
	w.do("reload the list", chromedp.Navigate(srv.url+"/api-keys"), chromedp.WaitVisible(chromedp.CSS("#key-list")))
	if w.eval(`!!document.getElementById('new-key-value')`) {
		t.Fatal("the key shows again after a reload")
	}
	if !strings.Contains(w.text("#key-list"), "Manager") {
		t.Fatalf("the list does not show the role: %s", w.text("#key-list"))
	}
	w.shot("api_keys")
	w.do("revoke it", chromedp.Click(chromedp.CSS(`#key-list tr:last-child button[data-revoke]`)),
		chromedp.WaitVisible(chromedp.CSS("#flash")))
	if got := apiStatus(t, srv, key, "/api/v1/integrations"); got != 401 {
		t.Fatalf("a revoked key answers %d", got)
	}

	pw := addUser(t, srv, "staff@example.com", "staff")
	w.do("log out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS("#email")))
	w.login("staff@example.com", pw)
	if w.eval(`!!document.querySelector('nav.side a[href="/api-keys"]')`) {
		t.Fatal("Staff find API keys in the menu")
	}
	w.do("open API keys as Staff", chromedp.Navigate(srv.url+"/api-keys"), chromedp.WaitVisible(chromedp.CSS(`body[data-page="error"]`)))
}
