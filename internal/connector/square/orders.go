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

const (
	// orderSourceName marks orders posbridge creates (order.source.name).
	orderSourceName = "posbridge"
	// MetadataReference is the order metadata key that carries the posbridge reference beside
	// reference_id, so the order's owner can be checked even when reference_id is edited.
	MetadataReference = "posbridge_reference"
	// maxOrderKey and maxReference are Square's limits on idempotency_key and reference_id.
	maxOrderKey  = 192
	maxReference = 40
	// salesPrefix starts a sales cursor: "O|<since>|<square cursor>|<mark>" or "O|<mark>".
	salesPrefix    = "O|"
	ordersPageSize = 500
)

// CreateOrder creates an OPEN order at the order's store (or the default location) with
// reference_id = o.Reference and the caller's idempotency key, so a retry of the same logical
// write returns the order Square already made.
func (c *Client) CreateOrder(ctx context.Context, o domain.Order, key string) (domain.Order, error) {
	if len(o.Reference) > maxReference {
		return domain.Order{}, &connector.Error{Kind: connector.KindInvalid, Code: "VALUE_TOO_LONG",
			Message: fmt.Sprintf("reference %q is longer than Square's %d characters for reference_id", o.Reference, maxReference)}
	}
	l, err := c.locationFor(ctx, o.StoreID)
	if err != nil {
		return domain.Order{}, err
	}
	loc, cur := l.ID, l.Currency
	lines, err := lineItems(o.Lines, cur, nil)
	if err != nil {
		return domain.Order{}, err
	}
	req := createOrderRequest{IdempotencyKey: fitKey(key, maxOrderKey), Order: order{
		LocationID: loc, ReferenceID: o.Reference, CustomerID: o.CustomerID,
		Source: &orderSource{Name: orderSourceName}, LineItems: lines, TicketName: ticketName(o.Note),
		Metadata: referenceMetadata(o.Reference),
	}}
	var resp orderResponse
	if err := c.call(ctx, "create order "+o.Reference, http.MethodPost, "/v2/orders", nil, req, &resp); err != nil {
		return domain.Order{}, err
	}
	if resp.Order == nil {
		return domain.Order{}, &connector.Error{Kind: connector.KindTemporary, Message: "create order: Square answered without the order"}
	}
	return toOrder(*resp.Order), nil
}

// referenceMetadata is the order metadata naming the posbridge reference (nil for none).
func referenceMetadata(ref string) map[string]string {
	if ref == "" {
		return nil
	}
	return map[string]string{MetadataReference: ref}
}

// referenceOf is the posbridge reference an order carries: reference_id, else the metadata entry.
func referenceOf(o order) string {
	if o.ReferenceID != "" {
		return o.ReferenceID
	}
	return o.Metadata[MetadataReference]
}

// ticketName keeps a note within Square's 30 characters of ticket_name.
func ticketName(note string) string {
	r := []rune(strings.TrimSpace(note))
	if len(r) > 30 {
		r = r[:30]
	}
	return string(r)
}

// lineItems maps neutral lines to Square line items, reusing the uids of current line items in
// order so an update replaces them in place.
func lineItems(lines []domain.OrderLine, currency string, uids []string) ([]orderLineItem, error) {
	out := make([]orderLineItem, 0, len(lines))
	for i, l := range lines {
		q, err := normalizeQuantity(l.Quantity)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		cur := l.UnitPrice.Currency
		if cur == "" {
			cur = currency
		}
		li := orderLineItem{Name: l.Name, Quantity: q, CatalogObjectID: l.VariantID}
		// A catalog line without a price takes the variation's price; an ad hoc line needs one.
		if l.VariantID == "" || l.UnitPrice.Amount != 0 {
			li.BasePriceMoney = &money{Amount: l.UnitPrice.Amount, Currency: cur}
		}
		if i < len(uids) {
			li.UID = uids[i]
		}
		out = append(out, li)
	}
	return out, nil
}

// UpdateOrder replaces the order's lines, customer and reference with o's (PUT /v2/orders/{id}
// with the order's version: o.Version when given, else the current one). Lines beyond the new
// ones are removed with fields_to_clear.
func (c *Client) UpdateOrder(ctx context.Context, o domain.Order, key string) (domain.Order, error) {
	if o.ID == "" {
		return domain.Order{}, &connector.Error{Kind: connector.KindInvalid, Message: "the order to update has no id"}
	}
	cur, err := c.retrieveOrder(ctx, o.ID)
	if err != nil {
		return domain.Order{}, err
	}
	version := cur.Version
	if o.Version != "" {
		if version, err = strconv.ParseInt(o.Version, 10, 64); err != nil {
			return domain.Order{}, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("order version %q is not a Square order version", o.Version)}
		}
	}
	var uids []string
	for _, li := range cur.LineItems {
		uids = append(uids, li.UID)
	}
	currency := ""
	if cur.TotalMoney != nil {
		currency = cur.TotalMoney.Currency
	}
	lines, err := lineItems(o.Lines, currency, uids)
	if err != nil {
		return domain.Order{}, err
	}
	ref := o.Reference
	if ref == "" {
		ref = referenceOf(cur)
	}
	req := updateOrderRequest{IdempotencyKey: fitKey(key, maxOrderKey), Order: order{
		LocationID: cur.LocationID, Version: version, ReferenceID: ref, CustomerID: o.CustomerID, LineItems: lines,
		TicketName: ticketName(o.Note), Metadata: referenceMetadata(ref),
	}}
	for _, uid := range uids[min(len(uids), len(lines)):] {
		req.FieldsToClear = append(req.FieldsToClear, "line_items["+uid+"]")
	}
	if req.Order.TicketName == "" && cur.TicketName != "" {
		req.FieldsToClear = append(req.FieldsToClear, "ticket_name")
	}
	return c.updateOrder(ctx, "update order "+o.ID, o.ID, req)
}

func (c *Client) updateOrder(ctx context.Context, op, id string, req updateOrderRequest) (domain.Order, error) {
	var resp orderResponse
	if err := c.call(ctx, op, http.MethodPut, "/v2/orders/"+url.PathEscape(id), nil, req, &resp); err != nil {
		return domain.Order{}, err
	}
	if resp.Order == nil {
		return domain.Order{}, &connector.Error{Kind: connector.KindTemporary, Message: op + ": Square answered without the order"}
	}
	return toOrder(*resp.Order), nil
}

// CancelOrder sets an OPEN order's state to CANCELED (Square's void). Square orders cannot be
// archived or deleted: archive also cancels; delete is refused as unsupported. Cancelling an
// order that is already CANCELED succeeds.
func (c *Client) CancelOrder(ctx context.Context, id string, mode domain.CancelMode) error {
	if mode == domain.CancelDelete {
		return &connector.Error{Kind: connector.KindUnsupported, Message: "Square orders cannot be deleted; cancel (void) them instead"}
	}
	cur, err := c.retrieveOrder(ctx, id)
	if err != nil {
		return err
	}
	if cur.State == "CANCELED" {
		return nil
	}
	req := updateOrderRequest{
		IdempotencyKey: fitKey(fmt.Sprintf("cancel-%s-%d", id, cur.Version), maxOrderKey),
		Order:          order{LocationID: cur.LocationID, Version: cur.Version, State: "CANCELED"},
	}
	_, err = c.updateOrder(ctx, "cancel order "+id, id, req)
	return err
}

// GetOrder reads one order.
func (c *Client) GetOrder(ctx context.Context, id string) (domain.Order, error) {
	o, err := c.retrieveOrder(ctx, id)
	if err != nil {
		return domain.Order{}, err
	}
	return toOrder(o), nil
}

func (c *Client) retrieveOrder(ctx context.Context, id string) (order, error) {
	if id == "" || strings.ContainsAny(id, "/?#") {
		return order{}, errNotFound("order", id)
	}
	var resp orderResponse
	if err := c.call(ctx, "retrieve order "+id, http.MethodGet, "/v2/orders/"+url.PathEscape(id), nil, nil, &resp); err != nil {
		return order{}, err
	}
	if resp.Order == nil {
		return order{}, errNotFound("order", id)
	}
	return *resp.Order, nil
}

// FindOrderByReference searches the locations' orders, newest first, for ref in reference_id
// or in the posbridge_reference metadata entry.
// Square's order search has no reference filter, so the pages are scanned.
func (c *Client) FindOrderByReference(ctx context.Context, ref string) (domain.Order, error) {
	if ref == "" {
		return domain.Order{}, &connector.Error{Kind: connector.KindInvalid, Message: "an empty reference matches no order"}
	}
	locs, err := c.searchLocationIDs(ctx)
	if err != nil {
		return domain.Order{}, err
	}
	req := searchOrdersRequest{LocationIDs: locs, Limit: ordersPageSize, Query: &searchOrdersQuery{
		Sort: &searchOrdersSort{SortField: "CREATED_AT", SortOrder: "DESC"},
	}}
	for page := 1; ; page++ {
		var resp searchOrdersResponse
		if err := c.call(ctx, fmt.Sprintf("search orders page %d", page), http.MethodPost, "/v2/orders/search", nil, req, &resp); err != nil {
			return domain.Order{}, err
		}
		for _, o := range resp.Orders {
			if o.ReferenceID == ref || o.Metadata[MetadataReference] == ref {
				return toOrder(o), nil
			}
		}
		if resp.Cursor == "" {
			return domain.Order{}, errNotFound("order with reference", ref)
		}
		req.Cursor = resp.Cursor
	}
}

// SalesSince lists COMPLETED orders closed at or after the cursor's mark, oldest first. The
// Page.Resume of the last page is the latest closed_at seen; re-reading the boundary sale is
// harmless because sales are keyed by id.
func (c *Client) SalesSince(ctx context.Context, cursor string) (connector.Page[domain.Sale], error) {
	var since, sqCursor, mark string
	switch {
	case cursor == "":
	case strings.HasPrefix(cursor, salesPrefix):
		parts := strings.Split(cursor[len(salesPrefix):], "|")
		switch len(parts) {
		case 1:
			since = parts[0]
		case 3:
			since, sqCursor, mark = parts[0], parts[1], parts[2]
		default:
			return connector.Page[domain.Sale]{}, badCursor(cursor)
		}
	default:
		return connector.Page[domain.Sale]{}, badCursor(cursor)
	}
	locs, err := c.searchLocationIDs(ctx)
	if err != nil {
		return connector.Page[domain.Sale]{}, err
	}
	filter := &searchOrdersFilter{StateFilter: &stateFilter{States: []string{"COMPLETED"}}}
	if since != "" {
		filter.DateTimeFilter = &dateTimeFilter{ClosedAt: &timeRange{StartAt: since}}
	}
	req := searchOrdersRequest{LocationIDs: locs, Cursor: sqCursor, Limit: ordersPageSize, Query: &searchOrdersQuery{
		Filter: filter, Sort: &searchOrdersSort{SortField: "CLOSED_AT", SortOrder: "ASC"},
	}}
	var resp searchOrdersResponse
	if err := c.call(ctx, "search completed orders", http.MethodPost, "/v2/orders/search", nil, req, &resp); err != nil {
		return connector.Page[domain.Sale]{}, err
	}
	if mark == "" {
		mark = since
	}
	page := connector.Page[domain.Sale]{}
	for _, o := range resp.Orders {
		page.Items = append(page.Items, toSale(o))
		mark = maxTime(mark, o.ClosedAt)
	}
	if resp.Cursor != "" {
		page.Next = salesPrefix + since + "|" + resp.Cursor + "|" + mark
		return page, nil
	}
	if mark != "" {
		page.Resume = salesPrefix + mark
	}
	return page, nil
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func toMoney(m *money) domain.Money {
	if m == nil {
		return domain.Money{}
	}
	return domain.Money{Amount: m.Amount, Currency: m.Currency}
}

func toLines(items []orderLineItem) []domain.OrderLine {
	out := make([]domain.OrderLine, 0, len(items))
	for _, li := range items {
		out = append(out, domain.OrderLine{
			VariantID: li.CatalogObjectID, Name: li.Name, Quantity: li.Quantity,
			UnitPrice: toMoney(li.BasePriceMoney), Total: toMoney(li.TotalMoney),
		})
	}
	return out
}

// orderState maps Square's order state to the neutral one.
func orderState(s string) domain.OrderState {
	switch s {
	case "COMPLETED":
		return domain.OrderCompleted
	case "CANCELED":
		return domain.OrderVoided
	default: // OPEN, DRAFT
		return domain.OrderOpen
	}
}

func toOrder(o order) domain.Order {
	out := domain.Order{
		ID: o.ID, Reference: referenceOf(o), StoreID: o.LocationID, State: orderState(o.State),
		CustomerID: o.CustomerID, Lines: toLines(o.LineItems), Total: toMoney(o.TotalMoney), Note: o.TicketName,
		CreatedAt: parseTime(o.CreatedAt), UpdatedAt: parseTime(o.UpdatedAt),
	}
	if o.Version != 0 {
		out.Version = strconv.FormatInt(o.Version, 10)
	}
	return out
}

func toSale(o order) domain.Sale {
	return domain.Sale{
		ID: o.ID, Number: o.ReferenceID, StoreID: o.LocationID, Status: o.State, CustomerID: o.CustomerID,
		Lines: toLines(o.LineItems), Total: toMoney(o.TotalMoney),
		CompletedAt: parseTime(o.ClosedAt), UpdatedAt: parseTime(o.UpdatedAt),
	}
}
