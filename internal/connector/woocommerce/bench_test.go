package woocommerce

import (
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
)

// BenchmarkPull10000Products pulls 10,000 products (100 pages of 100) through the connector from
// the simulator over real HTTP. The limiter is opened wide so the figure is the client and
// simulator's own speed; at DefaultRate a pull is bounded by 20 calls/s (about 2,000 products/s).
func BenchmarkPull10000Products(b *testing.B) {
	sim := NewSimulator()
	defer sim.Close()
	sim.SeedProducts(10000)
	e := startEnvWith(b, sim)
	b.ResetTimer()
	var products, calls int64
	start := time.Now()
	for i := 0; i < b.N; i++ {
		before := e.client.Calls()
		cur, n := "", 0
		for {
			p, err := e.client.ListProducts(tctx(b), cur)
			if err != nil {
				b.Fatalf("list: %v", err)
			}
			n += len(p.Items)
			if p.Next == "" {
				break
			}
			cur = p.Next
		}
		if n != 10000 {
			b.Fatalf("pulled %d products", n)
		}
		products += int64(n)
		calls += e.client.Calls() - before
	}
	b.ReportMetric(float64(products)/time.Since(start).Seconds(), "products/s")
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
}

func startEnvWith(b *testing.B, sim *Simulator) *env {
	srv := newServer(sim)
	b.Cleanup(srv.Close)
	c, err := New(connector.Config{
		Credentials: sim.Info(srv.URL).Credentials,
		HTTP:        connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: 10 * time.Second}),
		Limiter:     connector.NewLimiter(1e6, 1000),
	})
	if err != nil {
		b.Fatal(err)
	}
	return &env{sim: sim, srv: srv, client: c}
}
