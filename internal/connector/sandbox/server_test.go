package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// delivery is one webhook POST a receiver got.
type delivery struct {
	header http.Header
	body   []byte
}

// receiver is an httptest webhook receiver; failFirst answers 500 to that many posts first.
func receiver(t *testing.T, failFirst int32) (*httptest.Server, chan delivery) {
	t.Helper()
	ch := make(chan delivery, 16)
	var n atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if n.Add(1) <= failFirst {
			http.Error(w, "not now", http.StatusInternalServerError)
			return
		}
		ch <- delivery{header: r.Header.Clone(), body: b}
	}))
	t.Cleanup(hs.Close)
	return hs, ch
}

func waitDelivery(t *testing.T, ch chan delivery) delivery {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(2 * time.Minute): // generous: a busy machine
		t.Fatal("no webhook arrived within 2 min")
	}
	return delivery{}
}

func TestCompleteOrderSendsSignedWebhook(t *testing.T) {
	rx, got := receiver(t, 0)
	e := newEnv(t, Options{})
	c := e.conn(t, e.key("sbx_hooks"), 0)
	const secret = "whsec_test_1"
	hookID, err := c.Subscribe(ctx(t), rx.URL+"/in/42", secret, []string{"order.completed"})
	if err != nil || hookID == "" {
		t.Fatalf("subscribe: %q %v", hookID, err)
	}
	o, err := c.CreateOrder(ctx(t), domain.Order{Reference: "JOB-77", Lines: []domain.OrderLine{{Name: "Full service", Quantity: "1", UnitPrice: domain.Money{Amount: 8900}}}}, "JOB-77#1")
	if err != nil {
		t.Fatal(err)
	}
	var list []wireOrder
	e.admin(t, "GET", "/sandbox/admin/orders?api_key="+e.key("sbx_hooks"), nil, &list)
	if len(list) != 1 || list[0].ID != o.ID || list[0].Reference != "JOB-77" || list[0].State != "open" || len(list[0].Lines) != 1 {
		t.Fatalf("admin orders %+v", list)
	}
	var done wireOrder
	e.admin(t, "POST", "/sandbox/admin/orders/"+o.ID+"/complete?api_key="+e.key("sbx_hooks"), nil, &done)
	if done.State != "completed" || done.Version != 2 {
		t.Fatalf("completed %+v", done)
	}
	d := waitDelivery(t, got)
	if d.header.Get(EventIDHeader) == "" || !strings.HasPrefix(d.header.Get(SignatureHeader), "t=") {
		t.Fatalf("headers %v", d.header)
	}
	evs, err := c.ParseWebhook(d.header, d.body, rx.URL+"/in/42", secret)
	if err != nil || len(evs) != 1 {
		t.Fatalf("a correctly signed webhook was refused: %v", err)
	}
	ev := evs[0]
	if ev.Type != domain.ProviderOrderUpdated || ev.Topic != "order.completed" || ev.ObjectID != o.ID ||
		ev.ID != d.header.Get(EventIDHeader) || !strings.HasPrefix(ev.ID, "evt_") || ev.OccurredAt.IsZero() {
		t.Fatalf("event %+v", ev)
	}
	var obj wireOrder
	if err := json.Unmarshal(ev.Payload, &obj); err != nil || obj.State != "completed" || obj.Reference != "JOB-77" {
		t.Fatalf("payload %s %v", ev.Payload, err)
	}
	// Any flipped bit in the body or the signature header is refused.
	for i := range d.body {
		for bit := 0; bit < 8; bit++ {
			b := append([]byte(nil), d.body...)
			b[i] ^= 1 << bit
			if _, err := c.ParseWebhook(d.header, b, "", secret); err == nil {
				t.Fatalf("body with bit %d of byte %d flipped was accepted", bit, i)
			}
		}
	}
	sig := d.header.Get(SignatureHeader)
	for i := range sig {
		for bit := 0; bit < 8; bit++ {
			s := []byte(sig)
			s[i] ^= 1 << bit
			h := d.header.Clone()
			h.Set(SignatureHeader, string(s))
			if _, err := c.ParseWebhook(h, d.body, "", secret); err == nil {
				t.Fatalf("signature with bit %d of byte %d flipped was accepted: %q", bit, i, s)
			}
		}
	}
	if _, err := c.ParseWebhook(d.header, d.body, "", secret+"x"); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("wrong secret: %v", err)
	}
	h := d.header.Clone()
	h.Del(SignatureHeader)
	if _, err := c.ParseWebhook(h, d.body, "", secret); err == nil {
		t.Fatal("accepted without a signature")
	}
	// Completing again is a conflict; the delivery was recorded.
	if st, _, b := e.do(t, "POST", "/sandbox/admin/orders/"+o.ID+"/complete", nil, `{"api_key":"`+e.key("sbx_hooks")+`"}`); st != 409 {
		t.Fatalf("second complete: %d %s", st, b)
	}
	var ds []Delivery
	waitFor(t, "the delivery record", 5*time.Second, func() bool {
		e.admin(t, "GET", "/sandbox/admin/deliveries?api_key="+e.key("sbx_hooks"), nil, &ds)
		return len(ds) == 1
	})
	if !ds[0].Delivered || ds[0].Status != 200 || ds[0].WebhookID != hookID || ds[0].EventType != "order.completed" {
		t.Fatalf("deliveries %+v", ds)
	}
	// The connector sees the completion too.
	got2, err := c.GetOrder(ctx(t), o.ID)
	if err != nil || got2.State != domain.OrderCompleted {
		t.Fatalf("after complete %+v %v", got2, err)
	}
	wantKind(t, func() error { _, err := c.UpdateOrder(ctx(t), got2, "x"); return err }(), connector.KindConflict)
	if err := c.Unsubscribe(ctx(t), hookID); err != nil {
		t.Fatalf("unsubscribe: %v", err)
	}
	if err := c.Unsubscribe(ctx(t), hookID); err != nil {
		t.Fatalf("unsubscribe twice: %v", err)
	}
}

func TestWebhookRetriedWithBackoff(t *testing.T) {
	rx, got := receiver(t, 2)
	e := newEnv(t, Options{WebhookBackoff: 5 * time.Millisecond})
	c := e.conn(t, e.key("sbx_retry"), 0)
	if _, err := c.Subscribe(ctx(t), rx.URL, "", nil); err != nil { // default secret, every topic
		t.Fatal(err)
	}
	var sale wireSale
	e.admin(t, "POST", "/sandbox/admin/sales?api_key="+e.key("sbx_retry"), nil, &sale)
	d := waitDelivery(t, got)
	evs, err := c.ParseWebhook(d.header, d.body, "", DefaultWebhookSecret)
	if err != nil || evs[0].Topic != "sale.created" || evs[0].Type != domain.ProviderSaleUpdated || evs[0].ObjectID != sale.ID {
		t.Fatalf("sale event %+v %v", evs, err)
	}
	var ds []Delivery
	waitFor(t, "three delivery records", 5*time.Second, func() bool {
		e.admin(t, "GET", "/sandbox/admin/deliveries?api_key="+e.key("sbx_retry"), nil, &ds)
		return len(ds) == 3
	})
	for i, x := range ds {
		if x.Attempt != i+1 || x.Delivered != (i == 2) || (i < 2 && x.Status != 500) {
			t.Fatalf("delivery %d: %+v", i, x)
		}
	}
}

func TestWebhookGivesUpAndCloseStops(t *testing.T) {
	rx, _ := receiver(t, 1000)
	e := newEnv(t, Options{WebhookAttempts: 2, WebhookBackoff: time.Millisecond})
	c := e.conn(t, e.key("sbx_giveup"), 0)
	if _, err := c.Subscribe(ctx(t), rx.URL, "s", nil); err != nil {
		t.Fatal(err)
	}
	e.admin(t, "POST", "/sandbox/admin/sales", `{"api_key":"`+e.key("sbx_giveup")+`"}`, nil)
	var ds []Delivery
	waitFor(t, "two failed attempts", 5*time.Second, func() bool {
		e.admin(t, "GET", "/sandbox/admin/deliveries?api_key="+e.key("sbx_giveup"), nil, &ds)
		return len(ds) == 2
	})
	// A long backoff is cut short by Close.
	e2 := newEnv(t, Options{WebhookBackoff: time.Hour})
	c2 := e2.conn(t, e2.key("sbx_close"), 0)
	if _, err := c2.Subscribe(ctx(t), rx.URL, "s", nil); err != nil {
		t.Fatal(err)
	}
	e2.admin(t, "POST", "/sandbox/admin/sales", `{"api_key":"`+e2.key("sbx_close")+`"}`, nil)
	waitFor(t, "the first attempt", 5*time.Second, func() bool {
		e2.admin(t, "GET", "/sandbox/admin/deliveries?api_key="+e2.key("sbx_close"), nil, &ds)
		return len(ds) == 1
	})
	closed := make(chan struct{})
	go func() { e2.srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute): // it stops at once; a minute only on a very busy machine
		t.Fatal("Close did not stop a delivery waiting to retry")
	}
}

func TestVerifySignature(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"id":"evt_1"}`)
	h := Sign("s3cr3t", now, body)
	if !strings.HasPrefix(h, "t=1700000000,v1=") || len(h) != len("t=1700000000,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	if err := VerifySignature(h, body, "s3cr3t", now.Add(4*time.Minute), SignatureTolerance); err != nil {
		t.Fatalf("valid: %v", err)
	}
	if err := VerifySignature(h, body, "s3cr3t", now.Add(6*time.Minute), SignatureTolerance); !errors.Is(err, ErrStaleSignature) {
		t.Fatalf("stale: %v", err)
	}
	if err := VerifySignature(h, body, "s3cr3t", now.Add(-6*time.Minute), SignatureTolerance); !errors.Is(err, ErrStaleSignature) {
		t.Fatalf("future: %v", err)
	}
	// A second v1 (secret rotation) is accepted when one matches.
	rotated := Sign("old", now, body) + "," + strings.Split(h, ",")[1]
	if err := VerifySignature(rotated, body, "s3cr3t", now, SignatureTolerance); err != nil {
		t.Fatalf("rotated: %v", err)
	}
	for _, bad := range []string{"", "t=1700000000", "v1=ab", "t=1700000000,t=1700000000," + strings.Split(h, ",")[1], "t=+1700000000,v1=00", strings.ToUpper(h)} {
		if err := VerifySignature(bad, body, "s3cr3t", now, SignatureTolerance); err == nil {
			t.Fatalf("accepted %q", bad)
		}
	}
	if err := VerifySignature(h, body, "", now, SignatureTolerance); err == nil {
		t.Fatal("accepted with an empty secret")
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	p, tn := NewMemoryPersister(), NewMemoryTenants()
	key, err := tn.Mint(ctx(t), "acct_durable")
	if err != nil {
		t.Fatal(err)
	}
	e1 := newEnv(t, Options{Persister: p, Tenants: tn})
	c1 := e1.conn(t, key, 0)
	o, err := c1.CreateOrder(ctx(t), domain.Order{Reference: "INV-100", Lines: []domain.OrderLine{{Name: "Bell", Quantity: "1", UnitPrice: domain.Money{Amount: 595}}}}, "INV-100#1")
	if err != nil {
		t.Fatal(err)
	}
	cu, err := c1.CreateCustomer(ctx(t), domain.Customer{Email: "jo@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	e1.admin(t, "POST", "/sandbox/admin/orders/"+o.ID+"/complete", map[string]string{"api_key": key}, nil)
	products1, _ := c1.ListProducts(ctx(t), "")

	e2 := newEnv(t, Options{Persister: p, Tenants: tn}) // a restart: new server, same persister
	c2 := e2.conn(t, key, 0)
	got, err := c2.GetOrder(ctx(t), o.ID)
	if err != nil || got.Reference != "INV-100" || got.State != domain.OrderCompleted || got.Version != "2" {
		t.Fatalf("order after restart %+v %v", got, err)
	}
	customers, _ := c2.ListCustomers(ctx(t), "")
	if len(customers.Items) != 9 || customers.Items[8].ID != cu.ID {
		t.Fatalf("customers after restart: %d", len(customers.Items))
	}
	products2, _ := c2.ListProducts(ctx(t), "")
	if len(products2.Items) != len(products1.Items) || products2.Items[5].ID != products1.Items[5].ID {
		t.Fatal("catalogue changed across the restart")
	}
	// The idempotency key is remembered too.
	again, err := c2.CreateOrder(ctx(t), domain.Order{Reference: "INV-100", Lines: []domain.OrderLine{{Name: "Bell", Quantity: "1", UnitPrice: domain.Money{Amount: 595}}}}, "INV-100#1")
	if err != nil || again.ID != o.ID {
		t.Fatalf("replay after restart %+v %v", again, err)
	}
	// New ids do not collide with old ones.
	o2, err := c2.CreateOrder(ctx(t), domain.Order{Reference: "INV-101"}, "")
	if err != nil || o2.ID == o.ID {
		t.Fatalf("new order %+v %v", o2, err)
	}
	// The order page finds an order of a tenant this process has not loaded, given the key.
	e3 := newEnv(t, Options{Persister: p, Tenants: tn})
	if st, _, _ := e3.do(t, "GET", "/sandbox/orders/"+o.ID, nil, nil); st != 404 {
		t.Fatalf("page without key on a fresh server: %d", st)
	}
	if st, _, b := e3.do(t, "GET", "/sandbox/orders/"+o.ID+"?api_key="+key, nil, nil); st != 200 || !strings.Contains(string(b), "INV-100") {
		t.Fatalf("page with key: %d", st)
	}
}

func TestTenantsAreIsolated(t *testing.T) {
	e := newEnv(t, Options{})
	a, b := e.conn(t, e.key("sbx_alice"), 0), e.conn(t, e.key("sbx_bob"), 0)
	o, err := a.CreateOrder(ctx(t), domain.Order{Reference: "SHARED-REF"}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, func() error { _, err := b.GetOrder(ctx(t), o.ID); return err }(), connector.KindNotFound)
	wantKind(t, func() error { _, err := b.FindOrderByReference(ctx(t), "SHARED-REF"); return err }(), connector.KindNotFound)
	wantKind(t, b.CancelOrder(ctx(t), o.ID, domain.CancelVoid), connector.KindNotFound)
	// The same idempotency key in another tenant is another order.
	ob, err := b.CreateOrder(ctx(t), domain.Order{Reference: "SHARED-REF"}, "k1")
	if err != nil || ob.ID == o.ID {
		t.Fatalf("bob's order %+v %v", ob, err)
	}
	var la, lb []wireOrder
	e.admin(t, "GET", "/sandbox/admin/orders?api_key="+e.key("sbx_alice"), nil, &la)
	e.admin(t, "GET", "/sandbox/admin/orders?api_key="+e.key("sbx_bob"), nil, &lb)
	if len(la) != 1 || len(lb) != 1 || la[0].ID != o.ID || lb[0].ID != ob.ID {
		t.Fatalf("alice %+v bob %+v", la, lb)
	}
	if st, _, _ := e.do(t, "POST", "/sandbox/admin/orders/"+o.ID+"/complete?api_key="+e.key("sbx_bob"), nil, nil); st != 404 {
		t.Fatalf("bob completed alice's order: %d", st)
	}
}

// fieldOf decodes an error answer.
func fieldOf(t *testing.T, b []byte) wireError {
	t.Helper()
	var eb wireErrorBody
	if err := json.Unmarshal(b, &eb); err != nil {
		t.Fatalf("error body %s: %v", b, err)
	}
	return eb.Error
}

func TestAdminBadInput(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.conn(t, e.key("sbx_admin"), 0)
	o, err := c.CreateOrder(ctx(t), domain.Order{Reference: "A"}, "")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{"POST", "/sandbox/admin/faults", `{"fail_next":1,"status":500}`, 401, ""},
		{"POST", "/sandbox/admin/faults", `{"api_key":"live_x","fail_next":1,"status":500}`, 401, ""},
		{"POST", "/sandbox/admin/faults", `{"api_key":"sbx_0123456789abcdef0123456789abcdef01234567","fail_next":1,"status":500}`, 401, ""},
		{"POST", "/sandbox/admin/faults", `{"integration_id":"int_1","fail_next":1,"status":500}`, 401, ""},
		{"POST", "/sandbox/admin/faults", `{"api_key":"` + e.key("sbx_a") + `","fail_next":0,"status":500}`, 422, "fail_next"},
		{"POST", "/sandbox/admin/faults", `{"api_key":"` + e.key("sbx_a") + `","fail_next":1001,"status":500}`, 422, "fail_next"},
		{"POST", "/sandbox/admin/faults", `{"api_key":"` + e.key("sbx_a") + `","fail_next":"two","status":500}`, 422, "fail_next"},
		{"POST", "/sandbox/admin/faults", `{"api_key":"` + e.key("sbx_a") + `","fail_next":1,"status":404}`, 422, "status"},
		{"POST", "/sandbox/admin/faults", `{"api_key":"` + e.key("sbx_a") + `","fail_next":1,"status":"slow"}`, 422, "status"},
		{"POST", "/sandbox/admin/faults", `{"api_key":"` + e.key("sbx_a") + `","fail_next":1}`, 422, "status"},
		{"POST", "/sandbox/admin/faults", `{"api_key":`, 400, ""},
		{"DELETE", "/sandbox/admin/faults", nil, 401, ""},
		{"GET", "/sandbox/admin/orders", nil, 401, ""},
		{"GET", "/sandbox/admin/orders?api_key=sbx_invalid", nil, 401, ""},
		{"GET", "/sandbox/admin/deliveries?api_key=nope", nil, 401, ""},
		{"POST", "/sandbox/admin/orders/" + o.ID + "/complete", nil, 401, ""},
		{"POST", "/sandbox/admin/tenants", `{}`, 401, ""},
		{"POST", "/sandbox/admin/orders/" + o.ID + "/complete", `{"api_key":5}`, 422, "api_key"},
		{"POST", "/sandbox/admin/orders/ord_x_1/complete?api_key=" + e.key("sbx_admin"), nil, 404, ""},
		{"POST", "/sandbox/admin/sales", `{"api_key":"` + e.key("sbx_admin") + `","store_id":"st_moon"}`, 422, "store_id"},
		{"POST", "/sandbox/admin/sales", `{"api_key":"` + e.key("sbx_admin") + `","customer_id":"cus_x"}`, 422, "customer_id"},
		{"POST", "/sandbox/admin/sales", `{"api_key":"` + e.key("sbx_admin") + `","lines":[{"name":"x","quantity":"-1"}]}`, 422, "lines[0].quantity"},
		{"POST", "/sandbox/admin/sales", `not json`, 400, ""},
	}
	for _, tc := range cases {
		st, _, b := e.do(t, tc.method, tc.path, nil, tc.body)
		if st != tc.status {
			t.Errorf("%s %s %v: HTTP %d %s, want %d", tc.method, tc.path, tc.body, st, b, tc.status)
			continue
		}
		if we := fieldOf(t, b); we.Field != tc.field || we.Message == "" || we.Code == "" {
			t.Errorf("%s %s %v: error %+v, want field %q", tc.method, tc.path, tc.body, we, tc.field)
		}
	}
	// The order is still open: no bad request changed it.
	if got, _ := c.GetOrder(ctx(t), o.ID); got.State != domain.OrderOpen {
		t.Fatalf("state %q", got.State)
	}
	var f faultAnswer
	e.admin(t, "POST", "/sandbox/admin/faults", `{"api_key":"`+e.key("sbx_a")+`","fail_next":3,"status":"timeout"}`, &f)
	if k := e.key("sbx_a"); f.Status != "timeout" || f.FailNext != 3 || f.KeyHint != "…"+k[len(k)-4:] {
		t.Fatalf("fault answer %+v", f)
	}
}

func TestAPIErrors(t *testing.T) {
	e := newEnv(t, Options{})
	k := bearerHeader(e.key("sbx_api"))
	k.Set("Content-Type", "application/json")
	cases := []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{"GET", "/sandbox/api/v1/products?limit=0", nil, 422, "limit"},
		{"GET", "/sandbox/api/v1/products?limit=101", nil, 422, "limit"},
		{"GET", "/sandbox/api/v1/products?cursor=zzz", nil, 422, "cursor"},
		{"GET", "/sandbox/api/v1/sales?cursor=" + encodeCursor("prd", 3), nil, 422, "cursor"},
		{"GET", "/sandbox/api/v1/products?updated_since=yesterday", nil, 422, "updated_since"},
		{"GET", "/sandbox/api/v1/products/prd_404", nil, 404, ""},
		{"POST", "/sandbox/api/v1/products", `{"name":`, 400, ""},
		{"POST", "/sandbox/api/v1/products", ``, 400, ""},
		{"POST", "/sandbox/api/v1/products", `{"name":"x","price":{"amount":"cheap"}}`, 422, "price.amount"},
		{"POST", "/sandbox/api/v1/products", `{"name":"x","price":{"amount":100,"currency":"USD"}}`, 422, "price.currency"},
		{"POST", "/sandbox/api/v1/products", `{"name":"x","variants":[{"name":""}]}`, 422, "variants[0].name"},
		{"POST", "/sandbox/api/v1/products", `{"name":"x","weight":{"value":"1","unit":"stone"}}`, 422, "weight.unit"},
		{"POST", "/sandbox/api/v1/products", `{"name":"x","sku":"BK-BELL"}`, 409, "sku"},
		{"POST", "/sandbox/api/v1/products/batch", `{"products":[]}`, 422, "products"},
		{"PUT", "/sandbox/api/v1/stock", `{"levels":[]}`, 422, "levels"},
		{"POST", "/sandbox/api/v1/customers", `{}`, 422, "email"},
		{"POST", "/sandbox/api/v1/customers", `{"email":"anna.devries@example.com"}`, 409, "email"},
		{"PUT", "/sandbox/api/v1/customers/cus_404", `{"email":"a@b.co"}`, 404, ""},
		{"POST", "/sandbox/api/v1/orders", `{"store_id":"st_moon"}`, 422, "store_id"},
		{"POST", "/sandbox/api/v1/orders", `{"customer_id":"cus_404"}`, 422, "customer_id"},
		{"POST", "/sandbox/api/v1/orders", `{"lines":[{"name":"a","quantity":"1","unit_price":{"amount":1,"currency":"GBP"}}]}`, 422, "lines[0].unit_price.currency"},
		{"POST", "/sandbox/api/v1/orders", `{"lines":[{"product_id":"prd_404","quantity":"1"}]}`, 422, "lines[0].product_id"},
		{"POST", "/sandbox/api/v1/orders", `{"lines":[{"quantity":"1"}]}`, 422, "lines[0].name"},
		{"POST", "/sandbox/api/v1/orders", `{"lines":"all"}`, 422, "lines"},
		{"PUT", "/sandbox/api/v1/orders/ord_x_1", `{}`, 404, ""},
		{"POST", "/sandbox/api/v1/webhooks", `{"url":"ftp://x"}`, 422, "url"},
		{"POST", "/sandbox/api/v1/webhooks", `{"url":"http://x/y","topics":["order.exploded"]}`, 422, "topics[0]"},
		{"DELETE", "/sandbox/api/v1/webhooks/wh_404", nil, 404, ""},
		{"GET", "/sandbox/api/v1/nothing-here", nil, 404, ""},
		{"GET", "/sandbox/nothing-here", nil, 404, ""},
	}
	for _, tc := range cases {
		st, _, b := e.do(t, tc.method, tc.path, k, tc.body)
		if st != tc.status {
			t.Errorf("%s %s %v: HTTP %d %s, want %d", tc.method, tc.path, tc.body, st, b, tc.status)
			continue
		}
		if we := fieldOf(t, b); we.Field != tc.field || we.Message == "" {
			t.Errorf("%s %s %v: error %+v, want field %q", tc.method, tc.path, tc.body, we, tc.field)
		}
	}
	// Oversized bodies are refused.
	big := `{"name":"` + strings.Repeat("x", maxBody) + `"}`
	if st, _, _ := e.do(t, "POST", "/sandbox/api/v1/products", k, big); st != 413 {
		t.Fatalf("big body: %d", st)
	}
	// Unauthenticated calls get the documented 401 body.
	st, _, b := e.do(t, "GET", "/sandbox/api/v1/account", nil, nil)
	if we := fieldOf(t, b); st != 401 || we.Code != "unauthorized" || !strings.HasPrefix(we.Message, "Invalid API key") {
		t.Fatalf("no key: %d %s", st, b)
	}
}

func TestUpdatedSinceFilter(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	e := newEnv(t, Options{Now: now})
	c := e.conn(t, e.key("sbx_since"), 0)
	all, _, _ := listAllProducts(t, c, "")
	clock.Add(int64(time.Hour))
	mark := now()
	p := all[7]
	p.Description = "new text"
	if _, err := c.UpdateProduct(ctx(t), p); err != nil {
		t.Fatal(err)
	}
	st, _, b := e.do(t, "GET", "/sandbox/api/v1/products?updated_since="+mark.Format(time.RFC3339Nano), bearerHeader(e.key("sbx_since")), nil)
	var l wireList[wireProduct]
	if err := json.Unmarshal(b, &l); st != 200 || err != nil || len(l.Data) != 1 || l.Data[0].ID != p.ID || l.ResumeCursor == "" {
		t.Fatalf("updated_since: %d %s", st, b)
	}
	// Small pages with a limit.
	st, _, b = e.do(t, "GET", "/sandbox/api/v1/products?limit=5", bearerHeader(e.key("sbx_since")), nil)
	l = wireList[wireProduct]{}
	if err := json.Unmarshal(b, &l); st != 200 || err != nil || len(l.Data) != 5 || l.NextCursor == "" || l.ResumeCursor != "" {
		t.Fatalf("limit 5: %d %s", st, b)
	}
}

// failingPersister loses appended changes while fail is set.
type failingPersister struct {
	*MemoryPersister
	fail atomic.Bool
}

func (f *failingPersister) Append(key string, seq int64, b []byte) func() error {
	if f.fail.Load() {
		return func() error { return errors.New("disk full") }
	}
	return f.MemoryPersister.Append(key, seq, b)
}

func TestFailedSaveRollsBack(t *testing.T) {
	p := &failingPersister{MemoryPersister: NewMemoryPersister()}
	e := newEnv(t, Options{Persister: p})
	c := e.conn(t, e.key("sbx_disk"), 0)
	if err := c.Verify(ctx(t)); err != nil {
		t.Fatal(err)
	}
	p.fail.Store(true)
	_, err := c.CreateOrder(ctx(t), domain.Order{Reference: "LOST"}, "k")
	wantKind(t, err, connector.KindTemporary)
	p.fail.Store(false)
	wantKind(t, func() error { _, err := c.FindOrderByReference(ctx(t), "LOST"); return err }(), connector.KindNotFound)
	// The key was rolled back too: the retry creates the order now.
	o, err := c.CreateOrder(ctx(t), domain.Order{Reference: "LOST"}, "k")
	if err != nil || o.ID == "" {
		t.Fatalf("retry %+v %v", o, err)
	}
}

// loadFailPersister fails the first Load.
type loadFailPersister struct {
	*MemoryPersister
	fails atomic.Int32
}

func (f *loadFailPersister) Load(ctx context.Context, key string) (Saved, error) {
	if f.fails.Add(-1) >= 0 {
		return Saved{}, errors.New("database away")
	}
	return f.MemoryPersister.Load(ctx, key)
}

func TestLoadFailureIsRetried(t *testing.T) {
	p := &loadFailPersister{MemoryPersister: NewMemoryPersister()}
	p.fails.Store(1)
	e := newEnv(t, Options{Persister: p})
	c := e.conn(t, e.key("sbx_load"), 0)
	wantKind(t, c.Verify(ctx(t)), connector.KindTemporary)
	if err := c.Verify(ctx(t)); err != nil {
		t.Fatalf("second load: %v", err)
	}
}

func TestConcurrentTenants(t *testing.T) {
	e := newEnv(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 4; i++ {
		key := e.key("sbx_conc_" + string(rune('a'+i)))
		c := e.conn(t, key, 0)
		for j := 0; j < 10; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.CreateOrder(context.Background(), domain.Order{Reference: "R"}, ""); err != nil {
					errs <- err
				}
				if _, err := c.ListProducts(context.Background(), ""); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		var l []wireOrder
		e.admin(t, "GET", "/sandbox/admin/orders?api_key="+e.key("sbx_conc_"+string(rune('a'+i))), nil, &l)
		if len(l) != 10 {
			t.Fatalf("tenant %d has %d orders", i, len(l))
		}
	}
}

func TestStateEncodingMatchesJSON(t *testing.T) {
	st := sampleState("sbx_enc", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 0)
	st.Idem["POST /x k"] = &idemRec{BodyHash: "h", Status: 201, Answer: json.RawMessage(`{"id":"o"}`), At: st.CreatedAt}
	st.Webhooks["wh_1"] = &hookRec{W: wireWebhook{ID: "wh_1", URL: "http://x"}, Secret: "s"}
	for i := 0; i < 2; i++ { // the second round uses the caches
		b, err := st.encode(0)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(st)
		var x, y any
		if err := json.Unmarshal(b, &x); err != nil {
			t.Fatalf("encoded state is not JSON: %v", err)
		}
		_ = json.Unmarshal(want, &y)
		xb, _ := json.Marshal(x)
		yb, _ := json.Marshal(y)
		if string(xb) != string(yb) {
			t.Fatalf("round %d: encode differs from json.Marshal", i)
		}
	}
}

func TestTenantSizeIsCapped(t *testing.T) {
	e := newEnv(t, Options{MaxObjects: 3})
	c := e.conn(t, e.key("sbx_small"), 0)
	for i := 0; i < 3; i++ {
		if _, err := c.CreateOrder(ctx(t), domain.Order{Reference: "R"}, ""); err != nil {
			t.Fatal(err)
		}
	}
	ce := wantKind(t, func() error { _, err := c.CreateOrder(ctx(t), domain.Order{Reference: "R"}, ""); return err }(), connector.KindInvalid)
	if ce.Code != "sandbox_full" {
		t.Fatalf("%+v", ce)
	}
	// 24 sample products and 8 customers are already over 3: no new ones, but updates work.
	wantKind(t, func() error { _, err := c.CreateCustomer(ctx(t), domain.Customer{Email: "x@example.com"}); return err }(), connector.KindInvalid)
	p, _ := c.ListProducts(ctx(t), "")
	if _, err := c.UpdateProduct(ctx(t), p.Items[0]); err != nil {
		t.Fatalf("update at cap: %v", err)
	}
}

// TestIdleTenantLeavesMemoryWithoutRequests: the sweeper evicts an idle tenant even when no
// request comes; its next request loads it again from what was saved.
func TestIdleTenantLeavesMemoryWithoutRequests(t *testing.T) {
	e := newEnv(t, Options{IdleAfter: 50 * time.Millisecond})
	c := e.conn(t, e.key("sbx_idle"), 0)
	o, err := c.CreateOrder(ctx(t), domain.Order{Reference: "IDLE-1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the idle tenant to leave memory", 10*time.Second, func() bool { return e.srv.Tenants() == 0 })
	got, err := c.GetOrder(ctx(t), o.ID)
	if err != nil || got.Reference != "IDLE-1" {
		t.Fatalf("after eviction: %+v %v", got, err)
	}
}

// TestMemoryPersisterDelete: a deleted tenant's saved state is gone, and writes queued after the
// deletion are refused, not saved.
func TestMemoryPersisterDelete(t *testing.T) {
	p := NewMemoryPersister()
	if err := p.Append("k", 1, []byte(`{}`))(); err != nil {
		t.Fatal(err)
	}
	if err := p.Delete("k")(); err != nil {
		t.Fatal(err)
	}
	if err := p.Append("k", 2, []byte(`{}`))(); !errors.Is(err, ErrTenantDeleted) {
		t.Fatalf("append after delete: %v", err)
	}
	if err := p.Compact("k", 2, []byte(`{}`))(); !errors.Is(err, ErrTenantDeleted) {
		t.Fatalf("compact after delete: %v", err)
	}
	if saved, _ := p.Load(context.Background(), "k"); saved.Found || len(saved.Log) > 0 {
		t.Fatalf("saved after delete: %+v", saved)
	}
}
