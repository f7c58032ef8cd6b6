package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// inventoryLevelJSON is the REST InventoryLevel resource. available is a whole number, or null
// when the item is not tracked at the location.
type inventoryLevelJSON struct {
	InventoryItemID int64  `json:"inventory_item_id"`
	LocationID      int64  `json:"location_id"`
	Available       *int   `json:"available"`
	UpdatedAt       string `json:"updated_at"`
}

// maxIDsPerLevelsCall is how many location ids one inventory_levels.json call takes.
const maxIDsPerLevelsCall = 50

// ListStock reads inventory levels at every location of the shop (GET inventory_levels.json with
// location_ids). A Resume cursor reads only the levels updated since (updated_at_min). Levels are
// tied to products through the inventory item of each variant, which the client learns from
// product reads; an unknown item makes it read the catalog once.
func (c *Client) ListStock(ctx context.Context, cur string) (connector.Page[domain.StockLevel], error) {
	cs, err := parseCursor(cur)
	if err != nil {
		return connector.Page[domain.StockLevel]{}, fmt.Errorf("list inventory levels: %w", err)
	}
	var filters url.Values
	if cs.page == "" { // a continuation carries its filters inside page_info
		locs, err := c.locations(ctx)
		if err != nil {
			return connector.Page[domain.StockLevel]{}, err
		}
		var ids []string
		for _, l := range locs {
			if l.Active {
				ids = append(ids, strconv.FormatInt(l.ID, 10))
			}
		}
		if len(ids) > maxIDsPerLevelsCall {
			ids = ids[:maxIDsPerLevelsCall]
		}
		filters = url.Values{"location_ids": {strings.Join(ids, ",")}}
	}
	raw, next, resume, err := c.listPage(ctx, "list inventory levels", "inventory_levels.json", "inventory_levels", filters, 250, cur)
	if err != nil {
		return connector.Page[domain.StockLevel]{}, err
	}
	levels := make([]inventoryLevelJSON, 0, len(raw))
	for _, r := range raw {
		var l inventoryLevelJSON
		if err := json.Unmarshal(r, &l); err != nil {
			return connector.Page[domain.StockLevel]{}, fmt.Errorf("list inventory levels: decode: %w", err)
		}
		levels = append(levels, l)
	}
	if err := c.learnItems(ctx, levels); err != nil {
		return connector.Page[domain.StockLevel]{}, fmt.Errorf("list inventory levels: %w", err)
	}
	page := connector.Page[domain.StockLevel]{Next: next, Resume: resume}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range levels {
		if l.Available == nil {
			continue
		}
		ref, ok := c.items[l.InventoryItemID]
		if !ok {
			continue // an inventory item of no product variant (a deleted variant)
		}
		page.Items = append(page.Items, domain.StockLevel{
			ProductID:  strconv.FormatInt(ref.productID, 10),
			VariantID:  strconv.FormatInt(ref.variantID, 10),
			LocationID: strconv.FormatInt(l.LocationID, 10),
			Quantity:   strconv.Itoa(*l.Available),
			UpdatedAt:  parseTime(l.UpdatedAt),
		})
	}
	return page, nil
}

// learnItems reads the catalog (ids and variants only) when a level names an inventory item
// the client has not seen yet.
func (c *Client) learnItems(ctx context.Context, levels []inventoryLevelJSON) error {
	c.mu.Lock()
	missing := false
	for _, l := range levels {
		if _, ok := c.items[l.InventoryItemID]; !ok {
			missing = true
			break
		}
	}
	c.mu.Unlock()
	if !missing {
		return nil
	}
	filters := url.Values{"fields": {"id,variants"}}
	cur := ""
	for n := 1; ; n++ {
		raw, next, _, err := c.listPage(ctx, fmt.Sprintf("map inventory items, products page %d", n), "products.json", "products", filters, 250, cur)
		if err != nil {
			return err
		}
		for _, r := range raw {
			var p productJSON
			if err := json.Unmarshal(r, &p); err != nil {
				return fmt.Errorf("decode product: %w", err)
			}
			for _, v := range p.Variants {
				if v.InventoryItemID != 0 {
					c.rememberItem(v.InventoryItemID, p.ID, v.ID)
				}
			}
		}
		if next == "" {
			return nil
		}
		cur = next
	}
}

// inventoryItemFor finds the inventory item of a level's variant (or of a product's only variant).
func (c *Client) inventoryItemFor(ctx context.Context, l domain.StockLevel) (int64, error) {
	var variantID int64
	if l.VariantID != "" {
		id, err := parseID("variant", l.VariantID)
		if err != nil {
			return 0, err
		}
		variantID = id
		c.mu.Lock()
		for item, ref := range c.items {
			if ref.variantID == variantID {
				c.mu.Unlock()
				return item, nil
			}
		}
		c.mu.Unlock()
	}
	pid, err := parseID("product", l.ProductID)
	if err != nil {
		return 0, err
	}
	p, err := c.getProductJSON(ctx, pid)
	if err != nil {
		return 0, err
	}
	for _, v := range p.Variants {
		if v.InventoryItemID != 0 {
			c.rememberItem(v.InventoryItemID, p.ID, v.ID)
		}
	}
	for _, v := range p.Variants {
		if variantID == 0 || v.ID == variantID {
			if variantID == 0 && len(p.Variants) > 1 {
				return 0, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("product %d has %d variants; name the variant", pid, len(p.Variants))}
			}
			return v.InventoryItemID, nil
		}
	}
	return 0, &connector.Error{Kind: connector.KindNotFound, Message: fmt.Sprintf("variant %d is not a variant of product %d", variantID, pid)}
}

// SetStock sets the available quantity of each level (POST inventory_levels/set.json). Shopify
// counts whole units: a fractional quantity is refused for that item only.
func (c *Client) SetStock(ctx context.Context, levels []domain.StockLevel) ([]connector.BatchResult, error) {
	res := make([]connector.BatchResult, 0, len(levels))
	for i, l := range levels {
		id, err := c.setLevel(ctx, l)
		if err != nil {
			if isKind(err, connector.KindCredentials) || ctx.Err() != nil {
				return res, fmt.Errorf("set stock item %d: %w", i, err)
			}
			res = append(res, connector.BatchResult{Index: i, Err: err})
			continue
		}
		res = append(res, connector.BatchResult{Index: i, ID: id})
	}
	return res, nil
}

func (c *Client) setLevel(ctx context.Context, l domain.StockLevel) (string, error) {
	qty, err := parseQuantity(l.Quantity)
	if err != nil {
		return "", &connector.Error{Kind: connector.KindInvalid, Message: err.Error()}
	}
	loc, err := parseID("location", l.LocationID)
	if err != nil {
		return "", err
	}
	item, err := c.inventoryItemFor(ctx, l)
	if err != nil {
		return "", err
	}
	body := map[string]any{"location_id": loc, "inventory_item_id": item, "available": qty}
	var out struct {
		Level inventoryLevelJSON `json:"inventory_level"`
	}
	if _, err := c.do(ctx, call{op: fmt.Sprintf("set inventory item %d at location %d", item, loc), method: http.MethodPost,
		path: "inventory_levels/set.json", body: body}, &out); err != nil {
		return "", err
	}
	return strconv.FormatInt(item, 10), nil
}
