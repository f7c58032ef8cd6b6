package connector

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector/ssrftest"
)

// TestAddressForms: every non-public form of the shared table is refused by the address check,
// by CheckHost (creation time) and by the dialer (call time); every public one passes.
func TestAddressForms(t *testing.T) {
	if n := len(ssrftest.NonPublic); n < 60 {
		t.Fatalf("the table holds %d non-public forms; keep at least 60", n)
	}
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer target.Close()
	port := target.URL[strings.LastIndex(target.URL, ":")+1:]
	c := NewHTTPClient(HTTPOptions{Timeout: 2 * time.Second})
	ctx := context.Background()
	for _, f := range ssrftest.NonPublic {
		t.Run(f.Addr, func(t *testing.T) {
			ip, ok := ParseHostAddr(f.Addr)
			if !ok {
				t.Fatalf("%s (%s) not read as an address", f.Addr, f.Why)
			}
			if r := AddrRefusal(ip); r == "" {
				t.Errorf("%s (%s) counted as public", f.Addr, f.Why)
			}
			if err := CheckHost(ctx, f.URLHost()); !errors.Is(err, ErrForbiddenHost) {
				t.Errorf("CheckHost(%s) = %v, want ErrForbiddenHost", f.URLHost(), err)
			}
			if f.Legacy {
				return // Go's resolver treats these as names: nothing to dial
			}
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second) // the refusal comes before any dial
			defer cancel()
			req, _ := http.NewRequestWithContext(rctx, "GET", "http://"+f.URLHost()+":"+port+"/", nil)
			resp, err := c.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("%s was called", f.Addr)
			}
			if !errors.Is(err, ErrForbiddenHost) {
				t.Errorf("%s: refused for another reason: %v", f.Addr, err)
			}
		})
	}
	for _, f := range ssrftest.Public {
		ip, ok := ParseHostAddr(f.Addr)
		if !ok || !PublicAddr(ip) {
			t.Errorf("%s refused: %s", f.Addr, AddrRefusal(ip))
		}
		if err := CheckHost(ctx, f.URLHost()); err != nil {
			t.Errorf("CheckHost(%s): %v", f.Addr, err)
		}
	}
	for _, h := range []string{"localhost", "LOCALHOST.", "api.localhost"} {
		if err := CheckHost(ctx, h); !errors.Is(err, ErrForbiddenHost) {
			t.Errorf("CheckHost(%s) = %v", h, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the loopback server was reached %d times", hits.Load())
	}
}

// TestEmbeddedIPv4 reads the IPv4 out of each IPv6 form that carries one.
func TestEmbeddedIPv4(t *testing.T) {
	for in, want := range map[string]string{
		"::ffff:10.0.0.1":                      "10.0.0.1",
		"::ffff:0:7f00:1":                      "127.0.0.1",
		"::a00:1":                              "10.0.0.1",
		"64:ff9b::a9fe:a9fe":                   "169.254.169.254",
		"64:ff9b:1::c0a8:101":                  "192.168.1.1",
		"2002:c0a8:101::1":                     "192.168.1.1",
		"2001:0:4136:e378:8000:63bf:80ff:fffe": "127.0.0.1",
	} {
		got, ok := EmbeddedIPv4(netip.MustParseAddr(in))
		if !ok || got.String() != want {
			t.Errorf("EmbeddedIPv4(%s) = %v %v, want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"::", "::1", "2606:4700::1111", "fe80::1"} {
		if got, ok := EmbeddedIPv4(netip.MustParseAddr(in)); ok {
			t.Errorf("EmbeddedIPv4(%s) = %v", in, got)
		}
	}
	if r := AddrRefusal(netip.MustParseAddr("2002:a9fe:a9fe::1")); !strings.Contains(r, "169.254.169.254") {
		t.Errorf("the reason does not name the IPv4 it leads to: %q", r)
	}
}
