package woocommerce

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

// wcLineItem is an order line. price is a read-only number; subtotal and total are strings.
type wcLineItem struct {
	ID          int64        `json:"id,omitempty"`
	Name        string       `json:"name,omitempty"`
	ProductID   *int64       `json:"product_id,omitempty"`
	VariationID *int64       `json:"variation_id,omitempty"`
	Quantity    *json.Number `json:"quantity,omitempty"`
	SKU         string       `json:"sku,omitempty"`
	Price       json.Number  `json:"price,omitempty"`
	Subtotal    *string      `json:"subtotal,omitempty"`
	Total       *string      `json:"total,omitempty"`
}

// wcOrder is the order resource.
type wcOrder struct {
	ID               int64        `json:"id,omitempty"`
	Number           string       `json:"number,omitempty"`
	Status           string       `json:"status,omitempty"`
	Currency         string       `json:"currency,omitempty"`
	CustomerID       *int64       `json:"customer_id,omitempty"`
	CustomerNote     *string      `json:"customer_note,omitempty"`
	LineItems        []wcLineItem `json:"line_items,omitempty"`
	Total            string       `json:"total,omitempty"`
	MetaData         []wcMeta     `json:"meta_data,omitempty"`
	DateCreatedGMT   string       `json:"date_created_gmt,omitempty"`
	DateModifiedGMT  string       `json:"date_modified_gmt,omitempty"`
	DateCompletedGMT string       `json:"date_completed_gmt,omitempty"`
}

// orderState maps WooCommerce's order status to the neutral state.
func orderState(status string) domain.OrderState {
	switch status {
	case "completed":
		return domain.OrderCompleted
	case "cancelled", "refunded", "failed":
		return domain.OrderVoided
	case "trash":
		return domain.OrderDeleted
	case "checkout-draft":
		return domain.OrderArchived
	}
	return domain.OrderOpen // pending, processing, on-hold and custom statuses
}

func (c *Client) toLines(items []wcLineItem, cur string) ([]domain.OrderLine, error) {
	exp := connector.CurrencyExponent(cur)
	out := make([]domain.OrderLine, 0, len(items))
	for _, it := range items {
		qty := "0"
		if it.Quantity != nil {
			qty = it.Quantity.String()
		}
		sub, err := connector.ParseMinor(str(it.Subtotal), exp)
		if err != nil {
			return nil, fmt.Errorf("line %d subtotal: %w", it.ID, err)
		}
		tot, err := connector.ParseMinor(str(it.Total), exp)
		if err != nil {
			return nil, fmt.Errorf("line %d total: %w", it.ID, err)
		}
		unit := sub
		if q, err := strconv.ParseInt(qty, 10, 64); err == nil && q > 0 {
			unit = (sub + q/2) / q
		}
		l := domain.OrderLine{Name: it.Name, SKU: it.SKU, Quantity: qty,
			UnitPrice: domain.Money{Amount: unit, Currency: cur}, Total: domain.Money{Amount: tot, Currency: cur}}
		if it.ProductID != nil && *it.ProductID > 0 {
			l.ProductID = strconv.FormatInt(*it.ProductID, 10)
		}
		if it.VariationID != nil && *it.VariationID > 0 {
			l.VariantID = strconv.FormatInt(*it.VariationID, 10)
		}
		out = append(out, l)
	}
	return out, nil
}

func (c *Client) toOrder(o wcOrder) (domain.Order, error) {
	lines, err := c.toLines(o.LineItems, o.Currency)
	if err != nil {
		return domain.Order{}, fmt.Errorf("order %d: %w", o.ID, err)
	}
	total, err := connector.ParseMinor(o.Total, connector.CurrencyExponent(o.Currency))
	if err != nil {
		return domain.Order{}, fmt.Errorf("order %d total: %w", o.ID, err)
	}
	out := domain.Order{
		ID: strconv.FormatInt(o.ID, 10), Reference: metaString(o.MetaData, MetaReference),
		StoreID: StoreID, State: orderState(o.Status), Lines: lines,
		Total: domain.Money{Amount: total, Currency: o.Currency}, Note: str(o.CustomerNote),
		Version: o.DateModifiedGMT, URL: fmt.Sprintf("%s/wp-admin/post.php?post=%d&action=edit", c.store, o.ID),
		CreatedAt: parseWCTime(o.DateCreatedGMT), UpdatedAt: parseWCTime(o.DateModifiedGMT),
	}
	if o.CustomerID != nil && *o.CustomerID > 0 {
		out.CustomerID = strconv.FormatInt(*o.CustomerID, 10)
	}
	return out, nil
}

// fromLine builds a line item write; WooCommerce quantities are whole numbers.
func fromLine(l domain.OrderLine, cur string) (wcLineItem, error) {
	q, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(l.Quantity), ".0"), ".00"), 10, 64)
	if err != nil || q <= 0 {
		return wcLineItem{}, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("line %q: WooCommerce takes whole positive quantities, not %q", l.Name, l.Quantity)}
	}
	if l.UnitPrice.Currency != "" && !strings.EqualFold(l.UnitPrice.Currency, cur) {
		return wcLineItem{}, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("line %q is in %s, the order in %s", l.Name, l.UnitPrice.Currency, cur)}
	}
	exp := connector.CurrencyExponent(cur)
	total, err := domain.MulAmount(l.UnitPrice.Amount, q)
	if err != nil {
		return wcLineItem{}, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("line %q: %s x %d is out of range", l.Name, l.Quantity, l.UnitPrice.Amount), Err: err}
	}
	qn := json.Number(strconv.FormatInt(q, 10))
	it := wcLineItem{Name: l.Name, Quantity: &qn, Subtotal: ptr(connector.FormatMinor(total, exp)), Total: ptr(connector.FormatMinor(total, exp))}
	if id, err := strconv.ParseInt(l.ProductID, 10, 64); err == nil && id > 0 {
		it.ProductID = &id
	}
	if id, err := strconv.ParseInt(l.VariantID, 10, 64); err == nil && id > 0 {
		it.VariationID = &id
	}
	return it, nil
}

func (c *Client) orderBody(ctx context.Context, o domain.Order, key string) (wcOrder, error) {
	if o.StoreID != "" && o.StoreID != StoreID {
		return wcOrder{}, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("WooCommerce has one store %q, not %q", StoreID, o.StoreID)}
	}
	cur := ""
	for _, l := range o.Lines {
		if l.UnitPrice.Currency != "" {
			cur = strings.ToUpper(l.UnitPrice.Currency)
			break
		}
	}
	if cur == "" {
		info, err := c.loadInfo(ctx, false)
		if err != nil {
			return wcOrder{}, err
		}
		cur = info.Currency
	}
	w := wcOrder{Currency: cur, CustomerNote: ptr(o.Note),
		MetaData: []wcMeta{{Key: MetaReference, Value: o.Reference}, {Key: MetaIdempotencyKey, Value: key}}}
	if o.CustomerID != "" {
		id, err := intID("customer", o.CustomerID)
		if err != nil {
			return wcOrder{}, err
		}
		w.CustomerID = &id
	}
	for _, l := range o.Lines {
		it, err := fromLine(l, cur)
		if err != nil {
			return wcOrder{}, err
		}
		w.LineItems = append(w.LineItems, it)
	}
	return w, nil
}

// CreateOrder creates a pending order carrying the reference and key in meta_data. WooCommerce
// has no idempotency keys: an order already carrying this reference and key is returned instead
// of a second one, and a create that may have applied (timeout, 5xx) is looked up before retrying.
func (c *Client) CreateOrder(ctx context.Context, o domain.Order, key string) (domain.Order, error) {
	if o.Reference == "" {
		return domain.Order{}, &connector.Error{Kind: connector.KindInvalid, Message: "an order needs a reference"}
	}
	body, err := c.orderBody(ctx, o, key)
	if err != nil {
		return domain.Order{}, fmt.Errorf("create order %s: %w", o.Reference, err)
	}
	body.Status = "pending"
	if got, ok, err := c.findKeyed(ctx, o.Reference, key); err != nil {
		return domain.Order{}, fmt.Errorf("create order %s: look for an earlier attempt: %w", o.Reference, err)
	} else if ok {
		return got, nil
	}
	// A create is not repeated blindly after a 5xx or a timeout (it may have happened): the next
	// attempt looks for the order with the key first.
	retry := connector.Retry{Backoff: c.backoff(), Retries: c.opt.MaxRetries}
	var created domain.Order
	tried := false
	err = retry.Do(ctx, func() error {
		if tried {
			if got, ok, err := c.findKeyed(ctx, o.Reference, key); err == nil && ok {
				created = got
				return nil
			}
		}
		tried = true
		var got wcOrder
		if _, err := c.do(ctx, 0, http.MethodPost, "/orders", nil, body, &got); err != nil {
			if connector.KindOf(err) != connector.KindTemporary {
				return connector.Stop(err) // do waited out what rate limits it met
			}
			return err
		}
		var err error
		if created, err = c.toOrder(got); err != nil {
			return connector.Stop(err)
		}
		return nil
	})
	if err != nil {
		return domain.Order{}, fmt.Errorf("create order %s: %w", o.Reference, err)
	}
	return created, nil
}

// findKeyed finds an order with the reference whose last write carried key: the store's search,
// then the newest page of orders (where a just-created one is).
func (c *Client) findKeyed(ctx context.Context, ref, key string) (domain.Order, bool, error) {
	match := func(os []wcOrder) (domain.Order, bool, error) {
		for _, w := range os {
			if metaString(w.MetaData, MetaReference) == ref && metaString(w.MetaData, MetaIdempotencyKey) == key {
				o, err := c.toOrder(w)
				return o, err == nil, err
			}
		}
		return domain.Order{}, false, nil
	}
	found, err := c.searchOrders(ctx, ref)
	if err != nil {
		return domain.Order{}, false, err
	}
	if o, ok, err := match(found); ok || err != nil {
		return o, ok, err
	}
	newest, _, err := c.orderPage(ctx, 1)
	if err != nil {
		return domain.Order{}, false, err
	}
	return match(newest)
}

func (c *Client) searchOrders(ctx context.Context, ref string) ([]wcOrder, error) {
	var os []wcOrder
	q := url.Values{"search": {ref}, "per_page": {strconv.Itoa(MaxPerPage)}}
	if _, err := c.call(ctx, http.MethodGet, "/orders", q, nil, &os); err != nil {
		return nil, fmt.Errorf("search orders for %q: %w", ref, err)
	}
	return os, nil
}

// orderPage reads one page of orders, newest first.
func (c *Client) orderPage(ctx context.Context, page int) ([]wcOrder, bool, error) {
	var os []wcOrder
	q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(MaxPerPage)}, "orderby": {"date"}, "order": {"desc"}}
	resp, err := c.call(ctx, http.MethodGet, "/orders", q, nil, &os)
	if err != nil {
		return nil, false, fmt.Errorf("list orders page %d: %w", page, err)
	}
	return os, hasNext(resp.Header, page, len(os)), nil
}

// FindOrderByReference returns the newest order whose meta_data _posbridge_reference equals ref.
// It asks the store's order search first (core search covers meta only where the store adds the
// key to its searched fields, as the simulator does), then scans the newest OrderScanPages pages.
func (c *Client) FindOrderByReference(ctx context.Context, ref string) (domain.Order, error) {
	pick := func(os []wcOrder) (domain.Order, bool, error) {
		for _, w := range os { // newest first
			if metaString(w.MetaData, MetaReference) == ref {
				o, err := c.toOrder(w)
				return o, err == nil, err
			}
		}
		return domain.Order{}, false, nil
	}
	found, err := c.searchOrders(ctx, ref)
	if err != nil {
		return domain.Order{}, fmt.Errorf("find order %s: %w", ref, err)
	}
	if o, ok, err := pick(found); ok || err != nil {
		return o, err
	}
	for page := 1; page <= c.opt.OrderScanPages; page++ {
		os, more, err := c.orderPage(ctx, page)
		if err != nil {
			return domain.Order{}, fmt.Errorf("find order %s: %w", ref, err)
		}
		if o, ok, err := pick(os); ok || err != nil {
			return o, err
		}
		if !more {
			break
		}
	}
	return domain.Order{}, &connector.Error{Kind: connector.KindNotFound, Message: fmt.Sprintf("no order carries reference %q", ref)}
}

func (c *Client) getOrder(ctx context.Context, id string) (wcOrder, error) {
	n, err := intID("order", id)
	if err != nil {
		return wcOrder{}, err
	}
	var w wcOrder
	if _, err := c.call(ctx, http.MethodGet, fmt.Sprintf("/orders/%d", n), nil, nil, &w); err != nil {
		return wcOrder{}, err
	}
	return w, nil
}

// GetOrder reads an order's state.
func (c *Client) GetOrder(ctx context.Context, id string) (domain.Order, error) {
	w, err := c.getOrder(ctx, id)
	if err != nil {
		return domain.Order{}, fmt.Errorf("get order %s: %w", id, err)
	}
	return c.toOrder(w)
}

// UpdateOrder makes the order's lines, customer and note those of o. Existing line items are
// updated in place by position, new ones added, and surplus ones removed (WooCommerce removes a
// line item that is sent with its id and quantity 0). Rewriting the same state is harmless.
func (c *Client) UpdateOrder(ctx context.Context, o domain.Order, key string) (domain.Order, error) {
	cur, err := c.getOrder(ctx, o.ID)
	if err != nil {
		return domain.Order{}, fmt.Errorf("update order %s: %w", o.ID, err)
	}
	body, err := c.orderBody(ctx, o, key)
	if err != nil {
		return domain.Order{}, fmt.Errorf("update order %s: %w", o.ID, err)
	}
	if body.Currency != cur.Currency && cur.Currency != "" {
		return domain.Order{}, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("update order %s: the order is in %s, the lines in %s", o.ID, cur.Currency, body.Currency)}
	}
	if o.Reference == "" {
		body.MetaData = body.MetaData[1:] // keep the reference the order has
	}
	for i := range body.LineItems {
		if i < len(cur.LineItems) {
			body.LineItems[i].ID = cur.LineItems[i].ID
		}
	}
	zero := json.Number("0")
	for i := len(body.LineItems); i < len(cur.LineItems); i++ {
		body.LineItems = append(body.LineItems, wcLineItem{ID: cur.LineItems[i].ID, Quantity: &zero})
	}
	var got wcOrder
	if _, err := c.call(ctx, http.MethodPut, fmt.Sprintf("/orders/%d", cur.ID), nil, body, &got); err != nil {
		return domain.Order{}, fmt.Errorf("update order %s: %w", o.ID, err)
	}
	return c.toOrder(got)
}

// CancelOrder takes an order back: void sets status cancelled, archive moves it to the trash
// (DELETE), delete removes it for good (DELETE ?force=true). Repeating it is harmless.
func (c *Client) CancelOrder(ctx context.Context, id string, mode domain.CancelMode) error {
	n, err := intID("order", id)
	if err != nil {
		return err
	}
	path := fmt.Sprintf("/orders/%d", n)
	switch mode {
	case domain.CancelVoid, "":
		_, err = c.call(ctx, http.MethodPut, path, nil, map[string]string{"status": "cancelled"}, nil)
	case domain.CancelArchive:
		_, err = c.call(ctx, http.MethodDelete, path, url.Values{"force": {"false"}}, nil, nil)
	case domain.CancelDelete:
		_, err = c.call(ctx, http.MethodDelete, path, url.Values{"force": {"true"}}, nil, nil)
		if connector.KindOf(err) == connector.KindNotFound {
			err = nil // already gone
		}
	default:
		return &connector.Error{Kind: connector.KindUnsupported, Message: fmt.Sprintf("cancel mode %q is not one WooCommerce has", mode)}
	}
	if err != nil {
		return fmt.Errorf("cancel order %s (%s): %w", id, mode, err)
	}
	return nil
}

// SalesSince reads completed orders (status=completed) changed since the cursor, through
// modified_after; the Resume of the last page is the next mark.
func (c *Client) SalesSince(ctx context.Context, cur string) (connector.Page[domain.Sale], error) {
	l, err := c.list(ctx, "/orders", url.Values{"status": {"completed"}}, cur, true)
	if err != nil {
		return connector.Page[domain.Sale]{}, fmt.Errorf("sales since: %w", err)
	}
	page := connector.Page[domain.Sale]{Next: l.Next, Resume: l.Resume}
	for _, raw := range l.Items {
		var w wcOrder
		if err := json.Unmarshal(raw, &w); err != nil {
			return connector.Page[domain.Sale]{}, fmt.Errorf("sales since: decode order: %w", err)
		}
		o, err := c.toOrder(w)
		if err != nil {
			return connector.Page[domain.Sale]{}, fmt.Errorf("sales since: %w", err)
		}
		completed := parseWCTime(w.DateCompletedGMT)
		if completed.IsZero() {
			completed = o.UpdatedAt
		}
		page.Items = append(page.Items, domain.Sale{ID: o.ID, Number: w.Number, StoreID: StoreID, Status: w.Status,
			CustomerID: o.CustomerID, Lines: o.Lines, Total: o.Total, CompletedAt: completed, UpdatedAt: o.UpdatedAt})
	}
	return page, nil
}
