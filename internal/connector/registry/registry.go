// Package registry lists every provider posbridge ships. Adding a provider is one folder under
// internal/connector and one line here.
package registry

import (
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/connector/email"
	"github.com/posbridge/posbridge/internal/connector/lightspeed"
	"github.com/posbridge/posbridge/internal/connector/sandbox"
	"github.com/posbridge/posbridge/internal/connector/shopify"
	"github.com/posbridge/posbridge/internal/connector/square"
	"github.com/posbridge/posbridge/internal/connector/woocommerce"
)

// All returns every provider, the sandbox first.
func All() []connector.Provider {
	return []connector.Provider{
		sandbox.Provider,
		email.Provider,
		lightspeed.Provider,
		shopify.Provider,
		square.Provider,
		woocommerce.Provider,
	}
}
