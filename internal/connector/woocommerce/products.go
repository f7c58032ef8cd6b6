package woocommerce

import (
	"context"
	"encoding/json"
	"slices"

	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// wcCategory is a product's category reference; only id is writable.
type wcCategory struct {
	ID   int64  `json:"id"`
	Name string `json:"name,omitempty"`
	Slug string `json:"slug,omitempty"`
}

// wcAttribute is a product attribute; variation:true attributes define variations.
type wcAttribute struct {
	ID        int64    `json:"id,omitempty"`
	Name      string   `json:"name"`
	Position  int      `json:"position"`
	Visible   bool     `json:"visible"`
	Variation bool     `json:"variation"`
	Options   []string `json:"options"`
}

// wcMeta is one meta_data entry.
type wcMeta struct {
	ID    int64  `json:"id,omitempty"`
	Key   string `json:"key"`
	Value any    `json:"value"`
}

// wcProduct is the product resource, as read and (with pointer fields) as written.
type wcProduct struct {
	ID              int64         `json:"id,omitempty"`
	Name            string        `json:"name,omitempty"`
	Type            string        `json:"type,omitempty"`
	Status          string        `json:"status,omitempty"`
	Description     *string       `json:"description,omitempty"`
	SKU             *string       `json:"sku,omitempty"`
	GlobalUniqueID  *string       `json:"global_unique_id,omitempty"`
	Price           string        `json:"price,omitempty"` // read-only
	RegularPrice    *string       `json:"regular_price,omitempty"`
	ManageStock     *bool         `json:"manage_stock,omitempty"`
	StockQuantity   *json.Number  `json:"stock_quantity,omitempty"`
	Weight          *string       `json:"weight,omitempty"`
	Categories      []wcCategory  `json:"categories,omitempty"`
	Attributes      []wcAttribute `json:"attributes,omitempty"`
	Variations      []int64       `json:"variations,omitempty"`
	MetaData        []wcMeta      `json:"meta_data,omitempty"`
	DateModifiedGMT string        `json:"date_modified_gmt,omitempty"`
}

// refMetaKey is the meta_data key of the reference posbridge writes with a product it creates
// (domain.Product.Ref), by which FindProducts finds it again.
const refMetaKey = "posbridge_ref"

// wholeStock is a neutral stock quantity as WooCommerce's whole stock_quantity: the decimal's
// whole part (a POS may count 9.5 of something sold by weight; the shop sells 9).
func wholeStock(q string) (json.Number, bool) {
	i, _, _ := strings.Cut(strings.TrimSpace(q), ".")
	if i == "-0" || i == "-" || i == "" {
		i = "0"
	}
	if _, err := strconv.ParseInt(i, 10, 64); err != nil {
		return "", false
	}
	return json.Number(i), true
}

// wcVariationAttr is a variation's chosen attribute option.
type wcVariationAttr struct {
	ID     int64  `json:"id,omitempty"`
	Name   string `json:"name"`
	Option string `json:"option"`
}

// wcVariation is a variation of a variable product (/products/{id}/variations).
type wcVariation struct {
	ID              int64             `json:"id,omitempty"`
	SKU             *string           `json:"sku,omitempty"`
	GlobalUniqueID  *string           `json:"global_unique_id,omitempty"`
	Price           string            `json:"price,omitempty"`
	RegularPrice    *string           `json:"regular_price,omitempty"`
	ManageStock     *bool             `json:"manage_stock,omitempty"`
	StockQuantity   *json.Number      `json:"stock_quantity,omitempty"`
	Weight          *string           `json:"weight,omitempty"`
	Attributes      []wcVariationAttr `json:"attributes,omitempty"`
	DateModifiedGMT string            `json:"date_modified_gmt,omitempty"`
}

// variantAttribute names the one attribute posbridge uses for the variants it writes.
const variantAttribute = "Variant"

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

func parseWCTime(s string) time.Time {
	t, err := time.Parse(wcTime, strings.TrimSuffix(s, "Z"))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// toProduct converts a WooCommerce product and its variations to neutral form.
func toProduct(p wcProduct, vars []wcVariation, info storeInfo) (domain.Product, error) {
	exp := connector.CurrencyExponent(info.Currency)
	priceStr := str(p.RegularPrice)
	if priceStr == "" {
		priceStr = p.Price
	}
	amount, err := connector.ParseMinor(priceStr, exp)
	if err != nil {
		return domain.Product{}, fmt.Errorf("product %d price: %w", p.ID, err)
	}
	out := domain.Product{
		ID:          strconv.FormatInt(p.ID, 10),
		Name:        p.Name,
		Description: str(p.Description),
		SKU:         str(p.SKU),
		Barcode:     str(p.GlobalUniqueID),
		Price:       domain.Money{Amount: amount, Currency: info.Currency},
		TrackStock:  p.ManageStock != nil && *p.ManageStock,
		Deleted:     p.Status == "trash",
		Version:     p.DateModifiedGMT,
		UpdatedAt:   parseWCTime(p.DateModifiedGMT),
	}
	if w := str(p.Weight); w != "" {
		out.Weight = &domain.Weight{Value: w, Unit: neutralWeightUnit(info.WeightUnit)}
	}
	for _, cat := range p.Categories {
		out.Categories = append(out.Categories, domain.Category{ID: strconv.FormatInt(cat.ID, 10), Name: cat.Name})
	}
	for _, v := range vars {
		vs := str(v.RegularPrice)
		if vs == "" {
			vs = v.Price
		}
		va, err := connector.ParseMinor(vs, exp)
		if err != nil {
			return domain.Product{}, fmt.Errorf("variation %d price: %w", v.ID, err)
		}
		names := make([]string, 0, len(v.Attributes))
		for _, a := range v.Attributes {
			names = append(names, a.Option)
		}
		out.Variants = append(out.Variants, domain.Variant{
			ID: strconv.FormatInt(v.ID, 10), Name: strings.Join(names, " / "),
			SKU: str(v.SKU), Barcode: str(v.GlobalUniqueID),
			Price:      domain.Money{Amount: va, Currency: info.Currency},
			TrackStock: v.ManageStock != nil && *v.ManageStock,
			Version:    v.DateModifiedGMT,
		})
	}
	return out, nil
}

// fromProduct builds the write body of a product. Every field posbridge owns is sent, so an
// empty description does overwrite the shop's.
func fromProduct(p domain.Product, info storeInfo) (wcProduct, error) {
	// kept fields are left out of an update: WooCommerce changes only the fields it is sent.
	kept := func(field string) bool { return p.ID != "" && slices.Contains(p.Keep, field) }
	if strings.TrimSpace(p.Name) == "" && !kept("name") {
		return wcProduct{}, &connector.Error{Kind: connector.KindInvalid, Message: "a product needs a name"}
	}
	if !kept("price") && p.Price.Currency != "" && !strings.EqualFold(p.Price.Currency, info.Currency) {
		return wcProduct{}, &connector.Error{Kind: connector.KindInvalid,
			Message: fmt.Sprintf("the store prices in %s, the product is in %s", info.Currency, p.Price.Currency)}
	}
	exp := connector.CurrencyExponent(info.Currency)
	w := wcProduct{
		Name:         p.Name,
		Type:         "simple",
		Description:  ptr(p.Description),
		SKU:          ptr(p.SKU),
		RegularPrice: ptr(connector.FormatMinor(p.Price.Amount, exp)),
		ManageStock:  ptr(p.TrackStock),
	}
	if p.Barcode != "" {
		w.GlobalUniqueID = ptr(p.Barcode)
	}
	if kept("name") {
		w.Name = ""
	}
	if kept("description") {
		w.Description = nil
	}
	if kept("sku") {
		w.SKU = nil
	}
	if kept("barcode") {
		w.GlobalUniqueID = nil
	}
	if kept("price") {
		w.RegularPrice = nil
	}
	if p.ID == "" && p.Ref != "" {
		w.MetaData = []wcMeta{{Key: refMetaKey, Value: p.Ref}}
	}
	if p.Stock != nil && p.TrackStock && len(p.Variants) == 0 {
		if q, ok := wholeStock(*p.Stock); ok {
			w.StockQuantity = &q
		}
	}
	if p.Weight != nil && p.Weight.Value != "" {
		v, err := convertWeight(p.Weight.Value, wcWeightUnit(p.Weight.Unit), info.WeightUnit)
		if err != nil {
			return wcProduct{}, &connector.Error{Kind: connector.KindInvalid, Message: err.Error()}
		}
		w.Weight = ptr(v)
	}
	for _, cat := range p.Categories {
		if id, err := strconv.ParseInt(cat.ID, 10, 64); err == nil && id > 0 {
			w.Categories = append(w.Categories, wcCategory{ID: id})
		}
	}
	if len(p.Variants) > 0 {
		w.Type = "variable"
		w.RegularPrice = nil // a variable product's price is its variations'
		opts := make([]string, 0, len(p.Variants))
		for _, v := range p.Variants {
			opts = append(opts, v.Name)
		}
		w.Attributes = []wcAttribute{{Name: variantAttribute, Visible: true, Variation: true, Options: opts}}
	}
	return w, nil
}

func wcWeightUnit(u string) string {
	if strings.EqualFold(u, "lb") {
		return "lbs"
	}
	return strings.ToLower(u)
}

func fromVariant(v domain.Variant, info storeInfo) (wcVariation, error) {
	if v.Price.Currency != "" && !strings.EqualFold(v.Price.Currency, info.Currency) {
		return wcVariation{}, &connector.Error{Kind: connector.KindInvalid,
			Message: fmt.Sprintf("the store prices in %s, variant %q is in %s", info.Currency, v.Name, v.Price.Currency)}
	}
	w := wcVariation{
		SKU:          ptr(v.SKU),
		RegularPrice: ptr(connector.FormatMinor(v.Price.Amount, connector.CurrencyExponent(info.Currency))),
		ManageStock:  ptr(v.TrackStock),
		Attributes:   []wcVariationAttr{{Name: variantAttribute, Option: v.Name}},
	}
	if v.Stock != nil && v.TrackStock {
		if q, ok := wholeStock(*v.Stock); ok {
			w.StockQuantity = &q
		}
	}
	if v.Barcode != "" {
		w.GlobalUniqueID = ptr(v.Barcode)
	}
	if v.ID != "" {
		id, err := intID("variant", v.ID)
		if err != nil {
			return wcVariation{}, err
		}
		w.ID = id
	}
	return w, nil
}

// variations reads every variation of a variable product.
func (c *Client) variations(ctx context.Context, productID int64) ([]wcVariation, error) {
	var all []wcVariation
	path := fmt.Sprintf("/products/%d/variations", productID)
	for page := 1; page < 1000; page++ {
		q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(MaxPerPage)}, "orderby": {"id"}, "order": {"asc"}}
		var vs []wcVariation
		resp, err := c.call(ctx, http.MethodGet, path, q, nil, &vs)
		if err != nil {
			return nil, fmt.Errorf("list variations of product %d page %d: %w", productID, page, err)
		}
		all = append(all, vs...)
		if !hasNext(resp.Header, page, len(vs)) {
			break
		}
	}
	return all, nil
}

// withVariations reads the variations of a variable product and converts it.
func (c *Client) withVariations(ctx context.Context, p wcProduct, info storeInfo) (domain.Product, error) {
	var vars []wcVariation
	if p.Type == "variable" && len(p.Variations) > 0 {
		var err error
		if vars, err = c.variations(ctx, p.ID); err != nil {
			return domain.Product{}, err
		}
	}
	return toProduct(p, vars, info)
}

// ListProducts reads one page of the catalog. "" starts a full read; the Resume of the last page
// is a modified_after mark, so ListProducts(resume) returns only products changed since.
func (c *Client) ListProducts(ctx context.Context, cur string) (connector.Page[domain.Product], error) {
	info, err := c.catalogInfo(ctx)
	if err != nil {
		return connector.Page[domain.Product]{}, fmt.Errorf("list products: %w", err)
	}
	l, err := c.list(ctx, "/products", nil, cur, true)
	if err != nil {
		return connector.Page[domain.Product]{}, err
	}
	page := connector.Page[domain.Product]{Next: l.Next, Resume: l.Resume, Items: make([]domain.Product, 0, len(l.Items))}
	for _, raw := range l.Items {
		var p wcProduct
		if err := json.Unmarshal(raw, &p); err != nil {
			return connector.Page[domain.Product]{}, fmt.Errorf("list products: decode product: %w", err)
		}
		dp, err := c.withVariations(ctx, p, info)
		if err != nil {
			return connector.Page[domain.Product]{}, fmt.Errorf("list products: %w", err)
		}
		page.Items = append(page.Items, dp)
	}
	return page, nil
}

// GetProduct reads one product with its variations.
func (c *Client) GetProduct(ctx context.Context, id string) (domain.Product, error) {
	n, err := intID("product", id)
	if err != nil {
		return domain.Product{}, err
	}
	info, err := c.catalogInfo(ctx)
	if err != nil {
		return domain.Product{}, fmt.Errorf("get product %s: %w", id, err)
	}
	var p wcProduct
	if _, err := c.call(ctx, http.MethodGet, fmt.Sprintf("/products/%d", n), nil, nil, &p); err != nil {
		return domain.Product{}, fmt.Errorf("get product %s: %w", id, err)
	}
	return c.withVariations(ctx, p, info)
}

// CreateProduct creates a product (a variable product with its variations when it has variants).
func (c *Client) CreateProduct(ctx context.Context, p domain.Product) (domain.Product, error) {
	info, err := c.catalogInfo(ctx)
	if err != nil {
		return domain.Product{}, fmt.Errorf("create product: %w", err)
	}
	body, err := fromProduct(p, info)
	if err != nil {
		return domain.Product{}, fmt.Errorf("create product: %w", err)
	}
	var got wcProduct
	if _, err := c.call(ctx, http.MethodPost, "/products", nil, body, &got); err != nil {
		return domain.Product{}, fmt.Errorf("create product %q: %w", p.Name, err)
	}
	if len(p.Variants) > 0 {
		if err := c.writeVariations(ctx, got.ID, p.Variants, info); err != nil {
			return domain.Product{}, fmt.Errorf("create product %q: %w", p.Name, err)
		}
		return c.GetProduct(ctx, strconv.FormatInt(got.ID, 10))
	}
	return toProduct(got, nil, info)
}

// UpdateProduct writes every field posbridge owns of an existing product.
func (c *Client) UpdateProduct(ctx context.Context, p domain.Product) (domain.Product, error) {
	n, err := intID("product", p.ID)
	if err != nil {
		return domain.Product{}, err
	}
	info, err := c.catalogInfo(ctx)
	if err != nil {
		return domain.Product{}, fmt.Errorf("update product %s: %w", p.ID, err)
	}
	body, err := fromProduct(p, info)
	if err != nil {
		return domain.Product{}, fmt.Errorf("update product %s: %w", p.ID, err)
	}
	var got wcProduct
	if _, err := c.call(ctx, http.MethodPut, fmt.Sprintf("/products/%d", n), nil, body, &got); err != nil {
		return domain.Product{}, fmt.Errorf("update product %s: %w", p.ID, err)
	}
	if len(p.Variants) > 0 {
		vs, err := c.matchVariations(ctx, n, p.Variants)
		if err != nil {
			return domain.Product{}, fmt.Errorf("update product %s: %w", p.ID, err)
		}
		if err := c.writeVariations(ctx, n, vs, info); err != nil {
			return domain.Product{}, fmt.Errorf("update product %s: %w", p.ID, err)
		}
		return c.GetProduct(ctx, p.ID)
	}
	return toProduct(got, nil, info)
}

// matchVariations gives each variant without an id the id of the product's variation it is: the
// one with its SKU, else the one with its option name. Without it, an update would create every
// variation again and the store would refuse their SKUs as duplicated.
func (c *Client) matchVariations(ctx context.Context, productID int64, vs []domain.Variant) ([]domain.Variant, error) {
	if !slices.ContainsFunc(vs, func(v domain.Variant) bool { return v.ID == "" }) {
		return vs, nil
	}
	cur, err := c.variations(ctx, productID)
	if err != nil {
		return nil, err
	}
	bySKU, byName := map[string]int64{}, map[string]int64{}
	for _, w := range cur {
		if sku := str(w.SKU); sku != "" {
			bySKU[sku] = w.ID
		}
		for _, a := range w.Attributes {
			if a.Name == variantAttribute {
				byName[a.Option] = w.ID
			}
		}
	}
	out := slices.Clone(vs)
	used := map[int64]bool{}
	for _, v := range out {
		if id, err := strconv.ParseInt(v.ID, 10, 64); err == nil {
			used[id] = true
		}
	}
	for i, v := range out {
		if v.ID != "" {
			continue
		}
		id, ok := bySKU[v.SKU]
		if !ok || v.SKU == "" || used[id] {
			if id, ok = byName[v.Name]; !ok || used[id] {
				continue // a new variation
			}
		}
		used[id] = true
		out[i].ID = strconv.FormatInt(id, 10)
	}
	return out, nil
}

// batchBody is WooCommerce's batch request and answer: {"create":[...],"update":[...],"delete":[...]}.
type batchBody[T any] struct {
	Create []T     `json:"create,omitempty"`
	Update []T     `json:"update,omitempty"`
	Delete []int64 `json:"delete,omitempty"`
}

// batchItem is one answer item: the object, or {"id":N,"error":{code,message,data}}.
type batchItem struct {
	ID    int64     `json:"id"`
	Error *apiError `json:"error,omitempty"`
}

// writeVariations creates variants without an id and updates the others, in batches of 100.
func (c *Client) writeVariations(ctx context.Context, productID int64, vs []domain.Variant, info storeInfo) error {
	path := fmt.Sprintf("/products/%d/variations/batch", productID)
	for start := 0; start < len(vs); start += MaxBatch {
		end := min(start+MaxBatch, len(vs))
		var body batchBody[wcVariation]
		for _, v := range vs[start:end] {
			w, err := fromVariant(v, info)
			if err != nil {
				return err
			}
			if w.ID == 0 {
				body.Create = append(body.Create, w)
			} else {
				body.Update = append(body.Update, w)
			}
		}
		var ans batchBody[batchItem]
		if _, err := c.call(ctx, http.MethodPost, path, nil, body, &ans); err != nil {
			return fmt.Errorf("write variations %d..%d: %w", start, end-1, err)
		}
		for _, it := range append(ans.Create, ans.Update...) {
			if it.Error != nil {
				return fmt.Errorf("write variation: %w", wcError(0, *it.Error))
			}
		}
	}
	return nil
}

// UpsertProducts creates products without an id and updates the others through /products/batch,
// at most 100 objects a request. A refused item is reported in its result; the rest apply.
// Products with variants are written one by one (a batch cannot carry variations).
func (c *Client) UpsertProducts(ctx context.Context, ps []domain.Product) ([]connector.BatchResult, error) {
	info, err := c.catalogInfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("upsert products: %w", err)
	}
	res := make([]connector.BatchResult, len(ps))
	type slot struct{ create, update []int }
	var body batchBody[wcProduct]
	var sl slot
	flush := func() error {
		if len(body.Create)+len(body.Update) == 0 {
			return nil
		}
		var ans batchBody[batchItem]
		// A batch that creates is not repeated blindly: after a lost answer the store may have
		// made the products, and the caller looks for them before it asks again.
		retries := c.opt.MaxRetries
		if len(body.Create) > 0 {
			retries = 0
		}
		_, err := c.do(ctx, retries, http.MethodPost, "/products/batch", nil, body, &ans)
		for k, list := range [][]int{sl.create, sl.update} {
			got := ans.Create
			if k == 1 {
				got = ans.Update
			}
			for j, idx := range list {
				switch {
				case err != nil:
					res[idx].Err = err
				case j >= len(got):
					res[idx].Err = &connector.Error{Kind: connector.KindTemporary, Message: "the store's batch answer left this item out"}
				case got[j].Error != nil:
					res[idx].Err = wcError(0, *got[j].Error)
				default:
					res[idx].ID = strconv.FormatInt(got[j].ID, 10)
				}
			}
		}
		body, sl = batchBody[wcProduct]{}, slot{}
		if err != nil && connector.KindOf(err) == connector.KindCredentials {
			return fmt.Errorf("upsert products: %w", err)
		}
		return nil
	}
	for i, p := range ps {
		res[i].Index = i
		if len(p.Variants) > 0 {
			var got domain.Product
			var err error
			if p.ID == "" {
				got, err = c.CreateProduct(ctx, p)
			} else {
				got, err = c.UpdateProduct(ctx, p)
			}
			res[i].ID, res[i].Err = got.ID, err
			if err != nil && connector.KindOf(err) == connector.KindCredentials {
				return res, err
			}
			continue
		}
		w, err := fromProduct(p, info)
		if err != nil {
			res[i].Err = err
			continue
		}
		if p.ID == "" {
			body.Create = append(body.Create, w)
			sl.create = append(sl.create, i)
		} else {
			id, err := intID("product", p.ID)
			if err != nil {
				res[i].Err = err
				continue
			}
			w.ID = id
			body.Update = append(body.Update, w)
			sl.update = append(sl.update, i)
		}
		if len(body.Create)+len(body.Update) == MaxBatch {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	if err := flush(); err != nil {
		return res, err
	}
	return res, nil
}

// KeepsFields implements connector.FieldKeeper: an update sends only the fields it changes, and
// WooCommerce leaves the others as they are.
func (c *Client) KeepsFields() []string {
	return []string{"name", "description", "sku", "barcode", "price"}
}

// DeleteProduct deletes a product for good (DELETE ?force=true), or moves it to the trash.
func (c *Client) DeleteProduct(ctx context.Context, id string, force bool) error {
	n, err := intID("product", id)
	if err != nil {
		return err
	}
	q := url.Values{"force": {strconv.FormatBool(force)}}
	if _, err := c.call(ctx, http.MethodDelete, fmt.Sprintf("/products/%d", n), q, nil, nil); err != nil {
		return fmt.Errorf("delete product %s: %w", id, err)
	}
	return nil
}

// WritesStockWithProducts implements connector.StockWithProducts: a product's stock_quantity
// goes in the same write as the product (the store has one stock location).
func (c *Client) WritesStockWithProducts() bool { return true }

// FindProducts implements connector.ProductFinder: it reads the products modified since since
// (a second earlier: modified_after is exclusive at whole seconds) and answers the id of each one
// whose posbridge_ref meta is among refs.
func (c *Client) FindProducts(ctx context.Context, refs []string, since time.Time) (map[string]string, error) {
	want := map[string]bool{}
	for _, r := range refs {
		want[r] = true
	}
	out := map[string]string{}
	for page := 1; page < 10000 && len(out) < len(want); page++ {
		q := url.Values{"modified_after": {since.UTC().Add(-time.Second).Format(wcTime)}, "dates_are_gmt": {"true"},
			"per_page": {strconv.Itoa(MaxPerPage)}, "page": {strconv.Itoa(page)}, "orderby": {"id"}, "order": {"asc"}}
		var ps []wcProduct
		if _, err := c.call(ctx, http.MethodGet, "/products", q, nil, &ps); err != nil {
			return out, fmt.Errorf("find created products: %w", err)
		}
		for _, p := range ps {
			for _, m := range p.MetaData {
				if v, ok := m.Value.(string); ok && m.Key == refMetaKey && want[v] {
					out[v] = strconv.FormatInt(p.ID, 10)
				}
			}
		}
		if len(ps) < MaxPerPage {
			break
		}
	}
	return out, nil
}
