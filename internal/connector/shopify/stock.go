package shopify

import (
	"context"
	"fmt"
	"net/http"
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

// qLocationLevels reads a page of inventory levels at one active location (the one after
// $locs in the shop's locations), with the variant and product of each; it costs
// 2 + 1 x (1 + 2 + first x 5) points requested.
const qLocationLevels = `query posbridgeStockLevels($locs: String, $first: Int!, $after: String, $query: String) {
  locations(first: 1, after: $locs) {
    nodes {
      id
      inventoryLevels(first: $first, after: $after, query: $query) {
        nodes { updatedAt quantities(names: ["available"]) { name quantity } item { id variant { id product { id } } } }
        pageInfo { hasNextPage endCursor }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`

// levelsPerPage is the most levels one qLocationLevels may ask within MaxQueryCost.
var levelsPerPage = fitFirst(qLocationLevels, 250)

// ListStock reads the available quantity of every inventory level at the shop's active
// locations, one location after the other, all through GraphQL (locations { inventoryLevels }).
// A Resume cursor reads only the levels updated since (query updated_at:>mark). A location with
// nothing (new) to read goes on to the next within the same call.
func (c *Client) ListStock(ctx context.Context, cur string) (connector.Page[domain.StockLevel], error) {
	cs, err := parseCursor(cur)
	if err != nil {
		return connector.Page[domain.StockLevel]{}, fmt.Errorf("list inventory levels: %w", err)
	}
	mark := cs.max
	for {
		page, next, err := c.levelsPage(ctx, cs, &mark)
		if err != nil {
			return connector.Page[domain.StockLevel]{}, err
		}
		if next.page == "" && next.locs == "" { // the last location's last page
			if mark.IsZero() {
				mark = cs.since
			}
			if mark.IsZero() {
				mark = epoch
			}
			page.Resume = resumeCursor(mark)
			return page, nil
		}
		next.since = cs.since
		if len(page.Items) > 0 || next.page != "" {
			page.Next = next.next(next.page, mark)
			return page, nil
		}
		cs = next
	}
}

// levelsPage reads one page of levels at the location cs names and answers where the read goes
// on (the same location's next page, or the next location's first), the zero cursor after the
// last location; mark is raised to the latest updatedAt seen.
func (c *Client) levelsPage(ctx context.Context, cs cursor, mark *time.Time) (connector.Page[domain.StockLevel], cursor, error) {
	vars := map[string]any{"locs": nil, "first": levelsPerPage, "after": nil, "query": nil}
	if cs.locs != "" {
		vars["locs"] = cs.locs
	}
	if cs.page != "" {
		vars["after"] = cs.page
	}
	if !cs.since.IsZero() {
		vars["query"] = fmt.Sprintf("updated_at:>'%s'", cs.since.UTC().Format(time.RFC3339))
	}
	var out struct {
		Locations struct {
			Nodes []struct {
				ID              string `json:"id"`
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
			} `json:"nodes"`
			PageInfo gqlPageInfo `json:"pageInfo"`
		} `json:"locations"`
	}
	if err := c.graphql(ctx, "list inventory levels", qLocationLevels, vars, &out); err != nil {
		return connector.Page[domain.StockLevel]{}, cursor{}, err
	}
	var page connector.Page[domain.StockLevel]
	if len(out.Locations.Nodes) == 0 {
		return page, cursor{}, nil
	}
	l := out.Locations.Nodes[0]
	loc := gidNumber(l.ID)
	for _, lv := range l.InventoryLevels.Nodes {
		if t := parseTime(lv.UpdatedAt); t.After(*mark) {
			*mark = t
		}
		if lv.Item == nil || lv.Item.Variant == nil || len(lv.Quantities) == 0 {
			continue // an inventory item of no product variant (a deleted variant)
		}
		pid, vid := gidNumber(lv.Item.Variant.Product.ID), gidNumber(lv.Item.Variant.ID)
		c.rememberItem(gidNumber(lv.Item.ID), pid, vid)
		page.Items = append(page.Items, domain.StockLevel{
			ProductID:  strconv.FormatInt(pid, 10),
			VariantID:  strconv.FormatInt(vid, 10),
			LocationID: strconv.FormatInt(loc, 10),
			Quantity:   strconv.Itoa(lv.Quantities[0].Quantity),
			UpdatedAt:  parseTime(lv.UpdatedAt),
		})
	}
	if pi := l.InventoryLevels.PageInfo; pi.HasNextPage && pi.EndCursor != "" {
		return page, cursor{locs: cs.locs, page: pi.EndCursor}, nil
	}
	if pi := out.Locations.PageInfo; pi.HasNextPage && pi.EndCursor != "" {
		return page, cursor{locs: pi.EndCursor}, nil
	}
	return page, cursor{}, nil
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
