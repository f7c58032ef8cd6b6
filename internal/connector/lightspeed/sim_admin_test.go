package lightspeed

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

// TestBackOfficeActions: each back-office action of the simulator, through its /simulator/
// routes, changes what the API reads and sends the webhooks Lightspeed sends, which the
// connector parses into product and stock events.
func TestBackOfficeActions(t *testing.T) {
	type delivery struct {
		h http.Header
		b []byte
	}
	got := make(chan delivery, 64)
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Clone(), b}
	}))
	t.Cleanup(rx.Close)
	sim, c, srv := startSim(t, []SimOption{WithSimRegisters(2), WithSimDeliveryClient(nil, 2, 10*time.Millisecond)})
	ctx := tctx(t)
	ids := sim.SeedProducts(2)
	outlets := sim.OutletIDs()
	if _, err := c.Subscribe(ctx, rx.URL+"/hook", "", append([]string{TopicConsignmentSend, TopicConsignmentReceive}, AllTopics...)); err != nil {
		t.Fatal(err)
	}
	post := func(path string, body any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+sim.Token())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	must := func(path string, body any) map[string]any {
		t.Helper()
		st, out := post(path, body)
		if st != 200 {
			t.Fatalf("%s: %d %v", path, st, out)
		}
		return out
	}
	// topics reads n deliveries and answers their types, checking each parses.
	topics := func(n int) string {
		t.Helper()
		var ts []string
		for len(ts) < n {
			select {
			case d := <-got:
				evs, err := c.ParseWebhook(d.h, d.b, "", sim.WebhookSecret())
				if err != nil || len(evs) == 0 {
					t.Fatalf("delivery refused: %v", err)
				}
				form, _ := url.ParseQuery(string(d.b))
				ts = append(ts, form.Get("type"))
				if evs[0].Topic == TopicInventory && evs[0].Type != domain.ProviderStockUpdated {
					t.Errorf("inventory.update parsed as %s", evs[0].Type)
				}
			case <-time.After(time.Minute):
				t.Fatalf("only %v of %d deliveries came", ts, n)
			}
		}
		slices.Sort(ts) // deliveries run concurrently, as Lightspeed's do: their order is not defined
		return strings.Join(ts, " ")
	}

	must("/simulator/products/"+ids[0]+"/save", map[string]any{"name": "Saved", "description": ""})
	if tp := topics(1); tp != TopicProduct {
		t.Fatalf("save sent %s", tp)
	}
	p, err := c.GetProduct(ctx, ids[0])
	if err != nil || p.Name != "Saved" || p.Description != "" {
		t.Fatalf("after save: %+v %v", p, err)
	}
	out := must("/simulator/products/import", map[string]any{"csv": "sku,name,price_excluding_tax\nSAMPLE-00002,From CSV,12.5\nCSV-NEW,New one,3\n"})
	if d := out["data"].([]any); len(d) != 2 || d[0] != ids[1] {
		t.Fatalf("import: %v", out)
	}
	if tp := topics(2); tp != TopicProduct+" "+TopicProduct {
		t.Fatalf("import sent %s", tp)
	}
	line := func(q string) []any { return []any{map[string]any{"product_id": ids[0], "quantity": q}} }
	must("/simulator/stocktakes", map[string]any{"outlet_id": outlets[0], "lines": line("10")})
	topics(1)
	must("/simulator/consignments", map[string]any{"type": "SUPPLIER", "outlet_id": outlets[0], "lines": line("5")})
	if tp := topics(2); !strings.Contains(tp, TopicConsignmentReceive) {
		t.Fatalf("stock order sent %s", tp)
	}
	before := sim.Level(ids[0], outlets[1])
	must("/simulator/consignments", map[string]any{"type": "OUTLET", "outlet_id": outlets[1], "source_outlet_id": outlets[0], "lines": line("3")})
	if tp := topics(4); !strings.Contains(tp, TopicConsignmentSend) || strings.Count(tp, TopicInventory) != 2 {
		t.Fatalf("transfer sent %s", tp)
	}
	must("/simulator/adjustments", map[string]any{"outlet_id": outlets[0], "lines": line("-2.5")})
	topics(1)
	if l := sim.Level(ids[0], outlets[0]); l != "9.5" {
		t.Fatalf("level %s, want 10+5-3-2.5", l)
	}
	if before == sim.Level(ids[0], outlets[1]) {
		t.Fatalf("the transfer left the other outlet at %s", before)
	}
	sale := must("/simulator/sales", map[string]any{"outlet_id": outlets[0], "lines": line("2")})["data"].(string)
	if tp := topics(2); tp != TopicInventory+" "+TopicSale {
		t.Fatalf("sale sent %s", tp)
	}
	if l := sim.Level(ids[0], outlets[0]); l != "7.5" {
		t.Fatalf("after a sale of 2: %s", l)
	}
	must("/simulator/sales/"+sale+"/return", map[string]any{})
	topics(2)
	if l := sim.Level(ids[0], outlets[0]); l != "9.5" {
		t.Fatalf("after the refund: %s", l)
	}
	// An exchange returns the sale and sells another product in one sale.
	sale = must("/simulator/sales", map[string]any{"outlet_id": outlets[0], "lines": line("1")})["data"].(string)
	topics(2)
	must("/simulator/sales/"+sale+"/return", map[string]any{"lines": []any{map[string]any{"product_id": ids[1], "quantity": "1"}}})
	topics(3)
	if l := sim.Level(ids[0], outlets[0]); l != "9.5" {
		t.Fatalf("after the exchange: %s", l)
	}

	for _, bad := range []struct {
		path string
		body any
	}{
		{"/simulator/stocktakes", map[string]any{"lines": []any{}}},
		{"/simulator/stocktakes", map[string]any{"lines": line("-1")}},
		{"/simulator/adjustments", map[string]any{"outlet_id": "nope", "lines": line("1")}},
		{"/simulator/consignments", map[string]any{"type": "OUTLET", "outlet_id": outlets[0], "source_outlet_id": outlets[0], "lines": line("1")}},
		{"/simulator/consignments", map[string]any{"type": "GIFT", "lines": line("1")}},
		{"/simulator/products/import", map[string]any{"csv": "sku,name,colour\nA,B,red\n"}},
		{"/simulator/products/nope/save", map[string]any{}},
	} {
		if st, out := post(bad.path, bad.body); st != 400 && st != 404 {
			t.Errorf("%s %v: %d %v", bad.path, bad.body, st, out)
		}
	}
	if l := sim.Level(ids[0], outlets[0]); l != "9.5" {
		t.Fatalf("refused actions changed the level: %s", l)
	}
	// Without the token nothing is done.
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/simulator/adjustments", strings.NewReader(`{"lines":[{"product_id":"`+ids[0]+`","quantity":"1"}]}`))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("without a token: %v %v", resp, err)
	}
}
