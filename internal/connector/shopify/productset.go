package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// Products are written through the GraphQL Admin API's productSet (Shopify requires GraphQL for
// product writes of new public apps): the whole product with its variants in one call, created
// without an id and updated with one. productSet replaces the variant list (a variant without an
// id is made anew, one left out is deleted), so an update names the variants the shop has: by
// the ids given, or else read from the shop and matched by name, then by SKU.

const (
	// qProductSet costs 10 + 1 + 2 + 100 x 2 + 1 = 214 points requested; a product with one
	// variant actually costs about 16.
	qProductSet = `mutation posbridgeProductSet($input: ProductSetInput!) {
  productSet(input: $input, synchronous: true) {
    product {
      id
      updatedAt
      variants(first: 100) { nodes { id title sku price inventoryItem { id tracked } } }
    }
    userErrors { field message code }
  }
}`
	// qFindProducts costs 2 + 100 x 2 = 202 points requested.
	qFindProducts = `query posbridgeFindProducts($query: String!, $after: String) {
  products(first: 100, after: $after, query: $query, sortKey: ID) {
    nodes { id metafield(namespace: "posbridge", key: "ref") { value } }
    pageInfo { hasNextPage endCursor }
  }
}`
	// qProductVariants costs 1 + 2 + 100 = 103 points requested.
	qProductVariants = `query posbridgeProductVariants($id: ID!) {
  product(id: $id) {
    variants(first: 100) { nodes { id title sku } }
  }
}`
)

// gqlVariant is a variant as productSet and product answer it.
type gqlVariant struct {
	ID            string `json:"id"`
	Title         string `json:"title"`
	SKU           string `json:"sku"`
	Price         string `json:"price"`
	InventoryItem *struct {
		ID      string `json:"id"`
		Tracked bool   `json:"tracked"`
	} `json:"inventoryItem"`
}

type gqlProduct struct {
	ID        string `json:"id"`
	UpdatedAt string `json:"updatedAt"`
	Variants  struct {
		Nodes []gqlVariant `json:"nodes"`
	} `json:"variants"`
}

// The metafield a product created by posbridge carries posbridge's reference of it in
// (domain.Product.Ref), by which FindProducts finds it again.
const refNamespace, refKey = "posbridge", "ref"

// weightUnits maps posbridge's weight units to Shopify's WeightUnit enum.
var weightUnits = map[string]string{"g": "GRAMS", "kg": "KILOGRAMS", "oz": "OUNCES", "lb": "POUNDS"}

// defaultOption is the option Shopify gives a product without variants of its own.
const defaultOption, defaultValue = "Title", "Default Title"

// variantOption is the one option posbridge's variants differ by.
const variantOption = "Variant"

// setInput builds productSet's ProductSetInput. ids are the shop's variant ids to update, in
// the order of the product's variants ("" creates one).
func setInput(p domain.Product, currency string, ids []string) (map[string]any, error) {
	if p.Price.Currency != "" && currency != "" && !strings.EqualFold(p.Price.Currency, currency) {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("price is in %s but the shop sells in %s", p.Price.Currency, currency)}
	}
	in := map[string]any{"title": p.Name, "descriptionHtml": p.Description}
	if len(p.Categories) > 0 {
		in["productType"] = p.Categories[0].Name
	}
	var weight map[string]any
	if p.Weight != nil && p.Weight.Value != "" {
		unit, ok := weightUnits[strings.ToLower(p.Weight.Unit)]
		if !ok {
			return nil, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("weight unit %q is not one of g, kg, oz, lb", p.Weight.Unit)}
		}
		n := json.Number(p.Weight.Value)
		if _, err := n.Float64(); err != nil {
			return nil, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("weight %q is not a number", p.Weight.Value)}
		}
		weight = map[string]any{"weight": map[string]any{"value": n, "unit": unit}}
	}
	variant := func(i int, option, value string, price domain.Money, sku, barcode string, track bool) (map[string]any, error) {
		if price.Currency != "" && currency != "" && !strings.EqualFold(price.Currency, currency) {
			return nil, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("price is in %s but the shop sells in %s", price.Currency, currency)}
		}
		item := map[string]any{"tracked": track}
		if i == 0 && weight != nil {
			item["measurement"] = weight
		}
		v := map[string]any{"optionValues": []map[string]any{{"optionName": option, "name": value}},
			"price": formatMoney(price.Amount, currency), "sku": sku, "barcode": barcode, "inventoryItem": item}
		if i < len(ids) && ids[i] != "" {
			v["id"] = ids[i]
		}
		return v, nil
	}
	var variants []map[string]any
	if len(p.Variants) == 0 {
		v, err := variant(0, defaultOption, defaultValue, p.Price, p.SKU, p.Barcode, p.TrackStock)
		if err != nil {
			return nil, err
		}
		variants = append(variants, v)
		in["productOptions"] = []map[string]any{{"name": defaultOption, "values": []map[string]any{{"name": defaultValue}}}}
	} else {
		var values []map[string]any
		seen := map[string]bool{}
		for i, dv := range p.Variants {
			name := variantName(dv, i)
			if seen[name] {
				return nil, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("two variants are named %q", name)}
			}
			seen[name] = true
			values = append(values, map[string]any{"name": name})
			v, err := variant(i, variantOption, name, dv.Price, dv.SKU, dv.Barcode, dv.TrackStock)
			if err != nil {
				return nil, err
			}
			variants = append(variants, v)
		}
		in["productOptions"] = []map[string]any{{"name": variantOption, "values": values}}
	}
	in["variants"] = variants
	return in, nil
}

func variantName(v domain.Variant, i int) string {
	if v.Name != "" {
		return v.Name
	}
	return fmt.Sprintf("Variant %d", i+1)
}

// productSet runs one productSet and answers the product as written: p with the shop's ids and
// the variants as the shop answered them.
func (c *Client) productSet(ctx context.Context, op string, p domain.Product, in map[string]any, currency string) (domain.Product, gqlProduct, error) {
	var out struct {
		ProductSet struct {
			Product    *gqlProduct `json:"product"`
			UserErrors []userError `json:"userErrors"`
		} `json:"productSet"`
	}
	if err := c.graphql(ctx, op, qProductSet, map[string]any{"input": in}, &out); err != nil {
		return domain.Product{}, gqlProduct{}, err
	}
	if ue := out.ProductSet.UserErrors; len(ue) > 0 {
		err := userErrorsErr(op, ue)
		if ue[0].Code == "PRODUCT_DOES_NOT_EXIST" {
			var ce *connector.Error
			if errors.As(err, &ce) {
				ce.Kind = connector.KindNotFound
			}
		}
		return domain.Product{}, gqlProduct{}, err
	}
	gp := out.ProductSet.Product
	if gp == nil {
		return domain.Product{}, gqlProduct{}, fmt.Errorf("%s: %w", op, &connector.Error{Kind: connector.KindTemporary, Message: "productSet answered no product"})
	}
	got := p
	got.ID = strconv.FormatInt(gidNumber(gp.ID), 10)
	got.Version, got.UpdatedAt = gp.UpdatedAt, parseTime(gp.UpdatedAt)
	got.Variants = nil
	pid := gidNumber(gp.ID)
	for i, v := range gp.Variants.Nodes {
		amount, err := parseMoney(v.Price, currency)
		if err != nil {
			return domain.Product{}, gqlProduct{}, fmt.Errorf("%s: variant %s price: %w", op, v.ID, err)
		}
		dv := domain.Variant{ID: strconv.FormatInt(gidNumber(v.ID), 10), Name: v.Title, SKU: v.SKU,
			Price: domain.Money{Amount: amount, Currency: currency}}
		if v.InventoryItem != nil {
			dv.TrackStock = v.InventoryItem.Tracked
			c.rememberItem(gidNumber(v.InventoryItem.ID), pid, gidNumber(v.ID))
		}
		if i < len(p.Variants) {
			dv.Barcode = p.Variants[i].Barcode
		} else if len(p.Variants) == 0 {
			dv.Barcode = p.Barcode
		}
		got.Variants = append(got.Variants, dv)
		if i == 0 {
			got.SKU, got.TrackStock, got.Price = dv.SKU, dv.TrackStock, dv.Price
		}
	}
	return got, *gp, nil
}

// CreateProduct creates a product with its variants (productSet without an id), active. A
// create is not repeated after a 5xx or timeout, since Shopify may have made it.
func (c *Client) CreateProduct(ctx context.Context, p domain.Product) (domain.Product, error) {
	got, _, err := c.createProduct(ctx, p)
	return got, err
}

func (c *Client) createProduct(ctx context.Context, p domain.Product) (domain.Product, gqlProduct, error) {
	currency, err := c.shopCurrency(ctx)
	if err != nil {
		return domain.Product{}, gqlProduct{}, err
	}
	in, err := setInput(p, currency, nil)
	if err != nil {
		return domain.Product{}, gqlProduct{}, fmt.Errorf("create product: %w", err)
	}
	in["status"] = "ACTIVE"
	if err := c.withInventoryQuantities(ctx, p, in); err != nil {
		return domain.Product{}, gqlProduct{}, fmt.Errorf("create product: %w", err)
	}
	if p.Ref != "" {
		in["metafields"] = []map[string]any{{"namespace": refNamespace, "key": refKey, "type": "single_line_text_field", "value": p.Ref}}
	}
	return c.productSet(ctx, "create product", p, in, currency)
}

// UpdateProduct writes a product's fields and variants (productSet with the product's id). The
// shop's variants are kept by id: the variants' own ids when every one has one, else the shop's
// variants read first and matched by name, then by SKU (a product without variants updates the
// shop's first variant). A variant matched by neither is created, one left over is deleted.
func (c *Client) UpdateProduct(ctx context.Context, p domain.Product) (domain.Product, error) {
	got, _, err := c.updateProduct(ctx, p)
	return got, err
}

func (c *Client) updateProduct(ctx context.Context, p domain.Product) (domain.Product, gqlProduct, error) {
	id, err := parseID("product", p.ID)
	if err != nil {
		return domain.Product{}, gqlProduct{}, err
	}
	op := fmt.Sprintf("update product %d", id)
	currency, err := c.shopCurrency(ctx)
	if err != nil {
		return domain.Product{}, gqlProduct{}, err
	}
	ids, err := c.variantIDs(ctx, id, p)
	if err != nil {
		return domain.Product{}, gqlProduct{}, fmt.Errorf("%s: %w", op, err)
	}
	in, err := setInput(p, currency, ids)
	if err != nil {
		return domain.Product{}, gqlProduct{}, fmt.Errorf("%s: %w", op, err)
	}
	in["id"] = gid("Product", id)
	got, gp, err := c.productSet(ctx, op, p, in, currency)
	if err != nil {
		return got, gp, err
	}
	if err := c.setStockOf(ctx, op, p, gp); err != nil {
		return got, gp, err
	}
	return got, gp, nil
}

// FindProducts implements connector.ProductFinder: it reads the products updated since since (a
// second earlier: Shopify's search compares whole seconds) and answers the id of each one whose
// posbridge.ref metafield, written when posbridge created it, is among refs. A product without
// a SKU is found as well as one with.
func (c *Client) FindProducts(ctx context.Context, refs []string, since time.Time) (map[string]string, error) {
	want := map[string]bool{}
	for _, r := range refs {
		want[r] = true
	}
	out := map[string]string{}
	q := fmt.Sprintf("updated_at:>='%s'", since.UTC().Add(-time.Second).Format(time.RFC3339))
	var after any
	for page := 1; page < 10000 && len(out) < len(want); page++ {
		var res struct {
			Products struct {
				Nodes []struct {
					ID        string `json:"id"`
					Metafield *struct {
						Value string `json:"value"`
					} `json:"metafield"`
				} `json:"nodes"`
				PageInfo struct {
					HasNextPage bool   `json:"hasNextPage"`
					EndCursor   string `json:"endCursor"`
				} `json:"pageInfo"`
			} `json:"products"`
		}
		if err := c.graphql(ctx, "find created products", qFindProducts, map[string]any{"query": q, "after": after}, &res); err != nil {
			return out, err
		}
		for _, n := range res.Products.Nodes {
			if n.Metafield != nil && want[n.Metafield.Value] {
				out[n.Metafield.Value] = strconv.FormatInt(gidNumber(n.ID), 10)
			}
		}
		if !res.Products.PageInfo.HasNextPage {
			break
		}
		after = res.Products.PageInfo.EndCursor
	}
	return out, nil
}

// variantIDs answers the shop's variant id for each of p's variants (for a product without
// variants, its one), "" where a new variant is to be made.
func (c *Client) variantIDs(ctx context.Context, productID int64, p domain.Product) ([]string, error) {
	if len(p.Variants) > 0 {
		ids := make([]string, len(p.Variants))
		all := true
		for i, v := range p.Variants {
			if v.ID == "" {
				all = false
				continue
			}
			n, err := parseID("variant", v.ID)
			if err != nil {
				return nil, err
			}
			ids[i] = gid("ProductVariant", n)
		}
		if all {
			return ids, nil
		}
	}
	var out struct {
		Product *struct {
			Variants struct {
				Nodes []gqlVariant `json:"nodes"`
			} `json:"variants"`
		} `json:"product"`
	}
	if err := c.graphql(ctx, "read the shop's variants", qProductVariants, map[string]any{"id": gid("Product", productID)}, &out); err != nil {
		return nil, err
	}
	if out.Product == nil {
		return nil, &connector.Error{Kind: connector.KindNotFound, Status: http.StatusOK, Message: fmt.Sprintf("product %d does not exist in the shop", productID)}
	}
	shop := out.Product.Variants.Nodes
	if len(p.Variants) == 0 {
		if len(shop) == 0 {
			return nil, nil
		}
		return []string{shop[0].ID}, nil
	}
	used := make([]bool, len(shop))
	ids := make([]string, len(p.Variants))
	take := func(i int, match func(v gqlVariant) bool) {
		for j, v := range shop {
			if !used[j] && match(v) {
				used[j], ids[i] = true, v.ID
				return
			}
		}
	}
	for i, dv := range p.Variants {
		if dv.ID != "" {
			n, _ := parseID("variant", dv.ID)
			ids[i] = gid("ProductVariant", n)
			for j, v := range shop {
				if v.ID == ids[i] {
					used[j] = true
				}
			}
		}
	}
	for i, dv := range p.Variants {
		if ids[i] == "" {
			name := variantName(dv, i)
			take(i, func(v gqlVariant) bool { return v.Title == name })
		}
	}
	for i, dv := range p.Variants {
		if ids[i] == "" && dv.SKU != "" {
			take(i, func(v gqlVariant) bool { return v.SKU == dv.SKU })
		}
	}
	return ids, nil
}

// WritesStockAtLocations implements connector.StockAtLocationsWithProducts: a product's and its
// variants' StockAt are set with the product write (on create through productSet's
// inventoryQuantities, on update through inventorySetQuantities), at the shop's location of each
// id, "" the shop's first active location. Shopify counts whole units: a fractional quantity is
// set rounded down.
func (c *Client) WritesStockAtLocations() bool { return true }

const (
	// qSetQuantities costs 10 + 1 + 1 = 12 points requested.
	qSetQuantities = `mutation posbridgeSetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}`
	// qActivate costs 10 + 1 + 1 = 12 points requested.
	qActivate = `mutation posbridgeActivate($inventoryItemId: ID!, $locationId: ID!, $available: Int) {
  inventoryActivate(inventoryItemId: $inventoryItemId, locationId: $locationId, available: $available) {
    inventoryLevel { id }
    userErrors { field message code }
  }
}`
)

// stockQty is one quantity to set: an inventory item at a location (both GraphQL ids).
type stockQty struct {
	item, location string
	quantity       int
}

// wholeUnits reads a decimal quantity as the whole units Shopify counts, rounded down.
func wholeUnits(q string) (int, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(q))
	if !ok {
		return 0, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("stock quantity %q is not a number", q)}
	}
	n := new(big.Int).Div(r.Num(), r.Denom()) // Euclidean: rounds down for negatives too
	if !n.IsInt64() || n.Int64() > 1<<31-1 || n.Int64() < -(1<<31) {
		return 0, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("stock quantity %q is out of range", q)}
	}
	return int(n.Int64()), nil
}

// locationGID is the shop's location for a StockAt key ("" the first active location).
func (c *Client) locationGID(ctx context.Context, id string) (string, error) {
	if id != "" {
		n, err := parseID("location", id)
		if err != nil {
			return "", err
		}
		return gid("Location", n), nil
	}
	c.mu.Lock()
	def := c.defaultLocation
	c.mu.Unlock()
	if def == 0 {
		locs, err := c.locations(ctx)
		if err != nil {
			return "", err
		}
		for _, l := range locs {
			if l.Active {
				def = l.ID
				break
			}
		}
		if def == 0 {
			return "", &connector.Error{Kind: connector.KindInvalid, Message: "the shop has no active location to hold stock"}
		}
		c.mu.Lock()
		c.defaultLocation = def
		c.mu.Unlock()
	}
	return gid("Location", def), nil
}

// stockAt is the StockAt of the product's i-th variant (its own, for a product without variants).
func stockAt(p domain.Product, i int) (map[string]string, bool) {
	if len(p.Variants) == 0 {
		return p.StockAt, i == 0 && p.TrackStock
	}
	if i < len(p.Variants) {
		return p.Variants[i].StockAt, p.Variants[i].TrackStock
	}
	return nil, false
}

// quantities turns a StockAt into the shop's locations and whole units, sorted by location.
func (c *Client) quantities(ctx context.Context, at map[string]string) ([]stockQty, error) {
	keys := make([]string, 0, len(at))
	for k := range at {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []stockQty
	for _, k := range keys {
		loc, err := c.locationGID(ctx, k)
		if err != nil {
			return nil, err
		}
		n, err := wholeUnits(at[k])
		if err != nil {
			return nil, err
		}
		out = append(out, stockQty{location: loc, quantity: n})
	}
	return out, nil
}

// withInventoryQuantities adds each tracked variant's StockAt to a create's input.
func (c *Client) withInventoryQuantities(ctx context.Context, p domain.Product, in map[string]any) error {
	variants, _ := in["variants"].([]map[string]any)
	for i, v := range variants {
		at, tracked := stockAt(p, i)
		if !tracked || len(at) == 0 {
			continue
		}
		qs, err := c.quantities(ctx, at)
		if err != nil {
			return err
		}
		var list []map[string]any
		for _, q := range qs {
			list = append(list, map[string]any{"locationId": q.location, "name": "available", "quantity": q.quantity})
		}
		v["inventoryQuantities"] = list
	}
	return nil
}

// setStockOf sets, after an update, each tracked variant's StockAt on the inventory items the
// shop answered for them.
func (c *Client) setStockOf(ctx context.Context, op string, p domain.Product, gp gqlProduct) error {
	var all []stockQty
	for i, v := range gp.Variants.Nodes {
		at, tracked := stockAt(p, i)
		if !tracked || len(at) == 0 || v.InventoryItem == nil {
			continue
		}
		qs, err := c.quantities(ctx, at)
		if err != nil {
			return err
		}
		for _, q := range qs {
			q.item = v.InventoryItem.ID
			all = append(all, q)
		}
	}
	if len(all) == 0 {
		return nil
	}
	return c.setQuantities(ctx, op+": set stock", all)
}

// setQuantities sets the available quantities in one inventorySetQuantities (whatever the shop
// counts now). An item not stocked at a location yet is activated there with its quantity
// (inventoryActivate), and the others are set again.
func (c *Client) setQuantities(ctx context.Context, op string, qs []stockQty) error {
	var out struct {
		InventorySetQuantities struct {
			UserErrors []userError `json:"userErrors"`
		} `json:"inventorySetQuantities"`
	}
	var list []map[string]any
	for _, q := range qs {
		list = append(list, map[string]any{"inventoryItemId": q.item, "locationId": q.location, "quantity": q.quantity})
	}
	input := map[string]any{"name": "available", "reason": "correction", "ignoreCompareQuantity": true, "quantities": list}
	if err := c.graphql(ctx, op, qSetQuantities, map[string]any{"input": input}, &out); err != nil {
		return err
	}
	ue := out.InventorySetQuantities.UserErrors
	if len(ue) == 0 {
		return nil
	}
	unstocked := map[int]bool{}
	for _, e := range ue {
		i := -1
		if len(e.Field) >= 3 && e.Field[1] == "quantities" {
			i, _ = strconv.Atoi(e.Field[2])
		}
		if e.Code != "ITEM_NOT_STOCKED_AT_LOCATION" || i < 0 || i >= len(qs) {
			return userErrorsErr(op, ue)
		}
		unstocked[i] = true
	}
	var rest []stockQty
	for i, q := range qs {
		if !unstocked[i] {
			rest = append(rest, q)
			continue
		}
		var act struct {
			InventoryActivate struct {
				UserErrors []userError `json:"userErrors"`
			} `json:"inventoryActivate"`
		}
		if err := c.graphql(ctx, op+": stock the item at the location", qActivate,
			map[string]any{"inventoryItemId": q.item, "locationId": q.location, "available": q.quantity}, &act); err != nil {
			return err
		}
		if err := userErrorsErr(op, act.InventoryActivate.UserErrors); err != nil {
			return err
		}
	}
	if len(rest) == 0 || len(rest) == len(qs) {
		return nil
	}
	return c.setQuantities(ctx, op, rest)
}
