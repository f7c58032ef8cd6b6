package square

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/connector/contract"
	"github.com/posbridge/posbridge/internal/domain"
)

// testEnv is one simulator served over real HTTP and a client talking to it.
type testEnv struct {
	sim    *Simulator
	srv    *httptest.Server
	client *Client
}

// testOptions are the short retry settings tests use.
func testOptions() []Option {
	return []Option{WithRetries(2), WithRateLimitRetries(40), WithBackoff(5*time.Millisecond, 100*time.Millisecond)}
}

// startEnv starts a simulator wrapped by wrap (nil: none) and a client with extra credentials.
func startEnv(t testing.TB, wrap func(http.Handler) http.Handler, creds map[string]string, opts ...Option) *testEnv {
	t.Helper()
	sim := NewSimulator(WithWebhookClient(&http.Client{Timeout: time.Second}, 1, 10*time.Millisecond))
	var h http.Handler = sim
	if wrap != nil {
		h = wrap(sim)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(sim.Close) // runs first: releases calls held by a timeout fault
	cfg := connector.Config{
		IntegrationID: "int_test",
		Credentials:   map[string]string{FieldAccessToken: sim.AccessToken(), FieldEnvironment: srv.URL},
		HTTP:          connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: 1 * time.Second}),
		Limiter:       connector.NewLimiter(1000, 100),
	}
	for k, v := range creds {
		cfg.Credentials[k] = v
	}
	c, err := New(cfg, append(testOptions(), opts...)...)
	if err != nil {
		t.Fatalf("open connector: %v", err)
	}
	return &testEnv{sim: sim, srv: srv, client: c}
}

// harnessSim adapts the simulator to contract.Sim.
type harnessSim struct{ *Simulator }

func (h harnessSim) InvalidProduct() domain.Product {
	// Square refuses an item without a name.
	return domain.Product{Name: "", SKU: "BAD-1", Price: domain.Money{Amount: 100, Currency: "EUR"}}
}

func (h harnessSim) ValidProduct(i int) domain.Product {
	return domain.Product{
		Name: fmt.Sprintf("Valid product %d", i), Description: "A product the contract suite writes",
		SKU: fmt.Sprintf("VALID-%03d", i), Barcode: fmt.Sprintf("0000000000%02d", i),
		Price: domain.Money{Amount: int64(1000 + i), Currency: "EUR"}, TrackStock: true,
	}
}

func (h harnessSim) SignedWebhook() (http.Header, []byte, string, string) {
	const url = "https://posbridge.example.com/hooks/int_test"
	header, body := h.SignedNotification(url, "order.updated", "ORDER123", map[string]any{
		"order_updated": map[string]any{"order_id": "ORDER123", "state": "COMPLETED", "version": 2},
	})
	return header, body, url, h.SignatureKey()
}

func TestContract(t *testing.T) {
	t.Parallel()
	contract.Run(t, contract.Harness{
		Provider: Provider,
		Start: func(t *testing.T) contract.Env {
			e := startEnv(t, nil, nil)
			return contract.Env{Conn: e.client, Sim: harnessSim{e.sim}}
		},
	})
}
