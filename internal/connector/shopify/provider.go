// Package shopify connects posbridge to Shopify through the Admin API, version 2025-10: products,
// variants and inventory are read and written through the GraphQL Admin API (products,
// product(id:), location inventoryLevels with quantities; productSet, inventorySetQuantities;
// Shopify requires GraphQL for the products of new public apps), order lines are edited through
// GraphQL; the shop, locations, customers, orders and webhooks go through REST (legacy since
// 2024-10 but documented). It holds the client (auth with
// X-Shopify-Access-Token, Link/page_info pagination, the leaky-bucket pacing read from
// X-Shopify-Shop-Api-Call-Limit for REST, pacing by calculated query cost read from
// extensions.cost for GraphQL), webhook verification (X-Shopify-Hmac-Sha256) and a stateful
// simulator of the same documented subset for tests, the demo and the sandbox.
package shopify

import (
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// APIVersion is the Admin API version every path is built with.
const APIVersion = "2025-10"

// Credential field names.
const (
	FieldShopDomain  = "shop_domain"
	FieldAccessToken = "access_token"
	FieldAPISecret   = "api_secret"
)

// Provider describes Shopify to the registry.
var Provider = connector.Provider{
	Rate:        2,
	Burst:       40,
	Type:        "shopify",
	DisplayName: "Shopify",
	SetupURL:    "https://help.shopify.com/en/manual/apps/app-types/custom-apps",
	Fields: []connector.Field{
		{Name: FieldShopDomain, Label: "Shop domain", Required: true,
			Help: "Your store's myshopify.com domain, e.g. mystore.myshopify.com (a full URL also works; private or local network addresses are refused unless whoever runs posbridge allows them)."},
		{Name: FieldAccessToken, Label: "Admin API access token", Secret: true, Required: true,
			Help: "The app's Admin API access token (shpat_...), shown once when the app is installed."},
		{Name: FieldAPISecret, Label: "API secret key", Secret: true, Required: false,
			Help: "The app's client secret (API secret key); Shopify signs webhooks with it."},
	},
	Capabilities: []domain.Capability{
		domain.CapProducts, domain.CapStock, domain.CapCustomers,
		domain.CapOrders, domain.CapSales, domain.CapWebhooks,
	},
	Open: func(cfg connector.Config) (connector.Connector, error) {
		return New(cfg, Options{})
	},
	NewSimulator: func(seedProducts int) connector.Simulator {
		return NewSimulator(WithSeedProducts(seedProducts))
	},
	NewTenantSimulator: func(seedProducts int, secret []byte) connector.Simulator {
		return NewSimulator(WithSeedProducts(seedProducts), WithCredentials("shpat_"+connector.TenantCredential(secret, "access_token", 32),
			"shpss_"+connector.TenantCredential(secret, "api_secret", 32)))
	},
}
