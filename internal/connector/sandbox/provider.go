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
		{Name: "api_key", Label: "API key", Secret: true, Required: true, Help: "Any key starting with sbx_, e.g. sbx_demo"},
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
