package shopify

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector/fidelity"
)

// TestFidelityReplay replays the recorded Shopify Admin REST and GraphQL conversations of testdata/fidelity
// (requests and answers in the shape Shopify's reference documents, each script naming its
// pages) against the simulator.
func TestFidelityReplay(t *testing.T) {
	t.Parallel()
	fidelity.RunDir(t, "testdata/fidelity", func(t *testing.T) fidelity.Target {
		sim := NewSimulator()
		srv := httptest.NewServer(sim)
		t.Cleanup(srv.Close)
		t.Cleanup(sim.Close)
		return fidelity.Target{BaseURL: srv.URL, Client: srv.Client(),
			Auth: func(r *http.Request) { r.Header.Set("X-Shopify-Access-Token", sim.AccessToken()) },
			Vars: map[string]string{"location": strconv.FormatInt(sim.Locations()[0], 10)}}
	})
}

// A subscription with fields is sent only those top-level fields of the resource, signed over
// the body it is sent; one without fields gets the whole resource.
func TestWebhookFieldsFilterDelivery(t *testing.T) {
	t.Parallel()
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(rx.Close)
	sim, c := startSim(t, Options{})
	ids := sim.SeedProducts(1)
	for path, fields := range map[string][]string{"/some": {"id", "title"}, "/all": nil} {
		body := map[string]any{"webhook": map[string]any{"address": rx.URL + path, "topic": "products/update", "format": "json", "fields": fields}}
		var out struct {
			Webhook simWebhook `json:"webhook"`
		}
		if _, err := c.do(tctx(t), call{op: "subscribe", method: http.MethodPost, path: "webhooks.json", body: body, unsafe: true}, &out); err != nil {
			t.Fatal(err)
		}
	}
	sim.TouchProduct(ids[0])
	deadline := time.Now().Add(2 * time.Minute) // generous: a busy machine; it ends when both arrived
	for len(sim.Deliveries()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("deliveries: %d", len(sim.Deliveries()))
		}
		time.Sleep(5 * time.Millisecond) // polling the simulator's record, bounded by the deadline
	}
	for _, d := range sim.Deliveries() {
		var got map[string]any
		if err := json.Unmarshal(d.Body, &got); err != nil {
			t.Fatal(err)
		}
		if !VerifySignature(sim.APISecret(), d.Body, d.Header.Get(HeaderHmac)) {
			t.Errorf("%s: signature does not verify over the body sent", d.Address)
		}
		switch {
		case strings.HasSuffix(d.Address, "/some"):
			if len(got) != 2 || got["id"] == nil || got["title"] == nil {
				t.Errorf("filtered delivery has %v", got)
			}
		default:
			if len(got) <= 2 || got["variants"] == nil {
				t.Errorf("unfiltered delivery has %v", got)
			}
		}
	}
}

// Behind a proxy that ends TLS (X-Forwarded-Proto: https) the Link header names https URLs.
func TestLinkHonoursForwardedProto(t *testing.T) {
	t.Parallel()
	sim := NewSimulator()
	sim.SeedProducts(3)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	t.Cleanup(sim.Close)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/admin/api/"+APIVersion+"/products.json?limit=1", nil)
	req.Header.Set("X-Shopify-Access-Token", sim.AccessToken())
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if link := resp.Header.Get("Link"); !strings.Contains(link, "<https://") || strings.Contains(link, "http://") {
		t.Fatalf("Link %q", link)
	}
}
