package app_test

import (
	"testing"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestAPIKeys: create with a name and a role (the key shown once), list with last use, roles
// decide what a key may call, revoking holds at once also in a second process on the same
// database, and another account's key is 404.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, nil)
		a := e.account("Spokes", "owner@spokes.example")
		b := e.account("Stout", "owner@stout.example")

		r := e.must(201, e.call(a.APIKey, "POST", "/api/v1/api-keys", map[string]any{"name": "Web shop", "role": "manager"})).json(t)
		key, _ := r["key"].(string)
		if len(key) != 36 || r["role"] != "manager" || r["name"] != "Web shop" || r["last_used_at"] != nil || r["prefix"] != key[:12] {
			t.Fatalf("created key: %v", r)
		}
		id := r["id"].(string)

		list := e.must(200, e.call(a.APIKey, "GET", "/api/v1/api-keys", nil)).json(t)["data"].([]any)
		if len(list) != 2 {
			t.Fatalf("want the default key and the new one, got %v", list)
		}
		for _, k := range list {
			if _, has := k.(map[string]any)["key"]; has {
				t.Fatalf("a listed key shows the key itself: %v", k)
			}
		}

		// The manager's key works where a manager may act, and is refused the API keys.
		e.must(200, e.call(key, "GET", "/api/v1/integrations", nil))
		fr := e.must(403, e.call(key, "GET", "/api/v1/api-keys", nil))
		if fr.errCode(t) != "forbidden" || fr.errField(t) != "manage_api_keys" {
			t.Fatalf("403: %s", fr.Body)
		}
		fr = e.must(403, e.call(key, "POST", "/api/v1/webhook-endpoints", map[string]any{"url": "https://example.com/h"}))
		if fr.errField(t) != "manage_integrations" {
			t.Fatalf("403: %s", fr.Body)
		}
		for _, k := range e.must(200, e.call(a.APIKey, "GET", "/api/v1/api-keys", nil)).json(t)["data"].([]any) {
			if m := k.(map[string]any); m["id"] == id && m["last_used_at"] == nil {
				t.Fatalf("last_used_at not recorded: %v", m)
			}
		}

		// Bad input names the field.
		if f := e.must(422, e.call(a.APIKey, "POST", "/api/v1/api-keys", map[string]any{"name": "x", "role": "owner"})).errField(t); f != "role" {
			t.Fatalf("unknown role: field %q", f)
		}
		if f := e.must(422, e.call(a.APIKey, "POST", "/api/v1/api-keys", map[string]any{"role": "staff"})).errField(t); f != "name" {
			t.Fatalf("missing name: field %q", f)
		}

		// Tenant isolation: another account cannot see or revoke the key.
		e.must(404, e.call(b.APIKey, "DELETE", "/api/v1/api-keys/"+id, nil))
		for _, k := range e.must(200, e.call(b.APIKey, "GET", "/api/v1/api-keys", nil)).json(t)["data"].([]any) {
			if k.(map[string]any)["id"] == id {
				t.Fatal("another account lists the key")
			}
		}

		// A second process on the same database sees the key, and its revocation at once.
		e2 := start(t, db, func(c *app.Config) { c.NoWorkers = true })
		e2.must(200, e2.call(key, "GET", "/api/v1/integrations", nil))
		e.must(204, e.call(a.APIKey, "DELETE", "/api/v1/api-keys/"+id, nil))
		if c := e.must(401, e.call(key, "GET", "/api/v1/integrations", nil)).errCode(t); c != "unauthorized" {
			t.Fatalf("revoked key: %s", c)
		}
		e2.must(401, e2.call(key, "GET", "/api/v1/integrations", nil))
		e.must(404, e.call(a.APIKey, "DELETE", "/api/v1/api-keys/"+id, nil))
	})
}
