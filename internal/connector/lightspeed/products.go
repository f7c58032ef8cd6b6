package lightspeed

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// apiVersion is the {"min","max"} object of a version-paginated answer; both are null on an
// empty page.
type apiVersion struct {
	Min *int64 `json:"min"`
	Max *int64 `json:"max"`
}

type apiProductCode struct {
	Type string `json:"type"`
	Code string `json:"code"`
}

type apiNamed struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type apiProduct struct {
	ID                string           `json:"id"`
	Name              string           `json:"name"`
	VariantName       *string          `json:"variant_name"`
	Handle            string           `json:"handle"`
	Description       *string          `json:"description"`
	SKU               string           `json:"sku"`
	PriceIncludingTax json.Number      `json:"price_including_tax"`
	PriceExcludingTax json.Number      `json:"price_excluding_tax"`
	SupplyPrice       json.Number      `json:"supply_price"`
	Weight            json.Number      `json:"weight"`
	WeightUnit        *string          `json:"weight_unit"`
	ProductCodes      []apiProductCode `json:"product_codes"`
	Categories        []apiNamed       `json:"categories"`
	ProductCategory   *apiNamed        `json:"product_category"`
	HasInventory      bool             `json:"has_inventory"`
	VariantParentID   *string          `json:"variant_parent_id"`
	Version           int64            `json:"version"`
	DeletedAt         *string          `json:"deleted_at"`
	UpdatedAt         string           `json:"updated_at"`
}

// cursor is a version cursor. Page.Next within a full read carries "~live" so the following
// pages keep leaving deleted products out; a plain number (Page.Resume) is an incremental read,
// which asks for deleted products too so their deletion is seen.
type cursor struct {
	after       int64
	withDeleted bool
}

func parseCursor(s string) (cursor, error) {
	if s == "" {
		return cursor{}, nil
	}
	num, live := strings.CutSuffix(s, "~live")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return cursor{}, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("not a Lightspeed version cursor: %q", s)}
	}
	return cursor{after: n, withDeleted: !live}, nil
}

// query builds after=&page_size=; hasDeleted says the endpoint takes deleted= (products).
func (k cursor) query(pageSize int, hasDeleted bool) url.Values {
	q := url.Values{}
	q.Set("after", strconv.FormatInt(k.after, 10))
	q.Set("page_size", strconv.Itoa(pageSize))
	if hasDeleted && k.withDeleted {
		q.Set("deleted", "true")
	}
	return q
}

// pageCursors computes Next and Resume of a version page. The end of a listing is an empty page
// (unsure: the docs show it; a short page is not taken as the end, which costs one more call).
func pageCursors(k cursor, v apiVersion, n int) (next, resume string) {
	if n == 0 || v.Max == nil || *v.Max <= k.after {
		return "", strconv.FormatInt(k.after, 10)
	}
	m := strconv.FormatInt(*v.Max, 10)
	if k.withDeleted {
		return m, m
	}
	return m + "~live", m
}

// ListProducts reads one page of GET /api/2.0/products?after=&page_size=. cursor "" reads the
// whole catalog (deleted products left out); Page.Resume is the highest version seen, and a
// later read from it returns only products changed since, deleted ones marked Deleted.
func (c *Client) ListProducts(ctx context.Context, cur string) (connector.Page[domain.Product], error) {
	var page connector.Page[domain.Product]
	k, err := parseCursor(cur)
	if err != nil {
		return page, err
	}
	r, err := c.getRetailer(ctx)
	if err != nil {
		return page, fmt.Errorf("list products after %d: %w", k.after, err)
	}
	var out struct {
		Data    []apiProduct `json:"data"`
		Version apiVersion   `json:"version"`
	}
	if err := c.get(ctx, "/api/2.0/products", k.query(c.o.pageSize, true), &out); err != nil {
		return page, fmt.Errorf("list products after %d: %w", k.after, err)
	}
	page.Items = make([]domain.Product, 0, len(out.Data))
	for _, p := range out.Data {
		dp, err := toProduct(p, r)
		if err != nil {
			return page, fmt.Errorf("list products after %d: product %s: %w", k.after, p.ID, err)
		}
		page.Items = append(page.Items, dp)
	}
	page.Next, page.Resume = pageCursors(k, out.Version, len(out.Data))
	return page, nil
}

// GetProduct reads GET /api/2.0/products/{id}.
func (c *Client) GetProduct(ctx context.Context, id string) (domain.Product, error) {
	r, err := c.getRetailer(ctx)
	if err != nil {
		return domain.Product{}, fmt.Errorf("get product %s: %w", id, err)
	}
	var out struct {
		Data apiProduct `json:"data"`
	}
	if err := c.get(ctx, "/api/2.0/products/"+url.PathEscape(id), nil, &out); err != nil {
		return domain.Product{}, fmt.Errorf("get product %s: %w", id, err)
	}
	p, err := toProduct(out.Data, r)
	if err != nil {
		return domain.Product{}, fmt.Errorf("get product %s: %w", id, err)
	}
	return p, nil
}

func toProduct(p apiProduct, r *apiRetailer) (domain.Product, error) {
	cur := r.Currency.Code
	digits := connector.CurrencyExponent(cur)
	priceText := p.PriceIncludingTax
	if r.TaxExclusive || priceText == "" {
		priceText = p.PriceExcludingTax
	}
	amount, err := parseMinor(string(priceText), digits)
	if err != nil {
		return domain.Product{}, fmt.Errorf("price: %w", err)
	}
	dp := domain.Product{
		ID:         p.ID,
		Name:       p.Name,
		SKU:        p.SKU,
		Price:      domain.Money{Amount: amount, Currency: cur},
		TrackStock: p.HasInventory,
		Version:    strconv.FormatInt(p.Version, 10),
	}
	if p.VariantName != nil && *p.VariantName != "" && p.VariantParentID != nil && *p.VariantParentID != "" {
		// Each X-Series variant is a product of its own; its variant_name says which one.
		dp.Name = *p.VariantName
	}
	if p.Description != nil {
		dp.Description = *p.Description
	}
	for _, pc := range p.ProductCodes {
		if barcodeTypes[strings.ToUpper(pc.Type)] {
			dp.Barcode = pc.Code
			break
		}
	}
	if p.Weight != "" && p.WeightUnit != nil && *p.WeightUnit != "" {
		w, err := normDecimal(string(p.Weight))
		if err != nil {
			return domain.Product{}, fmt.Errorf("weight: %w", err)
		}
		dp.Weight = &domain.Weight{Value: w, Unit: strings.ToLower(*p.WeightUnit)}
	}
	if p.ProductCategory != nil && p.ProductCategory.ID != "" {
		dp.Categories = append(dp.Categories, domain.Category{ID: p.ProductCategory.ID, Name: p.ProductCategory.Name})
	}
	for _, t := range p.Categories {
		dp.Categories = append(dp.Categories, domain.Category{ID: t.ID, Name: t.Name})
	}
	dp.Deleted = p.DeletedAt != nil && *p.DeletedAt != ""
	dp.UpdatedAt = parseTime(p.UpdatedAt)
	return dp, nil
}

var barcodeTypes = map[string]bool{"EAN": true, "UPC": true, "ISBN": true, "JAN": true, "ITF": true}

// barcodeType guesses the product code type of a barcode from its digits.
func barcodeType(code string) string {
	if !allDigits(code) {
		return "CUSTOM"
	}
	switch len(code) {
	case 12:
		return "UPC"
	case 8, 13:
		return "EAN"
	case 14:
		return "ITF"
	}
	return "CUSTOM"
}

// weightUnits maps neutral units to Lightspeed's CT|G|OZ|LB|KG.
var weightUnits = map[string]string{"g": "G", "kg": "KG", "oz": "OZ", "lb": "LB", "lbs": "LB", "ct": "CT"}

// productFields builds the writable fields shared by create (2.0) and update (2.1 details).
// The price goes to price_excluding_tax in tax-exclusive stores and price_including_tax
// otherwise: Lightspeed refuses both at once.
func productPrice(p domain.Product, r *apiRetailer) (string, json.Number, error) {
	if p.Price.Currency != "" && !strings.EqualFold(p.Price.Currency, r.Currency.Code) {
		return "", "", &connector.Error{Kind: connector.KindInvalid,
			Message: fmt.Sprintf("price is in %s but the store sells in %s", p.Price.Currency, r.Currency.Code)}
	}
	field := "price_including_tax"
	if r.TaxExclusive {
		field = "price_excluding_tax"
	}
	return field, formatMinor(p.Price.Amount, connector.CurrencyExponent(r.Currency.Code)), nil
}

func productWeight(p domain.Product) (json.Number, string, error) {
	if p.Weight == nil || p.Weight.Value == "" {
		return "", "", nil
	}
	unit, ok := weightUnits[strings.ToLower(p.Weight.Unit)]
	if !ok {
		return "", "", &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("weight unit %q is not one of g, kg, oz, lb, ct", p.Weight.Unit)}
	}
	v, err := normDecimal(p.Weight.Value)
	if err != nil {
		return "", "", &connector.Error{Kind: connector.KindInvalid, Message: "weight: " + err.Error()}
	}
	return json.Number(v), unit, nil
}

// CreateProduct sends POST /api/2.0/products, which answers {"data":["<uuid>"]}. A create is
// not retried blindly: after a 5xx or timeout the SKU is looked up first.
func (c *Client) CreateProduct(ctx context.Context, p domain.Product) (domain.Product, error) {
	r, err := c.getRetailer(ctx)
	if err != nil {
		return p, fmt.Errorf("create product %q: %w", p.Name, err)
	}
	body := map[string]any{"name": p.Name}
	if p.Description != "" {
		body["description"] = p.Description
	}
	if p.SKU != "" {
		body["sku"] = p.SKU
	}
	field, price, err := productPrice(p, r)
	if err != nil {
		return p, fmt.Errorf("create product %q: %w", p.Name, err)
	}
	body[field] = price
	if p.Barcode != "" {
		codes := []apiProductCode{}
		if p.SKU != "" {
			codes = append(codes, apiProductCode{Type: "CUSTOM", Code: p.SKU})
		}
		body["product_codes"] = append(codes, apiProductCode{Type: barcodeType(p.Barcode), Code: p.Barcode})
	}
	w, unit, err := productWeight(p)
	if err != nil {
		return p, fmt.Errorf("create product %q: %w", p.Name, err)
	}
	if unit != "" {
		body["weight"], body["weight_unit"] = w, unit
	}
	if len(p.Categories) > 0 && p.Categories[0].ID != "" {
		body["product_category_id"] = p.Categories[0].ID
	}
	var out struct {
		Data []string `json:"data"`
	}
	// The create goes out unsafe (not repeated blindly by do): after a 5xx or a timeout the
	// product is looked for by its SKU, and the create goes again only when it is not there.
	// Without a SKU nothing tells a lost create from a failed one: the failure is returned.
	retry := connector.Retry{Backoff: c.backoff(), Retries: c.o.maxRetries}
	err = retry.Do(ctx, func() error {
		err := c.do(ctx, request{method: "POST", path: "/api/2.0/products", body: body, unsafe: true}, &out)
		if err == nil {
			return nil
		}
		if connector.KindOf(err) != connector.KindTemporary || p.SKU == "" {
			return connector.Stop(err)
		}
		if found, ferr := c.productBySKU(ctx, p.SKU); ferr == nil && found != "" {
			out.Data = []string{found}
			return nil
		}
		return err
	})
	if err != nil {
		return p, fmt.Errorf("create product %q: %w", p.Name, err)
	}
	if len(out.Data) == 0 || out.Data[0] == "" {
		return p, fmt.Errorf("create product %q: %w", p.Name, &connector.Error{Kind: connector.KindInvalid, Message: "the answer carries no product id"})
	}
	p.ID = out.Data[0]
	return p, nil
}

// productBySKU finds a product id by GET /api/2.0/products?sku=.
func (c *Client) productBySKU(ctx context.Context, sku string) (string, error) {
	var out struct {
		Data []apiProduct `json:"data"`
	}
	if err := c.get(ctx, "/api/2.0/products", url.Values{"sku": {sku}}, &out); err != nil {
		return "", err
	}
	for _, p := range out.Data {
		if p.SKU == sku && (p.DeletedAt == nil || *p.DeletedAt == "") {
			return p.ID, nil
		}
	}
	return "", nil
}

// UpdateProduct sends PUT /api/2.1/products/{id} with {"common":{...},"details":{...}}.
func (c *Client) UpdateProduct(ctx context.Context, p domain.Product) (domain.Product, error) {
	if p.ID == "" {
		return p, &connector.Error{Kind: connector.KindInvalid, Message: "update product: no id"}
	}
	r, err := c.getRetailer(ctx)
	if err != nil {
		return p, fmt.Errorf("update product %s: %w", p.ID, err)
	}
	common := map[string]any{"name": p.Name, "description": p.Description, "track_inventory": p.TrackStock}
	if len(p.Categories) > 0 && p.Categories[0].ID != "" {
		common["product_category_id"] = p.Categories[0].ID
	}
	details := map[string]any{}
	field, price, err := productPrice(p, r)
	if err != nil {
		return p, fmt.Errorf("update product %s: %w", p.ID, err)
	}
	details[field] = price
	var codes []apiProductCode
	if p.SKU != "" {
		codes = append(codes, apiProductCode{Type: "CUSTOM", Code: p.SKU})
	}
	if p.Barcode != "" {
		codes = append(codes, apiProductCode{Type: barcodeType(p.Barcode), Code: p.Barcode})
	}
	if len(codes) > 0 {
		details["product_codes"] = codes
	}
	w, unit, err := productWeight(p)
	if err != nil {
		return p, fmt.Errorf("update product %s: %w", p.ID, err)
	}
	if unit != "" {
		details["weight"], details["weight_unit"] = w, unit
	}
	var out struct {
		Data *apiProduct `json:"data"`
	}
	if err := c.do(ctx, request{method: "PUT", path: "/api/2.1/products/" + url.PathEscape(p.ID),
		body: map[string]any{"common": common, "details": details}}, &out); err != nil {
		return p, fmt.Errorf("update product %s: %w", p.ID, err)
	}
	if out.Data != nil && out.Data.ID != "" {
		if dp, err := toProduct(*out.Data, r); err == nil {
			return dp, nil
		}
	}
	return p, nil
}

// UpsertProducts writes each product with its own call (Lightspeed has no batch endpoint):
// creates those without an id and updates the others, reporting every item. A refused token
// or an ended context stops the batch with an error.
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
		if err != nil && (isKind(err, connector.KindCredentials) || ctx.Err() != nil) {
			return res, fmt.Errorf("upsert products: item %d: %w", i, err)
		}
		res = append(res, connector.BatchResult{Index: i, ID: got.ID, Err: err})
	}
	return res, nil
}

type apiInventory struct {
	ID             string      `json:"id"`
	ProductID      string      `json:"product_id"`
	OutletID       string      `json:"outlet_id"`
	InventoryLevel json.Number `json:"inventory_level"`
	CurrentAmount  json.Number `json:"current_amount"`
	Version        int64       `json:"version"`
	DeletedAt      *string     `json:"deleted_at"`
	UpdatedAt      string      `json:"updated_at"`
}

// ListStock reads GET /api/2.0/inventory, version paginated like products: one record per
// product and outlet with its inventory_level (a decimal).
func (c *Client) ListStock(ctx context.Context, cur string) (connector.Page[domain.StockLevel], error) {
	var page connector.Page[domain.StockLevel]
	k, err := parseCursor(cur)
	if err != nil {
		return page, err
	}
	var out struct {
		Data    []apiInventory `json:"data"`
		Version apiVersion     `json:"version"`
	}
	if err := c.get(ctx, "/api/2.0/inventory", k.query(c.o.pageSize, false), &out); err != nil {
		return page, fmt.Errorf("list inventory after %d: %w", k.after, err)
	}
	for _, it := range out.Data {
		if it.DeletedAt != nil && *it.DeletedAt != "" {
			continue
		}
		q := it.InventoryLevel
		if q == "" {
			q = it.CurrentAmount
		}
		qty, err := normDecimal(string(q))
		if err != nil {
			return page, fmt.Errorf("list inventory after %d: record %s: %w", k.after, it.ID, err)
		}
		page.Items = append(page.Items, domain.StockLevel{ProductID: it.ProductID, LocationID: it.OutletID,
			Quantity: qty, UpdatedAt: parseTime(it.UpdatedAt)})
	}
	page.Next, page.Resume = pageCursors(k, out.Version, len(out.Data))
	return page, nil
}

// SetStock sets each level with PUT /api/2.1/products/{id} details.inventory
// [{outlet_id, current_amount}], one call per level, reporting every item.
func (c *Client) SetStock(ctx context.Context, levels []domain.StockLevel) ([]connector.BatchResult, error) {
	res := make([]connector.BatchResult, 0, len(levels))
	for i, l := range levels {
		id := l.ProductID
		if l.VariantID != "" {
			id = l.VariantID // X-Series variants are products of their own
		}
		err := c.setOneStock(ctx, id, l)
		if err != nil && (isKind(err, connector.KindCredentials) || ctx.Err() != nil) {
			return res, fmt.Errorf("set stock: item %d: %w", i, err)
		}
		res = append(res, connector.BatchResult{Index: i, ID: id, Err: err})
	}
	return res, nil
}

func (c *Client) setOneStock(ctx context.Context, id string, l domain.StockLevel) error {
	if id == "" || l.LocationID == "" {
		return &connector.Error{Kind: connector.KindInvalid, Message: "a stock level needs a product and an outlet"}
	}
	qty, err := normDecimal(l.Quantity)
	if err != nil {
		return &connector.Error{Kind: connector.KindInvalid, Message: "quantity: " + err.Error()}
	}
	body := map[string]any{"details": map[string]any{"inventory": []map[string]any{
		{"outlet_id": l.LocationID, "current_amount": json.Number(qty)},
	}}}
	if err := c.do(ctx, request{method: "PUT", path: "/api/2.1/products/" + url.PathEscape(id), body: body}, nil); err != nil {
		return fmt.Errorf("set stock of %s at %s: %w", id, l.LocationID, err)
	}
	return nil
}

// parseTime reads Lightspeed timestamps ("2015-08-18T23:28:00+00:00", or the 0.9 form
// "2016-05-05 23:35:34" in UTC); an unreadable one is the zero time.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
