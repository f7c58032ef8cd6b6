// Package email is the provider of email integrations: POS systems that can only
// email a daily sales file. There is nothing to call: the POS sends the file to the
// integration's own address at posbridge's SMTP server (internal/salesimport), so Verify always
// succeeds and the one "store" is the mailbox itself. Its sales arrive by email, not by a fetch.
package email

import (
	"context"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// Type is the provider type of email integrations.
const Type = "email"

// Provider describes email integrations.
var Provider = connector.Provider{
	Type:        Type,
	DisplayName: "Email sales file",
	SetupURL:    "https://github.com/posbridge/posbridge#email-integrations",
	// No credentials: the address is made by posbridge (GET /api/v1/integrations/{id}/email).
	Fields:       []connector.Field{},
	Capabilities: []domain.Capability{},
	Open:         func(connector.Config) (connector.Connector, error) { return conn{}, nil },
}

type conn struct{}

// Verify implements connector.Connector: there is nothing to verify.
func (conn) Verify(context.Context) error { return nil }

// Stores implements connector.Connector: the mailbox is the one store.
func (conn) Stores(context.Context) ([]domain.Store, error) {
	return []domain.Store{{ID: "email", Name: "Emailed sales files"}}, nil
}
