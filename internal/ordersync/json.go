package ordersync

import (
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

// DocumentJSON is a document as the API and outbound events show it.
type DocumentJSON struct {
	Kind      domain.DocKind      `json:"kind"`
	Ref       string              `json:"ref"`
	Status    string              `json:"status"`
	Customer  *domain.DocCustomer `json:"customer"`
	Lines     []domain.DocLine    `json:"lines"`
	Links     []domain.DocLink    `json:"links"`
	Version   int64               `json:"version"`
	CreatedAt time.Time           `json:"created_at"`
	UpdatedAt time.Time           `json:"updated_at"`
	Sync      SyncJSON            `json:"sync"`
}

// SyncJSON is a document's sync state, as the API and the console's sync dialog show it.
type SyncJSON struct {
	Status        domain.SyncStatus `json:"status"`
	IntegrationID string            `json:"integration_id"`
	ExternalID    string            `json:"external_id"`
	ExternalURL   string            `json:"external_url"`
	AutoSync      bool              `json:"auto_sync"`
	LastSyncedAt  *time.Time        `json:"last_synced_at"`
	LastError     string            `json:"last_error"`
	// LastErrorDetail is the technical text behind LastError, when LastError had to be put in a
	// merchant's words (a network failure, a Go error); left out otherwise.
	LastErrorDetail string `json:"last_error_detail,omitempty"`
	// While Status is retrying: when the next automatic attempt runs and which one of how many.
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	Attempt       int        `json:"attempt,omitempty"`
	MaxAttempts   int        `json:"max_attempts,omitempty"`
}

// DocumentJSONOf shows a document.
func DocumentJSONOf(d domain.Document) DocumentJSON {
	links := d.Links
	if links == nil {
		links = []domain.DocLink{}
	}
	lines := d.Lines
	if lines == nil {
		lines = []domain.DocLine{}
	}
	le := domain.Explain(d.Sync.LastError)
	return DocumentJSON{Kind: d.Kind, Ref: d.Ref, Status: d.Status, Customer: d.Customer, Lines: lines, Links: links,
		Version: d.Version, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		Sync: SyncJSON{Status: d.Sync.Status, IntegrationID: d.Sync.IntegrationID, ExternalID: d.Sync.ExternalID,
			ExternalURL: d.Sync.ExternalURL, AutoSync: d.Sync.AutoSync, LastSyncedAt: d.Sync.LastSyncedAt, LastError: le.Text, LastErrorDetail: le.Detail,
			NextAttemptAt: d.Sync.NextAttemptAt, Attempt: d.Sync.Attempt, MaxAttempts: d.Sync.MaxAttempts}}
}
