package shopify

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

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

// qLocationLevels reads a page of one location's inventory levels with the variant and product
// of each; it costs 1 + 2 + first x 5 points requested.
const qLocationLevels = `query posbridgeStockLevels($id: ID!, $first: Int!, $after: String, $query: String) {
  location(id: $id) {
    inventoryLevels(first: $first, after: $after, query: $query) {
      nodes { updatedAt quantities(names: ["available"]) { name quantity } item { id variant { id product { id } } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`

// levelsPerPage is the most levels one qLocationLevels may ask within MaxQueryCost.
var levelsPerPage = fitFirst(qLocationLevels, 250)

// ListStock reads the available quantity of every inventory level at the shop's active
// locations, one location after the other (GraphQL location(id:) { inventoryLevels }). A
// Resume cursor reads only the levels updated since (query updated_at:>mark).
func (c *Client) ListStock(ctx context.Context, cur string) (connector.Page[domain.StockLevel], error) {
	cs, err := parseCursor(cur)
	if err != nil {
		return connector.Page[domain.StockLevel]{}, fmt.Errorf("list inventory levels: %w", err)
	}
	locs, err := c.activeLocations(ctx)
	if err != nil {
		return connector.Page[domain.StockLevel]{}, err
	}
	mark := cs.max
	resume := func(page connector.Page[domain.StockLevel]) connector.Page[domain.StockLevel] {
		if mark.IsZero() {
			mark = cs.since
		}
		if mark.IsZero() {
			mark = epoch
		}
		page.Resume = resumeCursor(mark)
		return page
	}
	loc := cs.loc
	if loc == 0 {
		if len(locs) == 0 {
			return resume(connector.Page[domain.StockLevel]{}), nil
		}
		loc = locs[0]
	}
	// A location with nothing (new) to read goes on to the next within this call.
	for {
		page, next, err := c.levelsPage(ctx, loc, cs, &mark)
		if err != nil {
			return connector.Page[domain.StockLevel]{}, err
		}
		if next != "" {
			page.Next = cursor{loc: loc, since: cs.since}.next(next, mark)
			return page, nil
		}
		i := slices.Index(locs, loc)
		if i < 0 || i+1 >= len(locs) {
			return resume(page), nil
		}
		loc, cs.page = locs[i+1], ""
		if len(page.Items) > 0 {
			page.Next = cursor{loc: loc, since: cs.since}.next("", mark)
			return page, nil
		}
	}
}

// levelsPage reads one page of a location's levels from cs.page on and answers the endCursor
// to go on from ("" at the location's last page); mark is raised to the latest updatedAt seen.
func (c *Client) levelsPage(ctx context.Context, loc int64, cs cursor, mark *time.Time) (connector.Page[domain.StockLevel], string, error) {
	vars := map[string]any{"id": gid("Location", loc), "first": levelsPerPage, "after": nil, "query": nil}
	if cs.page != "" {
		vars["after"] = cs.page
	}
	if !cs.since.IsZero() {
		vars["query"] = fmt.Sprintf("updated_at:>'%s'", cs.since.UTC().Format(time.RFC3339))
	}
	var out struct {
		Location *struct {
			InventoryLevels struct {
				Nodes []struct {
					UpdatedAt  string `json:"updatedAt"`
					Quantities []struct {
						Name     string `json:"name"`
						Quantity int    `json:"quantity"`
					} `json:"quantities"`
					Item *struct {
						ID      string `json:"id"`
						Variant *struct {
							ID      string `json:"id"`
							Product struct {
								ID string `json:"id"`
							} `json:"product"`
						} `json:"variant"`
					} `json:"item"`
				} `json:"nodes"`
				PageInfo gqlPageInfo `json:"pageInfo"`
			} `json:"inventoryLevels"`
		} `json:"location"`
	}
	op := fmt.Sprintf("list inventory levels at location %d", loc)
	if err := c.graphql(ctx, op, qLocationLevels, vars, &out); err != nil {
		return connector.Page[domain.StockLevel]{}, "", err
	}
	var page connector.Page[domain.StockLevel]
	if out.Location != nil {
		levels := out.Location.InventoryLevels
		for _, l := range levels.Nodes {
			if t := parseTime(l.UpdatedAt); t.After(*mark) {
				*mark = t
			}
			if l.Item == nil || l.Item.Variant == nil || len(l.Quantities) == 0 {
				continue // an inventory item of no product variant (a deleted variant)
			}
			pid, vid := gidNumber(l.Item.Variant.Product.ID), gidNumber(l.Item.Variant.ID)
			c.rememberItem(gidNumber(l.Item.ID), pid, vid)
			page.Items = append(page.Items, domain.StockLevel{
				ProductID:  strconv.FormatInt(pid, 10),
				VariantID:  strconv.FormatInt(vid, 10),
				LocationID: strconv.FormatInt(loc, 10),
				Quantity:   strconv.Itoa(l.Quantities[0].Quantity),
				UpdatedAt:  parseTime(l.UpdatedAt),
			})
		}
		if levels.PageInfo.HasNextPage && levels.PageInfo.EndCursor != "" {
			return page, levels.PageInfo.EndCursor, nil
		}
	}
	return page, "", nil
}

// activeLocations answers the ids of the shop's active locations, in id order.
func (c *Client) activeLocations(ctx context.Context) ([]int64, error) {
	locs, err := c.locations(ctx)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, l := range locs {
		if l.Active {
			ids = append(ids, l.ID)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

// qVariantItem costs 1 + 1 + 1 = 3 points requested.
const qVariantItem = `query posbridgeVariantItem($id: ID!) {
  productVariant(id: $id) { id inventoryItem { id } product { id } }
}`

// inventoryItemFor finds the inventory item of a level's variant (or of a product's only
// variant), from the items the client has read, else from the shop.
func (c *Client) inventoryItemFor(ctx context.Context, l domain.StockLevel) (int64, error) {
	if l.VariantID != "" {
		variantID, err := parseID("variant", l.VariantID)
		if err != nil {
			return 0, err
		}
		c.mu.Lock()
		for item, ref := range c.items {
			if ref.variantID == variantID {
				c.mu.Unlock()
				return item, nil
			}
		}
		c.mu.Unlock()
		var out struct {
			ProductVariant *struct {
				ID            string `json:"id"`
				InventoryItem struct {
					ID string `json:"id"`
				} `json:"inventoryItem"`
				Product struct {
					ID string `json:"id"`
				} `json:"product"`
			} `json:"productVariant"`
		}
		if err := c.graphql(ctx, fmt.Sprintf("read variant %d", variantID), qVariantItem, map[string]any{"id": gid("ProductVariant", variantID)}, &out); err != nil {
			return 0, err
		}
		v := out.ProductVariant
		if v == nil {
			return 0, &connector.Error{Kind: connector.KindNotFound, Status: http.StatusOK, Message: fmt.Sprintf("variant %d does not exist in the shop", variantID)}
		}
		if l.ProductID != "" && strconv.FormatInt(gidNumber(v.Product.ID), 10) != strings.TrimSpace(l.ProductID) {
			return 0, &connector.Error{Kind: connector.KindNotFound, Message: fmt.Sprintf("variant %d is not a variant of product %s", variantID, l.ProductID)}
		}
		item := gidNumber(v.InventoryItem.ID)
		c.rememberItem(item, gidNumber(v.Product.ID), variantID)
		return item, nil
	}
	pid, err := parseID("product", l.ProductID)
	if err != nil {
		return 0, err
	}
	p, err := c.getProduct(ctx, pid)
	if err != nil {
		return 0, err
	}
	for _, v := range p.Variants.Nodes {
		if v.InventoryItem != nil {
			c.rememberItem(gidNumber(v.InventoryItem.ID), pid, gidNumber(v.ID))
		}
	}
	if len(p.Variants.Nodes) != 1 {
		return 0, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("product %d has %d variants; name the variant", pid, len(p.Variants.Nodes))}
	}
	if p.Variants.Nodes[0].InventoryItem == nil {
		return 0, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("product %d has no inventory item", pid)}
	}
	return gidNumber(p.Variants.Nodes[0].InventoryItem.ID), nil
}

// SetStock sets the available quantity of each level (GraphQL inventorySetQuantities; an item
// not stocked at the location yet is activated there with it). Shopify
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
	op := fmt.Sprintf("set inventory item %d at location %d", item, loc)
	if err := c.setQuantities(ctx, op, []stockQty{{item: gid("InventoryItem", item), location: gid("Location", loc), quantity: qty}}); err != nil {
		return "", err
	}
	return strconv.FormatInt(item, 10), nil
}
