package shopify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

func tctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute) // generous: a busy machine; it ends when cond holds
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The HMAC vectors were computed independently with
// `printf '%s' BODY | openssl dgst -sha256 -hmac SECRET -binary | base64`. The first is the
// issue's WooCommerce vector, which uses the same construction (base64 HMAC-SHA256 of the raw
// body) as Shopify's X-Shopify-Hmac-Sha256; the issue prints it with a capital "Z", but the
// digest starts with byte 0xcf, so its base64 starts with a lower-case "z".
func TestSignatureVectors(t *testing.T) {
	for _, v := range []struct{ secret, body, want string }{
		{"s3cr3t", `{"id":1}`, "z1PTSunFKhGV0B2iDV3egGE8TThlQMRrvLklMBTdxQU="},
		{"hush", `{"id":820982911946154508,"title":"Example product"}`, "GnnIxISR9ZgA9URdzelDd1IhQntqbUrRMO9HiHPpKXo="},
	} {
		if got := Sign(v.secret, []byte(v.body)); got != v.want {
			t.Errorf("Sign(%q, %s) = %s, want %s", v.secret, v.body, got, v.want)
		}
		if !VerifySignature(v.secret, []byte(v.body), v.want) {
			t.Errorf("VerifySignature refused the vector %s", v.want)
		}
	}
}

func TestFlippedSignatureBitRefused(t *testing.T) {
	body := []byte(`{"id":1}`)
	sig, _ := base64.StdEncoding.DecodeString(Sign("s3cr3t", body))
	h := http.Header{}
	h.Set(HeaderTopic, "orders/create")
	for i := range sig {
		for bit := 0; bit < 8; bit++ {
			b := append([]byte(nil), sig...)
			b[i] ^= 1 << bit
			h.Set(HeaderHmac, base64.StdEncoding.EncodeToString(b))
			if _, err := ParseWebhook(h, body, "s3cr3t"); err == nil {
				t.Fatalf("signature with bit %d of byte %d flipped was accepted", bit, i)
			}
		}
	}
	h.Del(HeaderHmac)
	if _, err := ParseWebhook(h, body, "s3cr3t"); err == nil {
		t.Fatal("a delivery without a signature was accepted")
	}
	h.Set(HeaderHmac, "not base64!")
	if _, err := ParseWebhook(h, body, "s3cr3t"); err == nil {
		t.Fatal("a garbage signature was accepted")
	}
}

func TestParseWebhookEvent(t *testing.T) {
	body := []byte(`{"id":450789469,"name":"#1001"}`)
	h := http.Header{}
	h.Set(HeaderHmac, Sign("k", body))
	h.Set(HeaderTopic, "orders/updated")
	h.Set(HeaderEventID, "ev-1")
	h.Set(HeaderWebhookID, "wh-1")
	h.Set(HeaderTriggeredAt, "2025-10-01T12:00:00.123Z")
	evs, err := ParseWebhook(h, body, "k")
	if err != nil || len(evs) != 1 {
		t.Fatalf("parse: %v %v", evs, err)
	}
	e := evs[0]
	if e.ID != "ev-1" || e.Type != domain.ProviderOrderUpdated || e.Topic != "orders/updated" || e.ObjectID != "450789469" ||
		!e.OccurredAt.Equal(time.Date(2025, 10, 1, 12, 0, 0, 123e6, time.UTC)) {
		t.Fatalf("event %+v", e)
	}
	// inventory levels have no id of their own
	body = []byte(`{"inventory_item_id":271878346596884015,"location_id":24826418,"available":6}`)
	h.Set(HeaderHmac, Sign("k", body))
	h.Set(HeaderTopic, "inventory_levels/update")
	evs, err = ParseWebhook(h, body, "k")
	if err != nil || evs[0].Type != domain.ProviderStockUpdated || evs[0].ObjectID != "271878346596884015@24826418" {
		t.Fatalf("inventory event %+v %v", evs, err)
	}
}

func TestProviderErrorShapes(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		kind   connector.Kind
		msg    string
		code   string
	}{
		{401, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`, connector.KindCredentials,
			"[API] Invalid API key or access token (unrecognized login or wrong password)", ""},
		{403, `{"errors":"[API] This action requires merchant approval for write_products scope."}`, connector.KindCredentials,
			"[API] This action requires merchant approval for write_products scope.", ""},
		{404, `{"errors":"Not Found"}`, connector.KindNotFound, "Not Found", ""},
		{422, `{"errors":{"title":["can't be blank"],"base":["Too many variants"]}}`, connector.KindInvalid,
			"Too many variants; title can't be blank", "base,title"},
		{422, `{"errors":["The fulfillment order is not in an open state."]}`, connector.KindInvalid, "The fulfillment order is not in an open state.", ""},
		{429, `{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}`, connector.KindRateLimited,
			"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.", ""},
		{503, `<html>oops</html>`, connector.KindTemporary, "Service Unavailable", ""},
		{400, `{"error":"invalid_request","error_description":"Missing client_id"}`, connector.KindInvalid, "invalid_request Missing client_id", ""},
	} {
		e := providerError(c.status, []byte(c.body))
		if e.Kind != c.kind || e.Message != c.msg || e.Code != c.code || e.Status != c.status {
			t.Errorf("%d %s: got kind %v msg %q code %q", c.status, c.body, e.Kind, e.Message, e.Code)
		}
	}
}

func TestErrorsFromSimulator(t *testing.T) {
	sim, c := startSim(t, testOptions)
	// wrong token: 401 with Shopify's words, surfaced at once
	bad, err := New(connector.Config{Credentials: map[string]string{FieldShopDomain: c.base, FieldAccessToken: "shpat_wrong"},
		HTTP: connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: time.Second})}, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	before := sim.Calls()
	err = bad.Verify(tctx(t))
	if connector.KindOf(err) != connector.KindCredentials || !strings.Contains(connector.Message(err), "Invalid API key or access token") {
		t.Fatalf("wrong token: %v", err)
	}
	if sim.Calls()-before != 1 {
		t.Fatalf("a 401 was retried: %d calls", sim.Calls()-before)
	}
	// unknown product: 404
	if _, err := c.GetProduct(tctx(t), "123"); connector.KindOf(err) != connector.KindNotFound {
		t.Fatalf("missing product: %v", err)
	}
	// invalid product: productSet's user error with Shopify's words
	_, err = c.CreateProduct(tctx(t), sim.InvalidProduct())
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Kind != connector.KindInvalid || ce.Message != "Title can't be blank" || ce.Code != "BLANK" {
		t.Fatalf("invalid product: %#v", err)
	}
	// a 5xx on a create is not repeated (Shopify may have created it)
	sim.FailNext(1, 502)
	before = sim.Calls()
	if _, err := c.CreateProduct(tctx(t), sim.ValidProduct(3)); connector.KindOf(err) != connector.KindTemporary {
		t.Fatalf("create under 502: %v", err)
	}
	if sim.Calls()-before != 1 {
		t.Fatalf("an unsafe create was repeated: %d calls", sim.Calls()-before)
	}
	// 5xx on reads: retried a bounded number of times, then surfaced
	sim.FailNext(10, 500)
	before = sim.Calls()
	if err := c.Verify(tctx(t)); connector.KindOf(err) != connector.KindTemporary {
		t.Fatalf("persistent 500: %v", err)
	}
	if n := sim.Calls() - before; n != 1+testOptions.MaxRetries {
		t.Fatalf("persistent 500 took %d calls, want %d", n, 1+testOptions.MaxRetries)
	}
	sim.FailNext(0, 0)
}

func TestSlowAnswersWithinTimeout(t *testing.T) {
	sim, c := startSim(t, testOptions)
	sim.SetLatency(200 * time.Millisecond)
	if err := c.Verify(tctx(t)); err != nil {
		t.Fatalf("a slow answer inside the timeout failed: %v", err)
	}
	sim.SetLatency(0)
}

func rawGet(t *testing.T, c *Client, path string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.adminURL(path), nil)
	req.Header.Set("X-Shopify-Access-Token", c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestPaginationEdgeCases(t *testing.T) {
	sim, c := startSim(t, Options{PageSize: 10, LeakRate: testLeak, Backoff: 5 * time.Millisecond})

	// an empty shop: one page, no Link header, a resume mark all the same
	p, err := c.ListProducts(tctx(t), "")
	if err != nil || len(p.Items) != 0 || p.Next != "" || p.Resume == "" {
		t.Fatalf("empty shop: %+v %v", p, err)
	}

	// exactly one full page: no next link
	sim.SeedProducts(10)
	p, err = c.ListProducts(tctx(t), "")
	if err != nil || len(p.Items) != 10 || p.Next != "" {
		t.Fatalf("exactly one page: %d items next %q %v", len(p.Items), p.Next, err)
	}
	resp, _ := rawGet(t, c, "products.json?limit=10")
	if resp.Header.Get("Link") != "" {
		t.Fatalf("Link header on the only page: %s", resp.Header.Get("Link"))
	}

	// 25 products in pages of 10: 10, 10, 5; page 2 links both ways
	sim.SeedProducts(15)
	var sizes []int
	cur := ""
	for {
		p, err := c.ListProducts(tctx(t), cur)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(p.Items))
		if p.Next == "" {
			if p.Resume == "" {
				t.Fatal("no resume on the last page")
			}
			break
		}
		if p.Resume != "" {
			t.Fatal("a resume mark before the last page")
		}
		cur = p.Next
	}
	if fmt.Sprint(sizes) != "[10 10 5]" {
		t.Fatalf("page sizes %v", sizes)
	}
	resp, _ = rawGet(t, c, "products.json?limit=10")
	next := nextLink(resp.Header)
	u := next[strings.Index(next, "/admin/api/")+len("/admin/api/"+APIVersion+"/"):]
	resp, _ = rawGet(t, c, u)
	link := resp.Header.Get("Link")
	if !strings.Contains(link, `rel="previous"`) || !strings.Contains(link, `rel="next"`) || !strings.Contains(link, "page_info=") {
		t.Fatalf("page 2 Link: %s", link)
	}

	// page_info with another filter is refused, as Shopify documents
	resp, body := rawGet(t, c, u+"&updated_at_min=2020-01-01T00:00:00Z")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "page_info") {
		t.Fatalf("page_info with a filter: %d %s", resp.StatusCode, body)
	}
	// limit above 250 is refused
	if resp, _ := rawGet(t, c, "products.json?limit=251"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("limit=251: %d", resp.StatusCode)
	}
	// a cursor that is not ours
	if _, err := c.ListProducts(tctx(t), "bogus"); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("bogus cursor: %v", err)
	}
	// an incremental read with no change returns nothing and keeps its mark
	_, resume := listAllProducts(t, c, "")
	p, err = c.ListProducts(tctx(t), resume)
	if err != nil || len(p.Items) != 0 || p.Resume != resume {
		t.Fatalf("quiet incremental read: %+v %v", p, err)
	}
}

func listAllProducts(t testing.TB, c *Client, cur string) ([]domain.Product, string) {
	t.Helper()
	var all []domain.Product
	for i := 0; i < 10000; i++ {
		p, err := c.ListProducts(tctx(t), cur)
		if err != nil {
			t.Fatalf("list products: %v", err)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all, p.Resume
		}
		cur = p.Next
	}
	t.Fatal("pagination does not end")
	return nil, ""
}

func TestProductFieldsRoundTrip(t *testing.T) {
	sim, c := startSim(t, testOptions)
	want := sim.ValidProduct(7)
	got, err := c.CreateProduct(tctx(t), want)
	if err != nil {
		t.Fatal(err)
	}
	if got.Price != want.Price || got.SKU != want.SKU || got.Barcode != want.Barcode || got.Weight == nil ||
		got.Weight.Value != "0.15" || got.Weight.Unit != "kg" || len(got.Categories) != 1 || got.Categories[0].Name != "Accessories" ||
		!got.TrackStock || len(got.Variants) != 1 {
		t.Fatalf("created %+v", got)
	}
	got.Price.Amount = 2000
	got.Name = "Bike bell deluxe"
	got.Variants = nil
	upd, err := c.UpdateProduct(tctx(t), got)
	if err != nil || upd.Price.Amount != 2000 || upd.Name != "Bike bell deluxe" || upd.Variants[0].ID != got.ID && len(upd.Variants) != 1 {
		t.Fatalf("updated %+v %v", upd, err)
	}
	// variants with their own prices
	multi := sim.ValidProduct(8)
	multi.Variants = []domain.Variant{
		{Name: "Small", SKU: "S", Price: domain.Money{Amount: 1000, Currency: "EUR"}},
		{Name: "Large", SKU: "L", Price: domain.Money{Amount: 1250, Currency: "EUR"}, TrackStock: true},
	}
	m, err := c.CreateProduct(tctx(t), multi)
	if err != nil || len(m.Variants) != 2 || m.Variants[1].Price.Amount != 1250 || m.Variants[1].Name != "Large" || !m.Variants[1].TrackStock {
		t.Fatalf("variants %+v %v", m, err)
	}
	// a price in another currency than the shop's is refused before any call
	bad := sim.ValidProduct(9)
	bad.Price.Currency = "USD"
	if _, err := c.CreateProduct(tctx(t), bad); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("foreign currency: %v", err)
	}
}

func TestMoney(t *testing.T) {
	// The conversion itself is tested in package connector; this checks that the currency picks
	// the exponent.
	for _, c := range []struct {
		s    string
		cur  string
		want int64
		back string
	}{{"19.99", "EUR", 1999, "19.99"}, {"1000", "JPY", 1000, "1000"}, {"1.234", "KWD", 1234, "1.234"}, {"19.995", "eur", 2000, "20.00"}} {
		got, err := parseMoney(c.s, c.cur)
		if err != nil || got != c.want {
			t.Errorf("parseMoney(%q,%s) = %d %v, want %d", c.s, c.cur, got, err, c.want)
		}
		if back := formatMoney(c.want, c.cur); back != c.back {
			t.Errorf("formatMoney(%d,%s) = %s, want %s", c.want, c.cur, back, c.back)
		}
	}
	if _, err := parseQuantity("2.5"); err == nil {
		t.Error("a fractional quantity was accepted")
	}
	if n, err := parseQuantity("3.000"); err != nil || n != 3 {
		t.Errorf("parseQuantity(3.000) = %d %v", n, err)
	}
}

func TestShopBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"mystore.myshopify.com":                "https://mystore.myshopify.com",
		" MyStore.myshopify.com/admin ":        "https://mystore.myshopify.com",
		"https://mystore.myshopify.com/admin/": "https://mystore.myshopify.com",
		"http://127.0.0.1:9101":                "http://127.0.0.1:9101",
	} {
		if got, err := ShopBaseURL(in); err != nil || got != want {
			t.Errorf("ShopBaseURL(%q) = %q %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ftp://x", "https://user:pw@x.myshopify.com", "bad host!", "http://"} {
		if _, err := ShopBaseURL(in); connector.KindOf(err) != connector.KindInvalid {
			t.Errorf("ShopBaseURL(%q) accepted: %v", in, err)
		}
	}
}

func TestGuardRefusesPrivateShop(t *testing.T) {
	c, err := New(connector.Config{Credentials: map[string]string{FieldShopDomain: "http://127.0.0.1:1", FieldAccessToken: "x"},
		HTTP: connector.NewHTTPClient(connector.HTTPOptions{Timeout: time.Second})}, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Verify(tctx(t))
	if !errors.Is(err, connector.ErrForbiddenHost) || connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("loopback shop: %v", err)
	}
}

// A 429 is waited out for the Retry-After Shopify gives (fractional seconds) and retried; the
// caller sees no error and the client counts the throttle.
func TestRetryAfterWaitedOut(t *testing.T) {
	sim, c := startSim(t, testOptions)
	sim.FailNext(2, http.StatusTooManyRequests)
	if err := c.Verify(tctx(t)); err != nil {
		t.Fatalf("429s surfaced: %v", err)
	}
	if c.Throttled() != 2 {
		t.Fatalf("throttled %d, want 2", c.Throttled())
	}
	if d := retryAfter("2.0", 2); d != 2*time.Second {
		t.Fatalf("Retry-After 2.0 = %s", d)
	}
	if d := retryAfter("0.5", 2); d != 500*time.Millisecond {
		t.Fatalf("Retry-After 0.5 = %s", d)
	}
	if d := retryAfter("", 2); d != 500*time.Millisecond {
		t.Fatalf("no Retry-After = %s", d)
	}
}

// A worker that may not wait (connector.WithMaxWait) is told to snooze for a 429's Retry-After
// instead of sleeping it out, and the integration's later calls still hold until it has passed.
func TestRetryAfterPacesABoundedWorker(t *testing.T) {
	sim, c := startSim(t, testOptions)
	sim.FailNext(1, http.StatusTooManyRequests)
	err := c.Verify(connector.WithMaxWait(tctx(t), 0))
	var paced *connector.PacedError
	if !errors.As(err, &paced) || paced.Wait <= 0 {
		t.Fatalf("429 under WithMaxWait: %v, want a *connector.PacedError", err)
	}
	if c.Throttled() != 1 {
		t.Fatalf("throttled %d, want 1", c.Throttled())
	}
	if err := c.Verify(tctx(t)); err != nil {
		t.Fatalf("a call that may wait: %v", err)
	}
}

func TestBucketModelFollowsHeader(t *testing.T) {
	b := newBucket(40, 2, 1)
	if err := b.acquire(tctx(t)); err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("X-Shopify-Shop-Api-Call-Limit", "39/80")
	b.observe(h, time.Now())
	if b.size != 80 || b.used < 38.9 || b.used > 39 {
		t.Fatalf("model after header: size %v used %v", b.size, b.used)
	}
	if _, _, ok := parseCallLimit("x/40"); ok {
		t.Fatal("parsed a bad header")
	}
}

// Many calls at once against a fast bucket: the client paces itself from the call-limit header
// and no 429 ever reaches the caller.
func TestNoThrottleErrorsUnderLoad(t *testing.T) {
	calls, throttled, failed, _ := pullWithBucket(t, 40, 200, 1000, 10, 3)
	if failed != 0 {
		t.Fatalf("%d calls failed", failed)
	}
	t.Logf("%d calls, %d answered 429 by the simulator and waited out", calls, throttled)
}

// pullWithBucket pulls n paid orders (SalesSince, a REST listing paced by the leaky bucket; the
// product reads go through GraphQL and its cost bucket) in pages of limit from a simulator with
// the given bucket, with workers listings running at once, and reports calls made, 429s met and
// failed calls.
func pullWithBucket(tb testing.TB, size int, leak float64, n, limit, workers int) (calls, throttled, failed int, elapsed time.Duration) {
	sim := NewSimulator(WithBucket(size, leak))
	srv := httptest.NewServer(sim)
	defer func() { sim.Close(); srv.Close() }()
	for i := 0; i < n; i++ {
		sim.AddPOSSale(fmt.Sprintf("Sale %d", i), 1000+int64(i), 1)
	}
	info := sim.Info(srv.URL)
	c, err := New(connector.Config{Credentials: info.Credentials,
		HTTP: connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: 10 * time.Second})},
		Options{PageSize: limit, LeakRate: leak, BucketSize: size, Backoff: 10 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := c.shopCurrency(context.Background()); err != nil {
		tb.Fatal(err)
	}
	// start the measure with an empty bucket, as a client that has been quiet a while
	sim.SetBucket(size, leak)
	c.bucket = newBucket(float64(size), leak, float64(c.opts.Headroom))
	calls0 := c.Calls()
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cur, got := "", 0
			for {
				p, err := c.SalesSince(context.Background(), cur)
				if err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
					return
				}
				got += len(p.Items)
				if p.Next == "" {
					break
				}
				cur = p.Next
			}
			if got != n {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed = time.Since(start)
	return int(c.Calls() - calls0), sim.Throttled(), failed, elapsed
}

func TestStock(t *testing.T) {
	sim, c := startSim(t, testOptions)
	ids := sim.SeedProducts(3)
	var all []domain.StockLevel
	cur := ""
	for {
		p, err := c.ListStock(tctx(t), cur)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			cur = p.Resume
			break
		}
		cur = p.Next
	}
	if len(all) != 6 || all[0].ProductID != ids[0] || all[0].VariantID == "" || all[0].Quantity == "" {
		t.Fatalf("levels %+v", all)
	}
	time.Sleep(1100 * time.Millisecond) // second-resolution updated_at
	locs := sim.Locations()
	res, err := c.SetStock(tctx(t), []domain.StockLevel{
		{ProductID: ids[1], LocationID: strconv.FormatInt(locs[1], 10), Quantity: "17"},
		{ProductID: ids[1], LocationID: strconv.FormatInt(locs[1], 10), Quantity: "2.5"},
	})
	if err != nil || len(res) != 2 || res[0].Err != nil || res[1].Err == nil || connector.KindOf(res[1].Err) != connector.KindInvalid {
		t.Fatalf("set stock: %+v %v", res, err)
	}
	p, err := c.ListStock(tctx(t), cur)
	if err != nil || len(p.Items) != 1 || p.Items[0].ProductID != ids[1] || p.Items[0].Quantity != "17" ||
		p.Items[0].LocationID != strconv.FormatInt(locs[1], 10) {
		t.Fatalf("incremental stock: %+v %v", p.Items, err)
	}
}

func TestCustomers(t *testing.T) {
	_, c := startSim(t, testOptions)
	cu, err := c.CreateCustomer(tctx(t), domain.Customer{Email: "anna@example.com", FirstName: "Anna", LastName: "Smit", Reference: "CUST-9"})
	if err != nil || cu.ID == "" || cu.Reference != "CUST-9" {
		t.Fatalf("create: %+v %v", cu, err)
	}
	if _, err := c.CreateCustomer(tctx(t), domain.Customer{Email: "anna@example.com"}); connector.KindOf(err) != connector.KindInvalid ||
		!strings.Contains(connector.Message(err), "email has already been taken") {
		t.Fatalf("duplicate email: %v", err)
	}
	p, err := c.ListCustomers(tctx(t), "")
	if err != nil || len(p.Items) != 1 || p.Resume == "" {
		t.Fatalf("list: %+v %v", p, err)
	}
	time.Sleep(1100 * time.Millisecond)
	cu.Phone = "+31201234567"
	cu.Reference = "CUST-10"
	upd, err := c.UpdateCustomer(tctx(t), cu)
	if err != nil || upd.Phone != "+31201234567" || upd.Reference != "CUST-10" {
		t.Fatalf("update: %+v %v", upd, err)
	}
	q, err := c.ListCustomers(tctx(t), p.Resume)
	if err != nil || len(q.Items) != 1 || q.Items[0].ID != cu.ID {
		t.Fatalf("incremental: %+v %v", q, err)
	}
}

func TestOrderEditsAndLookups(t *testing.T) {
	sim, c := startSim(t, testOptions)
	stores, err := c.Stores(tctx(t))
	if err != nil || len(stores) != 2 || stores[0].Currency != "EUR" {
		t.Fatalf("stores %+v %v", stores, err)
	}
	pid := sim.SeedProducts(1)[0]
	prod, err := c.GetProduct(tctx(t), pid)
	if err != nil {
		t.Fatal(err)
	}
	// a POS sale of another app carrying the same reference text is not ours
	sim.AddPOSSale("Walk-in", 500, 1)
	o := domain.Order{Reference: "JOB-1", StoreID: stores[0].ID, Note: "bike 12", Lines: []domain.OrderLine{
		{Name: "Labour", Quantity: "2", UnitPrice: domain.Money{Amount: 3000, Currency: "EUR"}},
		{VariantID: prod.Variants[0].ID, Name: prod.Name, Quantity: "1", UnitPrice: prod.Price},
	}}
	// a 503 before the create reached the shop: checked, then created once
	sim.FailNext(1, 503)
	created, err := c.CreateOrder(tctx(t), o, "JOB-1#1")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.Reference != "JOB-1" || created.Total.Amount != 6000+prod.Price.Amount || created.State != domain.OrderCompleted && created.State != domain.OrderOpen {
		t.Fatalf("created %+v", created)
	}
	again, err := c.FindOrderByReference(tctx(t), "JOB-1")
	if err != nil || again.ID != created.ID {
		t.Fatalf("find: %+v %v", again, err)
	}
	if _, err := c.FindOrderByReference(tctx(t), "JOB-404"); connector.KindOf(err) != connector.KindNotFound {
		t.Fatalf("missing reference: %v", err)
	}
	// drop the labour, double the part, add a custom line
	o.ID = created.ID
	o.Lines = []domain.OrderLine{
		{VariantID: prod.Variants[0].ID, Name: prod.Name, Quantity: "2", UnitPrice: prod.Price},
		{Name: "Bell", Quantity: "1", UnitPrice: domain.Money{Amount: 799, Currency: "EUR"}},
	}
	o.Note = "bike 12, checked"
	upd, err := c.UpdateOrder(tctx(t), o, "JOB-1#2")
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if len(upd.Lines) != 2 || upd.Total.Amount != 2*prod.Price.Amount+799 || upd.Note != "bike 12, checked" || upd.Reference != "JOB-1" {
		t.Fatalf("after edit %+v", upd)
	}
	// the same update again changes nothing (no edit session committed)
	callsBefore := sim.Calls()
	if _, err := c.UpdateOrder(tctx(t), o, "JOB-1#2"); err != nil {
		t.Fatal(err)
	}
	if n := sim.Calls() - callsBefore; n != 4 { // get, put, edit begin, get
		t.Fatalf("a repeated update made %d calls", n)
	}
	// archive, then void
	if err := c.CancelOrder(tctx(t), created.ID, domain.CancelVoid); err != nil {
		t.Fatal(err)
	}
	if err := c.CancelOrder(tctx(t), created.ID, domain.CancelVoid); err != nil {
		t.Fatalf("cancelling twice: %v", err)
	}
	if _, err := c.UpdateOrder(tctx(t), o, "JOB-1#3"); connector.KindOf(err) != connector.KindConflict {
		t.Fatalf("updating a cancelled order: %v", err)
	}
	if err := c.CancelOrder(tctx(t), created.ID, domain.CancelDelete); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetOrder(tctx(t), created.ID); connector.KindOf(err) != connector.KindNotFound {
		t.Fatalf("deleted order: %v", err)
	}
	if _, err := c.CreateOrder(tctx(t), domain.Order{Reference: "X", Lines: []domain.OrderLine{{Name: "half", Quantity: "0.5"}}}, "k"); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("fractional quantity: %v", err)
	}
}

func TestSalesSince(t *testing.T) {
	sim, c := startSim(t, testOptions)
	id := sim.AddPOSSale("Coffee", 350, 2)
	p, err := c.SalesSince(tctx(t), "")
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != id || p.Items[0].Total.Amount != 700 || p.Items[0].Lines[0].Name != "Coffee" || p.Resume == "" {
		t.Fatalf("sales %+v %v", p, err)
	}
	time.Sleep(1100 * time.Millisecond)
	id2 := sim.AddPOSSale("Cake", 425, 1)
	q, err := c.SalesSince(tctx(t), p.Resume)
	if err != nil || len(q.Items) != 1 || q.Items[0].ID != id2 {
		t.Fatalf("incremental sales %+v %v", q, err)
	}
}

func TestWebhookSubscriptionDelivers(t *testing.T) {
	sim, c := startSim(t, testOptions)
	var mu sync.Mutex
	var got []domain.ProviderEvent
	var parseErr error
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		evs, err := c.ParseWebhook(r.Header, body, "http://"+r.Host+r.URL.Path, sim.APISecret())
		mu.Lock()
		got = append(got, evs...)
		if err != nil {
			parseErr = err
		}
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer rx.Close()
	id, err := c.Subscribe(tctx(t), rx.URL+"/hooks/1", "", []string{domain.ProviderProductUpdated, "orders/create"})
	if err != nil || len(strings.Split(id, ",")) != 3 {
		t.Fatalf("subscribe: %q %v", id, err)
	}
	if _, err := c.Subscribe(tctx(t), rx.URL+"/hooks/1", "", []string{"orders/create"}); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("duplicate subscription: %v", err)
	}
	if _, err := c.Subscribe(tctx(t), rx.URL+"/hooks/2", "", []string{"nonsense/topic"}); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("bad topic: %v", err)
	}
	pid := sim.SeedProducts(1)[0]
	sim.TouchProduct(pid)
	waitFor(t, "the products/update delivery", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 1
	})
	mu.Lock()
	ev := got[0]
	perr := parseErr
	mu.Unlock()
	if perr != nil || ev.Type != domain.ProviderProductUpdated || ev.ObjectID != pid || ev.ID == "" {
		t.Fatalf("delivered %+v %v", ev, perr)
	}
	if err := c.Unsubscribe(tctx(t), id); err != nil {
		t.Fatal(err)
	}
	if err := c.Unsubscribe(tctx(t), id); err != nil {
		t.Fatalf("unsubscribing twice: %v", err)
	}
	if _, err := c.Subscribe(tctx(t), rx.URL+"/hooks/3", "another-secret", nil); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("a per-subscription secret was accepted: %v", err)
	}
}

func TestProviderAndInfo(t *testing.T) {
	if Provider.Type != "shopify" || Provider.Open == nil || Provider.NewSimulator == nil || !Provider.Has(domain.CapOrders) {
		t.Fatal("provider incomplete")
	}
	for _, f := range Provider.Fields {
		if (f.Name == FieldAccessToken || f.Name == FieldAPISecret) != f.Secret {
			t.Fatalf("field %s secret=%v", f.Name, f.Secret)
		}
	}
	sim := Provider.NewSimulator(5)
	srv := httptest.NewServer(sim)
	defer srv.Close()
	info := sim.Info(srv.URL)
	b, _ := json.Marshal(info)
	if info.BaseURL != srv.URL || info.WebhookSecret == "" || info.Credentials[FieldShopDomain] != srv.URL {
		t.Fatalf("info %s", b)
	}
	conn, err := Provider.Open(connector.Config{Credentials: info.Credentials,
		HTTP: connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: time.Second})})
	if err != nil {
		t.Fatal(err)
	}
	src, err := connector.As[connector.ProductSource](conn, domain.CapProducts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := src.ListProducts(tctx(t), "")
	if err != nil || len(p.Items) != 5 {
		t.Fatalf("seeded sim: %d %v", len(p.Items), err)
	}
	// plain HTTP as curl would send it
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/admin/api/2025-10/products.json?limit=2", nil)
	req.Header.Set("X-Shopify-Access-Token", info.Credentials[FieldAccessToken])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Shopify-Shop-Api-Call-Limit") == "" || nextLink(resp.Header) == "" {
		t.Fatalf("curl-like call: %d %v", resp.StatusCode, resp.Header)
	}
	if _, err := Provider.Open(connector.Config{Credentials: map[string]string{FieldShopDomain: "x.myshopify.com"}}); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("open without token: %v", err)
	}
}
