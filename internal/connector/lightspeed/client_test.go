package lightspeed

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRootURL(t *testing.T) {
	for in, want := range map[string]string{
		"mystore":                         "https://mystore.retail.lightspeed.app",
		"MyStore.retail.lightspeed.app":   "https://mystore.retail.lightspeed.app",
		"http://127.0.0.1:9101":           "http://127.0.0.1:9101",
		"http://127.0.0.1:9101/":          "http://127.0.0.1:9101",
		"https://shop.example.com/prefix": "https://shop.example.com/prefix",
	} {
		if got, err := RootURL(in); err != nil || got != want {
			t.Errorf("RootURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "my store", "evil.com/x", "http://user:pw@host", "-x", "a_b"} {
		if _, err := RootURL(bad); err == nil {
			t.Errorf("RootURL(%q) accepted", bad)
		}
	}
}

// Lightspeed publishes no signature vector; the HMAC is cross-checked with WooCommerce's
// (the same HMAC-SHA256, rendered in hex here). Note: HMAC-SHA256("s3cr3t", {"id":1}) in base64
// is z1PTSunF... with a lower-case z; the vector as quoted in the issue, Z1PTSunF..., differs
// in its first character.
func TestSignatureVector(t *testing.T) {
	want, _ := base64.StdEncoding.DecodeString("z1PTSunFKhGV0B2iDV3egGE8TThlQMRrvLklMBTdxQU=")
	got := Sign("s3cr3t", []byte(`{"id":1}`))
	if got != "signature="+hex.EncodeToString(want)+", algorithm=HMAC-SHA256" {
		t.Fatalf("Sign = %s", got)
	}
	body := []byte(`{"id":1}`)
	for _, v := range []string{got, hex.EncodeToString(want), base64.StdEncoding.EncodeToString(want)} {
		if !verifySignature(v, "s3cr3t", body) {
			t.Errorf("valid signature %q refused", v)
		}
	}
	for _, v := range []string{"", "signature=" + hex.EncodeToString(want) + ", algorithm=HMAC-SHA1", "signature=", "garbage",
		strings.ToUpper(hex.EncodeToString(want)), " " + got} {
		if verifySignature(v, "s3cr3t", body) {
			t.Errorf("signature %q accepted", v)
		}
	}
	if verifySignature(got, "", body) {
		t.Error("accepted without a secret")
	}
}

func TestWebhookFlippedSignatureBitRefused(t *testing.T) {
	sim, c, _ := startSim(t, nil)
	h, body := sim.SignedDelivery(TopicSale, map[string]any{"id": "s1", "invoice_number": "INV-1", "version": 7})
	if _, err := c.ParseWebhook(h, body, "", sim.WebhookSecret()); err != nil {
		t.Fatalf("valid delivery refused: %v", err)
	}
	sig := h.Get(DefaultSignatureHeader)
	for i := 0; i < len(sig); i++ {
		for bit := 0; bit < 8; bit++ {
			b := []byte(sig)
			b[i] ^= 1 << bit
			h2 := h.Clone()
			h2.Set(DefaultSignatureHeader, string(b))
			if _, err := c.ParseWebhook(h2, body, "", sim.WebhookSecret()); err == nil {
				t.Fatalf("signature with bit %d of char %d flipped was accepted", bit, i)
			}
		}
	}
	h2 := h.Clone()
	h2.Del(DefaultSignatureHeader)
	if _, err := c.ParseWebhook(h2, body, "", sim.WebhookSecret()); err == nil {
		t.Fatal("unsigned delivery accepted")
	}
}

func TestParseWebhookEvents(t *testing.T) {
	sim, c, _ := startSim(t, nil)
	h, body := sim.SignedDelivery(TopicSale, map[string]any{"id": "s1", "invoice_number": "INV-1", "version": 7})
	evs, err := c.ParseWebhook(h, body, "", sim.WebhookSecret())
	if err != nil || len(evs) != 2 {
		t.Fatalf("sale delivery: %+v %v", evs, err)
	}
	if evs[0].Type != domain.ProviderOrderUpdated || evs[1].Type != domain.ProviderSaleUpdated || evs[0].ObjectID != "s1" || evs[0].ID == evs[1].ID {
		t.Fatalf("sale events: %+v", evs)
	}
	// The type form field is not guaranteed: without it the payload decides.
	form := url.Values{"payload": {`{"id":"p1","sku":"X","deleted_at":"2026-01-01T00:00:00+00:00","version":9}`}}
	raw := []byte(form.Encode())
	h = http.Header{}
	h.Set("X-Signature", Sign(sim.WebhookSecret(), raw))
	evs, err = c.ParseWebhook(h, raw, "", sim.WebhookSecret())
	if err != nil || len(evs) != 1 || evs[0].Type != domain.ProviderProductDeleted || evs[0].ID != "product.update:p1:9" {
		t.Fatalf("product delivery: %+v %v", evs, err)
	}
	// A custom header name is a setting.
	c2, err := New(connector.Config{Credentials: map[string]string{FieldDomainPrefix: "x", FieldToken: "t"}}, WithSignatureHeader("X-LS-Sig"))
	if err != nil {
		t.Fatal(err)
	}
	h = http.Header{}
	h.Set("X-LS-Sig", Sign("k", raw))
	if _, err := c2.ParseWebhook(h, raw, "", "k"); err != nil {
		t.Fatalf("custom header: %v", err)
	}
}

func TestErrorBodiesMapped(t *testing.T) {
	cases := []struct {
		status int
		body   string
		kind   connector.Kind
		code   string
		msg    string
	}{
		{429, `{"error":"Too Many Requests","message":"Rate limiting enforced"}`, connector.KindRateLimited, "Too Many Requests", "Rate limiting enforced"},
		{401, `{"error":"Unauthorized","message":"Authentication information is missing or invalid."}`, connector.KindCredentials, "Unauthorized", "Authentication information is missing or invalid."},
		{403, `{"error":"Forbidden"}`, connector.KindCredentials, "Forbidden", "Forbidden"},
		{404, `{"error":"Not Found","message":"Product not found"}`, connector.KindNotFound, "Not Found", "Product not found"},
		{409, `{"error":"A webhook with this type and URL already exists."}`, connector.KindConflict, "A webhook with this type and URL already exists.", "A webhook with this type and URL already exists."},
		{400, `{"error":"Bad Request","details":{"name":["is required"]}}`, connector.KindInvalid, "Bad Request", `{"name":["is required"]}`},
		{502, `<html>bad gateway</html>`, connector.KindTemporary, "", "<html>bad gateway</html>"},
		{503, ``, connector.KindTemporary, "", "Service Unavailable"},
	}
	for _, c := range cases {
		e := apiError(c.status, []byte(c.body))
		if e.Kind != c.kind || e.Code != c.code || e.Message != c.msg || e.Status != c.status {
			t.Errorf("%d %s -> %+v", c.status, c.body, e)
		}
	}
}

func TestErrorsFromSimulator(t *testing.T) {
	sim, c, srv := startSim(t, nil)
	_, err := c.GetProduct(tctx(t), "no-such-id")
	if connector.KindOf(err) != connector.KindNotFound || connector.Message(err) != "Product not found" {
		t.Fatalf("missing product: %v", err)
	}
	bad, err := New(connector.Config{Credentials: map[string]string{FieldDomainPrefix: srv.URL, FieldToken: "wrong"},
		HTTP: connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: time.Second})}, testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	before := sim.Calls()
	err = bad.Verify(tctx(t))
	if connector.KindOf(err) != connector.KindCredentials || connector.Message(err) != "Authentication information is missing or invalid." {
		t.Fatalf("bad token: %v", err)
	}
	if sim.Calls() != before+1 {
		t.Fatalf("a 401 was retried: %d calls", sim.Calls()-before)
	}
	// The documented "never both prices" rule, straight at the API.
	req, _ := http.NewRequest("POST", srv.URL+"/api/2.0/products", strings.NewReader(`{"name":"x","price_including_tax":1,"price_excluding_tax":1}`))
	req.Header.Set("Authorization", "Bearer "+sim.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	e := apiError(resp.StatusCode, b)
	if e.Kind != connector.KindInvalid || !strings.Contains(e.Message, "cannot include both") {
		t.Fatalf("both prices: %d %s", resp.StatusCode, b)
	}
}

func TestPaginationEdges(t *testing.T) {
	sim, c, _ := startSim(t, []SimOption{WithSimRegisters(2)}, WithPageSize(50))
	ctx := tctx(t)
	// The misc product plus 99 seeded: exactly two full pages, then the empty page that ends it.
	ids := sim.SeedProducts(99)
	if err := c.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	before := sim.Calls()
	var all []domain.Product
	cur, resume := "", ""
	for pages := 0; ; pages++ {
		p, err := c.ListProducts(ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Items...)
		resume = p.Resume
		if p.Next == "" {
			if pages != 2 || len(p.Items) != 0 {
				t.Fatalf("ended after %d pages with %d items on the last", pages+1, len(p.Items))
			}
			break
		}
		if strings.HasSuffix(p.Next, "~live") == false {
			t.Fatalf("a full read's next cursor %q would ask for deleted products", p.Next)
		}
		cur = p.Next
	}
	if len(all) != 100 || sim.Calls()-before != 3 {
		t.Fatalf("listed %d products in %d calls", len(all), sim.Calls()-before)
	}
	// A deletion shows in the incremental read, marked; an untouched catalog reads empty.
	if !sim.DeleteProduct(ids[10]) {
		t.Fatal("delete")
	}
	p, err := c.ListProducts(ctx, resume)
	if err != nil || len(p.Items) != 1 || !p.Items[0].Deleted || p.Items[0].ID != ids[10] {
		t.Fatalf("incremental after delete: %+v %v", p.Items, err)
	}
	p2, err := c.ListProducts(ctx, p.Next)
	if err != nil || len(p2.Items) != 0 || p2.Next != "" || p2.Resume != p.Resume {
		t.Fatalf("end of incremental read: %+v %v", p2, err)
	}
	// A full read leaves the deleted product out.
	full := 0
	for cur := ""; ; {
		pg, err := c.ListProducts(ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range pg.Items {
			if it.Deleted {
				t.Fatal("deleted product in a full read")
			}
		}
		full += len(pg.Items)
		if pg.Next == "" {
			break
		}
		cur = pg.Next
	}
	if full != 99 {
		t.Fatalf("full read after delete: %d", full)
	}
	if _, err := c.ListProducts(ctx, "not-a-version"); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("bad cursor: %v", err)
	}
	// Product fields map both ways: price, weight, barcode, SKU.
	got, err := c.GetProduct(ctx, ids[0])
	if err != nil || got.Price.Amount != 524 || got.Price.Currency != "EUR" || got.Weight == nil || got.Weight.Unit != "g" ||
		got.Barcode != "8710000000001" || got.SKU != "SAMPLE-00001" {
		t.Fatalf("product fields: %+v %v", got, err)
	}
}

func TestRetryAfterIsAnHTTPDate(t *testing.T) {
	now := time.Date(2015, 10, 21, 7, 27, 30, 0, time.UTC)
	c := &Client{o: defaultOptions()}
	c.o.now = func() time.Time { return now }
	if d := c.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT", 0); d != 30*time.Second {
		t.Fatalf("HTTP date: %s", d)
	}
	if d := c.retryAfter("Wed, 21 Oct 2015 07:20:00 GMT", 0); d != time.Second {
		t.Fatalf("date in the past falls back: %s", d)
	}
	if d := c.retryAfter("", 2); d != 4*time.Second {
		t.Fatalf("no header backs off: %s", d)
	}
	if d := c.retryAfter("Wed, 21 Oct 2015 09:00:00 GMT", 0); d != c.o.max429Wait {
		t.Fatalf("capped: %s", d)
	}
	if d := c.resetIn("1445412480"); d != 30*time.Second {
		t.Fatalf("reset epoch: %s", d)
	}
}

func TestRateLimitWindowRespected(t *testing.T) {
	sim, c, _ := startSim(t, nil)
	ctx := tctx(t)
	if err := c.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	// Two 429s in a row (Retry-After dates) are waited out without an error or a lost call.
	sim.SetRateLimit(1000, time.Second)
	sim.FailNext(2, http.StatusTooManyRequests)
	before := sim.Calls()
	if _, err := c.Stores(ctx); err != nil {
		t.Fatalf("429s surfaced: %v", err)
	}
	if sim.Calls()-before != 3 {
		t.Fatalf("want 2 refused + 1 answered call, got %d", sim.Calls()-before)
	}
	// A tight window: the client reads X-RateLimit-Remaining/Reset and paces itself.
	sim.SetRateLimit(4, time.Second)
	for i := 0; i < 6; i++ {
		if err := c.Verify(ctx); err != nil {
			t.Fatalf("call %d failed: %v", i, err)
		}
	}
}

func TestCreateNotDuplicatedAfter5xx(t *testing.T) {
	sim, c, _ := startSim(t, nil)
	ctx := tctx(t)
	if err := c.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	sim.FailNext(1, http.StatusServiceUnavailable)
	p, err := c.CreateProduct(ctx, domain.Product{Name: "Lamp", SKU: "LAMP-1", Price: domain.Money{Amount: 1999, Currency: "EUR"}})
	if err != nil || p.ID == "" {
		t.Fatalf("create after a 503: %v", err)
	}
	id, err := c.productBySKU(ctx, "LAMP-1")
	if err != nil || id != p.ID {
		t.Fatalf("by sku: %s %v", id, err)
	}
	// Creating an order twice with one reference gives one sale.
	stores, _ := c.Stores(ctx)
	o := domain.Order{Reference: "JOB-9", StoreID: stores[0].ID, Lines: []domain.OrderLine{
		{ProductID: p.ID, Name: "Lamp", Quantity: "1.5", UnitPrice: domain.Money{Amount: 1999, Currency: "EUR"}, TaxRate: "21"}}}
	a, err := c.CreateOrder(ctx, o, "JOB-9#1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreateOrder(ctx, o, "JOB-9#1")
	if err != nil || a.ID != b.ID {
		t.Fatalf("second create: %s vs %s %v", a.ID, b.ID, err)
	}
	got, err := c.GetOrder(ctx, a.ID)
	// 1.5 x 19.99 = 29.985 -> 29.99 net; tax 4.20 a unit x 1.5 = 6.30; total 36.29.
	if err != nil || got.State != domain.OrderOpen || len(got.Lines) != 1 || got.Lines[0].Quantity != "1.5" ||
		got.Lines[0].Name != "Lamp" || got.Total.Amount != 3629 {
		t.Fatalf("order: %+v %v", got, err)
	}
}

func TestSlowAnswers(t *testing.T) {
	sim, c, _ := startSim(t, nil, WithRetries(0, time.Millisecond))
	sim.SetLatency(50 * time.Millisecond)
	if err := c.Verify(tctx(t)); err != nil {
		t.Fatalf("slow but in time: %v", err)
	}
	sim.SetLatency(2 * time.Second) // beyond the 1 s client timeout
	err := c.Verify(tctx(t))
	if connector.KindOf(err) != connector.KindTemporary {
		t.Fatalf("too slow: %v", err)
	}
}

func TestGuardedClientRefusesLoopback(t *testing.T) {
	_, _, srv := startSim(t, nil)
	c, err := New(connector.Config{Credentials: map[string]string{FieldDomainPrefix: srv.URL, FieldToken: "t"},
		HTTP: connector.NewHTTPClient(connector.HTTPOptions{Timeout: time.Second})}, testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Verify(tctx(t))
	if !errors.Is(err, connector.ErrForbiddenHost) || connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("loopback simulator reached through the guarded client: %v", err)
	}
}

func TestSalesSinceOnlyCompleted(t *testing.T) {
	sim, c, _ := startSim(t, nil)
	ctx := tctx(t)
	sim.SeedProducts(3)
	closed := sim.SeedSales(5)
	stores, err := c.Stores(ctx)
	if err != nil {
		t.Fatal(err)
	}
	parked, err := c.CreateOrder(ctx, domain.Order{Reference: "INV-1", StoreID: stores[0].ID, Lines: []domain.OrderLine{
		{Name: "Labour", Quantity: "1", UnitPrice: domain.Money{Amount: 4500, Currency: "EUR"}}}}, "k")
	if err != nil {
		t.Fatal(err)
	}
	var sales []domain.Sale
	resume := ""
	for cur := ""; ; {
		p, err := c.SalesSince(ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		sales = append(sales, p.Items...)
		resume = p.Resume
		if p.Next == "" {
			break
		}
		cur = p.Next
	}
	if len(sales) != len(closed) {
		t.Fatalf("want %d closed sales, got %d", len(closed), len(sales))
	}
	for _, s := range sales {
		if s.Status != "CLOSED" || len(s.Lines) != 1 || s.Total.Amount <= 0 || s.CompletedAt.IsZero() || s.Number == "" {
			t.Fatalf("sale: %+v", s)
		}
	}
	// The parked order completes at the register: the next read sees only it.
	if !sim.CompleteSale(parked.ID) {
		t.Fatal("complete")
	}
	p, err := c.SalesSince(ctx, resume)
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != parked.ID || p.Items[0].Total.Amount != 4500 {
		t.Fatalf("incremental sales: %+v %v", p.Items, err)
	}
	got, err := c.GetOrder(ctx, parked.ID)
	if err != nil || got.State != domain.OrderCompleted {
		t.Fatalf("completed order: %+v %v", got, err)
	}
	if err := c.CancelOrder(ctx, parked.ID, domain.CancelDelete); connector.KindOf(err) != connector.KindUnsupported {
		t.Fatalf("delete mode: %v", err)
	}
	if _, err := c.UpdateOrder(ctx, got, "k2"); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("updating a closed sale: %v", err)
	}
}

func TestOrderLineWithoutProductNeedsMisc(t *testing.T) {
	sim := NewSimulator()
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { sim.Close(); srv.Close() })
	creds := sim.Info(srv.URL).Credentials
	delete(creds, FieldMiscProductID)
	c, err := New(connector.Config{Credentials: creds, HTTP: connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: time.Second})}, testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateOrder(tctx(t), domain.Order{Reference: "R", Lines: []domain.OrderLine{{Name: "x", Quantity: "1"}}}, "k")
	if connector.KindOf(err) != connector.KindInvalid || !strings.Contains(err.Error(), FieldMiscProductID) {
		t.Fatalf("want an invalid error naming %s, got %v", FieldMiscProductID, err)
	}
}

func TestCustomersAndStock(t *testing.T) {
	sim, c, _ := startSim(t, []SimOption{WithSimRegisters(2)})
	ctx := tctx(t)
	cu, err := c.CreateCustomer(ctx, domain.Customer{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Reference: "APP-1"})
	if err != nil || cu.ID == "" || cu.Reference != "APP-1" {
		t.Fatalf("create customer: %+v %v", cu, err)
	}
	page, err := c.ListCustomers(ctx, "")
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("list customers: %+v %v", page, err)
	}
	cu.Phone = "+31 20 123 4567"
	up, err := c.UpdateCustomer(ctx, cu)
	if err != nil || up.Phone != cu.Phone {
		t.Fatalf("update customer: %+v %v", up, err)
	}
	next, err := c.ListCustomers(ctx, page.Resume)
	if err != nil || len(next.Items) != 1 || next.Items[0].Phone != cu.Phone {
		t.Fatalf("incremental customers: %+v %v", next, err)
	}

	ids := sim.SeedProducts(2)
	outlets := sim.OutletIDs()
	var levels []domain.StockLevel
	resume := ""
	for cur := ""; ; {
		p, err := c.ListStock(ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		levels = append(levels, p.Items...)
		resume = p.Resume
		if p.Next == "" {
			break
		}
		cur = p.Next
	}
	if len(levels) != 3*2 { // misc + 2 products at 2 outlets
		t.Fatalf("stock levels: %d", len(levels))
	}
	res, err := c.SetStock(ctx, []domain.StockLevel{
		{ProductID: ids[0], LocationID: outlets[1], Quantity: "2.5"},
		{ProductID: ids[1], LocationID: "no-such-outlet", Quantity: "1"},
	})
	if err != nil || len(res) != 2 || res[0].Err != nil || res[1].Err == nil {
		t.Fatalf("set stock: %+v %v", res, err)
	}
	p, err := c.ListStock(ctx, resume)
	if err != nil || len(p.Items) != 1 || p.Items[0].Quantity != "2.5" || p.Items[0].LocationID != outlets[1] {
		t.Fatalf("incremental stock: %+v %v", p.Items, err)
	}
}

func TestTaxInclusiveStorePrices(t *testing.T) {
	_, c, _ := startSim(t, []SimOption{WithSimTaxInclusive(), WithSimCurrency("NZD")})
	ctx := tctx(t)
	p, err := c.CreateProduct(ctx, domain.Product{Name: "Tee", SKU: "TEE", Price: domain.Money{Amount: 2999, Currency: "NZD"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetProduct(ctx, p.ID)
	if err != nil || got.Price.Amount != 2999 || got.Price.Currency != "NZD" {
		t.Fatalf("tax-inclusive read back: %+v %v", got, err)
	}
	got.Price.Amount = 3499
	got.Name = "Tee v2"
	if _, err := c.UpdateProduct(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, err := c.GetProduct(ctx, p.ID)
	if err != nil || again.Price.Amount != 3499 || again.Name != "Tee v2" || again.SKU != "TEE" {
		t.Fatalf("after update: %+v %v", again, err)
	}
	if _, err := c.CreateProduct(ctx, domain.Product{Name: "X", Price: domain.Money{Amount: 1, Currency: "EUR"}}); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("wrong currency accepted: %v", err)
	}
}

func TestWebhookSubscribeAndDelivery(t *testing.T) {
	got := make(chan []byte, 8)
	var hdrs = make(chan http.Header, 8)
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hdrs <- r.Header.Clone()
		got <- b
	}))
	t.Cleanup(rx.Close)
	sim, c, _ := startSim(t, []SimOption{WithSimDeliveryClient(nil, 2, 10*time.Millisecond)})
	ctx := tctx(t)
	ids := sim.SeedProducts(1)
	id, err := c.Subscribe(ctx, rx.URL+"/hook", "", []string{domain.ProviderProductUpdated, TopicSale})
	if err != nil || strings.Count(id, ",") != 1 {
		t.Fatalf("subscribe: %q %v", id, err)
	}
	// Subscribing again reuses the existing webhooks (409 on the API).
	again, err := c.Subscribe(ctx, rx.URL+"/hook", "", []string{TopicProduct})
	if err != nil || !strings.HasPrefix(id, again) {
		t.Fatalf("resubscribe: %q %v", again, err)
	}
	sim.TouchProduct(ids[0])
	select {
	case body := <-got:
		h := <-hdrs
		if ct := h.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Fatalf("content type %q", ct)
		}
		evs, err := c.ParseWebhook(h, body, "", sim.WebhookSecret())
		if err != nil || len(evs) != 1 || evs[0].Type != domain.ProviderProductUpdated || evs[0].ObjectID != ids[0] {
			t.Fatalf("delivered event: %+v %v", evs, err)
		}
	case <-ctx.Done():
		t.Fatal("no delivery")
	}
	if err := c.Unsubscribe(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := c.Unsubscribe(ctx, id); err != nil {
		t.Fatalf("unsubscribe twice: %v", err)
	}
	if _, err := c.Subscribe(ctx, rx.URL, "", []string{"order.refunded"}); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("unknown topic: %v", err)
	}
}

func TestProviderDeclaration(t *testing.T) {
	if Provider.Type != "lightspeed" || Provider.Open == nil || Provider.NewSimulator == nil {
		t.Fatal("provider incomplete")
	}
	sim := Provider.NewSimulator(5)
	info := sim.Info("http://127.0.0.1:9101")
	if info.BaseURL != "http://127.0.0.1:9101" || info.Credentials[FieldToken] == "" || info.WebhookSecret == "" {
		t.Fatalf("info: %+v", info)
	}
	conn, err := Provider.Open(connector.Config{Credentials: info.Credentials})
	if err != nil || conn == nil {
		t.Fatalf("open: %v", err)
	}
	for _, capab := range Provider.Capabilities {
		var ok bool
		switch capab {
		case domain.CapProducts:
			_, ok = conn.(connector.ProductSink)
		case domain.CapStock:
			_, ok = conn.(connector.StockSink)
		case domain.CapCustomers:
			_, ok = conn.(connector.CustomerSink)
		case domain.CapOrders:
			_, ok = conn.(connector.OrderSink)
		case domain.CapSales:
			_, ok = conn.(connector.SalesSource)
		case domain.CapWebhooks:
			_, ok = conn.(connector.WebhookSubscriber)
		}
		if !ok {
			t.Errorf("declared %s but does not implement it", capab)
		}
	}
	for _, f := range Provider.Fields {
		if (f.Name == FieldToken || f.Name == FieldWebhookSecret) != f.Secret {
			t.Errorf("field %s secret=%v", f.Name, f.Secret)
		}
	}
	if _, err := Provider.Open(connector.Config{Credentials: map[string]string{FieldDomainPrefix: "shop"}}); !domain.IsCode(err, domain.CodeInvalid) {
		t.Fatalf("missing token: %v", err)
	}
	_ = hmac.New(sha256.New, nil)
}
