package api

// The OpenAPI document (openapi.json) is written by hand; these tests keep it true to the code:
// it is OpenAPI 3.1.0 and valid (examples included), it lists exactly the routes of Routes,
// every $ref resolves and every component is used, its enums are the domain's constants, and
// what the handlers encode validates against its schemas (additionalProperties false, so a
// field added in Go but not in the document fails here).

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/accounts"
	"github.com/posbridge/posbridge/internal/backoffice"
	"github.com/posbridge/posbridge/internal/catalogsync"
	"github.com/posbridge/posbridge/internal/connector/lightspeed"
	"github.com/posbridge/posbridge/internal/connector/registry"
	"github.com/posbridge/posbridge/internal/connector/sandbox"
	"github.com/posbridge/posbridge/internal/connector/shopify"
	"github.com/posbridge/posbridge/internal/connector/square"
	"github.com/posbridge/posbridge/internal/connector/woocommerce"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jobs"
	"github.com/posbridge/posbridge/internal/lifecycle"
	"github.com/posbridge/posbridge/internal/notify"
	"github.com/posbridge/posbridge/internal/ordersync"
	"github.com/posbridge/posbridge/internal/outbox"
	"github.com/posbridge/posbridge/internal/retention"
	"github.com/posbridge/posbridge/internal/salesimport"
	"github.com/posbridge/posbridge/internal/secrets"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// oasExtraPaths are served by internal/app (or by Register outside Routes) and documented too.
var oasExtraPaths = []string{"GET /healthz", "GET /metrics", "GET /api/v1/openapi.json"}

// oasCodes is every domain.Code; the document's ErrorCode enum must list exactly these.
var oasCodes = []domain.Code{
	domain.CodeBadRequest, domain.CodeInvalid, domain.CodeUnauthorized, domain.CodeForbidden,
	domain.CodeNotFound, domain.CodeConflict, domain.CodeTooLarge, domain.CodeInactiveExists,
	domain.CodeNicknameRequired, domain.CodeCalledOff, domain.CodeInactive, domain.CodeUnsupported, domain.CodeTenantLimit,
	domain.CodeUnavailable, domain.CodeInternal,
}

var oasStatuses = []domain.Status{
	domain.StatusInitializing, domain.StatusHealthy, domain.StatusFailed, domain.StatusCalledOff, domain.StatusInactive,
}

var oasDocKinds = []domain.DocKind{domain.KindJob, domain.KindInvoice, domain.KindSale, domain.KindBooking}

var oasSyncStatuses = []domain.SyncStatus{domain.SyncNotSent, domain.SyncPending, domain.SyncSyncing, domain.SyncSynced, domain.SyncRetrying, domain.SyncFailed}

// oasProviderEventTypes are the neutral types of inbound POS events (WebhookEvent.type).
var oasProviderEventTypes = []string{domain.ProviderOrderCreated, domain.ProviderOrderUpdated, domain.ProviderOrderDeleted,
	domain.ProviderProductUpdated, domain.ProviderProductDeleted, domain.ProviderStockUpdated, domain.ProviderCustomerUpdated,
	domain.ProviderSaleUpdated, domain.ProviderUnknownEventType}

// oasDocStatuses is every status of every document kind, each once.
func oasDocStatuses() []string {
	var out []string
	for _, k := range oasDocKinds {
		for _, s := range k.Statuses() {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

var oasLoad = sync.OnceValues(func() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	return loader.LoadFromData(OpenAPI())
})

func oasDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := oasLoad()
	if err != nil {
		t.Fatalf("load openapi.json: %v", oasFirstLine(err))
	}
	return doc
}

// oasFirstLine keeps kin-openapi's errors short (they go on with the whole schema).
func oasFirstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// oasCheck encodes v with encoding/json, as the handlers do, and validates it against the
// named component schema with the JSON Schema 2020-12 rules of OpenAPI 3.1.
func oasCheck(t *testing.T, schema string, v any) error {
	t.Helper()
	ref := oasDoc(t).Components.Schemas[schema]
	if ref == nil || ref.Value == nil {
		t.Fatalf("openapi.json has no schema %q", schema)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %s sample: %v", schema, err)
	}
	return oasCheckJSON(t, schema, b)
}

func oasCheckJSON(t *testing.T, schema string, b []byte) error {
	t.Helper()
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatalf("decode %s sample %s: %v", schema, b, err)
	}
	err := oasDoc(t).Components.Schemas[schema].Value.VisitJSON(x, openapi3.EnableJSONSchema2020(), openapi3.EnableFormatValidation())
	if err != nil {
		return errors.New(oasFirstLine(err))
	}
	return nil
}

func TestOpenAPIIsValid31(t *testing.T) {
	var head struct {
		OpenAPI string `json:"openapi"`
	}
	if err := json.Unmarshal(OpenAPI(), &head); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if head.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q, want 3.1.0", head.OpenAPI)
	}
	doc := oasDoc(t)
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("kin-openapi does not read the document as 3.1")
	}
	// Validate checks the structure, the path parameters and every example against its schema.
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not valid: %v", oasFirstLine(err))
	}
	if doc.Webhooks["integration.status_changed"] == nil || doc.Webhooks["integration.status_changed"].Post == nil {
		t.Errorf("webhooks lacks POST integration.status_changed")
	}
	if s := doc.Components.SecuritySchemes["apiKey"]; s == nil || s.Value.Type != "http" || s.Value.Scheme != "bearer" {
		t.Errorf("securitySchemes.apiKey must be http bearer")
	}
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := oasDoc(t)
	inRoutes := map[string]bool{}
	byKey := map[string]Auth{}
	for _, rt := range Routes {
		k := rt.Method + " " + rt.Path
		if inRoutes[k] {
			t.Errorf("Routes lists %s twice", k)
		}
		inRoutes[k] = true
		byKey[k] = rt.Auth
	}
	extra := map[string]bool{}
	for _, k := range oasExtraPaths {
		extra[k] = true
	}
	inDoc := map[string]*openapi3.Operation{}
	opIDs := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			k := method + " " + path
			inDoc[k] = op
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", k)
			} else if other, dup := opIDs[op.OperationID]; dup {
				t.Errorf("operationId %q is used by %s and %s", op.OperationID, other, k)
			}
			opIDs[op.OperationID] = k
			if !inRoutes[k] && !extra[k] {
				t.Errorf("openapi.json documents %s, which is not in Routes", k)
			}
		}
	}
	for k := range inRoutes {
		if inDoc[k] == nil {
			t.Errorf("Routes has %s, which openapi.json does not document", k)
		}
	}
	for k := range extra {
		if inDoc[k] == nil {
			t.Errorf("openapi.json does not document %s", k)
		}
	}
	for k := range inRoutes {
		op := inDoc[k]
		if op == nil || byKey[k] != AuthAPIKey {
			continue // the provider-signed hook route has its own test (TestOpenAPIHookRoute)
		}
		// Every route authenticates first and may fail on our side; a body may be bad in three ways.
		want := []string{"401", "500"}
		if op.RequestBody != nil {
			want = append(want, "400", "413", "422")
		}
		if op.Security != nil && len(*op.Security) == 0 {
			t.Errorf("%s is documented without the API key, but Routes says it needs it", k)
		}
		for _, code := range want {
			if op.Responses.Value(code) == nil {
				t.Errorf("%s does not document its %s answer", k, code)
			}
		}
		for code, resp := range op.Responses.Map() {
			if code[0] != '4' && code[0] != '5' {
				continue
			}
			mt := resp.Value.Content.Get("application/json")
			if mt == nil || mt.Schema == nil || mt.Schema.Ref != "#/components/schemas/Error" {
				t.Errorf("%s answer %s must be application/json with the Error schema", k, code)
			}
		}
	}
}

// TestOpenAPIRefsResolve walks the raw document: every $ref is local and points at something,
// and every component is referenced somewhere (no dead schemas).
func TestOpenAPIRefsResolve(t *testing.T) {
	var root any
	if err := json.Unmarshal(OpenAPI(), &root); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "$ref" {
					ref, _ := x.(string)
					if !strings.HasPrefix(ref, "#/") {
						t.Errorf("%s: $ref %q is not local", at, ref)
						continue
					}
					if oasPointer(root, ref[1:]) == nil {
						t.Errorf("%s: $ref %q does not resolve", at, ref)
					}
					used[ref] = true
					continue
				}
				walk(at+"/"+k, x)
			}
		case []any:
			for _, x := range v {
				walk(at+"/[]", x)
			}
		}
	}
	walk("#", root)
	comps, _ := root.(map[string]any)["components"].(map[string]any)
	for _, section := range []string{"schemas", "responses", "parameters"} {
		m, _ := comps[section].(map[string]any)
		for name := range m {
			if ref := "#/components/" + section + "/" + name; !used[ref] {
				t.Errorf("%s is never referenced", ref)
			}
		}
	}
}

// oasPointer resolves a JSON pointer (RFC 6901) in v, or returns nil.
func oasPointer(v any, ptr string) any {
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		if v, ok = m[tok]; !ok {
			return nil
		}
	}
	return v
}

// oasEnum lists the enum of a component schema, or of one of its properties ("Schema.property").
func oasEnum(t *testing.T, schema string) []string {
	t.Helper()
	name, prop, _ := strings.Cut(schema, ".")
	ref := oasDoc(t).Components.Schemas[name]
	if ref != nil && prop != "" {
		ref = ref.Value.Properties[prop]
	}
	if ref == nil {
		t.Fatalf("openapi.json has no schema %q", schema)
	}
	var out []string
	for _, v := range ref.Value.Enum {
		s, _ := v.(string)
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func oasSorted[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	sort.Strings(out)
	return out
}

func TestOpenAPIEnumsMatchDomain(t *testing.T) {
	for _, c := range []struct {
		schema string
		want   []string
	}{
		{"IntegrationStatus", oasSorted(oasStatuses)},
		{"ErrorCode", oasSorted(oasCodes)},
		{"EventType", oasSorted(append(slices.Clone(outbox.EventTypes), "*"))},
		{"Capability", oasSorted([]domain.Capability{domain.CapProducts, domain.CapStock, domain.CapCustomers,
			domain.CapOrders, domain.CapSales, domain.CapWebhooks})},
		{"DocKind", oasSorted(oasDocKinds)},
		{"SyncStatus", oasSorted(oasSyncStatuses)},
		{"DocStatus", oasDocStatuses()},
		{"WebhookEvent.type", oasSorted(oasProviderEventTypes)},
		{"DocumentUpdatedEvent.type", []string{domain.EventDocumentUpdated}},
		{"IntegrationStatusChangedEvent.type", []string{domain.EventIntegrationStatusChanged}},
		{"BackOfficePOSDelivery.status", oasSorted([]string{backoffice.POSPending, backoffice.POSRetrying, backoffice.POSDelivered,
			backoffice.POSFailed, backoffice.POSSkipped})},
	} {
		if got := oasEnum(t, c.schema); !slices.Equal(got, c.want) {
			t.Errorf("%s enum = %v, want %v", c.schema, got, c.want)
		}
	}
	for _, code := range oasCodes {
		if StatusOf(code) == http.StatusInternalServerError && code != domain.CodeInternal {
			t.Errorf("StatusOf(%s) is 500: the document describes it otherwise", code)
		}
	}
	// The document kinds the URL takes are the ones the domain parses.
	for _, k := range oasEnum(t, "DocKind") {
		if _, err := domain.ParseDocKind(k); err != nil {
			t.Errorf("DocKind %q is refused by the domain: %v", k, err)
		}
	}
	// The settings' enumerations have no Go constants: each documented value must pass
	// Validate, and a value beside them must not.
	for _, c := range []struct {
		prop string
		set  func(*domain.OrderSyncSettings, string)
	}{
		{"sync_on_booking", func(s *domain.OrderSyncSettings, v string) { s.SyncOnBooking = v }},
		{"on_cancel", func(s *domain.OrderSyncSettings, v string) { s.OnCancel = domain.CancelMode(v) }},
	} {
		vals := oasEnum(t, "OrderSyncSettings."+c.prop)
		if len(vals) == 0 {
			t.Errorf("OrderSyncSettings.%s has no enum", c.prop)
		}
		for _, v := range append(vals, "refund") {
			s := domain.DefaultOrderSyncSettings()
			c.set(&s, v)
			err := s.Validate()
			if v == "refund" && err == nil {
				t.Errorf("%s %q passes Validate but is not documented", c.prop, v)
			}
			if v != "refund" && err != nil {
				t.Errorf("documented %s %q fails Validate: %v", c.prop, v, err)
			}
		}
	}
}

// TestOpenAPIStructFields pins the structs to their schemas: in an answer a field that is always
// encoded is required, an omitempty one is optional, a pointer may be null and a plain value may
// not; nothing else is described. Request bodies name their required fields (required).
func TestOpenAPIStructFields(t *testing.T) {
	for _, c := range []struct {
		schema   string
		typ      reflect.Type
		drop     string   // a field the schema leaves out on purpose
		request  bool     // a request body: required lists what the handler insists on
		required []string // with request
	}{
		{schema: "Integration", typ: reflect.TypeFor[IntegrationJSON]()},
		{schema: "IntegrationCircuit", typ: reflect.TypeFor[CircuitJSON]()},
		{schema: "Sale", typ: reflect.TypeFor[SaleJSON]()},
		{schema: "SaleLine", typ: reflect.TypeFor[SaleLineJSON]()},
		{schema: "SalePayment", typ: reflect.TypeFor[SalePaymentJSON]()},
		{schema: "SalesDay", typ: reflect.TypeFor[SalesDayJSON]()},
		{schema: "PosItem", typ: reflect.TypeFor[PosItemJSON]()},
		{schema: "SalesFetch", typ: reflect.TypeFor[salesimport.Result]()},
		{schema: "Provider", typ: reflect.TypeFor[ProviderJSON]()},
		{schema: "TimelineEntry", typ: reflect.TypeFor[TimelineJSON]()},
		{schema: "NewWebhookEndpoint", typ: reflect.TypeFor[EndpointJSON]()},
		{schema: "WebhookEndpoint", typ: reflect.TypeFor[EndpointJSON](), drop: "secret"},
		{schema: "Store", typ: reflect.TypeFor[domain.Store]()},
		{schema: "BackOfficeVersion", typ: reflect.TypeFor[backoffice.Version]()},
		{schema: "BackOfficeDeliveries", typ: reflect.TypeFor[backoffice.Deliveries]()},
		{schema: "BackOfficeTerminalDeliveries", typ: reflect.TypeFor[backoffice.TerminalDeliveries]()},
		{schema: "BackOfficePOSDelivery", typ: reflect.TypeFor[backoffice.POSDelivery]()},
		{schema: "Role", typ: reflect.TypeFor[domain.AccessRole]()},
		{schema: "APIKey", typ: reflect.TypeFor[APIKeyJSON](), drop: "key"},
		{schema: "PermissionInfo", typ: reflect.TypeFor[PermissionJSON]()},
		{schema: "Document", typ: reflect.TypeFor[ordersync.DocumentJSON]()},
		{schema: "DocumentSync", typ: reflect.TypeFor[ordersync.SyncJSON]()},
		{schema: "DocLine", typ: reflect.TypeFor[domain.DocLine]()},
		{schema: "DocCustomer", typ: reflect.TypeFor[domain.DocCustomer]()},
		{schema: "DocLink", typ: reflect.TypeFor[domain.DocLink]()},
		{schema: "Money", typ: reflect.TypeFor[domain.Money]()},
		{schema: "SyncHistoryEntry", typ: reflect.TypeFor[HistoryEntryJSON]()},
		{schema: "OrderSyncSettings", typ: reflect.TypeFor[domain.OrderSyncSettings]()},
		{schema: "WebhookEvent", typ: reflect.TypeFor[WebhookEventJSON]()},
		{schema: "IgnoredWebhookEvents", typ: reflect.TypeFor[IgnoredEventsJSON]()},
		{schema: "DocumentUpdatedEvent", typ: reflect.TypeFor[outbox.Event]()},
		{schema: "IntegrationStatusChangedEvent", typ: reflect.TypeFor[outbox.Event]()},
		// Requests: PUT documents needs a status (the kind's statuses); PUT order-sync changes
		// only what is sent; the toggles of PATCH .../sync and send-as-new must be given.
		{schema: "DocumentRequest", typ: reflect.TypeFor[DocumentRequest](), request: true, required: []string{"status"}},
		{schema: "OrderSyncSettingsUpdate", typ: reflect.TypeFor[domain.OrderSyncSettings](), request: true},
		{schema: "RecordHistoryEntry", typ: reflect.TypeFor[domain.HistoryEntry]()},
		{schema: "FieldChange", typ: reflect.TypeFor[domain.FieldChange]()},
		{schema: "CustomerUpdate", typ: reflect.TypeFor[catalogsync.CustomerPatch](), request: true},
		{schema: "SetAutoSyncRequest", typ: reflect.TypeFor[struct {
			AutoSync *bool `json:"auto_sync"`
		}](), request: true, required: []string{"auto_sync"}},
		{schema: "SendAsNewRequest", typ: reflect.TypeFor[struct {
			VoidExisting *bool `json:"void_existing"`
		}](), request: true, required: []string{"void_existing"}},
	} {
		ref := oasDoc(t).Components.Schemas[c.schema]
		if ref == nil {
			t.Errorf("openapi.json has no schema %q", c.schema)
			continue
		}
		s := ref.Value
		if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
			t.Errorf("%s must say additionalProperties: false", c.schema)
		}
		seen := map[string]bool{}
		for f := range c.typ.Fields() {
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if name == c.drop {
				continue
			}
			seen[name] = true
			if s.Properties[name] == nil {
				t.Errorf("%s: %s.%s (%q) is not described", c.schema, c.typ.Name(), f.Name, name)
				continue
			}
			required := slices.Contains(s.Required, name)
			if c.request {
				if want := slices.Contains(c.required, name); required != want {
					t.Errorf("%s: %q required=%v, but the handler insists on it: %v", c.schema, name, required, want)
				}
				continue
			}
			omitempty := strings.Contains(opts, "omitempty")
			// A secret on creation is always there, though the struct omits it elsewhere.
			if c.schema == "NewWebhookEndpoint" && name == "secret" {
				omitempty = false
			}
			if required == omitempty {
				t.Errorf("%s: %q required=%v, but the Go field has omitempty=%v", c.schema, name, required, omitempty)
			}
			// encoding/json writes a nil pointer as null; a plain value is never null. (Slices
			// are filled by the code that builds the answer, and checked by the samples.)
			nullOK := s.Properties[name].Value.VisitJSON(nil, openapi3.EnableJSONSchema2020()) == nil
			switch f.Type.Kind() {
			case reflect.Pointer:
				if !nullOK && !omitempty {
					t.Errorf("%s: %q is a Go pointer, so it can be null, but the schema refuses null", c.schema, name)
				}
			case reflect.Slice, reflect.Map, reflect.Interface:
			default:
				if nullOK {
					t.Errorf("%s: %q is never null in Go, but the schema allows null", c.schema, name)
				}
			}
		}
		for name := range s.Properties {
			if !seen[name] {
				t.Errorf("%s describes %q, which %s does not have", c.schema, name, c.typ)
			}
		}
	}
}

func TestOpenAPIResponseShapes(t *testing.T) {
	created := time.Date(2026, 3, 2, 10, 15, 30, 123456789, time.UTC)
	later := created.Add(90 * time.Minute).In(time.FixedZone("CET", 3600))
	fresh := IntegrationJSON{ID: "int_01jf8q2m4na7k3x9vbcd", Type: "sandbox", DisplayName: "Sandbox POS", SalesIntervalMinutes: 360,
		Status: string(domain.StatusInitializing), StatusReason: "Verifying credentials", CreatedAt: created,
		Circuit: CircuitJSONOf(domain.Circuit{})}
	full := IntegrationJSON{ID: "int_01jf8q2m4na7k3x9vbce", Type: "woocommerce", DisplayName: "WooCommerce", SalesIntervalMinutes: 15,
		Nickname: "Front counter", Status: string(domain.StatusInactive), StatusReason: "Deactivated",
		ConsecutiveFailures: 3, LastCheckAt: &later, LastSalesCheckAt: &later, LastSaleImportedAt: &created,
		StoreID: "store_1", CreatedAt: created, DeactivatedAt: &later,
		Circuit: CircuitJSONOf(domain.Circuit{State: domain.CircuitOpen, Reason: domain.CircuitReasonTimeout,
			Message: "Sending to the POS is paused.", ConsecutiveFailures: 3, OpenedAt: &created, NextAttemptAt: &later})}
	entry := TimelineJSON{ID: 42, At: later, Kind: domain.KindStatusChanged, IntegrationID: fresh.ID,
		Actor: domain.ActorSystem, Message: "Status changed from Initializing to Healthy"}
	endpoint := EndpointJSON{ID: "whe_01jf8q3b5ca1b2c3d4e5", URL: "https://app.example.com/hooks/posbridge",
		Description: "Production", Events: []string{domain.EventIntegrationStatusChanged}, CreatedAt: created}
	withSecret := endpoint
	withSecret.Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

	type sample struct {
		name, schema string
		value        any
		ok           bool
	}
	samples := []sample{
		{"fresh integration", "Integration", fresh, true},
		{"integration with every time set", "Integration", full, true},
		{"integration list", "IntegrationList", map[string]any{"data": []IntegrationJSON{fresh, full}}, true},
		{"empty integration list", "IntegrationList", map[string]any{"data": []IntegrationJSON{}}, true},
		{"timeline page", "TimelinePage", map[string]any{"data": []TimelineJSON{entry}, "next_before": int64(42), "retained_since": created}, true},
		{"last timeline page", "TimelinePage", map[string]any{"data": []TimelineJSON{}, "next_before": nil, "retained_since": created}, true},
		{"account-wide timeline entry", "TimelineEntry", TimelineJSON{ID: 1, At: created, Kind: domain.KindWebhookEndpoint,
			Actor: domain.ActorUser("owner@example.com"), Message: "Webhook endpoint added"}, true},
		{"endpoint list", "WebhookEndpointList", map[string]any{"data": []EndpointJSON{endpoint}}, true},
		{"created endpoint", "NewWebhookEndpoint", withSecret, true},
		{"stores", "StoreList", map[string]any{"data": []domain.Store{{ID: "1", Name: "Main", Currency: "EUR"}, {ID: "2", Name: "Depot"}}}, true},
		{"empty stores", "StoreList", map[string]any{"data": []domain.Store{}}, true},

		// The validator must refuse what the document forbids, or the cases above prove nothing.
		{"listed endpoint with its secret", "WebhookEndpoint", withSecret, false},
		{"created endpoint without secret", "NewWebhookEndpoint", endpoint, false},
		{"integration with an unknown status", "Integration", oasWith(t, fresh, "status", "paused"), false},
		{"integration with an extra field", "Integration", oasWith(t, fresh, "credentials", map[string]string{"api_key": "x"}), false},
		{"integration without nickname", "Integration", oasWith(t, fresh, "nickname", nil), false},
		{"integration with a time that is not RFC 3339", "Integration", oasWith(t, fresh, "last_check_at", "yesterday"), false},
		{"integration with a null created_at", "Integration", oasWith(t, fresh, "created_at", nil), false},
		{"integration with a numeric time", "Integration", oasWith(t, fresh, "deactivated_at", 1700000000), false},
		{"timeline page without next_before", "TimelinePage", map[string]any{"data": []TimelineJSON{}, "retained_since": created}, false},
		{"timeline page without retained_since", "TimelinePage", map[string]any{"data": []TimelineJSON{}, "next_before": nil}, false},
		{"timeline id as text", "TimelineEntry", oasWith(t, entry, "id", "42"), false},
		{"endpoint with an unknown event", "WebhookEndpoint", oasWith(t, endpoint, "events", []string{"sale.created"}), false},
	}
	for _, status := range oasStatuses {
		i := fresh
		i.Status = string(status)
		samples = append(samples, sample{"integration " + string(status), "Integration", i, true})
	}
	for _, s := range samples {
		err := oasCheck(t, s.schema, s.value)
		if s.ok && err != nil {
			t.Errorf("%s does not fit %s: %v", s.name, s.schema, err)
		}
		if !s.ok && err == nil {
			t.Errorf("%s fits %s, but should not", s.name, s.schema)
		}
	}
}

// oasWith encodes v and sets (or, with nil, deletes) one top-level key.
func oasWith(t *testing.T, v any, key string, val any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if val == nil {
		delete(m, key)
	} else {
		m[key] = val
	}
	return m
}

func TestOpenAPIProvidersFit(t *testing.T) {
	// The same shape listProviders builds, for every provider this build ships.
	out := []ProviderJSON{}
	for _, p := range registry.All() {
		out = append(out, ProviderJSONOf(p, !p.SelfHosted))
	}
	if len(out) == 0 {
		t.Fatal("registry.All() lists no provider")
	}
	if err := oasCheck(t, "ProviderList", map[string]any{"data": out}); err != nil {
		t.Errorf("providers do not fit ProviderList: %v", err)
	}
}

func TestOpenAPIWebhookEventFits(t *testing.T) {
	// The event as lifecycle publishes it through the outbox.
	ev := outbox.Event{ID: "msg_01jf8q2n7ka1b2c3d4e5", Type: domain.EventIntegrationStatusChanged,
		CreatedAt: time.Now(), AccountID: "acc_01jf8q0a1bc2d3e4f5g6", Data: map[string]any{
			"integration_id": "int_01jf8q2m4na7k3x9vbcd", "type": "sandbox", "nickname": "",
			"from": domain.StatusFailed, "to": domain.StatusCalledOff, "reason": "401 Unauthorized", "consecutive_failures": 5,
		}}
	if err := oasCheck(t, "IntegrationStatusChangedEvent", ev); err != nil {
		t.Errorf("status_changed event does not fit: %v", err)
	}
	ev.Data.(map[string]any)["to"] = domain.Status("paused")
	if err := oasCheck(t, "IntegrationStatusChangedEvent", ev); err == nil {
		t.Errorf("an unknown status fits the event schema")
	}

	// document.updated as ordersync publishes it: the document as the API shows it.
	doc := oasDocument(time.Date(2026, 3, 2, 10, 15, 30, 0, time.UTC))
	doc.Status, doc.Version = "paid", 4
	ev = outbox.Event{ID: "msg_01jf8s1d2e3f4g5h6j7k", Type: domain.EventDocumentUpdated, CreatedAt: time.Now(),
		AccountID: doc.AccountID, Data: ordersync.DocumentJSONOf(doc)}
	if err := oasCheck(t, "DocumentUpdatedEvent", ev); err != nil {
		t.Errorf("document.updated event does not fit: %v", err)
	}
	ev.Type = domain.EventIntegrationStatusChanged
	if err := oasCheck(t, "DocumentUpdatedEvent", ev); err == nil {
		t.Errorf("a document.updated body with another type fits")
	}
	ev.Type, ev.Data = domain.EventDocumentUpdated, doc // the engine's struct, not the API's shape
	if err := oasCheck(t, "DocumentUpdatedEvent", ev); err == nil {
		t.Errorf("a domain.Document fits DocumentUpdatedEvent's data, but it is not what the API shows")
	}

	// Every event the outbox sends is documented under webhooks, with the Standard Webhooks
	// headers, and nothing else is.
	hooks := oasDoc(t).Webhooks
	for _, typ := range outbox.EventTypes {
		if hooks[typ] == nil || hooks[typ].Post == nil {
			t.Errorf("webhooks lacks POST %s", typ)
		}
	}
	for typ, item := range hooks {
		if !slices.Contains(outbox.EventTypes, typ) {
			t.Errorf("webhooks documents %s, which outbox.EventTypes does not have", typ)
		}
		op := item.Post
		if op == nil {
			continue
		}
		for _, h := range []string{notify.HeaderWebhookID, notify.HeaderWebhookTimestamp, notify.HeaderWebhookSignature} {
			if p := op.Parameters.GetByInAndName("header", h); p == nil || !p.Required {
				t.Errorf("webhook %s does not document the required header %s", typ, h)
			}
		}
	}
}

func oasAPI() *API {
	return &API{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// TestOpenAPIErrorBodies runs writeError (and decode) as the handlers do and validates what
// they write against the Error schema, for every code.
func TestOpenAPIErrorBodies(t *testing.T) {
	a := oasAPI()
	req := httptest.NewRequest("GET", "/api/v1/integrations", nil)
	errs := map[string]error{
		"plain error":     errors.New("no such column: x"),
		"wrapped invalid": fmtWrap(domain.Invalid("credentials.api_key", "API key is required")),
		"inactive_exists": &domain.Error{Code: domain.CodeInactiveExists, Message: "an inactive Sandbox POS integration exists",
			Details: map[string]any{"inactive_ids": []string{"int_a", "int_b"}}},
		"nickname_required": &domain.Error{Code: domain.CodeNicknameRequired, Field: "nickname", Message: "give this one a nickname"},
	}
	for _, code := range oasCodes {
		errs[string(code)] = domain.Errorf(code, "something about %s", code)
	}
	// What decode answers for bad bodies.
	type body struct {
		Type string `json:"type"`
	}
	for name, raw := range map[string]string{
		"malformed": `{"type":`, "empty": ``, "two values": `{} {}`, "array": `[1]`,
		"unknown field": `{"typo":1}`, "wrong type": `{"type":7}`, "too large": `{"type":"` + strings.Repeat("x", MaxBody) + `"}`,
	} {
		r := httptest.NewRequest("POST", "/api/v1/integrations", strings.NewReader(raw))
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, MaxBody)
		var b body
		err := decode(r, &b)
		if err == nil {
			t.Fatalf("decode accepted %s body", name)
		}
		errs["decode "+name] = err
	}
	for name, err := range errs {
		rec := httptest.NewRecorder()
		a.writeError(rec, req, err)
		want := StatusOf(domain.ErrorCode(err))
		if rec.Code != want {
			t.Errorf("%s: status %d, want %d", name, rec.Code, want)
		}
		if err := oasCheckJSON(t, "Error", rec.Body.Bytes()); err != nil {
			t.Errorf("%s: body %s does not fit Error: %v", name, rec.Body.Bytes(), err)
		}
	}
	rec := httptest.NewRecorder()
	a.writeError(rec, req, &domain.Error{Code: domain.CodeConflict, Message: "x", Details: map[string]any{"retry_in": 3}})
	if oasCheckJSON(t, "Error", rec.Body.Bytes()) == nil {
		t.Errorf("an undocumented detail key fits Error, but should not")
	}
}

func fmtWrap(err error) error { return fmt.Errorf("add integration: %w", err) }

// TestOpenAPIServedAndOverHTTP starts the real mux: the document is served as embedded, and
// the answers that need no account (no key, no route) fit the documented Error schema.
func TestOpenAPIServedAndOverHTTP(t *testing.T) {
	mux := http.NewServeMux()
	oasAPI().Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := &http.Client{Timeout: 5 * time.Second}

	get := func(path, auth string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("read GET %s: %v", path, err)
		}
		return resp, b
	}

	resp, b := get("/api/v1/openapi.json", "")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("GET /api/v1/openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if string(b) != string(OpenAPI()) {
		t.Errorf("GET /api/v1/openapi.json does not serve the embedded document")
	}

	for _, c := range []struct{ path, auth string }{
		{"/api/v1/integrations", ""},
		{"/api/v1/timeline", "Basic dXNlcjpwYXNz"},
		{"/api/v1/providers", "Bearer "},
	} {
		resp, b := get(c.path, c.auth)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s with %q: %d, want 401", c.path, c.auth, resp.StatusCode)
		}
		if err := oasCheckJSON(t, "Error", b); err != nil {
			t.Errorf("GET %s 401 body %s does not fit Error: %v", c.path, b, err)
		}
	}
	resp, b = get("/api/v1/no-such-thing", "")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown route: %d, want 404", resp.StatusCode)
	}
	if err := oasCheckJSON(t, "Error", b); err != nil {
		t.Errorf("unknown route body %s does not fit Error: %v", b, err)
	}
}

// oasDocument is a full document as the engine keeps it.
func oasDocument(created time.Time) domain.Document {
	synced := created.Add(2 * time.Second)
	return domain.Document{AccountID: "acc_01jf8q0a1bc2d3e4f5g6", Kind: domain.KindInvoice, Ref: "INV-1042",
		DocContent: domain.DocContent{Status: "issued",
			Customer: &domain.DocCustomer{Ref: "C-77", Name: "Ada Lovelace", Email: "ada@example.com"},
			Lines: []domain.DocLine{
				{ProductRef: "SKU-TUBE-700", Description: "Inner tube 700x25", Quantity: "2", UnitPrice: domain.Money{Amount: 899, Currency: "EUR"}, TaxRate: "21"},
				{Description: "Return: old tube", Quantity: "-1", UnitPrice: domain.Money{Amount: -150, Currency: "EUR"}},
			},
			Links: []domain.DocLink{{Kind: domain.KindJob, Ref: "JOB-311"}}},
		Version: 3, Hash: "abc", CreatedAt: created, UpdatedAt: synced,
		Sync: domain.DocSync{Status: domain.SyncSynced, IntegrationID: "int_01jf8q2m4na7k3x9vbcd", ExternalID: "ord_1",
			ExternalURL: "http://127.0.0.1:8080/sandbox/orders/ord_1", AutoSync: true, LastSyncedAt: &synced, SyncedVersion: 3, Generation: 1, Action: "resync"}}
}

// TestOpenAPIOrderSyncShapes validates what the order sync routes encode (built the way the
// handlers build it) against the schemas, and makes sure the schemas refuse what they forbid.
func TestOpenAPIOrderSyncShapes(t *testing.T) {
	created := time.Date(2026, 3, 2, 10, 15, 30, 123456789, time.UTC)
	full := ordersync.DocumentJSONOf(oasDocument(created))
	// A document the app sent with nothing but a status: no customer, nil lines and links.
	bare := ordersync.DocumentJSONOf(domain.Document{Kind: domain.KindJob, Ref: "JOB-1", DocContent: domain.DocContent{Status: "open"},
		Version: 1, CreatedAt: created, UpdatedAt: created, Sync: domain.DocSync{Status: domain.SyncNotSent, AutoSync: true}})
	failed := full
	failed.Sync.Status, failed.Sync.LastError = domain.SyncFailed, "Product SKU-TUBE-700 was deleted in the POS"
	processed := created.Add(time.Minute)
	evReceived := store.WebhookEvent{ID: "whev_1", AccountID: "acc_1", IntegrationID: "int_1", ProviderEventID: "evt_1", Type: domain.ProviderOrderUpdated,
		Topic: "order.completed", ObjectID: "ord_1", Status: "received", Payload: `{"id":"ord_1"}`, ReceivedAt: created}
	evProcessed := evReceived
	evProcessed.Status, evProcessed.Reason, evProcessed.ProcessedAt = "processed", "order completed: invoice INV-1042 set to paid", &processed
	hist := []HistoryEntryJSON{
		HistoryEntryJSONOf(store.HistoryEntry{ID: 2, At: processed, Action: "update", Outcome: "ok", Summary: "Updated order ord_1: 2 line(s), total EUR 16.48"}),
		HistoryEntryJSONOf(store.HistoryEntry{ID: 1, At: created, Action: "push", Outcome: "failed", Summary: "Sync failed; retrying automatically", Error: "create order: 503"}),
	}
	settings := domain.DefaultOrderSyncSettings()
	on := settings
	on.IntegrationID, on.AutoSync, on.SyncOnBooking, on.OnCancel = "int_1", true, "accepted", "archive"
	yes := true
	since := retention.Policy{Now: func() time.Time { return created }}.RetainedSince(store.SyncHistoryTable)

	type sample struct {
		name, schema string
		value        any
		ok           bool
	}
	samples := []sample{
		{"full document", "Document", full, true},
		{"bare document", "Document", bare, true},
		{"failed document", "Document", failed, true},
		{"document list", "DocumentList", map[string]any{"data": []ordersync.DocumentJSON{full, bare}}, true},
		{"empty document list", "DocumentList", map[string]any{"data": []ordersync.DocumentJSON{}}, true},
		{"sync history", "SyncHistory", map[string]any{"data": hist, "retained_since": since}, true},
		{"empty sync history", "SyncHistory", map[string]any{"data": []HistoryEntryJSON{}, "retained_since": since}, true},
		{"sync history without retained_since", "SyncHistory", map[string]any{"data": hist}, false},
		{"default settings", "OrderSyncSettings", settings, true},
		{"settings turned on", "OrderSyncSettings", on, true},
		{"settings as a full update", "OrderSyncSettingsUpdate", on, true},
		{"settings update of one field", "OrderSyncSettingsUpdate", map[string]any{"on_cancel": "delete"}, true},
		{"empty settings update", "OrderSyncSettingsUpdate", map[string]any{}, true},
		{"webhook events", "WebhookEventList", map[string]any{"data": []WebhookEventJSON{WebhookEventJSONOf(evProcessed), WebhookEventJSONOf(evReceived)},
			"ignored": []IgnoredEventsJSON{{Topic: "product.created", Count: 3, LastAt: processed}}, "retained_since": since}, true},
		{"webhook events, none ignored", "WebhookEventList", map[string]any{"data": []WebhookEventJSON{}, "ignored": []IgnoredEventsJSON{}, "retained_since": since}, true},
		{"webhook events without retained_since", "WebhookEventList", map[string]any{"data": []WebhookEventJSON{WebhookEventJSONOf(evProcessed)}, "ignored": []IgnoredEventsJSON{}}, false},
		{"webhook events without ignored", "WebhookEventList", map[string]any{"data": []WebhookEventJSON{WebhookEventJSONOf(evProcessed)}, "retained_since": since}, false},
		{"hook receipt", "HookReceipt", map[string]int{"received": 1, "duplicates": 4}, true},
		{"document request", "DocumentRequest", DocumentRequest{Status: "issued", Customer: full.Customer, Lines: full.Lines, Links: full.Links, SyncToPOS: &yes}, true},
		{"document request with nulls", "DocumentRequest", DocumentRequest{Status: "open"}, true},
		{"auto-sync toggle", "SetAutoSyncRequest", map[string]bool{"auto_sync": false}, true},
		{"send as new", "SendAsNewRequest", map[string]bool{"void_existing": true}, true},

		// The validator must refuse what the document forbids, or the cases above prove nothing.
		{"document with an unknown sync status", "Document", oasWith(t, full, "sync", oasWith(t, full.Sync, "status", "done")), false},
		{"document with a status of no kind", "Document", oasWith(t, full, "status", "quote"), false},
		{"document with null lines", "Document", oasWith(t, full, "lines", []any(nil)), false},
		{"document with the engine's hash", "Document", oasWith(t, full, "hash", "abc"), false},
		{"document without sync", "Document", oasWith(t, full, "sync", nil), false},
		{"document with a numeric quantity", "Document", oasWith(t, full, "lines", []map[string]any{{"description": "x", "quantity": 1, "unit_price": map[string]any{"amount": 1, "currency": "EUR"}}}), false},
		{"document with a float amount", "Document", oasWith(t, full, "lines", []map[string]any{{"description": "x", "quantity": "1", "unit_price": map[string]any{"amount": 8.99, "currency": "EUR"}}}), false},
		{"document with a lower-case currency", "Document", oasWith(t, full, "lines", []map[string]any{{"description": "x", "quantity": "1", "unit_price": map[string]any{"amount": 1, "currency": "eur"}}}), false},
		{"document with a link of no kind", "Document", oasWith(t, full, "links", []map[string]string{{"kind": "quote", "ref": "Q-1"}}), false},
		{"sync with a numeric last_synced_at", "DocumentSync", oasWith(t, full.Sync, "last_synced_at", 1700000000), false},
		{"settings without on_cancel", "OrderSyncSettings", oasWith(t, settings, "on_cancel", nil), false},
		{"settings with on_cancel refund", "OrderSyncSettings", oasWith(t, settings, "on_cancel", "refund"), false},
		{"settings update with a typo", "OrderSyncSettingsUpdate", map[string]any{"autosync": true}, false},
		{"settings update with sync_on_booking yes", "OrderSyncSettingsUpdate", map[string]any{"sync_on_booking": "yes"}, false},
		{"webhook event with its payload", "WebhookEvent", oasWith(t, evReceived, "payload", `{}`), false},
		{"webhook event with an unknown status", "WebhookEvent", oasWith(t, evReceived, "status", "queued"), false},
		{"webhook event without processed_at", "WebhookEvent", oasWith(t, evReceived, "processed_at", nil), false},
		{"history entry without error", "SyncHistoryEntry", oasWith(t, hist[0], "error", nil), false},
		{"hook receipt with a negative count", "HookReceipt", map[string]int{"received": -1, "duplicates": 0}, false},
		{"document request without status", "DocumentRequest", map[string]any{"lines": []any{}}, false},
		{"document request with a typo", "DocumentRequest", map[string]any{"status": "open", "sync_to_POS": true}, false},
		{"document request with 501 lines", "DocumentRequest", map[string]any{"status": "open", "lines": slices.Repeat([]domain.DocLine{full.Lines[0]}, 501)}, false},
		{"document request with a bad ref", "DocumentRequest", map[string]any{"status": "open", "links": []map[string]string{{"kind": "job", "ref": "-x"}}}, false},
		{"auto-sync toggle left out", "SetAutoSyncRequest", map[string]any{}, false},
		{"auto-sync toggle as text", "SetAutoSyncRequest", map[string]any{"auto_sync": "false"}, false},
		{"send as new without the answer", "SendAsNewRequest", map[string]any{}, false},
		{"send as new with null", "SendAsNewRequest", map[string]any{"void_existing": nil}, false},
	}
	for _, st := range oasSyncStatuses {
		d := full
		d.Sync.Status = st
		samples = append(samples, sample{"document " + string(st), "Document", d, true})
	}
	for _, k := range oasDocKinds {
		for _, st := range k.Statuses() {
			d := bare
			d.Kind, d.Status = k, st
			samples = append(samples, sample{string(k) + " " + st, "Document", d, true})
		}
	}
	for _, s := range samples {
		err := oasCheck(t, s.schema, s.value)
		if s.ok && err != nil {
			t.Errorf("%s does not fit %s: %v", s.name, s.schema, err)
		}
		if !s.ok && err == nil {
			t.Errorf("%s fits %s, but should not", s.name, s.schema)
		}
	}
}

// TestOpenAPIRequestExamplesDecode sends every example request body of the order sync routes
// through decode into the handler's own type, with the domain's validation where the handler
// has one: what the document shows must be accepted.
func TestOpenAPIRequestExamplesDecode(t *testing.T) {
	doc := oasDoc(t)
	for _, c := range []struct {
		method, path string
		target       func() any
		validate     func(v any) error
	}{
		{"PUT", "/api/v1/documents/{kind}/{ref}", func() any { return &DocumentRequest{} }, func(v any) error {
			in := v.(*DocumentRequest)
			c := domain.DocContent{Status: in.Status, Customer: in.Customer, Lines: in.Lines, Links: in.Links}
			return c.Validate(domain.KindInvoice)
		}},
		{"PATCH", "/api/v1/documents/{kind}/{ref}/sync", func() any {
			return &struct {
				AutoSync *bool `json:"auto_sync"`
			}{}
		}, nil},
		{"POST", "/api/v1/documents/{kind}/{ref}/sync/send-as-new", func() any {
			return &struct {
				VoidExisting *bool `json:"void_existing"`
			}{}
		}, nil},
		{"PUT", "/api/v1/order-sync", func() any { s := domain.DefaultOrderSyncSettings(); return &s }, func(v any) error {
			return v.(*domain.OrderSyncSettings).Validate()
		}},
	} {
		op := doc.Paths.Find(c.path).GetOperation(c.method)
		if op == nil || op.RequestBody == nil {
			t.Errorf("%s %s has no documented request body", c.method, c.path)
			continue
		}
		mt := op.RequestBody.Value.Content.Get("application/json")
		var examples []any
		if mt.Example != nil {
			examples = append(examples, mt.Example)
		}
		for _, ex := range mt.Examples {
			examples = append(examples, ex.Value.Value)
		}
		if len(examples) == 0 {
			t.Errorf("%s %s shows no example body", c.method, c.path)
		}
		for _, ex := range examples {
			b, err := json.Marshal(ex)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(c.method, c.path, strings.NewReader(string(b)))
			v := c.target()
			if err := decode(r, v); err != nil {
				t.Errorf("%s %s: the example %s is refused: %v", c.method, c.path, b, err)
				continue
			}
			if c.validate != nil {
				if err := c.validate(v); err != nil {
					t.Errorf("%s %s: the example %s fails validation: %v", c.method, c.path, b, err)
				}
			}
		}
	}
}

// TestOpenAPIHookRoute checks the inbound webhook route: no API key, every answer documented
// with the Error schema, and the signature header of every provider that sends webhooks.
func TestOpenAPIHookRoute(t *testing.T) {
	if !slices.ContainsFunc(Routes, func(r Route) bool {
		return r.Method == "POST" && r.Path == "/hooks/{integration_id}" && r.Auth == AuthProviderSignature
	}) {
		t.Error("Routes lacks POST /hooks/{integration_id} with AuthProviderSignature")
	}
	op := oasDoc(t).Paths.Find("/hooks/{integration_id}").GetOperation("POST")
	if op == nil {
		t.Fatal("POST /hooks/{integration_id} is not documented")
	}
	if op.Security == nil || len(*op.Security) != 0 {
		t.Errorf("POST /hooks/{integration_id} must say security: [] (the POS signs; it has no API key)")
	}
	if op.RequestBody == nil || !op.RequestBody.Value.Required {
		t.Errorf("POST /hooks/{integration_id} must document its required body")
	}
	for _, code := range []string{"200", "401", "404", "413", "422", "500"} {
		resp := op.Responses.Value(code)
		if resp == nil {
			t.Errorf("POST /hooks/{integration_id} does not document its %s answer", code)
			continue
		}
		want := "#/components/schemas/Error"
		if code == "200" {
			want = "#/components/schemas/HookReceipt"
		}
		if mt := resp.Value.Content.Get("application/json"); mt == nil || mt.Schema == nil || mt.Schema.Ref != want {
			t.Errorf("POST /hooks/{integration_id} answer %s must be application/json with %s", code, want)
		}
	}
	for _, h := range []string{sandbox.SignatureHeader, square.SignatureHeader, woocommerce.HeaderSignature, shopify.HeaderHmac, lightspeed.DefaultSignatureHeader} {
		if p := op.Parameters.GetByInAndName("header", h); p == nil {
			t.Errorf("POST /hooks/{integration_id} does not document the signature header %s", h)
		}
	}
}

// oasLive is the real stack (store, River, lifecycle, outbox, order sync, this API and the
// Sandbox POS) behind one real HTTP server, wired as internal/app wires it, for checking real
// answers against the document. Every answer it gets must be a documented status of the
// operation and fit that answer's schema.
type oasLive struct {
	t    *testing.T
	url  string
	key  string
	sbx  string // a sandbox key minted for the account
	http *http.Client
}

func oasStartLive(t *testing.T, db testdb.Target) *oasLive {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := jobs.OpenStore(ctx, store.Config{DataDir: db.DataDir, DatabaseURL: db.DatabaseURL})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secrets.NewBox(key)
	if err != nil {
		t.Fatalf("secrets box: %v", err)
	}
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	out := outbox.New(st, box, outbox.Config{Logger: log, AllowPrivate: true})
	lc := lifecycle.New(st, box, out, lifecycle.Config{Providers: registry.All(), SelfURL: base, AllowPrivate: true, Logger: log})
	sy := ordersync.New(st, lc.Opener(), out, log)
	workers := river.NewWorkers()
	lc.Register(workers)
	out.Register(workers)
	sy.Register(workers)
	q, err := jobs.New(st, jobs.Config{RunWorkers: true, Logger: log, FetchPollInterval: 20 * time.Millisecond}, workers)
	if err != nil {
		t.Fatalf("jobs: %v", err)
	}
	lc.SetQueue(q)
	out.SetQueue(q)
	sy.SetQueue(q)
	mux := http.NewServeMux()
	New(st, lc, out, sy, log).Register(mux)
	tenants := sandbox.NewMemoryTenants()
	sbx := sandbox.NewServer(sandbox.Options{Logger: log, Tenants: tenants, HTTPClient: &http.Client{Timeout: 10 * time.Second}})
	mux.Handle("/sandbox/", sbx)
	srv.Config.Handler = mux
	srv.Start()
	if err := q.Start(ctx); err != nil {
		t.Fatalf("start workers: %v", err)
	}
	t.Cleanup(func() {
		sbx.Close()
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Logf("stop workers: %v", err)
		}
	})
	acct, err := accounts.Create(ctx, st, "Spoke & Chain", "owner@spoke.test")
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	sbxKey, err := tenants.Mint(ctx, acct.AccountID)
	if err != nil {
		t.Fatalf("mint a sandbox: %v", err)
	}
	return &oasLive{t: t, url: base, key: acct.APIKey, sbx: sbxKey, http: &http.Client{Timeout: 10 * time.Second}}
}

// raw sends a request and answers the status, the body and the headers.
func (l *oasLive) raw(method, path string, header http.Header, body string) (int, []byte) {
	l.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, l.url+path, rd)
	if err != nil {
		l.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := l.http.Do(req)
	if err != nil {
		l.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		l.t.Fatalf("read %s %s: %v", method, path, err)
	}
	return resp.StatusCode, b
}

// call sends body (JSON-encoded unless a string) to path with the API key (unless noKey),
// wants status, and checks the answer against the documented operation of route.
func (l *oasLive) call(method, route, path string, body any, status int, noKey ...bool) map[string]any {
	l.t.Helper()
	s, ok := body.(string)
	if !ok && body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			l.t.Fatal(err)
		}
		s = string(b)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if len(noKey) == 0 {
		h.Set("Authorization", "Bearer "+l.key)
	}
	code, b := l.raw(method, path, h, s)
	if code != status {
		l.t.Fatalf("%s %s: HTTP %d, want %d: %s", method, path, code, status, b)
	}
	oasCheckAnswer(l.t, method, route, code, b)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		l.t.Fatalf("%s %s: the answer is not a JSON object: %s", method, path, b)
	}
	return m
}

// oasCheckAnswer checks that the operation documents the status and that body fits its schema.
func oasCheckAnswer(t *testing.T, method, route string, code int, body []byte) {
	t.Helper()
	item := oasDoc(t).Paths.Find(route)
	if item == nil || item.GetOperation(method) == nil {
		t.Fatalf("%s %s is not documented", method, route)
	}
	resp := item.GetOperation(method).Responses.Status(code)
	if resp == nil {
		t.Errorf("%s %s answered %d, which the document does not list: %s", method, route, code, body)
		return
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		t.Errorf("%s %s %d has no JSON schema", method, route, code)
		return
	}
	var x any
	if err := json.Unmarshal(body, &x); err != nil {
		t.Errorf("%s %s %d: not JSON: %s", method, route, code, body)
		return
	}
	if err := mt.Schema.Value.VisitJSON(x, openapi3.EnableJSONSchema2020(), openapi3.EnableFormatValidation()); err != nil {
		t.Errorf("%s %s %d: %s does not fit the document: %v", method, route, code, body, oasFirstLine(err))
	}
}

// poll calls GET path until ok holds, checking every answer, or fails after a deadline.
func (l *oasLive) poll(route, path, what string, ok func(map[string]any) bool) map[string]any {
	l.t.Helper()
	deadline := time.Now().Add(2 * time.Minute) // generous: a busy machine; the wait ends when it holds
	var last map[string]any
	for time.Now().Before(deadline) {
		if last = l.call("GET", route, path, nil, 200); ok(last) {
			return last
		}
		time.Sleep(20 * time.Millisecond)
	}
	l.t.Fatalf("timed out waiting for %s; last answer %v", what, last)
	return nil
}

// sandbox calls an admin route of the Sandbox POS (not part of the document) and wants 200.
func (l *oasLive) sandbox(method, path string, body any) {
	l.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		l.t.Fatal(err)
	}
	if body == nil {
		b = nil
	}
	if code, out := l.raw(method, path, http.Header{"Content-Type": {"application/json"}}, string(b)); code != http.StatusOK {
		l.t.Fatalf("%s %s: HTTP %d: %s", method, path, code, out)
	}
}

func oasSyncStatus(status string) func(map[string]any) bool {
	return func(m map[string]any) bool { s, _ := m["sync"].(map[string]any); return s["status"] == status }
}

// TestOpenAPILiveOrderSync drives every order sync route, the inbound webhook and the
// document.updated event through the real stack over HTTP, on SQLite and PostgreSQL, and checks
// each answer (success and failure) against the document.
func TestOpenAPILiveOrderSync(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		l := oasStartLive(t, db)
		const (
			doc      = "/api/v1/documents/{kind}/{ref}"
			settings = "/api/v1/order-sync"
			events   = "/api/v1/integrations/{id}/webhook-events"
			hook     = "/hooks/{integration_id}"
		)

		// The app's endpoint for document.updated.
		var mu sync.Mutex
		var delivered []oasDelivery
		app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			delivered = append(delivered, oasDelivery{header: r.Header.Clone(), body: b})
			mu.Unlock()
		}))
		defer app.Close()
		l.call("POST", "/api/v1/webhook-endpoints", "/api/v1/webhook-endpoints",
			map[string]any{"url": app.URL + "/posbridge", "events": []string{domain.EventDocumentUpdated}}, 201)

		// Settings: defaults, a Sandbox POS chosen, and refusals.
		l.call("GET", settings, settings, nil, 401, true)
		if got := l.call("GET", settings, settings, nil, 200); got["auto_sync"] != false || got["on_cancel"] != "void" {
			t.Errorf("default settings %v", got)
		}
		sbx := l.sbx
		in := l.call("POST", "/api/v1/integrations", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": sbx}}, 201)
		id, _ := in["id"].(string)
		l.poll("/api/v1/integrations/{id}", "/api/v1/integrations/"+id, "a healthy integration", func(m map[string]any) bool { return m["status"] == "healthy" })
		l.call("PUT", settings, settings, map[string]any{"auto_sync": true}, 422)
		l.call("PUT", settings, settings, map[string]any{"integration_id": "int_nope"}, 422)
		l.call("PUT", settings, settings, map[string]any{"on_cancel": "refund"}, 422)
		l.call("PUT", settings, settings, map[string]any{"auto_sync": "yes"}, 422)
		l.call("PUT", settings, settings, `{"auto_sync":`, 400)
		l.call("PUT", settings, settings, map[string]any{"integration_id": id, "auto_sync": true}, 200)

		// Documents: create, the same again, refusals.
		job := map[string]any{"status": "open", "lines": []map[string]any{{"description": "Service", "quantity": "1", "unit_price": map[string]any{"amount": 4500, "currency": "EUR"}}},
			"links": []map[string]string{{"kind": "invoice", "ref": "INV-1042"}}}
		inv := map[string]any{"status": "issued", "customer": map[string]any{"name": "Ada", "email": "ada@example.com"},
			"lines": []map[string]any{{"product_ref": "p1", "description": "Inner tube", "quantity": "2", "unit_price": map[string]any{"amount": 899, "currency": "EUR"}, "tax_rate": "21"}}}
		l.call("PUT", doc, "/api/v1/documents/job/JOB-311", job, 201)
		l.call("PUT", doc, "/api/v1/documents/invoice/INV-1042", inv, 201)
		l.call("PUT", doc, "/api/v1/documents/invoice/INV-1042", inv, 200)
		l.call("PUT", doc, "/api/v1/documents/quote/Q-1", inv, 422)
		l.call("PUT", doc, "/api/v1/documents/invoice/INV-2", map[string]any{"status": "issued", "lines": []map[string]any{{"description": "x", "quantity": "1,5", "unit_price": map[string]any{"amount": 1, "currency": "EUR"}}}}, 422)
		l.call("PUT", doc, "/api/v1/documents/invoice/INV-2", map[string]any{"status": "open"}, 422)
		l.call("PUT", doc, "/api/v1/documents/invoice/INV-2", map[string]any{"status": "issued", "sync": true}, 422)
		l.call("PUT", doc, "/api/v1/documents/invoice/INV-2", "", 400)
		l.call("GET", doc, "/api/v1/documents/invoice/INV-2", nil, 404)
		l.call("GET", doc, "/api/v1/documents/invoice/-bad", nil, 422)
		d := l.poll(doc, "/api/v1/documents/invoice/INV-1042", "INV-1042 synced", oasSyncStatus("synced"))
		l.poll(doc, "/api/v1/documents/job/JOB-311", "JOB-311 synced", oasSyncStatus("synced"))
		l.call("GET", "/api/v1/documents/{kind}", "/api/v1/documents/invoice?limit=10", nil, 200)
		l.call("GET", "/api/v1/documents/{kind}", "/api/v1/documents/invoice?limit=0", nil, 422)
		l.call("GET", "/api/v1/documents/{kind}", "/api/v1/documents/quote", nil, 422)

		// The sync dialog: toggle, re-sync, send as new, retry.
		l.call("PATCH", doc+"/sync", "/api/v1/documents/invoice/INV-1042/sync", map[string]any{"auto_sync": false}, 200)
		l.call("PATCH", doc+"/sync", "/api/v1/documents/invoice/INV-1042/sync", map[string]any{}, 422)
		l.call("PATCH", doc+"/sync", "/api/v1/documents/invoice/INV-1042/sync", map[string]any{"auto_sync": true}, 200)
		l.call("PATCH", doc+"/sync", "/api/v1/documents/invoice/NOPE/sync", map[string]any{"auto_sync": true}, 404)
		l.call("POST", doc+"/sync/retry", "/api/v1/documents/invoice/INV-1042/sync/retry", nil, 409)
		l.call("POST", doc+"/sync/resync", "/api/v1/documents/invoice/INV-1042/sync/resync", nil, 202)
		l.call("POST", doc+"/sync/resync", "/api/v1/documents/invoice/NOPE/sync/resync", nil, 404)
		l.poll(doc, "/api/v1/documents/invoice/INV-1042", "INV-1042 synced after re-sync", oasSyncStatus("synced"))
		l.call("POST", doc+"/sync/send-as-new", "/api/v1/documents/invoice/INV-1042/sync/send-as-new", map[string]any{}, 422)
		l.call("POST", doc+"/sync/send-as-new", "/api/v1/documents/invoice/INV-1042/sync/send-as-new", `{"void_existing":true} {}`, 400)
		l.call("POST", doc+"/sync/send-as-new", "/api/v1/documents/invoice/INV-1042/sync/send-as-new", map[string]any{"void_existing": true}, 202)
		d = l.poll(doc, "/api/v1/documents/invoice/INV-1042", "INV-1042 synced as a new order", func(m map[string]any) bool {
			s, _ := m["sync"].(map[string]any)
			return s["status"] == "synced" && s["external_id"] != d["sync"].(map[string]any)["external_id"]
		})
		l.sandbox("POST", "/sandbox/admin/faults", map[string]any{"api_key": sbx, "fail_next": 1, "status": 401}) // refused credentials: fails at once
		l.call("PUT", doc, "/api/v1/documents/invoice/INV-9", inv, 201)
		l.poll(doc, "/api/v1/documents/invoice/INV-9", "INV-9 failed", oasSyncStatus("failed"))
		l.raw("DELETE", "/sandbox/admin/faults?api_key="+sbx, nil, "")
		l.call("POST", doc+"/sync/retry", "/api/v1/documents/invoice/INV-9/sync/retry", nil, 202)
		l.poll(doc, "/api/v1/documents/invoice/INV-9", "INV-9 synced after retry", oasSyncStatus("synced"))
		h := l.call("GET", doc+"/sync-history", "/api/v1/documents/invoice/INV-9/sync-history", nil, 200)
		if rows, _ := h["data"].([]any); len(rows) < 3 {
			t.Errorf("INV-9 history has %d entries, want the failure, the retry and the create", len(rows))
		}
		l.call("GET", doc+"/sync-history", "/api/v1/documents/invoice/NOPE/sync-history", nil, 404)

		// The POS completes the order: its webhook comes in, is listed, and the invoice is paid.
		order := d["sync"].(map[string]any)["external_id"].(string)
		l.sandbox("POST", "/sandbox/admin/orders/"+order+"/complete?api_key="+sbx, nil)
		l.poll(events, "/api/v1/integrations/"+id+"/webhook-events", "the order.completed event processed", func(m map[string]any) bool {
			rows, _ := m["data"].([]any)
			for _, r := range rows {
				if e, _ := r.(map[string]any); e["object_id"] == order && e["status"] != "received" {
					return true
				}
			}
			return false
		})
		l.poll(doc, "/api/v1/documents/invoice/INV-1042", "INV-1042 paid", func(m map[string]any) bool { return m["status"] == "paid" })
		l.call("GET", events, "/api/v1/integrations/"+id+"/webhook-events?limit=501", nil, 422)
		l.call("GET", events, "/api/v1/integrations/int_nope/webhook-events", nil, 404)
		l.call("POST", hook, "/hooks/"+id, `{"id":"evt_forged","type":"order.completed","data":{"object":{"id":"`+order+`"}}}`, 401, true)
		l.call("POST", hook, "/hooks/int_nope", `{}`, 404, true)

		// document.updated reached the app's endpoint, in the documented shape.
		deadline := time.Now().Add(2 * time.Minute) // generous: a busy machine; the wait ends when it holds
		var got []oasDelivery
		for time.Now().Before(deadline) {
			mu.Lock()
			got = slices.Clone(delivered)
			mu.Unlock()
			if len(got) > 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(got) == 0 {
			t.Fatal("no document.updated delivery reached the app's endpoint")
		}
		for _, dl := range got {
			if err := oasCheckJSON(t, "DocumentUpdatedEvent", dl.body); err != nil {
				t.Errorf("delivery %s does not fit DocumentUpdatedEvent: %v", dl.body, err)
			}
			for _, h := range []string{notify.HeaderWebhookID, notify.HeaderWebhookTimestamp, notify.HeaderWebhookSignature} {
				if dl.header.Get(h) == "" {
					t.Errorf("delivery lacks the documented header %s", h)
				}
			}
		}
	})
}

type oasDelivery struct {
	header http.Header
	body   []byte
}
