package shopify

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// pathRecorder serves a simulator and records the Admin API paths asked.
type pathRecorder struct {
	sim   *Simulator
	mu    sync.Mutex
	paths map[string]int
}

func (p *pathRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.paths[strings.TrimPrefix(r.URL.Path, apiPrefix)]++
	p.mu.Unlock()
	p.sim.ServeHTTP(w, r)
}

func (p *pathRecorder) rest() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for path := range p.paths {
		if path != "graphql.json" && path != "shop.json" && path != "locations.json" {
			out = append(out, path)
		}
	}
	return out
}

func startRecorded(t *testing.T, opts Options) (*Simulator, *Client, *pathRecorder) {
	t.Helper()
	sim := NewSimulator(WithBucket(40, testLeak))
	rec := &pathRecorder{sim: sim, paths: map[string]int{}}
	srv := httptest.NewServer(rec)
	t.Cleanup(func() { sim.Close(); srv.Close() })
	c, err := New(connector.Config{IntegrationID: "test", Credentials: sim.Info(srv.URL).Credentials,
		HTTP: connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: time.Second})}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return sim, c, rec
}

// Products, their variants (more than a page of products carries) and the stock at every
// location are read through the GraphQL Admin API: no REST product or inventory call is made,
// every field comes back, and nothing is throttled.
func TestReadsThroughGraphQL(t *testing.T) {
	sim, c, rec := startRecorded(t, testOptions)
	ids := sim.SeedProducts(30)
	many := sim.ValidProduct(1)
	many.Name = "Many sizes"
	for i := 0; i < 15; i++ {
		many.Variants = append(many.Variants, domain.Variant{Name: fmt.Sprintf("Size %d", i), SKU: fmt.Sprintf("SZ-%d", i),
			Barcode: fmt.Sprintf("400%04d", i), Price: domain.Money{Amount: 1000 + int64(i), Currency: "EUR"}, TrackStock: true})
	}
	created, err := c.CreateProduct(tctx(t), many)
	if err != nil {
		t.Fatal(err)
	}
	all, resume := listAllProducts(t, c, "")
	if len(all) != 31 || resume == "" {
		t.Fatalf("listed %d products, resume %q", len(all), resume)
	}
	var listed domain.Product
	for _, p := range all {
		if p.ID == created.ID {
			listed = p
		}
		if p.ID == ids[0] && (p.SKU != "SKU-00001" || p.Barcode != "8712345000001" || p.Weight == nil || p.Weight.Value != "101" ||
			p.Weight.Unit != "g" || p.Description == "" || len(p.Categories) != 1 || !p.TrackStock || p.Price.Amount != 599) {
			t.Errorf("seeded product read as %+v", p)
		}
	}
	got, err := c.GetProduct(tctx(t), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []domain.Product{listed, got} {
		if len(p.Variants) != 15 || p.Variants[14].SKU != "SZ-14" || p.Variants[14].Barcode != "4000014" || p.Variants[14].Price.Amount != 1014 || !p.Variants[14].TrackStock {
			t.Fatalf("product with 15 variants read as %+v", p)
		}
	}
	if _, err := c.GetProduct(tctx(t), "999"); connector.KindOf(err) != connector.KindNotFound {
		t.Fatalf("a product the shop lacks: %v", err)
	}

	var levels []domain.StockLevel
	for cur := ""; ; {
		p, err := c.ListStock(tctx(t), cur)
		if err != nil {
			t.Fatal(err)
		}
		levels = append(levels, p.Items...)
		if p.Next == "" {
			break
		}
		cur = p.Next
	}
	// 30 seeded products at both locations, 15 tracked variants at the first
	if len(levels) != 30*2+15 {
		t.Fatalf("%d levels", len(levels))
	}
	locs := sim.Locations()
	res, err := c.SetStock(tctx(t), []domain.StockLevel{{ProductID: created.ID, VariantID: got.Variants[3].ID, LocationID: fmt.Sprint(locs[1]), Quantity: "6"}})
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("set stock: %+v %v", res, err)
	}
	if n := sim.VariantStock(created.ID)["Size 3"][locs[1]]; n != 6 {
		t.Fatalf("stock set %d", n)
	}
	if rest := rec.rest(); len(rest) != 0 {
		t.Fatalf("REST calls for products or stock: %v", rest)
	}
	if sim.GraphQLThrottled() != 0 || c.GraphQLThrottled() != 0 || c.GraphQLCost() == 0 {
		t.Fatalf("throttled %d/%d, cost %v", sim.GraphQLThrottled(), c.GraphQLThrottled(), c.GraphQLCost())
	}
}

// Three readers list the catalog at once from a bucket that holds one page's requested cost:
// the client waits for the bucket by cost and meets no THROTTLED answer.
func TestProductReadsPacedByCost(t *testing.T) {
	sim, c := startSim(t, testOptions)
	sim.SeedProducts(120)
	sim.SetCostBucket(1000, 2000)
	var wg sync.WaitGroup
	counts := make([]int, 3)
	for w := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cur := ""; ; {
				p, err := c.ListProducts(tctx(t), cur)
				if err != nil {
					t.Error(err)
					return
				}
				counts[w] += len(p.Items)
				if cur = p.Next; cur == "" {
					return
				}
			}
		}()
	}
	wg.Wait()
	if fmt.Sprint(counts) != "[120 120 120]" {
		t.Fatalf("listed %v", counts)
	}
	if sim.GraphQLThrottled() != 0 || c.GraphQLThrottled() != 0 {
		t.Fatalf("throttled %d (client saw %d)", sim.GraphQLThrottled(), c.GraphQLThrottled())
	}
}

// BenchmarkShopifyGraphQLReadRate reads a catalog of 500 products through GraphQL at the
// Standard plan's limits (2,000 points restoring 100 a second, a full bucket at the start). Over
// T seconds Shopify allows 2,000 + 100T points; the benchmark reports the points the reads were
// charged as a share of that, and the THROTTLED answers. A page asks about 990 points and is
// charged about 165, and it may only go out when the bucket holds what it asks, so about 1,000 of
// the first 2,000 points go unused: the share nears 100% as a read grows longer (80% on a run of
// 24 s). About 25 s a run: run it with
// -bench=ShopifyGraphQLReadRate -benchtime=1x.
func BenchmarkShopifyGraphQLReadRate(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sim, c := startSim(b, testOptions)
		sim.SeedProducts(500)
		if _, err := c.shopCurrency(tctx(b)); err != nil {
			b.Fatal(err)
		}
		sim.SetCostBucket(2000, 100)
		c.cost = newCostBucket()
		spent0 := sim.GraphQLCost()
		start := time.Now()
		n := 0
		for cur := ""; ; {
			p, err := c.ListProducts(tctx(b), cur)
			if err != nil {
				b.Fatal(err)
			}
			n += len(p.Items)
			if cur = p.Next; cur == "" {
				break
			}
		}
		T := time.Since(start).Seconds()
		spent := sim.GraphQLCost() - spent0
		if n != 500 {
			b.Fatalf("read %d products", n)
		}
		b.ReportMetric(spent/(2000+100*T)*100, "%allowed")
		b.ReportMetric(float64(n)/T, "products/s")
		b.ReportMetric(float64(sim.GraphQLThrottled()), "throttled")
	}
}
