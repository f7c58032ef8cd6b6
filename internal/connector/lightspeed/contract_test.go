package lightspeed

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

// testOptions keep retries and waits short; the window matches the simulator's test window so
// the limiter fed by X-RateLimit-Limit paces per second.
func testOptions() []Option {
	return []Option{WithRetries(2, 10*time.Millisecond), WithRateLimitWaits(50, 50*time.Millisecond), WithWindow(time.Second)}
}

// startSim serves a fresh simulator over real HTTP and opens a client on it.
func startSim(t testing.TB, simOpts []SimOption, opts ...Option) (*Simulator, *Client, *httptest.Server) {
	t.Helper()
	sim := NewSimulator(simOpts...)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() {
		sim.Close()
		srv.Close()
	})
	c, err := New(connector.Config{
		IntegrationID: "test",
		Credentials:   sim.Info(srv.URL).Credentials,
		HTTP:          connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: time.Second}),
	}, append(testOptions(), opts...)...)
	if err != nil {
		t.Fatalf("open connector: %v", err)
	}
	return sim, c, srv
}

// simAdapter is the contract's view of the simulator.
type simAdapter struct{ *Simulator }

func (a simAdapter) InvalidProduct() domain.Product {
	// Lightspeed requires a name.
	return domain.Product{SKU: "NO-NAME", Price: domain.Money{Amount: 500, Currency: "EUR"}}
}

func (a simAdapter) ValidProduct(i int) domain.Product {
	return domain.Product{Name: fmt.Sprintf("Contract product %d", i), SKU: fmt.Sprintf("CONTRACT-%d", i),
		Description: "Written by the contract suite", Price: domain.Money{Amount: int64(1000 + 101*i), Currency: "EUR"},
		Weight: &domain.Weight{Value: "1.25", Unit: "kg"}}
}

func (a simAdapter) SignedWebhook() (http.Header, []byte, string, string) {
	h, body := a.SignedDelivery(TopicProduct, map[string]any{"id": a.MiscProductID(), "name": "Miscellaneous",
		"sku": "MISC", "version": 1000123, "updated_at": "2026-11-25T10:00:00+00:00", "deleted_at": nil})
	return h, body, "https://posbridge.example/webhooks/lightspeed/abc", a.WebhookSecret()
}

func TestContract(t *testing.T) {
	contract.Run(t, contract.Harness{
		Provider: Provider,
		Start: func(t *testing.T) contract.Env {
			sim, c, _ := startSim(t, nil)
			return contract.Env{Conn: c, Sim: simAdapter{sim}}
		},
	})
}
