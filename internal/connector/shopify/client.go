package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// Options tune the client. The zero value is the production setting; tests shorten the waits.
type Options struct {
	PageSize          int           // items a page for products, customers, orders (1..250, default 250)
	MaxRetries        int           // retries of a 5xx or timeout on a safe call (default 3; -1 for none)
	Backoff           time.Duration // first backoff before a retry, doubled each time (default 500ms)
	LeakRate          float64       // requests a second the bucket leaks (default 2, the Standard plan)
	BucketSize        int           // bucket size until the call-limit header says otherwise (default 40)
	Headroom          int           // bucket slots kept free for other callers of the same app (default 1)
	MaxRateLimitWaits int           // 429 answers waited out on one call before giving up (default 20)
}

func (o Options) withDefaults() Options {
	if o.PageSize <= 0 || o.PageSize > 250 {
		o.PageSize = 250
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 3
	} else if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.LeakRate <= 0 {
		o.LeakRate = 2
	}
	if o.BucketSize <= 0 {
		o.BucketSize = 40
	}
	if o.Headroom < 0 {
		o.Headroom = 0
	} else if o.Headroom == 0 {
		o.Headroom = 1
	}
	if o.MaxRateLimitWaits <= 0 {
		o.MaxRateLimitWaits = 20
	}
	return o
}

// Client is one integration's connection to a Shopify store. It implements connector.Connector
// and the capability interfaces Products, Stock, Customers, Orders, Sales and Webhooks.
type Client struct {
	base     string // scheme://host of the shop
	token    string
	secret   string
	http     *http.Client
	limiter  *connector.Limiter
	opts     Options
	now      func() time.Time
	bucket   *bucket
	cost     *costBucket
	calls    atomic.Int64
	throttle atomic.Int64

	gqlThrottled atomic.Int64

	mu       sync.Mutex
	currency string
	gqlSpent float64
	// defaultLocation is the shop's first active location (read once): stock for "" goes there.
	defaultLocation int64
	items           map[int64]itemRef // inventory_item_id -> product and variant
}

type itemRef struct{ productID, variantID int64 }

var (
	_ connector.Connector                    = (*Client)(nil)
	_ connector.ProductSource                = (*Client)(nil)
	_ connector.ProductSink                  = (*Client)(nil)
	_ connector.ProductFinder                = (*Client)(nil)
	_ connector.StockAtLocationsWithProducts = (*Client)(nil)
	_ connector.StockSource                  = (*Client)(nil)
	_ connector.StockSink                    = (*Client)(nil)
	_ connector.CustomerSource               = (*Client)(nil)
	_ connector.CustomerSink                 = (*Client)(nil)
	_ connector.OrderSink                    = (*Client)(nil)
	_ connector.SalesSource                  = (*Client)(nil)
	_ connector.WebhookReceiver              = (*Client)(nil)
	_ connector.WebhookSubscriber            = (*Client)(nil)
)

// New opens a client for cfg. cfg.HTTP should come from connector.NewHTTPClient; cfg.Limiter
// may be nil, in which case the client makes one at the documented Standard rate.
func New(cfg connector.Config, opts Options) (*Client, error) {
	opts = opts.withDefaults()
	base, err := ShopBaseURL(cfg.Credentials[FieldShopDomain])
	if err != nil {
		return nil, err
	}
	token := strings.TrimSpace(cfg.Credentials[FieldAccessToken])
	if token == "" {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: "the Admin API access token is required"}
	}
	hc := cfg.HTTP
	if hc == nil {
		hc = connector.NewHTTPClient(connector.HTTPOptions{})
	}
	lim := cfg.Limiter
	if lim == nil {
		lim = connector.NewLimiter(opts.LeakRate, opts.BucketSize)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Client{
		base:    base,
		token:   token,
		secret:  cfg.Credentials[FieldAPISecret],
		http:    hc,
		limiter: lim,
		opts:    opts,
		now:     now,
		bucket:  newBucket(float64(opts.BucketSize), opts.LeakRate, float64(opts.Headroom)),
		cost:    sharedCostBucket(base, token),
		items:   map[int64]itemRef{},
	}, nil
}

var hostRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$`)

// ShopBaseURL turns what the merchant typed (mystore.myshopify.com, https://mystore.myshopify.com/admin,
// or a simulator's http://127.0.0.1:9101) into scheme://host. The host is checked again at dial time
// by the guarded HTTP client.
func ShopBaseURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", &connector.Error{Kind: connector.KindInvalid, Message: "the shop domain is required"}
	}
	if !strings.Contains(s, "://") {
		host, _, _ := strings.Cut(s, "/")
		if !hostRE.MatchString(host) {
			return "", &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("%q is not a shop domain such as mystore.myshopify.com", s)}
		}
		return "https://" + strings.ToLower(host), nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("%q is not a shop URL", s)}
	}
	// A path is kept (a simulator served below a prefix), except the /admin... a merchant copies
	// from the browser.
	path := strings.TrimRight(u.EscapedPath(), "/")
	if path == "/admin" || strings.HasPrefix(path, "/admin/") {
		path = ""
	}
	return u.Scheme + "://" + strings.ToLower(u.Host) + path, nil
}

// Calls returns how many HTTP requests the client has sent.
func (c *Client) Calls() int64 { return c.calls.Load() }

// Throttled returns how many 429 answers the client has met (and waited out).
func (c *Client) Throttled() int64 { return c.throttle.Load() }

func (c *Client) adminURL(path string) string {
	return c.base + "/admin/api/" + APIVersion + "/" + strings.TrimPrefix(path, "/")
}

// call is one REST or GraphQL request.
type call struct {
	op      string // what the caller is doing, for error context
	method  string
	path    string     // below /admin/api/{version}/, e.g. "products.json"
	query   url.Values // ignored when rawURL is set
	rawURL  string     // a full URL from a Link header
	body    any
	graphql bool // GraphQL calls are paced by cost, not by the REST bucket
	// unsafe calls (creates) are not repeated after a 5xx or a timeout: the provider may have
	// done the work. A 429 is always retried: Shopify refused it before doing anything.
	unsafe bool
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with pacing, retries and error mapping, and decodes a 2xx answer into out.
func (c *Client) do(ctx context.Context, rq call, out any) (*answer, error) {
	var payload []byte
	if rq.body != nil {
		b, err := json.Marshal(rq.body)
		if err != nil {
			return nil, fmt.Errorf("%s: encode request: %w", rq.op, err)
		}
		payload = b
	}
	target := rq.rawURL
	if target == "" {
		target = c.adminURL(rq.path)
		if len(rq.query) > 0 {
			target += "?" + rq.query.Encode()
		}
	}
	retry := connector.Retry{Backoff: c.backoff(),
		Retries: c.opts.MaxRetries, Waits: c.opts.MaxRateLimitWaits, Limiter: c.limiter, Unsafe: rq.unsafe}
	if rq.graphql {
		retry.Limiter = nil // GraphQL has its own budget (costBucket), apart from REST's
	}
	var ans *answer
	err := retry.Do(ctx, func() (err error) {
		ans, err = c.attempt(ctx, rq, target, payload)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rq.op, err)
	}
	if out != nil && len(ans.body) > 0 {
		if err := json.Unmarshal(ans.body, out); err != nil {
			return ans, fmt.Errorf("%s: %w", rq.op, &connector.Error{Kind: connector.KindTemporary, Status: ans.status,
				Message: "the answer is not the JSON Shopify documents", Err: err})
		}
	}
	return ans, nil
}

// attempt makes one attempt of do: it takes its turn in the REST bucket, sends, feeds the
// bucket from the answer's headers, and maps an answer other than 2xx to a *connector.Error. A
// 429 is counted and carries the Retry-After Shopify names (or one leak of the bucket).
func (c *Client) attempt(ctx context.Context, rq call, target string, payload []byte) (*answer, error) {
	if !rq.graphql {
		if err := c.bucket.acquire(ctx); err != nil {
			return nil, ctxError(err)
		}
	}
	ans, err := c.send(ctx, rq.method, target, payload)
	if !rq.graphql {
		var h http.Header
		if ans != nil {
			h = ans.header
		}
		c.bucket.observe(h, time.Now())
	}
	if err != nil {
		return nil, err
	}
	if ans.status >= 200 && ans.status < 300 {
		return ans, nil
	}
	perr := providerError(ans.status, ans.body)
	if ans.status == http.StatusTooManyRequests {
		c.throttle.Add(1)
		perr.RetryAfter = retryAfter(ans.header.Get("Retry-After"), c.opts.LeakRate)
		c.bucket.throttled(perr.RetryAfter, time.Now())
	}
	return nil, perr
}

func (c *Client) send(ctx context.Context, method, target string, payload []byte) (*answer, error) {
	var body *bytes.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequestWithContext(ctx, method, target, body)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, target, nil)
	}
	if err != nil {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: "build request: " + err.Error(), Err: err}
	}
	req.Header.Set("X-Shopify-Access-Token", c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "posbridge")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.calls.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, connector.TransportError(method+" "+req.URL.Path, err)
	}
	b, err := connector.ReadBody(resp)
	if err != nil {
		return &answer{status: resp.StatusCode, header: resp.Header}, err
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// backoff is the wait before a repeat: doubling from Options.Backoff up to 30 s, with up to
// 20% jitter so several integrations do not retry in step.
func (c *Client) backoff() connector.Backoff {
	return connector.Backoff{First: c.opts.Backoff, Max: 30 * time.Second, Jitter: 0.2}
}

func ctxError(err error) error {
	return &connector.Error{Kind: connector.KindTemporary, Message: "gave up waiting: " + err.Error(), Err: err}
}

// retryAfter reads Shopify's Retry-After, given in seconds and possibly fractional ("2.0").
// Without a usable header it waits for one request to leak out of the bucket.
func retryAfter(v string, leak float64) time.Duration {
	if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f < 3600 {
		return time.Duration(f * float64(time.Second))
	}
	if d := connector.ParseRetryAfter(v, time.Now()); d > 0 {
		return d
	}
	return time.Duration(float64(time.Second) / leak)
}

// providerError maps a Shopify error answer to a connector error with Shopify's own words.
// Shopify's REST error bodies come in three shapes: {"errors":"text"},
// {"errors":["text",...]} and {"errors":{"field":["text",...]}}; OAuth errors use
// {"error":"...","error_description":"..."}.
func providerError(status int, body []byte) *connector.Error {
	var eb struct {
		Errors           json.RawMessage `json:"errors"`
		Error            string          `json:"error"`
		ErrorDescription string          `json:"error_description"`
	}
	msg, code := "", ""
	if json.Unmarshal(body, &eb) == nil {
		msg, code = flattenErrors(eb.Errors)
		if msg == "" {
			msg = strings.TrimSpace(eb.Error + " " + eb.ErrorDescription)
		}
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	kind := connector.KindForStatus(status)
	if status == http.StatusUnprocessableEntity {
		kind = connector.KindInvalid
	}
	return &connector.Error{Kind: kind, Status: status, Code: code, Message: msg}
}

// flattenErrors renders Shopify's "errors" value as one sentence; code names the fields.
func flattenErrors(raw json.RawMessage) (msg, code string) {
	if len(raw) == 0 {
		return "", ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, ""
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return strings.Join(list, "; "), ""
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) == nil {
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			var msgs []string
			if json.Unmarshal(fields[k], &msgs) != nil {
				var one string
				if json.Unmarshal(fields[k], &one) != nil {
					one = string(fields[k])
				}
				msgs = []string{one}
			}
			for _, m := range msgs {
				if k == "base" {
					parts = append(parts, m)
				} else {
					parts = append(parts, k+" "+m)
				}
			}
		}
		return strings.Join(parts, "; "), strings.Join(keys, ",")
	}
	return string(raw), ""
}

// nextPageInfo returns the URL of rel="next" in a Link header, or "".
func nextLink(h http.Header) string {
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			u, params, ok := strings.Cut(part, ";")
			if !ok {
				continue
			}
			u = strings.TrimSpace(u)
			if !strings.HasPrefix(u, "<") || !strings.HasSuffix(u, ">") {
				continue
			}
			for _, p := range strings.Split(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.TrimSpace(k) == "rel" && strings.Trim(strings.TrimSpace(val), `"`) == "next" {
					return u[1 : len(u)-1]
				}
			}
		}
	}
	return ""
}

// Verify checks the credentials with GET shop.json, one cheap call.
func (c *Client) Verify(ctx context.Context) error {
	_, err := c.shop(ctx)
	return err
}

type shopJSON struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Domain   string `json:"domain"`
	Currency string `json:"currency"`
}

func (c *Client) shop(ctx context.Context) (shopJSON, error) {
	var out struct {
		Shop shopJSON `json:"shop"`
	}
	if _, err := c.do(ctx, call{op: "get shop", method: http.MethodGet, path: "shop.json"}, &out); err != nil {
		return shopJSON{}, err
	}
	if out.Shop.Currency != "" {
		c.mu.Lock()
		c.currency = out.Shop.Currency
		c.mu.Unlock()
	}
	return out.Shop, nil
}

// shopCurrency is the store currency all REST prices are in; it is read once.
func (c *Client) shopCurrency(ctx context.Context) (string, error) {
	c.mu.Lock()
	cur := c.currency
	c.mu.Unlock()
	if cur != "" {
		return cur, nil
	}
	s, err := c.shop(ctx)
	if err != nil {
		return "", err
	}
	if s.Currency == "" {
		return "", &connector.Error{Kind: connector.KindInvalid, Message: "the shop has no currency"}
	}
	return s.Currency, nil
}

type locationJSON struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Active bool   `json:"active"`
}

func (c *Client) locations(ctx context.Context) ([]locationJSON, error) {
	var out struct {
		Locations []locationJSON `json:"locations"`
	}
	if _, err := c.do(ctx, call{op: "list locations", method: http.MethodGet, path: "locations.json"}, &out); err != nil {
		return nil, err
	}
	return out.Locations, nil
}

// Stores lists the shop's active locations (GET locations.json).
func (c *Client) Stores(ctx context.Context) ([]domain.Store, error) {
	cur, err := c.shopCurrency(ctx)
	if err != nil {
		return nil, err
	}
	locs, err := c.locations(ctx)
	if err != nil {
		return nil, err
	}
	var stores []domain.Store
	for _, l := range locs {
		if !l.Active {
			continue
		}
		stores = append(stores, domain.Store{ID: strconv.FormatInt(l.ID, 10), Name: l.Name, Currency: cur})
	}
	return stores, nil
}

func parseID(kind, s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("%q is not a Shopify %s id", s, kind)}
	}
	return n, nil
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func isKind(err error, k connector.Kind) bool {
	var e *connector.Error
	return errors.As(err, &e) && e.Kind == k
}
