package lightspeed

import (
	"context"
	"testing"
	"time"
)

// BenchmarkPull10000Products pulls a 10,000-product catalog through the connector from the
// simulator over real HTTP (the default page_size) and reports products/s
// and the calls one pull makes. The simulator's window is widened so the benchmark measures
// the connector, not the 350-requests-per-5-minutes rule (a real pull of 10,000 products takes
// 51 calls, well inside it).
func BenchmarkPull10000Products(b *testing.B) {
	sim, c, _ := startSim(b, []SimOption{WithSimRateLimit(1_000_000, 5*time.Minute)}, WithWindow(5*time.Minute))
	sim.SeedProducts(10_000 - 1) // plus the Miscellaneous product
	ctx := context.Background()
	if err := c.Verify(ctx); err != nil {
		b.Fatal(err)
	}
	calls0 := c.Calls()
	b.ResetTimer()
	start := time.Now()
	total := 0
	for i := 0; i < b.N; i++ {
		n := 0
		for cur := ""; ; {
			p, err := c.ListProducts(ctx, cur)
			if err != nil {
				b.Fatal(err)
			}
			n += len(p.Items)
			if p.Next == "" {
				break
			}
			cur = p.Next
		}
		if n != 10_000 {
			b.Fatalf("pulled %d products", n)
		}
		total += n
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(total)/elapsed.Seconds(), "products/s")
	b.ReportMetric(float64(c.Calls()-calls0)/float64(b.N), "calls/op")
}
