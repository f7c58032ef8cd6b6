package sandbox

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/domain"
)

// TestBackOfficeActionsSendWebhooks: each back-office action changes the sandbox as a POS's does
// and sends its webhooks, which the connector reads as product and stock events.
func TestBackOfficeActionsSendWebhooks(t *testing.T) {
	rx, got := receiver(t, 0)
	e := newEnv(t, Options{})
	key := e.key("sbx_backoffice")
	c := e.conn(t, key, 0)
	const secret = "whsec_bo"
	if _, err := c.Subscribe(ctx(t), rx.URL+"/in", secret, nil); err != nil {
		t.Fatal(err)
	}
	var tracked wireProduct
	var list wireList[wireProduct]
	st, _, b := e.do(t, "GET", "/sandbox/api/v1/products?limit=100", bearerHeader(key), nil)
	if st != 200 || json.Unmarshal(b, &list) != nil {
		t.Fatalf("products: %d %s", st, b)
	}
	for _, p := range list.Data {
		if p.TrackStock && len(p.Variants) == 0 {
			tracked = p
			break
		}
	}
	if tracked.ID == "" {
		t.Fatal("the sample catalogue has no simple product that tracks stock")
	}
	// events reads deliveries until it has n, answering their types and objects.
	events := func(n int) (types []string, objs []json.RawMessage) {
		t.Helper()
		for len(types) < n {
			d := waitDelivery(t, got)
			evs, err := c.ParseWebhook(d.header, d.body, "", secret)
			if err != nil || len(evs) != 1 {
				t.Fatalf("delivery refused: %v", err)
			}
			types = append(types, evs[0].Topic)
			objs = append(objs, evs[0].Payload)
			if evs[0].ObjectID == "" {
				t.Errorf("event %s names no object", evs[0].Topic)
			}
			switch evs[0].Topic {
			case EventProductUpdated, EventProductCreated:
				if evs[0].Type != domain.ProviderProductUpdated {
					t.Errorf("%s is %s", evs[0].Topic, evs[0].Type)
				}
			case EventInventoryUpdated, EventStockOrderReceived, EventTransferReceived:
				if evs[0].Type != domain.ProviderStockUpdated {
					t.Errorf("%s is %s", evs[0].Topic, evs[0].Type)
				}
			}
		}
		return types, objs
	}
	level := func(store string) string {
		t.Helper()
		found := "none"
		for cur := ""; ; {
			var sl wireList[wireStock]
			_, _, b := e.do(t, "GET", "/sandbox/api/v1/stock?limit=100&cursor="+cur, bearerHeader(key), nil)
			if err := json.Unmarshal(b, &sl); err != nil {
				t.Fatal(err)
			}
			for _, l := range sl.Data {
				if l.ProductID == tracked.ID && l.LocationID == store {
					found = l.Quantity
				}
			}
			if sl.NextCursor == "" {
				return found
			}
			cur = sl.NextCursor
		}
	}
	ref := func(body map[string]any) map[string]any { body["api_key"] = key; return body }

	// A product saved on its edit page.
	var saved wireProduct
	e.admin(t, "POST", "/sandbox/admin/products/"+tracked.ID+"/save", ref(map[string]any{"name": "Renamed", "description": ""}), &saved)
	if saved.Name != "Renamed" || saved.Version != tracked.Version+1 || saved.SKU != tracked.SKU {
		t.Fatalf("saved %+v", saved)
	}
	if ty, _ := events(1); ty[0] != EventProductUpdated {
		t.Fatalf("save sent %v", ty)
	}
	// A product CSV: one row updates by SKU, one creates.
	var imp importAnswer
	e.admin(t, "POST", "/sandbox/admin/products/import", ref(map[string]any{"csv": "sku,name,price\n" + tracked.SKU + ",From CSV,12.50\nNEW-1,Brand new,3\n"}), &imp)
	if imp.Created != 1 || imp.Updated != 1 || imp.Products[0].ID != tracked.ID || imp.Products[0].Price.Amount != 1250 || imp.Products[0].Description != "" {
		t.Fatalf("import %+v", imp)
	}
	if ty, _ := events(2); strings.Join(ty, " ") != "product.updated product.created" && strings.Join(ty, " ") != "product.created product.updated" {
		t.Fatalf("import sent %v", ty)
	}
	// Stock: a count sets, an order adds, a transfer moves, an adjustment adds or takes.
	e.admin(t, "POST", "/sandbox/admin/stock-counts", ref(map[string]any{"store_id": "st_main", "lines": []any{map[string]any{"product_id": tracked.ID, "quantity": "10"}}}), nil)
	events(1)
	e.admin(t, "POST", "/sandbox/admin/stock-orders", ref(map[string]any{"store_id": "st_main", "lines": []any{map[string]any{"product_id": tracked.ID, "quantity": "5"}}}), nil)
	if ty, _ := events(2); !strings.Contains(strings.Join(ty, " "), EventStockOrderReceived) {
		t.Fatalf("stock order sent %v", ty)
	}
	harbour := level("st_harbour")
	e.admin(t, "POST", "/sandbox/admin/transfers", ref(map[string]any{"from_store_id": "st_main", "store_id": "st_harbour", "lines": []any{map[string]any{"product_id": tracked.ID, "quantity": "3"}}}), nil)
	if ty, _ := events(3); !strings.Contains(strings.Join(ty, " "), EventTransferReceived) {
		t.Fatalf("transfer sent %v", ty)
	}
	e.admin(t, "POST", "/sandbox/admin/adjustments", ref(map[string]any{"store_id": "st_main", "lines": []any{map[string]any{"product_id": tracked.ID, "quantity": "-2.5", "reason": "damaged"}}}), nil)
	events(1)
	if got := level("st_main"); got != "9.5" {
		t.Fatalf("main store holds %s, want 10+5-3-2.5 = 9.5", got)
	}
	var h, h2 float64
	fmt.Sscan(harbour, &h)
	fmt.Sscan(level("st_harbour"), &h2)
	if h2 != h+3 {
		t.Fatalf("harbour %s -> %s after a transfer of 3", harbour, level("st_harbour"))
	}
	// A sale takes from stock, its refund puts it back.
	var sale wireSale
	e.admin(t, "POST", "/sandbox/admin/sales", ref(map[string]any{"store_id": "st_main", "lines": []any{map[string]any{"product_id": tracked.ID, "name": "x", "quantity": "2",
		"unit_price": map[string]any{"amount": 100, "currency": "EUR"}, "total": map[string]any{"amount": 200, "currency": "EUR"}}}}), &sale)
	events(2)
	if got := level("st_main"); got != "7.5" {
		t.Fatalf("after a sale of 2: %s", got)
	}
	e.admin(t, "POST", "/sandbox/admin/sales/"+sale.ID+"/refund", ref(map[string]any{}), nil)
	events(2)
	if got := level("st_main"); got != "9.5" {
		t.Fatalf("after the refund: %s", got)
	}

	// Bad input is refused by field and changes nothing.
	for _, bad := range []struct {
		path  string
		body  map[string]any
		field string
	}{
		{"/sandbox/admin/stock-counts", map[string]any{"lines": []any{}}, "lines"},
		{"/sandbox/admin/stock-counts", map[string]any{"lines": []any{map[string]any{"product_id": tracked.ID, "quantity": "-1"}}}, "lines[0].quantity"},
		{"/sandbox/admin/stock-orders", map[string]any{"lines": []any{map[string]any{"product_id": "prd_nope", "quantity": "1"}}}, "lines[0].product_id"},
		{"/sandbox/admin/transfers", map[string]any{"store_id": "st_main", "lines": []any{map[string]any{"product_id": tracked.ID, "quantity": "1"}}}, "from_store_id"},
		{"/sandbox/admin/transfers", map[string]any{"store_id": "st_main", "from_store_id": "st_main", "lines": []any{map[string]any{"product_id": tracked.ID, "quantity": "1"}}}, "store_id"},
		{"/sandbox/admin/adjustments", map[string]any{"store_id": "st_nope", "lines": []any{map[string]any{"product_id": tracked.ID, "quantity": "1"}}}, "store_id"},
		{"/sandbox/admin/products/import", map[string]any{"csv": "sku,name,colour\nA,B,red\n"}, "csv"},
		{"/sandbox/admin/products/import", map[string]any{"csv": "sku,name,price\nA,B,1\nC,D,cheap\n"}, "csv"},
		{"/sandbox/admin/products/" + tracked.ID + "/save", map[string]any{"name": ""}, "name"},
	} {
		st, _, b := e.do(t, "POST", bad.path, nil, ref(bad.body))
		var eb wireErrorBody
		_ = json.Unmarshal(b, &eb)
		if st != 422 || eb.Error.Field != bad.field {
			t.Errorf("%s %v: want 422 on %s, got %d %s", bad.path, bad.body, bad.field, st, b)
		}
	}
	if got := level("st_main"); got != "9.5" {
		t.Fatalf("refused actions changed the stock: %s", got)
	}
	if st, _, b := e.do(t, "POST", "/sandbox/admin/products/import", nil, ref(map[string]any{"csv": "sku,name,price\nZZ-1,Z,1\nC,D,cheap\n"})); st != 422 || !strings.Contains(string(b), "line 3") {
		t.Fatalf("a bad line is not named: %d %s", st, b)
	}
	select {
	case d := <-got:
		t.Fatalf("a refused action sent a webhook: %s", d.body)
	default:
	}
}
