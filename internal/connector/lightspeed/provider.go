// Package lightspeed connects posbridge to Lightspeed Retail X-Series (formerly Vend) through its
// API 2.0 (https://{domain_prefix}.retail.lightspeed.app/api/2.0, Bearer personal token), and
// ships a stateful simulator of the documented subset for tests, the demo and the sandbox.
//
// What the connector does, per documented endpoint:
//   - Verify: GET /api/2.0/retailer; Stores: GET /api/2.0/outlets.
//   - Products: GET /api/2.0/products (version-cursor pages), GET /api/2.0/products/{id},
//     POST /api/2.0/products, PUT /api/2.1/products/{id}. No batch endpoint exists, so
//     UpsertProducts writes item by item and reports each result.
//   - Stock: GET /api/2.0/inventory (version cursor); SetStock via PUT /api/2.1/products/{id}
//     details.inventory.
//   - Customers: GET/POST /api/2.0/customers, PUT /api/2.0/customers/{id}.
//   - Orders are Lightspeed sales written through the 0.9 POST /api/register_sales (status SAVED,
//     VOIDED to cancel; invoice_number carries the reference) and read with GET
//     /api/2.0/sales/{id} and GET /api/2.0/search?type=sales&invoice_number=.
//   - Completed sales: GET /api/2.0/sales (version cursor).
//   - Webhooks: POST/DELETE /api/2.0/webhooks; deliveries are form-encoded with a JSON `payload`.
//
// Lightspeed says webhooks are reliable but not guaranteed: polling with the version cursor
// (ListProducts, ListStock, SalesSince with Page.Resume) is the source of truth, and webhooks only
// make it sooner.
package lightspeed

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// Credential and setting field names.
const (
	FieldDomainPrefix  = "domain_prefix"
	FieldToken         = "token"
	FieldWebhookSecret = "webhook_secret"
	FieldMiscProductID = "misc_product_id"
	FieldRegisterID    = "register_id"
	FieldUserID        = "user_id"
)

// Rate limit as documented: 300 x registers + 50 requests per 5-minute window, per retailer and
// application. One register is assumed until the API's X-RateLimit-Limit header says otherwise.
const (
	DefaultWindow = 5 * time.Minute
	defaultLimit  = 350
)

// Provider describes Lightspeed Retail X-Series to the registry.
var Provider = connector.Provider{
	Rate:        float64(defaultLimit) / DefaultWindow.Seconds(),
	Burst:       defaultLimit,
	Type:        "lightspeed",
	DisplayName: "Lightspeed Retail (X-Series)",
	SetupURL:    "https://x-series-api.lightspeedhq.com/docs/authorization",
	Fields: []connector.Field{
		{Name: FieldDomainPrefix, Label: "Store domain prefix", Required: true,
			Help: "The part before .retail.lightspeed.app in your store address (for example \"mystore\"). A full URL also works; addresses on a private or local network are refused unless whoever runs posbridge allows them."},
		{Name: FieldToken, Label: "Personal token", Secret: true, Required: true,
			Help: "A personal token created in your Lightspeed Retail store (see the setup instructions); sent as a Bearer token."},
		{Name: FieldWebhookSecret, Label: "Webhook signing secret", Secret: true,
			Help: "Used to verify webhook deliveries (HMAC-SHA256 of the raw body). Lightspeed does not publish its signing scheme; leave empty to refuse unsigned webhooks and rely on polling."},
		{Name: FieldMiscProductID, Label: "Product for unlinked order lines",
			Help: "Id of a service product (e.g. \"Miscellaneous\") used for order lines that are not linked to a Lightspeed product; the line name is kept as its line note."},
		{Name: FieldRegisterID, Label: "Register for orders",
			Help: "Register id orders are parked on; default: the first register of the chosen outlet."},
		{Name: FieldUserID, Label: "User for orders",
			Help: "User id orders are created by; default: the first admin user."},
	},
	Capabilities: []domain.Capability{
		domain.CapProducts, domain.CapStock, domain.CapCustomers, domain.CapOrders,
		domain.CapSales, domain.CapWebhooks,
	},
	Open: func(cfg connector.Config) (connector.Connector, error) { return New(cfg) },
	NewSimulator: func(seedProducts int) connector.Simulator {
		s := NewSimulator()
		s.SeedProducts(seedProducts)
		return s
	},
	NewTenantSimulator: func(seedProducts int, secret []byte) connector.Simulator {
		s := NewSimulator(WithSimToken("lsxs_pt_"+connector.TenantCredential(secret, "token", 40)),
			WithSimWebhookSecret(connector.TenantCredential(secret, "webhook_secret", 40)))
		s.SeedProducts(seedProducts)
		return s
	},
}

// Option tunes a Client; the defaults suit production, tests shorten the waits.
type Option func(*options)

type options struct {
	maxRetries int           // retries of a 5xx or timeout
	backoff    time.Duration // first retry wait, doubled each time
	maxBackoff time.Duration
	max429     int           // 429 answers waited out in one call before giving up
	min429Wait time.Duration // wait when a 429 names no usable Retry-After
	max429Wait time.Duration // cap on a single Retry-After wait
	pageSize   int
	window     time.Duration // the provider's rate-limit window
	sigHeader  string
	now        func() time.Time
}

// defaultPageSize is the page_size of listings. 200 is the documented maximum of API 0.x; 2.0
// documents none (unsure). A page shorter than asked is not taken as the end (pageCursors), so a
// server that caps it lower only costs calls; 1,000 keeps a 100,000-product import (products and
// inventory) within the 350 calls of one rate-limit window.
const defaultPageSize = 1000

func defaultOptions() options {
	return options{
		maxRetries: 3,
		backoff:    500 * time.Millisecond,
		maxBackoff: 10 * time.Second,
		max429:     20,
		min429Wait: time.Second,
		max429Wait: DefaultWindow + 10*time.Second,
		pageSize:   defaultPageSize,
		window:     DefaultWindow,
		sigHeader:  DefaultSignatureHeader,
		now:        time.Now,
	}
}

// WithRetries sets how often a 5xx or timeout is retried and the first backoff (doubling).
func WithRetries(n int, backoff time.Duration) Option {
	return func(o *options) {
		o.maxRetries, o.backoff = n, backoff
		if o.maxBackoff < backoff {
			o.maxBackoff = backoff
		}
	}
}

// WithRateLimitWaits bounds how many 429 answers one call waits out, and the wait used when a
// 429 carries no usable Retry-After date.
func WithRateLimitWaits(n int, fallback time.Duration) Option {
	return func(o *options) { o.max429, o.min429Wait = n, fallback }
}

// WithPageSize sets page_size for listings.
func WithPageSize(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.pageSize = n
		}
	}
}

// WithWindow sets the rate-limit window the X-RateLimit-Limit header counts over (5 minutes).
func WithWindow(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.window = d
		}
	}
}

// WithSignatureHeader names the header carrying the webhook signature (default X-Signature).
func WithSignatureHeader(name string) Option {
	return func(o *options) {
		if name != "" {
			o.sigHeader = name
		}
	}
}

// Client is one integration's connection to a Lightspeed X-Series store.
type Client struct {
	root          string // scheme://host, the API paths hang from it
	token         string
	webhookSecret string
	miscProductID string
	registerID    string
	userID        string
	hc            *http.Client
	lim           *connector.Limiter
	o             options
	calls         atomic.Int64

	mu        sync.Mutex
	retailer  *apiRetailer
	registers map[string]string // outlet id -> register orders go to
	limitSet  int               // last X-RateLimit-Limit fed to the limiter
}

var prefixRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// RootURL turns the domain_prefix field into the store root: "mystore" (or
// "mystore.retail.lightspeed.app") gives https://mystore.retail.lightspeed.app; a full http(s)
// URL is taken as it is (simulators).
func RootURL(prefix string) (string, error) {
	p := strings.TrimSpace(prefix)
	if strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
		u, err := url.Parse(p)
		if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return "", domain.Invalid(FieldDomainPrefix, "not a valid URL: %q", prefix)
		}
		return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
	}
	p = strings.ToLower(strings.TrimSuffix(p, ".retail.lightspeed.app"))
	if !prefixRE.MatchString(p) {
		return "", domain.Invalid(FieldDomainPrefix, "a domain prefix has only letters, digits and dashes: %q", prefix)
	}
	return "https://" + p + ".retail.lightspeed.app", nil
}

// New opens a client from an integration's config.
func New(cfg connector.Config, opts ...Option) (*Client, error) {
	o := defaultOptions()
	if cfg.Now != nil {
		o.now = cfg.Now
	}
	for _, f := range opts {
		f(&o)
	}
	root, err := RootURL(cfg.Credentials[FieldDomainPrefix])
	if err != nil {
		return nil, err
	}
	token := strings.TrimSpace(cfg.Credentials[FieldToken])
	if token == "" {
		return nil, domain.Invalid(FieldToken, "a personal token is required")
	}
	hc := cfg.HTTP
	if hc == nil {
		hc = connector.NewHTTPClient(connector.HTTPOptions{})
	}
	lim := cfg.Limiter
	if lim == nil {
		lim = connector.NewLimiter(float64(defaultLimit)/o.window.Seconds(), defaultLimit)
	}
	return &Client{
		root:          root,
		token:         token,
		webhookSecret: cfg.Credentials[FieldWebhookSecret],
		miscProductID: strings.TrimSpace(cfg.Credentials[FieldMiscProductID]),
		registerID:    strings.TrimSpace(cfg.Credentials[FieldRegisterID]),
		userID:        strings.TrimSpace(cfg.Credentials[FieldUserID]),
		hc:            hc,
		lim:           lim,
		o:             o,
	}, nil
}

// Calls is the number of HTTP requests the client has sent (for benchmarks and logs).
func (c *Client) Calls() int64 { return c.calls.Load() }

// Verify checks the token with GET /api/2.0/retailer.
func (c *Client) Verify(ctx context.Context) error {
	r, err := c.fetchRetailer(ctx)
	if err != nil {
		return fmt.Errorf("verify lightspeed credentials: %w", err)
	}
	c.mu.Lock()
	c.retailer = r
	c.mu.Unlock()
	return nil
}

// Stores lists the outlets (GET /api/2.0/outlets) in the retailer's currency.
func (c *Client) Stores(ctx context.Context) ([]domain.Store, error) {
	r, err := c.getRetailer(ctx)
	if err != nil {
		return nil, fmt.Errorf("list outlets: %w", err)
	}
	var out struct {
		Data []apiOutlet `json:"data"`
	}
	if err := c.get(ctx, "/api/2.0/outlets", nil, &out); err != nil {
		return nil, fmt.Errorf("list outlets: %w", err)
	}
	stores := make([]domain.Store, 0, len(out.Data))
	for _, o := range out.Data {
		if o.DeletedAt != nil && *o.DeletedAt != "" {
			continue
		}
		stores = append(stores, domain.Store{ID: o.ID, Name: o.Name, Currency: r.Currency.Code})
	}
	return stores, nil
}

func (c *Client) fetchRetailer(ctx context.Context) (*apiRetailer, error) {
	var out struct {
		Data apiRetailer `json:"data"`
	}
	if err := c.get(ctx, "/api/2.0/retailer", nil, &out); err != nil {
		return nil, err
	}
	if out.Data.Currency.Code == "" {
		out.Data.Currency.Code = "USD" // unsure: every retailer has one; keep amounts usable
	}
	return &out.Data, nil
}

// getRetailer returns the cached retailer (currency, tax mode), loading it once.
func (c *Client) getRetailer(ctx context.Context) (*apiRetailer, error) {
	c.mu.Lock()
	r := c.retailer
	c.mu.Unlock()
	if r != nil {
		return r, nil
	}
	r, err := c.fetchRetailer(ctx)
	if err != nil {
		return nil, fmt.Errorf("read retailer settings: %w", err)
	}
	c.mu.Lock()
	c.retailer = r
	c.mu.Unlock()
	return r, nil
}

type apiRetailer struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	DomainPrefix string `json:"domain_prefix"`
	Currency     struct {
		Code   string `json:"code"`
		Symbol string `json:"symbol"`
	} `json:"currency"`
	TaxExclusive bool   `json:"tax_exclusive"`
	NoTaxGroupID string `json:"no_tax_group_id"`
}

type apiOutlet struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	DeletedAt *string `json:"deleted_at"`
	Version   int64   `json:"version"`
}
