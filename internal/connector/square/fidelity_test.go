package square

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/domain"

	"github.com/posbridge/posbridge/internal/connector/fidelity"
)

// TestFidelityReplay replays the recorded Square conversations of testdata/fidelity (requests
// and answers in the shape Square's API reference documents, each script naming its pages)
// against the simulator.
func TestFidelityReplay(t *testing.T) {
	t.Parallel()
	fidelity.RunDir(t, "testdata/fidelity", func(t *testing.T) fidelity.Target {
		sim := NewSimulator()
		srv := httptest.NewServer(sim)
		t.Cleanup(srv.Close)
		t.Cleanup(sim.Close)
		return fidelity.Target{
			BaseURL: srv.URL,
			Client:  srv.Client(),
			Auth: func(r *http.Request) {
				r.Header.Set("Authorization", "Bearer "+sim.AccessToken())
				r.Header.Set("Square-Version", SquareVersion)
			},
			Vars: map[string]string{"location": sim.LocationIDs()[0]},
		}
	})
}

// Each subscription signs its deliveries with its own key: a delivery verifies with the key of
// the subscription it was sent for and with no other.
func TestSubscriptionKeysPerSubscription(t *testing.T) {
	t.Parallel()
	type hit struct {
		path string
		sig  string
		body []byte
	}
	hits := make(chan hit, 10)
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hits <- hit{r.URL.Path, r.Header.Get(SignatureHeader), b}
	}))
	t.Cleanup(rx.Close)
	e := startEnv(t, nil, nil)
	ctx := tctx(t)
	urlA, urlB := rx.URL+"/a", rx.URL+"/b"
	idA, keyA, err := e.client.SubscribeIssuingKey(ctx, urlA, []string{"customer.created"})
	if err != nil {
		t.Fatal(err)
	}
	idB, keyB, err := e.client.SubscribeIssuingKey(ctx, urlB, []string{"customer.created"})
	if err != nil {
		t.Fatal(err)
	}
	if keyA == "" || keyB == "" || keyA == keyB || keyA == e.sim.SignatureKey() || e.sim.SubscriptionKey(idA) != keyA || e.sim.SubscriptionKey(idB) != keyB {
		t.Fatalf("keys: a %q b %q simulator %q", keyA, keyB, e.sim.SignatureKey())
	}
	if _, err := e.client.CreateCustomer(ctx, domain.Customer{FirstName: "Ada", Email: "ada@example.com"}); err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{"/a": keyA, "/b": keyB}
	other := map[string]string{"/a": keyB, "/b": keyA}
	for range 2 {
		select {
		case h := <-hits:
			u := rx.URL + h.path
			if !VerifySignature(h.sig, keys[h.path], u, h.body) {
				t.Errorf("delivery to %s does not verify with its subscription's key", h.path)
			}
			if VerifySignature(h.sig, other[h.path], u, h.body) {
				t.Errorf("delivery to %s verifies with the other subscription's key", h.path)
			}
		case <-ctx.Done():
			t.Fatal("deliveries did not arrive before the deadline")
		}
	}
}

// range_query ranges numeric attributes (here a variation's price) and other names are refused.
func TestCatalogRangeQuery(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil, nil)
	e.sim.SeedProducts(30) // prices 100 + (k*37)%9900
	search := func(body string) (int, searchCatalogResponse) {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v2/catalog/search", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.sim.AccessToken())
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out searchCatalogResponse
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	status, out := search(`{"object_types":["ITEM_VARIATION"],"query":{"range_query":{"attribute_name":"price_money","attribute_min_value":500,"attribute_max_value":800}}}`)
	want := 0
	for k := 1; k <= 30; k++ {
		if p := 100 + (k*37)%9900; p >= 500 && p <= 800 {
			want++
		}
	}
	if status != 200 || len(out.Objects) != want || want == 0 {
		t.Fatalf("range: %d, %d objects, want %d", status, len(out.Objects), want)
	}
	for _, o := range out.Objects {
		if p := o.ItemVariationData.PriceMoney.Amount; p < 500 || p > 800 {
			t.Errorf("price %d outside the range", p)
		}
	}
	if status, out := search(`{"query":{"range_query":{"attribute_name":"weight"}}}`); status != 400 || len(out.Errors) != 1 || out.Errors[0].Field != "query.range_query.attribute_name" {
		t.Fatalf("unsupported range attribute: %d %+v", status, out.Errors)
	}
	// Pages of a sorted query follow each other without gaps or repeats.
	seen := map[string]bool{}
	cursor := ""
	for page := 0; page < 10; page++ {
		body := `{"object_types":["ITEM"],"limit":7,"query":{"sorted_attribute_query":{"attribute_name":"name"}}`
		if cursor != "" {
			body += `,"cursor":"` + cursor + `"`
		}
		status, out := search(body + "}")
		if status != 200 {
			t.Fatalf("page %d: %d %+v", page, status, out.Errors)
		}
		for _, o := range out.Objects {
			if seen[o.ID] {
				t.Fatalf("%s repeated", o.ID)
			}
			seen[o.ID] = true
		}
		if cursor = out.Cursor; cursor == "" {
			break
		}
	}
	if len(seen) != 30 {
		t.Fatalf("sorted pages returned %d items, want 30", len(seen))
	}
}

// The connector records the reference in reference_id and in metadata, keeps the note in
// ticket_name across updates, and finds an order by either.
func TestOrderReferenceRoundTrip(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil, nil)
	ctx := tctx(t)
	line := []domain.OrderLine{{Name: "Lemonade", Quantity: "1", UnitPrice: domain.Money{Amount: 250, Currency: "EUR"}}}
	o, err := e.client.CreateOrder(ctx, domain.Order{Reference: "INV-77", Note: "Table 4", Lines: line}, "k-create")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := e.client.retrieveOrder(ctx, o.ID)
	if err != nil || raw.ReferenceID != "INV-77" || raw.Metadata[MetadataReference] != "INV-77" || raw.TicketName != "Table 4" {
		t.Fatalf("created: %+v %v", raw, err)
	}
	u, err := e.client.UpdateOrder(ctx, domain.Order{ID: o.ID, Note: "Table 9", Lines: line}, "k-update")
	if err != nil || u.Note != "Table 9" || u.Reference != "INV-77" {
		t.Fatalf("updated: %+v %v", u, err)
	}
	// Someone clears reference_id in Square: the metadata still names the owner.
	e.sim.mu.Lock()
	e.sim.orders[o.ID].ReferenceID = ""
	e.sim.mu.Unlock()
	found, err := e.client.FindOrderByReference(ctx, "INV-77")
	if err != nil || found.ID != o.ID || found.Reference != "INV-77" {
		t.Fatalf("find by metadata: %+v %v", found, err)
	}
	u, err = e.client.UpdateOrder(ctx, domain.Order{ID: o.ID, Lines: line}, "k-update-2")
	if err != nil || u.Note != "" || u.Reference != "INV-77" {
		t.Fatalf("note cleared: %+v %v", u, err)
	}
}
