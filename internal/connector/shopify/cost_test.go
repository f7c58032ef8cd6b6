package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

func TestQueryCost(t *testing.T) {
	for _, c := range []struct {
		q    string
		vars map[string]any
		want int
	}{
		{`{ shop { name } }`, nil, 1},
		{`query { products(first: 10) { nodes { id title } pageInfo { hasNextPage endCursor } } }`, nil, 2 + 10},
		{`query q($n: Int!) { products(first: $n, query: "sku:\"A, B\"") { edges { node { id variants(first: 3) { nodes { id } } } } } }`,
			// edges are free and each node 1, as nodes' items are
			map[string]any{"n": json.RawMessage("5")}, 2 + 5*(1+2+3)},
		{`{ products(first: 10) { edges { node { title variants(first: 5) { edges { node { price } } } } } } }`, nil, 2 + 10*(1+2+5*1)},
		{qEditBegin, nil, 10 + 1 + 2 + 200*4 + 1},
		{qEditCommit, nil, 10 + 1 + 1},
		{`mutation { a: orderEditCommit(id: "x") { userErrors { field } } }`, nil, 11},
	} {
		if got := queryCost(c.q, c.vars); got != c.want {
			t.Errorf("queryCost(%.60q) = %d, want %d", c.q, got, c.want)
		}
	}
}

// postGraphQL sends one raw GraphQL request, as a client without pacing would.
func postGraphQL(t *testing.T, c *Client, query string) map[string]any {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, c.adminURL("graphql.json"), bytes.NewReader(b))
	req.Header.Set("X-Shopify-Access-Token", c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// The simulator charges the requested cost before it runs a query, gives back the difference to
// the actual cost, and answers THROTTLED (HTTP 200, no data, actualQueryCost null) when the
// bucket lacks the requested cost.
func TestSimulatorCostBucket(t *testing.T) {
	sim, c := startSim(t, testOptions)
	sim.SetCostBucket(30, 0.001)
	commit := `mutation { orderEditCommit(id: "gid://shopify/CalculatedOrder/1") { order { id } userErrors { field message } } }`
	first := postGraphQL(t, c, commit) // requested 12, the answer is a user error: actual 11
	cost := first["extensions"].(map[string]any)["cost"].(map[string]any)
	ts := cost["throttleStatus"].(map[string]any)
	if cost["requestedQueryCost"] != 12.0 || cost["actualQueryCost"] != 11.0 || ts["maximumAvailable"] != 30.0 || ts["currentlyAvailable"] != 19.0 {
		t.Fatalf("first answer's cost %v", cost)
	}
	postGraphQL(t, c, commit) // 8 left
	third := postGraphQL(t, c, commit)
	errs, _ := third["errors"].([]any)
	if len(errs) != 1 || third["data"] != nil {
		t.Fatalf("a call beyond the budget: %v", third)
	}
	e := errs[0].(map[string]any)
	cost = third["extensions"].(map[string]any)["cost"].(map[string]any)
	if e["message"] != "Throttled" || e["extensions"].(map[string]any)["code"] != "THROTTLED" || cost["actualQueryCost"] != nil {
		t.Fatalf("throttled answer %v", third)
	}
	if sim.GraphQLThrottled() != 1 {
		t.Fatalf("throttled %d times", sim.GraphQLThrottled())
	}
	big := postGraphQL(t, c, `{ products(first: 250) { nodes { id variants(first: 250) { nodes { id } } } } }`)
	if e := big["errors"].([]any)[0].(map[string]any); e["extensions"].(map[string]any)["code"] != "MAX_COST_EXCEEDED" {
		t.Fatalf("a query over 1,000 points: %v", big)
	}
}

// Several workers edit orders at once against a bucket that holds one order-edit query at a
// time: the client waits for the bucket instead of meeting THROTTLED answers.
func TestGraphQLPacedByCost(t *testing.T) {
	sim, c := startSim(t, testOptions)
	stores, err := c.Stores(tctx(t))
	if err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 4, 3
	var orders []domain.Order
	for i := 0; i < workers; i++ {
		o, err := c.CreateOrder(tctx(t), domain.Order{Reference: fmt.Sprintf("JOB-%d", i), StoreID: stores[0].ID,
			Lines: []domain.OrderLine{{Name: "Labour", Quantity: "1", UnitPrice: domain.Money{Amount: 3000, Currency: "EUR"}}}}, fmt.Sprintf("JOB-%d#1", i))
		if err != nil {
			t.Fatal(err)
		}
		orders = append(orders, o)
	}
	// 813 points for one edit's first query, restoring 3,000 a second.
	sim.SetCostBucket(900, 3000)
	began := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for i := range orders {
		wg.Add(1)
		go func(o domain.Order) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				o.Lines = append(o.Lines, domain.OrderLine{Name: fmt.Sprintf("Part %d", r), Quantity: "1", UnitPrice: domain.Money{Amount: 500, Currency: "EUR"}})
				if _, err := c.UpdateOrder(tctx(t), o, fmt.Sprintf("%s#%d", o.Reference, r+2)); err != nil {
					errs <- err
					return
				}
			}
		}(orders[i])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := sim.GraphQLThrottled(); n != 0 {
		t.Errorf("the simulator throttled %d GraphQL calls", n)
	}
	if n := c.GraphQLThrottled(); n != 0 {
		t.Errorf("the client met %d THROTTLED answers", n)
	}
	t.Logf("%d order edits by %d workers in %v, %.0f points spent", workers*rounds, workers, time.Since(began).Round(time.Millisecond), c.GraphQLCost())
}

// pushWithCostBucket pushes n new products, then (rounds 2) the same products changed, through
// UpsertProducts in batches of 50 by workers at once, to a simulator whose GraphQL bucket holds
// max points restoring restore a second (filled at the start). It reports the items refused, the
// THROTTLED answers the simulator gave and the client met, the points spent and the time taken.
func pushWithCostBucket(tb testing.TB, max, restore float64, n, workers, rounds int) (failed, simThrottled, clientThrottled int, spent float64, elapsed time.Duration) {
	sim := NewSimulator(WithBucket(40, 1000))
	srv := httptest.NewServer(sim)
	defer func() { sim.Close(); srv.Close() }()
	info := sim.Info(srv.URL)
	c, err := New(connector.Config{Credentials: info.Credentials,
		HTTP: connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: 10 * time.Second})},
		Options{LeakRate: 1000, Backoff: 10 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := c.shopCurrency(context.Background()); err != nil {
		tb.Fatal(err)
	}
	sim.SetCostBucket(max, restore)
	c.cost = newCostBucket()
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	per := n / workers
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var ps []domain.Product
			for i := 0; i < per; i++ {
				p := sim.ValidProduct(w*per + i)
				if i%4 == 0 {
					p.Variants = []domain.Variant{{Name: "Small", SKU: fmt.Sprintf("S-%d-%d", w, i), Price: p.Price, TrackStock: true},
						{Name: "Large", SKU: fmt.Sprintf("L-%d-%d", w, i), Price: p.Price, TrackStock: true}}
				}
				ps = append(ps, p)
			}
			for round := 0; round < rounds; round++ {
				for b := 0; b < len(ps); b += 50 {
					batch := ps[b:min(b+50, len(ps))]
					res, err := c.UpsertProducts(context.Background(), batch)
					mu.Lock()
					if err != nil {
						tb.Errorf("batch: %v", err)
						failed += len(batch) - len(res)
					}
					for _, r := range res {
						if r.Err != nil {
							tb.Errorf("item: %v", r.Err)
							failed++
							continue
						}
						batch[r.Index].ID = r.ID
						batch[r.Index].Price.Amount += 100
						for k := range batch[r.Index].Variants {
							batch[r.Index].Variants[k].Price.Amount += 100
						}
					}
					mu.Unlock()
				}
			}
		}(w)
	}
	wg.Wait()
	elapsed = time.Since(start)
	return failed, sim.GraphQLThrottled(), int(c.GraphQLThrottled()), sim.GraphQLCost(), elapsed
}

// A push of many products (creates, then updates that read the shop's variants first) by three
// workers at once, to a bucket that holds one productSet's requested cost at a time: no
// THROTTLED answer, nothing refused.
func TestProductPushPacedByCost(t *testing.T) {
	const max, restore = 300.0, 1000.0
	failed, simT, clientT, spent, elapsed := pushWithCostBucket(t, max, restore, 90, 3, 2)
	if failed != 0 || simT != 0 || clientT != 0 {
		t.Fatalf("%d products refused, %d THROTTLED answers (the client met %d)", failed, simT, clientT)
	}
	t.Logf("90 products created and updated in %v: %.0f points spent, %.0f%% of the %.0f the bucket allowed",
		elapsed.Round(time.Millisecond), spent, 100*spent/(max+restore*elapsed.Seconds()), max+restore*elapsed.Seconds())
}

// BenchmarkShopifyGraphQLRate is the Shopify check: 2,000 products created through
// GraphQL at the Standard plan's limits (2,000 points restoring 100 a
// second) with a full bucket at the start. Over T seconds Shopify allows 2,000 + 100T points;
// the benchmark reports the points spent as a share of that, and the THROTTLED answers. It takes
// several minutes a run: run it with -bench=ShopifyGraphQLRate -benchtime=1x.
func BenchmarkShopifyGraphQLRate(b *testing.B) {
	for i := 0; i < b.N; i++ {
		failed, simT, _, spent, elapsed := pushWithCostBucket(b, 2000, 100, 2000, 1, 1)
		T := elapsed.Seconds()
		b.ReportMetric(spent/(2000+100*T)*100, "%allowed")
		b.ReportMetric(spent/T, "points/s")
		b.ReportMetric(float64(failed), "failed")
		b.ReportMetric(float64(simT), "throttled")
	}
}

// A create whose answer is lost is found by the reference written with it, with or without a
// SKU; products created before since, or by someone else, are not.
func TestFindProductsAfterLostAnswer(t *testing.T) {
	sim, c := startSim(t, testOptions)
	sim.SeedProducts(3)
	old := sim.ValidProduct(1)
	old.Ref = "prd_old"
	if _, err := c.CreateProduct(tctx(t), old); err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(time.Hour) // nothing was updated after this
	if got, err := c.FindProducts(tctx(t), []string{"prd_old"}, since); err != nil || len(got) != 0 {
		t.Fatalf("found before since: %v %v", got, err)
	}
	since = time.Now()
	var ids []string
	for i, sku := range []string{"LOST-1", ""} {
		p := sim.ValidProduct(10 + i)
		p.SKU, p.Ref = sku, fmt.Sprintf("prd_%d", i)
		sim.LoseNextAnswers(1)
		if _, err := c.CreateProduct(tctx(t), p); connector.KindOf(err) != connector.KindTemporary {
			t.Fatalf("a lost answer: %v", err)
		}
	}
	got, err := c.FindProducts(tctx(t), []string{"prd_0", "prd_1", "prd_9"}, since)
	if err != nil || len(got) != 2 || got["prd_0"] == "" || got["prd_1"] == "" {
		t.Fatalf("found %v %v", got, err)
	}
	for _, id := range []string{got["prd_0"], got["prd_1"]} {
		p, err := c.GetProduct(tctx(t), id)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.Name)
	}
	if ids[0] != sim.ValidProduct(10).Name || ids[1] != sim.ValidProduct(11).Name {
		t.Fatalf("found %v", ids)
	}
}

// A product's variants get their stock at the shop's locations with the product write: on
// create through productSet, on update through inventorySetQuantities (a variant not stocked at
// a location yet is activated there), "" the shop's first location, fractions rounded down.
func TestVariantStockWithProducts(t *testing.T) {
	sim, c := startSim(t, testOptions)
	locs := sim.Locations()
	l1, l2 := strconv.FormatInt(locs[0], 10), strconv.FormatInt(locs[1], 10)
	p := sim.ValidProduct(1)
	p.Variants = []domain.Variant{
		{Name: "Small", SKU: "S", Price: p.Price, TrackStock: true, StockAt: map[string]string{l1: "3", l2: "4"}},
		{Name: "Large", SKU: "L", Price: p.Price, TrackStock: true, StockAt: map[string]string{"": "7"}},
		{Name: "Service", SKU: "X", Price: p.Price, StockAt: map[string]string{l1: "99"}}, // not tracked: no stock
	}
	res, err := c.UpsertProducts(tctx(t), []domain.Product{p})
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("create: %v %+v", err, res)
	}
	want := func(what string, w map[string]map[int64]int) {
		t.Helper()
		got := sim.VariantStock(res[0].ID)
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Fatalf("%s: stock %v, want %v", what, got, w)
		}
	}
	want("created", map[string]map[int64]int{"Small": {locs[0]: 3, locs[1]: 4}, "Large": {locs[0]: 7}, "Service": {}})
	p.ID = res[0].ID
	p.Variants = []domain.Variant{
		{Name: "Small", SKU: "S", Price: p.Price, TrackStock: true, StockAt: map[string]string{l1: "5", l2: "0.5"}},
		{Name: "Medium", SKU: "M", Price: p.Price, TrackStock: true, StockAt: map[string]string{l2: "9"}},
		{Name: "Large", SKU: "L", Price: p.Price, TrackStock: true, StockAt: map[string]string{l2: "2"}},
	}
	res, err = c.UpsertProducts(tctx(t), []domain.Product{p})
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("update: %v %+v", err, res)
	}
	want("updated", map[string]map[int64]int{"Small": {locs[0]: 5, locs[1]: 0}, "Medium": {locs[0]: 0, locs[1]: 9}, "Large": {locs[0]: 7, locs[1]: 2}})
	// the same update with no stock leaves the stock as it is
	for i := range p.Variants {
		p.Variants[i].StockAt = nil
	}
	if res, err = c.UpsertProducts(tctx(t), []domain.Product{p}); err != nil || res[0].Err != nil {
		t.Fatalf("update without stock: %v %+v", err, res)
	}
	want("updated without stock", map[string]map[int64]int{"Small": {locs[0]: 5, locs[1]: 0}, "Medium": {locs[0]: 0, locs[1]: 9}, "Large": {locs[0]: 7, locs[1]: 2}})
	// a product without variants: its one variant
	one := sim.ValidProduct(2)
	one.StockAt = map[string]string{"": "12"}
	res, err = c.UpsertProducts(tctx(t), []domain.Product{one})
	if err != nil || res[0].Err != nil {
		t.Fatalf("create one: %v %+v", err, res)
	}
	one.ID, one.StockAt = res[0].ID, map[string]string{l1: "11", l2: "1"}
	if res, err = c.UpsertProducts(tctx(t), []domain.Product{one}); err != nil || res[0].Err != nil {
		t.Fatalf("update one: %v %+v", err, res)
	}
	want("single variant", map[string]map[int64]int{"Default Title": {locs[0]: 11, locs[1]: 1}})
	if n := sim.GraphQLThrottled(); n != 0 {
		t.Errorf("%d THROTTLED", n)
	}
}

// A create the shop performed whose answer is a 5xx, or never comes (the connection breaks),
// is not sent again by the client: the shop has the product once, FindProducts finds it by the
// reference written with it, and the push that adopts it updates that product instead of making
// a second one.
func TestLostCreateAnswerNotRepeated(t *testing.T) {
	for _, status := range []int{500, 502, 503, 0} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			sim, c := startSim(t, testOptions)
			count := func(name string) (n int, id string) {
				all, _ := listAllProducts(t, c, "")
				for _, p := range all {
					if p.Name == name {
						n, id = n+1, p.ID
					}
				}
				return n, id
			}
			since := time.Now()
			p := sim.ValidProduct(3)
			p.Ref = "prd_lost"
			sim.LoseNextAnswersAs(1, status)
			res, err := c.UpsertProducts(tctx(t), []domain.Product{p})
			if err != nil || len(res) != 1 || connector.KindOf(res[0].Err) != connector.KindTemporary {
				t.Fatalf("a create whose answer is lost: %+v %v", res, err)
			}
			n, shopID := count(p.Name)
			if n != 1 {
				t.Fatalf("the shop has the product %d times after the lost answer", n)
			}
			found, err := c.FindProducts(tctx(t), []string{"prd_lost"}, since.Add(-time.Minute))
			if err != nil || found["prd_lost"] != shopID {
				t.Fatalf("found %v %v, the shop's id is %s", found, err, shopID)
			}
			p.ID, p.Name = found["prd_lost"], p.Name+" (pushed again)"
			res, err = c.UpsertProducts(tctx(t), []domain.Product{p})
			if err != nil || res[0].Err != nil || res[0].ID != shopID {
				t.Fatalf("the adopting push: %+v %v", res, err)
			}
			if n, _ := count(p.Name); n != 1 {
				t.Fatalf("the shop has the product %d times after the push", n)
			}
			if all, _ := listAllProducts(t, c, ""); len(all) != 1 {
				t.Fatalf("the shop has %d products", len(all))
			}
		})
	}
}
