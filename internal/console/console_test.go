package console_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/posbridge/posbridge/internal/accounts"
	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/lifecycle"
	"github.com/posbridge/posbridge/internal/storetest"
	"github.com/posbridge/posbridge/internal/testdb"
)

const chromiumPath = "/usr/bin/chromium"

func init() {
	auth.Cost = bcrypt.MinCost // fast password hashes in tests
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is one running posbridge on SQLite with a merchant account.
type server struct {
	app  *app.App
	url  string
	acct accounts.Created
	logs *syncBuffer
}

func startServer(t testing.TB) *server {
	t.Helper()
	return startServerOn(t, testdb.SQLite(t))
}

// startServerOn starts posbridge on the database db (SQLite or PostgreSQL) with a merchant account.
func startServerOn(t testing.TB, db testdb.Target) *server {
	t.Helper()
	storetest.Migrated(t, db)
	logs := &syncBuffer{}
	ctx := context.Background()
	a, err := app.New(ctx, app.Config{Addr: "127.0.0.1:0", DataDir: db.DataDir, DatabaseURL: db.DatabaseURL, AllowPrivate: true,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Logf("close: %v", err)
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	c, err := accounts.Create(ctx, a.Store, "Spokes & Stout", "owner@example.com")
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	return &server{app: a, url: a.URL(), acct: c, logs: logs}
}

// browser starts a fresh headless Chromium, or skips when it is not installed.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("POSBRIDGE_REQUIRE_CHROMIUM") != "" {
			t.Fatalf("Chromium is required here (POSBRIDGE_REQUIRE_CHROMIUM) but %s is missing", chromiumPath)
		}
		t.Skipf("skipping browser test: %s not found (apt-get install -y chromium)", chromiumPath)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, bound to ctx (no timeout here)
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// patience is the least that any wait of these tests allows. Every wait ends as soon as its
// condition holds, so a long limit costs nothing when the test passes; a machine running
// CPU-bound work beside the suite under -race (load 16 to 26 on 2 cores) takes many times the
// quiet figures for a page load, a browser step or a background job. A limit that a call site
// names is kept where it is longer.
const patience = 3 * time.Minute

// patient is the limit of a wait whose call site names d: d, but at least patience.
func patient(d time.Duration) time.Duration { return max(d, patience) }

// walk runs browser steps with a deadline of their own, failing the test with what was asked.
type walk struct {
	t   *testing.T
	ctx context.Context
	url string
}

func (w *walk) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, patience)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(w.ctx, chromedp.Location())
		w.t.Fatalf("%s: %v (at %s)", what, err, loc)
	}
}

func (w *walk) text(sel string) string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, patience)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		w.t.Fatalf("read text of %s: %v", sel, err)
	}
	return s
}

func (w *walk) location() string {
	w.t.Helper()
	loc, err := chromedp.Run(w.ctx, chromedp.Location())
	if err != nil {
		w.t.Fatalf("location: %v", err)
	}
	return loc
}

func (w *walk) eval(js string) bool {
	w.t.Helper()
	ok, err := chromedp.Run(w.ctx, chromedp.Evaluate[bool](js))
	if err != nil {
		w.t.Fatalf("evaluate %s: %v", js, err)
	}
	return ok
}

// waitOn reloads path and polls the page for the predicate until it holds, up to within (at
// least patience).
func (w *walk) waitOn(path, predicate string, within time.Duration) {
	w.t.Helper()
	within = patient(within)
	deadline := time.Now().Add(within)
	for {
		w.do("open "+path, chromedp.Navigate(w.url+path))
		ctx, cancel := context.WithTimeout(w.ctx, 3*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(1500*time.Millisecond)))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s: %s did not hold within %s: %v", path, predicate, within, err)
		}
	}
}

// shot keeps a full-page screenshot in testdata/screenshots/<name>.png and checks it.
func (w *walk) shot(name string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, patience)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		w.t.Fatalf("screenshot %s: %v", name, err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		w.t.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	if !hasInk(img) {
		w.t.Fatalf("screenshot %s is blank", name)
	}
	dir := filepath.Join("testdata", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		w.t.Fatalf("screenshot dir: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644); err != nil {
		w.t.Fatalf("write screenshot %s: %v", name, err)
	}
}

// hasInk tells whether an image has a good number of pixels that are not white.
func hasInk(img image.Image) bool {
	bd := img.Bounds()
	dark := 0
	for y := bd.Min.Y; y < bd.Max.Y; y += 2 {
		for x := bd.Min.X; x < bd.Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			if r < 0xe000 || g < 0xe000 || b < 0xe000 {
				dark++
				if dark > 500 {
					return true
				}
			}
		}
	}
	return false
}

func idFromURL(t *testing.T, loc string) string {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("parse %s: %v", loc, err)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || parts[0] != "integrations" || parts[1] == "new" {
		t.Fatalf("not an integration page: %s", loc)
	}
	return parts[1]
}

// chooseType picks a POS Type on the add page the way a person does: the select's change event.
const chooseSandbox = `(() => { const s = document.getElementById('pos-type'); s.value = 'sandbox'; s.dispatchEvent(new Event('change')); return true; })()`

// TestConsoleWalk drives the console in headless Chromium through the seeds' flows.
func TestConsoleWalk(t *testing.T) {
	t.Parallel() // each test has its own server, database and browser
	srv := startServer(t)
	ctx := browser(t)
	w := &walk{t: t, ctx: ctx, url: srv.url}
	acct := srv.acct.AccountID
	lc := srv.app.Lifecycle
	sbxKey := mintSandbox(t, srv, acct) // a sandbox key of the account, typed into the form

	// Log in: a page behind the login goes there first; a wrong password is refused.
	w.do("open the console", chromedp.Navigate(srv.url+"/integrations"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="login"] #email`)))
	if loc := w.location(); !strings.Contains(loc, "/login?next=") {
		t.Fatalf("not sent to the login page: %s", loc)
	}
	w.shot("login")
	w.do("log in with a wrong password",
		chromedp.SendKeys(chromedp.CSS("#email"), srv.acct.AdminEmail),
		chromedp.SendKeys(chromedp.CSS("#password"), "not-the-password"),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="login"] #error`)))
	if got := w.text("#error"); !strings.Contains(got, "Wrong email address or password") {
		t.Fatalf("wrong password answered %q", got)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#email"))); v != srv.acct.AdminEmail {
		t.Fatalf("email not kept after a failed login: %q", v)
	}
	w.do("log in",
		chromedp.SendKeys(chromedp.CSS("#password"), srv.acct.AdminPassword),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="integrations"] #add`)))
	if w.eval(`!!document.getElementById('email-banner')`) {
		t.Fatal("the SMTP notice (an operator's concern) shows on a merchant page")
	}

	// Add POS Integration: POS Type, the setup instructions link, the credential form.
	w.do("open Add POS Integration", chromedp.Click(chromedp.CSS("#add")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="add"] #pos-type`)))
	w.eval(chooseSandbox)
	w.do("see the Sandbox POS fields", chromedp.WaitVisible(chromedp.CSS(`input[name="credentials.api_key"][type="password"]`)),
		chromedp.WaitVisible(chromedp.CSS("#setup-link")))
	if href := w.eval(`document.getElementById('setup-link').getAttribute('href') === '/docs/sandbox'`); !href {
		t.Fatal("setup instructions link does not point at /docs/sandbox")
	}
	if w.eval(`!!document.getElementById('nickname')`) {
		t.Fatal("the Nickname field shows for a first integration")
	}
	w.shot("add")
	// Without a key: posbridge creates the sandbox and its key.
	w.do("add a Sandbox POS",
		chromedp.Click(chromedp.CSS("#submit-add")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="edit"] #flash`)))
	firstID := idFromURL(t, w.location())

	// Its badge turns Healthy once the background check has verified the key.
	w.waitOn("/integrations", `document.querySelector('tr[data-id="`+firstID+`"] .badge')?.textContent === 'Healthy'`, 25*time.Second)

	// A second one of the type asks for a nickname; the key typed is never sent back.
	w.do("open Add POS Integration again", chromedp.Navigate(srv.url+"/integrations/new"),
		chromedp.WaitVisible(chromedp.CSS("#pos-type")))
	w.eval(chooseSandbox)
	w.do("see the same-type notice", chromedp.WaitVisible(chromedp.CSS("#same-type")), chromedp.WaitVisible(chromedp.CSS("#nickname")))
	w.do("add a second Sandbox POS without a nickname",
		chromedp.SendKeys(chromedp.CSS(`input[name="credentials.api_key"]`), sbxKey),
		chromedp.Click(chromedp.CSS("#submit-add")),
		chromedp.WaitVisible(chromedp.CSS("#nickname-error")))
	if got := w.text("#nickname-error"); !strings.Contains(got, "nickname") {
		t.Fatalf("nickname demand reads %q", got)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[name="credentials.api_key"]`))); v != "" {
		t.Fatalf("the secret was echoed back into the form: %q", v)
	}
	w.do("add it with a nickname",
		chromedp.SendKeys(chromedp.CSS("#nickname"), "Bar"),
		chromedp.SendKeys(chromedp.CSS(`input[name="credentials.api_key"]`), sbxKey),
		chromedp.Click(chromedp.CSS("#submit-add")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="edit"] #flash`)))
	barID := idFromURL(t, w.location())
	w.waitOn("/integrations/"+barID, `document.querySelector('.head .badge')?.textContent === 'Healthy' && !!document.getElementById('store_id')`, 25*time.Second)
	w.shot("edit")

	// The list shows both, with the nickname.
	w.do("open the list", chromedp.Navigate(srv.url+"/integrations"), chromedp.WaitVisible(chromedp.CSS(`tr[data-id="`+barID+`"]`)))
	if got := w.text(`tr[data-id="` + barID + `"]`); !strings.Contains(got, "Sandbox POS") || !strings.Contains(got, "Bar") || (!strings.Contains(got, "never") && !strings.Contains(got, "UTC")) {
		t.Fatalf("list row reads %q", got)
	}
	w.shot("integrations")

	// Edit -> Deactivate -> OK; it moves under "Inactive integrations".
	w.do("deactivate with confirmation",
		chromedp.Navigate(srv.url+"/integrations/"+barID),
		chromedp.Click(chromedp.CSS("#deactivate")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="confirm"] #ok`)))
	w.shot("deactivate")
	w.do("confirm", chromedp.Click(chromedp.CSS("#ok")), chromedp.WaitVisible(chromedp.CSS(`body[data-page="integrations"] #flash`)))
	if w.eval(`!!document.querySelector('tr[data-id="` + barID + `"]')`) {
		t.Fatal("the deactivated integration is still in the active list")
	}
	w.do("open Inactive integrations", chromedp.Click(chromedp.CSS("#tab-inactive")),
		chromedp.WaitVisible(chromedp.CSS(`#inactive-list tr[data-id="`+barID+`"]`)))
	if got := w.text(`#inactive-list tr[data-id="` + barID + `"] .badge`); got != "Inactive" {
		t.Fatalf("inactive badge reads %q", got)
	}

	// Adding the type again asks: Restore inactive / Create new.
	w.do("open Add POS Integration a third time", chromedp.Navigate(srv.url+"/integrations/new"),
		chromedp.WaitVisible(chromedp.CSS("#pos-type")))
	w.eval(chooseSandbox)
	w.do("see the choice", chromedp.WaitVisible(chromedp.CSS("#choice")))
	choice := w.text("#choice")
	for _, want := range []string{"Restore inactive", "Create new", "Cancel"} {
		if !strings.Contains(choice, want) {
			t.Fatalf("choice lacks %q: %q", want, choice)
		}
	}
	w.shot("add_choice")
	w.do("restore inactive", chromedp.Click(chromedp.CSS(`button[data-restore="`+barID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="edit"] #flash`)))
	if got := idFromURL(t, w.location()); got != barID {
		t.Fatalf("restore went to %s, want %s", got, barID)
	}
	if i, err := lc.Get(context.Background(), acct, barID); err != nil || !i.Status.Active() || i.Nickname != "Bar" {
		t.Fatalf("after restore: %+v %v", i, err)
	}

	// The Timeline tab lists what happened, newest first.
	w.do("open the Timeline tab", chromedp.Navigate(srv.url+"/integrations"), chromedp.Click(chromedp.CSS("#tab-timeline")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="timeline"] table.timeline`)))
	tl := w.text("table.timeline")
	for _, want := range []string{"integration added", "deactivated", "restored", "Checked the POS: OK", srv.acct.AdminEmail} {
		if !strings.Contains(tl, want) {
			t.Fatalf("timeline lacks %q:\n%s", want, tl)
		}
	}
	w.shot("timeline")

	// Support -> Disconnect POS, with its warning of what stops and a confirmation.
	w.do("open Support", chromedp.Click(chromedp.CSS(`nav.side a[href="/support"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[data-disconnect="`+firstID+`"]`)))
	if got := w.text("main"); !strings.Contains(got, "Disconnecting your POS will stop future automatic syncing of stock and customer data") {
		t.Fatalf("support page lacks the warning: %q", got)
	}
	if got := w.text("#email-banner"); !strings.Contains(got, "Email is not configured") {
		t.Fatalf("no SMTP notice for the admin on Support: %q", got)
	}
	w.shot("support")
	w.do("disconnect POS", chromedp.Click(chromedp.CSS(`a[data-disconnect="`+firstID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="confirm"] #ok`)))
	if got := w.text("#confirm"); !strings.Contains(got, "Any data previously synced will remain") {
		t.Fatalf("disconnect confirmation lacks the warning: %q", got)
	}
	w.do("confirm disconnect", chromedp.Click(chromedp.CSS("#ok")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="support"] #flash`)))
	if i, err := lc.Get(context.Background(), acct, firstID); err != nil || i.Status != domain.StatusInactive {
		t.Fatalf("after disconnect: %s %v", i.Status, err)
	}

	// A POST without the CSRF token (or with a wrong one) is refused and changes nothing.
	for _, body := range []string{"", "csrf=forged"} {
		status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/integrations/`+barID+`/deactivate', {method: 'POST',
			headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: '`+body+`'}).then(r => r.status)`, chromedp.EvalAwaitPromise))
		if err != nil || status != http.StatusForbidden {
			t.Fatalf("POST with body %q: status %d, %v; want 403", body, status, err)
		}
	}
	if i, _ := lc.Get(context.Background(), acct, barID); !i.Status.Active() {
		t.Fatal("a CSRF-less POST deactivated the integration")
	}
}

// client is a plain HTTP client with a cookie jar, for what needs no browser.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
}

func newClient(t testing.TB, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: patience,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.hc.Get(c.base + path)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c *client) post(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.hc.PostForm(c.base+path, form)
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func csrfOf(t testing.TB, html string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no CSRF field in page:\n%s", html)
	}
	return m[1]
}

func (c *client) login(email, password string) string {
	c.t.Helper()
	_, page := c.get("/login")
	resp, _ := c.post("/login", url.Values{"csrf": {csrfOf(c.t, page)}, "email": {email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		c.t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "posbridge_session" {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure {
		c.t.Fatalf("session cookie: %+v", sess)
	}
	_, list := c.get("/integrations")
	return csrfOf(c.t, list)
}

// TestConsoleRolesAndGuards checks sessions, CSRF and roles over plain HTTP.
func TestConsoleRolesAndGuards(t *testing.T) {
	t.Parallel() // each test has its own server, database and browser
	srv := startServer(t)
	ctx := context.Background()
	it, err := srv.app.Lifecycle.Add(ctx, srv.acct.AccountID, "system", lifecycleAdd(""))
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	anon := newClient(t, srv.url)
	if resp, _ := anon.get("/integrations"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous list: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := anon.post("/integrations/"+it.ID+"/deactivate", url.Values{"csrf": {"x"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("anonymous POST: %d", resp.StatusCode)
	}
	if resp, _ := anon.post("/login", url.Values{"email": {srv.acct.AdminEmail}, "password": {srv.acct.AdminPassword}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without its CSRF token: %d", resp.StatusCode)
	}
	resp, body := anon.get("/docs/sandbox")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "sbx_invalid") || !strings.Contains(body, "/sandbox/admin/faults") {
		t.Fatalf("docs page: %d", resp.StatusCode)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Fatalf("CSP: %q", csp)
	}
	if resp, _ := anon.get("/static/console.css"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("css: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// Staff may look but not act.
	hash, err := auth.HashPassword("staff-password")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.app.Store.CreateUser(ctx, domain.User{ID: auth.NewID("usr"), AccountID: srv.acct.AccountID, Email: "staff@example.com",
		Role: domain.RoleStaff, PasswordHash: hash, CreatedAt: time.Now()}); err != nil {
		t.Fatalf("create staff: %v", err)
	}
	staff := newClient(t, srv.url)
	csrf := staff.login("staff@example.com", "staff-password")
	_, list := staff.get("/integrations")
	if !strings.Contains(list, it.ID) || strings.Contains(list, "Add POS Integration</a>") {
		t.Fatal("staff list: missing the integration or showing the add button")
	}
	if resp, _ := staff.get("/integrations/new"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("staff add page: %d", resp.StatusCode)
	}
	for _, path := range []string{"/integrations/" + it.ID + "/deactivate", "/support/disconnect/" + it.ID, "/integrations/new"} {
		if resp, _ := staff.post(path, url.Values{"csrf": {csrf}, "type": {"sandbox"}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("staff POST %s: %d", path, resp.StatusCode)
		}
	}
	if i, _ := srv.app.Lifecycle.Get(ctx, srv.acct.AccountID, it.ID); !i.Status.Active() {
		t.Fatal("staff deactivated an integration")
	}

	// An admin's form errors keep non-secret input; another account's integration is not found.
	admin := newClient(t, srv.url)
	csrf = admin.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	other, err := accounts.Create(ctx, srv.app.Store, "Other shop", "other@example.com")
	if err != nil {
		t.Fatal(err)
	}
	// The key of another account's sandbox is refused, and not shown back.
	otherKey := mintSandbox(t, srv, other.AccountID)
	resp, body = admin.post("/integrations/new", url.Values{"csrf": {csrf}, "type": {"sandbox"}, "nickname": {"Workshop"}, "credentials.api_key": {otherKey}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "not one of your account") ||
		!strings.Contains(body, `value="Workshop"`) || strings.Contains(body, otherKey) {
		t.Fatalf("another account's key: %d\n%s", resp.StatusCode, body)
	}
	foreign, err := srv.app.Lifecycle.Add(ctx, other.AccountID, "system", lifecycleAdd(""))
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := admin.get("/integrations/" + foreign.ID); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("foreign integration: %d", resp.StatusCode)
	}
	if resp, _ := admin.post("/integrations/"+foreign.ID+"/deactivate", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("deactivate foreign integration: %d", resp.StatusCode)
	}

	// Create new after a deactivation: the choice first (also when the POST skips it), then a new one.
	if resp, _ := admin.post("/integrations/"+it.ID+"/deactivate", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", resp.StatusCode)
	}
	if _, body := admin.get("/integrations/new?type=sandbox"); !strings.Contains(body, `id="choice"`) || strings.Contains(body, `id="add-form"`) {
		t.Fatal("adding a type with an inactive integration does not ask Restore inactive / Create new first")
	}
	newKey := mintSandbox(t, srv, srv.acct.AccountID)
	resp, body = admin.post("/integrations/new", url.Values{"csrf": {csrf}, "type": {"sandbox"}, "credentials.api_key": {newKey}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "Restore inactive") || !strings.Contains(body, "Create new") {
		t.Fatalf("inactive_exists answer: %d", resp.StatusCode)
	}
	if strings.Contains(body, newKey) {
		t.Fatal("the secret was echoed back")
	}
	if _, body := admin.get("/integrations/new?type=sandbox&create=new"); !strings.Contains(body, `name="on_conflict" value="new"`) {
		t.Fatal("Create new does not lead to the credential form")
	}
	resp, _ = admin.post("/integrations/new", url.Values{"csrf": {csrf}, "type": {"sandbox"}, "on_conflict": {"new"}, "credentials.api_key": {"sbx_invalid"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "msg=added") {
		t.Fatalf("create new: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	newID := strings.TrimPrefix(strings.Split(resp.Header.Get("Location"), "?")[0], "/integrations/")

	// The refused key calls it off; the page says so and offers Resume.
	eventually(t, 20*time.Second, "sbx_invalid called off", func() bool {
		i, err := srv.app.Lifecycle.Get(ctx, srv.acct.AccountID, newID)
		return err == nil && i.Status == domain.StatusCalledOff
	})
	_, body = admin.get("/integrations/" + newID)
	if !strings.Contains(body, ">CalledOff<") || !strings.Contains(body, `id="resume"`) || strings.Contains(body, `id="check-now"`) {
		t.Fatal("called-off page lacks its badge or Resume, or offers Check now")
	}
	if resp, _ := admin.post("/integrations/"+newID+"/resume", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("resume: %d", resp.StatusCode)
	}
	if resp, body := admin.post("/integrations/"+newID+"/check", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusConflict {
		t.Fatalf("check now: %d %s", resp.StatusCode, body)
	}

	// Logging out ends the session on the server too.
	if resp, _ := admin.post("/logout", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := admin.get("/integrations"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after logout: %d", resp.StatusCode)
	}
}

// lifecycleAdd adds a Sandbox POS with key, or with a key minted for the account when key is "".
func lifecycleAdd(key string) lifecycle.AddInput {
	in := lifecycle.AddInput{Type: "sandbox", Credentials: map[string]string{}}
	if key != "" {
		in.Credentials["api_key"] = key
	}
	return in
}

// mintSandbox mints a Sandbox POS key for the account.
func mintSandbox(t testing.TB, srv *server, accountID string) string {
	t.Helper()
	k, err := srv.app.MintSandbox(context.Background(), accountID)
	if err != nil {
		t.Fatalf("mint a sandbox: %v", err)
	}
	return k
}

// eventually polls cond until it holds, failing the test when within (at least patience) passes
// first.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	within = patient(within)
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("%s: not within %s", what, within)
		case <-tick.C:
		}
	}
}

// BenchmarkIntegrationsPage measures one logged-in GET of the POS Integrations list with two
// integrations, over real HTTP.
func BenchmarkIntegrationsPage(b *testing.B) {
	srv := startServer(b)
	ctx := context.Background()
	if _, err := srv.app.Lifecycle.Add(ctx, srv.acct.AccountID, "system", lifecycleAdd("")); err != nil {
		b.Fatal(err)
	}
	in := lifecycleAdd("")
	in.Nickname = "Bar"
	if _, err := srv.app.Lifecycle.Add(ctx, srv.acct.AccountID, "system", in); err != nil {
		b.Fatal(err)
	}
	c := newClient(b, srv.url)
	c.login(srv.acct.AdminEmail, srv.acct.AdminPassword)
	for b.Loop() {
		resp, err := c.hc.Get(srv.url + "/integrations")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
