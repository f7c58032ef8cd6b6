package lightspeed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// Simulator is a stateful stand-in for one Lightspeed X-Series retailer: the documented subset
// of API 2.0 (retailer, outlets, registers, users, products with version pagination, the 2.1
// product update, inventory, customers, sales, search, webhooks) and the 0.9 register_sales,
// with Lightspeed's error bodies, its fixed-window rate limit (429 with an HTTP-date
// Retry-After), signed form-encoded webhook deliveries, and fault injection for tests. It is
// safe for concurrent use. Serve it at the root of a listener: the paths are /api/2.0/....
type Simulator struct {
	mux *http.ServeMux

	mu           sync.Mutex
	token        string
	secret       string
	sigHeader    string
	currency     string
	taxExclusive bool
	taxRate      *big.Rat // the default tax applied between the two prices
	retailerID   string
	outlets      []simOutlet
	registers    []simRegister
	users        []simUser
	version      int64
	changes      int64
	products     map[string]*simProduct
	inventory    map[string]*simInventory // product id + "/" + outlet id
	customers    map[string]*simCustomer
	sales        map[string]*simSale
	webhooks     map[string]*simWebhook
	invoiceSeq   int
	misc         string
	defPage      int
	maxPage      int

	rlLimit  int
	rlWindow time.Duration
	rlStart  time.Time
	rlCount  int

	failN      int
	failStatus int
	latency    time.Duration

	now       func() time.Time
	idSeq     atomic.Int64
	calls     atomic.Int64
	delivered atomic.Int64

	deliver      *http.Client
	deliverTries int
	deliverWait  time.Duration
	wg           sync.WaitGroup
	closed       chan struct{}
	closeOnce    sync.Once
}

// SimOption configures a Simulator.
type SimOption func(*Simulator)

// WithSimToken sets the personal token the simulator accepts.
func WithSimToken(t string) SimOption { return func(s *Simulator) { s.token = t } }

// WithSimWebhookSecret sets the secret deliveries are signed with.
func WithSimWebhookSecret(secret string) SimOption {
	return func(s *Simulator) { s.secret = secret }
}

// WithSimSignatureHeader names the signature header of deliveries (default X-Signature); the
// scheme is not publicly documented.
func WithSimSignatureHeader(h string) SimOption { return func(s *Simulator) { s.sigHeader = h } }

// WithSimTaxInclusive makes the retailer tax-inclusive (prices shown with tax, as in NZ or AU);
// the default is tax-exclusive.
func WithSimTaxInclusive() SimOption { return func(s *Simulator) { s.taxExclusive = false } }

// WithSimCurrency sets the retailer's currency (default EUR).
func WithSimCurrency(code string) SimOption { return func(s *Simulator) { s.currency = code } }

// WithSimRegisters sets the number of outlets, each with one register (default 1); the rate
// limit follows as 300 x registers + 50 per 5 minutes.
func WithSimRegisters(n int) SimOption {
	return func(s *Simulator) {
		if n < 1 {
			n = 1
		}
		s.rlLimit = 300*n + 50
		s.outlets, s.registers = nil, nil
		for i := 0; i < n; i++ {
			o := simOutlet{ID: s.newID(), Name: fmt.Sprintf("Outlet %d", i+1)}
			if i == 0 {
				o.Name = "Main Street"
			}
			s.outlets = append(s.outlets, o)
			s.registers = append(s.registers, simRegister{ID: s.newID(), Name: fmt.Sprintf("%s Register", o.Name), OutletID: o.ID})
		}
	}
}

// WithSimRateLimit overrides the fixed window: limit requests per window.
func WithSimRateLimit(limit int, window time.Duration) SimOption {
	return func(s *Simulator) { s.rlLimit, s.rlWindow = limit, window }
}

// WithSimPageSizes sets the page size used without page_size and the largest one honoured
// (unsure: API 2.0 documents neither).
func WithSimPageSizes(def, max int) SimOption {
	return func(s *Simulator) { s.defPage, s.maxPage = def, max }
}

// WithSimClock sets the simulator's clock.
func WithSimClock(now func() time.Time) SimOption { return func(s *Simulator) { s.now = now } }

// WithSimDeliveryClient sets the client webhooks are delivered with (embedders pass a guarded
// one), the number of tries and the wait between them.
func WithSimDeliveryClient(hc *http.Client, tries int, wait time.Duration) SimOption {
	return func(s *Simulator) {
		if hc != nil {
			s.deliver = hc
		}
		s.deliverTries, s.deliverWait = max(tries, 1), wait
	}
}

type simOutlet struct {
	ID   string
	Name string
}

type simRegister struct {
	ID       string
	Name     string
	OutletID string
}

type simUser struct {
	ID, Username, AccountType string
}

type simProduct struct {
	ID          string
	Name        string
	Handle      string
	Description string
	SKU         string
	Excl        *big.Rat
	Incl        *big.Rat
	Supply      *big.Rat
	Weight      string
	WeightUnit  string
	Codes       []apiProductCode
	CategoryID  string
	TrackStock  bool
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeletedAt   *time.Time
}

type simInventory struct {
	ID        string
	ProductID string
	OutletID  string
	Level     *big.Rat
	Version   int64
	UpdatedAt time.Time
}

type simCustomer struct {
	ID, FirstName, LastName, Email, Phone, Code string
	Version                                     int64
	CreatedAt, UpdatedAt                        time.Time
}

type simLine struct {
	ID        string
	ProductID string
	Quantity  *big.Rat
	Price     *big.Rat
	Tax       *big.Rat
	Note      string
}

type simSale struct {
	ID, OutletID, RegisterID, UserID, CustomerID, Invoice, Status, Note string
	Lines                                                               []simLine
	SaleDate, CreatedAt, UpdatedAt                                      time.Time
	Version                                                             int64
}

type simWebhook struct {
	ID, URL, Type string
	Active        bool
}

// NewSimulator returns a retailer with one outlet and register, one admin user, a
// "Miscellaneous" service product for unlinked order lines, and no other products.
func NewSimulator(opts ...SimOption) *Simulator {
	s := &Simulator{
		token:        "lsxs_pt_simulated_token",
		secret:       "lightspeed-sim-webhook-secret",
		sigHeader:    DefaultSignatureHeader,
		currency:     "EUR",
		taxExclusive: true,
		taxRate:      big.NewRat(21, 100),
		version:      1_000_000,
		products:     map[string]*simProduct{},
		inventory:    map[string]*simInventory{},
		customers:    map[string]*simCustomer{},
		sales:        map[string]*simSale{},
		webhooks:     map[string]*simWebhook{},
		invoiceSeq:   1000,
		defPage:      1000,
		maxPage:      10000,
		rlWindow:     DefaultWindow,
		now:          time.Now,
		deliver:      &http.Client{Timeout: 5 * time.Second},
		deliverTries: 3,
		deliverWait:  time.Second,
		closed:       make(chan struct{}),
	}
	s.retailerID = s.newID()
	WithSimRegisters(1)(s)
	s.users = []simUser{{ID: s.newID(), Username: "owner", AccountType: "admin"}}
	for _, o := range opts {
		o(s)
	}
	s.rlStart = s.now()
	misc := s.addProduct(simProduct{Name: "Miscellaneous", SKU: "MISC", Excl: new(big.Rat)}, nil)
	s.misc = misc.ID
	s.routes()
	return s
}

func (s *Simulator) newID() string {
	n := s.idSeq.Add(1)
	return fmt.Sprintf("0a5e%04x-%04x-11ee-b5a1-%012x", n>>16&0xffff, n&0xffff, n*7919)
}

// nextVersion returns a new, larger version; the steps vary as the docs warn (not always +1).
func (s *Simulator) nextVersion() int64 {
	s.changes++
	s.version += 1 + s.changes%3
	return s.version
}

// Token is the personal token the simulator accepts.
func (s *Simulator) Token() string { return s.token }

// WebhookSecret is the secret deliveries are signed with.
func (s *Simulator) WebhookSecret() string { return s.secret }

// MiscProductID is the id of the "Miscellaneous" product for unlinked order lines.
func (s *Simulator) MiscProductID() string { return s.misc }

// OutletIDs lists the outlets' ids.
func (s *Simulator) OutletIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, len(s.outlets))
	for i, o := range s.outlets {
		ids[i] = o.ID
	}
	return ids
}

// Info describes the simulator served at rootURL for `posbridge sim`.
func (s *Simulator) Info(rootURL string) connector.SimInfo {
	root := strings.TrimRight(rootURL, "/")
	return connector.SimInfo{
		Provider: "lightspeed",
		BaseURL:  root,
		Credentials: map[string]string{
			FieldDomainPrefix:  root,
			FieldToken:         s.token,
			FieldWebhookSecret: s.secret,
			FieldMiscProductID: s.misc,
		},
		WebhookSecret: s.secret,
	}
}

// Calls counts API calls answered (any status).
func (s *Simulator) Calls() int { return int(s.calls.Load()) }

// Delivered counts webhook deliveries that got a 2xx answer.
func (s *Simulator) Delivered() int { return int(s.delivered.Load()) }

// FailNext makes the next n API calls fail with status; status 0 answers nothing at all until
// the client gives up (a timeout).
func (s *Simulator) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus = n, status
}

// SetLatency delays every answer by d (slow answers).
func (s *Simulator) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetRateLimit sets the fixed window to limit requests per window and starts a new window.
func (s *Simulator) SetRateLimit(limit int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rlLimit, s.rlWindow, s.rlStart, s.rlCount = limit, window, s.now(), 0
}

// RateLimit makes the window small for tests: 10 requests a second.
func (s *Simulator) RateLimit() { s.SetRateLimit(10, time.Second) }

// SetDeliveryClient sets the client webhooks are delivered with. A simulator served inside
// posbridge as a sandbox must get a guarded client (connector.NewHTTPClient) here, since the
// delivery URLs are merchant input.
func (s *Simulator) SetDeliveryClient(hc *http.Client) {
	if hc == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliver = hc
}

// Close stops webhook deliveries and releases calls held by FailNext(n, 0).
func (s *Simulator) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.wg.Wait()
}

// ServeHTTP answers one API call.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	lat := s.latency
	fail := 0
	failing := false
	if s.failN > 0 {
		s.failN--
		fail, failing = s.failStatus, true
	}
	s.mu.Unlock()
	if lat > 0 && !s.wait(r.Context(), lat) {
		return
	}
	if failing && fail == 0 {
		s.hang(w, r)
		return
	}
	s.calls.Add(1)
	if failing {
		s.writeFault(w, fail)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		writeErr(w, http.StatusUnauthorized, "Unauthorized", "Authentication information is missing or invalid.")
		return
	}
	if !s.admit(w) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Simulator) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.closed:
	}
	return false
}

// hang answers nothing until the client gives up or the simulator closes, then drops the
// connection.
func (s *Simulator) hang(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.closed:
	}
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}

func (s *Simulator) writeFault(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusUnauthorized:
		writeErr(w, status, "Unauthorized", "Authentication information is missing or invalid.")
	case http.StatusForbidden:
		writeErr(w, status, "Forbidden", "Forbidden - insufficient permissions")
	case http.StatusTooManyRequests:
		s.mu.Lock()
		end := s.rlStart.Add(s.rlWindow)
		s.mu.Unlock()
		w.Header().Set("Retry-After", httpDateCeil(end))
		writeErr(w, status, "Too Many Requests", "Rate limiting enforced")
	default:
		writeErr(w, status, http.StatusText(status), "")
	}
}

// httpDateCeil renders t rounded up to the next whole second as an HTTP date.
func httpDateCeil(t time.Time) string {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return time.Unix(sec, 0).UTC().Format(http.TimeFormat)
}

// admit counts an authorized request in the fixed window and answers 429 beyond the limit,
// with Retry-After as an HTTP date (not seconds).
func (s *Simulator) admit(w http.ResponseWriter) bool {
	s.mu.Lock()
	now := s.now()
	if !now.Before(s.rlStart.Add(s.rlWindow)) {
		s.rlStart, s.rlCount = now, 0
	}
	s.rlCount++
	limit, count, end := s.rlLimit, s.rlCount, s.rlStart.Add(s.rlWindow)
	s.mu.Unlock()
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(limit-count, 0)))
	sec := end.Unix()
	if end.Nanosecond() > 0 {
		sec++
	}
	h.Set("X-RateLimit-Reset", strconv.FormatInt(sec, 10))
	if count > limit {
		h.Set("Retry-After", httpDateCeil(end))
		writeErr(w, http.StatusTooManyRequests, "Too Many Requests", "Rate limiting enforced")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeErr answers Lightspeed's error envelope {"error":"<title>","message":"<detail>"}.
func writeErr(w http.ResponseWriter, status int, title, msg string) {
	body := map[string]string{"error": title}
	if msg != "" {
		body["message"] = msg
	}
	writeJSON(w, status, body)
}

func (s *Simulator) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /api/2.0/retailer", s.getRetailer)
	m.HandleFunc("GET /api/2.0/outlets", s.listOutlets)
	m.HandleFunc("GET /api/2.0/registers", s.listRegisters)
	m.HandleFunc("GET /api/2.0/users", s.listUsers)
	m.HandleFunc("GET /api/2.0/products", s.listProducts)
	m.HandleFunc("POST /api/2.0/products", s.createProduct)
	m.HandleFunc("GET /api/2.0/products/{id}", s.getProduct)
	m.HandleFunc("DELETE /api/2.0/products/{id}", s.deleteProduct)
	m.HandleFunc("PUT /api/2.1/products/{id}", s.updateProduct)
	m.HandleFunc("GET /api/2.0/inventory", s.listInventory)
	m.HandleFunc("GET /api/2.0/customers", s.listCustomers)
	m.HandleFunc("POST /api/2.0/customers", s.createCustomer)
	m.HandleFunc("GET /api/2.0/customers/{id}", s.getCustomer)
	m.HandleFunc("PUT /api/2.0/customers/{id}", s.updateCustomer)
	m.HandleFunc("GET /api/2.0/sales", s.listSales)
	m.HandleFunc("GET /api/2.0/sales/{id}", s.getSale)
	m.HandleFunc("POST /api/register_sales", s.registerSale)
	m.HandleFunc("GET /api/2.0/search", s.search)
	m.HandleFunc("GET /api/2.0/webhooks", s.listWebhooks)
	m.HandleFunc("POST /api/2.0/webhooks", s.createWebhook)
	m.HandleFunc("GET /api/2.0/webhooks/{id}", s.getWebhook)
	m.HandleFunc("DELETE /api/2.0/webhooks/{id}", s.deleteWebhook)
	s.adminRoutes(m)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "Not Found", "No route for "+r.Method+" "+r.URL.Path)
	})
	s.mux = m
}

// ---- decimal helpers (math/big, never floats) ----

func ratOf(n json.Number) (*big.Rat, bool) {
	if n == "" {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(string(n))
	return r, ok
}

func numOf(r *big.Rat) json.Number {
	if r == nil {
		return "0"
	}
	v, err := normDecimal(r.FloatString(5))
	if err != nil {
		return "0"
	}
	return json.Number(v)
}

func mul(a, b *big.Rat) *big.Rat { return new(big.Rat).Mul(a, b) }

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

func tsPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	v := ts(*t)
	return &v
}

// ---- version pagination ----

type versioned interface{ ver() int64 }

func (p *simProduct) ver() int64   { return p.Version }
func (i *simInventory) ver() int64 { return i.Version }
func (c *simCustomer) ver() int64  { return c.Version }
func (s *simSale) ver() int64      { return s.Version }

// versionPage reads after= and page_size= and returns the items with a version above after, oldest
// change first, at most page_size of them.
func versionPage[T versioned](s *Simulator, w http.ResponseWriter, r *http.Request, all []T) ([]T, bool) {
	q := r.URL.Query()
	after := int64(0)
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeErr(w, http.StatusBadRequest, "Bad Request", "after must be a non-negative integer")
			return nil, false
		}
		after = n
	}
	size := s.defPage
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeErr(w, http.StatusBadRequest, "Bad Request", "page_size must be a positive integer")
			return nil, false
		}
		size = min(n, s.maxPage)
	}
	var sel []T
	for _, it := range all {
		if it.ver() > after {
			sel = append(sel, it)
		}
	}
	sort.Slice(sel, func(i, j int) bool { return sel[i].ver() < sel[j].ver() })
	if len(sel) > size {
		sel = sel[:size]
	}
	return sel, true
}

func versionOf[T versioned](items []T) map[string]any {
	if len(items) == 0 {
		return map[string]any{"min": nil, "max": nil}
	}
	return map[string]any{"min": items[0].ver(), "max": items[len(items)-1].ver()}
}

// ---- retailer, outlets, registers, users ----

func (s *Simulator) getRetailer(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"data": map[string]any{
		"id": s.retailerID, "name": "Simulated Retailer", "domain_prefix": "simulated",
		"currency": map[string]string{"code": s.currency, "symbol": s.currency}, "tax_exclusive": s.taxExclusive,
		"timezone": "UTC", "country": "NL", "account_status": "active",
	}})
}

func (s *Simulator) listOutlets(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var data []map[string]any
	for i, o := range s.outlets {
		data = append(data, map[string]any{"id": o.ID, "name": o.Name, "time_zone": "UTC",
			"deleted_at": nil, "version": int64(100 + i)})
	}
	writeJSON(w, 200, map[string]any{"data": data, "version": map[string]any{"min": 100, "max": 100 + len(data) - 1}})
}

func (s *Simulator) listRegisters(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var data []map[string]any
	for _, r := range s.registers {
		data = append(data, map[string]any{"id": r.ID, "name": r.Name, "outlet_id": r.OutletID, "is_open": true, "deleted_at": nil})
	}
	writeJSON(w, 200, map[string]any{"data": data})
}

func (s *Simulator) listUsers(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var data []map[string]any
	for _, u := range s.users {
		data = append(data, map[string]any{"id": u.ID, "username": u.Username, "display_name": u.Username,
			"account_type": u.AccountType, "deleted_at": nil})
	}
	writeJSON(w, 200, map[string]any{"data": data})
}

// ---- products ----

// setPrices stores a price given with or without tax and derives the other at the default rate.
func (s *Simulator) setPrices(p *simProduct, incl, excl *big.Rat) {
	one := new(big.Rat).Add(big.NewRat(1, 1), s.taxRate)
	switch {
	case excl != nil:
		p.Excl, p.Incl = excl, mul(excl, one)
	case incl != nil:
		p.Incl, p.Excl = incl, new(big.Rat).Quo(incl, one)
	}
}

func (s *Simulator) productJSON(p *simProduct) map[string]any {
	codes := p.Codes
	if codes == nil {
		codes = []apiProductCode{}
	}
	var wt any
	var unit any
	if p.WeightUnit != "" {
		wt, unit = json.Number(p.Weight), p.WeightUnit
	}
	var cat any
	if p.CategoryID != "" {
		cat = map[string]any{"id": p.CategoryID, "name": "Category"}
	}
	return map[string]any{
		"id": p.ID, "name": p.Name, "variant_name": p.Name, "handle": p.Handle, "description": p.Description,
		"sku": p.SKU, "price_excluding_tax": numOf(p.Excl), "price_including_tax": numOf(p.Incl),
		"supply_price": numOf(p.Supply), "weight": wt, "weight_unit": unit, "product_codes": codes,
		"categories": []any{}, "product_category": cat, "has_inventory": p.TrackStock, "has_variants": false,
		"variant_parent_id": nil, "variant_options": []any{}, "is_active": true, "active": true,
		"is_composite": false, "source": "USER", "tag_ids": []any{}, "images": []any{},
		"version": p.Version, "created_at": ts(p.CreatedAt), "updated_at": ts(p.UpdatedAt), "deleted_at": tsPtr(p.DeletedAt),
	}
}

// addProduct stores a new product with inventory rows for every outlet. Callers hold no lock.
func (s *Simulator) addProduct(p simProduct, inv map[string]*big.Rat) *simProduct {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addProductLocked(p, inv)
}

func (s *Simulator) addProductLocked(p simProduct, inv map[string]*big.Rat) *simProduct {
	now := s.now()
	p.ID = s.newID()
	if p.SKU != "" && !hasCode(p.Codes, p.SKU) { // the sku is a product code, added if missing
		p.Codes = append([]apiProductCode{{Type: "CUSTOM", Code: p.SKU}}, p.Codes...)
	}
	if p.Handle == "" {
		p.Handle = strings.ToLower(strings.ReplaceAll(p.Name, " ", "-"))
	}
	if p.Excl == nil && p.Incl == nil {
		p.Excl = new(big.Rat)
	}
	s.setPrices(&p, p.Incl, p.Excl)
	if p.Supply == nil {
		p.Supply = new(big.Rat)
	}
	p.TrackStock = true
	p.CreatedAt, p.UpdatedAt = now, now
	p.Version = s.nextVersion()
	s.products[p.ID] = &p
	for _, o := range s.outlets {
		lvl := new(big.Rat)
		if v, ok := inv[o.ID]; ok {
			lvl = v
		}
		s.inventory[p.ID+"/"+o.ID] = &simInventory{ID: s.newID(), ProductID: p.ID, OutletID: o.ID, Level: lvl,
			Version: s.nextVersion(), UpdatedAt: now}
	}
	return &p
}

// ProductCount answers how many products the retailer has, deleted ones included.
func (s *Simulator) ProductCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.products)
}

// SeedProducts adds n sample products with stock at every outlet and returns their ids.
func (s *Simulator) SeedProducts(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, n)
	base := len(s.products)
	for i := 0; i < n; i++ {
		k := base + i
		inv := map[string]*big.Rat{}
		for j, o := range s.outlets {
			inv[o.ID] = big.NewRat(int64((k*7+j*3)%40), 1)
		}
		p := s.addProductLocked(simProduct{
			Name:        fmt.Sprintf("Sample product %d", k),
			Description: fmt.Sprintf("<p>Sample product number %d.</p>", k),
			SKU:         fmt.Sprintf("SAMPLE-%05d", k),
			Excl:        big.NewRat(int64(499+k*25%9000), 100),
			Supply:      big.NewRat(int64(200+k*10%4000), 100),
			Weight:      strconv.Itoa(100 + k%900), WeightUnit: "G",
			Codes: []apiProductCode{{Type: "CUSTOM", Code: fmt.Sprintf("SAMPLE-%05d", k)},
				{Type: "EAN", Code: fmt.Sprintf("871%010d", k)}},
		}, inv)
		ids = append(ids, p.ID)
	}
	return ids
}

// TouchProduct edits a product's name the way a merchant would, giving it a new version and
// sending product.update webhooks.
func (s *Simulator) TouchProduct(id string) {
	s.mu.Lock()
	p, ok := s.products[id]
	if !ok {
		s.mu.Unlock()
		return
	}
	base, _, _ := strings.Cut(p.Name, " (edited")
	p.Name = fmt.Sprintf("%s (edited %d)", base, s.changes)
	p.UpdatedAt = s.now()
	p.Version = s.nextVersion()
	payload := s.productJSON(p)
	s.mu.Unlock()
	s.emit(TopicProduct, payload)
}

// DeleteProduct marks a product deleted (deleted_at), as DELETE /api/2.0/products/{id} does.
func (s *Simulator) DeleteProduct(id string) bool {
	s.mu.Lock()
	p, ok := s.products[id]
	if !ok || p.DeletedAt != nil {
		s.mu.Unlock()
		return false
	}
	now := s.now()
	p.DeletedAt, p.UpdatedAt, p.Version = &now, now, s.nextVersion()
	payload := s.productJSON(p)
	s.mu.Unlock()
	s.emit(TopicProduct, payload)
	return true
}

func (s *Simulator) listProducts(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := r.URL.Query()
	if sku := q.Get("sku"); sku != "" { // all other parameters are ignored with sku
		var data []map[string]any
		var found []*simProduct
		for _, p := range s.products {
			if p.SKU == sku {
				found = append(found, p)
			}
		}
		sort.Slice(found, func(i, j int) bool { return found[i].Version < found[j].Version })
		for _, p := range found {
			data = append(data, s.productJSON(p))
		}
		writeJSON(w, 200, map[string]any{"data": nonNil(data), "version": versionOf(found)})
		return
	}
	withDeleted := q.Get("deleted") == "true" || q.Get("deleted") == "1"
	all := make([]*simProduct, 0, len(s.products))
	for _, p := range s.products {
		if p.DeletedAt == nil || withDeleted {
			all = append(all, p)
		}
	}
	sel, ok := versionPage(s, w, r, all)
	if !ok {
		return
	}
	data := make([]map[string]any, 0, len(sel))
	for _, p := range sel {
		data = append(data, s.productJSON(p))
	}
	writeJSON(w, 200, map[string]any{"data": data, "version": versionOf(sel)})
}

func nonNil(d []map[string]any) []map[string]any {
	if d == nil {
		return []map[string]any{}
	}
	return d
}

func (s *Simulator) getProduct(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.products[r.PathValue("id")]
	if !ok {
		writeErr(w, http.StatusNotFound, "Not Found", "Product not found")
		return
	}
	writeJSON(w, 200, map[string]any{"data": s.productJSON(p)})
}

type simProductBody struct {
	Name              *string          `json:"name"`
	Description       *string          `json:"description"`
	Handle            string           `json:"handle"`
	SKU               *string          `json:"sku"`
	PriceIncludingTax json.Number      `json:"price_including_tax"`
	PriceExcludingTax json.Number      `json:"price_excluding_tax"`
	SupplyPrice       json.Number      `json:"supply_price"`
	Weight            json.Number      `json:"weight"`
	WeightUnit        string           `json:"weight_unit"`
	ProductCodes      []apiProductCode `json:"product_codes"`
	ProductCategoryID *string          `json:"product_category_id"`
	TrackInventory    *bool            `json:"track_inventory"`
	Inventory         []struct {
		OutletID      string      `json:"outlet_id"`
		CurrentAmount json.Number `json:"current_amount"`
	} `json:"inventory"`
}

// checkBody validates the fields shared by create and update; it answers 400 itself.
func (s *Simulator) checkBody(w http.ResponseWriter, b *simProductBody) (incl, excl *big.Rat, ok bool) {
	if b.PriceIncludingTax != "" && b.PriceExcludingTax != "" {
		writeErr(w, http.StatusBadRequest, "Bad Request", "You cannot include both price_including_tax and price_excluding_tax.")
		return nil, nil, false
	}
	var good bool
	if b.PriceIncludingTax != "" {
		if incl, good = ratOf(b.PriceIncludingTax); !good || incl.Sign() < 0 {
			writeErr(w, http.StatusBadRequest, "Bad Request", "price_including_tax must be a non-negative number")
			return nil, nil, false
		}
	}
	if b.PriceExcludingTax != "" {
		if excl, good = ratOf(b.PriceExcludingTax); !good || excl.Sign() < 0 {
			writeErr(w, http.StatusBadRequest, "Bad Request", "price_excluding_tax must be a non-negative number")
			return nil, nil, false
		}
	}
	if b.WeightUnit != "" {
		switch b.WeightUnit {
		case "CT", "G", "OZ", "LB", "KG":
		default:
			writeErr(w, http.StatusBadRequest, "Bad Request", "weight_unit must be one of CT, G, OZ, LB, KG")
			return nil, nil, false
		}
	}
	if b.Weight != "" {
		if _, good := ratOf(b.Weight); !good {
			writeErr(w, http.StatusBadRequest, "Bad Request", "weight must be a number")
			return nil, nil, false
		}
		if b.WeightUnit == "" {
			writeErr(w, http.StatusBadRequest, "Bad Request", "weight_unit must be provided with weight")
			return nil, nil, false
		}
	}
	for _, inv := range b.Inventory {
		if !s.hasOutlet(inv.OutletID) {
			writeErr(w, http.StatusBadRequest, "Bad Request", "Unknown outlet_id "+inv.OutletID)
			return nil, nil, false
		}
		if _, good := ratOf(inv.CurrentAmount); !good {
			writeErr(w, http.StatusBadRequest, "Bad Request", "current_amount must be a number")
			return nil, nil, false
		}
	}
	return incl, excl, true
}

func (s *Simulator) hasOutlet(id string) bool {
	for _, o := range s.outlets {
		if o.ID == id {
			return true
		}
	}
	return false
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "Bad Request", "Bad Request - The request body is malformed.")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		writeErr(w, http.StatusBadRequest, "Bad Request", "Bad Request - The request body is malformed.")
		return false
	}
	return true
}

func (s *Simulator) createProduct(w http.ResponseWriter, r *http.Request) {
	var b simProductBody
	if !readJSON(w, r, &b) {
		return
	}
	s.mu.Lock()
	if b.Name == nil || strings.TrimSpace(*b.Name) == "" {
		s.mu.Unlock()
		writeErr(w, http.StatusBadRequest, "Bad Request", "name is required")
		return
	}
	incl, excl, ok := s.checkBody(w, &b)
	if !ok {
		s.mu.Unlock()
		return
	}
	p := simProduct{Name: *b.Name, Handle: b.Handle, Codes: b.ProductCodes, WeightUnit: b.WeightUnit, Incl: incl, Excl: excl}
	if b.Description != nil {
		p.Description = *b.Description
	}
	if b.SKU != nil {
		p.SKU = *b.SKU
	}
	if b.Weight != "" {
		p.Weight = string(numOfText(b.Weight))
	}
	if v, ok := ratOf(b.SupplyPrice); ok {
		p.Supply = v
	}
	if b.ProductCategoryID != nil {
		p.CategoryID = *b.ProductCategoryID
	}
	inv := map[string]*big.Rat{}
	for _, i := range b.Inventory {
		inv[i.OutletID], _ = ratOf(i.CurrentAmount)
	}
	np := s.addProductLocked(p, inv)
	payload := s.productJSON(np)
	id := np.ID
	s.mu.Unlock()
	s.emit(TopicProduct, payload)
	writeJSON(w, 200, map[string]any{"data": []string{id}})
}

func numOfText(n json.Number) json.Number {
	r, ok := ratOf(n)
	if !ok {
		return "0"
	}
	return numOf(r)
}

func hasCode(codes []apiProductCode, code string) bool {
	for _, c := range codes {
		if c.Code == code {
			return true
		}
	}
	return false
}

// updateProduct is PUT /api/2.1/products/{id} {"common":{...},"details":{...}}.
func (s *Simulator) updateProduct(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Common  simProductBody `json:"common"`
		Details simProductBody `json:"details"`
	}
	if !readJSON(w, r, &b) {
		return
	}
	s.mu.Lock()
	p, ok := s.products[r.PathValue("id")]
	if !ok || p.DeletedAt != nil {
		s.mu.Unlock()
		writeErr(w, http.StatusNotFound, "Not Found", "Product not found")
		return
	}
	if b.Common.Name != nil && strings.TrimSpace(*b.Common.Name) == "" {
		s.mu.Unlock()
		writeErr(w, http.StatusUnprocessableEntity, "Unprocessable Entity", "name cannot be empty")
		return
	}
	incl, excl, ok := s.checkBody(w, &b.Details)
	if !ok {
		s.mu.Unlock()
		return
	}
	now := s.now()
	changed := false
	if c := b.Common; c.Name != nil || c.Description != nil || c.ProductCategoryID != nil || c.TrackInventory != nil {
		if c.Name != nil {
			p.Name = *c.Name
		}
		if c.Description != nil {
			p.Description = *c.Description
		}
		if c.ProductCategoryID != nil {
			p.CategoryID = *c.ProductCategoryID
		}
		if c.TrackInventory != nil {
			p.TrackStock = *c.TrackInventory
		}
		changed = true
	}
	d := b.Details
	if incl != nil || excl != nil {
		s.setPrices(p, incl, excl)
		changed = true
	}
	if d.ProductCodes != nil {
		p.Codes = d.ProductCodes
		if len(p.Codes) > 0 {
			p.SKU = p.Codes[0].Code // the first product code is the default one
		}
		changed = true
	}
	if d.WeightUnit != "" {
		p.Weight, p.WeightUnit = string(numOfText(d.Weight)), d.WeightUnit
		changed = true
	}
	var invPayloads []map[string]any
	for _, i := range d.Inventory {
		rec := s.inventory[p.ID+"/"+i.OutletID]
		lvl, _ := ratOf(i.CurrentAmount)
		rec.Level, rec.UpdatedAt, rec.Version = lvl, now, s.nextVersion()
		invPayloads = append(invPayloads, s.inventoryJSON(rec))
	}
	if changed {
		p.UpdatedAt, p.Version = now, s.nextVersion()
	}
	payload := s.productJSON(p)
	s.mu.Unlock()
	if changed {
		s.emit(TopicProduct, payload)
	}
	for _, ip := range invPayloads {
		s.emit(TopicInventory, ip)
	}
	writeJSON(w, 200, map[string]any{"data": payload})
}

func (s *Simulator) deleteProduct(w http.ResponseWriter, r *http.Request) {
	if !s.DeleteProduct(r.PathValue("id")) {
		writeErr(w, http.StatusNotFound, "Not Found", "Product not found")
		return
	}
	writeJSON(w, 200, map[string]any{})
}

// ---- inventory ----

func (s *Simulator) inventoryJSON(i *simInventory) map[string]any {
	return map[string]any{"id": i.ID, "product_id": i.ProductID, "outlet_id": i.OutletID,
		"inventory_level": numOf(i.Level), "current_amount": numOf(i.Level), "reorder_point": 0, "reorder_amount": 0,
		"average_cost": 0, "version": i.Version, "deleted_at": nil, "updated_at": ts(i.UpdatedAt)}
}

// SetInventory sets a product's level at an outlet as a stock count would, sending
// inventory.update webhooks.
func (s *Simulator) SetInventory(productID, outletID, qty string) bool {
	lvl, ok := ratOf(json.Number(qty))
	if !ok {
		return false
	}
	s.mu.Lock()
	rec, ok := s.inventory[productID+"/"+outletID]
	if !ok {
		s.mu.Unlock()
		return false
	}
	rec.Level, rec.UpdatedAt, rec.Version = lvl, s.now(), s.nextVersion()
	payload := s.inventoryJSON(rec)
	s.mu.Unlock()
	s.emit(TopicInventory, payload)
	return true
}

func (s *Simulator) listInventory(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*simInventory, 0, len(s.inventory))
	for _, i := range s.inventory {
		all = append(all, i)
	}
	sel, ok := versionPage(s, w, r, all)
	if !ok {
		return
	}
	data := make([]map[string]any, 0, len(sel))
	for _, i := range sel {
		data = append(data, s.inventoryJSON(i))
	}
	writeJSON(w, 200, map[string]any{"data": data, "version": versionOf(sel)})
}

// ---- customers ----

func (s *Simulator) customerJSON(c *simCustomer) map[string]any {
	return map[string]any{"id": c.ID, "first_name": c.FirstName, "last_name": c.LastName,
		"name": strings.TrimSpace(c.FirstName + " " + c.LastName), "email": c.Email, "phone": c.Phone,
		"mobile": "", "customer_code": c.Code, "version": c.Version, "created_at": ts(c.CreatedAt),
		"updated_at": ts(c.UpdatedAt), "deleted_at": nil}
}

type simCustomerBody struct {
	FirstName    *string `json:"first_name"`
	LastName     *string `json:"last_name"`
	Email        *string `json:"email"`
	Phone        *string `json:"phone"`
	CustomerCode *string `json:"customer_code"`
}

func (b simCustomerBody) apply(c *simCustomer) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&c.FirstName, b.FirstName)
	set(&c.LastName, b.LastName)
	set(&c.Email, b.Email)
	set(&c.Phone, b.Phone)
	set(&c.Code, b.CustomerCode)
}

func (s *Simulator) listCustomers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*simCustomer, 0, len(s.customers))
	for _, c := range s.customers {
		all = append(all, c)
	}
	sel, ok := versionPage(s, w, r, all)
	if !ok {
		return
	}
	data := make([]map[string]any, 0, len(sel))
	for _, c := range sel {
		data = append(data, s.customerJSON(c))
	}
	writeJSON(w, 200, map[string]any{"data": data, "version": versionOf(sel)})
}

func (s *Simulator) createCustomer(w http.ResponseWriter, r *http.Request) {
	var b simCustomerBody
	if !readJSON(w, r, &b) {
		return
	}
	c := &simCustomer{}
	b.apply(c)
	if c.FirstName == "" && c.LastName == "" && c.Email == "" {
		writeErr(w, http.StatusBadRequest, "Bad Request", "a customer needs a name or an email")
		return
	}
	s.mu.Lock()
	now := s.now()
	c.ID, c.CreatedAt, c.UpdatedAt, c.Version = s.newID(), now, now, s.nextVersion()
	if c.Code == "" {
		c.Code = fmt.Sprintf("C-%06d", len(s.customers)+1)
	}
	s.customers[c.ID] = c
	payload := s.customerJSON(c)
	s.mu.Unlock()
	s.emit(TopicCustomer, payload)
	writeJSON(w, 200, map[string]any{"data": payload})
}

func (s *Simulator) getCustomer(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[r.PathValue("id")]
	if !ok {
		writeErr(w, http.StatusNotFound, "Not Found", "Customer not found")
		return
	}
	writeJSON(w, 200, map[string]any{"data": s.customerJSON(c)})
}

func (s *Simulator) updateCustomer(w http.ResponseWriter, r *http.Request) {
	var b simCustomerBody
	if !readJSON(w, r, &b) {
		return
	}
	s.mu.Lock()
	c, ok := s.customers[r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		writeErr(w, http.StatusNotFound, "Not Found", "Customer not found")
		return
	}
	b.apply(c)
	c.UpdatedAt, c.Version = s.now(), s.nextVersion()
	payload := s.customerJSON(c)
	s.mu.Unlock()
	s.emit(TopicCustomer, payload)
	writeJSON(w, 200, map[string]any{"data": payload})
}

// ---- sales ----

func (s *Simulator) saleTotals(sl *simSale) (price, tax *big.Rat) {
	price, tax = new(big.Rat), new(big.Rat)
	for _, l := range sl.Lines {
		price.Add(price, mul(l.Price, l.Quantity))
		tax.Add(tax, mul(l.Tax, l.Quantity))
	}
	return price, tax
}

// saleJSON renders the API 2.0 shape.
func (s *Simulator) saleJSON(sl *simSale) map[string]any {
	price, tax := s.saleTotals(sl)
	lines := make([]map[string]any, 0, len(sl.Lines))
	for i, l := range sl.Lines {
		lines = append(lines, map[string]any{"id": l.ID, "product_id": l.ProductID, "quantity": numOf(l.Quantity),
			"price": numOf(l.Price), "unit_price": numOf(l.Price), "total_price": numOf(mul(l.Price, l.Quantity)),
			"price_total": numOf(mul(l.Price, l.Quantity)), "tax": numOf(l.Tax), "unit_tax": numOf(l.Tax),
			"total_tax": numOf(mul(l.Tax, l.Quantity)), "tax_total": numOf(mul(l.Tax, l.Quantity)),
			"sequence": i, "status": "CONFIRMED", "note": l.Note})
	}
	var cust any
	if sl.CustomerID != "" {
		cust = sl.CustomerID
	}
	return map[string]any{"id": sl.ID, "outlet_id": sl.OutletID, "register_id": sl.RegisterID, "user_id": sl.UserID,
		"customer_id": cust, "invoice_number": sl.Invoice, "receipt_number": sl.Invoice, "status": sl.Status,
		"state": saleState(sl.Status), "note": sl.Note, "sale_date": ts(sl.SaleDate), "created_at": ts(sl.CreatedAt),
		"updated_at": ts(sl.UpdatedAt), "total_price": numOf(price), "total_tax": numOf(tax),
		"line_items": lines, "payments": []any{}, "version": sl.Version, "deleted_at": nil}
}

// registerSaleJSON renders the 0.9 register_sale shape.
func (s *Simulator) registerSaleJSON(sl *simSale) map[string]any {
	price, tax := s.saleTotals(sl)
	prods := make([]map[string]any, 0, len(sl.Lines))
	for i, l := range sl.Lines {
		name := ""
		if p, ok := s.products[l.ProductID]; ok {
			name = p.Name
		}
		attrs := []map[string]string{}
		if l.Note != "" {
			attrs = append(attrs, map[string]string{"name": "line_note", "value": l.Note})
		}
		prods = append(prods, map[string]any{"id": l.ID, "product_id": l.ProductID, "register_id": sl.RegisterID,
			"sequence": strconv.Itoa(i), "name": name, "quantity": numOf(l.Quantity), "price": numOf(l.Price),
			"tax": numOf(l.Tax), "price_total": numOf(mul(l.Price, l.Quantity)), "tax_total": numOf(mul(l.Tax, l.Quantity)),
			"status": "CONFIRMED", "attributes": attrs})
	}
	var cust any
	if sl.CustomerID != "" {
		cust = sl.CustomerID
	}
	return map[string]any{"id": sl.ID, "register_id": sl.RegisterID, "user_id": sl.UserID, "customer_id": cust,
		"invoice_number": sl.Invoice, "status": sl.Status, "note": sl.Note,
		"sale_date": sl.SaleDate.UTC().Format("2006-01-02 15:04:05"), "created_at": sl.CreatedAt.UTC().Format("2006-01-02 15:04:05"),
		"updated_at": sl.UpdatedAt.UTC().Format("2006-01-02 15:04:05"), "total_price": numOf(price), "total_tax": numOf(tax),
		"register_sale_products": prods, "register_sale_payments": []any{},
		"totals": map[string]any{"total_price": numOf(price), "total_tax": numOf(tax), "total_payment": 0,
			"total_to_pay": numOf(new(big.Rat).Add(price, tax))}}
}

func saleState(status string) string {
	switch status {
	case "VOIDED":
		return "voided"
	case "CLOSED", "ONACCOUNT_CLOSED", "LAYBY_CLOSED":
		return "closed"
	case "SAVED":
		return "parked"
	}
	return "pending"
}

var saleStatuses = map[string]bool{"SAVED": true, "CLOSED": true, "ONACCOUNT": true, "LAYBY": true,
	"ONACCOUNT_CLOSED": true, "LAYBY_CLOSED": true, "VOIDED": true, "ON_ACCOUNT": true, "ON_ACCOUNT_CLOSED": true}

type simRegisterSaleBody struct {
	ID            string  `json:"id"`
	RegisterID    string  `json:"register_id"`
	UserID        string  `json:"user_id"`
	CustomerID    string  `json:"customer_id"`
	Status        string  `json:"status"`
	Note          *string `json:"note"`
	InvoiceNumber string  `json:"invoice_number"`
	SaleDate      string  `json:"sale_date"`
	Products      []struct {
		ProductID  string         `json:"product_id"`
		Quantity   json.Number    `json:"quantity"`
		Price      json.Number    `json:"price"`
		Tax        json.Number    `json:"tax"`
		Attributes []apiAttribute `json:"attributes"`
	} `json:"register_sale_products"`
}

// registerSale is the 0.9 POST /api/register_sales: create, or update when id is given (every
// line must be sent again; the ones left out are deleted).
func (s *Simulator) registerSale(w http.ResponseWriter, r *http.Request) {
	var b simRegisterSaleBody
	if !readJSON(w, r, &b) {
		return
	}
	s.mu.Lock()
	sl, status, msg := s.applyRegisterSale(b)
	if status != 0 {
		s.mu.Unlock()
		writeErr(w, status, http.StatusText(status), msg)
		return
	}
	out := s.registerSaleJSON(sl)
	payload := s.saleJSON(sl)
	s.mu.Unlock()
	s.emit(TopicSale, payload)
	writeJSON(w, 200, map[string]any{"register_sale": out})
}

func (s *Simulator) applyRegisterSale(b simRegisterSaleBody) (*simSale, int, string) {
	var reg *simRegister
	for i := range s.registers {
		if s.registers[i].ID == b.RegisterID {
			reg = &s.registers[i]
		}
	}
	if reg == nil {
		return nil, 400, "register_id is missing or unknown"
	}
	userOK := false
	for _, u := range s.users {
		userOK = userOK || u.ID == b.UserID
	}
	if !userOK {
		return nil, 400, "user_id is missing or unknown"
	}
	status := strings.ToUpper(b.Status)
	if status == "" {
		status = "SAVED"
	}
	if !saleStatuses[status] {
		return nil, 400, "status must be one of SAVED, CLOSED, ONACCOUNT, LAYBY, ONACCOUNT_CLOSED, LAYBY_CLOSED, VOIDED"
	}
	if b.CustomerID != "" {
		if _, ok := s.customers[b.CustomerID]; !ok {
			return nil, 400, "customer_id is unknown"
		}
	}
	var lines []simLine
	for i, p := range b.Products {
		prod, ok := s.products[p.ProductID]
		if !ok || prod.DeletedAt != nil {
			return nil, 400, fmt.Sprintf("register_sale_products[%d]: product %q not found", i, p.ProductID)
		}
		qty, ok1 := ratOf(p.Quantity)
		price, ok2 := ratOf(p.Price)
		if !ok1 || !ok2 {
			return nil, 400, fmt.Sprintf("register_sale_products[%d]: quantity and price are required numbers", i)
		}
		tax := new(big.Rat)
		if p.Tax != "" {
			if t, ok := ratOf(p.Tax); ok {
				tax = t
			}
		}
		l := simLine{ID: s.newID(), ProductID: p.ProductID, Quantity: qty, Price: price, Tax: tax}
		for _, a := range p.Attributes {
			if a.Name == "line_note" {
				l.Note = a.Value
			}
		}
		lines = append(lines, l)
	}
	now := s.now()
	var sl *simSale
	if b.ID != "" {
		var ok bool
		sl, ok = s.sales[b.ID]
		if !ok {
			return nil, 404, "Sale not found"
		}
		if sl.Status == "VOIDED" {
			return nil, 400, "The sale is voided and cannot be changed"
		}
		if saleState(sl.Status) == "closed" && status != "VOIDED" {
			return nil, 400, "The sale is closed; it can only be voided"
		}
	} else {
		sl = &simSale{ID: s.newID(), CreatedAt: now, SaleDate: now}
		if t := parseTime(b.SaleDate); !t.IsZero() {
			sl.SaleDate = t
		}
		s.sales[sl.ID] = sl
	}
	sl.RegisterID, sl.OutletID, sl.UserID, sl.CustomerID = reg.ID, reg.OutletID, b.UserID, b.CustomerID
	sl.Status, sl.Lines, sl.UpdatedAt, sl.Version = status, lines, now, s.nextVersion()
	if b.Note != nil {
		sl.Note = *b.Note
	}
	switch {
	case b.InvoiceNumber != "":
		sl.Invoice = b.InvoiceNumber
	case sl.Invoice == "":
		s.invoiceSeq++
		sl.Invoice = strconv.Itoa(s.invoiceSeq)
	}
	return sl, 0, ""
}

// CompleteSale closes a parked sale as a cashier would at the register.
func (s *Simulator) CompleteSale(id string) bool {
	s.mu.Lock()
	sl, ok := s.sales[id]
	if !ok || sl.Status == "VOIDED" {
		s.mu.Unlock()
		return false
	}
	sl.Status, sl.UpdatedAt, sl.Version = "CLOSED", s.now(), s.nextVersion()
	payload := s.saleJSON(sl)
	s.mu.Unlock()
	s.emit(TopicSale, payload)
	return true
}

// SeedSales records n closed sales of sample products at the first register and returns their
// ids (seed products first).
func (s *Simulator) SeedSales(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var prods []string
	for id, p := range s.products {
		if p.DeletedAt == nil && id != s.misc {
			prods = append(prods, id)
		}
	}
	sort.Strings(prods)
	if len(prods) == 0 {
		prods = []string{s.misc}
	}
	ids := make([]string, 0, n)
	for i := 0; i < n; i++ {
		p := s.products[prods[i%len(prods)]]
		now := s.now()
		s.invoiceSeq++
		sl := &simSale{ID: s.newID(), RegisterID: s.registers[0].ID, OutletID: s.registers[0].OutletID,
			UserID: s.users[0].ID, Invoice: strconv.Itoa(s.invoiceSeq), Status: "CLOSED",
			Lines:    []simLine{{ID: s.newID(), ProductID: p.ID, Quantity: big.NewRat(int64(1+i%3), 1), Price: p.Excl, Tax: mul(p.Excl, s.taxRate), Note: p.Name}},
			SaleDate: now, CreatedAt: now, UpdatedAt: now, Version: s.nextVersion()}
		s.sales[sl.ID] = sl
		ids = append(ids, sl.ID)
	}
	return ids
}

func (s *Simulator) listSales(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*simSale, 0, len(s.sales))
	for _, sl := range s.sales {
		all = append(all, sl)
	}
	sel, ok := versionPage(s, w, r, all)
	if !ok {
		return
	}
	data := make([]map[string]any, 0, len(sel))
	for _, sl := range sel {
		data = append(data, s.saleJSON(sl))
	}
	writeJSON(w, 200, map[string]any{"data": data, "version": versionOf(sel)})
}

func (s *Simulator) getSale(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl, ok := s.sales[r.PathValue("id")]
	if !ok {
		writeErr(w, http.StatusNotFound, "Not Found", "Sale not found")
		return
	}
	writeJSON(w, 200, map[string]any{"data": s.saleJSON(sl)})
}

// search is GET /api/2.0/search?type=sales&invoice_number= (the subset the connector uses).
func (s *Simulator) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("type") != "sales" {
		writeErr(w, http.StatusBadRequest, "Bad Request", "type must be one of: sales (simulated subset)")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := q.Get("invoice_number")
	var found []*simSale
	for _, sl := range s.sales {
		if inv == "" || sl.Invoice == inv {
			found = append(found, sl)
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Version < found[j].Version })
	data := make([]map[string]any, 0, len(found))
	for _, sl := range found {
		data = append(data, s.saleJSON(sl))
	}
	writeJSON(w, 200, map[string]any{"data": data})
}

// ---- webhooks ----

var webhookTypeSet = map[string]bool{TopicSale: true, TopicProduct: true, TopicCustomer: true, TopicInventory: true,
	"register_closure.create": true, "consignment.send": true, "consignment.receive": true}

func (s *Simulator) webhookJSON(h *simWebhook) map[string]any {
	return map[string]any{"id": h.ID, "url": h.URL, "active": h.Active, "type": h.Type, "retailer_id": s.retailerID}
}

func (s *Simulator) listWebhooks(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data := []map[string]any{}
	ids := make([]string, 0, len(s.webhooks))
	for id := range s.webhooks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		data = append(data, s.webhookJSON(s.webhooks[id]))
	}
	writeJSON(w, 200, map[string]any{"data": data})
}

func (s *Simulator) createWebhook(w http.ResponseWriter, r *http.Request) {
	var b struct {
		URL    string `json:"url"`
		Active *bool  `json:"active"`
		Type   string `json:"type"`
	}
	if !readJSON(w, r, &b) {
		return
	}
	u, err := url.Parse(b.URL)
	if len(b.URL) < 3 || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		writeErr(w, http.StatusBadRequest, "Bad Request", "url must be an http(s) URL")
		return
	}
	if !webhookTypeSet[b.Type] {
		writeErr(w, http.StatusBadRequest, "Bad Request", "type must be one of sale.update, product.update, customer.update, inventory.update, register_closure.create, consignment.send, consignment.receive")
		return
	}
	if b.Active == nil {
		writeErr(w, http.StatusBadRequest, "Bad Request", "active is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.webhooks {
		if h.URL == b.URL && h.Type == b.Type {
			writeJSON(w, http.StatusConflict, map[string]string{"error": "A webhook with this type and URL already exists."})
			return
		}
	}
	h := &simWebhook{ID: s.newID(), URL: b.URL, Type: b.Type, Active: *b.Active}
	s.webhooks[h.ID] = h
	writeJSON(w, http.StatusCreated, map[string]any{"data": s.webhookJSON(h)})
}

func (s *Simulator) getWebhook(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.webhooks[r.PathValue("id")]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Not Found"})
		return
	}
	writeJSON(w, 200, map[string]any{"data": s.webhookJSON(h)})
}

func (s *Simulator) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	if _, ok := s.webhooks[id]; !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Not Found"})
		return
	}
	delete(s.webhooks, id)
	writeJSON(w, 200, map[string]any{})
}

// SignedDelivery builds a delivery exactly as the simulator sends one: a form-encoded body
// with the JSON payload (and type, domain_prefix), signed in the configured header.
func (s *Simulator) SignedDelivery(typ string, payload any) (http.Header, []byte) {
	pj, err := json.Marshal(payload)
	if err != nil {
		pj = []byte("{}")
	}
	form := url.Values{"payload": {string(pj)}, "type": {typ}, "domain_prefix": {"simulated"}, "environment": {"sandbox"}}
	body := []byte(form.Encode())
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("User-Agent", "Lightspeed-Retail-Webhooks (simulated)")
	s.mu.Lock()
	h.Set(s.sigHeader, Sign(s.secret, body))
	s.mu.Unlock()
	return h, body
}

// emit delivers a change to every active webhook of its type, in the background, with a few
// tries; Close waits for deliveries in flight and cancels the rest.
func (s *Simulator) emit(typ string, payload map[string]any) {
	s.mu.Lock()
	var targets []string
	for _, h := range s.webhooks {
		if h.Active && h.Type == typ {
			targets = append(targets, h.URL)
		}
	}
	tries, wait, hc := s.deliverTries, s.deliverWait, s.deliver
	s.mu.Unlock()
	if len(targets) == 0 {
		return
	}
	select {
	case <-s.closed:
		return
	default:
	}
	hdr, body := s.SignedDelivery(typ, payload)
	for _, t := range targets {
		s.wg.Add(1)
		go func(target string) {
			defer s.wg.Done()
			for i := 0; i < tries; i++ {
				if i > 0 && !s.wait(context.Background(), wait) {
					return
				}
				ctx, cancel := context.WithCancel(context.Background())
				go func() {
					select {
					case <-s.closed:
						cancel()
					case <-ctx.Done():
					}
				}()
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
				if err != nil {
					cancel()
					return
				}
				req.Header = hdr.Clone()
				resp, err := hc.Do(req)
				ok := false
				if err == nil {
					_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
					_ = resp.Body.Close()
					ok = resp.StatusCode >= 200 && resp.StatusCode < 300
				}
				cancel()
				if ok {
					s.delivered.Add(1)
					return
				}
			}
		}(t)
	}
}

// CompleteOrder closes a parked sale (an order) as a cashier would at the register.
func (s *Simulator) CompleteOrder(id string) bool {
	s.mu.Lock()
	sl, ok := s.sales[id]
	open := ok && orderState(sl.Status) == domain.OrderOpen
	s.mu.Unlock()
	return open && s.CompleteSale(id)
}

// VoidOrder voids a parked sale, as a cashier would at the register.
func (s *Simulator) VoidOrder(id string) bool {
	s.mu.Lock()
	sl, ok := s.sales[id]
	if !ok || orderState(sl.Status) != domain.OrderOpen {
		s.mu.Unlock()
		return false
	}
	sl.Status, sl.UpdatedAt, sl.Version = "VOIDED", s.now(), s.nextVersion()
	payload := s.saleJSON(sl)
	s.mu.Unlock()
	s.emit(TopicSale, payload)
	return true
}
