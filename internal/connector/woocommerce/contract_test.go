package woocommerce

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/connector/contract"
	"github.com/posbridge/posbridge/internal/domain"
)

// env is a running simulator and a client to it over real HTTP.
type env struct {
	sim    *Simulator
	srv    *httptest.Server
	client *Client
}

func startEnv(t testing.TB, simOpts []SimOption, opts ...Option) *env {
	t.Helper()
	sim := NewSimulator(simOpts...)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() {
		sim.Close()
		srv.Close()
	})
	info := sim.Info(srv.URL)
	opts = append([]Option{WithRetries(2, 5*time.Millisecond), WithMaxBackoff(50 * time.Millisecond)}, opts...)
	c, err := New(connector.Config{
		IntegrationID: "test",
		Credentials:   info.Credentials,
		HTTP:          connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: 1 * time.Second}),
		Now:           sim.now, // OAuth 1.0a timestamps are checked against the store's clock
	}, opts...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return &env{sim: sim, srv: srv, client: c}
}

// harnessSim adapts the simulator to contract.Sim.
type harnessSim struct {
	*Simulator
	url  string
	once sync.Once
}

func (h *harnessSim) InvalidProduct() domain.Product {
	// WooCommerce refuses a duplicated SKU (400 product_invalid_sku), item by item in a batch.
	h.once.Do(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		_, _ = h.createProduct(map[string]any{"name": "Taken", "sku": "TAKEN-SKU", "regular_price": "1.00"})
	})
	return domain.Product{Name: "Duplicate", SKU: "TAKEN-SKU", Price: domain.Money{Amount: 100, Currency: "EUR"}}
}

func (h *harnessSim) ValidProduct(i int) domain.Product {
	return domain.Product{
		Name: "Contract product " + itoa(i), SKU: "CONTRACT-" + itoa(i), Description: "From the contract suite",
		Price:  domain.Money{Amount: int64(1000 + i*101), Currency: "EUR"},
		Weight: &domain.Weight{Value: "1.5", Unit: "kg"}, TrackStock: true,
	}
}

func (h *harnessSim) SignedWebhook() (http.Header, []byte, string, string) {
	body := []byte(`{"id":42,"name":"Brake pads","date_modified_gmt":"2025-05-01T10:00:00"}`)
	secret := "contract-secret"
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json")
	hdr.Set(HeaderTopic, "product.updated")
	hdr.Set(HeaderResource, "product")
	hdr.Set(HeaderEvent, "updated")
	hdr.Set(HeaderWebhookID, "7")
	hdr.Set(HeaderDeliveryID, "abc123")
	hdr.Set(HeaderSource, h.url+"/")
	hdr.Set(HeaderSignature, Sign(secret, body))
	return hdr, body, "https://posbridge.example/hooks/1", secret
}

func itoa(i int) string {
	return string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
}

func TestContract(t *testing.T) {
	contract.Run(t, contract.Harness{
		Provider: Provider,
		Start: func(t *testing.T) contract.Env {
			e := startEnv(t, nil)
			return contract.Env{Conn: e.client, Sim: &harnessSim{Simulator: e.sim, url: e.srv.URL}}
		},
	})
}

func newServer(h http.Handler) *httptest.Server { return httptest.NewServer(h) }
