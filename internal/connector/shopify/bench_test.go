package shopify

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
)

// BenchmarkPull10000Products pulls 10,000 products (pages of 250, the documented maximum)
// through the connector from the simulator over real HTTP. The bucket leaks fast here so the
// figure measures the connector and the simulator, not the Standard plan's 2 requests a second
// (at which these 40 calls fit in the 40-request bucket anyway).
func BenchmarkPull10000Products(b *testing.B) {
	sim := NewSimulator(WithBucket(40, 1000), WithSeedProducts(10000))
	srv := httptest.NewServer(sim)
	defer func() { sim.Close(); srv.Close() }()
	info := sim.Info(srv.URL)
	c, err := New(connector.Config{Credentials: info.Credentials,
		HTTP: connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: 30 * time.Second})},
		Options{LeakRate: 1000, Backoff: 10 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	calls0 := c.Calls()
	total := 0
	for i := 0; i < b.N; i++ {
		cur := ""
		for {
			p, err := c.ListProducts(ctx, cur)
			if err != nil {
				b.Fatal(err)
			}
			total += len(p.Items)
			if p.Next == "" {
				break
			}
			cur = p.Next
		}
	}
	b.StopTimer()
	if total != 10000*b.N {
		b.Fatalf("pulled %d products, want %d", total, 10000*b.N)
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "products/s")
	b.ReportMetric(float64(c.Calls()-calls0)/float64(b.N), "calls/op")
	b.ReportMetric(float64(sim.Throttled()), "429s")
}

// BenchmarkShopifyRate is the REST acceptance check: pull 2,000 paid orders in pages of 10
// (200 calls) at the Standard rate (bucket 40, leaking 2/s), with a fresh bucket. Over a run of
// T seconds Shopify allows 40 + 2T calls, so the allowed rate is (40 + 2T)/T; the benchmark
// reports the achieved calls/s divided by it, and the failed calls. It takes about 80 s a run:
// run it with -bench=ShopifyRate -benchtime=1x.
func BenchmarkShopifyRate(b *testing.B) {
	for i := 0; i < b.N; i++ {
		calls, throttled, failed, elapsed := pullWithBucket(b, 40, 2, 2000, 10, 1)
		T := elapsed.Seconds()
		allowed := (40 + 2*T) / T
		achieved := float64(calls) / T
		b.ReportMetric(achieved, "calls/s")
		b.ReportMetric(achieved/allowed*100, "%allowed")
		b.ReportMetric(float64(calls), "calls")
		b.ReportMetric(float64(failed), "failed")
		b.ReportMetric(float64(throttled), "429s")
	}
}
