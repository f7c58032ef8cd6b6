package app_test

import (
	"github.com/posbridge/posbridge/internal/app"
	"testing"

	"github.com/posbridge/posbridge/internal/testdb"
)

// TestSandboxStores: every real provider can be tried without an account, against the simulator
// posbridge serves under /sandbox/<type>/, through the same connector as a real store.
func TestSandboxStores(t *testing.T) {
	t.Parallel()
	e := start(t, testdb.SQLite(t), func(c *app.Config) { c.AllowPrivate = false }) // the guard stays on: sandboxes do not need it off
	key := e.account("Shop", "a@shop.test").APIKey
	provs := e.must(200, e.call(key, "GET", "/api/v1/providers", nil)).json(t)["data"].([]any)
	with := map[string]bool{}
	for _, p := range provs {
		m := p.(map[string]any)
		if m["sandbox_store"] == true {
			with[m["type"].(string)] = true
		}
	}
	for _, typ := range []string{"woocommerce", "square", "shopify", "lightspeed"} {
		if !with[typ] {
			t.Fatalf("%s offers no sandbox store: %v", typ, provs)
		}
		in := e.must(201, e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": typ, "sandbox": true})).json(t)
		got := e.waitStatus(key, in["id"].(string), "healthy")
		stores := e.must(200, e.call(key, "GET", "/api/v1/integrations/"+in["id"].(string)+"/stores", nil)).json(t)["data"].([]any)
		if len(stores) == 0 || got["store_id"] == "" {
			t.Fatalf("%s sandbox: no stores (%v)", typ, got)
		}
	}
	r := e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "woocommerce", "sandbox": true, "nickname": "Two",
		"credentials": map[string]string{"consumer_key": "ck_x"}})
	if r.Status != 422 || r.errField(t) != "credentials" {
		t.Fatalf("sandbox with credentials: %d %s", r.Status, r.Body)
	}
}
