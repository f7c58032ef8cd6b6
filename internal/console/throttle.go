package console

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/posbridge/posbridge/internal/store"
)

// Login throttle limits: failed attempts allowed per window, per email address and per client
// address (an IPv6 client counts by its /64, which one client usually holds whole).
const (
	loginWindow   = 15 * time.Minute
	loginPerEmail = 10
	loginPerAddr  = 50
)

// loginThrottle slows password guessing across every posbridge process on the database: each
// attempt is claimed in the database (one atomic upsert per counter) before the password is
// checked, so concurrent guesses past the limit are refused without a check.
type loginThrottle struct {
	st     *store.Store
	now    func() time.Time
	checks prometheus.Counter // password checks done (bcrypt), the work the throttle bounds
	claims atomic.Int64
}

func newLoginThrottle(st *store.Store, now func() time.Time, reg prometheus.Registerer) *loginThrottle {
	t := &loginThrottle{st: st, now: now, checks: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "posbridge_login_password_checks_total",
		Help: "Password checks done by console logins (refused attempts past the login throttle are not checked).",
	})}
	if reg != nil {
		reg.MustRegister(t.checks)
	}
	return t
}

func emailKey(email string) string { return "email:" + email }

// addrKey names the client a request comes from: its IP address, an IPv6 one cut to its /64.
func addrKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return "addr:" + host
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return "addr:" + p.String()
	}
	return "addr:" + ip.String()
}

// claim counts one attempt for the email and the client before the password is checked. It
// returns how long to wait when a limit is reached (0 to go on).
func (l *loginThrottle) claim(ctx context.Context, r *http.Request, email string) (time.Duration, error) {
	now := l.now()
	if l.claims.Add(1)%500 == 0 { // now and then, forget windows long over
		if _, err := l.st.PruneLoginThrottle(ctx, now.Add(-loginWindow)); err != nil {
			return 0, err
		}
	}
	return l.st.ClaimLoginAttempt(ctx, []store.LoginLimit{
		{Key: addrKey(r), Max: loginPerAddr},
		{Key: emailKey(email), Max: loginPerEmail},
	}, loginWindow, now)
}

// checked counts one password check.
func (l *loginThrottle) checked() { l.checks.Inc() }

// succeeded forgets the email's failures and gives the client back the attempt it claimed.
func (l *loginThrottle) succeeded(ctx context.Context, r *http.Request, email string) error {
	return l.st.LoginSucceeded(ctx, []string{emailKey(email)}, []string{addrKey(r)})
}
