package square

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// Stock cursors: "I|<updated_after>|<square cursor>|<mark>" while a read is in progress and
// "I|<mark>" to resume, where mark is the latest calculated_at seen.
const (
	stockPrefix = "I|"
	// maxInventoryChanges is Square's cap on changes in one batch-create request.
	maxInventoryChanges = 100
	// countsPageSize is the limit asked of inventory counts batch-retrieve (1..1000).
	countsPageSize = 1000
)

// ListStock reads IN_STOCK counts per variation and location (the configured location, or all),
// through POST /v2/inventory/counts/batch-retrieve. A Page.Resume returns only counts calculated
// after the previous read (updated_after).
func (c *Client) ListStock(ctx context.Context, cursor string) (connector.Page[domain.StockLevel], error) {
	var after, sqCursor, mark string
	switch {
	case cursor == "":
	case strings.HasPrefix(cursor, stockPrefix):
		parts := strings.Split(cursor[len(stockPrefix):], "|")
		switch len(parts) {
		case 1:
			after = parts[0]
		case 3:
			after, sqCursor, mark = parts[0], parts[1], parts[2]
		default:
			return connector.Page[domain.StockLevel]{}, badCursor(cursor)
		}
	default:
		return connector.Page[domain.StockLevel]{}, badCursor(cursor)
	}
	req := batchRetrieveCountsRequest{UpdatedAfter: after, Cursor: sqCursor, States: []string{"IN_STOCK"}, Limit: countsPageSize}
	if c.locationID != "" {
		req.LocationIDs = []string{c.locationID}
	}
	var resp batchRetrieveCountsResponse
	if err := c.call(ctx, "retrieve inventory counts", http.MethodPost, "/v2/inventory/counts/batch-retrieve", nil, req, &resp); err != nil {
		return connector.Page[domain.StockLevel]{}, err
	}
	items, err := c.itemsOf(ctx, resp.Counts)
	if err != nil {
		return connector.Page[domain.StockLevel]{}, err
	}
	page := connector.Page[domain.StockLevel]{}
	if mark == "" {
		mark = after
	}
	for _, n := range resp.Counts {
		lvl := domain.StockLevel{ProductID: items[n.CatalogObjectID], VariantID: n.CatalogObjectID, LocationID: n.LocationID, Quantity: n.Quantity}
		if lvl.ProductID == "" {
			lvl.ProductID = n.CatalogObjectID
		}
		if t, err := time.Parse(time.RFC3339Nano, n.CalculatedAt); err == nil {
			lvl.UpdatedAt = t
		}
		mark = maxTime(mark, n.CalculatedAt)
		page.Items = append(page.Items, lvl)
	}
	if resp.Cursor != "" {
		page.Next = stockPrefix + after + "|" + resp.Cursor + "|" + mark
		return page, nil
	}
	page.Resume = stockPrefix + mark
	return page, nil
}

// itemsOf maps the variation ids of counts to their item ids, reading unknown variations once.
func (c *Client) itemsOf(ctx context.Context, counts []inventoryCount) (map[string]string, error) {
	out := map[string]string{}
	var unknown []string
	c.mu.Lock()
	if c.itemOfVariation == nil {
		c.itemOfVariation = map[string]string{}
	}
	for _, n := range counts {
		if id, ok := c.itemOfVariation[n.CatalogObjectID]; ok {
			out[n.CatalogObjectID] = id
		} else if _, dup := out[n.CatalogObjectID]; !dup {
			out[n.CatalogObjectID] = ""
			unknown = append(unknown, n.CatalogObjectID)
		}
	}
	c.mu.Unlock()
	if len(unknown) == 0 {
		return out, nil
	}
	objs, err := c.batchRetrieve(ctx, unknown, true)
	if err != nil {
		return nil, fmt.Errorf("read the variations of %d stock counts: %w", len(unknown), err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range objs {
		if o.Type == "ITEM_VARIATION" && o.ItemVariationData != nil {
			out[o.ID] = o.ItemVariationData.ItemID
			c.itemOfVariation[o.ID] = o.ItemVariationData.ItemID
		}
	}
	return out, nil
}

// SetStock sets absolute quantities with PHYSICAL_COUNT changes (POST
// /v2/inventory/changes/batch-create, at most 100 a request). A level names the variation
// (VariantID) or an item (ProductID, whose first variation is counted); quantities are decimal
// strings with at most 5 decimals. An invalid level fails alone; a refused request fails its
// levels with Square's error.
func (c *Client) SetStock(ctx context.Context, levels []domain.StockLevel) ([]connector.BatchResult, error) {
	res := make([]connector.BatchResult, len(levels))
	var def string
	type change struct {
		index int
		ch    inventoryChange
	}
	var changes []change
	now := c.now().UTC().Format(timeLayout)
	for i, l := range levels {
		res[i].Index = i
		q, err := normalizeQuantity(l.Quantity)
		if err != nil {
			res[i].Err = err
			continue
		}
		loc := l.LocationID
		if loc == "" {
			if def == "" {
				dl, err := c.defaultLocation(ctx)
				if err != nil {
					return nil, err
				}
				def = dl.ID
			}
			loc = def
		}
		obj := l.VariantID
		if obj == "" {
			obj, err = c.variationOf(ctx, l.ProductID)
			if err != nil {
				res[i].Err = err
				continue
			}
		}
		changes = append(changes, change{index: i, ch: inventoryChange{Type: "PHYSICAL_COUNT", PhysicalCount: &physicalCount{
			CatalogObjectID: obj, State: "IN_STOCK", LocationID: loc, Quantity: q, OccurredAt: now,
		}}})
	}
	for start := 0; start < len(changes); start += maxInventoryChanges {
		part := changes[start:min(start+maxInventoryChanges, len(changes))]
		req := batchChangeInventoryRequest{IdempotencyKey: newKey()}
		for _, ch := range part {
			req.Changes = append(req.Changes, ch.ch)
		}
		var resp batchChangeInventoryResponse
		err := c.call(ctx, fmt.Sprintf("change inventory (%d counts)", len(part)), http.MethodPost, "/v2/inventory/changes/batch-create", nil, req, &resp)
		if err != nil && !isKind(err, connector.KindInvalid) && !isKind(err, connector.KindNotFound) {
			return nil, err
		}
		for _, ch := range part {
			res[ch.index].Err = err
			if err == nil {
				res[ch.index].ID = ch.ch.PhysicalCount.CatalogObjectID
			}
		}
	}
	return res, nil
}

// variationOf returns the variation to count for id: id itself when it is a variation, else the
// first variation of the item id.
func (c *Client) variationOf(ctx context.Context, id string) (string, error) {
	if id == "" {
		return "", &connector.Error{Kind: connector.KindInvalid, Message: "the stock level names no product or variant"}
	}
	o, err := c.retrieveObject(ctx, id)
	if err != nil {
		return "", err
	}
	if o.Type == "ITEM_VARIATION" {
		return o.ID, nil
	}
	if o.ItemData == nil || len(o.ItemData.Variations) == 0 {
		return "", &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("catalog item %s has no variation to count", id)}
	}
	return o.ItemData.Variations[0].ID, nil
}

// timeLayout is RFC 3339 with milliseconds, the form Square's examples use.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// normalizeQuantity checks a decimal quantity (Square allows up to 5 decimals) and returns it
// without superfluous zeros.
func normalizeQuantity(s string) (string, error) {
	if _, err := parseDecimal(s, 5); err != nil {
		return "", &connector.Error{Kind: connector.KindInvalid, Code: "INVALID_VALUE", Message: fmt.Sprintf("quantity %q: %v", s, err)}
	}
	s = strings.TrimSpace(s)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "" || s == "-" {
		s = "0"
	}
	return s, nil
}

// parseDecimal parses a decimal string with at most places decimals into an integer scaled by
// 10^places, without floating point.
func parseDecimal(s string, places int) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty number")
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("not a number")
	}
	if len(frac) > places {
		return 0, fmt.Errorf("more than %d decimals", places)
	}
	if len(whole) > 12 {
		return 0, fmt.Errorf("too large")
	}
	var n int64
	for _, r := range whole + frac + strings.Repeat("0", places-len(frac)) {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("not a decimal number")
		}
		n = n*10 + int64(r-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

// formatDecimal formats an integer scaled by 10^places as a decimal string.
func formatDecimal(n int64, places int) string {
	neg := n < 0
	if neg {
		n = -n
	}
	scale := int64(1)
	for range places {
		scale *= 10
	}
	s := fmt.Sprintf("%d", n/scale)
	if f := n % scale; f != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%0*d", places, f), "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}
