package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/testdb"
)

// timelineOf is the account's timeline entries of a kind for an integration, newest first.
func (e *env) timelineOf(key, integrationID, kind string) []string {
	e.t.Helper()
	r := e.must(200, e.call(key, "GET", "/api/v1/timeline?limit=500&integration_id="+integrationID, nil)).json(e.t)
	var out []string
	for _, x := range r["data"].([]any) {
		if m := x.(map[string]any); m["kind"] == kind {
			out = append(out, m["message"].(string))
		}
	}
	return out
}

// posDeliveries are the POS deliveries of a version, from GET /api/v1/back-office/versions/{version}.
func (e *env) posDeliveries(key, storeID string, version int) []map[string]any {
	e.t.Helper()
	v := e.must(200, e.call(key, "GET", fmt.Sprintf("/api/v1/back-office/versions/%d?store_id=%s", version, storeID), nil)).json(e.t)
	var out []map[string]any
	for _, x := range v["deliveries"].(map[string]any)["pos"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

// sandboxPrices are the Sandbox POS's prices by SKU (of products and variants).
func (e *env) sandboxPrices(sbx string) map[string]float64 {
	e.t.Helper()
	out := map[string]float64{}
	for cursor := ""; ; {
		r := e.must(200, e.call(sbx, "GET", "/sandbox/api/v1/products?limit=100&cursor="+cursor, nil)).json(e.t)
		for _, x := range r["data"].([]any) {
			p := x.(map[string]any)
			out[p["sku"].(string)] = p["price"].(map[string]any)["amount"].(float64)
			vs, _ := p["variants"].([]any)
			for _, v := range vs {
				vm := v.(map[string]any)
				out[vm["sku"].(string)] = vm["price"].(map[string]any)["amount"].(float64)
			}
		}
		next, _ := r["next_cursor"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
}

// TestBackOfficeToPOS: a delivered version's prices reach the store's Sandbox POS, found by
// the SKU of a product or a variant; what is already right, unknown at the POS or without a SKU
// is said in the timeline; a POS that refuses shows its words in the timeline; only the
// newest of two publishes is written; another account's POS of the same store is untouched.
func TestBackOfficeToPOS(t *testing.T) {
	t.Parallel()
	testdb.EachParallel(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, func(c *app.Config) { c.PublishDelay = 300 * time.Millisecond })
		a := e.account("Spokes", "owner@spokes.example")
		b := e.account("Stout", "owner@stout.example")
		sbx, sbxB := e.sandboxKey(a.AccountID), e.sandboxKey(b.AccountID)
		id := e.must(201, e.call(a.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": sbx}})).json(t)["id"].(string)
		idB := e.must(201, e.call(b.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": sbxB}})).json(t)["id"].(string)
		storeID := e.waitStatus(a.APIKey, id, "healthy")["store_id"].(string)
		if s := e.waitStatus(b.APIKey, idB, "healthy")["store_id"].(string); s != storeID {
			t.Fatalf("the two sandboxes start at stores %q and %q", storeID, s)
		}
		before := e.sandboxPrices(sbx)
		if before["BK-TUBE-28"] != 695 || before["BK-HELM-M"] != 5995 || before["BK-PAD-01"] != 1495 {
			t.Fatalf("the sample catalogue changed: %v", before)
		}

		draft := func(tube int64) map[string]any {
			return map[string]any{"content": map[string]any{"currency": "EUR", "products": []any{
				map[string]any{"id": "tube", "name": "Inner tube", "sku": "BK-TUBE-28", "price": tube},
				map[string]any{"id": "helm", "name": "Helmet M", "sku": "BK-HELM-M", "price": 6495},
				map[string]any{"id": "pads", "name": "Brake pads", "sku": "BK-PAD-01", "price": 1495},
				map[string]any{"id": "bell", "name": "Bell", "sku": "BK-BELL-NOPE", "price": 500},
				map[string]any{"id": "coffee", "name": "Coffee", "price": 250},
			}}}
		}
		publish := func(tube int64) {
			e.must(200, e.call(a.APIKey, "PUT", "/api/v1/back-office/draft?store_id="+storeID, draft(tube)))
			e.must(201, e.call(a.APIKey, "POST", "/api/v1/back-office/publish", map[string]any{"store_id": storeID}))
		}
		publish(795)
		var got []string
		waitFor(t, "the version written to the POS", func() bool {
			got = e.timelineOf(a.APIKey, id, "back_office.pos_delivered")
			return len(got) == 1
		})
		want := "Back office version 1 of store " + storeID + " written to Sandbox POS: 2 price(s) changed, 1 already right; 1 not found at the POS by SKU (Bell); 1 without a SKU, left out."
		if got[0] != want {
			t.Fatalf("timeline:\n got %q\nwant %q", got[0], want)
		}
		// The version says where it went, in the API: written to the Sandbox POS, with what it did.
		d := e.posDeliveries(a.APIKey, storeID, 1)
		if len(d) != 1 || d[0]["integration_id"] != id || d[0]["integration"] != "Sandbox POS" || d[0]["status"] != "delivered" ||
			d[0]["message"] != "2 price(s) changed, 1 already right; 1 not found at the POS by SKU (Bell); 1 without a SKU, left out." || d[0]["detail"] != "" {
			t.Fatalf("deliveries of version 1: %v", d)
		}
		after := e.sandboxPrices(sbx)
		if after["BK-TUBE-28"] != 795 || after["BK-HELM-M"] != 6495 || after["BK-HELM-S"] != 5995 || after["BK-PAD-01"] != 1495 {
			t.Fatalf("POS prices after the write: %v", after)
		}

		// Two publishes within the period: only the newest reaches the POS. The period is the
		// account's own here, long enough that the second comes within it however slow the
		// machine (the server's 300 ms is a guess on a busy one); then a short one again.
		setDelay := func(seconds int) {
			e.must(200, e.call(a.APIKey, "PUT", "/api/v1/back-office/settings", map[string]any{"publish_delay_seconds": seconds}))
		}
		setDelay(20)
		publish(895)
		publish(995)
		setDelay(1)
		waitFor(t, "version 3 written to the POS", func() bool {
			got = e.timelineOf(a.APIKey, id, "back_office.pos_delivered")
			return len(got) == 2
		})
		if !strings.HasPrefix(got[0], "Back office version 3 ") || e.sandboxPrices(sbx)["BK-TUBE-28"] != 995 {
			t.Fatalf("after two publishes: %q, tube %v", got[0], e.sandboxPrices(sbx)["BK-TUBE-28"])
		}

		// A POS that refuses: its words are in the timeline.
		e.fault(sbx, 5, 401)
		publish(1095)
		waitFor(t, "the refusal in the timeline", func() bool {
			got = e.timelineOf(a.APIKey, id, "back_office.pos_failed")
			return len(got) == 1
		})
		e.clearFaults(sbx)
		t.Logf("the refusal as the merchant reads it: %s", got[0])
		if !strings.HasPrefix(got[0], "Back office version 4 of store "+storeID+" could not be written to Sandbox POS: ") {
			t.Fatalf("failure: %q", got[0])
		}
		// ... and on the version: failed, a sentence for the merchant, the POS's words as the detail.
		d = e.posDeliveries(a.APIKey, storeID, 4)
		if len(d) != 1 || d[0]["status"] != "failed" || !strings.Contains(d[0]["message"].(string), "refused the credentials") ||
			domain.IsTechnical(d[0]["message"].(string)) || !strings.Contains(d[0]["detail"].(string), "401") {
			t.Fatalf("deliveries of version 4: %v", d)
		}
		// Version 2, superseded within its period, was never delivered: no POS delivery, no terminal.
		v2 := e.must(200, e.call(a.APIKey, "GET", "/api/v1/back-office/versions/2?store_id="+storeID, nil)).json(t)
		if dl := v2["deliveries"].(map[string]any); len(dl["pos"].([]any)) != 0 || v2["content"] == nil {
			t.Fatalf("version 2: %v", v2)
		}
		// The list has the same; another account does not find the version.
		list := e.must(200, e.call(a.APIKey, "GET", "/api/v1/back-office/versions?store_id="+storeID, nil)).json(t)["data"].([]any)
		if v := list[0].(map[string]any); v["version"] != 4.0 || v["deliveries"].(map[string]any)["pos"].([]any)[0].(map[string]any)["status"] != "failed" {
			t.Fatalf("versions list: %v", list[0])
		}
		e.must(404, e.call(b.APIKey, "GET", "/api/v1/back-office/versions/4?store_id="+storeID, nil))

		// The other account's POS of the same store id was never written.
		if p := e.sandboxPrices(sbxB); p["BK-TUBE-28"] != 695 || p["BK-HELM-M"] != 5995 {
			t.Fatalf("another account's POS changed: %v", p)
		}
		if len(e.timelineOf(b.APIKey, idB, "back_office.pos_delivered"))+len(e.timelineOf(b.APIKey, idB, "back_office.pos_failed")) != 0 {
			t.Fatal("another account's timeline has the writes")
		}
	})
}
