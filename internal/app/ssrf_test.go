package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/connector/ssrftest"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestWebhookEndpointAddressForms: without --allow-private-provider-hosts, an outbound webhook
// endpoint on any non-public address form of the shared table is refused at creation with 422
// naming url, and nothing is stored; public addresses are accepted.
func TestWebhookEndpointAddressForms(t *testing.T) {
	t.Parallel()
	e := start(t, testdb.SQLite(t), func(c *app.Config) { c.AllowPrivate = false })
	key := e.account("Shop", "a@shop.test").APIKey
	forms := append([]ssrftest.Form{{Addr: "localhost", Why: "loopback name"}, {Addr: "app.localhost", Why: "loopback name"}}, ssrftest.NonPublic...)
	for _, f := range forms {
		r := e.call(key, "POST", "/api/v1/webhook-endpoints", map[string]any{"url": "http://" + f.URLHost() + ":8080/hook"})
		if r.Status != 422 || r.errCode(t) != "invalid" || r.errField(t) != "url" {
			t.Errorf("%s (%s): %d %s", f.Addr, f.Why, r.Status, r.Body)
		}
	}
	for _, f := range ssrftest.Public {
		e.must(201, e.call(key, "POST", "/api/v1/webhook-endpoints", map[string]any{"url": "https://" + f.URLHost() + "/hook"}))
	}
	eps := e.must(200, e.call(key, "GET", "/api/v1/webhook-endpoints", nil)).json(t)["data"].([]any)
	if len(eps) != len(ssrftest.Public) {
		t.Fatalf("%d endpoints stored, want the %d public ones", len(eps), len(ssrftest.Public))
	}
}

// TestProviderAddressForms: without --allow-private-provider-hosts, a provider pointed at a
// non-public address (IPv6 forms embedding IPv4 among them) is never called: the check the
// integration starts with fails with the refusal, naming why.
func TestProviderAddressForms(t *testing.T) {
	t.Parallel()
	e := start(t, testdb.SQLite(t), func(c *app.Config) { c.AllowPrivate = false })
	key := e.account("Shop", "a@shop.test").APIKey
	for i, addr := range []string{"::a00:1", "2002:7f00:1::", "64:ff9b::7f00:1", "2001:0:4136:e378:8000:63bf:80ff:fffe", "fec0::1", "::ffff:127.0.0.1", "169.254.169.254"} {
		f := ssrftest.Form{Addr: addr}
		in := e.must(201, e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "woocommerce", "nickname": "Shop " + string(rune('A'+i)),
			"credentials": map[string]string{"store_url": "http://" + f.URLHost() + ":8080", "consumer_key": "ck_x", "consumer_secret": "cs_x"}})).json(t)
		var got map[string]any
		waitFor(t, addr+" refused", func() bool {
			got = e.must(200, e.call(key, "GET", "/api/v1/integrations/"+in["id"].(string), nil)).json(t)
			return got["status"] != "initializing"
		})
		if got["status"] == "healthy" || !strings.Contains(got["status_reason"].(string), "not allowed") {
			t.Errorf("%s: %v %q", addr, got["status"], got["status_reason"])
		}
	}
}

// TestDeliveryToPrivateEndpointFailsOnce: an endpoint on a loopback address that is already
// stored (made before the check at creation, or by a server with --allow-private-provider-hosts)
// is never called by a server without the flag: its delivery fails at once, naming why, with
// no retries.
func TestDeliveryToPrivateEndpointFailsOnce(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer target.Close()
	e := start(t, testdb.SQLite(t), func(c *app.Config) { c.AllowPrivate = false })
	owner := e.account("Shop", "a@shop.test")
	ep := e.must(201, e.call(owner.APIKey, "POST", "/api/v1/webhook-endpoints", map[string]any{"url": "https://93.184.216.34/hook"})).json(t)
	// As if stored before the check: point it at the loopback server behind the store's back.
	if _, err := e.app.Store.SQLDB().Exec(`UPDATE webhook_endpoints SET url = ? WHERE id = ?`, target.URL+"/hook", ep["id"]); err != nil {
		t.Fatal(err)
	}
	in := e.must(201, e.call(owner.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox"})).json(t)
	e.waitStatus(owner.APIKey, in["id"].(string), "healthy") // integration.status_changed goes out
	var ds []store.Delivery
	waitFor(t, "the delivery to fail", func() bool {
		var err error
		ds, err = e.app.Store.ListDeliveries(context.Background(), owner.AccountID, 10)
		return err == nil && len(ds) > 0 && ds[0].Status == "failed"
	})
	if ds[0].Attempts != 1 || !strings.Contains(ds[0].LastError, "not allowed") {
		t.Fatalf("delivery %+v", ds[0])
	}
	if hits.Load() != 0 {
		t.Fatalf("the loopback endpoint was called %d times", hits.Load())
	}
}

// TestWebhookEndpointNeverDeliverable: an endpoint URL that could never be delivered to (a port
// no server listens on, a name reserved never to resolve, a one-label name) is refused at
// creation with 422 naming url, also with --allow-private-provider-hosts where the name can
// never resolve anywhere; nothing is stored.
func TestWebhookEndpointNeverDeliverable(t *testing.T) {
	t.Parallel()
	for _, open := range []bool{false, true} {
		e := start(t, testdb.SQLite(t), func(c *app.Config) { c.AllowPrivate = open })
		key := e.account("Shop", "a@shop.test").APIKey
		refused := []string{"https://app.invalid/hook", "https://93.184.216.34:0/hook", "https://93.184.216.34:70000/hook", "https://93.184.216.34:/hook"}
		if !open {
			refused = append(refused, "https://app.test/hook", "https://shop.example/hook", "https://printer.local/hook",
				"https://app.internal/hook", "http://myapp/hook", "https://router.home.arpa/hook")
		}
		for _, u := range refused {
			r := e.call(key, "POST", "/api/v1/webhook-endpoints", map[string]any{"url": u})
			if r.Status != 422 || r.errCode(t) != "invalid" || r.errField(t) != "url" || !strings.Contains(string(r.Body), "never be delivered") {
				t.Errorf("open=%v %s: %d %s", open, u, r.Status, r.Body)
			}
		}
		if eps := e.must(200, e.call(key, "GET", "/api/v1/webhook-endpoints", nil)).json(t)["data"].([]any); len(eps) != 0 {
			t.Errorf("open=%v: %d endpoints stored", open, len(eps))
		}
		e.must(201, e.call(key, "POST", "/api/v1/webhook-endpoints", map[string]any{"url": "https://93.184.216.34:8443/hook"}))
		if open {
			e.must(201, e.call(key, "POST", "/api/v1/webhook-endpoints", map[string]any{"url": "http://myapp:8080/hook"}))
		}
	}
}
