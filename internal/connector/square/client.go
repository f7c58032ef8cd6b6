package square

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// DefaultRate and DefaultBurst pace calls when the caller gives no limiter. Square publishes no
// numeric limits (it answers 429 RATE_LIMITED when an application sends too much), so this is a
// conservative steady rate that keeps a sync well below where Square starts refusing.
const (
	DefaultRate  = 10.0
	DefaultBurst = 20
)

// Client is a connector to one Square seller account. It implements connector.Connector,
// ProductSource, ProductSink, StockSource, StockSink, CustomerSource, CustomerSink, OrderSink,
// SalesSource, WebhookReceiver and WebhookSubscriber. It is safe for concurrent use.
type Client struct {
	base         string
	token        string
	locationID   string
	signatureKey string
	webhookURL   string
	http         *http.Client
	lim          *connector.Limiter
	now          func() time.Time

	retries     int           // extra attempts after a 5xx or a timeout
	rateRetries int           // extra attempts after 429 RATE_LIMITED
	backoff     time.Duration // first backoff; doubles each attempt
	maxBackoff  time.Duration

	calls atomic.Int64

	mu              sync.Mutex
	locations       []location        // cached by Stores, for order searches
	locCurrency     string            // currency of the default location
	itemOfVariation map[string]string // variation id -> item id, for stock levels
}

// Option tunes a Client.
type Option func(*Client)

// WithRetries sets how many times a 5xx answer or a timeout is retried (default 3).
func WithRetries(n int) Option { return func(c *Client) { c.retries = max(n, 0) } }

// WithRateLimitRetries sets how many 429 answers in a row one call rides out (default 12).
func WithRateLimitRetries(n int) Option { return func(c *Client) { c.rateRetries = max(n, 0) } }

// WithBackoff sets the first backoff and its cap (defaults 500 ms and 30 s); tests use small values.
func WithBackoff(first, limit time.Duration) Option {
	return func(c *Client) {
		if first > 0 {
			c.backoff = first
		}
		if limit >= first && limit > 0 {
			c.maxBackoff = limit
		}
	}
}

// New opens a connector for one integration from its configuration.
func New(cfg connector.Config, opts ...Option) (*Client, error) {
	token := strings.TrimSpace(cfg.Credentials[FieldAccessToken])
	if token == "" {
		return nil, &connector.Error{Kind: connector.KindCredentials, Code: "missing_access_token", Message: "the Square access token is missing"}
	}
	base, err := BaseURL(cfg.Credentials[FieldEnvironment])
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:         base,
		token:        token,
		locationID:   strings.TrimSpace(cfg.Credentials[FieldLocationID]),
		signatureKey: cfg.Credentials[FieldSignatureKey],
		webhookURL:   strings.TrimSpace(cfg.Credentials[FieldWebhookURL]),
		http:         cfg.HTTP,
		lim:          cfg.Limiter,
		now:          cfg.Now,
		retries:      3,
		rateRetries:  12,
		backoff:      500 * time.Millisecond,
		maxBackoff:   30 * time.Second,
	}
	if c.http == nil {
		c.http = connector.NewHTTPClient(connector.HTTPOptions{})
	}
	if c.lim == nil {
		c.lim = connector.NewLimiter(DefaultRate, DefaultBurst)
	}
	if c.now == nil {
		c.now = time.Now
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Calls counts the HTTP requests this client has sent (retries included).
func (c *Client) Calls() int64 { return c.calls.Load() }

// call sends one API request and decodes a 2xx answer into out. connector.Retry repeats 5xx
// answers and timeouts up to c.retries times and rides out 429 answers with exponential
// backoff (Square names no Retry-After).
func (c *Client) call(ctx context.Context, op, method, path string, query url.Values, in, out any) error {
	var payload []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s: encode request: %w", op, err)
		}
		payload = b
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	retry := connector.Retry{Backoff: connector.Backoff{First: c.backoff, Max: c.maxBackoff, Jitter: 0.25},
		Retries: c.retries, Waits: c.rateRetries, Limiter: c.lim}
	var status int
	var raw []byte
	err := retry.Do(ctx, func() (err error) {
		status, raw, err = c.send(ctx, op, method, u, payload)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &connector.Error{Kind: connector.KindTemporary, Status: status,
			Message: op + ": the answer is not the JSON Square documents", Err: err}
	}
	return nil
}

// send makes one attempt of call and answers a 2xx answer's status and body.
func (c *Client) send(ctx context.Context, op, method, u string, payload []byte) (int, []byte, error) {
	var body *bytes.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := newRequest(ctx, method, u, body)
	if err != nil {
		return 0, nil, &connector.Error{Kind: connector.KindInvalid, Message: "build request: " + err.Error(), Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Square-Version", SquareVersion)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.calls.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, connector.TransportError(op, err)
	}
	raw, err := connector.ReadBody(resp)
	if err != nil {
		return 0, nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, nil, apiError(resp.StatusCode, raw)
	}
	return resp.StatusCode, raw, nil
}

func newRequest(ctx context.Context, method, u string, body *bytes.Reader) (*http.Request, error) {
	if body == nil {
		return http.NewRequestWithContext(ctx, method, u, nil)
	}
	return http.NewRequestWithContext(ctx, method, u, body)
}

// apiError maps a Square error answer to a *connector.Error with Square's code and detail.
func apiError(status int, raw []byte) *connector.Error {
	e := &connector.Error{Kind: connector.KindForStatus(status), Status: status}
	var body errorsBody
	if err := json.Unmarshal(raw, &body); err != nil || len(body.Errors) == 0 {
		e.Message = strings.TrimSpace(string(raw))
		if len(e.Message) > 300 {
			e.Message = e.Message[:300]
		}
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
		return e
	}
	first := body.Errors[0]
	e.Code = first.Code
	msgs := make([]string, 0, len(body.Errors))
	for _, x := range body.Errors {
		m := x.Detail
		if m == "" {
			m = x.Code
		}
		msgs = append(msgs, m)
	}
	e.Message = strings.Join(msgs, "; ")
	switch first.Code {
	case "UNAUTHORIZED", "ACCESS_TOKEN_EXPIRED", "ACCESS_TOKEN_REVOKED", "FORBIDDEN", "INSUFFICIENT_SCOPES", "CLIENT_DISABLED":
		e.Kind = connector.KindCredentials
	case "RATE_LIMITED":
		e.Kind = connector.KindRateLimited
	case "VERSION_MISMATCH", "CONFLICT":
		e.Kind = connector.KindConflict
	case "NOT_FOUND":
		e.Kind = connector.KindNotFound
	case "IDEMPOTENCY_KEY_REUSED":
		e.Kind = connector.KindInvalid
	}
	if first.Category == "AUTHENTICATION_ERROR" {
		e.Kind = connector.KindCredentials
	}
	return e
}

// newKey returns a fresh idempotency key (32 hex characters: within every endpoint's limit).
func newKey() string {
	var b [16]byte
	if _, err := cryptoRead(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; fall back to a time-based key.
		return fmt.Sprintf("%032x", time.Now().UnixNano())
	}
	return hex.EncodeToString(b[:])
}

var cryptoRead = crand.Read

// fitKey keeps a caller's idempotency key within Square's length limit, hashing a longer one so
// that the same logical write still gets the same key.
func fitKey(key string, limit int) string {
	if key == "" {
		return newKey()
	}
	if len(key) <= limit {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])[:min(limit, 64)]
}

// Verify checks the token (and the configured location) with GET /v2/locations.
func (c *Client) Verify(ctx context.Context) error {
	locs, err := c.listLocations(ctx)
	if err != nil {
		return err
	}
	if c.locationID != "" {
		for _, l := range locs {
			if l.ID == c.locationID {
				return nil
			}
		}
		return &connector.Error{Kind: connector.KindInvalid, Code: "NOT_FOUND",
			Message: fmt.Sprintf("location %s is not a location of this Square account", c.locationID)}
	}
	return nil
}

// Stores lists the seller's active locations.
func (c *Client) Stores(ctx context.Context) ([]domain.Store, error) {
	locs, err := c.listLocations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Store, 0, len(locs))
	for _, l := range locs {
		if l.Status != "" && l.Status != "ACTIVE" {
			continue
		}
		out = append(out, domain.Store{ID: l.ID, Name: l.Name, Currency: l.Currency})
	}
	return out, nil
}

func (c *Client) listLocations(ctx context.Context) ([]location, error) {
	var resp listLocationsResponse
	if err := c.call(ctx, "list locations", http.MethodGet, "/v2/locations", nil, nil, &resp); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.locations = resp.Locations
	c.mu.Unlock()
	return resp.Locations, nil
}

// defaultLocation returns the configured location, or the first active one.
func (c *Client) defaultLocation(ctx context.Context) (location, error) {
	locs, err := c.knownLocations(ctx)
	if err != nil {
		return location{}, err
	}
	for _, l := range locs {
		if c.locationID != "" && l.ID == c.locationID {
			return l, nil
		}
	}
	if c.locationID != "" {
		return location{ID: c.locationID}, nil
	}
	for _, l := range locs {
		if l.Status == "" || l.Status == "ACTIVE" {
			return l, nil
		}
	}
	return location{}, &connector.Error{Kind: connector.KindInvalid, Message: "the Square account has no active location"}
}

// locationFor returns the location with the id (the default location for ""). An id the
// account does not list is returned bare: Square itself will judge it.
func (c *Client) locationFor(ctx context.Context, id string) (location, error) {
	if id == "" {
		return c.defaultLocation(ctx)
	}
	locs, err := c.knownLocations(ctx)
	if err != nil {
		return location{}, err
	}
	for _, l := range locs {
		if l.ID == id {
			return l, nil
		}
	}
	return location{ID: id}, nil
}

// knownLocations returns the cached locations, loading them once.
func (c *Client) knownLocations(ctx context.Context) ([]location, error) {
	c.mu.Lock()
	locs := c.locations
	c.mu.Unlock()
	if locs != nil {
		return locs, nil
	}
	return c.listLocations(ctx)
}

// searchLocationIDs is the location filter of an order search: the configured location, or up
// to 10 locations (Square's maximum per search).
func (c *Client) searchLocationIDs(ctx context.Context) ([]string, error) {
	if c.locationID != "" {
		return []string{c.locationID}, nil
	}
	locs, err := c.knownLocations(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(locs))
	for _, l := range locs {
		if len(ids) == 10 {
			break
		}
		ids = append(ids, l.ID)
	}
	if len(ids) == 0 {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: "the Square account has no location"}
	}
	return ids, nil
}

// errNotFound builds a KindNotFound error for an object the caller named.
func errNotFound(what, id string) error {
	return &connector.Error{Kind: connector.KindNotFound, Status: http.StatusNotFound, Code: "NOT_FOUND",
		Message: fmt.Sprintf("%s %s not found", what, id)}
}

// isKind tells whether err is a connector error of kind k.
func isKind(err error, k connector.Kind) bool {
	var e *connector.Error
	return errors.As(err, &e) && e.Kind == k
}
