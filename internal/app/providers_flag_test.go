package app_test

import (
	"testing"

	"github.com/posbridge/posbridge/internal/testdb"
)

// TestProvidersSandboxFlag: /api/v1/providers has one meaning of "sandbox": the provider can be
// tried here without a POS account. The Sandbox POS is a sandbox; so is every real provider whose
// sandbox store is served; "sandbox": true on the Sandbox POS changes nothing.
func TestProvidersSandboxFlag(t *testing.T) {
	t.Parallel()
	e := start(t, testdb.SQLite(t), nil)
	key := e.account("Shop", "a@shop.test").APIKey
	provs := e.must(200, e.call(key, "GET", "/api/v1/providers", nil)).json(t)["data"].([]any)
	if len(provs) < 5 {
		t.Fatalf("providers: %v", provs)
	}
	for _, p := range provs {
		m := p.(map[string]any)
		if m["type"] == "email" {
			continue // email integrations take sales files by SMTP: no POS API, so no sandbox of one
		}
		if m["sandbox"] != true || m["sandbox_store"] != m["sandbox"] {
			t.Errorf("%s: sandbox %v, sandbox_store %v; want both true", m["type"], m["sandbox"], m["sandbox_store"])
		}
	}
	in := e.must(201, e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "sandbox": true})).json(t)
	e.waitStatus(key, in["id"].(string), "healthy")
}
