// Package api is posbridge's REST API for the business app: JSON under /api/v1, authenticated
// with an account's API key (Authorization: Bearer pbk_...). One routes table, thin handlers
// (decode, call the service, encode) and one place that maps domain errors to HTTP statuses.
// The OpenAPI document describing it is embedded and served at /api/v1/openapi.json.
package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/access"
	"github.com/posbridge/posbridge/internal/backoffice"
	"github.com/posbridge/posbridge/internal/catalogsync"
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jsonin"
	"github.com/posbridge/posbridge/internal/lifecycle"
	"github.com/posbridge/posbridge/internal/ordersync"
	"github.com/posbridge/posbridge/internal/outbox"
	"github.com/posbridge/posbridge/internal/retention"
	"github.com/posbridge/posbridge/internal/salesimport"
	"github.com/posbridge/posbridge/internal/store"
)

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the embedded OpenAPI document.
func OpenAPI() []byte { return openAPI }

// MaxBody is the largest request body accepted (413 beyond).
const MaxBody = 1 << 20

// API serves /api/v1.
type API struct {
	st      *store.Store
	lc      *lifecycle.Service
	out     *outbox.Outbox
	sync    *ordersync.Service
	catalog *catalogsync.Service
	acc     *access.Service
	bo      *backoffice.Service
	log     *slog.Logger
	hookURL func(integrationID string) string // the URL providers sign (Square), "" = as received
	// Retention says how far back history goes (retained_since in the history lists).
	Retention retention.Policy
	// Sales is the sales import (refresh-sales, the sales, summary and POS items routes).
	Sales *salesimport.Service
}

// New returns the API.
func New(st *store.Store, lc *lifecycle.Service, out *outbox.Outbox, sync *ordersync.Service, log *slog.Logger) *API {
	return &API{st: st, lc: lc, out: out, sync: sync, acc: access.New(st), log: log, hookURL: lc.HookURL, Retention: retention.Policy{}.WithDefaults()}
}

// Auth is how a route authenticates its caller.
type Auth int

const (
	// AuthAPIKey: the account's API key (Authorization: Bearer pbk_...); the handler gets the account.
	AuthAPIKey Auth = iota
	// AuthProviderSignature: a POS's webhook delivery; no API key, the handler verifies the
	// provider's signature and gets "" for the account.
	AuthProviderSignature
)

// Route is one entry of the routes table (also checked against the OpenAPI document).
type Route struct {
	Method, Path string
	Auth         Auth
	Handler      func(a *API, w http.ResponseWriter, r *http.Request, acct string) error
}

// Routes is the API's routes table: every route Register mounts except the OpenAPI document itself.
var Routes = []Route{
	{"GET", "/api/v1/providers", AuthAPIKey, (*API).listProviders},
	{"POST", "/api/v1/integrations", AuthAPIKey, (*API).addIntegration},
	{"GET", "/api/v1/integrations", AuthAPIKey, (*API).listIntegrations},
	{"GET", "/api/v1/integrations/{id}", AuthAPIKey, (*API).getIntegration},
	{"PATCH", "/api/v1/integrations/{id}", AuthAPIKey, (*API).updateIntegration},
	{"GET", "/api/v1/integrations/{id}/stores", AuthAPIKey, (*API).listStores},
	{"POST", "/api/v1/integrations/{id}/check", AuthAPIKey, lifecycleAction((*lifecycle.Service).Check)},
	{"POST", "/api/v1/integrations/{id}/deactivate", AuthAPIKey, lifecycleAction((*lifecycle.Service).Deactivate)},
	{"POST", "/api/v1/integrations/{id}/restore", AuthAPIKey, lifecycleAction((*lifecycle.Service).Restore)},
	{"POST", "/api/v1/integrations/{id}/resume", AuthAPIKey, lifecycleAction((*lifecycle.Service).Resume)},
	{"GET", "/api/v1/integrations/{id}/webhook-events", AuthAPIKey, (*API).webhookEvents},
	{"GET", "/api/v1/timeline", AuthAPIKey, (*API).timeline},
	{"POST", "/api/v1/webhook-endpoints", AuthAPIKey, (*API).createEndpoint},
	{"GET", "/api/v1/webhook-endpoints", AuthAPIKey, (*API).listEndpoints},
	{"DELETE", "/api/v1/webhook-endpoints/{id}", AuthAPIKey, (*API).deleteEndpoint},
	{"GET", "/api/v1/webhook-endpoints/{id}/deliveries", AuthAPIKey, (*API).listDeliveries},
	{"POST", "/api/v1/webhook-endpoints/{id}/test", AuthAPIKey, (*API).testEndpoint},
	{"POST", "/api/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver", AuthAPIKey, (*API).redeliver},

	// Order sync: the app's documents and the account's Automatic Sync settings.
	{"PUT", "/api/v1/documents/{kind}/{ref}", AuthAPIKey, (*API).putDocument},
	{"GET", "/api/v1/documents/{kind}/{ref}", AuthAPIKey, (*API).getDocument},
	{"GET", "/api/v1/documents/{kind}", AuthAPIKey, (*API).listDocuments},
	{"PATCH", "/api/v1/documents/{kind}/{ref}/sync", AuthAPIKey, (*API).patchSync},
	{"POST", "/api/v1/documents/{kind}/{ref}/sync/resync", AuthAPIKey, (*API).resync},
	{"POST", "/api/v1/documents/{kind}/{ref}/sync/send-as-new", AuthAPIKey, (*API).sendAsNew},
	{"POST", "/api/v1/documents/{kind}/{ref}/sync/retry", AuthAPIKey, (*API).retry},
	{"GET", "/api/v1/documents/{kind}/{ref}/sync-history", AuthAPIKey, (*API).syncHistory},
	{"GET", "/api/v1/order-sync", AuthAPIKey, (*API).getOrderSync},
	{"PUT", "/api/v1/order-sync", AuthAPIKey, (*API).putOrderSync},

	// Catalog sync: the system of record's products, stock and customers.
	{"GET", "/api/v1/catalog-sync", AuthAPIKey, (*API).getCatalogSync},
	{"PUT", "/api/v1/catalog-sync", AuthAPIKey, (*API).putCatalogSync},
	{"POST", "/api/v1/catalog-sync/import", AuthAPIKey, (*API).startCatalogImport},
	{"GET", "/api/v1/catalog-sync/progress", AuthAPIKey, (*API).catalogProgress},
	{"GET", "/api/v1/products", AuthAPIKey, (*API).listProducts},
	{"GET", "/api/v1/products/{id}", AuthAPIKey, (*API).getProduct},
	{"GET", "/api/v1/products/{id}/history", AuthAPIKey, recordHistory(domain.RecordProduct)},
	{"GET", "/api/v1/customers", AuthAPIKey, (*API).listCustomers},
	{"PATCH", "/api/v1/customers/{id}", AuthAPIKey, (*API).patchCustomer},
	{"GET", "/api/v1/customers/{id}/history", AuthAPIKey, recordHistory(domain.RecordCustomer)},
	{"GET", "/api/v1/stock", AuthAPIKey, (*API).listStock},
	{"GET", "/api/v1/changes", AuthAPIKey, (*API).listChanges},
	{"POST", "/api/v1/links", AuthAPIKey, (*API).createLink},

	// Sales import: fetch now, the sales, their POS items and mappings, email inboxes.
	{"POST", "/api/v1/integrations/{id}/refresh-sales", AuthAPIKey, (*API).refreshSales},
	{"GET", "/api/v1/sales", AuthAPIKey, (*API).listSales},
	{"GET", "/api/v1/sales/summary", AuthAPIKey, (*API).salesSummary},
	{"GET", "/api/v1/pos-items", AuthAPIKey, (*API).listPosItems},
	{"PUT", "/api/v1/pos-items/{id}/mapping", AuthAPIKey, (*API).mapPosItem},
	{"GET", "/api/v1/integrations/{id}/email", AuthAPIKey, (*API).getEmailInbox},
	{"PUT", "/api/v1/integrations/{id}/email", AuthAPIKey, (*API).putEmailInbox},

	// API keys, users and roles (internal/access).
	{"GET", "/api/v1/api-keys", AuthAPIKey, (*API).listAPIKeys},
	{"POST", "/api/v1/api-keys", AuthAPIKey, (*API).createAPIKey},
	{"DELETE", "/api/v1/api-keys/{id}", AuthAPIKey, (*API).revokeAPIKey},
	{"GET", "/api/v1/users", AuthAPIKey, (*API).listUsers},
	{"POST", "/api/v1/users", AuthAPIKey, (*API).inviteUser},
	{"PATCH", "/api/v1/users/{id}", AuthAPIKey, (*API).updateUser},
	{"DELETE", "/api/v1/users/{id}", AuthAPIKey, (*API).deactivateUser},
	{"GET", "/api/v1/permissions", AuthAPIKey, (*API).listPermissions},
	{"GET", "/api/v1/back-office/draft", AuthAPIKey, (*API).getDraft},
	{"PUT", "/api/v1/back-office/draft", AuthAPIKey, (*API).putDraft},
	{"POST", "/api/v1/back-office/publish", AuthAPIKey, (*API).publish},
	{"GET", "/api/v1/back-office/versions", AuthAPIKey, (*API).versions},
	{"GET", "/api/v1/back-office/versions/{version}", AuthAPIKey, (*API).getVersion},
	{"GET", "/api/v1/back-office/settings", AuthAPIKey, (*API).getBackOfficeSettings},
	{"PUT", "/api/v1/back-office/settings", AuthAPIKey, (*API).putBackOfficeSettings},
	{"POST", "/api/v1/terminals/pairing-codes", AuthAPIKey, (*API).pairingCode},
	{"GET", "/api/v1/terminals", AuthAPIKey, (*API).listTerminals},
	{"DELETE", "/api/v1/terminals/{id}", AuthAPIKey, (*API).revokeTerminal},
	{"GET", "/api/v1/roles", AuthAPIKey, (*API).listRoles},
	{"POST", "/api/v1/roles", AuthAPIKey, (*API).createRole},
	{"GET", "/api/v1/roles/{id}", AuthAPIKey, (*API).getRole},
	{"PATCH", "/api/v1/roles/{id}", AuthAPIKey, (*API).updateRole},
	{"DELETE", "/api/v1/roles/{id}", AuthAPIKey, (*API).deleteRole},

	// Inbound POS webhooks, signed by the provider.
	{"POST", "/hooks/{integration_id}", AuthProviderSignature, (*API).hook},
}

// Register mounts the API on mux.
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range Routes {
		rt := rt
		mux.HandleFunc(rt.Method+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) {
			var p access.Principal
			var err error
			if rt.Auth != AuthProviderSignature { // an unknown kind authenticates like the API key
				p, err = a.authenticate(r)
				if err == nil {
					err = p.Require(RoutePermission(rt.Method, rt.Path))
				}
				if err == nil {
					r = r.WithContext(access.WithPrincipal(r.Context(), p))
				}
			}
			if err == nil {
				r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
				err = rt.Handler(a, w, r, p.AccountID)
			}
			if err != nil {
				a.writeError(w, r, err)
			}
		})
	}
	mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI) //nolint:errcheck // client went away
	})
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, &domain.Error{Code: domain.CodeNotFound, Message: "no such route: " + r.Method + " " + r.URL.Path})
	})
}

// authenticate finds the request's API key (read from the database on every request, so a
// revoked key is refused at once in every process) and the role it acts with.
func (a *API) authenticate(r *http.Request) (access.Principal, error) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return access.Principal{}, &domain.Error{Code: domain.CodeUnauthorized, Message: "send your API key as Authorization: Bearer <key>"}
	}
	return a.acc.AuthenticateKey(r.Context(), token)
}

// principal is the caller of a request that passed authenticate.
func principal(r *http.Request) access.Principal {
	p, _ := access.From(r.Context())
	return p
}

// StatusOf maps a domain error code to an HTTP status.
func StatusOf(code domain.Code) int {
	switch code {
	case domain.CodeBadRequest:
		return http.StatusBadRequest
	case domain.CodeInvalid:
		return http.StatusUnprocessableEntity
	case domain.CodeUnauthorized:
		return http.StatusUnauthorized
	case domain.CodeForbidden:
		return http.StatusForbidden
	case domain.CodeNotFound:
		return http.StatusNotFound
	case domain.CodeConflict, domain.CodeInactiveExists, domain.CodeNicknameRequired, domain.CodeCalledOff, domain.CodeInactive:
		return http.StatusConflict
	case domain.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case domain.CodeUnsupported, domain.CodeTenantLimit:
		return http.StatusUnprocessableEntity
	case domain.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var de *domain.Error
	switch {
	case errors.As(err, &de):
	case store.IsUnavailable(err):
		a.log.Warn("api request: the database does not answer", "method", r.Method, "path", r.URL.Path, "err", err)
		de = &domain.Error{Code: domain.CodeUnavailable, Message: "the database does not answer for the moment; retry after the seconds in Retry-After"}
	default:
		a.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		de = &domain.Error{Code: domain.CodeInternal, Message: "internal error; the server log has the details"}
	}
	if de.Code == domain.CodeUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(store.UnavailableRetryAfter))
	}
	body := map[string]any{"code": de.Code, "message": de.Message}
	if de.Field != "" {
		body["field"] = de.Field
	}
	for k, v := range de.Details {
		body[k] = v
	}
	writeJSON(w, StatusOf(de.Code), map[string]any{"error": body})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body strictly (internal/jsonin): unknown, duplicate and case-variant keys,
// nulls and trailing data are refused, naming the field.
func decode(r *http.Request, v any) error {
	return jsonin.Decode(r.Body, v)
}

// ProviderJSON is a provider as GET /api/v1/providers shows it.
type ProviderJSON struct {
	Type         string              `json:"type"`
	DisplayName  string              `json:"display_name"`
	SetupURL     string              `json:"setup_url"`
	Sandbox      bool                `json:"sandbox"`       // it can be tried here without a POS account
	SandboxStore bool                `json:"sandbox_store"` // deprecated: the same as Sandbox
	Fields       []connector.Field   `json:"fields"`
	Capabilities []domain.Capability `json:"capabilities"`
}

// ProviderJSONOf shows a provider.
func ProviderJSONOf(p connector.Provider, sandboxStore bool) ProviderJSON {
	sb := p.SelfHosted || sandboxStore // the Sandbox POS is itself a sandbox
	return ProviderJSON{Type: p.Type, DisplayName: p.DisplayName, SetupURL: p.SetupURL, Sandbox: sb,
		SandboxStore: sb, Fields: p.Fields, Capabilities: p.Capabilities}
}

func (a *API) listProviders(w http.ResponseWriter, r *http.Request, _ string) error {
	out := []ProviderJSON{}
	for _, p := range a.lc.Providers() {
		out = append(out, ProviderJSONOf(p, a.lc.HasSandbox(p.Type)))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// IntegrationJSON is an integration as the API shows it; never its credentials.
type IntegrationJSON struct {
	ID                  string     `json:"id"`
	Type                string     `json:"type"`
	DisplayName         string     `json:"display_name"`
	Nickname            string     `json:"nickname"`
	Status              string     `json:"status"`
	StatusReason        string     `json:"status_reason"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	LastCheckAt         *time.Time `json:"last_check_at"`
	LastSalesCheckAt    *time.Time `json:"last_sales_check_at"`
	LastSaleImportedAt  *time.Time `json:"last_sale_imported_at"`
	// SalesIntervalMinutes is how often sales are fetched (5 to 360; default 360, every 6 hours).
	SalesIntervalMinutes int        `json:"sales_interval_minutes"`
	StoreID              string     `json:"store_id"`
	CreatedAt            time.Time  `json:"created_at"`
	DeactivatedAt        *time.Time `json:"deactivated_at"`
	// Circuit is the breaker of the integration's provider calls: open while posbridge holds
	// calls back after repeated timeouts or server errors.
	Circuit CircuitJSON `json:"circuit"`
}

// CircuitJSON is an integration's circuit breaker as the API shows it.
type CircuitJSON struct {
	State               string     `json:"state"`   // closed, open or half_open
	Reason              string     `json:"reason"`  // timeout, server_error or connection; "" when closed
	Message             string     `json:"message"` // a sentence for the merchant; "" when closed
	ConsecutiveFailures int        `json:"consecutive_failures"`
	OpenedAt            *time.Time `json:"opened_at"`
	NextAttemptAt       *time.Time `json:"next_attempt_at"`
}

// CircuitJSONOf renders a circuit.
func CircuitJSONOf(c domain.Circuit) CircuitJSON {
	state := c.State
	if state == "" {
		state = domain.CircuitClosed
	}
	return CircuitJSON{State: string(state), Reason: c.Reason, Message: c.Message, ConsecutiveFailures: c.ConsecutiveFailures,
		OpenedAt: c.OpenedAt, NextAttemptAt: c.NextAttemptAt}
}

// integrationJSON renders an integration with its circuit, read here.
func (a *API) integrationJSON(ctx context.Context, i domain.Integration) (IntegrationJSON, error) {
	c, err := a.st.GetCircuit(ctx, i.AccountID, i.ID)
	if err != nil {
		return IntegrationJSON{}, err
	}
	return a.integrationJSONWith(i, c), nil
}

func (a *API) integrationJSONWith(i domain.Integration, c domain.Circuit) IntegrationJSON {
	return IntegrationJSON{ID: i.ID, Type: i.Type, DisplayName: a.lc.DisplayName(i.Type), Nickname: i.Nickname,
		Status: string(i.Status), StatusReason: i.StatusReason, ConsecutiveFailures: i.ConsecutiveFailures,
		LastCheckAt: i.LastCheckAt, LastSalesCheckAt: i.LastSalesCheckAt, LastSaleImportedAt: i.LastSaleImportedAt,
		SalesIntervalMinutes: salesInterval(i), StoreID: i.StoreID, CreatedAt: i.CreatedAt, DeactivatedAt: i.DeactivatedAt, Circuit: CircuitJSONOf(c)}
}

// writeIntegration answers an integration with its circuit.
func (a *API) writeIntegration(w http.ResponseWriter, r *http.Request, status int, i domain.Integration) error {
	out, err := a.integrationJSON(r.Context(), i)
	if err != nil {
		return err
	}
	return writeJSON(w, status, out)
}

func (a *API) addIntegration(w http.ResponseWriter, r *http.Request, acct string) error {
	var in struct {
		Type        string            `json:"type"`
		Nickname    string            `json:"nickname"`
		Credentials map[string]string `json:"credentials"`
		StoreID     string            `json:"store_id"`
		OnConflict  string            `json:"on_conflict"`
		RestoreID   string            `json:"restore_id"`
		Sandbox     bool              `json:"sandbox"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Type == "" {
		return domain.Invalid("type", "type is required; GET /api/v1/providers lists them")
	}
	i, err := a.lc.Add(r.Context(), acct, domain.ActorAPI, lifecycle.AddInput{Type: in.Type, Nickname: in.Nickname,
		Credentials: in.Credentials, StoreID: in.StoreID, OnConflict: in.OnConflict, RestoreID: in.RestoreID, Sandbox: in.Sandbox})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if in.OnConflict == "restore" {
		status = http.StatusOK
	}
	return a.writeIntegration(w, r, status, i)
}

func (a *API) listIntegrations(w http.ResponseWriter, r *http.Request, acct string) error {
	list, err := a.lc.List(r.Context(), acct, r.URL.Query().Get("state"))
	if err != nil {
		return err
	}
	circuits, err := a.st.ListCircuits(r.Context(), acct)
	if err != nil {
		return err
	}
	out := make([]IntegrationJSON, 0, len(list))
	for _, i := range list {
		out = append(out, a.integrationJSONWith(i, circuits[i.ID]))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

func (a *API) getIntegration(w http.ResponseWriter, r *http.Request, acct string) error {
	i, err := a.lc.Get(r.Context(), acct, r.PathValue("id"))
	if err != nil {
		return err
	}
	return a.writeIntegration(w, r, http.StatusOK, i)
}

func (a *API) updateIntegration(w http.ResponseWriter, r *http.Request, acct string) error {
	var in struct {
		Nickname    *string           `json:"nickname"`
		StoreID     *string           `json:"store_id"`
		Credentials map[string]string `json:"credentials"`
		// SalesIntervalMinutes is how often sales are fetched, 5 to 360.
		SalesIntervalMinutes *int `json:"sales_interval_minutes"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.SalesIntervalMinutes != nil {
		if err := domain.ValidateSalesInterval(*in.SalesIntervalMinutes); err != nil {
			return err
		}
	}
	i, err := a.lc.Update(r.Context(), acct, domain.ActorAPI, r.PathValue("id"),
		lifecycle.UpdateInput{Nickname: in.Nickname, StoreID: in.StoreID, Credentials: in.Credentials})
	if err != nil {
		return err
	}
	if in.SalesIntervalMinutes != nil && a.Sales != nil {
		if i, err = a.Sales.SetInterval(r.Context(), acct, domain.ActorAPI, i.ID, *in.SalesIntervalMinutes); err != nil {
			return err
		}
	}
	return a.writeIntegration(w, r, http.StatusOK, i)
}

func (a *API) listStores(w http.ResponseWriter, r *http.Request, acct string) error {
	stores, err := a.lc.Stores(r.Context(), acct, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": stores})
}

// lifecycleAction serves one of the integration actions (check, deactivate, restore, resume).
func lifecycleAction(fn func(s *lifecycle.Service, ctx context.Context, acct, actor, id string) (domain.Integration, error)) func(*API, http.ResponseWriter, *http.Request, string) error {
	return func(a *API, w http.ResponseWriter, r *http.Request, acct string) error {
		i, err := fn(a.lc, r.Context(), acct, domain.ActorAPI, r.PathValue("id"))
		if err != nil {
			return err
		}
		return a.writeIntegration(w, r, http.StatusOK, i)
	}
}

// TimelineJSON is a timeline entry as the API shows it.
type TimelineJSON struct {
	ID            int64     `json:"id"`
	At            time.Time `json:"at"`
	Kind          string    `json:"kind"`
	IntegrationID string    `json:"integration_id"`
	Actor         string    `json:"actor"`
	Message       string    `json:"message"`
}

func (a *API) timeline(w http.ResponseWriter, r *http.Request, acct string) error {
	q := r.URL.Query()
	f := store.TimelineFilter{IntegrationID: q.Get("integration_id"), Limit: 50}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return domain.Invalid("limit", "limit must be a whole number from 1 to 500")
		}
		f.Limit = n
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return domain.Invalid("before", "before must be the id of a timeline entry")
		}
		f.Before = n
	}
	entries, err := a.lc.Timeline(r.Context(), acct, f)
	if err != nil {
		return err
	}
	out := make([]TimelineJSON, 0, len(entries))
	for _, e := range entries {
		out = append(out, TimelineJSON{ID: e.ID, At: e.At, Kind: e.Kind, IntegrationID: e.IntegrationID, Actor: e.Actor, Message: e.Message})
	}
	resp := map[string]any{"data": out, "next_before": nil, "retained_since": a.Retention.RetainedSince(store.TimelineTable)}
	if len(out) == f.Limit {
		resp["next_before"] = out[len(out)-1].ID
	}
	return writeJSON(w, http.StatusOK, resp)
}

// EndpointJSON is a webhook endpoint as the API shows it; the secret only on creation.
type EndpointJSON struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Description string    `json:"description"`
	Events      []string  `json:"events"`
	CreatedAt   time.Time `json:"created_at"`
	Secret      string    `json:"secret,omitempty"`
}

func endpointJSON(e domain.WebhookEndpoint) EndpointJSON {
	return EndpointJSON{ID: e.ID, URL: e.URL, Description: e.Description, Events: e.Events, CreatedAt: e.CreatedAt}
}

func (a *API) createEndpoint(w http.ResponseWriter, r *http.Request, acct string) error {
	var in struct {
		URL         string   `json:"url"`
		Description string   `json:"description"`
		Events      []string `json:"events"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.URL == "" {
		return domain.Invalid("url", "url is required")
	}
	ep, secret, err := a.out.CreateEndpoint(r.Context(), acct, domain.ActorAPI, in.URL, in.Description, in.Events)
	if err != nil {
		return err
	}
	out := endpointJSON(ep)
	out.Secret = secret
	return writeJSON(w, http.StatusCreated, out)
}

func (a *API) listEndpoints(w http.ResponseWriter, r *http.Request, acct string) error {
	eps, err := a.st.ListWebhookEndpoints(r.Context(), acct)
	if err != nil {
		return err
	}
	out := make([]EndpointJSON, 0, len(eps))
	for _, e := range eps {
		out = append(out, endpointJSON(e))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

func (a *API) deleteEndpoint(w http.ResponseWriter, r *http.Request, acct string) error {
	if err := a.out.DeleteEndpoint(r.Context(), acct, domain.ActorAPI, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// DeliveryJSON is one outbound webhook delivery to an endpoint: the event, its attempts and the
// endpoint's last answer.
type DeliveryJSON struct {
	ID            string     `json:"id"`
	EventType     string     `json:"event_type"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	LastStatus    int        `json:"last_status"`
	LastError     string     `json:"last_error"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// DeliveryJSONOf shows a delivery.
func DeliveryJSONOf(d store.Delivery) DeliveryJSON {
	return DeliveryJSON{ID: d.ID, EventType: d.EventType, Status: d.Status, Attempts: d.Attempts, LastStatus: d.LastStatus,
		LastError: d.LastError, NextAttemptAt: d.NextAttemptAt, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

func (a *API) endpointOf(r *http.Request, acct string) (string, error) {
	id := r.PathValue("id")
	if _, _, err := a.st.GetWebhookEndpoint(r.Context(), acct, id); errors.Is(err, store.ErrNotFound) {
		return "", domain.NotFound("webhook endpoint")
	} else if err != nil {
		return "", err
	}
	return id, nil
}

func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request, acct string) error {
	id, err := a.endpointOf(r, acct)
	if err != nil {
		return err
	}
	ds, err := a.st.ListEndpointDeliveries(r.Context(), acct, id, 100)
	if err != nil {
		return err
	}
	out := make([]DeliveryJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, DeliveryJSONOf(d))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
	return nil
}

func (a *API) testEndpoint(w http.ResponseWriter, r *http.Request, acct string) error {
	id, err := a.endpointOf(r, acct)
	if err != nil {
		return err
	}
	d, err := a.out.SendTest(r.Context(), acct, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, DeliveryJSONOf(d))
	return nil
}

func (a *API) redeliver(w http.ResponseWriter, r *http.Request, acct string) error {
	id, err := a.endpointOf(r, acct)
	if err != nil {
		return err
	}
	d, err := a.out.Redeliver(r.Context(), acct, id, r.PathValue("delivery_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, DeliveryJSONOf(d))
	return nil
}
