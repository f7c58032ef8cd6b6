package console

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
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
	st      *store.Store
	now     func() time.Time
	checks  prometheus.Counter // password checks done (bcrypt), the work the throttle bounds
	claims  atomic.Int64
	proxies []netip.Prefix // reverse proxies whose X-Forwarded-For is believed
}

func newLoginThrottle(st *store.Store, now func() time.Time, reg prometheus.Registerer, proxies []netip.Prefix) *loginThrottle {
	t := &loginThrottle{st: st, now: now, proxies: proxies, checks: prometheus.NewCounter(prometheus.CounterOpts{
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
func (l *loginThrottle) addrKey(r *http.Request) string {
	ip, ok := clientAddr(r, l.proxies)
	if !ok {
		return "addr:" + r.RemoteAddr
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return "addr:" + p.String()
	}
	return "addr:" + ip.String()
}

// clientAddr is the address of the client: the connection's peer, or, when the peer is one of
// the trusted proxies, the right-most X-Forwarded-For entry that is not a trusted proxy (entries
// further left were written by the client and prove nothing).
func clientAddr(r *http.Request, proxies []netip.Prefix) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	peer = peer.WithZone("").Unmap()
	trusted := func(ip netip.Addr) bool {
		for _, p := range proxies {
			if p.Contains(ip) {
				return true
			}
		}
		return false
	}
	if !trusted(peer) {
		return peer, true
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a hop we cannot read: stop at the last one we could
		}
		client = ip.WithZone("").Unmap()
		if !trusted(client) {
			break
		}
	}
	return client, true
}

// ParseTrustedProxies reads --trusted-proxies: addresses and CIDR prefixes separated by commas.
func ParseTrustedProxies(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is neither an IP address nor a CIDR prefix", f)
		}
		ip = ip.Unmap()
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
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
		{Key: l.addrKey(r), Max: loginPerAddr},
		{Key: emailKey(email), Max: loginPerEmail},
	}, loginWindow, now)
}

// checked counts one password check.
func (l *loginThrottle) checked() { l.checks.Inc() }

// succeeded forgets the email's failures and gives the client back the attempt it claimed.
func (l *loginThrottle) succeeded(ctx context.Context, r *http.Request, email string) error {
	return l.st.LoginSucceeded(ctx, []string{emailKey(email)}, []string{l.addrKey(r)})
}
