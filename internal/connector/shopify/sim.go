package shopify

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// Simulator is a stateful stand-in for one Shopify store's Admin API (REST 2025-10 and the
// GraphQL operations the client uses, charged by calculated query cost against a bucket that
// answers THROTTLED), for tests, the demo and the sandbox. It keeps products with
// variants and inventory items, inventory levels per location, customers, orders and webhook
// subscriptions; paginates with Link/page_info; answers Shopify's error bodies; enforces the
// leaky bucket per app and store (40 requests leaking 2/s by default) with
// X-Shopify-Shop-Api-Call-Limit, 429 and Retry-After; and delivers webhooks signed with
// X-Shopify-Hmac-Sha256. Fault injection (FailNext, SetLatency) serves the tests.
// It is safe for concurrent use.
type Simulator struct {
	mu        sync.Mutex
	token     string
	secret    string
	shopName  string
	currency  string
	appID     int64
	nextID    int64
	orderNo   int
	products  map[int64]*productJSON
	refs      map[int64]string // product -> the posbridge.ref metafield
	pUpdated  map[int64]time.Time
	locations []locationJSON
	levels    map[[2]int64]*simLevel // inventory item, location
	levelSeq  int64
	customers map[int64]*customerJSON
	orders    map[int64]*simOrder
	webhooks  map[int64]*simWebhook
	edits     map[string]*simEdit
	now       func() time.Time

	// leaky bucket (REST) and cost bucket (GraphQL)
	size, leak, used float64
	last             time.Time
	gql              gqlBucket

	// faults
	loseN      int // product writes to apply whose answers are lost (LoseNextAnswers)
	loseStatus int // the status answered instead (0: the connection is closed without an answer)
	fail       []int
	latency    time.Duration

	calls, throttled int
	deliveries       []Delivery
	pending          sync.WaitGroup
	hookClient       *http.Client
	closed           chan struct{}
	closeOnce        sync.Once
	seedN            int
}

type simLevel struct {
	seq       int64
	level     inventoryLevelJSON
	updatedAt time.Time
}

type simOrder struct {
	o       orderJSON
	updated time.Time
}

type simEdit struct {
	orderID int64
	lines   []simEditLine
}

type simEditLine struct {
	calcID   string
	lineID   int64 // 0 for a line added in this edit
	variant  int64
	product  int64
	title    string
	sku      string
	price    string
	quantity int
}

// Delivery is one webhook the simulator sent, and how it went.
type Delivery struct {
	Topic   string
	Address string
	Status  int // 0 when the request failed
	Err     string
	Header  http.Header
	Body    []byte
}

// SimOption configures a Simulator.
type SimOption func(*Simulator)

// WithSeedProducts loads n sample products.
func WithSeedProducts(n int) SimOption {
	return func(s *Simulator) { s.seedN += n }
}

// WithBucket sets the leaky bucket: size requests, leaking leak requests a second.
func WithBucket(size int, leak float64) SimOption {
	return func(s *Simulator) { s.size, s.leak = float64(size), leak }
}

// WithCredentials sets the access token and the app's client secret (the webhook key).
func WithCredentials(token, secret string) SimOption {
	return func(s *Simulator) { s.token, s.secret = token, secret }
}

// WithCurrency sets the shop currency (default EUR).
func WithCurrency(cur string) SimOption { return func(s *Simulator) { s.currency = cur } }

// WithWebhookClient sets the client that delivers webhooks (default: a plain client with
// Shopify's 5 s timeout). A simulator offered to merchants as a sandbox must be given a guarded
// client (connector.NewHTTPClient), since subscription addresses are theirs to choose.
func WithWebhookClient(c *http.Client) SimOption { return func(s *Simulator) { s.hookClient = c } }

// NewSimulator makes a simulator with two locations and no products unless WithSeedProducts.
func NewSimulator(opts ...SimOption) *Simulator {
	s := &Simulator{
		token: "shpat_sim_0123456789abcdef", secret: "shpss_sim_secret", shopName: "posbridge-sim",
		currency: "EUR", appID: 1966818, nextID: 632910392, orderNo: 1000,
		products: map[int64]*productJSON{}, refs: map[int64]string{}, pUpdated: map[int64]time.Time{},
		levels: map[[2]int64]*simLevel{}, customers: map[int64]*customerJSON{}, orders: map[int64]*simOrder{},
		webhooks: map[int64]*simWebhook{}, edits: map[string]*simEdit{}, now: time.Now,
		size: 40, leak: 2, gql: gqlBucket{max: 2000, restore: 100, avail: 2000}, hookClient: &http.Client{Timeout: 5 * time.Second}, closed: make(chan struct{}),
	}
	s.last = s.now()
	s.gql.last = s.last
	s.locations = []locationJSON{{ID: s.id(), Name: "Main store", Active: true}, {ID: s.id(), Name: "Warehouse", Active: true}}
	for _, o := range opts {
		o(s)
	}
	s.seed(s.seedN) // after the other options, so the currency is set
	return s
}

// Close makes hanging answers (FailNext with status 0) return and waits for webhook deliveries.
func (s *Simulator) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.pending.Wait()
}

// Info describes the simulator served at rootURL for `posbridge sim`.
func (s *Simulator) Info(rootURL string) connector.SimInfo {
	return connector.SimInfo{
		Provider: "shopify", BaseURL: rootURL,
		Credentials:   map[string]string{FieldShopDomain: rootURL, FieldAccessToken: s.token, FieldAPISecret: s.secret},
		WebhookSecret: s.secret,
	}
}

// AccessToken and APISecret return the simulator's credentials.
func (s *Simulator) AccessToken() string { return s.token }

// APISecret is the app's client secret the simulator signs webhooks with.
func (s *Simulator) APISecret() string { return s.secret }

// SetBucket changes the leaky bucket (size requests, leak a second) and empties it.
func (s *Simulator) SetBucket(size int, leak float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.size, s.leak, s.used, s.last = float64(size), leak, 0, s.now()
}

// FailNext makes the next n API calls answer status; 0 means no answer until the client gives up.
func (s *Simulator) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.fail = append(s.fail, status)
	}
}

// LoseNextAnswers makes the next n product writes (productSet) apply but answer 504 instead of
// their result, as a proxy in front of the shop does when the shop finished after the proxy gave
// up: the client cannot tell whether, or what, the shop created.
func (s *Simulator) LoseNextAnswers(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseN, s.loseStatus = n, http.StatusGatewayTimeout
}

// LoseNextAnswersAs makes the next n product writes (productSet) apply but answer status
// instead of their result (an error page), or, with status 0, close the connection without an
// answer, as a shop that fails, or a connection that breaks, after the write was done.
func (s *Simulator) LoseNextAnswersAs(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseN, s.loseStatus = n, status
}

// SetLatency delays every API answer by d (slow answers).
func (s *Simulator) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// Calls counts API calls answered, whatever their status.
func (s *Simulator) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Throttled counts 429 answers given because the bucket was full.
func (s *Simulator) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

// Deliveries returns the webhooks sent so far.
func (s *Simulator) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

func (s *Simulator) id() int64 {
	s.nextID += 1 + s.nextID%7
	return s.nextID
}

func (s *Simulator) stamp() (string, time.Time) {
	t := s.now().UTC().Truncate(time.Second)
	return t.Format(time.RFC3339), t
}

// SeedProducts adds n sample products (one variant each, stocked at every location) and returns their ids.
func (s *Simulator) SeedProducts(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seed(n)
}

func (s *Simulator) seed(n int) []string {
	ids := make([]string, 0, n)
	for i := 0; i < n; i++ {
		k := len(s.products) + 1
		w := json.Number(strconv.Itoa(100 + k%900))
		mg := "shopify"
		p := productJSON{
			Title: fmt.Sprintf("Sample product %d", k), BodyHTML: fmt.Sprintf("<p>Sample product number %d.</p>", k),
			Vendor: "posbridge", ProductType: []string{"Parts", "Accessories", "Service"}[k%3], Status: "active",
			Variants: []variantJSON{{Title: "Default Title", Option1: "Default Title", Price: formatMoney(int64(499+k*100), s.currency),
				SKU: fmt.Sprintf("SKU-%05d", k), Barcode: fmt.Sprintf("8712345%06d", k), Weight: &w, WeightUnit: "g", InventoryManagement: &mg}},
		}
		s.insertProduct(&p)
		for _, l := range s.locations {
			s.setLevel(p.Variants[0].InventoryItemID, l.ID, (k*7)%40)
		}
		ids = append(ids, strconv.FormatInt(p.ID, 10))
	}
	return ids
}

var handleRE = regexp.MustCompile(`[^a-z0-9]+`)

func (s *Simulator) insertProduct(p *productJSON) {
	ts, t := s.stamp()
	p.ID = s.id()
	p.CreatedAt, p.UpdatedAt = ts, ts
	if p.Handle == "" {
		p.Handle = strings.Trim(handleRE.ReplaceAllString(strings.ToLower(p.Title), "-"), "-")
	}
	for i := range p.Variants {
		s.fillVariant(p, &p.Variants[i])
	}
	s.products[p.ID] = p
	s.pUpdated[p.ID] = t
}

func (s *Simulator) fillVariant(p *productJSON, v *variantJSON) {
	ts, _ := s.stamp()
	if v.ID == 0 {
		v.ID = s.id()
		v.InventoryItemID = s.id()
	}
	v.ProductID = p.ID
	if v.Option1 == "" {
		v.Option1 = "Default Title"
	}
	v.Title = v.Option1
	if v.Price == "" {
		v.Price = formatMoney(0, s.currency)
	}
	v.UpdatedAt = ts
}

func (s *Simulator) setLevel(item, loc int64, qty int) *simLevel {
	ts, t := s.stamp()
	l, ok := s.levels[[2]int64{item, loc}]
	if !ok {
		s.levelSeq++
		l = &simLevel{seq: s.levelSeq}
		s.levels[[2]int64{item, loc}] = l
	}
	q := qty
	l.level = inventoryLevelJSON{InventoryItemID: item, LocationID: loc, Available: &q, UpdatedAt: ts}
	l.updatedAt = t
	return l
}

// TouchProduct renames a product the way a merchant edit would, and sends products/update.
func (s *Simulator) TouchProduct(id string) {
	n, _ := strconv.ParseInt(id, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.products[n]
	if !ok {
		return
	}
	p.Title += " (edited)"
	s.touch(p)
	s.notify("products/update", p)
}

func (s *Simulator) touch(p *productJSON) {
	ts, t := s.stamp()
	p.UpdatedAt = ts
	s.pUpdated[p.ID] = t
}

// SetAvailable sets a variant's stock at a location as a merchant's count would.
func (s *Simulator) SetAvailable(inventoryItemID, locationID int64, qty int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.setLevel(inventoryItemID, locationID, qty)
	s.notify("inventory_levels/update", l.level)
}

// Locations returns the location ids.
func (s *Simulator) Locations() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int64
	for _, l := range s.locations {
		ids = append(ids, l.ID)
	}
	return ids
}

// AddPOSSale records a paid order as Shopify POS would (attributed to the POS app, not ours).
func (s *Simulator) AddPOSSale(title string, price int64, qty int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	loc := s.locations[0].ID
	o := orderJSON{Currency: s.currency, FinancialStatus: "paid", SourceName: "pos", LocationID: &loc,
		LineItems: []lineItemJSON{{Title: title, Quantity: qty, Price: formatMoney(price, s.currency)}}}
	so := s.insertOrder(o, 129785)
	s.notify("orders/create", so.o)
	return strconv.FormatInt(so.o.ID, 10)
}

// Shopify's own error texts.
const (
	msgAuth      = "[API] Invalid API key or access token (unrecognized login or wrong password)"
	msgThrottled = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
	msgNotFound  = "Not Found"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func errorsBody(v any) map[string]any { return map[string]any{"errors": v} }

var apiPrefix = "/admin/api/" + APIVersion + "/"

// ServeHTTP answers the Admin API below /admin/api/2025-10/.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/admin/api/") {
		writeJSON(w, http.StatusNotFound, errorsBody(msgNotFound))
		return
	}
	s.mu.Lock()
	s.calls++
	latency := s.latency
	fault := -1
	if len(s.fail) > 0 {
		fault, s.fail = s.fail[0], s.fail[1:]
	}
	s.mu.Unlock()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		}
	}
	if fault == 0 {
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		return
	}
	if r.Header.Get("X-Shopify-Access-Token") != s.token || fault == http.StatusUnauthorized {
		writeJSON(w, http.StatusUnauthorized, errorsBody(msgAuth))
		return
	}
	if !strings.HasPrefix(r.URL.Path, apiPrefix) {
		writeJSON(w, http.StatusNotFound, errorsBody(msgNotFound))
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, apiPrefix)
	if rest == "graphql.json" {
		if fault > 0 {
			writeJSON(w, fault, errorsBody(http.StatusText(fault)))
			return
		}
		s.graphql(w, r)
		return
	}
	s.mu.Lock()
	ok, header, wait := s.take()
	s.mu.Unlock()
	w.Header().Set("X-Shopify-Shop-Api-Call-Limit", header)
	if !ok || fault == http.StatusTooManyRequests {
		s.mu.Lock()
		if !ok {
			s.throttled++
		} else {
			wait = time.Duration(4 / s.leak * float64(time.Second))
		}
		s.mu.Unlock()
		w.Header().Set("Retry-After", fmt.Sprintf("%.1f", wait.Seconds()))
		writeJSON(w, http.StatusTooManyRequests, errorsBody(msgThrottled))
		return
	}
	if fault > 0 {
		writeJSON(w, fault, errorsBody(http.StatusText(fault)))
		return
	}
	s.route(w, r, rest)
}

// take counts one request in the leaky bucket; when it is full it says how long to wait.
// Retry-After is the time four requests take to leak (2.0 s on the Standard plan, the value in
// Shopify's documentation).
func (s *Simulator) take() (ok bool, header string, wait time.Duration) {
	now := s.now()
	s.used = math.Max(0, s.used-now.Sub(s.last).Seconds()*s.leak)
	s.last = now
	if s.used+1 > s.size+1e-9 {
		d := time.Duration(4 / s.leak * float64(time.Second))
		if d < 100*time.Millisecond {
			d = 100 * time.Millisecond
		}
		return false, fmt.Sprintf("%d/%d", int(s.size), int(s.size)), d
	}
	s.used++
	return true, fmt.Sprintf("%d/%d", int(math.Ceil(s.used-1e-9)), int(s.size)), 0
}

func (s *Simulator) route(w http.ResponseWriter, r *http.Request, rest string) {
	seg := strings.Split(strings.TrimSuffix(rest, ".json"), "/")
	m := r.Method
	switch {
	case len(seg) == 1 && seg[0] == "shop" && m == http.MethodGet:
		s.mu.Lock()
		body := map[string]any{"shop": map[string]any{"id": 548380009, "name": s.shopName, "domain": r.Host,
			"myshopify_domain": r.Host, "currency": s.currency, "plan_name": "basic"}}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, body)
	case len(seg) == 1 && seg[0] == "locations" && m == http.MethodGet:
		s.mu.Lock()
		body := map[string]any{"locations": s.locations}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, body)
	case len(seg) == 1 && seg[0] == "products" && m == http.MethodGet:
		s.list(w, r, "products", s.productItems)
	case len(seg) == 1 && seg[0] == "products" && m == http.MethodPost:
		s.createProduct(w, r)
	case len(seg) == 2 && seg[0] == "products":
		s.oneProduct(w, r, seg[1])
	case len(seg) == 1 && seg[0] == "inventory_levels" && m == http.MethodGet:
		q := r.URL.Query()
		if q.Get("page_info") == "" && q.Get("inventory_item_ids") == "" && q.Get("location_ids") == "" {
			writeJSON(w, http.StatusUnprocessableEntity, errorsBody(map[string][]string{"base": {"inventory_item_ids or location_ids must be present"}}))
			return
		}
		s.list(w, r, "inventory_levels", s.levelItems)
	case len(seg) == 2 && seg[0] == "inventory_levels" && seg[1] == "set" && m == http.MethodPost:
		s.setLevelHTTP(w, r)
	case len(seg) == 1 && seg[0] == "customers" && m == http.MethodGet:
		s.list(w, r, "customers", s.customerItems)
	case len(seg) == 1 && seg[0] == "customers" && m == http.MethodPost:
		s.createCustomer(w, r)
	case len(seg) == 2 && seg[0] == "customers":
		s.oneCustomer(w, r, seg[1])
	case len(seg) == 1 && seg[0] == "orders" && m == http.MethodGet:
		s.list(w, r, "orders", s.orderItems)
	case len(seg) == 1 && seg[0] == "orders" && m == http.MethodPost:
		s.createOrder(w, r)
	case len(seg) >= 2 && seg[0] == "orders":
		s.oneOrder(w, r, seg[1:])
	case len(seg) >= 1 && seg[0] == "webhooks":
		s.webhooksRoute(w, r, seg[1:])
	default:
		writeJSON(w, http.StatusNotFound, errorsBody(msgNotFound))
	}
}

// listItem is one row of a listing: its sort key, its updated_at, and what to print.
type listItem struct {
	key     int64
	updated time.Time
	v       any
}

// pageInfo is what the simulator hides in page_info: the first request's filters and the
// position. Real page_info values are opaque too.
type pageInfo struct {
	Filters string `json:"f"`
	After   int64  `json:"a,omitempty"`
	Before  int64  `json:"b,omitempty"`
}

// list answers a paginated listing with Shopify's Link header. filter returns the rows that
// match the query's filters, sorted by key.
func (s *Simulator) list(w http.ResponseWriter, r *http.Request, key string, filter func(url.Values) ([]listItem, error)) {
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 250 {
			writeJSON(w, http.StatusBadRequest, errorsBody(map[string]string{"limit": "Invalid value: must be between 1 and 250"}))
			return
		}
		limit = n
	}
	var pi pageInfo
	filters := url.Values{}
	if raw := q.Get("page_info"); raw != "" {
		for k := range q {
			if k != "page_info" && k != "limit" && k != "fields" {
				writeJSON(w, http.StatusBadRequest, errorsBody(map[string]string{"page_info": "page_info can only be combined with limit and fields; remove " + k}))
				return
			}
		}
		b, err := base64.RawURLEncoding.DecodeString(raw)
		if err == nil {
			err = json.Unmarshal(b, &pi)
		}
		if err == nil {
			filters, err = url.ParseQuery(pi.Filters)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorsBody(map[string]string{"page_info": "Invalid value."}))
			return
		}
	} else {
		for k, v := range q {
			if k != "limit" && k != "fields" {
				filters[k] = v
			}
		}
	}
	s.mu.Lock()
	rows, err := filter(filters)
	s.mu.Unlock()
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorsBody(map[string]string{"updated_at_min": err.Error()}))
		return
	}
	start, end := 0, len(rows)
	switch {
	case pi.After != 0:
		start = sort.Search(len(rows), func(i int) bool { return rows[i].key > pi.After })
		end = min(start+limit, len(rows))
	case pi.Before != 0:
		end = sort.Search(len(rows), func(i int) bool { return rows[i].key >= pi.Before })
		start = max(0, end-limit)
	default:
		end = min(limit, len(rows))
	}
	page := rows[start:end]
	out := make([]any, 0, len(page))
	fields := q.Get("fields")
	for _, it := range page {
		out = append(out, pick(it.v, fields))
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") { // TLS ended at a proxy in front
		scheme = "https"
	}
	base := scheme + "://" + r.Host + r.URL.Path
	enc := pageInfo{Filters: filters.Encode()}
	var links []string
	mk := func(p pageInfo, rel string) {
		b, _ := json.Marshal(p)
		v := url.Values{"limit": {strconv.Itoa(limit)}, "page_info": {base64.RawURLEncoding.EncodeToString(b)}}
		if fields != "" {
			v.Set("fields", fields)
		}
		links = append(links, fmt.Sprintf(`<%s?%s>; rel="%s"`, base, v.Encode(), rel))
	}
	if start > 0 && len(page) > 0 {
		p := enc
		p.Before = page[0].key
		mk(p, "previous")
	}
	if end < len(rows) && len(page) > 0 {
		p := enc
		p.After = page[len(page)-1].key
		mk(p, "next")
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	writeJSON(w, http.StatusOK, map[string]any{key: out})
}

// pick keeps only the named top-level fields, as Shopify's fields parameter does.
func pick(v any, fields string) any {
	if fields == "" {
		return v
	}
	b, _ := json.Marshal(v)
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return v
	}
	out := map[string]json.RawMessage{}
	for _, f := range strings.Split(fields, ",") {
		if x, ok := m[strings.TrimSpace(f)]; ok {
			out[strings.TrimSpace(f)] = x
		}
	}
	return out
}

// updatedFilter reads updated_at_min. Shopify documents it as "last updated after date"; the
// simulator compares strictly (updated_at > min) at the second resolution of the timestamps.
func updatedFilter(q url.Values) (time.Time, error) {
	v := q.Get("updated_at_min")
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("is not an ISO 8601 date")
	}
	return t, nil
}

func idSet(v string) map[int64]bool {
	if v == "" {
		return nil
	}
	set := map[int64]bool{}
	for _, x := range strings.Split(v, ",") {
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			set[n] = true
		}
	}
	return set
}

func sortRows(rows []listItem) []listItem {
	sort.Slice(rows, func(i, j int) bool { return rows[i].key < rows[j].key })
	return rows
}

func (s *Simulator) productItems(q url.Values) ([]listItem, error) {
	min, err := updatedFilter(q)
	if err != nil {
		return nil, err
	}
	ids := idSet(q.Get("ids"))
	var rows []listItem
	for id, p := range s.products {
		t := s.pUpdated[id]
		if (!min.IsZero() && !t.After(min)) || (ids != nil && !ids[id]) {
			continue
		}
		if st := q.Get("status"); st != "" && p.Status != st {
			continue
		}
		cp := *p
		cp.Variants = append([]variantJSON(nil), p.Variants...)
		rows = append(rows, listItem{key: id, updated: t, v: cp})
	}
	return sortRows(rows), nil
}

func (s *Simulator) levelItems(q url.Values) ([]listItem, error) {
	min, err := updatedFilter(q)
	if err != nil {
		return nil, err
	}
	items, locs := idSet(q.Get("inventory_item_ids")), idSet(q.Get("location_ids"))
	var rows []listItem
	for k, l := range s.levels {
		if (items != nil && !items[k[0]]) || (locs != nil && !locs[k[1]]) || (!min.IsZero() && !l.updatedAt.After(min)) {
			continue
		}
		rows = append(rows, listItem{key: l.seq, updated: l.updatedAt, v: l.level})
	}
	return sortRows(rows), nil
}

func (s *Simulator) customerItems(q url.Values) ([]listItem, error) {
	min, err := updatedFilter(q)
	if err != nil {
		return nil, err
	}
	var rows []listItem
	for id, c := range s.customers {
		t := parseTime(c.UpdatedAt)
		if !min.IsZero() && !t.After(min) {
			continue
		}
		rows = append(rows, listItem{key: id, updated: t, v: *c})
	}
	return sortRows(rows), nil
}

func (s *Simulator) orderItems(q url.Values) ([]listItem, error) {
	min, err := updatedFilter(q)
	if err != nil {
		return nil, err
	}
	status := q.Get("status")
	if status == "" {
		status = "open"
	}
	fin := q.Get("financial_status")
	app := q.Get("attribution_app_id")
	var rows []listItem
	for id, so := range s.orders {
		o := so.o
		cancelled := o.CancelledAt != nil
		closed := o.ClosedAt != nil
		switch status {
		case "open":
			if cancelled || closed {
				continue
			}
		case "closed":
			if !closed {
				continue
			}
		case "cancelled":
			if !cancelled {
				continue
			}
		}
		if fin != "" && fin != "any" && o.FinancialStatus != fin {
			continue
		}
		if app == "current" && so.appID() != s.appID {
			continue
		}
		if !min.IsZero() && !so.updated.After(min) {
			continue
		}
		o.LineItems = append([]lineItemJSON(nil), o.LineItems...) // encoded after the lock is released
		o.NoteAttributes = append([]nameValue(nil), o.NoteAttributes...)
		rows = append(rows, listItem{key: id, updated: so.updated, v: o})
	}
	return sortRows(rows), nil
}

func (so *simOrder) appID() int64 {
	if so.o.SourceName == "pos" {
		return 129785
	}
	return 1966818
}

func decodeBody(r *http.Request, into any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(into)
}

func badJSON(w http.ResponseWriter) {
	writeJSON(w, http.StatusBadRequest, errorsBody(map[string]string{"error": "822: unexpected token - could not parse the request body as JSON"}))
}

func validateProduct(p productJSON, currency string) map[string][]string {
	errs := map[string][]string{}
	if strings.TrimSpace(p.Title) == "" {
		errs["title"] = []string{"can't be blank"}
	}
	for _, v := range p.Variants {
		if v.Price != "" {
			if _, err := parseMoney(v.Price, currency); err != nil {
				errs["variants.price"] = []string{"is not a number"}
			}
		}
		if v.WeightUnit != "" && v.WeightUnit != "g" && v.WeightUnit != "kg" && v.WeightUnit != "oz" && v.WeightUnit != "lb" {
			errs["variants.weight_unit"] = []string{"is not included in the list"}
		}
	}
	if len(p.Variants) > 100 {
		errs["variants"] = []string{"is too long (maximum is 100)"}
	}
	return errs
}

func (s *Simulator) createProduct(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Product *productJSON `json:"product"`
	}
	if err := decodeBody(r, &body); err != nil {
		badJSON(w)
		return
	}
	if body.Product == nil {
		writeJSON(w, http.StatusBadRequest, errorsBody(map[string]string{"product": "Required parameter missing or invalid"}))
		return
	}
	p := *body.Product
	s.mu.Lock()
	defer s.mu.Unlock()
	if errs := validateProduct(p, s.currency); len(errs) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, errorsBody(errs))
		return
	}
	if p.Status == "" {
		p.Status = "active"
	}
	if len(p.Variants) == 0 {
		p.Variants = []variantJSON{{}}
	}
	for i := range p.Variants {
		p.Variants[i].ID, p.Variants[i].InventoryItemID = 0, 0
	}
	s.insertProduct(&p)
	for _, v := range p.Variants {
		if v.InventoryManagement != nil {
			s.setLevel(v.InventoryItemID, s.locations[0].ID, 0)
		}
	}
	s.notify("products/create", p)
	writeJSON(w, http.StatusCreated, map[string]any{"product": p})
}

func (s *Simulator) oneProduct(w http.ResponseWriter, r *http.Request, idS string) {
	id, _ := strconv.ParseInt(idS, 10, 64)
	var putBody struct {
		Product *json.RawMessage `json:"product"`
	}
	if r.Method == http.MethodPut {
		if err := decodeBody(r, &putBody); err != nil || putBody.Product == nil {
			badJSON(w)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.products[id]
	if !ok {
		writeJSON(w, http.StatusNotFound, errorsBody(msgNotFound))
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"product": p})
	case http.MethodDelete:
		delete(s.products, id)
		delete(s.pUpdated, id)
		delete(s.refs, id)
		s.notify("products/delete", map[string]any{"id": id})
		writeJSON(w, http.StatusOK, map[string]any{})
	case http.MethodPut:
		body := putBody
		var raw map[string]json.RawMessage
		var upd productJSON
		if json.Unmarshal(*body.Product, &raw) != nil || json.Unmarshal(*body.Product, &upd) != nil {
			badJSON(w)
			return
		}
		next := *p
		next.Variants = append([]variantJSON(nil), p.Variants...)
		if _, ok := raw["title"]; ok {
			next.Title = upd.Title
		}
		if _, ok := raw["body_html"]; ok {
			next.BodyHTML = upd.BodyHTML
		}
		if _, ok := raw["product_type"]; ok {
			next.ProductType = upd.ProductType
		}
		if _, ok := raw["status"]; ok {
			next.Status = upd.Status
		}
		if _, ok := raw["tags"]; ok {
			next.Tags = upd.Tags
		}
		if _, ok := raw["variants"]; ok {
			// Shopify replaces the variant list: variants with an id are updated, others created,
			// and variants left out are deleted.
			old := map[int64]variantJSON{}
			for _, v := range p.Variants {
				old[v.ID] = v
			}
			next.Variants = nil
			for _, v := range upd.Variants {
				if v.ID != 0 {
					o, ok := old[v.ID]
					if !ok {
						writeJSON(w, http.StatusUnprocessableEntity, errorsBody(map[string][]string{"variants": {"is invalid"}}))
						return
					}
					v.InventoryItemID = o.InventoryItemID
				}
				next.Variants = append(next.Variants, v)
			}
		}
		if errs := validateProduct(next, s.currency); len(errs) > 0 {
			writeJSON(w, http.StatusUnprocessableEntity, errorsBody(errs))
			return
		}
		for i := range next.Variants {
			s.fillVariant(&next, &next.Variants[i])
		}
		*p = next
		s.touch(p)
		s.notify("products/update", p)
		writeJSON(w, http.StatusOK, map[string]any{"product": p})
	default:
		writeJSON(w, http.StatusMethodNotAllowed, errorsBody("Method Not Allowed"))
	}
}

func (s *Simulator) setLevelHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		LocationID      int64        `json:"location_id"`
		InventoryItemID int64        `json:"inventory_item_id"`
		Available       *json.Number `json:"available"`
	}
	if err := decodeBody(r, &body); err != nil {
		badJSON(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	known := false
	for _, p := range s.products {
		for _, v := range p.Variants {
			if v.InventoryItemID == body.InventoryItemID {
				known = true
			}
		}
	}
	locOK := false
	for _, l := range s.locations {
		locOK = locOK || l.ID == body.LocationID
	}
	if !known || !locOK {
		writeJSON(w, http.StatusUnprocessableEntity, errorsBody([]string{"Inventory item or location does not exist"}))
		return
	}
	if body.Available == nil {
		writeJSON(w, http.StatusUnprocessableEntity, errorsBody(map[string][]string{"available": {"must be present"}}))
		return
	}
	n, err := strconv.Atoi(body.Available.String())
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, errorsBody(map[string][]string{"available": {"must be an integer"}}))
		return
	}
	l := s.setLevel(body.InventoryItemID, body.LocationID, n)
	s.notify("inventory_levels/update", l.level)
	writeJSON(w, http.StatusOK, map[string]any{"inventory_level": l.level})
}

func (s *Simulator) createCustomer(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Customer *customerJSON `json:"customer"`
	}
	if err := decodeBody(r, &body); err != nil || body.Customer == nil {
		badJSON(w)
		return
	}
	c := *body.Customer
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Email == "" && c.Phone == "" && c.FirstName == "" && c.LastName == "" {
		writeJSON(w, http.StatusUnprocessableEntity, errorsBody(map[string][]string{"base": {"Customer must have a name, phone number or email address"}}))
		return
	}
	if c.Email != "" {
		for _, x := range s.customers {
			if strings.EqualFold(x.Email, c.Email) {
				writeJSON(w, http.StatusUnprocessableEntity, errorsBody(map[string][]string{"email": {"has already been taken"}}))
				return
			}
		}
	}
	ts, _ := s.stamp()
	c.ID, c.UpdatedAt = s.id(), ts
	s.customers[c.ID] = &c
	s.notify("customers/create", c)
	writeJSON(w, http.StatusCreated, map[string]any{"customer": c})
}

func (s *Simulator) oneCustomer(w http.ResponseWriter, r *http.Request, idS string) {
	id, _ := strconv.ParseInt(idS, 10, 64)
	var upd map[string]json.RawMessage
	if r.Method == http.MethodPut {
		var body struct {
			Customer map[string]json.RawMessage `json:"customer"`
		}
		if err := decodeBody(r, &body); err != nil || body.Customer == nil {
			badJSON(w)
			return
		}
		upd = body.Customer
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[id]
	if !ok {
		writeJSON(w, http.StatusNotFound, errorsBody(msgNotFound))
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"customer": c})
	case http.MethodPut:
		next := *c
		for k, v := range upd {
			var str string
			_ = json.Unmarshal(v, &str)
			switch k {
			case "email":
				next.Email = str
			case "first_name":
				next.FirstName = str
			case "last_name":
				next.LastName = str
			case "phone":
				next.Phone = str
			case "tags":
				next.Tags = str
			}
		}
		ts, _ := s.stamp()
		next.UpdatedAt = ts
		*c = next
		s.notify("customers/update", c)
		writeJSON(w, http.StatusOK, map[string]any{"customer": c})
	default:
		writeJSON(w, http.StatusMethodNotAllowed, errorsBody("Method Not Allowed"))
	}
}

func (s *Simulator) insertOrder(o orderJSON, appID int64) *simOrder {
	ts, t := s.stamp()
	o.ID = s.id()
	s.orderNo++
	o.Name = fmt.Sprintf("#%d", s.orderNo)
	o.CreatedAt, o.UpdatedAt, o.ProcessedAt = ts, ts, ts
	if o.Currency == "" {
		o.Currency = s.currency
	}
	if o.FinancialStatus == "" {
		o.FinancialStatus = "paid"
	}
	if appID != 129785 && o.SourceName == "" {
		o.SourceName = "posbridge"
	}
	for i := range o.LineItems {
		o.LineItems[i].ID = s.id()
		q := o.LineItems[i].Quantity
		o.LineItems[i].CurrentQuantity = &q
	}
	o.TotalPrice = s.total(o)
	so := &simOrder{o: o, updated: t}
	s.orders[o.ID] = so
	return so
}

func (s *Simulator) total(o orderJSON) string {
	var sum int64
	for _, li := range o.LineItems {
		q := li.Quantity
		if li.CurrentQuantity != nil {
			q = *li.CurrentQuantity
		}
		p, _ := parseMoney(li.Price, o.Currency)
		sum += p * int64(q)
	}
	return formatMoney(sum, o.Currency)
}

func (s *Simulator) createOrder(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Order *orderJSON `json:"order"`
	}
	if err := decodeBody(r, &body); err != nil || body.Order == nil {
		badJSON(w)
		return
	}
	o := *body.Order
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(o.LineItems) == 0 {
		writeJSON(w, http.StatusUnprocessableEntity, errorsBody(map[string][]string{"line_items": {"must have at least one line item"}}))
		return
	}
	for i, li := range o.LineItems {
		if li.Quantity < 1 {
			writeJSON(w, http.StatusUnprocessableEntity, errorsBody(map[string][]string{"line_items": {"quantity must be greater than or equal to 1"}}))
			return
		}
		if li.VariantID != nil {
			p, v := s.variant(*li.VariantID)
			if v == nil {
				writeJSON(w, http.StatusUnprocessableEntity, errorsBody(map[string][]string{"line_items": {"variant is invalid"}}))
				return
			}
			pid := p.ID
			o.LineItems[i].ProductID = &pid
			if li.Title == "" {
				o.LineItems[i].Title = p.Title
			}
			if li.Price == "" {
				o.LineItems[i].Price = v.Price
			}
			if li.SKU == "" {
				o.LineItems[i].SKU = v.SKU
			}
		} else if li.Title == "" {
			writeJSON(w, http.StatusUnprocessableEntity, errorsBody(map[string][]string{"line_items": {"title can't be blank"}}))
			return
		}
	}
	so := s.insertOrder(o, s.appID)
	s.notify("orders/create", so.o)
	writeJSON(w, http.StatusCreated, map[string]any{"order": so.o})
}

func (s *Simulator) variant(id int64) (*productJSON, *variantJSON) {
	for _, p := range s.products {
		for i := range p.Variants {
			if p.Variants[i].ID == id {
				return p, &p.Variants[i]
			}
		}
	}
	return nil, nil
}

func (s *Simulator) orderChanged(so *simOrder, topics ...string) {
	ts, t := s.stamp()
	so.o.UpdatedAt, so.updated = ts, t
	so.o.TotalPrice = s.total(so.o)
	for _, tp := range topics {
		s.notify(tp, so.o)
	}
}

func (s *Simulator) oneOrder(w http.ResponseWriter, r *http.Request, seg []string) {
	id, _ := strconv.ParseInt(seg[0], 10, 64)
	var upd map[string]json.RawMessage
	if r.Method == http.MethodPut {
		var body struct {
			Order map[string]json.RawMessage `json:"order"`
		}
		if err := decodeBody(r, &body); err != nil || body.Order == nil {
			badJSON(w)
			return
		}
		upd = body.Order
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	so, ok := s.orders[id]
	if !ok {
		writeJSON(w, http.StatusNotFound, errorsBody(msgNotFound))
		return
	}
	action := ""
	if len(seg) == 2 {
		action = seg[1]
	}
	ts, _ := s.stamp()
	switch {
	case action == "" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"order": pick(so.o, r.URL.Query().Get("fields"))})
	case action == "" && r.Method == http.MethodPut:
		// The REST API changes only a few attributes; line items are left as they are.
		for k, v := range upd {
			switch k {
			case "note":
				_ = json.Unmarshal(v, &so.o.Note)
			case "tags":
				_ = json.Unmarshal(v, &so.o.Tags)
			case "note_attributes":
				var na []nameValue
				if json.Unmarshal(v, &na) != nil {
					writeJSON(w, http.StatusUnprocessableEntity, errorsBody(map[string][]string{"note_attributes": {"is invalid"}}))
					return
				}
				so.o.NoteAttributes = na
			}
		}
		s.orderChanged(so, "orders/updated")
		writeJSON(w, http.StatusOK, map[string]any{"order": so.o})
	case action == "" && r.Method == http.MethodDelete:
		delete(s.orders, id)
		s.notify("orders/delete", map[string]any{"id": id})
		writeJSON(w, http.StatusOK, map[string]any{})
	case action == "cancel" && r.Method == http.MethodPost:
		if so.o.CancelledAt != nil {
			writeJSON(w, http.StatusUnprocessableEntity, errorsBody(map[string][]string{"base": {"Order has already been cancelled"}}))
			return
		}
		so.o.CancelledAt = &ts
		s.orderChanged(so, "orders/cancelled", "orders/updated")
		writeJSON(w, http.StatusOK, map[string]any{"order": so.o})
	case action == "close" && r.Method == http.MethodPost:
		so.o.ClosedAt = &ts
		s.orderChanged(so, "orders/updated")
		writeJSON(w, http.StatusOK, map[string]any{"order": so.o})
	case action == "open" && r.Method == http.MethodPost:
		so.o.ClosedAt = nil
		s.orderChanged(so, "orders/updated")
		writeJSON(w, http.StatusOK, map[string]any{"order": so.o})
	default:
		writeJSON(w, http.StatusNotFound, errorsBody(msgNotFound))
	}
}

func (s *Simulator) deliveryHeader(topic string, body []byte, eventID int64) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(HeaderTopic, topic)
	h.Set(HeaderHmac, Sign(s.secret, body))
	h.Set(HeaderShopDomain, s.shopName+".myshopify.com")
	h.Set(HeaderAPIVersion, APIVersion)
	h.Set(HeaderWebhookID, fmt.Sprintf("b54557e4-bdd9-4b37-8a5f-%012d", eventID))
	h.Set(HeaderEventID, fmt.Sprintf("98880550-7158-44d4-b7cd-%012d", eventID))
	h.Set(HeaderTriggeredAt, s.now().UTC().Format(time.RFC3339Nano))
	return h
}

func (s *Simulator) deliver(h simWebhook, topic string, header http.Header, body []byte) {
	defer s.pending.Done()
	d := Delivery{Topic: topic, Address: h.Address, Header: header, Body: body}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.Address, bytes.NewReader(body))
	if err == nil {
		req.Header = header.Clone()
		var resp *http.Response
		resp, err = s.hookClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			d.Status = resp.StatusCode
		}
	}
	if err != nil {
		d.Err = err.Error()
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
}

// RateLimit shrinks the bucket to 4 requests (same leak rate), so a client that does not read
// X-Shopify-Shop-Api-Call-Limit meets 429 at once.
func (s *Simulator) RateLimit() {
	s.mu.Lock()
	leak := s.leak
	s.mu.Unlock()
	s.SetBucket(4, leak)
}

// ValidProduct is a product Shopify accepts.
func (s *Simulator) ValidProduct(i int) domain.Product {
	s.mu.Lock()
	cur := s.currency
	s.mu.Unlock()
	return domain.Product{
		Name: fmt.Sprintf("Bike bell %d", i), Description: "<p>Loud and clear.</p>", SKU: fmt.Sprintf("BELL-%03d", i),
		Barcode: fmt.Sprintf("87100000%05d", i), Price: domain.Money{Amount: 1299 + int64(i), Currency: cur},
		Weight: &domain.Weight{Value: "0.15", Unit: "kg"}, Categories: []domain.Category{{ID: "Accessories", Name: "Accessories"}},
		TrackStock: true,
	}
}

// InvalidProduct is a product Shopify refuses: it has no title (productSet answers the user
// error "Title can't be blank"; REST a 422).
func (s *Simulator) InvalidProduct() domain.Product {
	p := s.ValidProduct(0)
	p.Name = ""
	return p
}

// SignedWebhook returns a products/update delivery exactly as Shopify sends it, the URL it went
// to and the secret it is signed with. It creates a product when there is none.
func (s *Simulator) SignedWebhook() (http.Header, []byte, string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var p *productJSON
	for _, x := range s.products {
		if p == nil || x.ID < p.ID {
			p = x
		}
	}
	if p == nil {
		s.seed(1)
		for _, x := range s.products {
			p = x
		}
	}
	body, _ := json.Marshal(p)
	return s.deliveryHeader("products/update", body, s.id()), body, "https://posbridge.example/hooks/shopify", s.secret
}

// SetDeliveryClient sets the client webhooks are delivered with. posbridge serves this simulator
// as a sandbox store and passes a client that may only call its own /hooks/ URLs, since the
// delivery URLs are anyone's input. Call it before the simulator serves.
func (s *Simulator) SetDeliveryClient(hc *http.Client) {
	if hc == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hookClient = hc
}

// CompleteOrder marks an open, unpaid order paid, as a cashier taking the payment would;
// orders/paid and orders/updated go to the subscribed webhooks.
func (s *Simulator) CompleteOrder(id string) bool {
	return s.moveOpenOrder(id, func(so *simOrder, _ string) []string {
		so.o.FinancialStatus = "paid"
		return []string{"orders/paid", "orders/updated"}
	})
}

// VoidOrder cancels an open, unpaid order, as the shop's owner would in Shopify's admin.
func (s *Simulator) VoidOrder(id string) bool {
	return s.moveOpenOrder(id, func(so *simOrder, ts string) []string {
		so.o.CancelledAt = &ts
		return []string{"orders/cancelled", "orders/updated"}
	})
}

func (s *Simulator) moveOpenOrder(id string, move func(so *simOrder, ts string) []string) bool {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	so, ok := s.orders[n]
	if !ok || so.o.CancelledAt != nil || so.o.FinancialStatus == "paid" || so.o.FinancialStatus == "refunded" ||
		so.o.FinancialStatus == "partially_refunded" {
		return false
	}
	ts, _ := s.stamp()
	s.orderChanged(so, move(so, ts)...)
	return true
}
