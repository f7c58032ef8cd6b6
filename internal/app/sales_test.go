package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/notify"
	"github.com/posbridge/posbridge/internal/notify/smtptest"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestSalesImport walks the sales import against the Sandbox POS, on both databases:
// the first fetch of a new integration, a new sale moving "Last sale imported", a re-fetch over
// an overlapping window adding nothing, a refund updating its sale (and the sales.imported
// webhook's cursor reading it), POS items and their mapping, a 500 setting Failed and the next
// success Healthy, failures in a row calling it off with an email, the frequency setting,
// deactivation keeping the data, and another account seeing none of it.
func TestSalesImport(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		sink := smtptest.NewServer(t)
		e := start(t, db, func(c *app.Config) {
			c.SMTP = notify.SMTPConfig{Host: sink.Host(), Port: sink.Port(), From: "posbridge@test.local", TLS: "none"}
			c.CallOffAfter = 3
			c.SweepInterval = 200 * time.Millisecond
		})
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("server log:\n%s", e.logs.String())
			}
		})
		owner := e.account("Corner Cafe", "owner@cafe.test")
		other := e.account("Other", "boss@other.test")
		key := owner.APIKey
		var mu sync.Mutex
		var events []map[string]any
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var ev map[string]any
			json.Unmarshal(body, &ev) //nolint:errcheck // checked by use
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		}))
		defer hook.Close()
		e.must(201, e.call(key, "POST", "/api/v1/webhook-endpoints", map[string]any{"url": hook.URL, "events": []string{"sales.imported"}}))

		sbKey := e.sandboxKey(owner.AccountID)
		id := e.must(201, e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": sbKey}})).json(t)["id"].(string)
		// A new integration fetches at once (the sweep); the sandbox's back-filled sales arrive.
		var first map[string]any
		waitFor(t, "the first sales fetch", func() bool {
			first = e.must(200, e.call(key, "GET", "/api/v1/integrations/"+id, nil)).json(t)
			return first["last_sale_imported_at"] != nil
		})
		if first["sales_interval_minutes"] != float64(360) {
			t.Fatalf("default interval %v", first["sales_interval_minutes"])
		}
		sales := func(q string) []any {
			return e.must(200, e.call(key, "GET", "/api/v1/sales?limit=500&integration_id="+id+q, nil)).json(t)["data"].([]any)
		}
		n0 := len(sales(""))
		if n0 == 0 {
			t.Fatal("no sales imported")
		}
		refresh := func() (map[string]any, map[string]any) {
			t.Helper()
			r := e.must(200, e.call(key, "POST", "/api/v1/integrations/"+id+"/refresh-sales", nil)).json(t)
			return r["integration"].(map[string]any), r["fetch"].(map[string]any)
		}
		// Nothing new: the check moves, the import time does not.
		i1, f1 := refresh()
		if f1["new"] != float64(0) || i1["last_sale_imported_at"] != first["last_sale_imported_at"] || i1["last_sales_check_at"] == first["last_sales_check_at"] {
			t.Fatalf("refresh with nothing new: %v %v (before %v)", i1, f1, first)
		}
		// A new sale in the POS.
		sale := e.must(201, e.call("", "POST", "/sandbox/admin/sales", map[string]any{"api_key": sbKey})).json(t)
		i2, f2 := refresh()
		if f2["new"] != float64(1) || i2["last_sale_imported_at"] == i1["last_sale_imported_at"] || i2["status"] != "healthy" {
			t.Fatalf("refresh with a new sale: %v %v", i2, f2)
		}
		// The overlapping window: read everything again from the start; nothing is added.
		if err := e.app.Store.SetSalesCursor(context.Background(), owner.AccountID, id, ""); err != nil {
			t.Fatal(err)
		}
		_, f3 := refresh()
		if f3["new"] != float64(0) || f3["updated"] != float64(0) || f3["unchanged"] != float64(n0+1) || len(sales("")) != n0+1 {
			t.Fatalf("overlapping re-fetch: %v, %d sales (want %d)", f3, len(sales("")), n0+1)
		}
		// A refund updates the sale; the webhook's cursor reads exactly it.
		e.must(200, e.call("", "POST", "/sandbox/admin/sales/"+sale["id"].(string)+"/refund", map[string]any{"api_key": sbKey}))
		_, f4 := refresh()
		if f4["updated"] != float64(1) || f4["new"] != float64(0) {
			t.Fatalf("refund fetch: %v", f4)
		}
		changed := sales("&cursor=" + f4["cursor"].(string))
		if len(changed) != 1 || changed[0].(map[string]any)["external_id"] != sale["id"] || changed[0].(map[string]any)["status"] != "refunded" {
			t.Fatalf("sales after the refund's cursor: %v", changed)
		}
		s0 := changed[0].(map[string]any)
		if len(s0["lines"].([]any)) == 0 || s0["total"].(float64) <= 0 {
			t.Fatalf("refunded sale: %v", s0)
		}
		waitFor(t, "sales.imported with the refund's cursor", func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, ev := range events {
				if ev["type"] == "sales.imported" {
					d, _ := ev["data"].(map[string]any)
					if d["cursor"] == f4["cursor"] && d["count"] == float64(1) && d["integration_id"] == id {
						return true
					}
				}
			}
			return false
		})
		sum := e.must(200, e.call(key, "GET", "/api/v1/sales/summary?interval=day&from="+time.Now().AddDate(0, 0, -40).Format("2006-01-02")+"&integration_id="+id, nil)).json(t)["data"].([]any)
		if len(sum) == 0 {
			t.Fatal("empty summary")
		}
		// POS items, with the app's mapping.
		items := e.must(200, e.call(key, "GET", "/api/v1/pos-items?integration_id="+id, nil)).json(t)["data"].([]any)
		if len(items) == 0 {
			t.Fatal("no POS items")
		}
		item := items[0].(map[string]any)
		m := e.must(200, e.call(key, "PUT", "/api/v1/pos-items/"+item["id"].(string)+"/mapping", map[string]any{"app_ref": "recipe-42"})).json(t)
		if m["app_ref"] != "recipe-42" {
			t.Fatalf("mapping %v", m)
		}
		if q := e.must(200, e.call(key, "GET", "/api/v1/pos-items?q="+strings.ToUpper(item["name"].(string)[:3]), nil)).json(t)["data"].([]any); len(q) == 0 {
			t.Fatal("q found nothing")
		}
		// Another account: 404s and empty lists.
		okey := other.APIKey
		if r := e.call(okey, "PUT", "/api/v1/pos-items/"+item["id"].(string)+"/mapping", map[string]any{"app_ref": "x"}); r.Status != 404 {
			t.Fatalf("other account mapping: %d %s", r.Status, r.Body)
		}
		if r := e.call(okey, "GET", "/api/v1/sales?integration_id="+id, nil); r.Status != 404 {
			t.Fatalf("other account sales: %d %s", r.Status, r.Body)
		}
		if r := e.call(okey, "POST", "/api/v1/integrations/"+id+"/refresh-sales", nil); r.Status != 404 {
			t.Fatalf("other account refresh: %d %s", r.Status, r.Body)
		}
		if l := e.must(200, e.call(okey, "GET", "/api/v1/sales", nil)).json(t)["data"].([]any); len(l) != 0 {
			t.Fatalf("other account sees %d sales", len(l))
		}
		// The frequency: 5 to 360 minutes.
		if r := e.call(key, "PATCH", "/api/v1/integrations/"+id, map[string]any{"sales_interval_minutes": 4}); r.Status != 422 || r.errField(t) != "sales_interval_minutes" {
			t.Fatalf("interval 4: %d %s", r.Status, r.Body)
		}
		if p := e.must(200, e.call(key, "PATCH", "/api/v1/integrations/"+id, map[string]any{"sales_interval_minutes": 15})).json(t); p["sales_interval_minutes"] != float64(15) {
			t.Fatalf("interval 15: %v", p)
		}
		// A 500 on the fetch: Failed; the next success: Healthy.
		e.fault(sbKey, 1, 500)
		if i, f := refresh(); i["status"] != "failed" || f["error"] == nil {
			t.Fatalf("fetch on a 500: %v %v", i, f)
		}
		if i, _ := refresh(); i["status"] != "healthy" {
			t.Fatalf("fetch after the 500: %v", i)
		}
		// Three failures in a row: CalledOff, with the email; refresh then answers 409.
		e.fault(sbKey, 3, 500)
		var last map[string]any
		for range 3 {
			last, _ = refresh()
		}
		if last["status"] != "called_off" {
			t.Fatalf("after 3 failures: %v", last)
		}
		sink.WaitFor(t, func(m smtptest.Message) bool {
			return slices.Contains(m.To, "owner@cafe.test") && strings.Contains(m.Subject, "called off")
		}, scenarioWait)
		if r := e.call(key, "POST", "/api/v1/integrations/"+id+"/refresh-sales", nil); r.Status != 409 || r.errCode(t) != "called_off" {
			t.Fatalf("refresh when called off: %d %s", r.Status, r.Body)
		}
		kinds := e.timelineKinds(key, id)
		if !slices.Contains(kinds, "integration.sales_fetched") {
			t.Fatalf("no sales_fetched in the timeline: %v", kinds)
		}
		// Deactivation stops fetching and keeps every sale and POS item.
		e.must(200, e.call(key, "POST", "/api/v1/integrations/"+id+"/deactivate", nil))
		if r := e.call(key, "POST", "/api/v1/integrations/"+id+"/refresh-sales", nil); r.Status != 409 {
			t.Fatalf("refresh when inactive: %d %s", r.Status, r.Body)
		}
		if len(sales("")) != n0+1 {
			t.Fatal("deactivation lost sales")
		}
		if l := e.must(200, e.call(key, "GET", "/api/v1/pos-items?integration_id="+id, nil)).json(t)["data"].([]any); len(l) != len(items) {
			t.Fatal("deactivation lost POS items")
		}
		// Restoring resumes where it stopped: the sale made meanwhile arrives, nothing twice.
		e.must(201, e.call("", "POST", "/sandbox/admin/sales", map[string]any{"api_key": sbKey}))
		e.must(200, e.call(key, "POST", "/api/v1/integrations/"+id+"/restore", nil))
		waitFor(t, "the restored integration healthy", func() bool {
			return e.must(200, e.call(key, "GET", "/api/v1/integrations/"+id, nil)).json(t)["status"] == "healthy"
		})
		if i, _ := refresh(); i["status"] != "healthy" {
			t.Fatalf("refresh after the restore: %v", i)
		}
		if got := sales(""); len(got) != n0+2 {
			t.Fatalf("after the restore %d sales, want %d", len(got), n0+2)
		}
	})
}
