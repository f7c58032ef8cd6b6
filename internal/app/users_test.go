package app_test

import (
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/testdb"
)

// TestUsersAPI: invite (without SMTP the answer carries the one-time link), list, change the
// role, deactivate; bad input names the field; another account's user is 404.
func TestUsersAPI(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, nil)
		a := e.account("Spokes", "owner@spokes.example")
		b := e.account("Stout", "owner@stout.example")
		u := e.must(201, e.call(a.APIKey, "POST", "/api/v1/users", map[string]any{"email": "Sam@Example.com", "name": "Sam", "role": "staff"})).json(t)
		link, _ := u["invite_url"].(string)
		if u["status"] != "invited" || u["email"] != "sam@example.com" || u["emailed"] != false || !strings.Contains(link, "/invite/") {
			t.Fatalf("invited: %v", u)
		}
		id := u["id"].(string)
		e.must(409, e.call(a.APIKey, "POST", "/api/v1/users", map[string]any{"email": "sam@example.com", "role": "staff"}))
		if f := e.must(422, e.call(a.APIKey, "POST", "/api/v1/users", map[string]any{"email": "not an email", "role": "staff"})).errField(t); f != "email" {
			t.Fatalf("bad email: field %q", f)
		}
		if f := e.must(422, e.call(a.APIKey, "POST", "/api/v1/users", map[string]any{"email": "x@example.com", "role": "boss"})).errField(t); f != "role" {
			t.Fatalf("bad role: field %q", f)
		}
		list := e.must(200, e.call(a.APIKey, "GET", "/api/v1/users", nil)).json(t)["data"].([]any)
		if len(list) != 2 {
			t.Fatalf("users: %v", list)
		}
		if r := e.must(200, e.call(a.APIKey, "PATCH", "/api/v1/users/"+id, map[string]any{"role": "manager"})).json(t); r["role"] != "manager" {
			t.Fatalf("patched: %v", r)
		}
		e.must(404, e.call(b.APIKey, "PATCH", "/api/v1/users/"+id, map[string]any{"role": "staff"}))
		e.must(404, e.call(b.APIKey, "DELETE", "/api/v1/users/"+id, nil))
		e.must(204, e.call(a.APIKey, "DELETE", "/api/v1/users/"+id, nil))
		if r := e.must(200, e.call(a.APIKey, "PATCH", "/api/v1/users/"+id, map[string]any{"active": true})).json(t); r["status"] != "invited" {
			t.Fatalf("reactivated: %v", r)
		}
		staff := e.must(201, e.call(a.APIKey, "POST", "/api/v1/api-keys", map[string]any{"name": "s", "role": "staff"})).json(t)["key"].(string)
		if f := e.must(403, e.call(staff, "GET", "/api/v1/users", nil)).errField(t); f != "manage_users" {
			t.Fatalf("staff: field %q", f)
		}
	})
}
