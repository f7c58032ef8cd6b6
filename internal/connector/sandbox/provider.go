package sandbox

import (
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// Provider describes the Sandbox POS to posbridge's registry.
var Provider = connector.Provider{
	Type:        "sandbox",
	DisplayName: "Sandbox POS",
	SetupURL:    "/docs/sandbox",
	SelfHosted:  true,
	Fields: []connector.Field{
		{Name: "api_key", Label: "API key", Secret: true, Help: "Leave empty to get a new sandbox, or give the sbx_ key of one of your account's sandboxes"},
	},
	Capabilities: []domain.Capability{
		domain.CapProducts, domain.CapStock, domain.CapCustomers,
		domain.CapOrders, domain.CapSales, domain.CapWebhooks,
	},
	Open:         Open,
	NewSimulator: newSimulator,
}

func newSimulator(seedProducts int) connector.Simulator {
	return NewServer(Options{SampleProducts: seedProducts})
}
