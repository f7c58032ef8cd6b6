package square

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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

func connErr(t *testing.T, err error) *connector.Error {
	t.Helper()
	var e *connector.Error
	if !errors.As(err, &e) {
		t.Fatalf("want a *connector.Error, got %T %v", err, err)
	}
	return e
}

// Square's published signature examples (the test vectors of its official SDKs).
func TestSignatureVectors(t *testing.T) {
	vectors := []struct{ body, sig, key, url string }{
		{
			body: `{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}`,
			sig:  "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=",
			key:  "Ibxx_5AKakO-3qeNVR61Dw",
			url:  "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9",
		},
		{
			body: `{"data":{"type":"webhooks","id":">id<"}}`,
			sig:  "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=",
			key:  "signature-key",
			url:  "https://webhook.site/webhooks",
		},
	}
	for _, v := range vectors {
		if got := Sign(v.key, v.url, []byte(v.body)); got != v.sig {
			t.Errorf("Sign = %s, want %s", got, v.sig)
		}
		if !VerifySignature(v.sig, v.key, v.url, []byte(v.body)) {
			t.Errorf("the documented signature %s is refused", v.sig)
		}
	}
	v := vectors[0]
	for name, ok := range map[string]bool{
		"other url":     VerifySignature(v.sig, v.key, "https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9", []byte(v.body)),
		"other key":     VerifySignature(v.sig, "MCmhFRxGX82xMwg5FsaoQA", v.url, []byte(v.body)),
		"other sig":     VerifySignature("1z2n3DEJJiUPKcPzQo1ftvbxGdw=", v.key, v.url, []byte(v.body)),
		"reformatted":   VerifySignature(v.sig, v.key, v.url, []byte(strings.ReplaceAll(v.body, ",", ", "))),
		"empty key":     VerifySignature(v.sig, "", v.url, []byte(v.body)),
		"empty url":     VerifySignature(v.sig, v.key, "", []byte(v.body)),
		"not base64":    VerifySignature("%%%", v.key, v.url, []byte(v.body)),
		"empty header":  VerifySignature("", v.key, v.url, []byte(v.body)),
		"trailing body": VerifySignature(v.sig, v.key, v.url, []byte(v.body+"\n")),
	} {
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestWebhookFlippedSignatureBitRefused(t *testing.T) {
	e := startEnv(t, nil, nil)
	h, body, url, key := harnessSim{e.sim}.SignedWebhook()
	if _, err := e.client.ParseWebhook(h, body, url, key); err != nil {
		t.Fatalf("valid notification refused: %v", err)
	}
	sig, _ := base64.StdEncoding.DecodeString(h.Get(SignatureHeader))
	for i := range sig {
		for bit := 0; bit < 8; bit++ {
			b := append([]byte(nil), sig...)
			b[i] ^= 1 << bit
			h2 := h.Clone()
			h2.Set(SignatureHeader, base64.StdEncoding.EncodeToString(b))
			_, err := e.client.ParseWebhook(h2, body, url, key)
			if err == nil {
				t.Fatalf("signature with bit %d of byte %d flipped accepted", bit, i)
			}
			if connector.KindOf(err) != connector.KindInvalid {
				t.Fatalf("want invalid, got %v", err)
			}
		}
	}
	// The URL is signed too: a proxy that rewrites it breaks the signature.
	if _, err := e.client.ParseWebhook(h, body, strings.Replace(url, "https", "http", 1), key); err == nil {
		t.Fatal("accepted for another notification URL")
	}
}

func TestParseWebhookEvent(t *testing.T) {
	const url = "https://example.com/hooks/sq"
	e := startEnv(t, nil, map[string]string{FieldSignatureKey: "k3y", FieldWebhookURL: url})
	body := []byte(`{"merchant_id":"M1","type":"inventory.count.updated","event_id":"ev-1","created_at":"2026-01-02T03:04:05.123Z","data":{"type":"inventory","id":"VAR1","object":{"inventory_counts":[]}}}`)
	h := http.Header{}
	h.Set(SignatureHeader, Sign("k3y", url, body))
	evs, err := e.client.ParseWebhook(h, body, "", "") // the integration's URL and key
	if err != nil || len(evs) != 1 {
		t.Fatalf("parse: %v %v", evs, err)
	}
	ev := evs[0]
	if ev.ID != "ev-1" || ev.Type != domain.ProviderStockUpdated || ev.Topic != "inventory.count.updated" || ev.ObjectID != "VAR1" ||
		!ev.OccurredAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 123e6, time.UTC)) || string(ev.Payload) != `{"inventory_counts":[]}` {
		t.Fatalf("event %+v", ev)
	}
	e2 := startEnv(t, nil, nil)
	if _, err := e2.client.ParseWebhook(h, body, "", ""); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("without a configured key: %v", err)
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
		{401, `{"errors":[{"category":"AUTHENTICATION_ERROR","code":"UNAUTHORIZED","detail":"This request could not be authorized."}]}`, connector.KindCredentials, "UNAUTHORIZED", "This request could not be authorized."},
		{401, `{"errors":[{"category":"AUTHENTICATION_ERROR","code":"ACCESS_TOKEN_EXPIRED","detail":"The access token has expired."}]}`, connector.KindCredentials, "ACCESS_TOKEN_EXPIRED", "The access token has expired."},
		{403, `{"errors":[{"category":"AUTHENTICATION_ERROR","code":"INSUFFICIENT_SCOPES","detail":"The merchant has not given your application sufficient permissions to do that."}]}`, connector.KindCredentials, "INSUFFICIENT_SCOPES", "The merchant has not given your application sufficient permissions to do that."},
		{429, `{"errors":[{"category":"RATE_LIMIT_ERROR","code":"RATE_LIMITED","detail":"Rate limit exceeded."}]}`, connector.KindRateLimited, "RATE_LIMITED", "Rate limit exceeded."},
		{400, `{"errors":[{"category":"INVALID_REQUEST_ERROR","code":"VERSION_MISMATCH","detail":"Object version does not match latest database version.","field":"version"}]}`, connector.KindConflict, "VERSION_MISMATCH", "Object version does not match latest database version."},
		{404, `{"errors":[{"category":"INVALID_REQUEST_ERROR","code":"NOT_FOUND","detail":"Object with ID ` + "`X`" + ` not found."}]}`, connector.KindNotFound, "NOT_FOUND", "Object with ID `X` not found."},
		{400, `{"errors":[{"category":"INVALID_REQUEST_ERROR","code":"IDEMPOTENCY_KEY_REUSED","detail":"The idempotency key can only be retried with the same request data."}]}`, connector.KindInvalid, "IDEMPOTENCY_KEY_REUSED", "The idempotency key can only be retried with the same request data."},
		{400, `{"errors":[{"category":"INVALID_REQUEST_ERROR","code":"INVALID_CURSOR","detail":"a"},{"category":"INVALID_REQUEST_ERROR","code":"INVALID_VALUE","detail":"b"}]}`, connector.KindInvalid, "INVALID_CURSOR", "a; b"},
		{500, `{"errors":[{"category":"API_ERROR","code":"INTERNAL_SERVER_ERROR","detail":"An internal error has occurred."}]}`, connector.KindTemporary, "INTERNAL_SERVER_ERROR", "An internal error has occurred."},
		{502, `<html>Bad gateway</html>`, connector.KindTemporary, "", "<html>Bad gateway</html>"},
	}
	for _, c := range cases {
		e := apiError(c.status, []byte(c.body))
		if e.Kind != c.kind || e.Code != c.code || e.Message != c.msg || e.Status != c.status {
			t.Errorf("%d %s: got kind %v code %q message %q", c.status, c.body, e.Kind, e.Code, e.Message)
		}
	}
}

func TestSimulatorErrorsThroughClient(t *testing.T) {
	e := startEnv(t, nil, nil)
	ctx := tctx(t)

	e.sim.FailNext(1, 403)
	err := e.client.Verify(ctx)
	if ce := connErr(t, err); ce.Kind != connector.KindCredentials || ce.Code != "INSUFFICIENT_SCOPES" {
		t.Fatalf("403: %v", err)
	}

	before := e.sim.Calls()
	e.sim.FailNext(10, 500)
	err = e.client.Verify(ctx)
	if ce := connErr(t, err); ce.Kind != connector.KindTemporary || ce.Code != "INTERNAL_SERVER_ERROR" {
		t.Fatalf("500: %v", err)
	}
	if n := e.sim.Calls() - before; n != 3 {
		t.Fatalf("a 500 should be tried 3 times (2 retries), was tried %d", n)
	}
	e.sim.FailNext(0, 0)

	_, err = e.client.GetProduct(ctx, "NOPE")
	if ce := connErr(t, err); ce.Kind != connector.KindNotFound || ce.Code != "NOT_FOUND" {
		t.Fatalf("get missing: %v", err)
	}
	bad, _ := New(connector.Config{Credentials: map[string]string{FieldAccessToken: "wrong", FieldEnvironment: e.srv.URL},
		HTTP: connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: time.Second})}, testOptions()...)
	before = e.sim.Calls()
	err = bad.Verify(ctx)
	if ce := connErr(t, err); ce.Kind != connector.KindCredentials || ce.Message != "This request could not be authorized." {
		t.Fatalf("bad token: %v", err)
	}
	if n := e.sim.Calls() - before; n != 1 {
		t.Fatalf("a 401 must not be retried; %d calls", n)
	}
	if _, err := e.client.ListProducts(ctx, "L|x"); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("malformed cursor: %v", err)
	}
	if _, err := e.client.ListProducts(ctx, "L||bogus"); connector.KindOf(err) != connector.KindInvalid || !strings.Contains(err.Error(), "INVALID_CURSOR") {
		t.Fatalf("bad Square cursor: %v", err)
	}
}

func TestVersionMismatch(t *testing.T) {
	e := startEnv(t, nil, nil)
	ctx := tctx(t)
	p, err := e.client.CreateProduct(ctx, harnessSim{e.sim}.ValidProduct(1))
	if err != nil {
		t.Fatal(err)
	}
	stale := p
	p.Name = "Renamed"
	if p, err = e.client.UpdateProduct(ctx, p); err != nil || p.Name != "Renamed" {
		t.Fatalf("update with current version: %+v %v", p, err)
	}
	stale.Name = "Lost update"
	_, err = e.client.UpdateProduct(ctx, stale)
	if ce := connErr(t, err); ce.Kind != connector.KindConflict || ce.Code != "VERSION_MISMATCH" {
		t.Fatalf("stale version: %v", err)
	}
	// Without versions the client reads the current ones first.
	noVersion := domain.Product{ID: p.ID, Name: "Fresh", SKU: "NEW-SKU", Price: domain.Money{Amount: 4242, Currency: "EUR"}}
	got, err := e.client.UpdateProduct(ctx, noVersion)
	if err != nil || got.Name != "Fresh" || got.SKU != "NEW-SKU" || got.Price.Amount != 4242 || len(got.Variants) != 1 || got.Variants[0].ID != p.Variants[0].ID {
		t.Fatalf("update without version: %+v %v", got, err)
	}
	// UpsertProducts reads missing versions with batch-retrieve and reports a stale one per item.
	res, err := e.client.UpsertProducts(ctx, []domain.Product{{ID: p.ID, Name: "Batch", Price: domain.Money{Amount: 1, Currency: "EUR"}}, stale, {ID: "MISSINGID", Name: "x"}})
	if err != nil || len(res) != 3 || res[0].Err != nil || res[0].ID != p.ID || connector.KindOf(res[1].Err) != connector.KindConflict || connector.KindOf(res[2].Err) != connector.KindNotFound {
		t.Fatalf("upsert: %+v %v", res, err)
	}
}

func TestIdempotencyReplayAndReuse(t *testing.T) {
	e := startEnv(t, nil, nil)
	post := func(body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v2/orders", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.sim.AccessToken())
		req.Header.Set("Square-Version", SquareVersion)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if v := resp.Header.Get("Square-Version"); v != SquareVersion {
			t.Fatalf("Square-Version not echoed: %q", v)
		}
		return resp.StatusCode, string(b)
	}
	loc := e.sim.LocationIDs()[0]
	body := `{"idempotency_key":"k-1","order":{"location_id":"` + loc + `","reference_id":"R1","line_items":[{"name":"A","quantity":"1","base_price_money":{"amount":100,"currency":"EUR"}}]}}`
	s1, b1 := post(body)
	s2, b2 := post(body)
	if s1 != 200 || s2 != 200 || b1 != b2 {
		t.Fatalf("replay differs: %d %s / %d %s", s1, b1, s2, b2)
	}
	s3, b3 := post(strings.Replace(body, `"R1"`, `"R2"`, 1))
	if s3 != 400 || !strings.Contains(b3, `"code":"IDEMPOTENCY_KEY_REUSED"`) {
		t.Fatalf("reuse with another body: %d %s", s3, b3)
	}
	// Through the client: the same key returns the same order, never a second one.
	ctx := tctx(t)
	o := domain.Order{Reference: "INV-9", Lines: []domain.OrderLine{{Name: "Tune-up", Quantity: "1", UnitPrice: domain.Money{Amount: 3000, Currency: "EUR"}}}}
	a, err := e.client.CreateOrder(ctx, o, "INV-9#1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.client.CreateOrder(ctx, o, "INV-9#1")
	if err != nil || a.ID != b.ID {
		t.Fatalf("same key, two orders: %s %s %v", a.ID, b.ID, err)
	}
	o.Note = "changed"
	if _, err := e.client.CreateOrder(ctx, o, "INV-9#1"); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("same key, other order: %v", err)
	}
}

// A write answered after the client gave up is not duplicated when the client retries:
// the retry carries the same idempotency key and body, and Square replays the first answer.
func TestTimeoutRetryReplaysWrite(t *testing.T) {
	t.Parallel()
	var once sync.Once
	e := startEnv(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			first := false
			if r.URL.Path == "/v2/orders" {
				once.Do(func() { first = true })
			}
			if !first {
				h.ServeHTTP(w, r)
				return
			}
			// The write is applied, but its answer never reaches the client, which times out.
			h.ServeHTTP(httptest.NewRecorder(), r.Clone(context.Background()))
			<-r.Context().Done()
		})
	}, nil)
	ctx := tctx(t)
	o := domain.Order{Reference: "INV-10", Lines: []domain.OrderLine{{Name: "Wheel", Quantity: "2", UnitPrice: domain.Money{Amount: 1250, Currency: "EUR"}}}}
	created, err := e.client.CreateOrder(ctx, o, "INV-10#1")
	if err != nil {
		t.Fatalf("create after a timeout: %v", err)
	}
	page, err := e.client.searchOrdersAll(ctx)
	if err != nil || len(page) != 1 || page[0].ID != created.ID || created.Total.Amount != 2500 {
		t.Fatalf("orders after a retried create: %+v %v (created %+v)", page, err, created)
	}
}

// searchOrdersAll lists every order of the default locations (test helper).
func (c *Client) searchOrdersAll(ctx context.Context) ([]order, error) {
	locs, err := c.searchLocationIDs(ctx)
	if err != nil {
		return nil, err
	}
	var resp searchOrdersResponse
	err = c.call(ctx, "search orders", http.MethodPost, "/v2/orders/search", nil, searchOrdersRequest{LocationIDs: locs}, &resp)
	return resp.Orders, err
}

func TestRateLimitWithoutRetryAfter(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var saw429 int
	e := startEnv(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code == http.StatusTooManyRequests {
				mu.Lock()
				saw429++
				mu.Unlock()
				if rec.Header().Get("Retry-After") != "" || !strings.Contains(rec.Body.String(), `"code":"RATE_LIMITED"`) ||
					!strings.Contains(rec.Body.String(), `"category":"RATE_LIMIT_ERROR"`) {
					t.Errorf("429 not as Square sends it: %v %s", rec.Header(), rec.Body.String())
				}
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		})
	}, nil)
	e.sim.SetRateLimit(2, 100*time.Millisecond)
	ctx := tctx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- e.client.Verify(ctx)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a call failed under the rate limit: %v", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if saw429 == 0 {
		t.Fatal("the simulator never answered 429; the test proves nothing")
	}
	// Past its retries the client reports the rate limit as such.
	e2 := startEnv(t, nil, nil, WithRateLimitRetries(1))
	e2.sim.SetRateLimit(1, time.Minute)
	_ = e2.client.Verify(ctx)
	if err := e2.client.Verify(ctx); connector.KindOf(err) != connector.KindRateLimited {
		t.Fatalf("want rate_limited after the retries, got %v", err)
	}
}

func TestPaginationEdges(t *testing.T) {
	ctx := tctx(t)
	e := startEnv(t, nil, nil)
	// Empty catalog: one page, no next, a resume mark.
	p, err := e.client.ListProducts(ctx, "")
	if err != nil || len(p.Items) != 0 || p.Next != "" || p.Resume == "" {
		t.Fatalf("empty catalog: %+v %v", p, err)
	}
	// Exactly one full page: no empty second page.
	ids := e.sim.SeedProducts(100)
	p, err = e.client.ListProducts(ctx, "")
	if err != nil || len(p.Items) != 100 || p.Next != "" {
		t.Fatalf("100 items: %d items, next %q, %v", len(p.Items), p.Next, err)
	}
	// 101: two pages; an item added between pages is still listed, one deleted is not.
	e.sim.SeedProducts(1)
	p1, err := e.client.ListProducts(ctx, "")
	if err != nil || len(p1.Items) != 100 || p1.Next == "" || p1.Resume != "" {
		t.Fatalf("first of two pages: %d %q %q %v", len(p1.Items), p1.Next, p1.Resume, err)
	}
	added := e.sim.SeedProducts(1)[0]
	if err := e.client.call(ctx, "delete", http.MethodDelete, "/v2/catalog/object/"+ids[0], nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	p2, err := e.client.ListProducts(ctx, p1.Next)
	if err != nil || len(p2.Items) != 2 || p2.Items[1].ID != added || p2.Next != "" || p2.Resume == "" {
		t.Fatalf("second page: %+v %v", p2, err)
	}
	// The incremental read from the first page's mark reports the deletion and the new items.
	inc, err := e.client.ListProducts(ctx, p.Resume)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]domain.Product{}
	for _, x := range inc.Items {
		seen[x.ID] = x
	}
	if len(inc.Items) != 3 || !seen[ids[0]].Deleted || seen[added].ID == "" {
		t.Fatalf("incremental after delete: %+v", inc.Items)
	}
	// Nothing changed since: an empty page with the same mark.
	again, err := e.client.ListProducts(ctx, inc.Resume)
	if err != nil || len(again.Items) != 0 || again.Resume != inc.Resume {
		t.Fatalf("no changes: %+v %v", again, err)
	}
}

func TestIncrementalSearchPagesAndVariationChanges(t *testing.T) {
	t.Parallel()
	ctx := tctx(t)
	e := startEnv(t, nil, nil)
	e.sim.SeedProducts(1200)
	full, err := e.client.ListProducts(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for full.Next != "" {
		if full, err = e.client.ListProducts(ctx, full.Next); err != nil {
			t.Fatal(err)
		}
	}
	// Seeded after the mark: 1,200 more objects than one search page holds.
	e.sim.SeedProducts(600)
	n, pages := 0, 0
	cur := full.Resume
	for {
		p, err := e.client.ListProducts(ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		n += len(p.Items)
		pages++
		if p.Next == "" {
			break
		}
		cur = p.Next
	}
	if n != 600 || pages < 2 {
		t.Fatalf("incremental: %d products in %d pages, want 600 in 2+", n, pages)
	}
}

func TestStock(t *testing.T) {
	ctx := tctx(t)
	e := startEnv(t, nil, nil)
	ids := e.sim.SeedProducts(3)
	p, err := e.client.GetProduct(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	full, err := e.client.ListStock(ctx, "")
	if err != nil || len(full.Items) != 3 || full.Items[0].ProductID == full.Items[0].VariantID || full.Resume == "" {
		t.Fatalf("list stock: %+v %v", full, err)
	}
	loc := e.sim.LocationIDs()[1]
	res, err := e.client.SetStock(ctx, []domain.StockLevel{
		{VariantID: p.Variants[0].ID, LocationID: loc, Quantity: "2.50000"},
		{ProductID: ids[1], LocationID: loc, Quantity: "1.123456"},
		{ProductID: ids[2], Quantity: "7"},
	})
	if err != nil || len(res) != 3 || res[0].Err != nil || connector.KindOf(res[1].Err) != connector.KindInvalid || res[2].Err != nil {
		t.Fatalf("set stock: %+v %v", res, err)
	}
	inc, err := e.client.ListStock(ctx, full.Resume)
	if err != nil || len(inc.Items) != 2 {
		t.Fatalf("incremental stock: %+v %v", inc, err)
	}
	for _, l := range inc.Items {
		switch {
		case l.VariantID == p.Variants[0].ID:
			if l.Quantity != "2.5" || l.LocationID != loc || l.ProductID != ids[0] {
				t.Fatalf("level %+v", l)
			}
		case l.ProductID == ids[2]:
			if l.Quantity != "7" || l.LocationID != e.sim.LocationIDs()[0] {
				t.Fatalf("level %+v", l)
			}
		default:
			t.Fatalf("unexpected level %+v", l)
		}
	}
}

func TestCustomers(t *testing.T) {
	ctx := tctx(t)
	e := startEnv(t, nil, nil)
	var last domain.Customer
	for i := 0; i < 130; i++ {
		c, err := e.client.CreateCustomer(ctx, domain.Customer{FirstName: "Ann", LastName: "Lee", Email: "ann@example.com", Reference: "C-1"})
		if err != nil {
			t.Fatal(err)
		}
		last = c
	}
	var all []domain.Customer
	cur, resume := "", ""
	for {
		p, err := e.client.ListCustomers(ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			resume = p.Resume
			break
		}
		cur = p.Next
	}
	if len(all) != 130 || resume == "" {
		t.Fatalf("listed %d customers, resume %q", len(all), resume)
	}
	last.Phone = "+353 1 234 5678"
	upd, err := e.client.UpdateCustomer(ctx, last)
	if err != nil || upd.Phone != last.Phone || upd.Version != "1" {
		t.Fatalf("update: %+v %v", upd, err)
	}
	if _, err := e.client.UpdateCustomer(ctx, last); connector.KindOf(err) != connector.KindConflict {
		t.Fatalf("stale customer version: %v", err)
	}
	inc, err := e.client.ListCustomers(ctx, resume)
	if err != nil || len(inc.Items) == 0 || len(inc.Items) > 2 || inc.Items[len(inc.Items)-1].ID != last.ID {
		t.Fatalf("incremental customers: %+v %v", inc.Items, err)
	}
}

func TestOrdersAndSales(t *testing.T) {
	ctx := tctx(t)
	e := startEnv(t, nil, map[string]string{FieldLocationID: "LSIMMAIN00001"})
	ids := e.sim.SeedProducts(1)
	p, err := e.client.GetProduct(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	var created []domain.Order
	for i, ref := range []string{"INV-1", "INV-2", "INV-3"} {
		o, err := e.client.CreateOrder(ctx, domain.Order{Reference: ref, Lines: []domain.OrderLine{
			{VariantID: p.Variants[0].ID, Quantity: "1.5"},
			{Name: "Labour", Quantity: "1", UnitPrice: domain.Money{Amount: int64(1000 * (i + 1))}},
		}}, ref+"#1")
		if err != nil {
			t.Fatal(err)
		}
		if o.State != domain.OrderOpen || o.Lines[0].Name != p.Name || o.Total.Amount != (p.Price.Amount*3+1)/2+int64(1000*(i+1)) {
			t.Fatalf("created %+v", o)
		}
		created = append(created, o)
	}
	found, err := e.client.FindOrderByReference(ctx, "INV-2")
	if err != nil || found.ID != created[1].ID {
		t.Fatalf("find: %+v %v", found, err)
	}
	if _, err := e.client.FindOrderByReference(ctx, "INV-404"); connector.KindOf(err) != connector.KindNotFound {
		t.Fatalf("find missing: %v", err)
	}
	// Fewer lines: the dropped line is cleared.
	one := created[0]
	one.Lines = one.Lines[1:]
	upd, err := e.client.UpdateOrder(ctx, one, "INV-1#2")
	if err != nil || len(upd.Lines) != 1 || upd.Lines[0].Name != "Labour" || upd.Version != "2" {
		t.Fatalf("update: %+v %v", upd, err)
	}
	if _, err := e.client.UpdateOrder(ctx, created[0], "INV-1#3"); connector.KindOf(err) != connector.KindConflict {
		t.Fatalf("stale order version: %v", err)
	}
	if err := e.client.CancelOrder(ctx, created[2].ID, domain.CancelDelete); connector.KindOf(err) != connector.KindUnsupported {
		t.Fatalf("delete: %v", err)
	}
	if err := e.client.CancelOrder(ctx, created[2].ID, domain.CancelArchive); err != nil {
		t.Fatal(err)
	}
	if err := e.client.CancelOrder(ctx, created[2].ID, domain.CancelVoid); err != nil {
		t.Fatalf("cancel twice: %v", err)
	}
	sales, err := e.client.SalesSince(ctx, "")
	if err != nil || len(sales.Items) != 0 {
		t.Fatalf("no sales yet: %+v %v", sales, err)
	}
	e.sim.CompleteOrder(created[0].ID)
	e.sim.CompleteOrder(created[1].ID)
	sales, err = e.client.SalesSince(ctx, "")
	if err != nil || len(sales.Items) != 2 || sales.Items[0].ID != created[0].ID || sales.Resume == "" || sales.Items[0].CompletedAt.IsZero() {
		t.Fatalf("sales: %+v %v", sales, err)
	}
	got, _ := e.client.GetOrder(ctx, created[1].ID)
	if got.State != domain.OrderCompleted {
		t.Fatalf("completed order state %q", got.State)
	}
	more, err := e.client.SalesSince(ctx, sales.Resume)
	if err != nil || len(more.Items) != 1 || more.Items[0].ID != created[1].ID {
		t.Fatalf("sales since the mark (only the boundary sale again): %+v %v", more, err)
	}
	completed := created[1]
	completed.Version = ""
	if _, err := e.client.UpdateOrder(ctx, completed, "INV-2#2"); err == nil {
		t.Fatal("a COMPLETED order was updated")
	}
}

func TestSubscribeAndDelivery(t *testing.T) {
	t.Parallel()
	ctx := tctx(t)
	got := make(chan *http.Request, 10)
	bodies := make(chan []byte, 10)
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
		got <- r
	}))
	t.Cleanup(rx.Close)
	e := startEnv(t, nil, nil)
	url := rx.URL + "/hooks/int_test"
	id, key, err := e.client.CreateSubscription(ctx, url, []string{"order.created"})
	if err != nil || id == "" || key == "" {
		t.Fatalf("subscribe: %q %q %v", id, key, err)
	}
	if k, err := e.client.SubscriptionSignatureKey(ctx, id); err != nil || k != key {
		t.Fatalf("read key: %q %v", k, err)
	}
	o, err := e.client.CreateOrder(ctx, domain.Order{Reference: "INV-W", Lines: []domain.OrderLine{{Name: "X", Quantity: "1", UnitPrice: domain.Money{Amount: 5, Currency: "EUR"}}}}, "w1")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		body := <-bodies
		evs, err := e.client.ParseWebhook(r.Header, body, url, key)
		if err != nil || evs[0].Type != domain.ProviderOrderCreated || evs[0].ObjectID != o.ID || r.Header.Get("square-initial-delivery-timestamp") == "" {
			t.Fatalf("delivery: %+v %v", evs, err)
		}
	case <-ctx.Done():
		t.Fatal("no delivery before the deadline")
	}
	if err := e.client.Unsubscribe(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := e.client.Unsubscribe(ctx, id); err != nil {
		t.Fatalf("second unsubscribe: %v", err)
	}
	if _, err := e.client.Subscribe(ctx, "ftp://x", "", nil); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("bad url: %v", err)
	}
}

func TestBaseURLAndOpen(t *testing.T) {
	for in, want := range map[string]string{
		"": ProductionBaseURL, "production": ProductionBaseURL, "Sandbox": SandboxBaseURL,
		"http://127.0.0.1:9101": "http://127.0.0.1:9101", "http://127.0.0.1:9101/": "http://127.0.0.1:9101",
		"https://proxy.example.com/square/": "https://proxy.example.com/square",
	} {
		if got, err := BaseURL(in); err != nil || got != want {
			t.Errorf("BaseURL(%q) = %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"ftp://x", "staging", "http://u:p@host", "http://host/?q=1", "//host"} {
		if _, err := BaseURL(bad); connector.KindOf(err) != connector.KindInvalid {
			t.Errorf("BaseURL(%q) accepted", bad)
		}
	}
	if _, err := Provider.Open(connector.Config{Credentials: map[string]string{}}); connector.KindOf(err) != connector.KindCredentials {
		t.Fatalf("open without token: %v", err)
	}
	sim := Provider.NewSimulator(3)
	info := sim.Info("http://127.0.0.1:9101")
	if info.Provider != "square" || info.BaseURL != "http://127.0.0.1:9101" || info.Credentials[FieldAccessToken] == "" ||
		info.Credentials[FieldEnvironment] != info.BaseURL || info.WebhookSecret == "" {
		t.Fatalf("info %+v", info)
	}
	for _, f := range Provider.Fields {
		if (f.Name == FieldAccessToken || f.Name == FieldSignatureKey) != f.Secret {
			t.Errorf("field %s secret=%v", f.Name, f.Secret)
		}
	}
}

// The SSRF guard of the shared client applies: without AllowPrivate a loopback simulator is refused.
func TestGuardedClientRefusesLoopback(t *testing.T) {
	e := startEnv(t, nil, nil)
	c, err := New(connector.Config{
		Credentials: map[string]string{FieldAccessToken: e.sim.AccessToken(), FieldEnvironment: e.srv.URL},
		HTTP:        connector.NewHTTPClient(connector.HTTPOptions{Timeout: time.Second}),
	}, testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	before := e.sim.Calls()
	if err := c.Verify(tctx(t)); connector.KindOf(err) != connector.KindInvalid || !errors.Is(err, connector.ErrForbiddenHost) {
		t.Fatalf("want a forbidden-host error, got %v", err)
	}
	if e.sim.Calls() != before {
		t.Fatal("the simulator was reached")
	}
}

func TestDecimal(t *testing.T) {
	for in, want := range map[string]string{"1": "1", "2.50000": "2.5", "0.00001": "0.00001", "10.10": "10.1", "-3.5": "-3.5", "007": "7"} {
		n, err := parseDecimal(in, 5)
		if err != nil || formatDecimal(n, 5) != want {
			t.Errorf("%q -> %d %q %v, want %q", in, n, formatDecimal(n, 5), err, want)
		}
	}
	for _, bad := range []string{"", ".", "1.123456", "1e3", "1,5", "abc", "9999999999999"} {
		if _, err := parseDecimal(bad, 5); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if k := fitKey(strings.Repeat("x", 300), 192); len(k) > 192 || k != fitKey(strings.Repeat("x", 300), 192) {
		t.Fatalf("fitKey %q", k)
	}
}

func TestSlowAnswersWithinTimeout(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil, nil)
	e.sim.SetLatency(50 * time.Millisecond)
	if err := e.client.Verify(tctx(t)); err != nil {
		t.Fatalf("slow but in time: %v", err)
	}
	e.sim.SetLatency(1500 * time.Millisecond)
	start := time.Now()
	c, _ := New(connector.Config{Credentials: map[string]string{FieldAccessToken: e.sim.AccessToken(), FieldEnvironment: e.srv.URL},
		HTTP: connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: 200 * time.Millisecond})}, WithRetries(1), WithBackoff(time.Millisecond, time.Millisecond))
	if err := c.Verify(tctx(t)); connector.KindOf(err) != connector.KindTemporary {
		t.Fatalf("too slow: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the timeout was not bounded: %s", d)
	}
}
