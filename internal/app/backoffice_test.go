package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/backoffice"
	"github.com/posbridge/posbridge/internal/testdb"
)

func (e *env) terminal(token, method, path string, body string) resp {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Body: b}
}

func draftWith(price int64) map[string]any {
	return map[string]any{"content": map[string]any{"currency": "EUR",
		"products":   []any{map[string]any{"id": "p1", "name": "Espresso", "sku": "ESP", "price": price, "category_id": "c1", "tax_rate_id": "t1"}},
		"categories": []any{map[string]any{"id": "c1", "name": "Coffee"}},
		"tax_rates":  []any{map[string]any{"id": "t1", "name": "Low", "rate_bp": 900}},
		"discounts":  []any{},
		"settings":   map[string]any{"receipt_header": "Spokes & Stout", "receipt_footer": "Thank you!", "opening_float": 10000, "require_float_count": true}}}
}

func priceOf(t *testing.T, r resp) float64 {
	t.Helper()
	var c struct {
		Content struct {
			Products []struct{ Price float64 }
		}
	}
	if err := json.Unmarshal(r.Body, &c); err != nil || len(c.Content.Products) == 0 {
		t.Fatalf("no products in %s", r.Body)
	}
	return c.Content.Products[0].Price
}

// TestBackOfficePublish: save a draft, Save and Publish, pair a terminal; Sync answers the newest
// version at once with "Synced successfully"; the long-poll answers a version when its period
// ends; two publishes within the period deliver only the last; a terminal offline for two
// publishes gets the newest; roles, store limits, revocation and tenant isolation hold.
func TestBackOfficePublish(t *testing.T) {
	t.Parallel()
	testdb.EachParallel(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, func(c *app.Config) { c.PublishDelay = 700 * time.Millisecond })
		a := e.account("Spokes", "owner@spokes.example")
		b := e.account("Stout", "owner@stout.example")
		key := a.APIKey

		d := e.must(200, e.call(key, "GET", "/api/v1/back-office/draft?store_id=store_1", nil)).json(t)
		if d["saved"] != false || d["published_version"].(float64) != 0 {
			t.Fatalf("fresh draft: %v", d)
		}
		e.must(409, e.call(key, "POST", "/api/v1/back-office/publish", map[string]any{"store_id": "store_1"}))
		bad := draftWith(250)
		bad["content"].(map[string]any)["products"].([]any)[0].(map[string]any)["category_id"] = "nope"
		if f := e.must(422, e.call(key, "PUT", "/api/v1/back-office/draft?store_id=store_1", bad)).errField(t); f != "products[0].category_id" {
			t.Fatalf("bad draft: field %q", f)
		}
		e.must(200, e.call(key, "PUT", "/api/v1/back-office/draft?store_id=store_1", draftWith(250)))

		// Staff may read but not publish; a role limited to another store may not publish here.
		staff := e.must(201, e.call(key, "POST", "/api/v1/api-keys", map[string]any{"name": "s", "role": "staff"})).json(t)["key"].(string)
		e.must(200, e.call(staff, "GET", "/api/v1/back-office/draft?store_id=store_1", nil))
		if f := e.must(403, e.call(staff, "POST", "/api/v1/back-office/publish", map[string]any{"store_id": "store_1"})).errField(t); f != "publish" {
			t.Fatalf("staff publish: field %q", f)
		}
		rid := e.must(201, e.call(key, "POST", "/api/v1/roles", map[string]any{"name": "Other store", "permissions": []string{"edit_back_office", "publish"}, "store_ids": []string{"store_2"}})).json(t)["id"].(string)
		other := e.must(201, e.call(key, "POST", "/api/v1/api-keys", map[string]any{"name": "o", "role": rid})).json(t)["key"].(string)
		e.must(403, e.call(other, "POST", "/api/v1/back-office/publish", map[string]any{"store_id": "store_1"}))

		pub := e.must(201, e.call(key, "POST", "/api/v1/back-office/publish", map[string]any{"store_id": "store_1"})).json(t)
		if pub["version"].(float64) != 1 || pub["delivers_at"] == nil {
			t.Fatalf("publish: %v", pub)
		}

		code := e.must(201, e.call(key, "POST", "/api/v1/terminals/pairing-codes", map[string]any{"store_id": "store_1"})).json(t)["code"].(string)
		pr := e.terminal("", "POST", "/terminal/v1/pair", `{"code":"`+code+`","name":"Till 1"}`)
		if pr.Status != 201 {
			t.Fatalf("pair: %d %s", pr.Status, pr.Body)
		}
		tok := pr.json(t)["token"].(string)
		if r := e.terminal("", "POST", "/terminal/v1/pair", `{"code":"`+code+`"}`); r.Status != 422 {
			t.Fatalf("a used pairing code: %d", r.Status)
		}

		// Sync at once: the newest published version, before its period ends.
		sr := e.terminal(tok, "POST", "/terminal/v1/sync", "")
		if sr.Status != 200 || sr.json(t)["message"] != "Synced successfully" || sr.json(t)["version"].(float64) != 1 || priceOf(t, sr) != 250 {
			t.Fatalf("sync: %d %s", sr.Status, sr.Body)
		}
		// The long-poll answers when the period has ended.
		start := time.Now()
		cr := e.terminal(tok, "GET", "/terminal/v1/config?since_version=0", "")
		if cr.Status != 200 || cr.json(t)["version"].(float64) != 1 {
			t.Fatalf("config: %d %s", cr.Status, cr.Body)
		}
		// It answered because the period ended, not because it gave up waiting at its own limit
		// (backoffice.MaxWait): a long-poll that gives up answers changed false. The server says
		// which, not the time the answer took (seconds on a busy machine).
		if el := time.Since(start); cr.json(t)["changed"] != true {
			t.Fatalf("the long-poll answered %s after %s (its limit is %s)", cr.Body, el, backoffice.MaxWait)
		}

		// Two publishes within the period: only the last is delivered; an offline terminal gets it.
		// The period is the account's own here, long enough that the second publish comes within
		// it however slow the machine (the server's 700 ms above is a guess on a busy one), and
		// short enough that the long-poll below answers before backoffice.MaxWait.
		e.must(200, e.call(key, "PUT", "/api/v1/back-office/settings", map[string]any{"publish_delay_seconds": 20}))
		e.must(200, e.call(key, "PUT", "/api/v1/back-office/draft?store_id=store_1", draftWith(300)))
		e.must(201, e.call(key, "POST", "/api/v1/back-office/publish", map[string]any{"store_id": "store_1"}))
		e.must(200, e.call(key, "PUT", "/api/v1/back-office/draft?store_id=store_1", draftWith(400)))
		e.must(201, e.call(key, "POST", "/api/v1/back-office/publish", map[string]any{"store_id": "store_1"}))
		cr = e.terminal(tok, "GET", "/terminal/v1/config?since_version=1", "")
		if cr.json(t)["version"].(float64) != 3 || priceOf(t, cr) != 400 {
			t.Fatalf("after two publishes: %s", cr.Body)
		}
		vs := e.must(200, e.call(key, "GET", "/api/v1/back-office/versions?store_id=store_1", nil)).json(t)["data"].([]any)
		if len(vs) != 3 || vs[1].(map[string]any)["delivered_at"] != nil || vs[0].(map[string]any)["delivered_at"] == nil {
			t.Fatalf("versions: %v", vs)
		}
		if diff := vs[0].(map[string]any)["diff"].([]any); len(diff) == 0 || !strings.Contains(diff[0].(string), "300 -> 400") {
			t.Fatalf("diff: %v", diff)
		}
		// A wait with nothing new answers changed false.
		if r := e.terminal(tok, "GET", "/terminal/v1/config?since_version=3&wait=1", ""); r.json(t)["changed"] != false {
			t.Fatalf("idle poll: %s", r.Body)
		}

		ts := e.must(200, e.call(key, "GET", "/api/v1/terminals", nil)).json(t)["data"].([]any)
		if len(ts) != 1 || ts[0].(map[string]any)["last_synced_version"].(float64) != 3 {
			t.Fatalf("terminals: %v", ts)
		}
		tid := ts[0].(map[string]any)["id"].(string)
		if got := e.must(200, e.call(b.APIKey, "GET", "/api/v1/terminals", nil)).json(t)["data"].([]any); len(got) != 0 {
			t.Fatalf("another account lists the terminal: %v", got)
		}
		e.must(404, e.call(b.APIKey, "DELETE", "/api/v1/terminals/"+tid, nil))
		if d := e.must(200, e.call(b.APIKey, "GET", "/api/v1/back-office/draft?store_id=store_1", nil)).json(t); d["saved"] != false {
			t.Fatalf("another account sees the draft: %v", d)
		}
		e.must(204, e.call(key, "DELETE", "/api/v1/terminals/"+tid, nil))
		if r := e.terminal(tok, "POST", "/terminal/v1/sync", ""); r.Status != 401 {
			t.Fatalf("a revoked terminal syncs: %d", r.Status)
		}
	})
}

// TestBackOfficePublishDelay: the account's publish delay defaults to the server's, can be set
// by a role with edit_back_office (0 to 3600 s), applies to the next publish and is the
// account's own.
func TestBackOfficePublishDelay(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, nil)
		a := e.account("Spokes", "owner@spokes.example")
		b := e.account("Stout", "owner@stout.example")
		key := a.APIKey

		st := e.must(200, e.call(key, "GET", "/api/v1/back-office/settings", nil)).json(t)
		if st["publish_delay_seconds"].(float64) != 30 || st["default"] != true {
			t.Fatalf("default settings: %v", st)
		}
		for _, bad := range []any{-1, 3601, "5", nil} {
			if f := e.must(422, e.call(key, "PUT", "/api/v1/back-office/settings", map[string]any{"publish_delay_seconds": bad})).errField(t); f != "publish_delay_seconds" {
				t.Fatalf("publish_delay_seconds %v: field %q", bad, f)
			}
		}
		staff := e.must(201, e.call(key, "POST", "/api/v1/api-keys", map[string]any{"name": "s", "role": "staff"})).json(t)["key"].(string)
		if f := e.must(403, e.call(staff, "PUT", "/api/v1/back-office/settings", map[string]any{"publish_delay_seconds": 5})).errField(t); f != "edit_back_office" {
			t.Fatalf("staff sets the delay: field %q", f)
		}
		st = e.must(200, e.call(key, "PUT", "/api/v1/back-office/settings", map[string]any{"publish_delay_seconds": 5})).json(t)
		if st["publish_delay_seconds"].(float64) != 5 || st["default"] != false || st["updated_by"] == "" {
			t.Fatalf("saved settings: %v", st)
		}
		if o := e.must(200, e.call(b.APIKey, "GET", "/api/v1/back-office/settings", nil)).json(t); o["publish_delay_seconds"].(float64) != 30 {
			t.Fatalf("another account's delay changed: %v", o)
		}

		e.must(200, e.call(key, "PUT", "/api/v1/back-office/draft?store_id=store_1", draftWith(250)))
		e.must(201, e.call(key, "POST", "/api/v1/back-office/publish", map[string]any{"store_id": "store_1"}))
		v := e.must(200, e.call(key, "GET", "/api/v1/back-office/versions?store_id=store_1", nil)).json(t)["data"].([]any)[0].(map[string]any)
		pub, _ := time.Parse(time.RFC3339Nano, v["published_at"].(string))
		del, _ := time.Parse(time.RFC3339Nano, v["delivers_at"].(string))
		if del.Sub(pub) != 5*time.Second {
			t.Fatalf("delivers %s after publishing, want 5s: %v", del.Sub(pub), v)
		}
	})
}
