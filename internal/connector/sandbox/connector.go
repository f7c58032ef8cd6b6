package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jsonin"
)

// Conn is a connector to one sandbox tenant. It makes exactly one HTTP call per operation and
// never retries: posbridge's status machine counts each failed call.
type Conn struct {
	base string // <SelfURL>/sandbox/api/v1
	self string // <SelfURL>
	key  string
	hc   *http.Client
	lim  *connector.Limiter
	now  func() time.Time
}

var (
	_ connector.Connector         = (*Conn)(nil)
	_ connector.ProductSource     = (*Conn)(nil)
	_ connector.ProductSink       = (*Conn)(nil)
	_ connector.StockSource       = (*Conn)(nil)
	_ connector.StockSink         = (*Conn)(nil)
	_ connector.CustomerSource    = (*Conn)(nil)
	_ connector.CustomerSink      = (*Conn)(nil)
	_ connector.OrderSink         = (*Conn)(nil)
	_ connector.SalesSource       = (*Conn)(nil)
	_ connector.WebhookReceiver   = (*Conn)(nil)
	_ connector.WebhookSubscriber = (*Conn)(nil)
)

// pageSize is the limit the connector asks for in listings.
const pageSize = 100

// Open returns a connector to the sandbox at cfg.SelfURL + "/sandbox/api/v1", authenticated with
// cfg.Credentials["api_key"]. It uses cfg.HTTP, or http.DefaultClient when nil.
func Open(cfg connector.Config) (connector.Connector, error) {
	key := strings.TrimSpace(cfg.Credentials["api_key"])
	if key == "" {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: "the API key is required"}
	}
	self := strings.TrimRight(cfg.SelfURL, "/")
	if u, err := url.Parse(self); self == "" || err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("posbridge's own URL %q is not an absolute http(s) URL", cfg.SelfURL)}
	}
	c := &Conn{base: self + "/sandbox/api/v1", self: self, key: key, hc: cfg.HTTP, lim: cfg.Limiter, now: cfg.Now}
	if c.hc == nil {
		c.hc = http.DefaultClient
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// call makes one API call. in, when not nil, is sent as JSON; out, when not nil, receives the
// JSON answer. Failures are *connector.Error values.
func (c *Conn) call(ctx context.Context, method, path string, q url.Values, in any, header http.Header, out any) error {
	if err := c.lim.Wait(ctx); err != nil {
		return &connector.Error{Kind: connector.KindTemporary, Message: "waiting for the rate limiter: " + err.Error(), Err: err}
	}
	u := c.base + "/" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return &connector.Error{Kind: connector.KindInvalid, Message: "encode request: " + err.Error(), Err: err}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return &connector.Error{Kind: connector.KindInvalid, Message: "build request: " + err.Error(), Err: err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return connector.TransportError(method+" "+path, err)
	}
	b, err := connector.ReadBody(resp)
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.answerError(resp, b)
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(b, out); err != nil {
			return &connector.Error{Kind: connector.KindTemporary, Status: resp.StatusCode,
				Message: "the sandbox answered something that is not the expected JSON", Err: err}
		}
	}
	return nil
}

// answerError maps an error answer to a *connector.Error carrying the sandbox's own message.
func (c *Conn) answerError(resp *http.Response, b []byte) error {
	e := &connector.Error{Kind: connector.KindForStatus(resp.StatusCode), Status: resp.StatusCode}
	var body wireErrorBody
	if json.Unmarshal(b, &body) == nil && body.Error.Message != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
		if body.Error.Field != "" && !strings.Contains(e.Message, body.Error.Field) {
			e.Message += " (field " + body.Error.Field + ")"
		}
	} else {
		e.Message = http.StatusText(resp.StatusCode)
	}
	if e.Kind == connector.KindRateLimited {
		e.RetryAfter = connector.ParseRetryAfter(resp.Header.Get("Retry-After"), c.now())
		c.lim.Pause(e.RetryAfter)
	}
	return e
}

// Verify implements connector.Connector with GET account.
func (c *Conn) Verify(ctx context.Context) error {
	var a wireAccount
	if err := c.call(ctx, http.MethodGet, "account", nil, nil, nil, &a); err != nil {
		return fmt.Errorf("verify sandbox api key: %w", err)
	}
	return nil
}

// Stores implements connector.Connector.
func (c *Conn) Stores(ctx context.Context) ([]domain.Store, error) {
	var l wireList[wireStore]
	if err := c.call(ctx, http.MethodGet, "stores", nil, nil, nil, &l); err != nil {
		return nil, fmt.Errorf("list sandbox stores: %w", err)
	}
	out := make([]domain.Store, 0, len(l.Data))
	for _, s := range l.Data {
		out = append(out, domain.Store{ID: s.ID, Name: s.Name, Currency: s.Currency})
	}
	return out, nil
}

// list reads one page of a listing.
func list[W, D any](ctx context.Context, c *Conn, path, cursor string, conv func(W) D) (connector.Page[D], error) {
	q := url.Values{"limit": {strconv.Itoa(pageSize)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var l wireList[W]
	if err := c.call(ctx, http.MethodGet, path, q, nil, nil, &l); err != nil {
		return connector.Page[D]{}, err
	}
	p := connector.Page[D]{Items: make([]D, 0, len(l.Data)), Next: l.NextCursor, Resume: l.ResumeCursor}
	for _, w := range l.Data {
		p.Items = append(p.Items, conv(w))
	}
	return p, nil
}

// ---- products ----

// ListProducts implements connector.ProductSource. The last page's Resume reads, later, exactly
// the products changed since.
func (c *Conn) ListProducts(ctx context.Context, cursor string) (connector.Page[domain.Product], error) {
	p, err := list(ctx, c, "products", cursor, productFromWire)
	if err != nil {
		return p, fmt.Errorf("list sandbox products: %w", err)
	}
	return p, nil
}

// GetProduct implements connector.ProductSource.
func (c *Conn) GetProduct(ctx context.Context, id string) (domain.Product, error) {
	var w wireProduct
	if err := c.call(ctx, http.MethodGet, "products/"+url.PathEscape(id), nil, nil, nil, &w); err != nil {
		return domain.Product{}, fmt.Errorf("get sandbox product %s: %w", id, err)
	}
	return productFromWire(w), nil
}

// CreateProduct implements connector.ProductSink.
func (c *Conn) CreateProduct(ctx context.Context, p domain.Product) (domain.Product, error) {
	in, err := productToWire(p)
	if err != nil {
		return domain.Product{}, fmt.Errorf("create sandbox product: %w", err)
	}
	in.ID = ""
	var w wireProduct
	if err := c.call(ctx, http.MethodPost, "products", nil, in, nil, &w); err != nil {
		return domain.Product{}, fmt.Errorf("create sandbox product: %w", err)
	}
	return productFromWire(w), nil
}

// UpdateProduct implements connector.ProductSink. A Version, when set, must be current.
func (c *Conn) UpdateProduct(ctx context.Context, p domain.Product) (domain.Product, error) {
	if p.ID == "" {
		return domain.Product{}, &connector.Error{Kind: connector.KindInvalid, Message: "update product: the product has no id"}
	}
	in, err := productToWire(p)
	if err != nil {
		return domain.Product{}, fmt.Errorf("update sandbox product %s: %w", p.ID, err)
	}
	var w wireProduct
	if err := c.call(ctx, http.MethodPut, "products/"+url.PathEscape(p.ID), nil, in, nil, &w); err != nil {
		return domain.Product{}, fmt.Errorf("update sandbox product %s: %w", p.ID, err)
	}
	return productFromWire(w), nil
}

// UpsertProducts implements connector.ProductSink with one products/batch call (at most 100
// products): products with an id are updated, the others created.
func (c *Conn) UpsertProducts(ctx context.Context, ps []domain.Product) ([]connector.BatchResult, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	if len(ps) > maxBatch {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("upsert products: at most %d products a call, got %d", maxBatch, len(ps))}
	}
	in := struct {
		Products []wireProduct `json:"products"`
	}{}
	for i, p := range ps {
		w, err := productToWire(p)
		if err != nil {
			return nil, fmt.Errorf("upsert sandbox products: item %d: %w", i, err)
		}
		in.Products = append(in.Products, w)
	}
	var out wireResults
	if err := c.call(ctx, http.MethodPost, "products/batch", nil, in, nil, &out); err != nil {
		return nil, fmt.Errorf("upsert %d sandbox products: %w", len(ps), err)
	}
	return batchResults(out, len(ps))
}

func batchResults(out wireResults, n int) ([]connector.BatchResult, error) {
	if len(out.Results) != n {
		return nil, &connector.Error{Kind: connector.KindTemporary, Message: fmt.Sprintf("the sandbox answered %d results for %d items", len(out.Results), n)}
	}
	res := make([]connector.BatchResult, 0, n)
	for _, r := range out.Results {
		br := connector.BatchResult{Index: r.Index, ID: r.ID}
		if r.Error != nil {
			br.Err = &connector.Error{Kind: connector.KindForStatus(r.Status), Status: r.Status, Code: r.Error.Code, Message: r.Error.Message}
		}
		res = append(res, br)
	}
	return res, nil
}

func productFromWire(w wireProduct) domain.Product {
	p := domain.Product{ID: w.ID, Name: w.Name, Description: w.Description, SKU: w.SKU, Barcode: w.Barcode,
		Price: w.Price, Weight: w.Weight, Categories: w.Categories, TrackStock: w.TrackStock,
		Version: strconv.FormatInt(w.Version, 10), UpdatedAt: w.UpdatedAt}
	for _, v := range w.Variants {
		p.Variants = append(p.Variants, domain.Variant{ID: v.ID, Name: v.Name, SKU: v.SKU, Barcode: v.Barcode, Price: v.Price, TrackStock: v.TrackStock})
	}
	return p
}

func productToWire(p domain.Product) (wireProduct, error) {
	v, err := parseVersion(p.Version)
	if err != nil {
		return wireProduct{}, err
	}
	w := wireProduct{ID: p.ID, Name: p.Name, Description: p.Description, SKU: p.SKU, Barcode: p.Barcode,
		Price: p.Price, Weight: p.Weight, Categories: p.Categories, TrackStock: p.TrackStock, Version: v}
	for _, x := range p.Variants {
		w.Variants = append(w.Variants, wireVariant{ID: x.ID, Name: x.Name, SKU: x.SKU, Barcode: x.Barcode, Price: x.Price, TrackStock: x.TrackStock})
	}
	return w, nil
}

func parseVersion(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("version %q is not a sandbox version", v)}
	}
	return n, nil
}

// ---- stock ----

// ListStock implements connector.StockSource.
func (c *Conn) ListStock(ctx context.Context, cursor string) (connector.Page[domain.StockLevel], error) {
	p, err := list(ctx, c, "stock", cursor, func(w wireStock) domain.StockLevel {
		return domain.StockLevel{ProductID: w.ProductID, VariantID: w.VariantID, LocationID: w.LocationID, Quantity: w.Quantity, UpdatedAt: w.UpdatedAt}
	})
	if err != nil {
		return p, fmt.Errorf("list sandbox stock: %w", err)
	}
	return p, nil
}

// SetStock implements connector.StockSink with one PUT stock call; each result's ID is the
// level's product id.
func (c *Conn) SetStock(ctx context.Context, levels []domain.StockLevel) ([]connector.BatchResult, error) {
	if len(levels) == 0 {
		return nil, nil
	}
	in := struct {
		Levels []wireStock `json:"levels"`
	}{}
	for _, l := range levels {
		in.Levels = append(in.Levels, wireStock{ProductID: l.ProductID, VariantID: l.VariantID, LocationID: l.LocationID, Quantity: l.Quantity})
	}
	var out wireResults
	if err := c.call(ctx, http.MethodPut, "stock", nil, in, nil, &out); err != nil {
		return nil, fmt.Errorf("set %d sandbox stock levels: %w", len(levels), err)
	}
	return batchResults(out, len(levels))
}

// ---- customers ----

// ListCustomers implements connector.CustomerSource.
func (c *Conn) ListCustomers(ctx context.Context, cursor string) (connector.Page[domain.Customer], error) {
	p, err := list(ctx, c, "customers", cursor, customerFromWire)
	if err != nil {
		return p, fmt.Errorf("list sandbox customers: %w", err)
	}
	return p, nil
}

// CreateCustomer implements connector.CustomerSink.
func (c *Conn) CreateCustomer(ctx context.Context, cu domain.Customer) (domain.Customer, error) {
	in := wireCustomer{Email: cu.Email, FirstName: cu.FirstName, LastName: cu.LastName, Phone: cu.Phone, Reference: cu.Reference}
	var w wireCustomer
	if err := c.call(ctx, http.MethodPost, "customers", nil, in, nil, &w); err != nil {
		return domain.Customer{}, fmt.Errorf("create sandbox customer: %w", err)
	}
	return customerFromWire(w), nil
}

// UpdateCustomer implements connector.CustomerSink. A Version, when set, must be current.
func (c *Conn) UpdateCustomer(ctx context.Context, cu domain.Customer) (domain.Customer, error) {
	if cu.ID == "" {
		return domain.Customer{}, &connector.Error{Kind: connector.KindInvalid, Message: "update customer: the customer has no id"}
	}
	v, err := parseVersion(cu.Version)
	if err != nil {
		return domain.Customer{}, fmt.Errorf("update sandbox customer %s: %w", cu.ID, err)
	}
	in := wireCustomer{Email: cu.Email, FirstName: cu.FirstName, LastName: cu.LastName, Phone: cu.Phone, Reference: cu.Reference, Version: v}
	var w wireCustomer
	if err := c.call(ctx, http.MethodPut, "customers/"+url.PathEscape(cu.ID), nil, in, nil, &w); err != nil {
		return domain.Customer{}, fmt.Errorf("update sandbox customer %s: %w", cu.ID, err)
	}
	return customerFromWire(w), nil
}

func customerFromWire(w wireCustomer) domain.Customer {
	return domain.Customer{ID: w.ID, Email: w.Email, FirstName: w.FirstName, LastName: w.LastName, Phone: w.Phone,
		Reference: w.Reference, Version: strconv.FormatInt(w.Version, 10), UpdatedAt: w.UpdatedAt}
}

// ---- orders ----

// CreateOrder implements connector.OrderSink; key is sent as the Idempotency-Key, so a retry
// with the same key and order replays the first answer instead of creating a second order.
func (c *Conn) CreateOrder(ctx context.Context, o domain.Order, key string) (domain.Order, error) {
	in := orderToWire(o, 0)
	var w wireOrder
	if err := c.call(ctx, http.MethodPost, "orders", nil, in, idemHeader(key), &w); err != nil {
		return domain.Order{}, fmt.Errorf("create sandbox order %q: %w", o.Reference, err)
	}
	return c.orderFromWire(w), nil
}

// UpdateOrder implements connector.OrderSink: it replaces the order's reference, store, customer,
// lines and note. A Version, when set, must be current; only open orders can change.
func (c *Conn) UpdateOrder(ctx context.Context, o domain.Order, key string) (domain.Order, error) {
	if o.ID == "" {
		return domain.Order{}, &connector.Error{Kind: connector.KindInvalid, Message: "update order: the order has no id"}
	}
	v, err := parseVersion(o.Version)
	if err != nil {
		return domain.Order{}, fmt.Errorf("update sandbox order %s: %w", o.ID, err)
	}
	var w wireOrder
	if err := c.call(ctx, http.MethodPut, "orders/"+url.PathEscape(o.ID), nil, orderToWire(o, v), idemHeader(key), &w); err != nil {
		return domain.Order{}, fmt.Errorf("update sandbox order %s: %w", o.ID, err)
	}
	return c.orderFromWire(w), nil
}

// CancelOrder implements connector.OrderSink: void, archive or delete.
func (c *Conn) CancelOrder(ctx context.Context, id string, mode domain.CancelMode) error {
	p := "orders/" + url.PathEscape(id)
	var err error
	switch mode {
	case domain.CancelVoid:
		err = c.call(ctx, http.MethodPost, p+"/void", nil, nil, nil, nil)
	case domain.CancelArchive:
		err = c.call(ctx, http.MethodPost, p+"/archive", nil, nil, nil, nil)
	case domain.CancelDelete:
		err = c.call(ctx, http.MethodDelete, p, nil, nil, nil, nil)
	default:
		return &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("cancel order: unknown mode %q (void, archive or delete)", mode)}
	}
	if err != nil {
		return fmt.Errorf("%s sandbox order %s: %w", mode, id, err)
	}
	return nil
}

// GetOrder implements connector.OrderSink.
func (c *Conn) GetOrder(ctx context.Context, id string) (domain.Order, error) {
	var w wireOrder
	if err := c.call(ctx, http.MethodGet, "orders/"+url.PathEscape(id), nil, nil, nil, &w); err != nil {
		return domain.Order{}, fmt.Errorf("get sandbox order %s: %w", id, err)
	}
	return c.orderFromWire(w), nil
}

// FindOrderByReference implements connector.OrderSink: the newest order with the reference that
// is not deleted, or a KindNotFound error.
func (c *Conn) FindOrderByReference(ctx context.Context, ref string) (domain.Order, error) {
	var l wireList[wireOrder]
	if err := c.call(ctx, http.MethodGet, "orders", url.Values{"reference": {ref}}, nil, nil, &l); err != nil {
		return domain.Order{}, fmt.Errorf("find sandbox order %q: %w", ref, err)
	}
	for _, w := range l.Data {
		if w.Reference == ref && w.State != string(domain.OrderDeleted) {
			return c.orderFromWire(w), nil
		}
	}
	return domain.Order{}, &connector.Error{Kind: connector.KindNotFound, Status: http.StatusNotFound, Code: "not_found",
		Message: fmt.Sprintf("no order with reference %q", ref)}
}

func idemHeader(key string) http.Header {
	if key == "" {
		return nil
	}
	return http.Header{"Idempotency-Key": {key}}
}

func orderToWire(o domain.Order, version int64) orderIn {
	in := orderIn{Reference: o.Reference, StoreID: o.StoreID, CustomerID: o.CustomerID, Note: o.Note, Version: version, Lines: []wireLine{}}
	for _, l := range o.Lines {
		in.Lines = append(in.Lines, wireLine{ProductID: l.ProductID, VariantID: l.VariantID, SKU: l.SKU, Name: l.Name,
			Quantity: l.Quantity, UnitPrice: l.UnitPrice, TaxRate: l.TaxRate})
	}
	return in
}

func linesFromWire(ls []wireLine) []domain.OrderLine {
	out := make([]domain.OrderLine, 0, len(ls))
	for _, l := range ls {
		out = append(out, domain.OrderLine{ProductID: l.ProductID, VariantID: l.VariantID, SKU: l.SKU, Name: l.Name,
			Quantity: l.Quantity, UnitPrice: l.UnitPrice, Total: l.Total, TaxRate: l.TaxRate})
	}
	return out
}

func (c *Conn) orderFromWire(w wireOrder) domain.Order {
	return domain.Order{ID: w.ID, Reference: w.Reference, StoreID: w.StoreID, State: domain.OrderState(w.State),
		CustomerID: w.CustomerID, Lines: linesFromWire(w.Lines), Total: w.Total, Note: w.Note,
		Version: strconv.FormatInt(w.Version, 10), URL: c.self + "/sandbox/orders/" + url.PathEscape(w.ID),
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

// ---- sales ----

// SalesSince implements connector.SalesSource.
func (c *Conn) SalesSince(ctx context.Context, cursor string) (connector.Page[domain.Sale], error) {
	p, err := list(ctx, c, "sales", cursor, func(w wireSale) domain.Sale {
		return domain.Sale{ID: w.ID, Number: w.Number, StoreID: w.StoreID, Status: w.Status, CustomerID: w.CustomerID,
			Lines: linesFromWire(w.Lines), Total: w.Total, CompletedAt: w.CompletedAt, UpdatedAt: w.UpdatedAt}
	})
	if err != nil {
		return p, fmt.Errorf("list sandbox sales: %w", err)
	}
	return p, nil
}

// ---- webhooks ----

// neutralTypes maps sandbox event types to posbridge's neutral ones.
var neutralTypes = map[string]string{
	"order.completed": domain.ProviderOrderUpdated,
	"sale.created":    domain.ProviderSaleUpdated,
	"sale.updated":    domain.ProviderSaleUpdated,
	// Back-office changes of products and stock (catalog sync reads the changes on them).
	EventProductCreated:     domain.ProviderProductUpdated,
	EventProductUpdated:     domain.ProviderProductUpdated,
	EventInventoryUpdated:   domain.ProviderStockUpdated,
	EventStockOrderReceived: domain.ProviderStockUpdated,
	EventTransferReceived:   domain.ProviderStockUpdated,
}

// ParseWebhook implements connector.WebhookReceiver: it verifies the Sandbox-Signature (constant
// time, 5 minute tolerance) and parses the event. url is not signed by the sandbox.
func (c *Conn) ParseWebhook(header http.Header, body []byte, _ string, secret string) ([]domain.ProviderEvent, error) {
	if err := VerifySignature(header.Get(SignatureHeader), body, secret, c.now(), SignatureTolerance); err != nil {
		return nil, &connector.Error{Kind: connector.KindInvalid, Code: "bad_signature", Message: "sandbox webhook refused: " + err.Error(), Err: err}
	}
	if err := jsonin.CheckPayload(body); err != nil {
		return nil, &connector.Error{Kind: connector.KindInvalid, Code: "bad_event", Message: "sandbox webhook: the body is not one JSON object with each key once", Err: err}
	}
	var ev wireEvent[json.RawMessage]
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" || ev.Type == "" {
		return nil, &connector.Error{Kind: connector.KindInvalid, Code: "bad_event", Message: "sandbox webhook: the body is not a sandbox event"}
	}
	var obj struct {
		ID        string `json:"id"`
		ProductID string `json:"product_id"`
	}
	_ = json.Unmarshal(ev.Data.Object, &obj)
	if obj.ID == "" {
		obj.ID = obj.ProductID // a stock level is its product's
	}
	typ, ok := neutralTypes[ev.Type]
	if !ok {
		typ = domain.ProviderUnknownEventType
	}
	return []domain.ProviderEvent{{ID: ev.ID, Type: typ, Topic: ev.Type, ObjectID: obj.ID, OccurredAt: ev.CreatedAt, Payload: ev.Data.Object}}, nil
}

// Subscribe implements connector.WebhookSubscriber. topics may name order.completed and
// sale.created; none means every event.
func (c *Conn) Subscribe(ctx context.Context, hookURL, secret string, topics []string) (string, error) {
	var w wireWebhook
	if err := c.call(ctx, http.MethodPost, "webhooks", nil, wireWebhookCreate{URL: hookURL, Secret: secret, Topics: topics}, nil, &w); err != nil {
		return "", fmt.Errorf("subscribe sandbox webhook: %w", err)
	}
	return w.ID, nil
}

// Unsubscribe implements connector.WebhookSubscriber. A webhook already gone counts as removed.
func (c *Conn) Unsubscribe(ctx context.Context, id string) error {
	err := c.call(ctx, http.MethodDelete, "webhooks/"+url.PathEscape(id), nil, nil, nil, nil)
	if err != nil && connector.KindOf(err) != connector.KindNotFound {
		return fmt.Errorf("unsubscribe sandbox webhook %s: %w", id, err)
	}
	return nil
}
