package app_test

import (
	"testing"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/connector/ssrftest"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestWebhookEndpointAddressForms: without --allow-private-provider-hosts, an outbound webhook
// endpoint on any non-public address form of the shared table is refused at creation with 422
// naming url, and nothing is stored; public addresses are accepted.
func TestWebhookEndpointAddressForms(t *testing.T) {
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
