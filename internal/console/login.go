package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// loginData is the body of the login page.
type loginData struct {
	Email string
	Next  string
}

// loginPage shows the login form, bound to a fresh nonce cookie so the form's CSRF token can be
// checked before any session exists. A logged-in user goes straight on.
func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	s, err := c.loadSession(r.Context(), r)
	if err != nil {
		c.serverError(w, r, nil, err)
		return
	}
	if s != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.showLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next"))}, "")
}

func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, status int, d loginData, msg string) {
	nonce := auth.NewSessionToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: nonce, Path: "/login", MaxAge: int(loginNonceTTL / time.Second),
		HttpOnly: true, Secure: c.d.SecureCookies, SameSite: http.SameSiteLaxMode})
	p := c.newPage(r, nil, "Log in", "", d)
	p.CSRF = auth.CSRFToken("login:"+nonce, c.d.CSRFKey)
	p.Error = msg
	c.render(w, status, "login", p)
}

// loginSubmit checks the login form and starts a session.
func (c *Console) loginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.errorPage(w, r, nil, http.StatusBadRequest, "Bad request", "The form could not be read: "+err.Error())
		return
	}
	ck, err := r.Cookie(loginCookie)
	if err != nil || !auth.CheckCSRF("login:"+ck.Value, r.PostForm.Get("csrf"), c.d.CSRFKey) {
		c.errorPage(w, r, nil, http.StatusForbidden, "Forbidden",
			"The login form expired or did not come from this site. Open the login page again and retry.")
		return
	}
	d := loginData{Email: strings.TrimSpace(r.PostForm.Get("email")), Next: safeNext(r.PostForm.Get("next"))}
	password := r.PostForm.Get("password")
	email, err := domain.NormalizeEmail("email", d.Email)
	if err != nil || password == "" {
		c.showLogin(w, r, http.StatusUnauthorized, d, "Enter your email address and password.")
		return
	}
	// The attempt is counted before the password is checked: past the limit nothing is checked.
	wait, err := c.logins.claim(r.Context(), r, email)
	if err != nil {
		c.serverError(w, r, nil, fmt.Errorf("login throttle: %w", err))
		return
	}
	if wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		c.log.Info("console: login throttled", "email", email, "retry_after_s", secs)
		c.showLogin(w, r, http.StatusTooManyRequests, d, fmt.Sprintf(
			"Too many failed login attempts for this email address or from your network. Try again in %s.", waitWords(wait)))
		return
	}
	u, err := c.d.Store.UserByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		c.serverError(w, r, nil, fmt.Errorf("find user for login: %w", err))
		return
	}
	c.logins.checked()
	if err != nil {
		auth.CheckPassword(c.dummy(), password) // same work as a real check
		c.showLogin(w, r, http.StatusUnauthorized, d, "Wrong email address or password.")
		return
	}
	if !auth.CheckPassword(u.PasswordHash, password) {
		c.log.Info("console: failed login", "email", email)
		c.showLogin(w, r, http.StatusUnauthorized, d, "Wrong email address or password.")
		return
	}
	if !u.Active() {
		c.log.Info("console: login of a deactivated user", "email", email)
		c.showLogin(w, r, http.StatusForbidden, d, "Your user is deactivated. Ask an admin of your account.")
		return
	}
	token := auth.NewSessionToken()
	now := c.now()
	if err := c.d.Store.CreateSession(r.Context(), auth.HashToken(token),
		store.Session{UserID: u.ID, AccountID: u.AccountID, ExpiresAt: now.Add(sessionTTL)}, now); err != nil {
		c.serverError(w, r, nil, fmt.Errorf("create session: %w", err))
		return
	}
	if err := c.logins.succeeded(r.Context(), r, email); err != nil {
		c.log.Warn("console: clear the login throttle after a login", "email", email, "err", err)
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/login", MaxAge: -1, HttpOnly: true,
		Secure: c.d.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", MaxAge: int(sessionTTL / time.Second),
		HttpOnly: true, Secure: c.d.SecureCookies, SameSite: http.SameSiteLaxMode})
	c.log.Info("console: login", "email", email, "account", u.AccountID)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// logout ends the session.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.d.Store.DeleteSession(r.Context(), auth.HashToken(s.token)); err != nil {
		c.serverError(w, r, s, fmt.Errorf("delete session: %w", err))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: c.d.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login?msg=loggedout", http.StatusSeeOther)
}

// dummy is a password hash to check when the email is unknown, so both answers take as long.
func (c *Console) dummy() string {
	c.dummyOnce.Do(func() {
		h, err := auth.HashPassword(auth.NewPassword())
		if err != nil {
			c.log.Error("console: hash the dummy password", "err", err)
		}
		c.dummyHash = h
	})
	return c.dummyHash
}

// safeNext keeps a post-login target only when it is a path on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n") || strings.HasPrefix(next, "/login") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// waitWords says a wait in minutes (or seconds under a minute), for a merchant.
func waitWords(d time.Duration) string {
	if d < time.Minute {
		s := int((d + time.Second - 1) / time.Second)
		if s == 1 {
			return "1 second"
		}
		return strconv.Itoa(s) + " seconds"
	}
	m := int((d + time.Minute - 1) / time.Minute)
	if m == 1 {
		return "1 minute"
	}
	return strconv.Itoa(m) + " minutes"
}
