package woocommerce

import (
	"fmt"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// BenchmarkPull10000Products pulls 10,000 products (100 pages of 100) through the connector from
// the simulator over real HTTP. The limiter is opened wide so the figure is the client and
// simulator's own speed; at DefaultRate a pull is bounded by 100 calls/s (about 10,000 products/s).
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

// BenchmarkBatchCreate100 creates 100 products per /products/batch call through the connector
// against the simulator over real HTTP, with 20,000 products already in the shop: the per-call
// cost the catalog bench pays 1,000 times for 100,000 products.
func BenchmarkBatchCreate100(b *testing.B) {
	sim := NewSimulator()
	defer sim.Close()
	sim.SeedProducts(20000)
	e := startEnvWith(b, sim)
	if err := e.client.Verify(tctx(b)); err != nil {
		b.Fatal(err)
	}
	n := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ps := make([]domain.Product, MaxBatch)
		for j := range ps {
			n++
			ps[j] = domain.Product{Name: fmt.Sprintf("Bench product %d", n), SKU: fmt.Sprintf("BB-%d", n),
				Description: "A product of the catalog bench", Price: domain.Money{Amount: int64(100 + n%900)},
				Ref: fmt.Sprintf("ref-%d", n), TrackStock: true, Stock: ptr("7"),
				Categories: []domain.Category{{ID: "3", Name: "C"}}}
		}
		b.StartTimer()
		res, err := e.client.UpsertProducts(tctx(b), ps)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
}
