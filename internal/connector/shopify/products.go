package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

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

// ListProducts reads one page of products (GET products.json). A Resume cursor from an earlier
// read asks Shopify with updated_at_min for only the products changed since.
func (c *Client) ListProducts(ctx context.Context, cur string) (connector.Page[domain.Product], error) {
	currency, err := c.shopCurrency(ctx)
	if err != nil {
		return connector.Page[domain.Product]{}, err
	}
	raw, next, resume, err := c.listPage(ctx, "list products", "products.json", "products", nil, c.opts.PageSize, cur)
	if err != nil {
		return connector.Page[domain.Product]{}, err
	}
	page := connector.Page[domain.Product]{Next: next, Resume: resume, Items: make([]domain.Product, 0, len(raw))}
	for _, r := range raw {
		var pj productJSON
		if err := json.Unmarshal(r, &pj); err != nil {
			return connector.Page[domain.Product]{}, fmt.Errorf("list products: decode product: %w", err)
		}
		p, err := c.toProduct(pj, currency)
		if err != nil {
			return connector.Page[domain.Product]{}, fmt.Errorf("list products: %w", err)
		}
		page.Items = append(page.Items, p)
	}
	return page, nil
}

func (c *Client) getProductJSON(ctx context.Context, id int64) (productJSON, error) {
	var out struct {
		Product productJSON `json:"product"`
	}
	_, err := c.do(ctx, call{op: fmt.Sprintf("get product %d", id), method: http.MethodGet, path: fmt.Sprintf("products/%d.json", id)}, &out)
	return out.Product, err
}

// GetProduct reads one product (GET products/{id}.json).
func (c *Client) GetProduct(ctx context.Context, id string) (domain.Product, error) {
	n, err := parseID("product", id)
	if err != nil {
		return domain.Product{}, err
	}
	currency, err := c.shopCurrency(ctx)
	if err != nil {
		return domain.Product{}, err
	}
	pj, err := c.getProductJSON(ctx, n)
	if err != nil {
		return domain.Product{}, err
	}
	return c.toProduct(pj, currency)
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
