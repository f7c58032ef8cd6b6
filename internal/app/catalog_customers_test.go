package app_test

import (
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/testdb"
)

// TestCatalogCustomerWriteBack: PATCH /api/v1/customers/{id} writes the edit to the Sandbox POS,
// answers the customer as the POS has it, and shows in the change feed, the customer's history
// and the timeline; bad input is refused by field, a stale edit by 409, another account gets 404
// and a role without manage_catalog_sync 403.
func TestCatalogCustomerWriteBack(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		c := newCatalogEnv(t, db)
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.source}))
		c.must(202, c.call(c.key, "POST", "/api/v1/catalog-sync/import", nil))
		c.waitImport("done")
		cs := c.must(200, c.call(c.key, "GET", "/api/v1/customers", nil)).json(t)["data"].([]any)
		if len(cs) == 0 {
			t.Fatal("no customers imported")
		}
		cu := cs[0].(map[string]any)
		id, ext := cu["id"].(string), cu["external_id"].(string)
		feed := c.must(200, c.call(c.key, "GET", "/api/v1/changes?limit=500", nil)).json(t)
		cursor := feed["next_cursor"].(string)

		got := c.must(200, c.call(c.key, "PATCH", "/api/v1/customers/"+id, map[string]any{"last_name": "Jansen-de Vries", "phone": "+31 20 555 0101"})).json(t)
		if got["last_name"] != "Jansen-de Vries" || got["phone"] != "+31 20 555 0101" || got["first_name"] != cu["first_name"] || got["email"] != cu["email"] {
			t.Fatalf("answer: %v", got)
		}
		// The POS has it.
		pos := c.must(200, c.call(c.sbx, "GET", "/sandbox/api/v1/customers/"+ext, nil)).json(t)
		if pos["last_name"] != "Jansen-de Vries" || pos["phone"] != "+31 20 555 0101" || pos["first_name"] != cu["first_name"] {
			t.Fatalf("the POS's customer: %v", pos)
		}
		// The change feed, the customer's history and the timeline show it.
		chs := c.must(200, c.call(c.key, "GET", "/api/v1/changes?cursor="+cursor, nil)).json(t)["data"].([]any)
		if len(chs) != 1 || chs[0].(map[string]any)["record_id"] != id || chs[0].(map[string]any)["action"] != "updated" {
			t.Fatalf("changes after the edit: %v", chs)
		}
		h := c.must(200, c.call(c.key, "GET", "/api/v1/customers/"+id+"/history", nil)).json(t)["data"].([]any)
		if len(h) != 1 {
			t.Fatalf("history: %v", h)
		}
		e := h[0].(map[string]any)
		if e["trigger"] != "app edit" || e["actor"] != "api" || e["integration_id"] != c.source || len(e["changes"].([]any)) != 2 {
			t.Fatalf("history entry: %v", e)
		}
		if f := e["changes"].([]any)[0].(map[string]any); f["field"] != "last_name" || f["from"] != cu["last_name"] || f["to"] != "Jansen-de Vries" {
			t.Fatalf("history field: %v", f)
		}
		n := 0
		for _, k := range c.timelineKinds(c.key, c.source) {
			if k == "catalog_sync.customer_edited" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d catalog_sync.customer_edited entries", n)
		}
		// The same values again change nothing.
		c.must(200, c.call(c.key, "PATCH", "/api/v1/customers/"+id, map[string]any{"last_name": "Jansen-de Vries"}))
		if h := c.must(200, c.call(c.key, "GET", "/api/v1/customers/"+id+"/history", nil)).json(t)["data"].([]any); len(h) != 1 {
			t.Fatalf("an edit that changes nothing is in the history: %v", h)
		}

		// Bad input, by field; nothing reaches the POS.
		for _, bad := range []struct {
			body  any
			field string
		}{
			{map[string]any{"email": "not an address"}, "email"},
			{map[string]any{"first_name": strings.Repeat("x", 201)}, "first_name"},
			{map[string]any{"phone": "12\x0034"}, "phone"},
			{map[string]any{"last_name": 7}, "last_name"},
			{map[string]any{"colour": "red"}, "colour"},
		} {
			if r := c.call(c.key, "PATCH", "/api/v1/customers/"+id, bad.body); r.Status != 422 || r.errField(t) != bad.field {
				t.Errorf("%v: want 422 on %s, got %d %s", bad.body, bad.field, r.Status, r.Body)
			}
		}
		if r := c.call(c.key, "PATCH", "/api/v1/customers/"+id, map[string]any{}); r.Status != 422 {
			t.Errorf("an empty edit: %d %s", r.Status, r.Body)
		}
		if r := c.call(c.key, "PATCH", "/api/v1/customers/cus_nope", map[string]any{"phone": "1"}); r.Status != 404 {
			t.Errorf("an unknown customer: %d %s", r.Status, r.Body)
		}

		// Edited in the POS meanwhile (posbridge has not read it yet): 409, the POS's edit stays.
		pos["first_name"] = "Changed in the POS"
		delete(pos, "version")
		c.must(200, c.call(c.sbx, "PUT", "/sandbox/api/v1/customers/"+ext, pos))
		if r := c.call(c.key, "PATCH", "/api/v1/customers/"+id, map[string]any{"first_name": "From the app"}); r.Status != 409 {
			t.Fatalf("a stale edit: %d %s", r.Status, r.Body)
		}
		if p := c.must(200, c.call(c.sbx, "GET", "/sandbox/api/v1/customers/"+ext, nil)).json(t); p["first_name"] != "Changed in the POS" {
			t.Fatalf("a stale edit overwrote the POS: %v", p)
		}

		// Tenant isolation and permissions.
		other := c.account("Other shop", "owner@other.test")
		if r := c.call(other.APIKey, "PATCH", "/api/v1/customers/"+id, map[string]any{"phone": "1"}); r.Status != 404 {
			t.Fatalf("another account edits this customer: %d %s", r.Status, r.Body)
		}
		if r := c.call(other.APIKey, "GET", "/api/v1/customers/"+id+"/history", nil); r.Status != 404 {
			t.Fatalf("another account reads this customer's history: %d %s", r.Status, r.Body)
		}
		staff := c.must(201, c.call(c.key, "POST", "/api/v1/api-keys", map[string]any{"name": "s", "role": "staff"})).json(t)["key"].(string)
		if r := c.call(staff, "PATCH", "/api/v1/customers/"+id, map[string]any{"phone": "1"}); r.Status != 403 || r.errField(t) != "manage_catalog_sync" {
			t.Fatalf("staff edits a customer: %d %s", r.Status, r.Body)
		}
	})
}
