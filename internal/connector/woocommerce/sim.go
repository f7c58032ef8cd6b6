package woocommerce

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
)

// Simulator is a stateful, concurrency-safe stand-in for a WooCommerce store's REST API v3 under
// /wp-json/wc/v3: products (with variations and batch), orders, customers, webhooks and the
// settings the connector reads; page/per_page paging with X-WP-Total, X-WP-TotalPages and Link;
// WooCommerce's error bodies; signed webhook delivery; and fault injection for tests.
type Simulator struct {
	mu  sync.Mutex
	now func() time.Time

	key, secret   string
	webhookSecret string
	currency      string
	decimals      int
	weightUnit    string
	searchMeta    bool
	pageError     bool
	deliver       *http.Client

	nextID   int64
	products map[int64]*simObj
	variants map[int64]*simObj // by variation id; data["parent_id"] names the product
	// bySKU holds, per SKU, the products and variations given it (skuTaken checks each is still
	// there with it), so a SKU is looked up without reading every product.
	bySKU map[string][]int64
	// skuShared: the store takes a SKU another product has (its uniqueness check turned off).
	skuShared bool
	orders    map[int64]*simObj
	customers map[int64]*simObj
	webhooks  map[int64]*simHook
	nonces    map[string]time.Time // OAuth 1.0a nonces seen, with their timestamps

	calls     int
	failN     int
	loseN     int // writes to apply whose answers are lost (LoseNextAnswers)
	failCode  int
	slowN     int
	slowD     time.Duration
	latency   time.Duration
	rlOn      bool
	rlN       int
	rlWindow  time.Duration
	rlStart   time.Time
	rlCount   int
	delivered int

	queue  []delivery
	wake   chan struct{}
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

// simObj is one stored resource: its JSON fields plus the times WooCommerce keeps.
type simObj struct {
	id       int64
	data     map[string]any
	created  time.Time
	modified time.Time
	touches  int
}

type simHook struct {
	data     map[string]any
	secret   string
	url      string
	topic    string
	source   string
	failures int
	created  time.Time
}

type delivery struct {
	hookID int64
	url    string
	body   []byte
	header http.Header
}

// SimOption configures a Simulator.
type SimOption func(*Simulator)

// WithSimClock sets the simulator's clock (date_modified, Date header).
func WithSimClock(now func() time.Time) SimOption { return func(s *Simulator) { s.now = now } }

// WithSimCredentials sets the consumer key and secret the simulator accepts.
func WithSimCredentials(key, secret string) SimOption {
	return func(s *Simulator) { s.key, s.secret = key, secret }
}

// WithSimCurrency sets the store currency and price decimals (default EUR, 2).
func WithSimCurrency(cur string, decimals int) SimOption {
	return func(s *Simulator) { s.currency, s.decimals = cur, decimals }
}

// WithSimOrderSearchMeta says whether GET /orders?search= also matches meta_data values. Core
// WooCommerce searches meta only for keys the store adds to its searched fields (a setting here;
// default true). With false the connector falls back to scanning the newest orders.
func WithSimOrderSearchMeta(on bool) SimOption { return func(s *Simulator) { s.searchMeta = on } }

// WithSimPageError makes a page past the last one answer 400 rest_post_invalid_page_number (as
// WordPress's posts controller does) instead of an empty list (unsure which a store gives).
func WithSimPageError(on bool) SimOption { return func(s *Simulator) { s.pageError = on } }

// WithSimDeliveryClient sets the client webhook deliveries go out with.
func WithSimDeliveryClient(c *http.Client) SimOption { return func(s *Simulator) { s.deliver = c } }

// NewSimulator returns an empty store with random ck_/cs_ keys.
func NewSimulator(opts ...SimOption) *Simulator {
	s := &Simulator{
		now: time.Now, key: "ck_" + randHex(20), secret: "cs_" + randHex(20), webhookSecret: randHex(16),
		currency: "EUR", decimals: 2, weightUnit: "kg", searchMeta: true,
		deliver:  &http.Client{Timeout: 5 * time.Second},
		products: map[int64]*simObj{}, variants: map[int64]*simObj{}, bySKU: map[string][]int64{}, orders: map[int64]*simObj{},
		customers: map[int64]*simObj{}, webhooks: map[int64]*simHook{}, nonces: map[string]time.Time{},
		rlN: 10, rlWindow: time.Second,
		wake: make(chan struct{}, 1), closed: make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	s.wg.Add(1)
	go s.deliverLoop()
	return s
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Close stops webhook delivery. Safe to call more than once.
func (s *Simulator) Close() {
	s.once.Do(func() { close(s.closed) })
	s.wg.Wait()
}

// Info describes how to reach the simulator served at rootURL.
func (s *Simulator) Info(rootURL string) connector.SimInfo {
	root := strings.TrimRight(rootURL, "/")
	return connector.SimInfo{
		Provider: "woocommerce", BaseURL: root,
		Credentials:   map[string]string{FieldStoreURL: root, FieldConsumerKey: s.key, FieldConsumerSecret: s.secret},
		WebhookSecret: s.webhookSecret,
	}
}

// Credentials returns the consumer key and secret the simulator accepts.
func (s *Simulator) Credentials() (key, secret string) { return s.key, s.secret }

// Calls counts the API calls the simulator answered (all statuses).
func (s *Simulator) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// FailNext makes the next n API calls answer status with a WooCommerce error body; status 0
// answers nothing until the client gives up.
func (s *Simulator) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failCode = n, status
}

// LoseNextAnswers makes the next n product writes (POST, PUT, DELETE under /products) apply but answer 504 instead of
// their result, as a proxy in front of a store does when the store finished after the proxy
// gave up: the client cannot tell whether, or what, the store created.
func (s *Simulator) LoseNextAnswers(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseN = n
}

// SlowNext delays the next n answers by d.
func (s *Simulator) SlowNext(n int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slowN, s.slowD = n, d
}

// SetLatency delays every answer by d (0 turns it off).
func (s *Simulator) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// RateLimit turns on the simulator's rate limit: 10 calls a second, then 429 with Retry-After in
// seconds. WooCommerce documents no rate limit; this is a simulator setting standing for the
// hosts and security plugins in front of a store that do answer 429.
func (s *Simulator) RateLimit() { s.SetRateLimit(10, time.Second) }

// SetRateLimit allows n calls per window (n <= 0 turns the limit off).
func (s *Simulator) SetRateLimit(n int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rlOn, s.rlN, s.rlWindow, s.rlStart, s.rlCount = n > 0, n, window, time.Time{}, 0
}

// Delivered counts webhook deliveries (pings included) that got a 2xx or 3xx answer.
func (s *Simulator) Delivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delivered
}

// WebhookStatus returns a webhook's status (active, paused, disabled) or "" when unknown.
func (s *Simulator) WebhookStatus(id int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.webhooks[id]; ok {
		return fmt.Sprint(h.data["status"])
	}
	return ""
}

// SeedProducts adds n sample products (no webhooks fire) and returns their ids.
func (s *Simulator) SeedProducts(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, n)
	now := s.now().UTC().Truncate(time.Second)
	for i := 0; i < n; i++ {
		s.nextID++
		id := s.nextID
		cents := 500 + (id*137)%9500
		p := s.newProduct(id, now)
		p.data["name"] = fmt.Sprintf("Sample product %d", id)
		p.data["slug"] = fmt.Sprintf("sample-product-%d", id)
		p.data["sku"] = fmt.Sprintf("SIM-%06d", id)
		s.bySKU[p.data["sku"].(string)] = append(s.bySKU[p.data["sku"].(string)], id)
		p.data["regular_price"] = connector.FormatMinor(cents, s.decimals)
		p.data["price"] = p.data["regular_price"]
		p.data["description"] = fmt.Sprintf("A sample product, number %d.", id)
		p.data["manage_stock"] = true
		p.data["stock_quantity"] = json.Number(strconv.FormatInt(id%40, 10))
		p.data["weight"] = fmt.Sprintf("0.%d", 1+id%9)
		s.products[id] = p
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	return ids
}

// SeedProduct adds one product as the merchant made it in the shop (no webhook fires) and returns
// its id. Unlike the REST API it takes a SKU another product has, as an old import may have left.
func (s *Simulator) SeedProduct(name, sku string, cents int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := s.nextID
	p := s.newProduct(id, s.now().UTC().Truncate(time.Second))
	p.data["name"] = name
	p.data["slug"] = fmt.Sprintf("product-%d", id)
	p.data["sku"] = sku
	if sku != "" {
		s.bySKU[sku] = append(s.bySKU[sku], id)
	}
	p.data["regular_price"] = connector.FormatMinor(cents, s.decimals)
	p.data["price"] = p.data["regular_price"]
	s.products[id] = p
	return strconv.FormatInt(id, 10)
}

// ShareSKUs makes the store take a SKU another product has, as a store whose SKU check a plugin
// turned off does.
func (s *Simulator) ShareSKUs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skuShared = true
}

// TouchProduct changes a product's name the way a merchant's edit would, and fires
// product.updated to the webhooks.
func (s *Simulator) TouchProduct(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, _ := strconv.ParseInt(id, 10, 64)
	p, ok := s.products[n]
	if !ok {
		return
	}
	p.touches++
	base, _, _ := strings.Cut(fmt.Sprint(p.data["name"]), " (edit ")
	p.data["name"] = fmt.Sprintf("%s (edit %d)", base, p.touches)
	p.modified = s.now().UTC()
	s.fire("product.updated", s.productJSON(p))
}

// SetOrderStatus changes an order's status as the shop owner would (completed, cancelled ...).
func (s *Simulator) SetOrderStatus(id string, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, _ := strconv.ParseInt(id, 10, 64)
	o, ok := s.orders[n]
	if !ok {
		return false
	}
	s.setOrderStatus(o, status)
	o.modified = s.now().UTC()
	s.fire("order.updated", s.orderJSON(o))
	return true
}

func (s *Simulator) setOrderStatus(o *simObj, status string) {
	o.data["status"] = status
	if status == "completed" && o.data["date_completed_gmt"] == nil {
		o.data["date_completed_gmt"] = s.now().UTC().Format(wcTime)
		o.data["date_completed"] = o.data["date_completed_gmt"]
		o.data["date_paid_gmt"] = o.data["date_completed_gmt"]
	}
}

// ---- HTTP ----

type simError struct {
	status int
	code   string
	msg    string
	params map[string]string
}

func errBody(status int, code, msg string) *simError {
	return &simError{status: status, code: code, msg: msg}
}

func invalidParam(name, why string) *simError {
	return &simError{status: 400, code: "rest_invalid_param", msg: "Invalid parameter(s): " + name, params: map[string]string{name: why}}
}

func writeErr(w http.ResponseWriter, e *simError) {
	data := map[string]any{"status": e.status}
	if e.params != nil {
		data["params"] = e.params
	}
	writeJSON(w, e.status, map[string]any{"code": e.code, "message": e.msg, "data": data})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = 500, []byte(`{"code":"internal_server_error","message":"encode","data":{"status":500}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ServeHTTP answers the documented subset of /wp-json/wc/v3.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls++
	now := s.now().UTC()
	w.Header().Set("Date", now.Format(http.TimeFormat))
	delay := s.latency
	if s.slowN > 0 {
		s.slowN--
		delay += s.slowD
	}
	fail, code := false, 0
	if s.failN > 0 {
		s.failN--
		fail, code = true, s.failCode
	}
	var limited time.Duration
	if s.rlOn && !fail {
		if s.rlStart.IsZero() || now.Sub(s.rlStart) >= s.rlWindow {
			s.rlStart, s.rlCount = now, 0
		}
		s.rlCount++
		if s.rlCount > s.rlN {
			limited = s.rlWindow - now.Sub(s.rlStart)
		}
	}
	s.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	if fail {
		if code == 0 {
			select { // no answer until the client gives up
			case <-r.Context().Done():
			case <-s.closed:
			}
			return
		}
		switch {
		case code == 401:
			writeErr(w, errBody(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid."))
		case code == 429:
			w.Header().Set("Retry-After", "1")
			writeErr(w, errBody(429, "woocommerce_rest_too_many_requests", "Too many requests. Please wait and try again."))
		case code >= 500:
			writeErr(w, errBody(code, "internal_server_error", "There has been a critical error on this website."))
		default:
			writeErr(w, errBody(code, "simulated_error", http.StatusText(code)))
		}
		return
	}
	if limited > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(limited.Seconds()))))
		writeErr(w, errBody(429, "woocommerce_rest_too_many_requests", "Too many requests. Please wait and try again."))
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, APIPath)
	if !ok {
		writeErr(w, errBody(404, "rest_no_route", "No route was found matching the URL and request method."))
		return
	}
	if e := s.auth(r); e != nil {
		writeErr(w, e)
		return
	}
	var body map[string]any
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		raw, err := readAll(r)
		if err != nil {
			writeErr(w, errBody(413, "rest_request_too_large", "The request body is too large."))
			return
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&body); err != nil {
				writeErr(w, errBody(400, "rest_invalid_json", "Invalid JSON body passed."))
				return
			}
		}
	}
	if body == nil {
		body = map[string]any{}
	}
	lose := false
	if r.Method != http.MethodGet && strings.HasPrefix(strings.Trim(path, "/"), "products") {
		s.mu.Lock()
		if s.loseN > 0 {
			s.loseN--
			lose = true
		}
		s.mu.Unlock()
	}
	if lose {
		s.route(httptest.NewRecorder(), r, strings.Trim(path, "/"), body)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusGatewayTimeout)
		_, _ = w.Write([]byte("<html><body><h1>504 Gateway Time-out</h1></body></html>"))
		return
	}
	s.route(w, r, strings.Trim(path, "/"), body)
}

func readAll(r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, 8<<20))
	_ = n
	return buf.Bytes(), err
}

// secure tells whether the request reached the store over HTTPS: TLS here, or TLS ended by a
// proxy in front that says so with X-Forwarded-Proto (as a WordPress behind a proxy is set up).
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// auth authenticates as WooCommerce core does: over HTTPS, HTTP Basic (ck as user, cs as
// password) or the consumer_key/consumer_secret query fallback, else OAuth 1.0a; over plain
// HTTP, OAuth 1.0a only (Basic and the query keys are not looked at, so the request is
// anonymous and refused with woocommerce_rest_cannot_view).
func (s *Simulator) auth(r *http.Request) *simError {
	if secure(r) {
		k, sec, ok := r.BasicAuth()
		if !ok {
			k, sec = r.URL.Query().Get("consumer_key"), r.URL.Query().Get("consumer_secret")
		}
		if k != "" {
			if k != s.key {
				return errBody(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
			}
			if sec != s.secret {
				return errBody(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
			}
			return nil
		}
	}
	return s.oauth(r)
}

// oauth checks a one-legged OAuth 1.0a request (parameters in the query string or an
// "Authorization: OAuth ..." header) the way WooCommerce's REST authentication does.
func (s *Simulator) oauth(r *http.Request) *simError {
	params := r.URL.Query()
	if h := strings.TrimSpace(r.Header.Get("Authorization")); len(h) > 6 && strings.EqualFold(h[:6], "OAuth ") {
		for _, part := range strings.Split(h[6:], ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || !strings.HasPrefix(k, "oauth_") {
				continue
			}
			v, _ = url.QueryUnescape(strings.Trim(v, `"`))
			params.Set(k, v)
		}
	}
	var missing []string
	for _, p := range oauthParams {
		if params.Get(p) == "" {
			missing = append(missing, p)
		}
	}
	if len(missing) == len(oauthParams) { // not even trying: an anonymous request
		return errBody(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
	}
	if len(missing) > 0 {
		word := "parameter"
		if len(missing) > 1 {
			word = "parameters"
		}
		return errBody(401, "woocommerce_rest_authentication_missing_parameter", "Missing OAuth "+word+" "+strings.Join(missing, ", "))
	}
	if params.Get("oauth_consumer_key") != s.key {
		return errBody(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
	}
	method := params.Get("oauth_signature_method")
	if method != "HMAC-SHA1" && method != "HMAC-SHA256" {
		return errBody(401, "woocommerce_rest_authentication_error", "Invalid signature - signature method is invalid.")
	}
	// The URL signed is the one the client sent: the request URI as received (a simulator
	// mounted below a prefix still sees the full path there), on this host and scheme.
	path := r.URL.EscapedPath()
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && r.RequestURI != "" {
		path = u.EscapedPath()
	}
	scheme := "http"
	if secure(r) {
		scheme = "https"
	}
	signed := params.Get("oauth_signature")
	params.Del("oauth_signature")
	want := oauthSign(method, s.secret, oauthBaseString(r.Method, scheme+"://"+r.Host+path, params))
	if !hmac.Equal([]byte(want), []byte(signed)) {
		return errBody(401, "woocommerce_rest_authentication_error", "Invalid signature - provided signature does not match.")
	}
	ts, err := strconv.ParseInt(params.Get("oauth_timestamp"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if err != nil || time.Unix(ts, 0).Before(now.Add(-oauthWindow)) || time.Unix(ts, 0).After(now.Add(oauthWindow)) {
		return errBody(401, "woocommerce_rest_authentication_error", "Invalid timestamp.")
	}
	for n, at := range s.nonces { // forget nonces whose timestamps left the window
		if at.Before(now.Add(-oauthWindow)) {
			delete(s.nonces, n)
		}
	}
	nonce := params.Get("oauth_nonce")
	if _, used := s.nonces[nonce]; used {
		return errBody(401, "woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used.")
	}
	s.nonces[nonce] = time.Unix(ts, 0)
	return nil
}

func (s *Simulator) route(w http.ResponseWriter, r *http.Request, path string, body map[string]any) {
	seg := strings.Split(path, "/")
	m := r.Method
	if m == http.MethodPatch {
		m = http.MethodPut
	}
	root := "http://" + r.Host
	if secure(r) {
		root = "https://" + r.Host
	}
	s.mu.Lock()
	status, out, hdr, e := s.dispatch(m, seg, r.URL.Query(), body, root)
	s.mu.Unlock()
	if e != nil {
		writeErr(w, e)
		return
	}
	for k, v := range hdr {
		w.Header()[k] = v
	}
	writeJSON(w, status, out)
}

var noRoute = errBody(404, "rest_no_route", "No route was found matching the URL and request method.")

// dispatch runs one request with the lock held.
func (s *Simulator) dispatch(m string, seg []string, q url.Values, body map[string]any, root string) (int, any, http.Header, *simError) {
	idAt := func(i int) (int64, bool) {
		if len(seg) <= i {
			return 0, false
		}
		n, err := strconv.ParseInt(seg[i], 10, 64)
		return n, err == nil
	}
	switch seg[0] {
	case "settings":
		if m != http.MethodGet {
			return 0, nil, nil, noRoute
		}
		if len(seg) == 2 && seg[1] == "general" {
			return 200, []map[string]any{
				{"id": "woocommerce_currency", "label": "Currency", "type": "select", "value": s.currency},
				{"id": "woocommerce_price_num_decimals", "label": "Number of decimals", "type": "number", "value": strconv.Itoa(s.decimals)},
				{"id": "woocommerce_price_decimal_sep", "label": "Decimal separator", "type": "text", "value": "."},
			}, nil, nil
		}
		if len(seg) == 3 && seg[1] == "products" && seg[2] == "woocommerce_weight_unit" {
			return 200, map[string]any{"id": "woocommerce_weight_unit", "label": "Weight unit", "type": "select", "value": s.weightUnit}, nil, nil
		}
		return 0, nil, nil, errBody(404, "rest_setting_setting_group_invalid", "Invalid setting group.")
	case "products":
		switch {
		case len(seg) == 1 && m == http.MethodGet:
			return s.listProducts(q, root)
		case len(seg) == 1 && m == http.MethodPost:
			p, e := s.createProduct(body)
			if e != nil {
				return 0, nil, nil, e
			}
			return 201, s.productJSON(p), nil, nil
		case len(seg) == 2 && seg[1] == "batch" && m == http.MethodPost:
			return s.batchProducts(body)
		}
		id, ok := idAt(1)
		if !ok {
			return 0, nil, nil, noRoute
		}
		if len(seg) >= 3 && seg[2] == "variations" {
			return s.variationRoute(m, id, seg[3:], q, body, root)
		}
		if len(seg) != 2 {
			return 0, nil, nil, noRoute
		}
		p, found := s.products[id]
		if !found {
			return 0, nil, nil, errBody(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
		}
		switch m {
		case http.MethodGet:
			return 200, s.productJSON(p), nil, nil
		case http.MethodPut, http.MethodPost:
			if e := s.updateProduct(p, body); e != nil {
				return 0, nil, nil, e
			}
			return 200, s.productJSON(p), nil, nil
		case http.MethodDelete:
			return s.deleteProduct(p, q.Get("force") == "true" || q.Get("force") == "1")
		}
	case "orders":
		switch {
		case len(seg) == 1 && m == http.MethodGet:
			return s.listOrders(q, root)
		case len(seg) == 1 && m == http.MethodPost:
			o, e := s.createOrder(body)
			if e != nil {
				return 0, nil, nil, e
			}
			return 201, s.orderJSON(o), nil, nil
		}
		id, ok := idAt(1)
		if !ok || len(seg) != 2 {
			return 0, nil, nil, noRoute
		}
		o, found := s.orders[id]
		if !found {
			return 0, nil, nil, errBody(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
		}
		switch m {
		case http.MethodGet:
			return 200, s.orderJSON(o), nil, nil
		case http.MethodPut, http.MethodPost:
			if e := s.updateOrder(o, body); e != nil {
				return 0, nil, nil, e
			}
			return 200, s.orderJSON(o), nil, nil
		case http.MethodDelete:
			force := q.Get("force") == "true" || q.Get("force") == "1"
			out := s.orderJSON(o)
			if force {
				delete(s.orders, id)
				s.fire("order.deleted", map[string]any{"id": id})
			} else {
				if o.data["status"] == "trash" {
					return 0, nil, nil, errBody(410, "woocommerce_rest_already_trashed", "The order has already been deleted.")
				}
				o.data["status"] = "trash"
				o.modified = s.now().UTC()
				out = s.orderJSON(o)
				s.fire("order.deleted", map[string]any{"id": id})
			}
			return 200, out, nil, nil
		}
	case "customers":
		switch {
		case len(seg) == 1 && m == http.MethodGet:
			return s.listCustomers(q, root)
		case len(seg) == 1 && m == http.MethodPost:
			c, e := s.saveCustomer(nil, body)
			if e != nil {
				return 0, nil, nil, e
			}
			return 201, s.customerJSON(c), nil, nil
		}
		id, ok := idAt(1)
		if !ok || len(seg) != 2 {
			return 0, nil, nil, noRoute
		}
		c, found := s.customers[id]
		if !found {
			return 0, nil, nil, errBody(404, "woocommerce_rest_invalid_id", "Invalid resource ID.")
		}
		switch m {
		case http.MethodGet:
			return 200, s.customerJSON(c), nil, nil
		case http.MethodPut, http.MethodPost:
			if _, e := s.saveCustomer(c, body); e != nil {
				return 0, nil, nil, e
			}
			return 200, s.customerJSON(c), nil, nil
		case http.MethodDelete:
			if q.Get("force") != "true" && q.Get("force") != "1" {
				return 0, nil, nil, errBody(501, "woocommerce_rest_trash_not_supported", "Customers do not support trashing.")
			}
			out := s.customerJSON(c)
			delete(s.customers, id)
			s.fire("customer.deleted", map[string]any{"id": id})
			return 200, out, nil, nil
		}
	case "webhooks":
		return s.webhookRoute(m, seg, q, body, root)
	}
	return 0, nil, nil, noRoute
}

// page applies WooCommerce's page/per_page/offset and sets X-WP-Total, X-WP-TotalPages, Link.
func (s *Simulator) page(q url.Values, root, path string, items []*simObj, render func(*simObj) map[string]any) (int, any, http.Header, *simError) {
	perPage, page := 10, 1
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPerPage {
			return 0, nil, nil, invalidParam("per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)")
		}
		perPage = n
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, nil, nil, invalidParam("page", "page must be greater than or equal to 1")
		}
		page = n
	}
	total := len(items)
	pages := (total + perPage - 1) / perPage
	if s.pageError && total > 0 && page > pages {
		return 0, nil, nil, errBody(400, "rest_post_invalid_page_number", "The page number requested is larger than the number of pages available.")
	}
	start := (page - 1) * perPage
	if v := q.Get("offset"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			start = n
		}
	}
	out := []map[string]any{}
	for i := start; i < total && i < start+perPage; i++ {
		out = append(out, render(items[i]))
	}
	h := http.Header{}
	h.Set("X-WP-Total", strconv.Itoa(total))
	h.Set("X-WP-TotalPages", strconv.Itoa(pages))
	link := func(n int, rel string) string {
		qq := url.Values{}
		for k, v := range q {
			if k != "consumer_key" && k != "consumer_secret" && !strings.HasPrefix(k, "oauth_") {
				qq[k] = v
			}
		}
		qq.Set("page", strconv.Itoa(n))
		return fmt.Sprintf(`<%s%s/%s?%s>; rel="%s"`, root, APIPath, path, qq.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(min(page-1, max(pages, 1)), "prev"))
	}
	if pages > page {
		links = append(links, link(page+1, "next"))
	}
	if len(links) > 0 {
		h.Set("Link", strings.Join(links, ", "))
	}
	return 200, out, h, nil
}

// filterSort applies modified_after/before (exclusive, whole seconds), include, orderby and order.
func (s *Simulator) filterSort(q url.Values, all map[int64]*simObj, keep func(*simObj) bool) ([]*simObj, *simError) {
	var after, before time.Time
	for name, dst := range map[string]*time.Time{"modified_after": &after, "modified_before": &before} {
		if v := q.Get(name); v != "" {
			t, err := parseISO(v)
			if err != nil {
				return nil, invalidParam(name, "Invalid date.")
			}
			*dst = t
		}
	}
	include := map[int64]bool{}
	for _, v := range strings.Split(q.Get("include"), ",") {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			include[n] = true
		}
	}
	out := make([]*simObj, 0, len(all))
	for id, o := range all {
		o.id = id
		mod := o.modified.Truncate(time.Second)
		if !after.IsZero() && !mod.After(after) || !before.IsZero() && !mod.Before(before) {
			continue
		}
		if len(include) > 0 && !include[id] {
			continue
		}
		if keep != nil && !keep(o) {
			continue
		}
		out = append(out, o)
	}
	orderby := q.Get("orderby")
	if orderby == "" {
		orderby = "date"
	}
	desc := q.Get("order") != "asc"
	less := func(a, b *simObj) bool {
		switch orderby {
		case "date":
			if !a.created.Equal(b.created) {
				return a.created.Before(b.created)
			}
		case "modified":
			if !a.modified.Equal(b.modified) {
				return a.modified.Before(b.modified)
			}
		case "title":
			if x, y := fmt.Sprint(a.data["name"]), fmt.Sprint(b.data["name"]); x != y {
				return x < y
			}
		case "id", "include":
		default:
			return false
		}
		return a.id < b.id
	}
	switch orderby {
	case "date", "modified", "title", "id", "include", "slug", "price", "popularity", "rating", "menu_order":
	default:
		return nil, invalidParam("orderby", "orderby is not one of date, id, include, title, slug, modified.")
	}
	sort.Slice(out, func(i, j int) bool {
		if desc {
			return less(out[j], out[i])
		}
		return less(out[i], out[j])
	})
	return out, nil
}

// parseISO reads WordPress's ISO 8601 dates (zone optional; the site zone is UTC here).
func parseISO(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, wcTime, "2006-01-02T15:04:05.999999", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Truncate(time.Second), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q", v)
}

func stamp2(data map[string]any, created, modified time.Time) {
	data["date_created"] = created.UTC().Format(wcTime)
	data["date_created_gmt"] = created.UTC().Format(wcTime)
	data["date_modified"] = modified.UTC().Format(wcTime)
	data["date_modified_gmt"] = modified.UTC().Format(wcTime)
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ---- webhook delivery ----

// subscribed tells whether an active webhook listens to topic (lock held), so that a caller
// builds no payload nobody receives.
func (s *Simulator) subscribed(topic string) bool {
	for _, h := range s.webhooks {
		if h.topic == topic && h.data["status"] == "active" {
			return true
		}
	}
	return false
}

// fire queues topic deliveries of payload to every active webhook of that topic (lock held).
func (s *Simulator) fire(topic string, payload map[string]any) {
	if len(s.webhooks) == 0 {
		return
	}
	ids := make([]int64, 0, len(s.webhooks))
	for id, h := range s.webhooks {
		if h.topic == topic && h.data["status"] == "active" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return // nothing subscribed: no payload is encoded
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return
	}
	resource, event, _ := strings.Cut(topic, ".")
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		h := s.webhooks[id]
		sum := sha1.Sum([]byte(fmt.Sprintf("%d%d", id, s.now().Unix())))
		hdr := http.Header{}
		hdr.Set("Content-Type", "application/json")
		hdr.Set("User-Agent", "WooCommerce/9.9.0 Hookshot (WordPress/6.8)")
		hdr.Set(HeaderSource, h.source)
		hdr.Set(HeaderTopic, topic)
		hdr.Set(HeaderResource, resource)
		hdr.Set(HeaderEvent, event)
		hdr.Set(HeaderSignature, Sign(h.secret, body))
		hdr.Set(HeaderWebhookID, strconv.FormatInt(id, 10))
		hdr.Set(HeaderDeliveryID, hex.EncodeToString(sum[:]))
		s.queue = append(s.queue, delivery{hookID: id, url: h.url, body: body, header: hdr})
	}
	s.signal()
}

func (s *Simulator) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Simulator) deliverLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.closed:
			return
		case <-s.wake:
		}
		for {
			s.mu.Lock()
			if len(s.queue) == 0 {
				s.mu.Unlock()
				break
			}
			d := s.queue[0]
			s.queue = s.queue[1:]
			s.mu.Unlock()
			ok := s.post(d)
			s.mu.Lock()
			if h, found := s.webhooks[d.hookID]; found {
				if ok {
					h.failures = 0
				} else if h.failures++; h.failures >= 5 {
					h.data["status"] = "disabled" // WooCommerce disables a webhook after 5 failures in a row
				}
			}
			if ok {
				s.delivered++
			}
			s.mu.Unlock()
		}
	}
}

func (s *Simulator) post(d delivery) bool {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return false
	}
	req.Header = d.header.Clone()
	resp, err := s.deliver.Do(req)
	if err != nil {
		return false
	}
	_, _ = connector.ReadBody(resp)
	return resp.StatusCode >= 200 && resp.StatusCode <= 302
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
	s.deliver = hc
}

// CompleteOrder marks an open order (pending, processing, on-hold) completed, as the shop's
// owner would in WooCommerce's admin; order.updated goes to the subscribed webhooks.
func (s *Simulator) CompleteOrder(id string) bool { return s.moveOpenOrder(id, "completed") }

// VoidOrder marks an open order cancelled, as the shop's owner would.
func (s *Simulator) VoidOrder(id string) bool { return s.moveOpenOrder(id, "cancelled") }

func (s *Simulator) moveOpenOrder(id, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := strconv.ParseInt(id, 10, 64)
	o, ok := s.orders[n]
	if err != nil || !ok {
		return false
	}
	switch o.data["status"] {
	case "pending", "processing", "on-hold":
	default:
		return false
	}
	s.setOrderStatus(o, status)
	o.modified = s.now().UTC()
	s.fire("order.updated", s.orderJSON(o))
	return true
}
