package square

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// Catalog cursors are opaque to callers. They carry Square's own cursor and the catalog time
// mark the read started from:
//
//	L|<mark>|<square cursor>            a full listing (GET /v2/catalog/list) in progress
//	S|<begin>|<square cursor>|<mark>    an incremental read (POST /v2/catalog/search, begin_time)
//	S|<begin>                           a resume mark: objects changed after begin
//
// <mark> is the catalog's latest_time when the read began, so changes made while it ran are
// seen again by the next incremental read rather than lost.
const (
	listPrefix   = "L|"
	searchPrefix = "S|"
	// searchPageSize is the limit asked of SearchCatalogObjects (Square's maximum is 1,000).
	searchPageSize = 1000
	// maxBatchObjects is Square's cap on objects in one batch-upsert request.
	maxBatchObjects = 10000
	// maxRetrieveIDs bounds the ids of one batch-retrieve request.
	maxRetrieveIDs = 1000
)

// ListProducts lists catalog items. cursor "" starts a full listing; a Page.Resume of an earlier
// read returns only items changed since (deleted ones with Deleted set).
func (c *Client) ListProducts(ctx context.Context, cursor string) (connector.Page[domain.Product], error) {
	switch {
	case cursor == "":
		mark, err := c.catalogMark(ctx)
		if err != nil {
			return connector.Page[domain.Product]{}, err
		}
		return c.listPage(ctx, mark, "")
	case strings.HasPrefix(cursor, listPrefix):
		parts := strings.SplitN(cursor[len(listPrefix):], "|", 2)
		if len(parts) != 2 {
			return connector.Page[domain.Product]{}, badCursor(cursor)
		}
		return c.listPage(ctx, parts[0], parts[1])
	case strings.HasPrefix(cursor, searchPrefix):
		parts := strings.Split(cursor[len(searchPrefix):], "|")
		switch len(parts) {
		case 1:
			return c.searchPage(ctx, parts[0], "", "")
		case 3:
			return c.searchPage(ctx, parts[0], parts[1], parts[2])
		}
	}
	return connector.Page[domain.Product]{}, badCursor(cursor)
}

func badCursor(cursor string) error {
	return &connector.Error{Kind: connector.KindInvalid, Code: "INVALID_CURSOR", Message: fmt.Sprintf("cursor %q is not a Square catalog cursor of posbridge", cursor)}
}

// catalogMark asks Square when the catalog last changed (latest_time of a one-object search).
func (c *Client) catalogMark(ctx context.Context) (string, error) {
	var resp searchCatalogResponse
	req := searchCatalogRequest{ObjectTypes: []string{"ITEM"}, Limit: 1}
	if err := c.call(ctx, "read catalog time", http.MethodPost, "/v2/catalog/search", nil, req, &resp); err != nil {
		return "", err
	}
	return resp.LatestTime, nil
}

func (c *Client) listPage(ctx context.Context, mark, sqCursor string) (connector.Page[domain.Product], error) {
	q := url.Values{"types": {"ITEM"}}
	if sqCursor != "" {
		q.Set("cursor", sqCursor)
	}
	var resp listCatalogResponse
	if err := c.call(ctx, "list catalog", http.MethodGet, "/v2/catalog/list", q, nil, &resp); err != nil {
		return connector.Page[domain.Product]{}, err
	}
	page := connector.Page[domain.Product]{Items: make([]domain.Product, 0, len(resp.Objects))}
	latest := mark
	for _, o := range resp.Objects {
		if o.Type != "ITEM" {
			continue
		}
		page.Items = append(page.Items, toProduct(o))
		if mark == "" && later(o.UpdatedAt, latest) {
			latest = o.UpdatedAt
		}
	}
	if resp.Cursor != "" {
		page.Next = listPrefix + latest + "|" + resp.Cursor
		return page, nil
	}
	page.Resume = searchPrefix + resumeMark(latest)
	return page, nil
}

func (c *Client) searchPage(ctx context.Context, begin, sqCursor, mark string) (connector.Page[domain.Product], error) {
	req := searchCatalogRequest{
		Cursor:                sqCursor,
		ObjectTypes:           []string{"ITEM", "ITEM_VARIATION"},
		IncludeDeletedObjects: true,
		BeginTime:             begin,
		Limit:                 searchPageSize,
	}
	var resp searchCatalogResponse
	if err := c.call(ctx, "search catalog changes", http.MethodPost, "/v2/catalog/search", nil, req, &resp); err != nil {
		return connector.Page[domain.Product]{}, err
	}
	if sqCursor == "" {
		mark = resp.LatestTime
	}
	seen := map[string]bool{}
	page := connector.Page[domain.Product]{}
	var parents []string
	for _, o := range resp.Objects {
		if resp.LatestTime == "" {
			mark = maxTime(mark, o.UpdatedAt)
		}
		switch o.Type {
		case "ITEM":
			if !seen[o.ID] {
				seen[o.ID] = true
				page.Items = append(page.Items, toProduct(o))
			}
		case "ITEM_VARIATION":
			if o.ItemVariationData != nil && o.ItemVariationData.ItemID != "" {
				parents = append(parents, o.ItemVariationData.ItemID)
			}
		}
	}
	// A variation changed on its own: read its item so the product carries the change.
	var missing []string
	for _, id := range parents {
		if !seen[id] {
			seen[id] = true
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		objs, err := c.batchRetrieve(ctx, missing, true)
		if err != nil {
			return connector.Page[domain.Product]{}, err
		}
		for _, o := range objs {
			if o.Type == "ITEM" {
				page.Items = append(page.Items, toProduct(o))
			}
		}
	}
	if mark == "" {
		mark = begin
	}
	if resp.Cursor != "" {
		page.Next = searchPrefix + begin + "|" + resp.Cursor + "|" + mark
		return page, nil
	}
	page.Resume = searchPrefix + resumeMark(mark)
	return page, nil
}

// resumeMark is the begin_time of the next incremental read; an empty catalog starts at the epoch.
func resumeMark(mark string) string {
	if mark == "" {
		return "1970-01-01T00:00:00Z"
	}
	return mark
}

// later tells whether RFC 3339 time a is after b (an unparsable b counts as the beginning).
func later(a, b string) bool {
	ta, err := time.Parse(time.RFC3339Nano, a)
	if err != nil {
		return false
	}
	tb, err := time.Parse(time.RFC3339Nano, b)
	if err != nil {
		return true
	}
	return ta.After(tb)
}

func maxTime(a, b string) string {
	if later(b, a) {
		return b
	}
	return a
}

// GetProduct reads one catalog item (or the item of a variation id).
func (c *Client) GetProduct(ctx context.Context, id string) (domain.Product, error) {
	o, err := c.retrieveObject(ctx, id)
	if err != nil {
		return domain.Product{}, err
	}
	if o.Type == "ITEM_VARIATION" && o.ItemVariationData != nil && o.ItemVariationData.ItemID != "" {
		if o, err = c.retrieveObject(ctx, o.ItemVariationData.ItemID); err != nil {
			return domain.Product{}, err
		}
	}
	if o.Type != "ITEM" {
		return domain.Product{}, errNotFound("catalog item", id)
	}
	return toProduct(o), nil
}

func (c *Client) retrieveObject(ctx context.Context, id string) (catalogObject, error) {
	if id == "" || strings.ContainsAny(id, "/?#") {
		return catalogObject{}, errNotFound("catalog object", id)
	}
	var resp retrieveCatalogObjectResponse
	if err := c.call(ctx, "retrieve catalog object "+id, http.MethodGet, "/v2/catalog/object/"+url.PathEscape(id), nil, nil, &resp); err != nil {
		return catalogObject{}, err
	}
	if resp.Object == nil {
		return catalogObject{}, errNotFound("catalog object", id)
	}
	return *resp.Object, nil
}

func (c *Client) batchRetrieve(ctx context.Context, ids []string, includeDeleted bool) ([]catalogObject, error) {
	var out []catalogObject
	for start := 0; start < len(ids); start += maxRetrieveIDs {
		end := min(start+maxRetrieveIDs, len(ids))
		var resp batchRetrieveResponse
		req := batchRetrieveRequest{ObjectIDs: ids[start:end], IncludeDeletedObjects: includeDeleted}
		if err := c.call(ctx, "batch retrieve catalog objects", http.MethodPost, "/v2/catalog/batch-retrieve", nil, req, &resp); err != nil {
			return nil, err
		}
		out = append(out, resp.Objects...)
	}
	return out, nil
}

// CreateProduct creates an item with its variations (one "Regular" variation when the product
// names none) through POST /v2/catalog/object.
func (c *Client) CreateProduct(ctx context.Context, p domain.Product) (domain.Product, error) {
	if p.ID != "" {
		return domain.Product{}, &connector.Error{Kind: connector.KindInvalid, Message: "a new product must not carry an id; use UpdateProduct"}
	}
	cur, err := c.currency(ctx)
	if err != nil {
		return domain.Product{}, err
	}
	obj := fromProduct(p, "#item", cur)
	return c.upsertOne(ctx, "create product", obj)
}

// UpdateProduct writes p over the item p.ID. Versions missing from p are read from Square first;
// a stale version given by the caller is refused (KindConflict, VERSION_MISMATCH).
func (c *Client) UpdateProduct(ctx context.Context, p domain.Product) (domain.Product, error) {
	if p.ID == "" {
		return domain.Product{}, &connector.Error{Kind: connector.KindInvalid, Message: "the product to update has no id"}
	}
	cur, err := c.currency(ctx)
	if err != nil {
		return domain.Product{}, err
	}
	if needsCurrent(p) {
		current, err := c.retrieveObject(ctx, p.ID)
		if err != nil {
			return domain.Product{}, err
		}
		p = withVersions(p, current)
	}
	return c.upsertOne(ctx, "update product "+p.ID, fromProduct(p, p.ID, cur))
}

func (c *Client) upsertOne(ctx context.Context, op string, obj catalogObject) (domain.Product, error) {
	var resp upsertCatalogObjectResponse
	req := upsertCatalogObjectRequest{IdempotencyKey: newKey(), Object: obj}
	if err := c.call(ctx, op, http.MethodPost, "/v2/catalog/object", nil, req, &resp); err != nil {
		return domain.Product{}, err
	}
	if resp.CatalogObject == nil {
		return domain.Product{}, &connector.Error{Kind: connector.KindTemporary, Message: op + ": Square answered without the catalog object"}
	}
	return toProduct(*resp.CatalogObject), nil
}

// UpsertProducts creates (no id) or updates (id) the products through batch-upsert, one batch per
// product so a refused product fails alone; the result reports each one.
func (c *Client) UpsertProducts(ctx context.Context, ps []domain.Product) ([]connector.BatchResult, error) {
	res := make([]connector.BatchResult, len(ps))
	for i := range res {
		res[i].Index = i
	}
	if len(ps) == 0 {
		return res, nil
	}
	cur, err := c.currency(ctx)
	if err != nil {
		return nil, err
	}
	// Read the current versions of existing items the caller did not give them for.
	var stale []string
	for _, p := range ps {
		if p.ID != "" && needsCurrent(p) {
			stale = append(stale, p.ID)
		}
	}
	current := map[string]catalogObject{}
	if len(stale) > 0 {
		objs, err := c.batchRetrieve(ctx, stale, false)
		if err != nil {
			return nil, fmt.Errorf("read versions of %d products: %w", len(stale), err)
		}
		for _, o := range objs {
			current[o.ID] = o
		}
	}
	type pending struct {
		index  int
		tempID string
		obj    catalogObject
	}
	var chunk []pending
	objects := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		req := batchUpsertRequest{IdempotencyKey: newKey()}
		for _, p := range chunk {
			req.Batches = append(req.Batches, catalogObjectBatch{Objects: []catalogObject{p.obj}})
		}
		var resp batchUpsertResponse
		err := c.call(ctx, fmt.Sprintf("batch upsert %d products", len(chunk)), http.MethodPost, "/v2/catalog/batch-upsert", nil, req, &resp)
		if err != nil {
			k := connector.KindOf(err)
			if k != connector.KindInvalid && k != connector.KindConflict && k != connector.KindNotFound {
				return err
			}
			// Square refused the whole request (every batch failed): each product fails with it.
			for _, p := range chunk {
				res[p.index].Err = err
			}
			chunk, objects = nil, 0
			return nil
		}
		mapped := map[string]string{}
		for _, m := range resp.IDMappings {
			mapped[m.ClientObjectID] = m.ObjectID
		}
		written := map[string]bool{}
		for _, o := range resp.Objects {
			written[o.ID] = true
		}
		var failed []int
		for _, p := range chunk {
			switch {
			case p.tempID != "" && mapped[p.tempID] != "":
				res[p.index].ID = mapped[p.tempID]
			case p.tempID == "" && written[p.obj.ID]:
				res[p.index].ID = p.obj.ID
			default:
				failed = append(failed, p.index)
			}
		}
		for k, idx := range failed {
			e := &connector.Error{Kind: connector.KindInvalid, Message: "Square did not save this product"}
			if len(resp.Errors) == len(failed) {
				e = apiErrorOf(resp.Errors[k])
			} else if len(resp.Errors) > 0 {
				e = apiErrorOf(resp.Errors...)
			}
			res[idx].Err = e
		}
		chunk, objects = nil, 0
		return nil
	}
	for i, p := range ps {
		var tempID string
		id := p.ID
		if id == "" {
			tempID = fmt.Sprintf("#p%d", i)
			id = tempID
		} else if o, ok := current[p.ID]; ok {
			p = withVersions(p, o)
		} else if needsCurrent(p) {
			res[i].Err = errNotFound("catalog item", p.ID)
			continue
		}
		obj := fromProduct(p, id, cur)
		n := 1
		if obj.ItemData != nil {
			n += len(obj.ItemData.Variations)
		}
		// An item written twice goes to the next request, so every item of a request is
		// told apart by its id in the answer.
		dup := false
		for _, q := range chunk {
			dup = dup || (p.ID != "" && q.obj.ID == p.ID)
		}
		if dup || objects+n > maxBatchObjects {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		chunk = append(chunk, pending{index: i, tempID: tempID, obj: obj})
		objects += n
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return res, nil
}

// apiErrorOf turns Square error entries of a 200 answer (a failed batch) into one error.
func apiErrorOf(errs ...sqError) *connector.Error {
	e := apiError(http.StatusBadRequest, nil)
	e.Status = 0
	e.Kind = connector.KindInvalid
	msgs := make([]string, 0, len(errs))
	for _, x := range errs {
		if e.Code == "" {
			e.Code = x.Code
		}
		m := x.Detail
		if m == "" {
			m = x.Code
		}
		msgs = append(msgs, m)
	}
	e.Message = strings.Join(msgs, "; ")
	if e.Code == "VERSION_MISMATCH" {
		e.Kind = connector.KindConflict
	}
	return e
}

// currency is the currency of the default location, for prices given without one.
func (c *Client) currency(ctx context.Context) (string, error) {
	c.mu.Lock()
	cur := c.locCurrency
	c.mu.Unlock()
	if cur != "" {
		return cur, nil
	}
	l, err := c.defaultLocation(ctx)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.locCurrency = l.Currency
	c.mu.Unlock()
	return l.Currency, nil
}

// needsCurrent tells whether writing p needs the item's current versions from Square.
func needsCurrent(p domain.Product) bool {
	if p.Version == "" || len(p.Variants) == 0 {
		return true
	}
	for _, v := range p.Variants {
		if v.ID != "" && v.Version == "" {
			return true
		}
	}
	return false
}

// withVersions fills the versions p lacks from the item as Square holds it. A product without
// variants updates the item's first variation and keeps the others as they are.
func withVersions(p domain.Product, cur catalogObject) domain.Product {
	if p.Version == "" {
		p.Version = strconv.FormatInt(cur.Version, 10)
	}
	existing := toProduct(cur).Variants
	if len(p.Variants) == 0 {
		if len(existing) == 0 {
			return p
		}
		first := existing[0]
		first.SKU, first.Barcode, first.Price, first.TrackStock = p.SKU, p.Barcode, p.Price, p.TrackStock
		p.Variants = append([]domain.Variant{first}, existing[1:]...)
		return p
	}
	byID := map[string]domain.Variant{}
	for _, v := range existing {
		byID[v.ID] = v
	}
	vs := make([]domain.Variant, len(p.Variants))
	copy(vs, p.Variants)
	for i, v := range vs {
		if v.ID != "" && v.Version == "" {
			vs[i].Version = byID[v.ID].Version
		}
	}
	p.Variants = vs
	return p
}

// toProduct maps an ITEM to a neutral product; the first variation gives the product's SKU,
// barcode (UPC) and price, and every variation is listed as a variant.
func toProduct(o catalogObject) domain.Product {
	p := domain.Product{ID: o.ID, Deleted: o.IsDeleted}
	if o.Version != 0 {
		p.Version = strconv.FormatInt(o.Version, 10)
	}
	if t, err := time.Parse(time.RFC3339Nano, o.UpdatedAt); err == nil {
		p.UpdatedAt = t
	}
	if o.ItemData == nil {
		return p
	}
	p.Name = o.ItemData.Name
	p.Description = o.ItemData.Description
	for _, cat := range o.ItemData.Categories {
		p.Categories = append(p.Categories, domain.Category{ID: cat.ID})
	}
	for _, vo := range o.ItemData.Variations {
		v := domain.Variant{ID: vo.ID}
		if vo.Version != 0 {
			v.Version = strconv.FormatInt(vo.Version, 10)
		}
		if d := vo.ItemVariationData; d != nil {
			v.Name, v.SKU, v.Barcode, v.TrackStock = d.Name, d.SKU, d.UPC, d.TrackInventory
			if d.PriceMoney != nil {
				v.Price = domain.Money{Amount: d.PriceMoney.Amount, Currency: d.PriceMoney.Currency}
			}
		}
		p.Variants = append(p.Variants, v)
	}
	if len(p.Variants) > 0 {
		f := p.Variants[0]
		p.SKU, p.Barcode, p.Price, p.TrackStock = f.SKU, f.Barcode, f.Price, f.TrackStock
	}
	return p
}

// fromProduct builds the ITEM to write. id is the item's id: its real id for an update, or a
// temporary "#" id for a new item (its new variations get "#" ids derived from it).
func fromProduct(p domain.Product, id, currency string) catalogObject {
	obj := catalogObject{Type: "ITEM", ID: id}
	if !strings.HasPrefix(id, "#") {
		obj.Version, _ = strconv.ParseInt(p.Version, 10, 64)
	}
	item := &catalogItem{Name: p.Name, Description: p.Description, ProductType: "REGULAR"}
	for _, cat := range p.Categories {
		if cat.ID != "" {
			item.Categories = append(item.Categories, catalogObjectCategory{ID: cat.ID})
		}
	}
	variants := p.Variants
	if len(variants) == 0 {
		variants = []domain.Variant{{Name: "Regular", SKU: p.SKU, Barcode: p.Barcode, Price: p.Price, TrackStock: p.TrackStock}}
	}
	for j, v := range variants {
		vo := catalogObject{Type: "ITEM_VARIATION", ID: v.ID}
		if vo.ID == "" {
			vo.ID = fmt.Sprintf("#%s-v%d", strings.TrimPrefix(id, "#"), j)
		} else {
			vo.Version, _ = strconv.ParseInt(v.Version, 10, 64)
		}
		name := v.Name
		if name == "" {
			name = "Regular"
		}
		cur := v.Price.Currency
		if cur == "" {
			cur = currency
		}
		vo.ItemVariationData = &catalogVariation{
			ItemID:         id,
			Name:           name,
			SKU:            v.SKU,
			UPC:            v.Barcode,
			PricingType:    "FIXED_PRICING",
			PriceMoney:     &money{Amount: v.Price.Amount, Currency: cur},
			TrackInventory: v.TrackStock,
		}
		item.Variations = append(item.Variations, vo)
	}
	obj.ItemData = item
	return obj
}
