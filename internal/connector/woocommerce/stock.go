package woocommerce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// ListStock reads the stock of every product and variation that manages stock, at the store's
// one location (StoreID). Incremental like ListProducts: a stock change moves date_modified.
func (c *Client) ListStock(ctx context.Context, cur string) (connector.Page[domain.StockLevel], error) {
	l, err := c.list(ctx, "/products", nil, cur, true)
	if err != nil {
		return connector.Page[domain.StockLevel]{}, fmt.Errorf("list stock: %w", err)
	}
	page := connector.Page[domain.StockLevel]{Next: l.Next, Resume: l.Resume}
	for _, raw := range l.Items {
		var p wcProduct
		if err := json.Unmarshal(raw, &p); err != nil {
			return connector.Page[domain.StockLevel]{}, fmt.Errorf("list stock: decode product: %w", err)
		}
		id := strconv.FormatInt(p.ID, 10)
		if p.Type == "variable" && len(p.Variations) > 0 {
			vars, err := c.variations(ctx, p.ID)
			if err != nil {
				return connector.Page[domain.StockLevel]{}, fmt.Errorf("list stock: %w", err)
			}
			for _, v := range vars {
				if v.ManageStock != nil && *v.ManageStock && v.StockQuantity != nil {
					page.Items = append(page.Items, domain.StockLevel{ProductID: id, VariantID: strconv.FormatInt(v.ID, 10),
						LocationID: StoreID, Quantity: v.StockQuantity.String(), UpdatedAt: parseWCTime(v.DateModifiedGMT)})
				}
			}
		}
		if p.ManageStock != nil && *p.ManageStock && p.StockQuantity != nil {
			page.Items = append(page.Items, domain.StockLevel{ProductID: id, LocationID: StoreID,
				Quantity: p.StockQuantity.String(), UpdatedAt: parseWCTime(p.DateModifiedGMT)})
		}
	}
	return page, nil
}

// stockQuantity checks a neutral quantity against WooCommerce's integer stock_quantity.
func stockQuantity(q string) (json.Number, error) {
	q = strings.TrimSpace(q)
	if i, f, ok := strings.Cut(q, "."); ok && strings.Trim(f, "0") == "" {
		q = i
	}
	if _, err := strconv.ParseInt(q, 10, 64); err != nil {
		return "", &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("WooCommerce keeps whole stock quantities; %q is not one", q)}
	}
	return json.Number(q), nil
}

// SetStock sets stock quantities (manage_stock on) through /products/batch, and through
// /products/{id}/variations/batch for variants. Each level gets its own result.
func (c *Client) SetStock(ctx context.Context, levels []domain.StockLevel) ([]connector.BatchResult, error) {
	res := make([]connector.BatchResult, len(levels))
	groups := map[int64][]int{} // product id -> indexes of variant levels
	var simple []int
	for i, l := range levels {
		res[i].Index = i
		if l.LocationID != "" && l.LocationID != StoreID {
			res[i].Err = &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("WooCommerce has one stock location %q, not %q", StoreID, l.LocationID)}
			continue
		}
		pid, err := intID("product", l.ProductID)
		if err != nil {
			res[i].Err = err
			continue
		}
		if _, err := stockQuantity(l.Quantity); err != nil {
			res[i].Err = err
			continue
		}
		if l.VariantID != "" {
			groups[pid] = append(groups[pid], i)
		} else {
			simple = append(simple, i)
		}
	}
	send := func(path string, idx []int, id func(int) (int64, error)) error {
		for start := 0; start < len(idx); start += MaxBatch {
			chunk := idx[start:min(start+MaxBatch, len(idx))]
			var body batchBody[wcVariation]
			var sent []int
			for _, i := range chunk {
				n, err := id(i)
				if err != nil {
					res[i].Err = err
					continue
				}
				q, _ := stockQuantity(levels[i].Quantity)
				body.Update = append(body.Update, wcVariation{ID: n, ManageStock: ptr(true), StockQuantity: &q})
				sent = append(sent, i)
			}
			if len(sent) == 0 {
				continue
			}
			var ans batchBody[batchItem]
			_, err := c.call(ctx, http.MethodPost, path, nil, body, &ans)
			for j, i := range sent {
				switch {
				case err != nil:
					res[i].Err = err
				case j >= len(ans.Update):
					res[i].Err = &connector.Error{Kind: connector.KindTemporary, Message: "the store's batch answer left this item out"}
				case ans.Update[j].Error != nil:
					res[i].Err = wcError(0, *ans.Update[j].Error)
				default:
					res[i].ID = strconv.FormatInt(ans.Update[j].ID, 10)
				}
			}
			if err != nil && connector.KindOf(err) == connector.KindCredentials {
				return fmt.Errorf("set stock: %w", err)
			}
		}
		return nil
	}
	if err := send("/products/batch", simple, func(i int) (int64, error) { return intID("product", levels[i].ProductID) }); err != nil {
		return res, err
	}
	pids := make([]int64, 0, len(groups))
	for pid := range groups {
		pids = append(pids, pid)
	}
	sort.Slice(pids, func(a, b int) bool { return pids[a] < pids[b] })
	for _, pid := range pids {
		path := fmt.Sprintf("/products/%d/variations/batch", pid)
		if err := send(path, groups[pid], func(i int) (int64, error) { return intID("variant", levels[i].VariantID) }); err != nil {
			return res, err
		}
	}
	return res, nil
}
