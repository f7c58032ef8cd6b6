package shopify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func costOf(t *testing.T, ans map[string]any) (requested, actual float64, ts map[string]any) {
	t.Helper()
	cost := ans["extensions"].(map[string]any)["cost"].(map[string]any)
	a, _ := cost["actualQueryCost"].(float64)
	return cost["requestedQueryCost"].(float64), a, cost["throttleStatus"].(map[string]any)
}

// The simulator answers a products query with exactly the fields selected, pages it by cursor,
// and charges it by Shopify's documented rules: each object 1, a connection 2 plus first times
// its node, scalars and pageInfo nothing; requested before, actual (what was returned) after.
func TestSimulatorProductsQueryCost(t *testing.T) {
	sim, c := startSim(t, testOptions)
	ids := sim.SeedProducts(3)
	q := `query { products(first: 2, sortKey: ID) {
    nodes { id title variants(first: 5) { nodes { sku inventoryItem { tracked } } } }
    pageInfo { hasNextPage endCursor }
  } }`
	ans := postGraphQL(t, c, q)
	req, act, ts := costOf(t, ans)
	// requested: 2 + 2 x (1 + 2 + 5 x (1 + 1)) = 28; actual: 2 + 2 x (1 + 2 + 1 x 2) = 12
	if req != 28 || act != 12 || ts["maximumAvailable"] != 2000.0 || ts["restoreRate"] != 100.0 {
		t.Fatalf("cost %v %v %v", req, act, ts)
	}
	products := ans["data"].(map[string]any)["products"].(map[string]any)
	nodes := products["nodes"].([]any)
	first := nodes[0].(map[string]any)
	if len(nodes) != 2 || first["id"] != "gid://shopify/Product/"+ids[0] || len(first) != 3 {
		t.Fatalf("nodes %v", nodes)
	}
	v := first["variants"].(map[string]any)["nodes"].([]any)[0].(map[string]any)
	if v["sku"] != "SKU-00001" || v["inventoryItem"].(map[string]any)["tracked"] != true || len(v) != 2 {
		t.Fatalf("variant %v", v)
	}
	pi := products["pageInfo"].(map[string]any)
	if pi["hasNextPage"] != true || pi["endCursor"] == nil {
		t.Fatalf("pageInfo %v", pi)
	}
	next := postGraphQL(t, c, fmt.Sprintf(`{ products(first: 2, after: %q) { nodes { id } pageInfo { hasNextPage } } }`, pi["endCursor"]))
	products = next["data"].(map[string]any)["products"].(map[string]any)
	if n := products["nodes"].([]any); len(n) != 1 || n[0].(map[string]any)["id"] != "gid://shopify/Product/"+ids[2] || products["pageInfo"].(map[string]any)["hasNextPage"] != false {
		t.Fatalf("second page %v", products)
	}

	// a product with its inventory at each location: quantities(names:) is a list of objects
	q = fmt.Sprintf(`{ p: product(id: "gid://shopify/Product/%s") { title variants(first: 1) { nodes {
    inventoryItem { measurement { weight { value unit } } inventoryLevels(first: 5) { nodes { location { id } quantities(names: ["available"]) { name quantity } } } } } } } }`, ids[1])
	ans = postGraphQL(t, c, q)
	req, act, _ = costOf(t, ans)
	// requested: product 1 + variants (2 + 1 x (variant 1 + item 1 + measurement 1 + weight 1 +
	// levels (2 + 5 x (level 1 + location 1 + quantities 1)))) = 24; actual, with two levels, 15
	if req != 24 || act != 15 {
		t.Fatalf("product cost %v %v: %v", req, act, ans)
	}
	b, _ := json.Marshal(ans["data"])
	for _, want := range []string{`"p":{"title":"Sample product 2"`, `"weight":{"unit":"GRAMS","value":102}`, `"quantities":[{"name":"available","quantity":14}]`} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("answer %s lacks %s", b, want)
		}
	}
	// a location's levels, as a stock read asks them
	locs := sim.Locations()
	ans = postGraphQL(t, c, fmt.Sprintf(`{ location(id: "gid://shopify/Location/%d") { inventoryLevels(first: 2, query: "updated_at:>'2001-01-01T00:00:00Z'") {
    nodes { quantities(names: ["available", "on_hand"]) { quantity } item { variant { id product { id } } } } pageInfo { hasNextPage } } } }`, locs[1]))
	if ans["errors"] != nil {
		t.Fatalf("levels: %v", ans)
	}
	levels := ans["data"].(map[string]any)["location"].(map[string]any)["inventoryLevels"].(map[string]any)
	if n := levels["nodes"].([]any); len(n) != 2 || levels["pageInfo"].(map[string]any)["hasNextPage"] != true ||
		len(n[0].(map[string]any)["quantities"].([]any)) != 2 {
		t.Fatalf("levels %v", levels)
	}

	// what the schema does not have is an error, as is a connection without first or last
	for q, code := range map[string]string{
		`{ products(first: 1) { nodes { colour } } }`: "undefinedField",
		`{ products { nodes { id } } }`:               "MISSING_ARGUMENT",
		`{ products(first: 251) { nodes { id } } }`:   "BAD_REQUEST",
	} {
		ans := postGraphQL(t, c, q)
		errs, _ := ans["errors"].([]any)
		if len(errs) == 0 || errs[0].(map[string]any)["extensions"].(map[string]any)["code"] != code || ans["data"] != nil {
			t.Fatalf("%s: %v", q, ans)
		}
	}
	// a search finds products by SKU and handle
	ans = postGraphQL(t, c, `{ products(first: 5, query: "sku:SKU-00003") { nodes { handle } } }`)
	if n := ans["data"].(map[string]any)["products"].(map[string]any)["nodes"].([]any); len(n) != 1 || n[0].(map[string]any)["handle"] != "sample-product-3" {
		t.Fatalf("by sku: %v", ans)
	}
	if sim.GraphQLThrottled() != 0 {
		t.Fatal("throttled")
	}
}

// A read that asks more than the bucket holds is THROTTLED with the bucket's state, and runs
// once the bucket has restored.
func TestSimulatorProductsQueryThrottled(t *testing.T) {
	sim, c := startSim(t, testOptions)
	sim.SeedProducts(2)
	sim.SetCostBucket(30, 0.001)
	q := `{ products(first: 2) { nodes { id variants(first: 5) { nodes { sku inventoryItem { tracked } } } } } }`
	if _, act, ts := costOf(t, postGraphQL(t, c, q)); act != 12 || ts["currentlyAvailable"] != 18.0 {
		t.Fatalf("first: %v %v", act, ts)
	}
	ans := postGraphQL(t, c, q)
	errs, _ := ans["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["extensions"].(map[string]any)["code"] != "THROTTLED" || ans["data"] != nil {
		t.Fatalf("second: %v", ans)
	}
	if _, _, ts := costOf(t, ans); ts["currentlyAvailable"] != 18.0 || ts["restoreRate"] != 0.001 {
		t.Fatalf("throttle status %v", ts)
	}
	sim.SetCostBucket(30, 100)
	if ans := postGraphQL(t, c, q); ans["errors"] != nil {
		t.Fatalf("after restoring: %v", ans)
	}
}

// productSet answers its product with the fields the mutation selects, charged as selected.
func TestSimulatorProductSetSelection(t *testing.T) {
	_, c := startSim(t, testOptions)
	in := map[string]any{"title": "Selected", "variants": []any{map[string]any{"optionValues": []any{map[string]any{"optionName": "Title", "name": "Default Title"}}, "price": "1.00", "sku": "SEL-1"}}}
	body, _ := json.Marshal(map[string]any{"query": `mutation set($input: ProductSetInput!) { productSet(synchronous: true, input: $input) {
    product { title handle variants(first: 5) { nodes { sku } } } userErrors { field } } }`, "variables": map[string]any{"input": in}})
	ans := postGraphQLBody(t, c, body)
	if ans["errors"] != nil {
		t.Fatalf("%v", ans)
	}
	b, _ := json.Marshal(ans["data"])
	if !strings.Contains(string(b), `"product":{"handle":`) || strings.Contains(string(b), `"id"`) {
		t.Fatalf("productSet answered %s", b)
	}
	// requested: 10 + product 1 + variants (2 + 5 x 1) + userErrors 1 = 19; actual: 10 + 1 + 2 + 1 + 0 (no user errors)
	if req, act, _ := costOf(t, ans); req != 19 || act != 14 {
		t.Fatalf("cost %v %v", req, act)
	}
}

func postGraphQLBody(t *testing.T, c *Client, body []byte) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.adminURL("graphql.json"), bytes.NewReader(body))
	req.Header.Set("X-Shopify-Access-Token", c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}
