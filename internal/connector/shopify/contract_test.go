package shopify

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/connector/contract"
)

// testLeak is the bucket's leak rate in tests: the Standard plan's rules, fifty times faster.
const testLeak = 100

// testOptions are short waits so the suite stays fast.
var testOptions = Options{PageSize: 50, LeakRate: testLeak, Backoff: 5 * time.Millisecond, MaxRetries: 3}

// startSim serves a fresh simulator over real HTTP and opens a client to it.
func startSim(t testing.TB, opts Options, simOpts ...SimOption) (*Simulator, *Client) {
	t.Helper()
	sim := NewSimulator(append([]SimOption{WithBucket(40, testLeak)}, simOpts...)...)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() {
		sim.Close()
		srv.Close()
	})
	info := sim.Info(srv.URL)
	c, err := New(connector.Config{
		IntegrationID: "test",
		Credentials:   info.Credentials,
		HTTP:          connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: 1 * time.Second}),
	}, opts)
	if err != nil {
		t.Fatalf("open client: %v", err)
	}
	return sim, c
}

func TestContract(t *testing.T) {
	contract.Run(t, contract.Harness{
		Provider: Provider,
		Start: func(t *testing.T) contract.Env {
			sim, c := startSim(t, testOptions)
			return contract.Env{Conn: c, Sim: sim}
		},
	})
}

var _ contract.Sim = (*Simulator)(nil)
var _ connector.Simulator = (*Simulator)(nil)
