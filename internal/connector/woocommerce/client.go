package woocommerce

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
	"sync"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// APIPath is where the WooCommerce REST API v3 hangs from the store URL.
const APIPath = "/wp-json/wc/v3"

// MaxPerPage is the largest per_page WooCommerce accepts (1..100).
const MaxPerPage = 100

// MaxBatch is the most objects (create + update + delete) one batch request may carry;
// WooCommerce answers 413 woocommerce_rest_request_entity_too_large above it.
const MaxBatch = 100

// StoreID is the id of the single stock location and store a WooCommerce site has.
const StoreID = "default"

// DefaultRate is the pace kept when the caller gives no limiter. WooCommerce documents no rate
// limit: what a WordPress host can take is its PHP workers, and what bounds posbridge's load on
// it is the cap on calls in flight per integration (package circuit) and each call's own time;
// a host or plugin that limits its rate answers 429 with Retry-After, which the client waits
// out. This pace only keeps a host that answers at once from a burst without end. (At 20 a
// second, a 100,000-product catalog's 1,000 batch calls, sent one after another, took 50 s
// however fast the shop answered: bench catalog.)
const DefaultRate = 100

// Options tune the client's retries and paging. Tests use short backoffs.
type Options struct {
	MaxRetries  int           // retries of a 5xx, timeout or network failure (default 3)
	Backoff     time.Duration // first backoff, doubled each retry (default 250ms)
	MaxBackoff  time.Duration // cap of one backoff (default 5s)
	Max429Waits int           // 429 answers waited out per call before giving up (default 30)
	PerPage     int           // page size of listings, 1..100 (default 100)
	// OrderScanPages bounds the fallback scan of FindOrderByReference when the store's order
	// search does not cover meta data (default 20 pages of 100 orders).
	OrderScanPages int
}

// Option changes Options.
type Option func(*Options)

// WithRetries sets how often failures are retried and the first backoff.
func WithRetries(n int, backoff time.Duration) Option {
	return func(o *Options) { o.MaxRetries, o.Backoff = n, backoff }
}

// WithMaxBackoff caps one backoff.
func WithMaxBackoff(d time.Duration) Option { return func(o *Options) { o.MaxBackoff = d } }

// WithPerPage sets the page size of listings (1..100).
func WithPerPage(n int) Option { return func(o *Options) { o.PerPage = n } }

// WithOrderScanPages bounds the fallback order scan of FindOrderByReference.
func WithOrderScanPages(n int) Option { return func(o *Options) { o.OrderScanPages = n } }

// Client is one integration's connection to a WooCommerce store.
type Client struct {
	base   string // scheme://host[/path]/wp-json/wc/v3
	store  string // scheme://host[/path]
	key    string
	secret string
	http   *http.Client
	lim    *connector.Limiter
	now    func() time.Time
	opt    Options

	calls int64 // answered HTTP calls, for benchmarks
	mu    sync.Mutex
	info  *storeInfo
}

// storeInfo is what the store's settings say about money and weight.
type storeInfo struct {
	Currency   string
	Decimals   int
	WeightUnit string
}

// New opens a client from the integration's config and credentials.
func New(cfg connector.Config, opts ...Option) (*Client, error) {
	store, err := StoreURL(cfg.Credentials[FieldStoreURL])
	if err != nil {
		return nil, err
	}
	key := strings.TrimSpace(cfg.Credentials[FieldConsumerKey])
	secret := strings.TrimSpace(cfg.Credentials[FieldConsumerSecret])
	if key == "" {
		return nil, domain.Invalid(FieldConsumerKey, "the consumer key is required")
	}
	if secret == "" {
		return nil, domain.Invalid(FieldConsumerSecret, "the consumer secret is required")
	}
	o := Options{MaxRetries: 3, Backoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second, Max429Waits: 30, PerPage: MaxPerPage, OrderScanPages: 20}
	for _, f := range opts {
		f(&o)
	}
	if o.PerPage < 1 || o.PerPage > MaxPerPage {
		o.PerPage = MaxPerPage
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	c := &Client{base: store + APIPath, store: store, key: key, secret: secret, http: cfg.HTTP, lim: cfg.Limiter, now: cfg.Now, opt: o}
	if c.http == nil {
		c.http = connector.NewHTTPClient(connector.HTTPOptions{})
	}
	if c.lim == nil {
		c.lim = connector.NewLimiter(DefaultRate, DefaultRate)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// StoreURL normalises the merchant's store address: a bare host gets https://, a trailing
// slash or a pasted /wp-json/wc/v3 suffix is dropped; other schemes, query strings and
// credentials in the URL are refused.
func StoreURL(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", domain.Invalid(FieldStoreURL, "the store URL is required")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", domain.Invalid(FieldStoreURL, "the store URL is not a valid URL: %v", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", domain.Invalid(FieldStoreURL, "the store URL must start with https://")
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", domain.Invalid(FieldStoreURL, "the store URL must be the address of the site, like https://shop.example.com")
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, APIPath)
	p = strings.TrimSuffix(p, "/wp-json")
	return u.Scheme + "://" + u.Host + strings.TrimRight(p, "/"), nil
}

// Calls counts the HTTP answers the client received (all statuses).
func (c *Client) Calls() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// apiError is WooCommerce's error body: {"code","message","data":{"status"}}.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Data    struct {
		Status int `json:"status"`
	} `json:"data"`
}

// errorFromBody maps a WooCommerce error answer to a *connector.Error with its own words.
func errorFromBody(status int, body []byte) *connector.Error {
	var ae apiError
	_ = json.Unmarshal(body, &ae)
	if ae.Data.Status != 0 && status == 0 {
		status = ae.Data.Status
	}
	return wcError(status, ae)
}

func wcError(status int, ae apiError) *connector.Error {
	if status == 0 {
		status = ae.Data.Status
	}
	e := &connector.Error{Kind: connector.KindForStatus(status), Status: status, Code: ae.Code, Message: ae.Message}
	switch ae.Code {
	case "woocommerce_rest_authentication_error", "woocommerce_rest_authentication_missing_parameter", "woocommerce_rest_cannot_view",
		"woocommerce_rest_cannot_create", "woocommerce_rest_cannot_edit",
		"woocommerce_rest_cannot_delete", "woocommerce_rest_cannot_batch", "rest_forbidden":
		if status == 401 || status == 403 {
			e.Kind = connector.KindCredentials
		}
	case "woocommerce_rest_request_entity_too_large", "rest_invalid_param", "rest_missing_callback_param",
		"product_invalid_sku", "woocommerce_rest_product_not_created":
		e.Kind = connector.KindInvalid
	}
	if status == 0 && e.Kind == connector.KindTemporary && ae.Code != "" {
		e.Kind = connector.KindInvalid // an item error without a status: the provider refused it
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// response is a successful answer: its body and the headers paging needs.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// call sends one API request with auth, pacing, retries and error mapping. path is below
// /wp-json/wc/v3; in is JSON-encoded when not nil; out is decoded from a 2xx answer when not nil.
func (c *Client) call(ctx context.Context, method, path string, q url.Values, in, out any) (*response, error) {
	return c.do(ctx, c.opt.MaxRetries, method, path, q, in, out)
}

// do is call with its own bound on retries of 5xx and transport failures (0 for writes that
// must not be repeated blindly).
func (c *Client) do(ctx context.Context, maxRetries int, method, path string, q url.Values, in, out any) (*response, error) {
	var payload []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		payload = b
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	op := method + " " + path
	retry := connector.Retry{Backoff: c.backoff(), Retries: maxRetries, Waits: c.opt.Max429Waits, Limiter: c.lim}
	var resp *response
	err := retry.Do(ctx, func() (err error) {
		resp, err = c.attempt(ctx, op, method, u, payload)
		return err
	})
	if err != nil {
		return nil, err
	}
	if out != nil && len(resp.Body) > 0 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return nil, &connector.Error{Kind: connector.KindTemporary, Status: resp.Status,
				Message: op + ": the store answered something that is not the expected JSON", Err: err}
		}
	}
	return resp, nil
}

// attempt makes one attempt of do and maps a failed round trip or an answer other than 2xx to
// a *connector.Error; a 429 carries the Retry-After the host names, if any (WooCommerce
// documents no rate limit; hosts and security plugins may still answer 429).
func (c *Client) attempt(ctx context.Context, op, method, u string, payload []byte) (*response, error) {
	resp, err := c.once(ctx, method, u, payload)
	if err != nil {
		return nil, connector.TransportError(op, err)
	}
	if resp.Status >= 200 && resp.Status < 300 {
		return resp, nil
	}
	e := errorFromBody(resp.Status, resp.Body)
	if resp.Status == http.StatusTooManyRequests {
		e.RetryAfter = connector.ParseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	}
	return nil, e
}

func (c *Client) once(ctx context.Context, method, u string, payload []byte) (*response, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	// WooCommerce takes Basic auth over HTTPS only; a plain-HTTP store (a shop on the LAN) wants
	// each request signed with OAuth 1.0a, a fresh nonce and timestamp per attempt.
	if req.URL.Scheme == "https" {
		req.SetBasicAuth(c.key, c.secret)
	} else {
		signOAuth(method, req.URL, c.key, c.secret, c.now())
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "posbridge")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	b, err := connector.ReadBody(resp)
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// backoff is the wait before a repeat: doubling from Options.Backoff up to Options.MaxBackoff.
func (c *Client) backoff() connector.Backoff {
	return connector.Backoff{First: c.opt.Backoff, Max: c.opt.MaxBackoff}
}

// Verify checks the keys with one cheap read the key needs anyway (the store's settings).
func (c *Client) Verify(ctx context.Context) error {
	if _, err := c.loadInfo(ctx, true); err != nil {
		return fmt.Errorf("verify woocommerce keys: %w", err)
	}
	return nil
}

// Stores returns the one store a WooCommerce site is, in its currency.
func (c *Client) Stores(ctx context.Context) ([]domain.Store, error) {
	info, err := c.loadInfo(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("list stores: %w", err)
	}
	name := c.store
	if u, err := url.Parse(c.store); err == nil {
		name = u.Host + strings.TrimRight(u.Path, "/")
	}
	return []domain.Store{{ID: StoreID, Name: name, Currency: info.Currency}}, nil
}

type setting struct {
	ID    string `json:"id"`
	Value any    `json:"value"`
}

// loadInfo reads (once, or again when fresh) the store currency and price decimals from
// GET /settings/general: one cheap call, also the one Verify makes.
func (c *Client) loadInfo(ctx context.Context, fresh bool) (storeInfo, error) {
	c.mu.Lock()
	if c.info != nil && !fresh {
		info := *c.info
		c.mu.Unlock()
		return info, nil
	}
	c.mu.Unlock()
	var general []setting
	if _, err := c.call(ctx, http.MethodGet, "/settings/general", nil, nil, &general); err != nil {
		return storeInfo{}, fmt.Errorf("read general settings: %w", err)
	}
	info := storeInfo{Currency: "USD", Decimals: 2}
	for _, s := range general {
		v := fmt.Sprint(s.Value)
		switch s.ID {
		case "woocommerce_currency":
			if v != "" {
				info.Currency = strings.ToUpper(v)
			}
		case "woocommerce_price_num_decimals":
			if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 8 {
				info.Decimals = n
			}
		}
	}
	c.mu.Lock()
	if c.info != nil {
		info.WeightUnit = c.info.WeightUnit
	}
	c.info = &info
	c.mu.Unlock()
	return info, nil
}

// catalogInfo is loadInfo plus the weight unit (GET /settings/products/woocommerce_weight_unit),
// read once when products are first converted.
func (c *Client) catalogInfo(ctx context.Context) (storeInfo, error) {
	info, err := c.loadInfo(ctx, false)
	if err != nil || info.WeightUnit != "" {
		return info, err
	}
	var unit setting
	info.WeightUnit = "kg"
	if _, err := c.call(ctx, http.MethodGet, "/settings/products/woocommerce_weight_unit", nil, nil, &unit); err == nil {
		if v, ok := unit.Value.(string); ok && v != "" {
			info.WeightUnit = v
		}
	} else if k := connector.KindOf(err); k != connector.KindNotFound && k != connector.KindInvalid {
		return storeInfo{}, fmt.Errorf("read weight unit: %w", err)
	}
	c.mu.Lock()
	if c.info != nil {
		c.info.WeightUnit = info.WeightUnit
	}
	c.mu.Unlock()
	return info, nil
}

// notFound builds the KindNotFound error of a missing object.
func notFound(what, id string) error {
	return &connector.Error{Kind: connector.KindNotFound, Status: 404, Message: fmt.Sprintf("%s %s not found", what, id)}
}

// intID parses a WooCommerce id; a malformed one is a KindInvalid (not found would mislead).
func intID(what, id string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
	if err != nil || n <= 0 {
		return 0, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("%s id %q is not a WooCommerce id", what, id)}
	}
	return n, nil
}
