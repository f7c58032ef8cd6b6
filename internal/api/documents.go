package api

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/ordersync"
	"github.com/posbridge/posbridge/internal/store"
)

func docPath(r *http.Request) (domain.DocKind, string, error) {
	kind, err := domain.ParseDocKind(r.PathValue("kind"))
	if err != nil {
		return "", "", err
	}
	ref := r.PathValue("ref")
	if ref != "" {
		if err := domain.ValidateRef(ref); err != nil {
			return "", "", err
		}
	}
	return kind, ref, nil
}

// DocumentRequest is the body of PUT /api/v1/documents/{kind}/{ref}.
type DocumentRequest struct {
	Status    string              `json:"status"`
	Customer  *domain.DocCustomer `json:"customer"`
	Lines     []domain.DocLine    `json:"lines"`
	Links     []domain.DocLink    `json:"links"`
	SyncToPOS *bool               `json:"sync_to_pos"`
}

func (a *API) putDocument(w http.ResponseWriter, r *http.Request, acct string) error {
	kind, ref, err := docPath(r)
	if err != nil {
		return err
	}
	var in DocumentRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	res, err := a.sync.Put(r.Context(), acct, kind, ref, ordersync.PutInput{
		DocContent: domain.DocContent{Status: in.Status, Customer: in.Customer, Lines: in.Lines, Links: in.Links}, SyncToPOS: in.SyncToPOS})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	return writeJSON(w, status, ordersync.DocumentJSONOf(res.Document))
}

func (a *API) getDocument(w http.ResponseWriter, r *http.Request, acct string) error {
	kind, ref, err := docPath(r)
	if err != nil {
		return err
	}
	d, err := a.sync.Get(r.Context(), acct, kind, ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ordersync.DocumentJSONOf(d))
}

func (a *API) listDocuments(w http.ResponseWriter, r *http.Request, acct string) error {
	kind, _, err := docPath(r)
	if err != nil {
		return err
	}
	limit, err := limitParam(r, 100)
	if err != nil {
		return err
	}
	docs, err := a.sync.List(r.Context(), acct, kind, limit)
	if err != nil {
		return err
	}
	out := make([]ordersync.DocumentJSON, 0, len(docs))
	for _, d := range docs {
		out = append(out, ordersync.DocumentJSONOf(d))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

func limitParam(r *http.Request, def int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 500 {
		return 0, domain.Invalid("limit", "limit must be a whole number from 1 to 500")
	}
	return n, nil
}

func (a *API) patchSync(w http.ResponseWriter, r *http.Request, acct string) error {
	kind, ref, err := docPath(r)
	if err != nil {
		return err
	}
	var in struct {
		AutoSync *bool `json:"auto_sync"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.AutoSync == nil {
		return domain.Invalid("auto_sync", "auto_sync (true or false) is required")
	}
	d, err := a.sync.SetAutoSync(r.Context(), acct, kind, ref, *in.AutoSync)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ordersync.DocumentJSONOf(d))
}

func (a *API) act(w http.ResponseWriter, r *http.Request, acct, action string) error {
	kind, ref, err := docPath(r)
	if err != nil {
		return err
	}
	d, err := a.sync.Act(r.Context(), acct, kind, ref, action)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, ordersync.DocumentJSONOf(d))
}

func (a *API) resync(w http.ResponseWriter, r *http.Request, acct string) error {
	return a.act(w, r, acct, ordersync.ActionResync)
}

func (a *API) retry(w http.ResponseWriter, r *http.Request, acct string) error {
	return a.act(w, r, acct, ordersync.ActionRetry)
}

func (a *API) sendAsNew(w http.ResponseWriter, r *http.Request, acct string) error {
	var in struct {
		VoidExisting *bool `json:"void_existing"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.VoidExisting == nil {
		return domain.Invalid("void_existing", "void_existing (true or false) is required: should the existing order be voided first?")
	}
	action := ordersync.ActionNew
	if *in.VoidExisting {
		action = ordersync.ActionNewVoid
	}
	return a.act(w, r, acct, action)
}

func (a *API) syncHistory(w http.ResponseWriter, r *http.Request, acct string) error {
	kind, ref, err := docPath(r)
	if err != nil {
		return err
	}
	h, err := a.sync.History(r.Context(), acct, kind, ref)
	if err != nil {
		return err
	}
	out := make([]HistoryEntryJSON, 0, len(h))
	for _, e := range h {
		out = append(out, HistoryEntryJSONOf(e))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": out, "retained_since": a.Retention.RetainedSince(store.SyncHistoryTable)})
}

func (a *API) getOrderSync(w http.ResponseWriter, r *http.Request, acct string) error {
	s, err := a.sync.Settings(r.Context(), acct)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s)
}

func (a *API) putOrderSync(w http.ResponseWriter, r *http.Request, acct string) error {
	in, err := a.sync.Settings(r.Context(), acct) // fields left out keep their value
	if err != nil {
		return err
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	out, err := a.sync.SaveSettings(r.Context(), acct, domain.ActorAPI, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) webhookEvents(w http.ResponseWriter, r *http.Request, acct string) error {
	limit, err := limitParam(r, 100)
	if err != nil {
		return err
	}
	evs, err := a.sync.Events(r.Context(), acct, r.PathValue("id"), limit)
	if err != nil {
		return err
	}
	out := make([]WebhookEventJSON, 0, len(evs))
	for _, e := range evs {
		out = append(out, WebhookEventJSONOf(e))
	}
	ign, err := a.sync.IgnoredEvents(r.Context(), acct, r.PathValue("id"))
	if err != nil {
		return err
	}
	ignored := make([]IgnoredEventsJSON, 0, len(ign))
	for _, c := range ign {
		ignored = append(ignored, IgnoredEventsJSON{Topic: c.Topic, Count: c.Count, LastAt: c.LastAt})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": out, "ignored": ignored, "retained_since": a.Retention.RetainedSince(store.WebhookEventsTable)})
}

// IgnoredEventsJSON counts the integration's events of one topic acknowledged without being
// stored: nothing acts on them (the product, stock and customer events of an integration that is
// not the account's catalog source).
type IgnoredEventsJSON struct {
	Topic  string    `json:"topic"`
	Count  int64     `json:"count"`
	LastAt time.Time `json:"last_at"`
}

// HistoryEntryJSON is one entry of a document's sync history as the API shows it.
type HistoryEntryJSON struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Action  string    `json:"action"`
	Outcome string    `json:"outcome"`
	Summary string    `json:"summary"`
	Error   string    `json:"error"`
}

// HistoryEntryJSONOf shows a sync history entry.
func HistoryEntryJSONOf(h store.HistoryEntry) HistoryEntryJSON {
	return HistoryEntryJSON{ID: h.ID, At: h.At, Action: h.Action, Outcome: h.Outcome, Summary: h.Summary, Error: h.Error}
}

// WebhookEventJSON is an inbound POS webhook event as the API shows it; never its account or payload.
type WebhookEventJSON struct {
	ID              string     `json:"id"`
	IntegrationID   string     `json:"integration_id"`
	ProviderEventID string     `json:"provider_event_id"`
	Type            string     `json:"type"`
	Topic           string     `json:"topic"`
	ObjectID        string     `json:"object_id"`
	Status          string     `json:"status"`
	Reason          string     `json:"reason"`
	ReceivedAt      time.Time  `json:"received_at"`
	ProcessedAt     *time.Time `json:"processed_at"`
}

// WebhookEventJSONOf shows a stored webhook event.
func WebhookEventJSONOf(e store.WebhookEvent) WebhookEventJSON {
	return WebhookEventJSON{ID: e.ID, IntegrationID: e.IntegrationID, ProviderEventID: e.ProviderEventID, Type: e.Type,
		Topic: e.Topic, ObjectID: e.ObjectID, Status: string(e.Status), Reason: e.Reason, ReceivedAt: e.ReceivedAt, ProcessedAt: e.ProcessedAt}
}

// hook receives a provider's webhook: verified over the raw body, stored, then answered.
func (a *API) hook(w http.ResponseWriter, r *http.Request, _ string) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return &domain.Error{Code: domain.CodeTooLarge, Message: "the webhook body is larger than 1 MiB"}
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	url := a.hookURL(r.PathValue("integration_id"))
	if url == "" {
		url = scheme + "://" + r.Host + r.URL.RequestURI()
	}
	fresh, dup, err := a.sync.Receive(r.Context(), r.PathValue("integration_id"), r.Header, body, url)
	if errors.Is(err, ordersync.ErrBadSignature) {
		return &domain.Error{Code: domain.CodeUnauthorized, Message: "the webhook signature does not verify"}
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]int{"received": fresh, "duplicates": dup})
}
