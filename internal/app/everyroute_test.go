package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/api"
	"github.com/posbridge/posbridge/internal/testdb"
)

// route is one route of the whole HTTP surface.
type route struct{ method, pattern string }

// allRoutes walks the route tables: the API's (api.Routes and the OpenAPI document), and the
// route registrations of the console and the Sandbox POS, read from their source so a route added
// there is covered without touching this test.
func allRoutes(t *testing.T) []route {
	var out []route
	for _, r := range api.Routes {
		out = append(out, route{r.Method, r.Path})
	}
	out = append(out, route{"GET", "/api/v1/openapi.json"}, route{"GET", "/healthz"})
	seen := map[route]bool{}
	for _, r := range out {
		seen[r] = true
	}
	add := func(m, p string) {
		if r := (route{m, p}); !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	handle := regexp.MustCompile(`(?:HandleFunc|Handle|h)\("(GET|POST|PUT|PATCH|DELETE) (/[^" ]*)"`)
	sandboxAPI := regexp.MustCompile(`\bapi\("(GET|POST|PUT|PATCH|DELETE) ([^" ]+)"`)
	for _, dir := range []string{"../console", "../connector/sandbox"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		n := len(out)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") || strings.Contains(f, "sim") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range handle.FindAllStringSubmatch(string(src), -1) {
				if m[2] != "/static/" {
					add(m[1], m[2])
				}
			}
			for _, m := range sandboxAPI.FindAllStringSubmatch(string(src), -1) {
				add(m[1], "/sandbox/api/v1/"+m[2])
			}
		}
		if len(out) == n {
			t.Fatalf("no routes found in %s", dir)
		}
	}
	return out
}

// requestFields lists the request body's top-level properties of an API route, from the OpenAPI document.
func requestFields(t *testing.T, method, path string) []string {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage
		Components struct {
			Schemas map[string]struct{ Properties map[string]any }
		}
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	var op struct {
		RequestBody struct {
			Content map[string]struct {
				Schema struct {
					Ref string `json:"$ref"`
				}
			}
		}
	}
	json.Unmarshal(doc.Paths[path][strings.ToLower(method)], &op) //nolint:errcheck // absent: no body
	ref := op.RequestBody.Content["application/json"].Schema.Ref
	var out []string
	for p := range doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")].Properties {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// TestEveryRouteRefusesHostileInput hits every route with a NUL byte in each path id and query
// parameter, a 1 MiB string, a NUL in a string, duplicate keys, case-variant keys and a null
// body, on both databases: no answer is 5xx, and nothing of the account changed.
func TestEveryRouteRefusesHostileInput(t *testing.T) {
	t.Parallel()
	testdb.EachParallel(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, nil)
		acct := e.account("Shop", "a@shop.test")
		key := acct.APIKey
		sbxKey := e.mintOverHTTP(key)
		integ := e.must(201, e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": sbxKey}})).json(t)["id"].(string)
		e.waitStatus(key, integ, "healthy") // its check picks the default store: done before the snapshot
		e.must(201, e.call(key, "PUT", "/api/v1/documents/invoice/INV-1", map[string]any{"status": "issued",
			"lines": []any{map[string]any{"description": "Tea", "quantity": "2", "unit_price": map[string]any{"amount": 350, "currency": "EUR"}}}}))
		endpoint := "whe_none"
		if r := e.call(key, "POST", "/api/v1/webhook-endpoints", map[string]any{"url": "https://app.example/hook"}); r.Status == 201 {
			endpoint = r.json(t)["id"].(string)
		}
		before := snapshot(t, e, key, sbxKey)

		// A console session.
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		csrfOf := func(path string) string {
			res, err := browser.Get(e.url + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b)
			if m == nil {
				t.Fatalf("no csrf token on %s (%d)", path, res.StatusCode)
			}
			return string(m[1])
		}
		res, err := browser.PostForm(e.url+"/login", url.Values{"email": {acct.AdminEmail}, "password": {acct.AdminPassword}, "csrf": {csrfOf("/login")}})
		if err != nil || res.StatusCode != http.StatusSeeOther {
			t.Fatalf("console login: %v %v", err, res)
		}
		res.Body.Close()
		csrf := csrfOf("/integrations")

		big := strings.Repeat("x", 1<<20)
		nearBig := strings.Repeat("x", 1<<20-4096) // fits the body limit: the field's own limit must refuse it
		fill := func(pattern, id string) string {
			r := strings.NewReplacer("{kind}", "invoice", "{ref}", "INV-1", "{integration_id}", integ, "{$}", "")
			p := r.Replace(pattern)
			switch {
			case strings.HasPrefix(p, "/api/v1/webhook-endpoints/"):
				return strings.Replace(p, "{id}", endpoint, 1)
			case strings.HasPrefix(p, "/sandbox/"):
				return strings.Replace(p, "{id}", "ord_none", 1)
			}
			return strings.Replace(p, "{id}", id, 1)
		}
		withNUL := func(pattern string) []string {
			var out []string
			for _, param := range regexp.MustCompile(`\{[a-z_]+\}`).FindAllString(pattern, -1) {
				out = append(out, strings.Replace(fill(strings.Replace(pattern, param, "x%00y", 1), integ), "x%00y", "%00int", 1))
			}
			return out
		}
		var fails []string
		send := func(rt route, method, path, ctype string, body []byte, wantStatus int) {
			req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			client := http.DefaultClient
			switch {
			case strings.HasPrefix(path, "/api/"):
				req.Header.Set("Authorization", "Bearer "+key)
			case strings.HasPrefix(path, "/sandbox/"):
				req.Header.Set("Authorization", "Bearer "+sbxKey)
			case !strings.HasPrefix(path, "/hooks/"):
				client = browser
			}
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			short := path
			if len(short) > 80 {
				short = short[:80] + "..."
			}
			if res.StatusCode >= 500 || wantStatus != 0 && res.StatusCode != wantStatus {
				fails = append(fails, fmt.Sprintf("%s %s (route %s %s, %d-byte body): %d %.200s", method, short, rt.method, rt.pattern, len(body), res.StatusCode, b))
			}
		}
		routes := allRoutes(t)
		for _, rt := range routes {
			api := strings.HasPrefix(rt.pattern, "/api/") || strings.HasPrefix(rt.pattern, "/hooks/")
			// A NUL byte in each id of the path: 404 (the API says so in JSON).
			for _, p := range withNUL(rt.pattern) {
				send(rt, rt.method, p, "", nil, http.StatusNotFound)
			}
			// NUL bytes in query parameters: 422 from the API.
			want := 0
			if api {
				want = http.StatusUnprocessableEntity
			}
			send(rt, rt.method, fill(rt.pattern, integ)+"?limit=%00&state=%00&integration_id=int_%00&api_key=sbx_%00&tab=%00", "", nil, want)
			if rt.method == "GET" || rt.method == "DELETE" {
				continue
			}
			path := fill(rt.pattern, integ)
			switch {
			case strings.HasPrefix(rt.pattern, "/api/") || strings.HasPrefix(rt.pattern, "/sandbox/") || strings.HasPrefix(rt.pattern, "/hooks/"):
				fields := requestFields(t, rt.method, rt.pattern)
				if len(fields) == 0 {
					fields = []string{"name", "status", "api_key", "quantity"}
				}
				bodies := []string{`null`, `{"` + fields[0] + `":"a","` + fields[0] + `":"b"}`, `{"` + strings.ToUpper(fields[0]) + `":"a"}`,
					`{"` + fields[0] + `":"` + big + `"}`}
				for _, f := range fields {
					bodies = append(bodies, `{"`+f+`":"`+nearBig+`"}`, `{"`+f+`":"a\u0000b"}`, `{"`+f+`":null}`, `{"`+f+`":{"x":"`+nearBig+`"}}`)
				}
				if strings.HasPrefix(rt.pattern, "/api/v1/documents/") && rt.method == "PUT" {
					line := func(k, v string) string {
						l := map[string]any{"description": "x", "quantity": "1", "unit_price": map[string]any{"amount": 1, "currency": "EUR"}}
						l[k] = v
						b, _ := json.Marshal(map[string]any{"status": "paid", "lines": []any{l}})
						return string(b)
					}
					bodies = append(bodies, line("description", nearBig), line("description", "a\x00b"), line("product_ref", "a\u202eb"),
						`{"status":"paid","lines":[{"description":"x","quantity":"1","unit_price":{"amount":9223372036854775807,"currency":"EUR"}},{"description":"y","quantity":"1","unit_price":{"amount":9223372036854775807,"currency":"EUR"}}]}`,
						`{"status":"paid","customer":{"name":"`+nearBig+`"}}`, `{"status":"paid","customer":{"name":"a\u0000"}}`,
						`{"status":"paid","lines":[{"description":"x","quantity":"1","QUANTITY":"2","unit_price":{"amount":1,"currency":"EUR"}}]}`)
				}
				for _, b := range bodies {
					send(rt, rt.method, path, "application/json", []byte(b), 0)
				}
			default: // console forms
				for _, f := range []string{"nickname", "store_id", "email", "password", "auto_sync", "integration_id", "api_key", "void_existing", "on_cancel"} {
					for _, v := range []string{"a\x00b", big[:60<<10], "a\u202eb"} {
						send(rt, rt.method, path, "application/x-www-form-urlencoded", []byte(url.Values{"csrf": {csrf}, f: {v}}.Encode()), 0)
					}
				}
				send(rt, rt.method, path, "application/x-www-form-urlencoded", []byte(url.Values{"csrf": {csrf}, "nickname": {big}}.Encode()), 0)
			}
		}
		for _, f := range fails {
			t.Error(f)
		}
		after := snapshot(t, e, key, sbxKey)
		for k := range before {
			if !reflect.DeepEqual(before[k], after[k]) {
				t.Errorf("hostile input changed %s:\nbefore %.2000v\nafter  %.2000v", k, before[k], after[k])
			}
		}
		if strings.Contains(e.logs.String(), "panic") || strings.Contains(e.logs.String(), "22021") {
			t.Errorf("the log shows a panic or a PostgreSQL text refusal")
		}
		t.Logf("%d routes", len(routes))
	})
}

// snapshot is what hostile input must not change: the account's integrations, documents,
// webhook endpoints and order sync settings, and its Sandbox POS's orders, customers, products
// and webhook subscriptions.
func snapshot(t *testing.T, e *env, key, sbxKey string) map[string]any {
	out := map[string]any{}
	for _, c := range []string{"orders", "customers", "products", "webhooks", "stock"} {
		out["sandbox "+c] = string(e.must(200, e.call(sbxKey, "GET", "/sandbox/api/v1/"+c, nil)).Body)
	}
	var ints []any
	for _, i := range e.must(200, e.call(key, "GET", "/api/v1/integrations", nil)).json(t)["data"].([]any) {
		m := i.(map[string]any)
		ints = append(ints, []any{m["id"], m["nickname"], m["store_id"], m["type"]})
	}
	out["integrations"] = ints
	var docs []any
	for _, d := range e.must(200, e.call(key, "GET", "/api/v1/documents/invoice", nil)).json(t)["data"].([]any) {
		m := d.(map[string]any)
		docs = append(docs, []any{m["ref"], m["status"], m["lines"], m["customer"], m["version"]})
	}
	out["documents"] = docs
	out["endpoints"] = e.must(200, e.call(key, "GET", "/api/v1/webhook-endpoints", nil)).json(t)["data"]
	out["order_sync"] = e.must(200, e.call(key, "GET", "/api/v1/order-sync", nil)).json(t)
	return out
}
