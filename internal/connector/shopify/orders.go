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

// Note attribute names that carry posbridge's marks on an order. The reference is also written
// to source_identifier, the order field Shopify documents for "the ID of the order placed on the
// originating platform".
const (
	attrReference = "posbridge_reference"
	attrKey       = "posbridge_idempotency_key"
)

type nameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type lineItemJSON struct {
	ID        int64  `json:"id,omitempty"`
	VariantID *int64 `json:"variant_id,omitempty"`
	ProductID *int64 `json:"product_id,omitempty"`
	Title     string `json:"title"`
	Quantity  int    `json:"quantity"`
	// CurrentQuantity is the quantity after order edits; removed lines stay with 0.
	CurrentQuantity *int   `json:"current_quantity,omitempty"`
	Price           string `json:"price"`
	SKU             string `json:"sku,omitempty"`
}

// orderJSON is the REST Order resource (the fields posbridge uses).
type orderJSON struct {
	ID                int64          `json:"id,omitempty"`
	Name              string         `json:"name,omitempty"`
	Currency          string         `json:"currency,omitempty"`
	TotalPrice        string         `json:"total_price,omitempty"`
	FinancialStatus   string         `json:"financial_status,omitempty"`
	FulfillmentStatus *string        `json:"fulfillment_status,omitempty"`
	CancelledAt       *string        `json:"cancelled_at,omitempty"`
	ClosedAt          *string        `json:"closed_at,omitempty"`
	ProcessedAt       string         `json:"processed_at,omitempty"`
	CreatedAt         string         `json:"created_at,omitempty"`
	UpdatedAt         string         `json:"updated_at,omitempty"`
	Note              string         `json:"note,omitempty"`
	NoteAttributes    []nameValue    `json:"note_attributes,omitempty"`
	Tags              string         `json:"tags,omitempty"`
	SourceIdentifier  string         `json:"source_identifier,omitempty"`
	SourceName        string         `json:"source_name,omitempty"`
	LocationID        *int64         `json:"location_id,omitempty"`
	Customer          *customerJSON  `json:"customer,omitempty"`
	LineItems         []lineItemJSON `json:"line_items,omitempty"`
}

func (o orderJSON) attr(name string) string {
	for _, a := range o.NoteAttributes {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

func (o orderJSON) reference() string {
	if r := o.attr(attrReference); r != "" {
		return r
	}
	return o.SourceIdentifier
}

func orderState(o orderJSON) domain.OrderState {
	switch {
	case o.CancelledAt != nil && *o.CancelledAt != "":
		return domain.OrderVoided
	case o.FinancialStatus == "paid" || o.FinancialStatus == "partially_refunded" || o.FinancialStatus == "refunded":
		return domain.OrderCompleted
	case o.ClosedAt != nil && *o.ClosedAt != "":
		return domain.OrderArchived
	}
	return domain.OrderOpen
}

func (c *Client) toLines(items []lineItemJSON, currency string) ([]domain.OrderLine, error) {
	var lines []domain.OrderLine
	for _, li := range items {
		qty := li.Quantity
		if li.CurrentQuantity != nil {
			qty = *li.CurrentQuantity
		}
		if qty == 0 {
			continue
		}
		unit, err := parseMoney(li.Price, currency)
		if err != nil {
			return nil, fmt.Errorf("line item %d price: %w", li.ID, err)
		}
		total, err := domain.MulAmount(unit, int64(qty))
		if err != nil {
			return nil, fmt.Errorf("line item %d: %d x %d: %w", li.ID, qty, unit, err)
		}
		l := domain.OrderLine{SKU: li.SKU, Name: li.Title, Quantity: strconv.Itoa(qty),
			UnitPrice: domain.Money{Amount: unit, Currency: currency},
			Total:     domain.Money{Amount: total, Currency: currency}}
		if li.ProductID != nil {
			l.ProductID = strconv.FormatInt(*li.ProductID, 10)
		}
		if li.VariantID != nil {
			l.VariantID = strconv.FormatInt(*li.VariantID, 10)
		}
		lines = append(lines, l)
	}
	return lines, nil
}

func (c *Client) toOrder(o orderJSON) (domain.Order, error) {
	cur := o.Currency
	lines, err := c.toLines(o.LineItems, cur)
	if err != nil {
		return domain.Order{}, fmt.Errorf("order %d: %w", o.ID, err)
	}
	total, err := parseMoney(o.TotalPrice, cur)
	if err != nil {
		return domain.Order{}, fmt.Errorf("order %d total: %w", o.ID, err)
	}
	out := domain.Order{
		ID: strconv.FormatInt(o.ID, 10), Reference: o.reference(), State: orderState(o), Lines: lines,
		Total: domain.Money{Amount: total, Currency: cur}, Note: o.Note, Version: o.UpdatedAt,
		URL:       fmt.Sprintf("%s/admin/orders/%d", c.base, o.ID),
		CreatedAt: parseTime(o.CreatedAt), UpdatedAt: parseTime(o.UpdatedAt),
	}
	if o.LocationID != nil {
		out.StoreID = strconv.FormatInt(*o.LocationID, 10)
	}
	if o.Customer != nil && o.Customer.ID != 0 {
		out.CustomerID = strconv.FormatInt(o.Customer.ID, 10)
	}
	return out, nil
}

// orderCurrency is the currency of an order's lines, the shop currency when they name none.
func (c *Client) orderCurrency(ctx context.Context, o domain.Order) (string, error) {
	for _, l := range o.Lines {
		if l.UnitPrice.Currency != "" {
			return strings.ToUpper(l.UnitPrice.Currency), nil
		}
	}
	return c.shopCurrency(ctx)
}

func lineBody(l domain.OrderLine, currency string) (lineItemJSON, error) {
	qty, err := parseQuantity(l.Quantity)
	if err != nil {
		return lineItemJSON{}, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("line %q: %v", l.Name, err)}
	}
	if qty <= 0 {
		return lineItemJSON{}, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("line %q: quantity must be at least 1", l.Name)}
	}
	li := lineItemJSON{Title: l.Name, Quantity: qty, Price: formatMoney(l.UnitPrice.Amount, currency), SKU: l.SKU}
	if l.VariantID != "" {
		v, err := parseID("variant", l.VariantID)
		if err != nil {
			return lineItemJSON{}, err
		}
		li.VariantID = &v
	}
	return li, nil
}

// CreateOrder creates an order (POST orders.json) carrying the reference in source_identifier
// and a note attribute, and key in another note attribute. Shopify's REST API has no idempotency
// key, so a create that may have reached Shopify (5xx, timeout) is checked with
// FindOrderByReference before it is sent again.
func (c *Client) CreateOrder(ctx context.Context, o domain.Order, key string) (domain.Order, error) {
	if strings.TrimSpace(o.Reference) == "" {
		return domain.Order{}, &connector.Error{Kind: connector.KindInvalid, Message: "an order needs a reference"}
	}
	if len(o.Lines) == 0 {
		return domain.Order{}, &connector.Error{Kind: connector.KindInvalid, Message: "an order needs at least one line"}
	}
	currency, err := c.orderCurrency(ctx, o)
	if err != nil {
		return domain.Order{}, err
	}
	body := orderJSON{
		Currency: currency, Note: o.Note, Tags: "posbridge", SourceIdentifier: o.Reference,
		FinancialStatus: "pending",
		NoteAttributes:  []nameValue{{Name: attrReference, Value: o.Reference}},
	}
	if key != "" {
		body.NoteAttributes = append(body.NoteAttributes, nameValue{Name: attrKey, Value: key})
	}
	for _, l := range o.Lines {
		li, err := lineBody(l, currency)
		if err != nil {
			return domain.Order{}, fmt.Errorf("create order %s: %w", o.Reference, err)
		}
		body.LineItems = append(body.LineItems, li)
	}
	if o.StoreID != "" {
		loc, err := parseID("location", o.StoreID)
		if err != nil {
			return domain.Order{}, err
		}
		body.LocationID = &loc
	}
	if o.CustomerID != "" {
		cid, err := parseID("customer", o.CustomerID)
		if err != nil {
			return domain.Order{}, err
		}
		body.Customer = &customerJSON{ID: cid}
	}
	req := map[string]any{"order": body, "send_receipt": false, "send_fulfillment_receipt": false}
	op := "create order " + o.Reference
	// A create is not repeated blindly after a 5xx or a timeout (it may have happened): the
	// next attempt looks for the order by its reference first.
	retry := connector.Retry{Backoff: c.backoff(), Retries: c.opts.MaxRetries}
	var created domain.Order
	var createErr error
	err = retry.Do(ctx, func() error {
		if createErr != nil {
			found, ferr := c.findOrder(ctx, o.Reference, key)
			if ferr == nil {
				created = found
				return nil
			}
			if !isKind(ferr, connector.KindNotFound) {
				return connector.Stop(createErr)
			}
		}
		var out struct {
			Order orderJSON `json:"order"`
		}
		if _, err := c.do(ctx, call{op: op, method: http.MethodPost, path: "orders.json", body: req, unsafe: true}, &out); err != nil {
			createErr = err
			if connector.KindOf(err) != connector.KindTemporary {
				return connector.Stop(err) // do waited out what rate limits it met
			}
			return err
		}
		var err error
		if created, err = c.toOrder(out.Order); err != nil {
			return connector.Stop(err)
		}
		return nil
	})
	if err != nil {
		return domain.Order{}, err
	}
	return created, nil
}

func (c *Client) getOrderJSON(ctx context.Context, id int64) (orderJSON, error) {
	var out struct {
		Order orderJSON `json:"order"`
	}
	_, err := c.do(ctx, call{op: fmt.Sprintf("get order %d", id), method: http.MethodGet, path: fmt.Sprintf("orders/%d.json", id)}, &out)
	return out.Order, err
}

// GetOrder reads one order (GET orders/{id}.json).
func (c *Client) GetOrder(ctx context.Context, id string) (domain.Order, error) {
	n, err := parseID("order", id)
	if err != nil {
		return domain.Order{}, err
	}
	o, err := c.getOrderJSON(ctx, n)
	if err != nil {
		return domain.Order{}, err
	}
	return c.toOrder(o)
}

// FindOrderByReference finds the order carrying ref. The REST order list has no filter on
// source_identifier or note attributes, so it lists the orders this app created
// (status=any&attribution_app_id=current, both documented filters) and matches them here; the
// newest match that is not cancelled wins.
func (c *Client) FindOrderByReference(ctx context.Context, ref string) (domain.Order, error) {
	return c.findOrder(ctx, ref, "")
}

func (c *Client) findOrder(ctx context.Context, ref, key string) (domain.Order, error) {
	filters := url.Values{"status": {"any"}, "attribution_app_id": {"current"},
		"fields": {"id,source_identifier,note_attributes,cancelled_at"}}
	var best *orderJSON
	cur := ""
	for n := 1; ; n++ {
		raw, next, _, err := c.listPage(ctx, fmt.Sprintf("find order %s, page %d", ref, n), "orders.json", "orders", filters, 250, cur)
		if err != nil {
			return domain.Order{}, err
		}
		for _, r := range raw {
			var o orderJSON
			if err := json.Unmarshal(r, &o); err != nil {
				return domain.Order{}, fmt.Errorf("find order %s: decode: %w", ref, err)
			}
			if o.reference() != ref || (key != "" && o.attr(attrKey) != key) {
				continue
			}
			if best == nil || better(o, *best) {
				oo := o
				best = &oo
			}
		}
		if next == "" {
			break
		}
		cur = next
	}
	if best == nil {
		return domain.Order{}, &connector.Error{Kind: connector.KindNotFound, Message: fmt.Sprintf("no order carries the reference %q", ref)}
	}
	return c.GetOrder(ctx, strconv.FormatInt(best.ID, 10))
}

func better(a, b orderJSON) bool {
	ac, bc := a.CancelledAt != nil && *a.CancelledAt != "", b.CancelledAt != nil && *b.CancelledAt != ""
	if ac != bc {
		return !ac
	}
	return a.ID > b.ID
}

// UpdateOrder brings an order in line with o. The note and attributes go through
// PUT orders/{id}.json; Shopify's REST API cannot change line items, so added, removed or
// re-counted lines go through the GraphQL order-editing mutations (orderEditBegin, ...Commit).
// Both steps compare with the order as it is, so repeating an update changes nothing.
func (c *Client) UpdateOrder(ctx context.Context, o domain.Order, key string) (domain.Order, error) {
	id, err := parseID("order", o.ID)
	if err != nil {
		return domain.Order{}, err
	}
	cur, err := c.getOrderJSON(ctx, id)
	if err != nil {
		return domain.Order{}, fmt.Errorf("update order %d: %w", id, err)
	}
	if cur.CancelledAt != nil && *cur.CancelledAt != "" {
		return domain.Order{}, &connector.Error{Kind: connector.KindConflict, Message: fmt.Sprintf("order %s is cancelled and cannot be changed", cur.Name)}
	}
	attrs := []nameValue{}
	for _, a := range cur.NoteAttributes {
		if a.Name != attrKey && a.Name != attrReference {
			attrs = append(attrs, a)
		}
	}
	ref := o.Reference
	if ref == "" {
		ref = cur.reference()
	}
	attrs = append(attrs, nameValue{Name: attrReference, Value: ref})
	if key != "" {
		attrs = append(attrs, nameValue{Name: attrKey, Value: key})
	}
	put := map[string]any{"order": map[string]any{"id": id, "note": o.Note, "note_attributes": attrs}}
	if _, err := c.do(ctx, call{op: fmt.Sprintf("update order %d", id), method: http.MethodPut,
		path: fmt.Sprintf("orders/%d.json", id), body: put}, nil); err != nil {
		return domain.Order{}, err
	}
	currency := cur.Currency
	if err := c.editLines(ctx, id, o.Lines, currency); err != nil {
		return domain.Order{}, fmt.Errorf("update order %d lines: %w", id, err)
	}
	return c.GetOrder(ctx, strconv.FormatInt(id, 10))
}

// CancelOrder takes an order back: void cancels it (POST orders/{id}/cancel.json), archive
// closes it (POST orders/{id}/close.json), delete cancels and then deletes it
// (DELETE orders/{id}.json). Cancelling a cancelled order is not an error.
func (c *Client) CancelOrder(ctx context.Context, id string, mode domain.CancelMode) error {
	n, err := parseID("order", id)
	if err != nil {
		return err
	}
	cur, err := c.getOrderJSON(ctx, n)
	if err != nil {
		return fmt.Errorf("cancel order %d: %w", n, err)
	}
	cancelled := cur.CancelledAt != nil && *cur.CancelledAt != ""
	switch mode {
	case domain.CancelArchive:
		if cur.ClosedAt != nil && *cur.ClosedAt != "" {
			return nil
		}
		_, err := c.do(ctx, call{op: fmt.Sprintf("close order %d", n), method: http.MethodPost, path: fmt.Sprintf("orders/%d/close.json", n), body: map[string]any{}}, nil)
		return err
	case domain.CancelVoid, domain.CancelDelete, "":
		if !cancelled {
			body := map[string]any{"reason": "other", "email": false}
			if _, err := c.do(ctx, call{op: fmt.Sprintf("cancel order %d", n), method: http.MethodPost, path: fmt.Sprintf("orders/%d/cancel.json", n), body: body}, nil); err != nil {
				return err
			}
		}
		if mode == domain.CancelDelete {
			_, err := c.do(ctx, call{op: fmt.Sprintf("delete order %d", n), method: http.MethodDelete, path: fmt.Sprintf("orders/%d.json", n)}, nil)
			if isKind(err, connector.KindNotFound) {
				return nil
			}
			return err
		}
		return nil
	default:
		return &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("cancel mode %q is not void, archive or delete", mode)}
	}
}

// SalesSince reads paid orders changed since the cursor (GET orders.json with status=any,
// financial_status=paid and updated_at_min from a Resume cursor): Shopify POS and online sales
// are both orders.
func (c *Client) SalesSince(ctx context.Context, cur string) (connector.Page[domain.Sale], error) {
	filters := url.Values{"status": {"any"}, "financial_status": {"paid"}}
	raw, next, resume, err := c.listPage(ctx, "list sales", "orders.json", "orders", filters, c.opts.PageSize, cur)
	if err != nil {
		return connector.Page[domain.Sale]{}, err
	}
	page := connector.Page[domain.Sale]{Next: next, Resume: resume}
	for _, r := range raw {
		var o orderJSON
		if err := json.Unmarshal(r, &o); err != nil {
			return connector.Page[domain.Sale]{}, fmt.Errorf("list sales: decode: %w", err)
		}
		ord, err := c.toOrder(o)
		if err != nil {
			return connector.Page[domain.Sale]{}, fmt.Errorf("list sales: %w", err)
		}
		completed := parseTime(o.ProcessedAt)
		if completed.IsZero() {
			completed = ord.CreatedAt
		}
		page.Items = append(page.Items, domain.Sale{
			ID: ord.ID, Number: o.Name, StoreID: ord.StoreID, Status: o.FinancialStatus, CustomerID: ord.CustomerID,
			Lines: ord.Lines, Total: ord.Total, CompletedAt: completed, UpdatedAt: ord.UpdatedAt,
		})
	}
	return page, nil
}
