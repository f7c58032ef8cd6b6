package api

// The OpenAPI document (openapi.json) is written by hand; these tests keep it true to the code:
// it is OpenAPI 3.1.0 and valid (examples included), it lists exactly the routes of Routes,
// every $ref resolves and every component is used, its enums are the domain's constants, and
// what the handlers encode validates against its schemas (additionalProperties false, so a
// field added in Go but not in the document fails here).

import (
	"context"
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

	"github.com/posbridge/posbridge/internal/connector/registry"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/notify"
	"github.com/posbridge/posbridge/internal/outbox"
)

// oasExtraPaths are served by internal/app (or by Register outside Routes) and documented too.
var oasExtraPaths = []string{"GET /healthz", "GET /metrics", "GET /api/v1/openapi.json"}

// oasCodes is every domain.Code; the document's ErrorCode enum must list exactly these.
var oasCodes = []domain.Code{
	domain.CodeBadRequest, domain.CodeInvalid, domain.CodeUnauthorized, domain.CodeForbidden,
	domain.CodeNotFound, domain.CodeConflict, domain.CodeTooLarge, domain.CodeInactiveExists,
	domain.CodeNicknameRequired, domain.CodeCalledOff, domain.CodeInactive, domain.CodeUnsupported,
	domain.CodeInternal,
}

var oasStatuses = []domain.Status{
	domain.StatusInitializing, domain.StatusHealthy, domain.StatusFailed, domain.StatusCalledOff, domain.StatusInactive,
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
	for _, rt := range Routes {
		k := rt.Method + " " + rt.Path
		if inRoutes[k] {
			t.Errorf("Routes lists %s twice", k)
		}
		inRoutes[k] = true
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
		if op == nil {
			continue
		}
		// Every route authenticates first and may fail on our side; a body may be bad in three ways.
		want := []string{"401", "500"}
		if op.RequestBody != nil {
			want = append(want, "400", "413", "422")
		}
		if op.Security != nil && len(*op.Security) == 0 {
			t.Errorf("%s is documented without the API key, but every route of Routes needs it", k)
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

func oasEnum(t *testing.T, schema string) []string {
	t.Helper()
	ref := oasDoc(t).Components.Schemas[schema]
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
}

// TestOpenAPIStructFields pins the response structs to their schemas: a field that is always
// encoded is required, an omitempty one is optional, and nothing else is described.
func TestOpenAPIStructFields(t *testing.T) {
	for _, c := range []struct {
		schema string
		typ    reflect.Type
		drop   string // a field the schema leaves out on purpose
	}{
		{"Integration", reflect.TypeFor[IntegrationJSON](), ""},
		{"TimelineEntry", reflect.TypeFor[TimelineJSON](), ""},
		{"NewWebhookEndpoint", reflect.TypeFor[EndpointJSON](), ""},
		{"WebhookEndpoint", reflect.TypeFor[EndpointJSON](), "secret"},
		{"Store", reflect.TypeFor[domain.Store](), ""},
	} {
		s := oasDoc(t).Components.Schemas[c.schema].Value
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
			omitempty := strings.Contains(opts, "omitempty")
			// A secret on creation is always there, though the struct omits it elsewhere.
			if c.schema == "NewWebhookEndpoint" && name == "secret" {
				omitempty = false
			}
			if required == omitempty {
				t.Errorf("%s: %q required=%v, but the Go field has omitempty=%v", c.schema, name, required, omitempty)
			}
		}
		for name := range s.Properties {
			if !seen[name] {
				t.Errorf("%s describes %q, which %s does not have", c.schema, name, c.typ.Name())
			}
		}
	}
}

func TestOpenAPIResponseShapes(t *testing.T) {
	created := time.Date(2026, 3, 2, 10, 15, 30, 123456789, time.UTC)
	later := created.Add(90 * time.Minute).In(time.FixedZone("CET", 3600))
	fresh := IntegrationJSON{ID: "int_01jf8q2m4na7k3x9vbcd", Type: "sandbox", DisplayName: "Sandbox POS",
		Status: string(domain.StatusInitializing), StatusReason: "Verifying credentials", CreatedAt: created}
	full := IntegrationJSON{ID: "int_01jf8q2m4na7k3x9vbce", Type: "woocommerce", DisplayName: "WooCommerce",
		Nickname: "Front counter", Status: string(domain.StatusInactive), StatusReason: "Deactivated",
		ConsecutiveFailures: 3, LastCheckAt: &later, LastSalesCheckAt: &later, LastSaleImportedAt: &created,
		StoreID: "store_1", CreatedAt: created, DeactivatedAt: &later}
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
		{"timeline page", "TimelinePage", map[string]any{"data": []TimelineJSON{entry}, "next_before": int64(42)}, true},
		{"last timeline page", "TimelinePage", map[string]any{"data": []TimelineJSON{}, "next_before": nil}, true},
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
		{"timeline page without next_before", "TimelinePage", map[string]any{"data": []TimelineJSON{}}, false},
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
	out := []map[string]any{}
	for _, p := range registry.All() {
		out = append(out, map[string]any{"type": p.Type, "display_name": p.DisplayName, "setup_url": p.SetupURL,
			"sandbox": p.SelfHosted, "fields": p.Fields, "capabilities": p.Capabilities})
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
	op := oasDoc(t).Webhooks["integration.status_changed"].Post
	for _, h := range []string{notify.HeaderWebhookID, notify.HeaderWebhookTimestamp, notify.HeaderWebhookSignature} {
		if p := op.Parameters.GetByInAndName("header", h); p == nil || !p.Required {
			t.Errorf("webhook does not document the required header %s", h)
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
		"plain error":     errors.New("database is locked"),
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
