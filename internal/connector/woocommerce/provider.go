// Package woocommerce connects posbridge to WooCommerce stores through the WooCommerce REST API v3
// ({store_url}/wp-json/wc/v3) with consumer key and secret (HTTP Basic auth over HTTPS, OAuth 1.0a
// one-legged signatures over plain HTTP, as WooCommerce core wants), and ships a
// stateful simulator of the documented subset of that API (pagination, error bodies, batch limits,
// signed webhook delivery, fault injection) for tests, the demo and the sandbox.
package woocommerce

import (
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// Credential field names.
const (
	FieldStoreURL       = "store_url"
	FieldConsumerKey    = "consumer_key"
	FieldConsumerSecret = "consumer_secret"
)

// Provider describes WooCommerce to the registry.
var Provider = connector.Provider{
	Rate:        DefaultRate,
	Burst:       DefaultRate,
	Type:        "woocommerce",
	DisplayName: "WooCommerce",
	SetupURL:    "https://woocommerce.com/document/woocommerce-rest-api/",
	Fields: []connector.Field{
		{Name: FieldStoreURL, Label: "Store URL", Required: true,
			Help: "The public address of your WordPress site, e.g. https://shop.example.com (plain http:// requests are signed with OAuth 1.0a). Addresses on a private or local network, such as 127.0.0.1, are refused unless whoever runs posbridge allows them."},
		{Name: FieldConsumerKey, Label: "Consumer key", Required: true,
			Help: "WooCommerce > Settings > Advanced > REST API > Add key, with Read/Write permission; starts with ck_."},
		{Name: FieldConsumerSecret, Label: "Consumer secret", Required: true, Secret: true,
			Help: "Shown once next to the consumer key; starts with cs_."},
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
		s := NewSimulator(WithSimCredentials("ck_"+connector.TenantCredential(secret, "consumer_key", 40),
			"cs_"+connector.TenantCredential(secret, "consumer_secret", 40)))
		s.SeedProducts(seedProducts)
		return s
	},
}

// Compile-time checks of the capabilities the client implements.
var (
	_ connector.Connector         = (*Client)(nil)
	_ connector.ProductSource     = (*Client)(nil)
	_ connector.ProductSink       = (*Client)(nil)
	_ connector.StockSource       = (*Client)(nil)
	_ connector.StockSink         = (*Client)(nil)
	_ connector.CustomerSource    = (*Client)(nil)
	_ connector.CustomerSink      = (*Client)(nil)
	_ connector.OrderSink         = (*Client)(nil)
	_ connector.SalesSource       = (*Client)(nil)
	_ connector.WebhookReceiver   = (*Client)(nil)
	_ connector.WebhookSubscriber = (*Client)(nil)
	_ connector.Simulator         = (*Simulator)(nil)
)
