package square

import (
	"context"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
)

// BenchmarkPull10000Products pulls a 10,000-item catalog through the connector from the
// simulator over real HTTP (GET /v2/catalog/list, 100 items a page, plus one catalog-time call).
// The client's own pacing is lifted so the figure measures the connector and the simulator; with
// the default limiter (DefaultRate calls/s) a full pull is bounded by that rate instead.
func BenchmarkPull10000Products(b *testing.B) {
	e := startEnv(b, nil, nil)
	e.sim.SeedProducts(10000)
	c, err := New(connector.Config{
		Credentials: map[string]string{FieldAccessToken: e.sim.AccessToken(), FieldEnvironment: e.srv.URL},
		HTTP:        connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: 10 * time.Second}),
		Limiter:     connector.NewLimiter(1e6, 1e6),
	}, testOptions()...)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	calls0 := c.Calls()
	products := 0
	for i := 0; i < b.N; i++ {
		cursor := ""
		n := 0
		for {
			p, err := c.ListProducts(ctx, cursor)
			if err != nil {
				b.Fatal(err)
			}
			n += len(p.Items)
			if p.Next == "" {
				break
			}
			cursor = p.Next
		}
		if n != 10000 {
			b.Fatalf("pulled %d products, want 10000", n)
		}
		products += n
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(products)/elapsed.Seconds(), "products/s")
	b.ReportMetric(float64(c.Calls()-calls0)/float64(b.N), "calls/op")
}
