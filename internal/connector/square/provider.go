// Package square connects posbridge to Square through the Square API (Connect v2) and serves a
// stateful simulator of the documented subset it uses.
//
// # Client
//
// Every call carries "Authorization: Bearer <access token>" and a fixed "Square-Version"
// (SquareVersion). Locations come from GET /v2/locations; the catalog is read with
// GET /v2/catalog/list?types=ITEM (cursor pagination, fixed page size 100) and incrementally with
// POST /v2/catalog/search and begin_time, whose answer's latest_time is the resume mark; writes go
// through POST /v2/catalog/object and /v2/catalog/batch-upsert with temporary "#" ids, id_mappings
// and the object's current version (a stale one is refused with VERSION_MISMATCH). Stock is
// POST /v2/inventory/counts/batch-retrieve and /v2/inventory/changes/batch-create (decimal string
// quantities, PHYSICAL_COUNT); customers /v2/customers; orders POST /v2/orders, PUT
// /v2/orders/{id} with the order's current version, and POST /v2/orders/search (for sales and
// for finding an order by its reference_id). Every write carries an idempotency_key.
//
// Errors are Square's {"errors":[{"category","code","detail","field"}]}, mapped to
// *connector.Error with Square's code and detail. 5xx answers and timeouts are retried a bounded
// number of times; 429 RATE_LIMITED comes without Retry-After, so the client backs off
// exponentially (pausing the integration's limiter) and retries without failing the call;
// 401/403 are credential errors at once.
//
// # Webhooks
//
// Square signs a notification with x-square-hmacsha256-signature: the standard base64 of
// HMAC-SHA256(key = the subscription's signature key, message = notification URL + raw body).
// The URL must be byte for byte the one registered with Square, so the integration's webhook_url
// setting is used when the caller gives none. Events are deduplicated on event_id.
//
// # Simulator
//
// Simulator (sim.go) is an http.Handler implementing the same paths with state: pagination,
// Square's error bodies, idempotency-key replay and IDEMPOTENCY_KEY_REUSED, VERSION_MISMATCH,
// 429 RATE_LIMITED without Retry-After, signed webhook delivery and fault injection.
package square

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// SquareVersion is the Square API version every request asks for (the Square-Version header).
const SquareVersion = "2025-08-20"

// Documented API roots.
const (
	ProductionBaseURL = "https://connect.squareup.com"
	SandboxBaseURL    = "https://connect.squareupsandbox.com"
)

// Credential and setting field names.
const (
	FieldAccessToken  = "access_token"
	FieldEnvironment  = "environment"
	FieldLocationID   = "location_id"
	FieldSignatureKey = "webhook_signature_key"
	FieldWebhookURL   = "webhook_url"
)

// Provider describes Square to posbridge's registry.
var Provider = connector.Provider{
	Rate:        DefaultRate,
	Burst:       DefaultBurst,
	Type:        "square",
	DisplayName: "Square",
	SetupURL:    "https://developer.squareup.com/docs/build-basics/access-tokens",
	Fields: []connector.Field{
		{Name: FieldAccessToken, Label: "Access token", Secret: true, Required: true,
			Help: "A personal access token or OAuth access token from the Square Developer Console (Credentials page)."},
		{Name: FieldEnvironment, Label: "Environment", Required: false,
			Help: "production (default), sandbox (Square's own sandbox), or a full API base URL; private or local network addresses are refused unless whoever runs posbridge allows them."},
		{Name: FieldLocationID, Label: "Location ID", Required: false,
			Help: "The Square location orders go to; empty means the first active location."},
		{Name: FieldSignatureKey, Label: "Webhook signature key", Secret: true, Required: false,
			Help: "The signature key of the webhook subscription (Developer Console, Webhooks, Subscriptions)."},
		{Name: FieldWebhookURL, Label: "Webhook notification URL", Required: false,
			Help: "The notification URL exactly as registered with Square; Square signs it with the body."},
	},
	Capabilities: []domain.Capability{
		domain.CapProducts, domain.CapStock, domain.CapCustomers,
		domain.CapOrders, domain.CapSales, domain.CapWebhooks,
	},
	Open: func(cfg connector.Config) (connector.Connector, error) {
		return New(cfg)
	},
	NewSimulator: func(seedProducts int) connector.Simulator {
		s := NewSimulator()
		s.SeedProducts(seedProducts)
		return s
	},
	NewTenantSimulator: func(seedProducts int, secret []byte) connector.Simulator {
		s := NewSimulator(WithAccessToken("EAAA"+connector.TenantCredential(secret, "access_token", 48)),
			WithSignatureKey(connector.TenantCredential(secret, "signature_key", 32)))
		s.SeedProducts(seedProducts)
		return s
	},
}

// BaseURL resolves the environment setting: "production" or empty, "sandbox", or a full
// http(s) URL (which is how tests and `posbridge sim` point the connector at a simulator).
func BaseURL(environment string) (string, error) {
	env := strings.TrimSpace(environment)
	switch strings.ToLower(env) {
	case "", "production":
		return ProductionBaseURL, nil
	case "sandbox":
		return SandboxBaseURL, nil
	}
	u, err := url.Parse(env)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", &connector.Error{Kind: connector.KindInvalid, Code: "invalid_environment",
			Message: fmt.Sprintf("environment %q is not production, sandbox or an http(s) URL", env)}
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", &connector.Error{Kind: connector.KindInvalid, Code: "invalid_environment",
			Message: fmt.Sprintf("environment URL %q must not carry user info, a query or a fragment", env)}
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}
