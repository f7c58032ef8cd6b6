package domain

import "time"

// TimelineEntry is one action on an account's integrations, shown newest first.
type TimelineEntry struct {
	ID            int64
	AccountID     string
	At            time.Time
	Kind          string
	IntegrationID string
	Actor         string // "user:<email>", "api", "system"
	Message       string
}

// Timeline entry kinds.
const (
	KindIntegrationAdded   = "integration.added"
	KindIntegrationChecked = "integration.checked"
	KindStatusChanged      = "integration.status_changed"
	KindSettingsChanged    = "integration.settings_changed"
	KindDeactivated        = "integration.deactivated"
	KindRestored           = "integration.restored"
	KindResumed            = "integration.resumed"
	KindStoresLoaded       = "integration.stores_loaded"
	KindNotification       = "notification.sent"
	KindNotificationFailed = "notification.failed"
	KindWebhookEndpoint    = "webhook_endpoint.changed"
)

// Actors.
const (
	ActorSystem = "system"
	ActorAPI    = "api"
)

// ActorUser names a console user as an actor.
func ActorUser(email string) string { return "user:" + email }

// WebhookEndpoint is a URL of the business app that receives posbridge's events,
// signed per Standard Webhooks with the endpoint's secret (kept encrypted).
type WebhookEndpoint struct {
	ID          string
	AccountID   string
	URL         string
	Description string
	Events      []string // empty: every event
	CreatedAt   time.Time
}

// Wants tells whether the endpoint subscribes to the event type.
func (w *WebhookEndpoint) Wants(event string) bool {
	if len(w.Events) == 0 {
		return true
	}
	for _, e := range w.Events {
		if e == event || e == "*" {
			return true
		}
	}
	return false
}

// Outbound event types.
const (
	EventIntegrationStatusChanged = "integration.status_changed"
)

// EventDocumentUpdated tells the app a document changed on posbridge's side: its sync status,
// or its status after the POS completed the order.
const EventDocumentUpdated = "document.updated"
