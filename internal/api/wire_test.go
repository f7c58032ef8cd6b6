package api

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/store"
)

// TestWireOfStoredRows pins the bytes the API answers for a sync history entry and a webhook
// event: the store's rows carry no JSON names, so the wire form is these types' alone, and a
// webhook event never shows its account or its raw payload.
func TestWireOfStoredRows(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	done := at.Add(time.Minute)
	h, err := json.Marshal(HistoryEntryJSONOf(store.HistoryEntry{ID: 7, At: at, Action: "update", Outcome: "ok", Summary: "s", Error: "e"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":7,"at":"2026-03-01T12:00:00Z","action":"update","outcome":"ok","summary":"s","error":"e"}`; string(h) != want {
		t.Errorf("history entry\n got %s\nwant %s", h, want)
	}
	e, err := json.Marshal(WebhookEventJSONOf(store.WebhookEvent{ID: "whev_1", AccountID: "acc_1", IntegrationID: "int_1",
		ProviderEventID: "evt_1", Type: "order.updated", Topic: "order.completed", ObjectID: "ord_1", Status: "processed",
		Reason: "r", Payload: `{"secret":1}`, ReceivedAt: at, ProcessedAt: &done}))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"whev_1","integration_id":"int_1","provider_event_id":"evt_1","type":"order.updated","topic":"order.completed",` +
		`"object_id":"ord_1","status":"processed","reason":"r","received_at":"2026-03-01T12:00:00Z","processed_at":"2026-03-01T12:01:00Z"}`; string(e) != want {
		t.Errorf("webhook event\n got %s\nwant %s", e, want)
	}
}
