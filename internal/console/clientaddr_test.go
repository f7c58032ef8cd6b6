package console

import (
	"net/http/httptest"
	"testing"
)

// TestClientAddr: the per-address login throttle counts the connection's peer, and believes
// X-Forwarded-For only from trusted proxies, right to left, so a client cannot pick its address.
func TestClientAddr(t *testing.T) {
	proxies, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.7,::1")
	if err != nil {
		t.Fatal(err)
	}
	l := &loginThrottle{proxies: proxies}
	for _, c := range []struct {
		peer, xff, want string
	}{
		{"203.0.113.5:4000", "", "addr:203.0.113.5"},
		{"203.0.113.5:4000", "198.51.100.1", "addr:203.0.113.5"},                  // not a proxy: the header is ignored
		{"10.1.2.3:4000", "198.51.100.1", "addr:198.51.100.1"},                    // a proxy: the client it saw
		{"10.1.2.3:4000", "1.2.3.4, 198.51.100.1, 10.9.9.9", "addr:198.51.100.1"}, // right-most untrusted hop
		{"192.0.2.7:4000", "garbage, 198.51.100.2", "addr:198.51.100.2"},
		{"10.1.2.3:4000", "", "addr:10.1.2.3"},
		{"[2001:db8:1:2:3:4:5:6]:4000", "", "addr:2001:db8:1:2::/64"}, // IPv6 by its /64
		{"[::1]:4000", "2001:db8:aa:bb::1", "addr:2001:db8:aa:bb::/64"},
		{"[::ffff:203.0.113.9]:4000", "", "addr:203.0.113.9"},
	} {
		r := httptest.NewRequest("POST", "/login", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := l.addrKey(r); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8,proxy.local"); err == nil {
		t.Error("a host name accepted as a trusted proxy")
	}
}
