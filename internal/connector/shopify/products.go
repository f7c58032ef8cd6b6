package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// productJSON is the REST Product resource (the fields posbridge reads and writes).
type productJSON struct {
	ID          int64         `json:"id,omitempty"`
	Title       string        `json:"title"`
	BodyHTML    string        `json:"body_html"`
	Vendor      string        `json:"vendor,omitempty"`
	ProductType string        `json:"product_type"`
	Handle      string        `json:"handle,omitempty"`
	Status      string        `json:"status,omitempty"` // active | archived | draft
	Tags        string        `json:"tags,omitempty"`
	CreatedAt   string        `json:"created_at,omitempty"`
	UpdatedAt   string        `json:"updated_at,omitempty"`
	Options     []optionJSON  `json:"options,omitempty"`
	Variants    []variantJSON `json:"variants"`
}

type optionJSON struct {
	Name string `json:"name"`
}

// variantJSON is a product variant. price is a decimal string in the shop currency; weight is
// a JSON number kept as text so it never passes through a float.
type variantJSON struct {
	ID                  int64        `json:"id,omitempty"`
	ProductID           int64        `json:"product_id,omitempty"`
	Title               string       `json:"title,omitempty"`
	Option1             string       `json:"option1,omitempty"`
	Price               string       `json:"price"`
	SKU                 string       `json:"sku"`
	Barcode             string       `json:"barcode"`
	Weight              *json.Number `json:"weight,omitempty"`
	WeightUnit          string       `json:"weight_unit,omitempty"` // g | kg | oz | lb
	InventoryItemID     int64        `json:"inventory_item_id,omitempty"`
	InventoryManagement *string      `json:"inventory_management"` // "shopify" or null
	InventoryQuantity   *int         `json:"inventory_quantity,omitempty"`
	UpdatedAt           string       `json:"updated_at,omitempty"`
}

func (c *Client) toProduct(p productJSON, currency string) (domain.Product, error) {
	out := domain.Product{
		ID:          strconv.FormatInt(p.ID, 10),
		Name:        p.Title,
		Description: p.BodyHTML,
		Deleted:     p.Status == "archived",
		Version:     p.UpdatedAt,
		UpdatedAt:   parseTime(p.UpdatedAt),
	}
	if p.ProductType != "" {
		out.Categories = []domain.Category{{ID: p.ProductType, Name: p.ProductType}}
	}
	for i, v := range p.Variants {
		amount, err := parseMoney(v.Price, currency)
		if err != nil {
			return domain.Product{}, fmt.Errorf("product %d variant %d price: %w", p.ID, v.ID, err)
		}
		track := v.InventoryManagement != nil && *v.InventoryManagement == "shopify"
		name := v.Title
		if name == "" {
			name = v.Option1
		}
		out.Variants = append(out.Variants, domain.Variant{
			ID: strconv.FormatInt(v.ID, 10), Name: name, SKU: v.SKU, Barcode: v.Barcode,
			Price: domain.Money{Amount: amount, Currency: currency}, TrackStock: track, Version: v.UpdatedAt,
		})
		if i == 0 {
			out.SKU, out.Barcode, out.TrackStock = v.SKU, v.Barcode, track
			out.Price = domain.Money{Amount: amount, Currency: currency}
			if v.Weight != nil && v.WeightUnit != "" {
				out.Weight = &domain.Weight{Value: v.Weight.String(), Unit: v.WeightUnit}
			}
		}
		if v.InventoryItemID != 0 {
			c.rememberItem(v.InventoryItemID, p.ID, v.ID)
		}
	}
	return out, nil
}

func (c *Client) rememberItem(item, product, variant int64) {
	c.mu.Lock()
	c.items[item] = itemRef{productID: product, variantID: variant}
	c.mu.Unlock()
}

// Products, their variants and inventory items are read through the GraphQL Admin API, paced
// by cost like the writes. A page of products carries the first variantsPerProduct variants of
// each; a product with more has the rest read with it, 100 a query.

// variantsPerProduct is how many variants a page of products reads with each product: a
// variant costs 4 points requested (itself, its inventory item, the measurement and the
// weight), so a page of 23 products stays under 1,000.
const variantsPerProduct = 10

// variantFields are the variant fields posbridge reads.
const variantFields = `nodes { id title sku barcode price updatedAt inventoryItem { id tracked measurement { weight { value unit } } } }
      pageInfo { hasNextPage endCursor }`

func productFields(variants int) string {
	return `id title descriptionHtml productType status updatedAt
    variants(first: ` + strconv.Itoa(variants) + `) {
      ` + variantFields + `
    }`
}

var (
	// qListProducts reads a page of products in the order they were last updated, so a product
	// changed while the pages are read comes again at the end instead of being missed. It costs
	// 2 + first x (1 + 2 + 10 x 4) points requested.
	qListProducts = `query posbridgeListProducts($first: Int!, $after: String, $query: String) {
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes {
    ` + productFields(variantsPerProduct) + `
    }
    pageInfo { hasNextPage endCursor }
  }
}`
	// qGetProduct costs 1 + 2 + 100 x 4 = 403 points requested.
	qGetProduct = `query posbridgeGetProduct($id: ID!) {
  product(id: $id) {
    ` + productFields(100) + `
  }
}`
	// qMoreVariants reads the next 100 variants of a product; 403 points requested.
	qMoreVariants = `query posbridgeMoreVariants($id: ID!, $after: String) {
  product(id: $id) {
    variants(first: 100, after: $after) {
      ` + variantFields + `
    }
  }
}`
	// productsPerPage is the most products one qListProducts may ask within MaxQueryCost.
	productsPerPage = fitFirst(qListProducts, 250)
)

// fitFirst is the largest $first (at most limit) with which query costs at most MaxQueryCost.
func fitFirst(query string, limit int) int {
	n := limit
	for n > 1 && queryCost(query, map[string]any{"first": n}) > MaxQueryCost {
		n--
	}
	return n
}

type gqlPageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

// gqlReadVariant is a variant as the product reads select it.
type gqlReadVariant struct {
	ID            string  `json:"id"`
	Title         string  `json:"title"`
	SKU           string  `json:"sku"`
	Barcode       *string `json:"barcode"`
	Price         string  `json:"price"`
	UpdatedAt     string  `json:"updatedAt"`
	InventoryItem *struct {
		ID          string `json:"id"`
		Tracked     bool   `json:"tracked"`
		Measurement *struct {
			Weight *struct {
				Value json.Number `json:"value"`
				Unit  string      `json:"unit"`
			} `json:"weight"`
		} `json:"measurement"`
	} `json:"inventoryItem"`
}

type gqlVariantPage struct {
	Nodes    []gqlReadVariant `json:"nodes"`
	PageInfo gqlPageInfo      `json:"pageInfo"`
}

// gqlReadProduct is a product as the product reads select it.
type gqlReadProduct struct {
	ID              string         `json:"id"`
	Title           string         `json:"title"`
	DescriptionHTML string         `json:"descriptionHtml"`
	ProductType     string         `json:"productType"`
	Status          string         `json:"status"` // ACTIVE | ARCHIVED | DRAFT
	UpdatedAt       string         `json:"updatedAt"`
	Variants        gqlVariantPage `json:"variants"`
}

// restWeightUnits maps Shopify's WeightUnit enum to the units posbridge keeps.
var restWeightUnits = map[string]string{"GRAMS": "g", "KILOGRAMS": "kg", "OUNCES": "oz", "POUNDS": "lb"}

// fromGraphQL turns a product read through GraphQL into the shape toProduct converts.
func fromGraphQL(g gqlReadProduct) productJSON {
	p := productJSON{ID: gidNumber(g.ID), Title: g.Title, BodyHTML: g.DescriptionHTML, ProductType: g.ProductType,
		Status: strings.ToLower(g.Status), UpdatedAt: g.UpdatedAt}
	for _, v := range g.Variants.Nodes {
		vj := variantJSON{ID: gidNumber(v.ID), ProductID: p.ID, Title: v.Title, Option1: v.Title, Price: v.Price, SKU: v.SKU, UpdatedAt: v.UpdatedAt}
		if v.Barcode != nil {
			vj.Barcode = *v.Barcode
		}
		if it := v.InventoryItem; it != nil {
			vj.InventoryItemID = gidNumber(it.ID)
			if it.Tracked {
				mg := "shopify"
				vj.InventoryManagement = &mg
			}
			if it.Measurement != nil && it.Measurement.Weight != nil && it.Measurement.Weight.Value != "" {
				w := it.Measurement.Weight.Value
				vj.Weight, vj.WeightUnit = &w, restWeightUnits[it.Measurement.Weight.Unit]
			}
		}
		p.Variants = append(p.Variants, vj)
	}
	return p
}

// allVariants reads the variants of g beyond those its query answered.
func (c *Client) allVariants(ctx context.Context, g *gqlReadProduct) error {
	for page := g.Variants.PageInfo; page.HasNextPage; {
		var out struct {
			Product *struct {
				Variants gqlVariantPage `json:"variants"`
			} `json:"product"`
		}
		if err := c.graphql(ctx, fmt.Sprintf("read the variants of product %d", gidNumber(g.ID)), qMoreVariants,
			map[string]any{"id": g.ID, "after": page.EndCursor}, &out); err != nil {
			return err
		}
		if out.Product == nil {
			return &connector.Error{Kind: connector.KindNotFound, Status: http.StatusOK, Message: fmt.Sprintf("product %d does not exist in the shop", gidNumber(g.ID))}
		}
		g.Variants.Nodes = append(g.Variants.Nodes, out.Product.Variants.Nodes...)
		page = out.Product.Variants.PageInfo
	}
	return nil
}

// ListProducts reads one page of products (the GraphQL products query, in the order they were
// last updated). A Resume cursor from an earlier read asks only for the products updated after
// its mark (query updated_at:>mark).
func (c *Client) ListProducts(ctx context.Context, cur string) (connector.Page[domain.Product], error) {
	cs, err := parseCursor(cur)
	if err != nil {
		return connector.Page[domain.Product]{}, fmt.Errorf("list products: %w", err)
	}
	currency, err := c.shopCurrency(ctx)
	if err != nil {
		return connector.Page[domain.Product]{}, err
	}
	vars := map[string]any{"first": min(c.opts.PageSize, productsPerPage), "after": nil, "query": nil}
	if cs.page != "" {
		vars["after"] = cs.page
	}
	if !cs.since.IsZero() {
		vars["query"] = fmt.Sprintf("updated_at:>'%s'", cs.since.UTC().Format(time.RFC3339))
	}
	var out struct {
		Products struct {
			Nodes    []gqlReadProduct `json:"nodes"`
			PageInfo gqlPageInfo      `json:"pageInfo"`
		} `json:"products"`
	}
	if err := c.graphql(ctx, "list products", qListProducts, vars, &out); err != nil {
		return connector.Page[domain.Product]{}, err
	}
	page := connector.Page[domain.Product]{Items: make([]domain.Product, 0, len(out.Products.Nodes))}
	mark := cs.max
	for i := range out.Products.Nodes {
		g := &out.Products.Nodes[i]
		if err := c.allVariants(ctx, g); err != nil {
			return connector.Page[domain.Product]{}, fmt.Errorf("list products: %w", err)
		}
		p, err := c.toProduct(fromGraphQL(*g), currency)
		if err != nil {
			return connector.Page[domain.Product]{}, fmt.Errorf("list products: %w", err)
		}
		if p.UpdatedAt.After(mark) {
			mark = p.UpdatedAt
		}
		page.Items = append(page.Items, p)
	}
	if out.Products.PageInfo.HasNextPage && out.Products.PageInfo.EndCursor != "" {
		page.Next = cs.next(out.Products.PageInfo.EndCursor, mark)
		return page, nil
	}
	if mark.IsZero() {
		mark = cs.since
	}
	if mark.IsZero() {
		mark = epoch
	}
	page.Resume = resumeCursor(mark)
	return page, nil
}

// getProduct reads one product with all its variants (GraphQL product(id:)).
func (c *Client) getProduct(ctx context.Context, id int64) (gqlReadProduct, error) {
	var out struct {
		Product *gqlReadProduct `json:"product"`
	}
	if err := c.graphql(ctx, fmt.Sprintf("get product %d", id), qGetProduct, map[string]any{"id": gid("Product", id)}, &out); err != nil {
		return gqlReadProduct{}, err
	}
	if out.Product == nil {
		return gqlReadProduct{}, fmt.Errorf("get product %d: %w", id, &connector.Error{Kind: connector.KindNotFound, Status: http.StatusOK,
			Message: fmt.Sprintf("product %d does not exist in the shop", id)})
	}
	if err := c.allVariants(ctx, out.Product); err != nil {
		return gqlReadProduct{}, fmt.Errorf("get product %d: %w", id, err)
	}
	return *out.Product, nil
}

// GetProduct reads one product with its variants (GraphQL product(id:)).
func (c *Client) GetProduct(ctx context.Context, id string) (domain.Product, error) {
	n, err := parseID("product", id)
	if err != nil {
		return domain.Product{}, err
	}
	currency, err := c.shopCurrency(ctx)
	if err != nil {
		return domain.Product{}, err
	}
	g, err := c.getProduct(ctx, n)
	if err != nil {
		return domain.Product{}, err
	}
	return c.toProduct(fromGraphQL(g), currency)
}

// UpsertProducts writes products one by one (productSet, one product a call, paced by cost).
// Each item reports its own result; a refused item does not stop the others, but refused
// credentials, a rate limit the client could not wait out, or an ended context stop the batch
// (the items not reached have no result).
func (c *Client) UpsertProducts(ctx context.Context, ps []domain.Product) ([]connector.BatchResult, error) {
	res := make([]connector.BatchResult, 0, len(ps))
	for i, p := range ps {
		var got domain.Product
		var err error
		if p.ID == "" {
			got, err = c.CreateProduct(ctx, p)
		} else {
			got, err = c.UpdateProduct(ctx, p)
		}
		if err != nil {
			if isKind(err, connector.KindCredentials) || connector.KindOf(err) == connector.KindRateLimited || ctx.Err() != nil {
				return res, fmt.Errorf("upsert products item %d: %w", i, err)
			}
			res = append(res, connector.BatchResult{Index: i, Err: err})
			continue
		}
		res = append(res, connector.BatchResult{Index: i, ID: got.ID})
	}
	return res, nil
}
