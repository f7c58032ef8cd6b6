package lightspeed

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// apiSale is a sale as API 2.0 returns it (GET /api/2.0/sales[/{id}], search).
type apiSale struct {
	ID            string        `json:"id"`
	OutletID      string        `json:"outlet_id"`
	RegisterID    string        `json:"register_id"`
	UserID        string        `json:"user_id"`
	CustomerID    *string       `json:"customer_id"`
	InvoiceNumber string        `json:"invoice_number"`
	Status        string        `json:"status"`
	State         string        `json:"state"`
	Note          string        `json:"note"`
	SaleDate      string        `json:"sale_date"`
	CreatedAt     string        `json:"created_at"`
	UpdatedAt     string        `json:"updated_at"`
	TotalPrice    json.Number   `json:"total_price"`
	TotalTax      json.Number   `json:"total_tax"`
	LineItems     []apiSaleLine `json:"line_items"`
	Version       int64         `json:"version"`
	DeletedAt     *string       `json:"deleted_at"`
}

type apiSaleLine struct {
	ID         string      `json:"id"`
	ProductID  string      `json:"product_id"`
	Quantity   json.Number `json:"quantity"`
	Price      json.Number `json:"price"`
	UnitPrice  json.Number `json:"unit_price"`
	TotalPrice json.Number `json:"total_price"`
	Tax        json.Number `json:"tax"`
	TotalTax   json.Number `json:"total_tax"`
	// Note is the line note (the 0.9 line_note attribute); the 2.0 field name is unsure.
	Note string `json:"note"`
}

// apiRegisterSale is the 0.9 register_sale object POST /api/register_sales answers with.
type apiRegisterSale struct {
	ID                   string               `json:"id"`
	RegisterID           string               `json:"register_id"`
	CustomerID           *string              `json:"customer_id"`
	InvoiceNumber        string               `json:"invoice_number"`
	Status               string               `json:"status"`
	Note                 string               `json:"note"`
	SaleDate             string               `json:"sale_date"`
	CreatedAt            string               `json:"created_at"`
	UpdatedAt            string               `json:"updated_at"`
	TotalPrice           json.Number          `json:"total_price"`
	TotalTax             json.Number          `json:"total_tax"`
	RegisterSaleProducts []apiRegisterProduct `json:"register_sale_products"`
}

type apiRegisterProduct struct {
	ID         string         `json:"id,omitempty"`
	ProductID  string         `json:"product_id"`
	Name       string         `json:"name,omitempty"`
	Quantity   json.Number    `json:"quantity"`
	Price      json.Number    `json:"price"`
	Tax        json.Number    `json:"tax,omitempty"`
	TaxID      string         `json:"tax_id,omitempty"`
	Attributes []apiAttribute `json:"attributes,omitempty"`
}

type apiAttribute struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type apiRegister struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	OutletID  string  `json:"outlet_id"`
	DeletedAt *string `json:"deleted_at"`
}

type apiUser struct {
	ID          string  `json:"id"`
	Username    string  `json:"username"`
	AccountType string  `json:"account_type"`
	DeletedAt   *string `json:"deleted_at"`
}

// Sale statuses of register_sales. A sale is an order while SAVED (parked), ON_ACCOUNT or
// LAYBY; CLOSED and the *_CLOSED ones are completed; VOIDED is taken back.
var completedStatus = map[string]bool{"CLOSED": true, "ONACCOUNT_CLOSED": true, "LAYBY_CLOSED": true,
	"ON_ACCOUNT_CLOSED": true}

func orderState(status string) domain.OrderState {
	s := strings.ToUpper(status)
	switch {
	case s == "VOIDED":
		return domain.OrderVoided
	case completedStatus[s]:
		return domain.OrderCompleted
	}
	return domain.OrderOpen
}

func notDeleted(p *string) bool { return p == nil || *p == "" }

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// toOrder maps a 2.0 sale. Totals include tax (total_price is before tax in X-Series).
func toOrder(s apiSale, cur string) (domain.Order, error) {
	d := connector.CurrencyExponent(cur)
	o := domain.Order{ID: s.ID, Reference: s.InvoiceNumber, StoreID: s.OutletID, State: orderState(s.Status),
		CustomerID: str(s.CustomerID), Note: s.Note, Version: strconv.FormatInt(s.Version, 10),
		CreatedAt: parseTime(s.CreatedAt), UpdatedAt: parseTime(s.UpdatedAt)}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = parseTime(s.SaleDate)
	}
	lines, err := saleLines(s.LineItems, cur)
	if err != nil {
		return o, err
	}
	o.Lines = lines
	price, err := parseMinor(string(s.TotalPrice), d)
	if err != nil {
		return o, fmt.Errorf("total_price: %w", err)
	}
	tax, err := parseMinor(string(s.TotalTax), d)
	if err != nil {
		return o, fmt.Errorf("total_tax: %w", err)
	}
	o.Total = domain.Money{Amount: price + tax, Currency: cur}
	return o, nil
}

func saleLines(items []apiSaleLine, cur string) ([]domain.OrderLine, error) {
	d := connector.CurrencyExponent(cur)
	lines := make([]domain.OrderLine, 0, len(items))
	for _, li := range items {
		unitText := li.UnitPrice
		if unitText == "" {
			unitText = li.Price
		}
		unit, err := parseMinor(string(unitText), d)
		if err != nil {
			return nil, fmt.Errorf("line %s price: %w", li.ID, err)
		}
		total, err := parseMinor(string(li.TotalPrice), d)
		if err != nil {
			return nil, fmt.Errorf("line %s total: %w", li.ID, err)
		}
		totalTax, err := parseMinor(string(li.TotalTax), d)
		if err != nil {
			return nil, fmt.Errorf("line %s tax: %w", li.ID, err)
		}
		qty, err := normDecimal(string(li.Quantity))
		if err != nil {
			return nil, fmt.Errorf("line %s quantity: %w", li.ID, err)
		}
		name := li.Note
		if name == "" {
			name = li.ProductID
		}
		lines = append(lines, domain.OrderLine{ProductID: li.ProductID, Name: name, Quantity: qty,
			UnitPrice: domain.Money{Amount: unit, Currency: cur},
			Total:     domain.Money{Amount: total + totalTax, Currency: cur}})
	}
	return lines, nil
}

// registerFor picks the register orders for an outlet go to: the configured one, else the
// first register of the outlet (GET /api/2.0/registers), else the first register.
func (c *Client) registerFor(ctx context.Context, outletID string) (string, error) {
	if c.registerID != "" {
		return c.registerID, nil
	}
	c.mu.Lock()
	cached, ok := c.registers[outletID]
	c.mu.Unlock()
	if ok {
		return cached, nil
	}
	reg, err := c.lookupRegister(ctx, outletID)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.registers == nil {
		c.registers = map[string]string{}
	}
	c.registers[outletID] = reg
	c.mu.Unlock()
	return reg, nil
}

func (c *Client) lookupRegister(ctx context.Context, outletID string) (string, error) {
	var out struct {
		Data []apiRegister `json:"data"`
	}
	if err := c.get(ctx, "/api/2.0/registers", nil, &out); err != nil {
		return "", fmt.Errorf("list registers: %w", err)
	}
	first := ""
	for _, r := range out.Data {
		if !notDeleted(r.DeletedAt) {
			continue
		}
		if first == "" {
			first = r.ID
		}
		if outletID != "" && r.OutletID == outletID {
			return r.ID, nil
		}
	}
	if first == "" {
		return "", &connector.Error{Kind: connector.KindInvalid, Message: "the store has no register to park orders on"}
	}
	return first, nil
}

// orderUser picks the user orders are created by: the configured one, else the first admin.
func (c *Client) orderUser(ctx context.Context) (string, error) {
	if c.userID != "" {
		return c.userID, nil
	}
	var out struct {
		Data []apiUser `json:"data"`
	}
	if err := c.get(ctx, "/api/2.0/users", nil, &out); err != nil {
		return "", fmt.Errorf("list users: %w", err)
	}
	first := ""
	for _, u := range out.Data {
		if !notDeleted(u.DeletedAt) {
			continue
		}
		if strings.EqualFold(u.AccountType, "admin") {
			return u.ID, nil
		}
		if first == "" {
			first = u.ID
		}
	}
	if first == "" {
		return "", &connector.Error{Kind: connector.KindInvalid, Message: "the store has no user to create orders as"}
	}
	c.mu.Lock()
	c.userID = first
	c.mu.Unlock()
	return first, nil
}

// saleBody builds a register_sales payload. Every line is sent: on an update Lightspeed
// deletes the lines a payload leaves out.
func (c *Client) saleBody(ctx context.Context, o domain.Order, status string) (map[string]any, error) {
	r, err := c.getRetailer(ctx)
	if err != nil {
		return nil, err
	}
	reg, err := c.registerFor(ctx, o.StoreID)
	if err != nil {
		return nil, err
	}
	user, err := c.orderUser(ctx)
	if err != nil {
		return nil, err
	}
	d := connector.CurrencyExponent(r.Currency.Code)
	products := make([]apiRegisterProduct, 0, len(o.Lines))
	for i, l := range o.Lines {
		if l.UnitPrice.Currency != "" && !strings.EqualFold(l.UnitPrice.Currency, r.Currency.Code) {
			return nil, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("line %d is in %s but the store sells in %s", i+1, l.UnitPrice.Currency, r.Currency.Code)}
		}
		qty, err := normDecimal(l.Quantity)
		if err != nil {
			return nil, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("line %d quantity: %v", i+1, err)}
		}
		pid := l.ProductID
		if l.VariantID != "" {
			pid = l.VariantID
		}
		if pid == "" {
			pid = c.miscProductID
		}
		if pid == "" {
			return nil, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf(
				"line %d (%q) is not linked to a Lightspeed product and no %s is set", i+1, l.Name, FieldMiscProductID)}
		}
		p := apiRegisterProduct{ProductID: pid, Quantity: json.Number(qty), Price: formatMinor(l.UnitPrice.Amount, d)}
		if l.TaxRate != "" {
			// tax per unit = price x rate / 100, in minor units, rounded half away from zero.
			rate, err := parseMinor(l.TaxRate, 4) // rate in 1/10000 of a percent
			if err != nil {
				return nil, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("line %d tax rate: %v", i+1, err)}
			}
			num, err := domain.MulInt64(l.UnitPrice.Amount, rate)
			if err != nil {
				return nil, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("line %d: price x tax rate is out of range", i+1), Err: err}
			}
			den := int64(100 * 10000)
			tax := num / den
			if rem := num % den; rem*2 >= den {
				tax++
			} else if rem*2 <= -den {
				tax--
			}
			p.Tax = formatMinor(tax, d)
		}
		if l.Name != "" {
			p.Attributes = []apiAttribute{{Name: "line_note", Value: l.Name}}
		}
		products = append(products, p)
	}
	body := map[string]any{
		"register_id":            reg,
		"user_id":                user,
		"status":                 status,
		"note":                   o.Note,
		"register_sale_products": products,
	}
	if o.Reference != "" {
		body["invoice_number"] = o.Reference
	}
	if o.CustomerID != "" {
		body["customer_id"] = o.CustomerID
	}
	if o.ID != "" {
		body["id"] = o.ID
	} else {
		body["sale_date"] = c.o.now().UTC().Format("2006-01-02 15:04:05")
	}
	return body, nil
}

// postSale sends POST /api/register_sales and maps the register_sale it answers with.
func (c *Client) postSale(ctx context.Context, body map[string]any, unsafe bool) (domain.Order, error) {
	r, err := c.getRetailer(ctx)
	if err != nil {
		return domain.Order{}, err
	}
	var out struct {
		RegisterSale apiRegisterSale `json:"register_sale"`
	}
	if err := c.do(ctx, request{method: "POST", path: "/api/register_sales", body: body, unsafe: unsafe}, &out); err != nil {
		return domain.Order{}, err
	}
	rs := out.RegisterSale
	if rs.ID == "" {
		return domain.Order{}, &connector.Error{Kind: connector.KindInvalid, Message: "the answer carries no sale id"}
	}
	items := make([]apiSaleLine, 0, len(rs.RegisterSaleProducts))
	for _, p := range rs.RegisterSaleProducts {
		li := apiSaleLine{ID: p.ID, ProductID: p.ProductID, Quantity: p.Quantity, Price: p.Price}
		for _, a := range p.Attributes {
			if a.Name == "line_note" {
				li.Note = a.Value
			}
		}
		if li.Note == "" {
			li.Note = p.Name
		}
		d := connector.CurrencyExponent(r.Currency.Code)
		unit, _ := parseMinor(string(p.Price), d)
		tax, _ := parseMinor(string(p.Tax), d)
		qtyMilli, _ := parseMinor(string(p.Quantity), 3)
		li.TotalPrice = formatMinor(mulQty(unit, qtyMilli), d)
		li.TotalTax = formatMinor(mulQty(tax, qtyMilli), d)
		items = append(items, li)
	}
	return toOrder(apiSale{ID: rs.ID, RegisterID: rs.RegisterID, CustomerID: rs.CustomerID,
		InvoiceNumber: rs.InvoiceNumber, Status: rs.Status, Note: rs.Note, SaleDate: rs.SaleDate,
		CreatedAt: rs.CreatedAt, UpdatedAt: rs.UpdatedAt, TotalPrice: rs.TotalPrice, TotalTax: rs.TotalTax,
		LineItems: items}, r.Currency.Code)
}

// mulQty multiplies minor units by a quantity in thousandths, rounding half away from zero.
func mulQty(amount, qtyMilli int64) int64 {
	n := amount * qtyMilli
	q, rem := n/1000, n%1000
	if rem*2 >= 1000 {
		q++
	} else if rem*2 <= -1000 {
		q--
	}
	return q
}

// CreateOrder parks the order as a SAVED sale (POST /api/register_sales) with the reference
// as invoice_number. Lightspeed has no idempotency key, so the reference stands in for key: an
// open sale already carrying it is returned instead of creating a second one, and a create that
// failed with a 5xx or timeout is looked up before it is sent again.
func (c *Client) CreateOrder(ctx context.Context, o domain.Order, key string) (domain.Order, error) {
	if o.Reference != "" {
		found, err := c.findOrder(ctx, o.Reference, true)
		if err == nil {
			return found, nil
		}
		if !isKind(err, connector.KindNotFound) {
			return o, fmt.Errorf("create order %s (%s): %w", o.Reference, key, err)
		}
	}
	o.ID = ""
	body, err := c.saleBody(ctx, o, "SAVED")
	if err != nil {
		return o, fmt.Errorf("create order %s (%s): %w", o.Reference, key, err)
	}
	// The create goes out unsafe (not repeated blindly by do): after a 5xx or a timeout the
	// next attempt looks for the sale by its reference first. Without a reference there is
	// nothing to look for, and the failure is returned.
	retry := connector.Retry{Backoff: c.backoff(), Retries: c.o.maxRetries}
	if o.Reference == "" {
		retry.Retries = 0
	}
	var created domain.Order
	tried := false
	err = retry.Do(ctx, func() error {
		if tried {
			if found, ferr := c.findOrder(ctx, o.Reference, true); ferr == nil {
				created = found
				return nil
			}
		}
		tried = true
		var err error
		created, err = c.postSale(ctx, body, true)
		if err != nil && connector.KindOf(err) != connector.KindTemporary {
			return connector.Stop(err) // do waited out what rate limits it met
		}
		return err
	})
	if err != nil {
		return o, fmt.Errorf("create order %s (%s): %w", o.Reference, key, err)
	}
	return created, nil
}

// UpdateOrder replaces the sale's lines and details (POST /api/register_sales with its id),
// keeping it SAVED. Replaying it is harmless: it sets the same state again.
func (c *Client) UpdateOrder(ctx context.Context, o domain.Order, key string) (domain.Order, error) {
	if o.ID == "" {
		return o, &connector.Error{Kind: connector.KindInvalid, Message: "update order: no id"}
	}
	body, err := c.saleBody(ctx, o, "SAVED")
	if err != nil {
		return o, fmt.Errorf("update order %s (%s): %w", o.ID, key, err)
	}
	got, err := c.postSale(ctx, body, false)
	if err != nil {
		return o, fmt.Errorf("update order %s (%s): %w", o.ID, key, err)
	}
	return got, nil
}

// CancelOrder voids the sale (status VOIDED through register_sales, sending its lines back so
// none is deleted). Lightspeed has no archive or delete of sales.
func (c *Client) CancelOrder(ctx context.Context, id string, mode domain.CancelMode) error {
	if mode != domain.CancelVoid && mode != "" {
		return &connector.Error{Kind: connector.KindUnsupported, Message: fmt.Sprintf("Lightspeed sales can only be voided, not %s", mode)}
	}
	cur, err := c.GetOrder(ctx, id)
	if err != nil {
		return fmt.Errorf("void order %s: %w", id, err)
	}
	if cur.State == domain.OrderVoided {
		return nil
	}
	body, err := c.saleBody(ctx, cur, "VOIDED")
	if err != nil {
		return fmt.Errorf("void order %s: %w", id, err)
	}
	if _, err := c.postSale(ctx, body, false); err != nil {
		return fmt.Errorf("void order %s: %w", id, err)
	}
	return nil
}

// GetOrder reads GET /api/2.0/sales/{id}.
func (c *Client) GetOrder(ctx context.Context, id string) (domain.Order, error) {
	r, err := c.getRetailer(ctx)
	if err != nil {
		return domain.Order{}, fmt.Errorf("get order %s: %w", id, err)
	}
	var out struct {
		Data apiSale `json:"data"`
	}
	if err := c.get(ctx, "/api/2.0/sales/"+url.PathEscape(id), nil, &out); err != nil {
		return domain.Order{}, fmt.Errorf("get order %s: %w", id, err)
	}
	o, err := toOrder(out.Data, r.Currency.Code)
	if err != nil {
		return o, fmt.Errorf("get order %s: %w", id, err)
	}
	return o, nil
}

// FindOrderByReference searches sales by invoice_number (GET /api/2.0/search?type=sales),
// preferring a sale that is not voided.
func (c *Client) FindOrderByReference(ctx context.Context, ref string) (domain.Order, error) {
	o, err := c.findOrder(ctx, ref, false)
	if err != nil {
		return o, fmt.Errorf("find order %s: %w", ref, err)
	}
	return o, nil
}

func (c *Client) findOrder(ctx context.Context, ref string, openOnly bool) (domain.Order, error) {
	r, err := c.getRetailer(ctx)
	if err != nil {
		return domain.Order{}, err
	}
	var out struct {
		Data []apiSale `json:"data"`
	}
	q := url.Values{"type": {"sales"}, "invoice_number": {ref}}
	if err := c.get(ctx, "/api/2.0/search", q, &out); err != nil {
		return domain.Order{}, err
	}
	var best *apiSale
	for i := range out.Data {
		s := &out.Data[i]
		if s.InvoiceNumber != ref || !notDeleted(s.DeletedAt) {
			continue
		}
		voided := strings.EqualFold(s.Status, "VOIDED")
		if openOnly && voided {
			continue
		}
		switch {
		case best == nil:
			best = s
		case strings.EqualFold(best.Status, "VOIDED") && !voided:
			best = s
		case strings.EqualFold(best.Status, "VOIDED") == voided && s.Version > best.Version:
			best = s
		}
	}
	if best == nil {
		return domain.Order{}, &connector.Error{Kind: connector.KindNotFound, Message: fmt.Sprintf("no sale with invoice number %q", ref)}
	}
	return toOrder(*best, r.Currency.Code)
}

// SalesSince reads GET /api/2.0/sales with the version cursor and keeps the completed sales
// (CLOSED and the *_CLOSED statuses); parked, voided and deleted sales are skipped. Page.Resume
// is the highest version seen, so re-reading a period never returns a sale twice unless it
// changed.
func (c *Client) SalesSince(ctx context.Context, cur string) (connector.Page[domain.Sale], error) {
	var page connector.Page[domain.Sale]
	k, err := parseCursor(cur)
	if err != nil {
		return page, err
	}
	r, err := c.getRetailer(ctx)
	if err != nil {
		return page, fmt.Errorf("list sales after %d: %w", k.after, err)
	}
	var out struct {
		Data    []apiSale  `json:"data"`
		Version apiVersion `json:"version"`
	}
	if err := c.get(ctx, "/api/2.0/sales", k.query(c.o.pageSize, false), &out); err != nil {
		return page, fmt.Errorf("list sales after %d: %w", k.after, err)
	}
	for _, s := range out.Data {
		if !notDeleted(s.DeletedAt) || !completedStatus[strings.ToUpper(s.Status)] {
			continue
		}
		o, err := toOrder(s, r.Currency.Code)
		if err != nil {
			return page, fmt.Errorf("list sales after %d: sale %s: %w", k.after, s.ID, err)
		}
		completed := parseTime(s.SaleDate)
		if completed.IsZero() {
			completed = o.UpdatedAt
		}
		page.Items = append(page.Items, domain.Sale{ID: s.ID, Number: s.InvoiceNumber, StoreID: s.OutletID,
			Status: s.Status, CustomerID: o.CustomerID, Lines: o.Lines, Total: o.Total,
			CompletedAt: completed, UpdatedAt: o.UpdatedAt})
	}
	page.Next, page.Resume = pageCursors(k, out.Version, len(out.Data))
	return page, nil
}
