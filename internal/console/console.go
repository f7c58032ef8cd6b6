// Package console is posbridge's merchant console: server-rendered pages (html/template, one
// small CSS file and a few lines of script, no framework, nothing from a CDN) in the words of the
// help-centre articles. A merchant logs in; sees Settings -> POS Integrations with the active
// integrations (type, nickname, status badge, last sales check, last sale imported), the
// "Inactive integrations" and the "Timeline" tab; adds a POS integration (POS Type, setup
// instructions link, credentials, nickname when needed, the Restore inactive / Create new
// choice); edits one (nickname, default store, Check now, Deactivate with a confirmation,
// Restore, Resume, "View Webhook"); and disconnects a POS from the Support section.
//
// With order sync it also lists the app's jobs, invoices, sales and bookings with the
// POS sync icon per row; the icon opens the sync dialog (status, external reference and its
// link, the per-document auto-sync toggle, Re-sync, Send as new order with the void question,
// Retry after a failure, and the sync history with expandable error details); and it has the
// "Automatic Sync" settings page, whose master toggle reveals the settings below it.
//
// Sessions are kept server-side (the cookie holds a random token; the store keeps its hash) in
// HttpOnly SameSite=Lax cookies. Every form carries a CSRF token bound to the session and every
// POST checks it. Staff may look; only admins may change anything.
package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/posbridge/posbridge/internal/access"
	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/backoffice"
	"github.com/posbridge/posbridge/internal/catalogsync"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/lifecycle"
	"github.com/posbridge/posbridge/internal/ordersync"
	"github.com/posbridge/posbridge/internal/outbox"
	"github.com/posbridge/posbridge/internal/retention"
	"github.com/posbridge/posbridge/internal/salesimport"
	"github.com/posbridge/posbridge/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Cookie names and lifetimes.
const (
	sessionCookie = "posbridge_session"
	loginCookie   = "posbridge_login" // a nonce the login form's CSRF token is bound to
	sessionTTL    = 12 * time.Hour
	loginNonceTTL = time.Hour
	maxFormBytes  = 64 << 10
)

// Deps is what the console needs from the rest of posbridge.
type Deps struct {
	Store         *store.Store
	Lifecycle     *lifecycle.Service
	Outbox        *outbox.Outbox
	Sync          *ordersync.Service   // order sync; nil leaves its pages out
	BackOffice    *backoffice.Service  // drafts, Save and Publish, terminals; nil leaves its page out
	Access        *access.Service      // roles, users, API keys; nil: one over Store without email
	Sales         *salesimport.Service // sales import; nil leaves its parts out
	Catalog       *catalogsync.Service // catalog sync; nil leaves its page out
	CSRFKey       []byte               // server secret the CSRF tokens are derived with
	SecureCookies bool                 // set the Secure attribute (posbridge behind HTTPS)
	Logger        *slog.Logger
	Version       string
	Registerer    prometheus.Registerer // where the console's metrics go (nil: not exported)
	Retention     retention.Policy      // how long history is kept, said on the history pages
	// SandboxOrder completes ("complete") or voids ("void") an order of a Sandbox POS integration
	// of the account, for the sync dialog's sandbox buttons; nil leaves them out.
	SandboxOrder func(ctx context.Context, accountID, integrationID, orderID, action string) error

	// TrustedProxies are reverse proxies whose X-Forwarded-For names the client (login throttle).
	TrustedProxies []netip.Prefix
}

// Console serves the merchant console's pages.
type Console struct {
	d      Deps
	acc    *access.Service
	log    *slog.Logger
	pages  map[string]*template.Template
	static fs.FS
	now    func() time.Time
	logins *loginThrottle

	dummyOnce sync.Once
	dummyHash string // checked when an unknown email logs in, so timing does not tell
}

// pageNames are the templates besides the layout; each defines "title" and "content".
var pageNames = []string{"login", "integrations", "add", "edit", "confirm", "timeline", "support", "docs_sandbox", "error",
	"documents", "order_sync", "api_keys", "catalog_sync", "users", "roles", "set_password", "forgot", "password", "webhook_endpoints", "back_office", "catalog_product", "sandbox_order", "terminals", "overview"}

// New parses the embedded templates and returns the console.
func New(d Deps) (*Console, error) {
	if d.Store == nil || d.Lifecycle == nil || d.Outbox == nil {
		return nil, errors.New("console: Store, Lifecycle and Outbox are required")
	}
	if len(d.CSRFKey) < 16 {
		return nil, errors.New("console: CSRFKey must have at least 16 bytes")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	d.Retention = d.Retention.WithDefaults()
	if d.Version == "" {
		d.Version = "dev"
	}
	if d.Access == nil {
		d.Access = access.New(d.Store)
	}
	c := &Console{d: d, acc: d.Access, log: d.Logger, pages: map[string]*template.Template{}, now: time.Now}
	c.logins = newLoginThrottle(d.Store, func() time.Time { return c.now() }, d.Registerer, d.TrustedProxies)
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("console: parse layout: %w", err)
	}
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: parse page %s: %w", name, err)
		}
		c.pages[name] = t
	}
	st, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("console: static files: %w", err)
	}
	c.static = st
	return c, nil
}

// Register mounts the console's routes on mux.
func (c *Console) Register(mux *http.ServeMux) {
	h := func(pattern string, fn http.HandlerFunc) { mux.Handle(pattern, c.secure(fn)) }
	h("GET /{$}", c.authed(c.overview))
	h("GET /login", c.loginPage)
	h("POST /login", c.loginSubmit)
	h("POST /logout", c.post(false, c.logout))

	h("GET /integrations", c.authed(c.integrations))
	h("GET /integrations/new", c.authed(c.addPage))
	h("POST /integrations/new", c.post(true, c.addSubmit))
	h("GET /integrations/{id}", c.authed(c.editPage))
	h("POST /integrations/{id}", c.post(true, c.saveSettings))
	h("POST /integrations/{id}/credentials", c.post(true, c.saveCredentials))
	h("POST /integrations/{id}/check", c.post(true, c.checkNow))
	h("GET /integrations/{id}/deactivate", c.authed(c.deactivateConfirm))
	h("POST /integrations/{id}/deactivate", c.post(true, c.deactivate))
	h("POST /integrations/{id}/restore", c.post(true, c.restore))
	h("POST /integrations/{id}/resume", c.post(true, c.resume))
	if c.d.Sales != nil {
		h("POST /integrations/{id}/refresh-sales", c.post(true, c.refreshSales))
		h("POST /integrations/{id}/sales-frequency", c.post(true, c.salesFrequency))
		h("POST /integrations/{id}/pos-items/{item}/mapping", c.post(true, c.mapItem))
		h("POST /integrations/{id}/email-settings", c.post(true, c.emailSettings))
	}

	h("GET /timeline", c.authed(c.timeline))
	h("GET /webhook-endpoints", c.authed(c.webhookEndpoints))
	h("POST /webhook-endpoints/{id}/test", c.post(true, c.webhookTest))
	h("POST /webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver", c.post(true, c.webhookRedeliver))
	h("GET /support", c.authed(c.support))
	h("GET /support/disconnect/{id}", c.authed(c.disconnectConfirm))
	h("POST /support/disconnect/{id}", c.post(true, c.disconnect))

	if c.d.Sync != nil {
		h("GET /integrations/{id}/webhooks", c.authed(c.webhooksPage))
		h("GET /documents", c.authed(c.documents))
		h("POST /documents/quick-start", c.post(true, c.quickStart))
		h("POST /documents/sample", c.post(true, c.sampleInvoice))
		h("GET /documents/{kind}/{ref}", c.authed(c.syncDialog))
		h("POST /documents/{kind}/{ref}/auto-sync", c.post(true, c.setAutoSync))
		h("POST /documents/{kind}/{ref}/resync", c.post(true, c.resync))
		h("POST /documents/{kind}/{ref}/retry", c.post(true, c.retry))
		h("POST /documents/{kind}/{ref}/send-as-new", c.post(true, c.sendAsNew))
		h("POST /documents/{kind}/{ref}/sandbox/{action}", c.post(true, c.sandboxOrder))
		h("GET /integrations/{id}/sandbox-orders/{order}", c.authed(c.sandboxOrderPage))
		h("POST /integrations/{id}/sandbox-orders/{order}/{action}", c.post(true, c.sandboxOrderAct))
		h("GET /order-sync", c.authed(c.orderSyncPage))
		h("POST /order-sync", c.post(true, c.orderSyncSave))
	}

	if c.d.Catalog != nil {
		h("GET /catalog-sync", c.authed(c.catalogPage))
		h("POST /catalog-sync", c.post(true, c.catalogSave))
		h("POST /catalog-sync/import", c.post(true, c.catalogImport))
		h("GET /catalog-sync/products/{id}", c.authed(c.catalogProductPage))
	}
	h("GET /api-keys", c.authed(c.apiKeysPage))
	h("POST /api-keys", c.postPerm(domain.PermManageAPIKeys, c.apiKeyCreate))
	h("POST /api-keys/{id}/revoke", c.postPerm(domain.PermManageAPIKeys, c.apiKeyRevoke))

	if c.d.BackOffice != nil {
		h("GET /back-office", c.authed(c.backOfficePage))
		h("GET /terminals", c.authed(c.terminalsPage))
		h("POST /back-office", c.postPerm(domain.PermEditBackOffice, c.backOfficeSave))
		h("POST /back-office/settings", c.postPerm(domain.PermEditBackOffice, c.backOfficeSettings))
		h("POST /back-office/pairing-code", c.postPerm(domain.PermEditBackOffice, c.backOfficePair))
		h("POST /back-office/terminals/{id}/revoke", c.postPerm(domain.PermEditBackOffice, c.backOfficeRevoke))
	}
	h("GET /users", c.authed(c.usersPage))
	h("POST /users", c.postPerm(domain.PermManageUsers, c.userInvite))
	h("POST /users/{id}/role", c.postPerm(domain.PermManageUsers, c.userRole))
	h("POST /users/{id}/active", c.postPerm(domain.PermManageUsers, c.userActive))
	h("POST /users/{id}/reset", c.postPerm(domain.PermManageUsers, c.userReset))
	h("GET /roles", c.authed(c.rolesPage))
	h("POST /roles", c.postPerm(domain.PermManageUsers, c.roleCreate))
	h("POST /roles/{id}", c.postPerm(domain.PermManageUsers, c.roleUpdate))
	h("POST /roles/{id}/delete", c.postPerm(domain.PermManageUsers, c.roleDelete))
	h("GET /invite/{token}", c.linkPage)
	h("POST /invite/{token}", c.linkSubmit)
	h("GET /reset/{token}", c.linkPage)
	h("POST /reset/{token}", c.linkSubmit)
	h("GET /forgot", c.forgotPage)
	h("POST /forgot", c.forgotSubmit)
	h("GET /account/password", c.authed(c.passwordPage))
	h("POST /account/password", c.post(false, c.passwordSubmit))

	h("GET /docs/sandbox", c.docsSandbox)
	mux.Handle("GET /static/", c.staticFiles())
}

// session is the logged-in user of a request.
type session struct {
	token   string
	user    domain.User
	account domain.Account
	role    domain.AccessRole
	csrf    string
}

// isAdmin: the user may change POS integrations and order sync (what "admin" meant before roles).
func (s *session) isAdmin() bool { return s.role.Has(domain.PermManageIntegrations) }

// can tells whether the user's role grants p.
func (s *session) can(p domain.Permission) bool { return s.role.Has(p) }

// principal is the session as internal/access sees it.
func (s *session) principal() access.Principal {
	return access.Principal{AccountID: s.account.ID, Kind: "user", ID: s.user.ID, Actor: s.actor(), Role: s.role}
}

func (s *session) actor() string { return domain.ActorUser(s.user.Email) }

type handler func(w http.ResponseWriter, r *http.Request, s *session)

// secure sets the headers every console answer carries.
func (c *Console) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (c *Console) staticFiles() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(c.static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			c.notFound(w, r, nil)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}

// loadSession finds the request's live session; nil when there is none.
func (c *Console) loadSession(ctx context.Context, r *http.Request) (*session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 100 {
		return nil, nil
	}
	sess, err := c.d.Store.GetSession(ctx, auth.HashToken(ck.Value), c.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	u, err := c.d.Store.GetUser(ctx, sess.AccountID, sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read user of session: %w", err)
	}
	acct, err := c.d.Store.GetAccount(ctx, sess.AccountID)
	if err != nil {
		return nil, fmt.Errorf("read account %s: %w", sess.AccountID, err)
	}
	role, err := c.acc.Role(ctx, acct.ID, string(u.Role))
	var de *domain.Error
	if errors.As(err, &de) && de.Code == domain.CodeNotFound {
		role = domain.AccessRole{ID: string(u.Role), Name: "(deleted role)"} // no permissions
	} else if err != nil {
		return nil, fmt.Errorf("read role of user: %w", err)
	}
	return &session{token: ck.Value, user: u, account: acct, role: role, csrf: auth.CSRFToken(ck.Value, c.d.CSRFKey)}, nil
}

// authed requires a session; without one a page view goes to the login page.
func (c *Console) authed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := c.loadSession(r.Context(), r)
		if err != nil {
			c.serverError(w, r, nil, err)
			return
		}
		if s == nil {
			target := "/login"
			if r.URL.Path != "/" {
				target += "?next=" + urlQueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		h(w, r, s)
	}
}

// post guards a form submission: a session, a valid CSRF token and, when adminOnly, the admin role.
func (c *Console) post(adminOnly bool, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := c.loadSession(r.Context(), r)
		if err != nil {
			c.serverError(w, r, nil, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			c.errorPage(w, r, s, http.StatusBadRequest, "Bad request", "The form could not be read: "+err.Error())
			return
		}
		if s == nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if !auth.CheckCSRF(s.token, r.PostForm.Get("csrf"), c.d.CSRFKey) {
			c.log.Warn("console: refused a POST without a valid CSRF token", "path", r.URL.Path, "user", s.user.Email)
			c.errorPage(w, r, s, http.StatusForbidden, "Forbidden",
				"This form did not carry a valid security token, so nothing was changed. Go back, reload the page and try again.")
			return
		}
		if adminOnly && !s.isAdmin() {
			c.errorPage(w, r, s, http.StatusForbidden, "Forbidden",
				"Only an admin of your account may change POS integrations and order sync. Staff may view them.")
			return
		}
		h(w, r, s)
	}
}

// postPerm guards a form submission that needs a permission: a session, a valid CSRF token
// and the permission (403 page naming it otherwise).
func (c *Console) postPerm(perm domain.Permission, h handler) http.HandlerFunc {
	return c.post(false, func(w http.ResponseWriter, r *http.Request, s *session) {
		if !s.can(perm) {
			c.errorPage(w, r, s, http.StatusForbidden, "Forbidden",
				"Your role does not have the permission \""+domain.PermissionLabels[perm]+"\"; ask a Store Admin of your account.")
			return
		}
		h(w, r, s)
	})
}

// page is what every template gets.
type page struct {
	Name     string // the template's name, on <body data-page> for tests and styles
	Title    string
	Nav      string // "integrations", "timeline", "support", "documents", "order-sync"
	Session  bool
	Email    string
	Role     string
	Can      map[string]bool // the user's permissions: menu entries and buttons show by them
	Account  string
	IsAdmin  bool
	CSRF     string
	EmailOff bool
	SyncOn   bool // order sync is available: its menu entries show
	BackOn   bool // the back office is available
	Catalog  bool // catalog sync is available: its menu entry shows
	Version  string
	Flash    string
	Error    string
	Refresh  int // seconds; 0 for none
	Data     any
}

func (c *Console) newPage(r *http.Request, s *session, title, nav string, data any) *page {
	p := &page{Title: title, Nav: nav, Version: c.d.Version, Data: data, SyncOn: c.d.Sync != nil, Catalog: c.d.Catalog != nil, BackOn: c.d.BackOffice != nil}
	if s != nil {
		p.Session, p.Email, p.Role, p.Account = true, s.user.Email, s.role.Name, s.account.Name
		p.Can = map[string]bool{}
		for _, perm := range s.role.Permissions {
			p.Can[string(perm)] = true
		}
		p.IsAdmin, p.CSRF = s.isAdmin(), s.csrf
		p.EmailOff = p.IsAdmin && !c.d.Outbox.EmailConfigured()
	}
	if r != nil {
		p.Flash = flashes[r.URL.Query().Get("msg")]
	}
	return p
}

// render executes a page into a buffer first, so a template failure becomes a clean 500.
func (c *Console) render(w http.ResponseWriter, status int, name string, p *page) {
	t, ok := c.pages[name]
	if !ok {
		c.log.Error("console: no such page template", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p.Name = name
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		c.log.Error("console: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// errorData is the body of the error page.
type errorData struct {
	Status  int
	Heading string
	Message string
}

func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, s *session, status int, heading, msg string) {
	p := c.newPage(nil, s, heading, "", errorData{Status: status, Heading: heading, Message: msg})
	c.render(w, status, "error", p)
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request, s *session) {
	c.errorPage(w, r, s, http.StatusNotFound, "Not found", "There is no such page or integration in your account.")
}

func (c *Console) serverError(w http.ResponseWriter, r *http.Request, s *session, err error) {
	if store.IsUnavailable(err) {
		c.log.Warn("console: the database does not answer", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(store.UnavailableRetryAfter))
		c.errorPage(w, r, s, http.StatusServiceUnavailable, "Try again in a moment",
			"posbridge cannot reach its database right now. Nothing was changed; try again in a few seconds.")
		return
	}
	c.log.Error("console: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	c.errorPage(w, r, s, http.StatusInternalServerError, "Something went wrong",
		"posbridge could not complete this request. The details are in the server log; try again in a moment.")
}

// fail answers an unexpected error of a page: coded errors by their meaning, others as 500.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var de *domain.Error
	if errors.As(err, &de) {
		switch de.Code {
		case domain.CodeNotFound:
			c.notFound(w, r, s)
			return
		case domain.CodeForbidden:
			c.errorPage(w, r, s, http.StatusForbidden, "Forbidden", de.Message)
			return
		case domain.CodeInternal:
		default:
			c.errorPage(w, r, s, http.StatusConflict, "Not possible", de.Message)
			return
		}
	}
	c.serverError(w, r, s, err)
}

// flashes are the one-line confirmations shown after a redirect (?msg=code).
var flashes = map[string]string{
	"catalogsaved":  "Catalog sync settings saved.",
	"importstarted": "Import started. The progress below updates by itself; you can leave this page.",
	"added":         "POS integration added. posbridge is verifying its credentials now; the status below shows the outcome, and a failure says what to do.",
	"restored":      "Integration restored. posbridge is verifying its credentials again and will then resume syncing.",
	"resumed":       "Integration resumed. posbridge is verifying its credentials again.",
	"deactivated":   "Integration deactivated. It is listed under Inactive integrations; all its data is kept.",
	"disconnected":  "POS disconnected. Future syncing has stopped; data synced before stays in posbridge.",
	"saved":         "Settings saved.",
	"credentials":   "Credentials replaced. posbridge is verifying them.",
	"checked":       "Check finished; the status below is its outcome.",
	"sales":         "Sales refreshed; the sales below and the timeline show what came.",
	"salesfreq":     "Sales check frequency saved.",
	"mapped":        "POS item mapping saved.",
	"emailsaved":    "Sales file settings saved.",
	"loggedout":     "You are logged out.",

	"autosync_on":  "Auto-sync turned on for this document: its changes go to the POS again, per the Automatic Sync settings.",
	"autosync_off": "Auto-sync turned off for this document alone; other documents and the global setting are unchanged.",
	"resync":       "Re-sync queued: posbridge pushes the latest data to the existing order now.",
	"sendnew":      "Send as new order queued; the existing order is kept as it is.",
	"sendnew_void": "Send as new order queued: the existing order is voided first.",
	"retry":        "Retry queued: posbridge tries the failed sync again now.",
	"syncsaved":    "Automatic sync settings saved.",

	"sandbox_complete": "Order completed in the sandbox, as a cashier would. The sandbox tells posbridge by webhook; the document shows the outcome in a moment (an invoice turns paid when the Automatic Sync settings say so).",
	"sandbox_void":     "Order voided in the sandbox.",
	"webhook_test":     "Test event queued: it shows below as webhook.test, with the endpoint's answer.",
	"redeliver":        "Delivery queued again, with the same body and webhook-id.",
	"quickstart":       "Automatic Sync is on: new jobs, invoices and sales your app sends go to the POS. Change the details under Automatic Sync.",
	"sample":           "A sample invoice was sent to posbridge as your app would send it; its sync status below changes as it goes to the POS.",
	"keyrevoked":       "API key revoked. Requests with it are refused from now on.",
	"usersaved":        "User saved.",
	"userdeactivated":  "User deactivated: they are logged out everywhere and cannot log in.",
	"userreactivated":  "User reactivated: they can log in again.",
	"rolesaved":        "Role saved. Users and API keys with it have its permissions from their next request.",
	"roledeleted":      "Role deleted.",
	"bosaved":          "Draft saved. Terminals keep the published version until you Save and Publish.",
	"bopublished":      "Published. Terminals get the new version after the publish delay, or at once with their Sync button.",
	"bosettings":       "Publish delay saved. It applies to what you publish from now on.",
	"terminalrevoked":  "Terminal revoked. It is refused from its next request.",
	"passwordset":      "Your password is set. Log in with it.",
	"passwordchanged":  "Password changed. Your other sessions have ended.",
}
