package console_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleUsersAndRoles: a Store Admin invites a person as Staff (no SMTP: the link shows
// once), the person sets a password through the link and logs in, finds no User Management;
// the admin makes a custom role in the matrix, deactivates the Staff user, whose session ends
// at once; a password change ends the user's other sessions.
func TestConsoleUsersAndRoles(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := browser(t)
	w := &walk{t: t, ctx: ctx, url: srv.url}
	w.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	w.do("open Users", chromedp.Click(chromedp.CSS(`nav.side a[href="/users"]`)), chromedp.WaitVisible(chromedp.CSS("#invite-form")))
	w.do("invite Sam as Staff", chromedp.SendKeys(chromedp.CSS("#invite-email"), "sam@example.com"),
		chromedp.SendKeys(chromedp.CSS("#invite-name"), "Sam"),
		chromedp.SetValue(chromedp.CSS("#invite-role"), "staff"),
		chromedp.Click(chromedp.CSS("#invite")), chromedp.WaitVisible(chromedp.CSS("#link-value")))
	link := w.text("#link-value")
	if !strings.Contains(link, "/invite/") {
		t.Fatalf("invitation link: %q", link)
	}
	if !w.eval(`document.querySelector('tr[data-email="sam@example.com"] .badge').dataset.status === 'invited'`) {
		t.Fatal("Sam is not listed as invited")
	}
	w.shot("users")

	// The roles matrix, and a custom role.
	w.do("open Roles", chromedp.Navigate(srv.url+"/roles"), chromedp.WaitVisible(chromedp.CSS("#matrix")))
	if !w.eval(`!!document.querySelector('tr[data-permission="publish"] .yes') && document.querySelectorAll('tr[data-permission="publish"] .yes').length === 2`) {
		t.Fatal("the matrix does not show publish for Store Admin and Manager only")
	}
	w.do("create a role", chromedp.SendKeys(chromedp.CSS(`.role-form input[name="name"]`), "Bar manager"),
		chromedp.Click(chromedp.CSS(`.role-form input[value="publish"]`)),
		chromedp.Click(chromedp.CSS(`.role-form input[value="edit_back_office"]`)),
		chromedp.Click(chromedp.CSS(`.role-form button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("#flash")))
	if !w.eval(`Array.from(document.querySelectorAll('#matrix th')).some(th => th.textContent.includes('Bar manager'))`) {
		t.Fatal("the new role is not in the matrix")
	}
	w.shot("roles")

	// Sam accepts in another browser session (a plain HTTP client keeps the admin logged in here).
	sam := httpClient(t)
	form := getCSRF(t, sam, link)
	res := postForm(t, sam, link, url.Values{"csrf": {form}, "password": {"correct horse 1"}, "confirm": {"correct horse 1"}})
	if res.StatusCode != 200 || !strings.Contains(res.Request.URL.String(), "/login") {
		t.Fatalf("accepting the invitation ended at %s (%d)", res.Request.URL, res.StatusCode)
	}
	if res := postForm(t, httpClient(t), link, url.Values{"csrf": {form}, "password": {"another pass 1"}, "confirm": {"another pass 1"}}); res.StatusCode != 404 {
		t.Fatalf("a used link answered %d", res.StatusCode)
	}
	loginHTTP(t, sam, srv.url, "sam@example.com", "correct horse 1")
	body := get(t, sam, srv.url+"/integrations")
	if strings.Contains(body, `href="/users"`) || strings.Contains(body, `href="/api-keys"`) {
		t.Fatal("Staff see User Management")
	}
	if res, _ := sam.Get(srv.url + "/users"); res.StatusCode != 403 {
		t.Fatalf("Staff open Users: %d", res.StatusCode)
	}

	// Deactivate Sam: the session ends at once.
	w.do("reload Users", chromedp.Navigate(srv.url+"/users"), chromedp.WaitVisible(chromedp.CSS("#user-list")))
	w.do("deactivate Sam", chromedp.Click(chromedp.CSS(`tr[data-email="sam@example.com"] button[data-deactivate]`)), chromedp.WaitVisible(chromedp.CSS("#flash")))
	if res, _ := sam.Get(srv.url + "/integrations"); !strings.Contains(res.Request.URL.Path, "/login") {
		t.Fatalf("a deactivated user's session still works: %s", res.Request.URL)
	}
	if code := loginCode(t, httpClient(t), srv.url, "sam@example.com", "correct horse 1"); code != 403 {
		t.Fatalf("a deactivated user logs in: %d", code)
	}

	// Changing the password ends the other sessions.
	other := httpClient(t)
	loginHTTP(t, other, srv.url, srv.acct.AdminEmail, srv.acct.AdminPassword)
	w.do("open Change password", chromedp.Navigate(srv.url+"/account/password"), chromedp.WaitVisible(chromedp.CSS("#change-password")))
	w.do("change it", chromedp.SendKeys(chromedp.CSS("#current"), srv.acct.AdminPassword),
		chromedp.SendKeys(chromedp.CSS("#new"), "a brand new pass"), chromedp.SendKeys(chromedp.CSS("#confirm"), "a brand new pass"),
		chromedp.Click(chromedp.CSS("#save-password")), chromedp.WaitVisible(chromedp.CSS("#flash")))
	if res, _ := other.Get(srv.url + "/integrations"); !strings.Contains(res.Request.URL.Path, "/login") {
		t.Fatal("another session survived the password change")
	}
	w.do("still logged in here", chromedp.Navigate(srv.url+"/users"), chromedp.WaitVisible(chromedp.CSS("#user-list")))
}

func httpClient(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

var csrfRe = `name="csrf" value="`

func getCSRF(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	body := get(t, c, u)
	i := strings.Index(body, csrfRe)
	if i < 0 {
		t.Fatalf("no CSRF token on %s", u)
	}
	rest := body[i+len(csrfRe):]
	return rest[:strings.IndexByte(rest, '"')]
}

func postForm(t *testing.T, c *http.Client, u string, v url.Values) *http.Response {
	t.Helper()
	res, err := c.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func loginCode(t *testing.T, c *http.Client, base, email, pw string) int {
	t.Helper()
	tok := getCSRF(t, c, base+"/login")
	return postForm(t, c, base+"/login", url.Values{"csrf": {tok}, "email": {email}, "password": {pw}, "next": {"/integrations"}}).StatusCode
}

func loginHTTP(t *testing.T, c *http.Client, base, email, pw string) {
	t.Helper()
	if code := loginCode(t, c, base, email, pw); code != 200 {
		t.Fatalf("login %s: %d", email, code)
	}
}
