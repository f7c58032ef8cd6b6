package app_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/testdb"
)

// catalogEnv is an account with a healthy Sandbox POS (the source) and a WooCommerce sandbox
// store (a destination).
type catalogEnv struct {
	*env
	key, sbx, source, shop string
}

func newCatalogEnv(t *testing.T, db testdb.Target) *catalogEnv {
	e := start(t, db, nil)
	owner := e.account("Spoke & Chain", "owner@spoke.test")
	sbx := e.sandboxKey(owner.AccountID)
	src := e.must(201, e.call(owner.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": sbx}})).json(t)["id"].(string)
	shop := e.must(201, e.call(owner.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "woocommerce", "sandbox": true})).json(t)["id"].(string)
	e.waitStatus(owner.APIKey, src, "healthy")
	e.waitStatus(owner.APIKey, shop, "healthy")
	return &catalogEnv{env: e, key: owner.APIKey, sbx: sbx, source: src, shop: shop}
}

func TestCatalogSyncSettings(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		c := newCatalogEnv(t, db)
		got := c.must(200, c.call(c.key, "GET", "/api/v1/catalog-sync", nil)).json(t)
		if got["source_integration_id"] != "" || got["enabled"] != false || len(got["destinations"].([]any)) != 0 {
			t.Fatalf("defaults: %v", got)
		}
		// Turning it on needs a source.
		r := c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"enabled": true})
		if r.Status != 422 || r.errField(t) != "source_integration_id" {
			t.Fatalf("enabled without a source: %d %s", r.Status, r.Body)
		}
		got = c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.source, "enabled": true,
			"destinations": []any{map[string]any{"integration_id": c.shop}}})).json(t)
		d := got["destinations"].([]any)[0].(map[string]any)
		if d["integration_id"] != c.shop || d["empty_overwrites"] != true || !slices.Equal(anyStrings(d["owned_fields"]), []string{"weight", "categories"}) {
			t.Fatalf("destination defaults: %v", d)
		}
		// A partial update keeps the rest; a destination's fields left out keep theirs.
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"destinations": []any{map[string]any{"integration_id": c.shop, "empty_overwrites": false}}}))
		got = c.must(200, c.call(c.key, "GET", "/api/v1/catalog-sync", nil)).json(t)
		d = got["destinations"].([]any)[0].(map[string]any)
		if got["source_integration_id"] != c.source || got["enabled"] != true || d["empty_overwrites"] != false || len(anyStrings(d["owned_fields"])) != 2 {
			t.Fatalf("after a partial update: %v", got)
		}
		for _, bad := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"destinations": []any{map[string]any{"integration_id": c.source}}}, "destinations[0].integration_id"},
			{map[string]any{"destinations": []any{map[string]any{"integration_id": c.shop}, map[string]any{"integration_id": c.shop}}}, "destinations[1].integration_id"},
			{map[string]any{"destinations": []any{map[string]any{"integration_id": c.shop, "owned_fields": []string{"colour"}}}}, "destinations[0].owned_fields[0]"},
			{map[string]any{"destinations": []any{map[string]any{"integration_id": c.shop, "owned_fields": []string{"weight", "weight"}}}}, "destinations[0].owned_fields[1]"},
			{map[string]any{"destinations": []any{map[string]any{"owned_fields": []string{}}}}, "destinations[0].integration_id"},
			{map[string]any{"source_integration_id": "int_nope"}, "source_integration_id"},
			{map[string]any{"enabled": "yes"}, "enabled"},
			{map[string]any{"colour": "red"}, "colour"},
		} {
			r := c.call(c.key, "PUT", "/api/v1/catalog-sync", bad.body)
			if r.Status != 422 || r.errField(t) != bad.field {
				t.Errorf("%v: want 422 on %s, got %d %s", bad.body, bad.field, r.Status, r.Body)
			}
		}
		// Every change is a timeline entry; the same settings again are none.
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"enabled": true}))
		n := 0
		for _, k := range c.timelineKinds(c.key, c.source) {
			if k == "catalog_sync.settings_changed" {
				n++
			}
		}
		if n != 2 {
			t.Errorf("want 2 catalog_sync.settings_changed entries, got %d", n)
		}
		tl := fmt.Sprint(c.must(200, c.call(c.key, "GET", "/api/v1/timeline?integration_id="+c.source, nil)).json(t))
		if !strings.Contains(tl, "empty values overwrite true -> false") {
			t.Errorf("the timeline does not say what changed: %s", tl)
		}

		// Tenant isolation: another account neither sees these settings nor can name these integrations.
		other := c.account("Other shop", "owner@other.test")
		got = c.must(200, c.call(other.APIKey, "GET", "/api/v1/catalog-sync", nil)).json(t)
		if got["source_integration_id"] != "" {
			t.Fatalf("another account sees the settings: %v", got)
		}
		r = c.call(other.APIKey, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.source})
		if r.Status != 422 || r.errField(t) != "source_integration_id" {
			t.Fatalf("another account's integration as source: %d %s", r.Status, r.Body)
		}
		r = c.call(other.APIKey, "PUT", "/api/v1/catalog-sync", map[string]any{"destinations": []any{map[string]any{"integration_id": c.shop}}})
		if r.Status != 422 || r.errField(t) != "destinations[0].integration_id" {
			t.Fatalf("another account's integration as destination: %d %s", r.Status, r.Body)
		}
	})
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
