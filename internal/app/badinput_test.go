package app_test

import (
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/testdb"
)

// TestBadInput: every malformed request gets its 4xx with a clear code and changes nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := start(t, testdb.SQLite(t), nil)
	key := e.account("Shop", "a@shop.test").APIKey
	big := `{"type":"sandbox","nickname":"` + strings.Repeat("x", 2<<20) + `"}`
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code, field        string
	}{
		{"malformed JSON", "POST", "/api/v1/integrations", `{"type":`, 400, "bad_request", ""},
		{"not an object", "POST", "/api/v1/integrations", `[1,2]`, 400, "bad_request", ""},
		{"empty body", "POST", "/api/v1/integrations", ``, 400, "bad_request", ""},
		{"two objects", "POST", "/api/v1/integrations", `{"type":"sandbox"} {}`, 400, "bad_request", ""},
		{"unknown provider", "POST", "/api/v1/integrations", map[string]any{"type": "cashbox3000", "credentials": map[string]string{}}, 422, "invalid", "type"},
		{"missing type", "POST", "/api/v1/integrations", map[string]any{"credentials": map[string]string{}}, 422, "invalid", "type"},
		{"nickname not a string", "POST", "/api/v1/integrations", `{"type":"sandbox","nickname":5,"credentials":{"api_key":"sbx_a"}}`, 422, "invalid", "nickname"},
		{"credentials not an object", "POST", "/api/v1/integrations", `{"type":"sandbox","credentials":"sbx_a"}`, 422, "invalid", "credentials"},
		{"credential not a string", "POST", "/api/v1/integrations", `{"type":"sandbox","credentials":{"api_key":7}}`, 422, "invalid", "credentials.api_key"},
		{"duplicate key", "POST", "/api/v1/integrations", `{"type":"sandbox","type":"shopify"}`, 422, "invalid", "type"},
		{"duplicate credential", "POST", "/api/v1/integrations", `{"type":"sandbox","credentials":{"api_key":"a","api_key":"b"}}`, 422, "invalid", "credentials.api_key"},
		{"case-variant key", "POST", "/api/v1/integrations", `{"TYPE":"sandbox"}`, 422, "invalid", "TYPE"},
		{"null body", "POST", "/api/v1/integrations", `null`, 400, "bad_request", ""},
		{"null on a non-nullable field", "POST", "/api/v1/integrations", `{"type":"sandbox","sandbox":null}`, 422, "invalid", "sandbox"},
		{"null order-sync flag", "PUT", "/api/v1/order-sync", `{"auto_sync":null}`, 422, "invalid", "auto_sync"},
		{"null auto_sync of a document", "PATCH", "/api/v1/documents/invoice/INV-1/sync", `{"auto_sync":null}`, 422, "invalid", "auto_sync"},
		{"case-variant document status", "PUT", "/api/v1/documents/invoice/INV-1", `{"STATUS":"issued","lines":[]}`, 422, "invalid", "STATUS"},
		{"duplicate document status", "PUT", "/api/v1/documents/invoice/INV-1", `{"status":"draft","status":"paid","lines":[]}`, 422, "invalid", "status"},
		{"null document body", "PUT", "/api/v1/documents/invoice/INV-1", `null`, 400, "bad_request", ""},
		{"credential too long", "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": "sbx_" + strings.Repeat("a", 5000)}}, 422, "invalid", "credentials.api_key"},
		{"unknown credential", "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": "sbx_a", "pin": "1"}}, 422, "invalid", "credentials.pin"},
		{"unknown field", "POST", "/api/v1/integrations", `{"type":"sandbox","credentials":{"api_key":"sbx_a"},"colour":"red"}`, 422, "invalid", "colour"},
		{"bad on_conflict", "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": "sbx_a"}, "on_conflict": "merge"}, 422, "invalid", "on_conflict"},
		{"restore without id", "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "on_conflict": "restore"}, 422, "invalid", "restore_id"},
		{"2 MiB body", "POST", "/api/v1/integrations", big, 413, "too_large", ""},
		{"bad state filter", "GET", "/api/v1/integrations?state=sleeping", nil, 422, "invalid", "state"},
		{"bad limit", "GET", "/api/v1/timeline?limit=0", nil, 422, "invalid", "limit"},
		{"limit not a number", "GET", "/api/v1/timeline?limit=ten", nil, 422, "invalid", "limit"},
		{"bad before", "GET", "/api/v1/timeline?before=-4", nil, 422, "invalid", "before"},
		{"unknown integration", "GET", "/api/v1/integrations/int_nope", nil, 404, "not_found", ""},
		{"unknown route", "GET", "/api/v1/nothing-here", nil, 404, "not_found", ""},
		{"endpoint without url", "POST", "/api/v1/webhook-endpoints", map[string]any{}, 422, "invalid", "url"},
		{"endpoint bad url", "POST", "/api/v1/webhook-endpoints", map[string]any{"url": "ftp://x"}, 422, "invalid", "url"},
		{"endpoint unknown event", "POST", "/api/v1/webhook-endpoints", map[string]any{"url": "https://app.test/h", "events": []string{"pizza.ready"}}, 422, "invalid", "events"},
		{"events not an array", "POST", "/api/v1/webhook-endpoints", `{"url":"https://app.test/h","events":"all"}`, 422, "invalid", "events"},
		{"patch bad JSON", "PATCH", "/api/v1/integrations/int_nope", `{`, 400, "bad_request", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.call(key, c.method, c.path, c.body)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
			}
			if got := r.errCode(t); got != c.code {
				t.Fatalf("code %q, want %q: %s", got, c.code, r.Body)
			}
			if got := r.errField(t); got != c.field {
				t.Fatalf("field %q, want %q: %s", got, c.field, r.Body)
			}
			e, _ := r.json(t)["error"].(map[string]any)
			if msg, _ := e["message"].(string); len(msg) < 5 {
				t.Fatalf("no clear message: %s", r.Body)
			}
		})
	}
	// Nothing was created by any of it.
	list := e.must(200, e.call(key, "GET", "/api/v1/integrations", nil)).json(t)["data"].([]any)
	if len(list) != 0 {
		t.Fatalf("bad input created %d integrations", len(list))
	}
	eps := e.must(200, e.call(key, "GET", "/api/v1/webhook-endpoints", nil)).json(t)["data"].([]any)
	if len(eps) != 0 {
		t.Fatalf("bad input created %d endpoints", len(eps))
	}
	if docs := e.must(200, e.call(key, "GET", "/api/v1/documents/invoice", nil)).json(t)["data"].([]any); len(docs) != 0 {
		t.Fatalf("bad input created %d documents", len(docs))
	}
	if r := e.call("pbk_wrong", "GET", "/api/v1/integrations", nil); r.Status != 401 || r.errCode(t) != "unauthorized" {
		t.Fatalf("wrong key: %d %s", r.Status, r.Body)
	}
}
