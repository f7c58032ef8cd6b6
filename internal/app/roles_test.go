package app_test

import (
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/api"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestPresetRolesEveryRoute: a key of each preset role against every API route. A route the
// role lacks the permission for answers 403 forbidden naming it; every other route gets past
// the check (whatever it then answers for the dummy ids and body, never 401 or 403).
func TestPresetRolesEveryRoute(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, nil)
		a := e.account("Spokes", "owner@spokes.example")
		fill := strings.NewReplacer("{id}", "nope", "{kind}", "invoice", "{ref}", "R-1", "{integration_id}", "nope")
		for _, role := range domain.PresetRoles {
			key := e.must(201, e.call(a.APIKey, "POST", "/api/v1/api-keys", map[string]any{"name": role.Name, "role": role.ID})).json(t)["key"].(string)
			allowed, refused := 0, 0
			for _, rt := range api.Routes {
				if rt.Auth != api.AuthAPIKey {
					continue
				}
				var body any
				if rt.Method != "GET" && rt.Method != "DELETE" {
					body = "{}"
				}
				path := fill.Replace(rt.Path)
				if strings.Contains(path, "back-office") || strings.HasSuffix(path, "/config") {
					path += "?store_id=nope"
				}
				r := e.call(key, rt.Method, path, body)
				perm := api.RoutePermission(rt.Method, rt.Path)
				if perm != "" && !role.Has(perm) {
					refused++
					if r.Status != 403 || r.errCode(t) != "forbidden" || r.errField(t) != string(perm) {
						t.Errorf("%s %s as %s: want 403 naming %s, got %d %s", rt.Method, rt.Path, role.Name, perm, r.Status, r.Body)
					}
					continue
				}
				allowed++
				if r.Status == 401 || r.Status == 403 {
					t.Errorf("%s %s as %s (needs %q): got %d %s", rt.Method, rt.Path, role.Name, perm, r.Status, r.Body)
				}
			}
			t.Logf("%s: %d routes allowed, %d refused", role.Name, allowed, refused)
			if role.ID == domain.RoleStoreAdmin && refused != 0 || role.ID != domain.RoleStoreAdmin && refused == 0 {
				t.Errorf("%s: %d routes refused", role.Name, refused)
			}
		}
	})
}

// TestCustomRoles: create, read, change and delete a custom role; a key with it has exactly its
// permissions; presets cannot change; a role in use cannot go; no one grants what they lack;
// another account's role is 404.
func TestCustomRoles(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, nil)
		a := e.account("Spokes", "owner@spokes.example")
		b := e.account("Stout", "owner@stout.example")

		perms := e.must(200, e.call(a.APIKey, "GET", "/api/v1/permissions", nil)).json(t)["data"].([]any)
		if len(perms) != len(domain.Permissions) {
			t.Fatalf("permissions: %v", perms)
		}
		ro := e.must(201, e.call(a.APIKey, "POST", "/api/v1/roles", map[string]any{"name": "Bar manager",
			"permissions": []string{"publish", "edit_back_office", "publish"}, "store_ids": []string{"store_1"}})).json(t)
		id := ro["id"].(string)
		if ro["preset"] != false || len(ro["permissions"].([]any)) != 2 || ro["permissions"].([]any)[0] != "edit_back_office" || len(ro["store_ids"].([]any)) != 1 {
			t.Fatalf("created role: %v", ro)
		}
		e.must(409, e.call(a.APIKey, "POST", "/api/v1/roles", map[string]any{"name": "bar MANAGER"}))
		e.must(409, e.call(a.APIKey, "POST", "/api/v1/roles", map[string]any{"name": "Store Admin"}))
		if f := e.must(422, e.call(a.APIKey, "POST", "/api/v1/roles", map[string]any{"name": "X", "permissions": []string{"publish", "fly"}})).errField(t); f != "permissions[1]" {
			t.Fatalf("unknown permission: field %q", f)
		}
		if f := e.must(422, e.call(a.APIKey, "POST", "/api/v1/roles", map[string]any{"permissions": []string{}})).errField(t); f != "name" {
			t.Fatalf("no name: field %q", f)
		}
		list := e.must(200, e.call(a.APIKey, "GET", "/api/v1/roles", nil)).json(t)["data"].([]any)
		if len(list) != 4 || list[0].(map[string]any)["name"] != "Store Admin" {
			t.Fatalf("roles: %v", list)
		}

		key := e.must(201, e.call(a.APIKey, "POST", "/api/v1/api-keys", map[string]any{"name": "Bar", "role": id})).json(t)["key"].(string)
		if f := e.must(403, e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox"})).errField(t); f != "manage_integrations" {
			t.Fatalf("403 field %q", f)
		}
		e.must(403, e.call(key, "GET", "/api/v1/roles", nil))

		// Change it: the key has the new permissions at its next request.
		e.must(200, e.call(a.APIKey, "PATCH", "/api/v1/roles/"+id, map[string]any{"permissions": []string{"manage_users"}}))
		e.must(200, e.call(key, "GET", "/api/v1/roles", nil))
		// A role cannot grant what its holder lacks.
		r := e.must(403, e.call(key, "POST", "/api/v1/roles", map[string]any{"name": "Sneaky", "permissions": []string{"manage_api_keys"}}))
		if r.errField(t) != "manage_api_keys" {
			t.Fatalf("escalation: %s", r.Body)
		}
		e.must(403, e.call(key, "PATCH", "/api/v1/roles/"+id, map[string]any{"permissions": []string{"manage_users", "publish"}}))

		e.must(409, e.call(a.APIKey, "PATCH", "/api/v1/roles/admin", map[string]any{"name": "Boss"}))
		e.must(409, e.call(a.APIKey, "DELETE", "/api/v1/roles/staff", nil))
		e.must(409, e.call(a.APIKey, "DELETE", "/api/v1/roles/"+id, nil)) // the key has it

		// Another account: 404 everywhere, and it cannot give its keys the role.
		e.must(404, e.call(b.APIKey, "GET", "/api/v1/roles/"+id, nil))
		e.must(404, e.call(b.APIKey, "PATCH", "/api/v1/roles/"+id, map[string]any{"name": "Mine"}))
		e.must(404, e.call(b.APIKey, "DELETE", "/api/v1/roles/"+id, nil))
		if f := e.must(422, e.call(b.APIKey, "POST", "/api/v1/api-keys", map[string]any{"name": "x", "role": id})).errField(t); f != "role" {
			t.Fatalf("another account's role: field %q", f)
		}

		kid := ""
		for _, k := range e.must(200, e.call(a.APIKey, "GET", "/api/v1/api-keys", nil)).json(t)["data"].([]any) {
			if k.(map[string]any)["role"] == id {
				kid = k.(map[string]any)["id"].(string)
			}
		}
		e.must(204, e.call(a.APIKey, "DELETE", "/api/v1/api-keys/"+kid, nil))
		e.must(204, e.call(a.APIKey, "DELETE", "/api/v1/roles/"+id, nil))
		e.must(404, e.call(a.APIKey, "GET", "/api/v1/roles/"+id, nil))
	})
}
