// Package connector is the seam between posbridge and point-of-sale providers: the small
// Connector interface every provider implements, the optional capability interfaces a provider
// may add, the typed errors callers act on (credentials, rate limit, temporary, permanent), and
// the one outbound HTTP client every provider uses (timeouts, size caps, SSRF guard, rate limits).
// Each provider lives in its own folder below this one; the registry package lists them.
package connector

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

// Field is a credential or setting the merchant enters when adding an integration.
type Field struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Secret   bool   `json:"secret"`
	Required bool   `json:"required"`
	Help     string `json:"help,omitempty"`
}

// Provider describes one kind of POS and opens connectors to it.
type Provider struct {
	Type         string              // stable id, e.g. "sandbox", "woocommerce"
	DisplayName  string              // e.g. "Sandbox POS"
	SetupURL     string              // the "POS Integration Setup Instructions" link
	Fields       []Field             // credentials and settings asked on add
	Capabilities []domain.Capability // what the provider supports
	// Rate is the pace every connector of one integration shares (calls a second and burst);
	// the connector may tune the shared limiter from the provider's headers. Zero: 10/s.
	Rate  float64
	Burst int
	// SelfHosted providers are simulators served by posbridge itself (under /sandbox/):
	// they are reached at Config.SelfURL with an unguarded client.
	SelfHosted bool
	// Open returns a connector for one integration.
	Open func(cfg Config) (Connector, error)
	// NewSimulator starts a simulator of the provider's API with seedProducts sample products
	// (for `posbridge sim`, the demo and tests). Nil when the provider has none.
	NewSimulator func(seedProducts int) Simulator
	// NewTenantSimulator is NewSimulator with credentials derived from secret (TenantCredential)
	// instead of random or fixed ones: a sandbox store of one account, which every process of
	// a posbridge reaches with the same credentials and no other account knows. Nil when the
	// provider has no simulator.
	NewTenantSimulator func(seedProducts int, secret []byte) Simulator
}

// TenantCredential derives a credential of a tenant simulator from its secret: n hex digits
// (at most 64) of HMAC-SHA256(secret, name). The same secret and name give the same value.
func TenantCredential(secret []byte, name string, n int) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(name))
	return hex.EncodeToString(mac.Sum(nil))[:min(n, 64)]
}

// Has tells whether the provider declares the capability.
func (p Provider) Has(c domain.Capability) bool {
	for _, x := range p.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}

// Config is what a connector gets to talk to the provider for one integration.
type Config struct {
	IntegrationID string
	Credentials   map[string]string // decrypted; never logged
	HTTP          *http.Client      // from NewHTTPClient: guarded, bounded
	SelfURL       string            // posbridge's own base URL, for self-hosted simulators
	Limiter       *Limiter          // per-integration rate limiter, fed by provider headers
	Now           func() time.Time
}

// Connector is one integration's handle on its provider. Every provider has these two;
// everything else is an optional capability interface below.
type Connector interface {
	// Verify checks the credentials with one cheap call; a refusal is a KindCredentials error.
	Verify(ctx context.Context) error
	// Stores lists the stores, outlets or locations orders can go to.
	Stores(ctx context.Context) ([]domain.Store, error)
}

// Page is one page of a listing; Next is the cursor of the next page, "" at the end.
// For incremental reads, Next of the last page is the cursor to resume from later (Resume).
type Page[T any] struct {
	Items  []T
	Next   string
	Resume string
}

// BatchResult is the outcome of one item of a batch write.
type BatchResult struct {
	Index int    // position in the request
	ID    string // the provider's id on success
	Err   error  // a *Error on failure; the other items still apply
}

// ProductSource reads the catalog. cursor "" starts from the beginning; an incremental cursor
// (Page.Resume of an earlier read) returns only products changed since.
type ProductSource interface {
	ListProducts(ctx context.Context, cursor string) (Page[domain.Product], error)
	GetProduct(ctx context.Context, id string) (domain.Product, error)
}

// ProductSink writes the catalog.
type ProductSink interface {
	CreateProduct(ctx context.Context, p domain.Product) (domain.Product, error)
	UpdateProduct(ctx context.Context, p domain.Product) (domain.Product, error)
	UpsertProducts(ctx context.Context, ps []domain.Product) ([]BatchResult, error)
}

// ProductFinder is a ProductSink that keeps Product.Ref with the products it creates and finds
// them by it: a create whose answer was lost (a crash, a timeout after the shop took it) is found
// instead of made twice. FindProducts answers the shop's id of each ref it has among the
// products modified since since.
type ProductFinder interface {
	FindProducts(ctx context.Context, refs []string, since time.Time) (map[string]string, error)
}

// FieldKeeper is a ProductSink whose update of an existing product changes only the fields it
// sends: it leaves a product's fields named in Product.Keep, of those KeepsFields lists, as the
// shop has them. A push then needs no read of the shop's product to write its kept fields back,
// and an edit made in the shop between such a read and the write is not overwritten.
type FieldKeeper interface {
	KeepsFields() []string
}

// StockWithProducts is a ProductSink that sets Product.Stock and Variant.Stock (at its one
// location) in the product write itself, so a push needs no stock calls of its own.
type StockWithProducts interface {
	WritesStockWithProducts() bool
}

// StockAtLocationsWithProducts is a ProductSink that sets Product.StockAt and Variant.StockAt
// (a quantity at each of its locations) with the product write: a push of a product with
// variants sets each variant's stock at the shop's locations without knowing the shop's variant
// ids. An item whose stock was not set fails, though its product data may have been written.
type StockAtLocationsWithProducts interface {
	WritesStockAtLocations() bool
}

// StockSource reads stock levels.
type StockSource interface {
	ListStock(ctx context.Context, cursor string) (Page[domain.StockLevel], error)
}

// StockSink sets stock levels.
type StockSink interface {
	SetStock(ctx context.Context, levels []domain.StockLevel) ([]BatchResult, error)
}

// CustomerSource reads customers.
type CustomerSource interface {
	ListCustomers(ctx context.Context, cursor string) (Page[domain.Customer], error)
}

// CustomerSink writes customers (details amended in the app go back to the POS).
type CustomerSink interface {
	CreateCustomer(ctx context.Context, c domain.Customer) (domain.Customer, error)
	UpdateCustomer(ctx context.Context, c domain.Customer) (domain.Customer, error)
}

// OrderSink creates and keeps POS orders in step with app documents. key is an idempotency key
// that is the same for every retry of one logical write.
type OrderSink interface {
	CreateOrder(ctx context.Context, o domain.Order, key string) (domain.Order, error)
	UpdateOrder(ctx context.Context, o domain.Order, key string) (domain.Order, error)
	CancelOrder(ctx context.Context, id string, mode domain.CancelMode) error
	GetOrder(ctx context.Context, id string) (domain.Order, error)
	// FindOrderByReference returns the order carrying the reference, or a KindNotFound error.
	FindOrderByReference(ctx context.Context, ref string) (domain.Order, error)
}

// SalesSource reads completed sales since a cursor ("" = from the start).
type SalesSource interface {
	SalesSince(ctx context.Context, cursor string) (Page[domain.Sale], error)
}

// WebhookReceiver verifies and parses inbound webhooks. url is the full URL the provider
// posted to (Square signs it); secret is the integration's webhook secret.
type WebhookReceiver interface {
	ParseWebhook(header http.Header, body []byte, url, secret string) ([]domain.ProviderEvent, error)
}

// WebhookPeeker is a WebhookReceiver that can verify a delivery and tell its one event's neutral
// type and topic from the request's headers, without parsing the body: the receiver then skips
// the parse of an event it will not keep. ok is false when the headers do not tell (ParseWebhook
// decides); err is what ParseWebhook would answer for a signature that does not verify.
type WebhookPeeker interface {
	PeekWebhook(header http.Header, body []byte, url, secret string) (typ, topic string, ok bool, err error)
}

// WebhookSubscriber creates and removes the provider's webhook subscriptions.
type WebhookSubscriber interface {
	Subscribe(ctx context.Context, url, secret string, topics []string) (id string, err error)
	Unsubscribe(ctx context.Context, id string) error
}

// KeyIssuingSubscriber is a WebhookSubscriber whose provider makes each subscription's signing
// key itself (Square): the caller cannot choose the secret, so it keeps the key it is given
// and verifies that subscription's deliveries with it.
type KeyIssuingSubscriber interface {
	WebhookSubscriber
	SubscribeIssuingKey(ctx context.Context, url string, topics []string) (id, key string, err error)
}

// As returns c as capability T, or a KindUnsupported error naming the capability.
func As[T any](c Connector, capability domain.Capability) (T, error) {
	t, ok := c.(T)
	if !ok {
		var zero T
		return zero, &Error{Kind: KindUnsupported, Message: "the provider does not support " + string(capability)}
	}
	return t, nil
}

// Simulator is a provider's simulator as `posbridge sim <provider>` serves it: an http.Handler
// mounted at the root of its own listener, with the documented paths below that root.
type Simulator interface {
	http.Handler
	// Info describes how to reach the simulator served at rootURL (scheme://host:port).
	Info(rootURL string) SimInfo
}

// SimInfo is the JSON line `posbridge sim` prints.
type SimInfo struct {
	Provider      string            `json:"provider"`
	BaseURL       string            `json:"base_url"`
	Credentials   map[string]string `json:"credentials"`
	WebhookSecret string            `json:"webhook_secret"`
}

// DeliveryClientSetter is a simulator whose webhook deliveries can be sent through a given client.
type DeliveryClientSetter interface {
	SetDeliveryClient(*http.Client)
}

// OrderDesk is a simulator on which a person finishes or voids an order as a cashier or the
// shop's owner would in the provider's own till or admin (the console's sandbox store order
// page): the simulator then sends the webhooks the provider would. Each answers false when
// the order does not exist or is no longer open.
type OrderDesk interface {
	CompleteOrder(id string) bool
	VoidOrder(id string) bool
}

// OwnSigningSecret is a connector whose provider signs its webhooks with a secret of the
// integration's own credentials (Shopify: the app's API secret key) rather than with one
// posbridge gives it on subscribing; that secret is then the one to subscribe and verify with.
type OwnSigningSecret interface {
	WebhookSigningSecret() string
}
