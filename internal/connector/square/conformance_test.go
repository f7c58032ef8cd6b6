package square

// Conformance with Square's official OpenAPI description (square/connect-api-specification,
// api.json): every request the client sends to the simulator and every answer the simulator
// gives is validated against the operation's schemas, and so is every webhook body.
//
// The validator here is a small, strict reader of the OpenAPI 3.0 subset that file uses (type,
// properties, required, enum, items, $ref, nullable, readOnly, min/maxLength, minimum/maximum,
// int64). It is stricter than a generic validator in one way on purpose: a property the schema
// does not name is an error, so a misspelt field name cannot pass; it also checks error answers
// (documented categories and codes) and webhook bodies, which kin-openapi does not see.
// conformance_kin_test.go runs the same kind of check through kin-openapi.
//
// The spec is read from $POSBRIDGE_SPECS_DIR or from the nearest shared/specs folder above the
// package; where neither exists (a user's clone) the test skips.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector/contract"
	"github.com/posbridge/posbridge/internal/connector/fidelity"
	"github.com/posbridge/posbridge/internal/domain"
)

const specFile = "square-connect-api.json"

type spec struct {
	paths      map[string]map[string]any // path template -> method -> operation
	schemas    map[string]any
	routes     []route
	errorCodes map[string]bool
	categories map[string]bool
}

type route struct {
	re       *regexp.Regexp
	template string
}

var (
	specOnce   sync.Once
	loadedSpec *spec
	specErr    error
)

func findSpec() string {
	if d := os.Getenv("POSBRIDGE_SPECS_DIR"); d != "" {
		return filepath.Join(d, specFile)
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "shared", "specs", specFile)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func loadSpec(t *testing.T) *spec {
	t.Helper()
	path := findSpec()
	if path == "" {
		t.Skip("Square's OpenAPI file is absent (no shared/specs above the package and no POSBRIDGE_SPECS_DIR): conformance not checked")
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("Square's OpenAPI file %s is absent: conformance not checked", path)
	}
	specOnce.Do(func() {
		b, err := os.ReadFile(path)
		if err != nil {
			specErr = err
			return
		}
		var doc struct {
			Info       map[string]any            `json:"info"`
			Paths      map[string]map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&doc); err != nil {
			specErr = err
			return
		}
		s := &spec{paths: doc.Paths, schemas: doc.Components.Schemas, errorCodes: map[string]bool{}, categories: map[string]bool{}}
		for tpl := range doc.Paths {
			re := regexp.MustCompile("^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(tpl), `[^/]+`) + "$")
			s.routes = append(s.routes, route{re: re, template: tpl})
		}
		// Literal paths before templated ones (/v2/orders/search before /v2/orders/{order_id}).
		sort.Slice(s.routes, func(i, j int) bool {
			return strings.Count(s.routes[i].template, "{") < strings.Count(s.routes[j].template, "{")
		})
		for _, c := range enumOf(s.schemas["ErrorCode"]) {
			s.errorCodes[c] = true
		}
		for _, c := range enumOf(s.schemas["ErrorCategory"]) {
			s.categories[c] = true
		}
		if g, ok := doc.Info["x-square-generic-error-codes"].([]any); ok {
			for _, c := range g {
				s.errorCodes[fmt.Sprint(c)] = true
			}
		}
		// Codes endpoints document in x-endpoint-errors (VERSION_MISMATCH is one) count too.
		for _, ops := range doc.Paths {
			for _, op := range ops {
				if m, ok := op.(map[string]any); ok {
					if errs, ok := m["x-endpoint-errors"].([]any); ok {
						for _, e := range errs {
							if em, ok := e.(map[string]any); ok {
								s.errorCodes[fmt.Sprint(em["error-code"])] = true
							}
						}
					}
				}
			}
		}
		loadedSpec = s
	})
	if specErr != nil {
		t.Fatalf("read %s: %v", path, specErr)
	}
	return loadedSpec
}

func enumOf(v any) []string {
	m, _ := v.(map[string]any)
	var out []string
	if e, ok := m["enum"].([]any); ok {
		for _, x := range e {
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

func (s *spec) operation(method, path string) (map[string]any, string) {
	for _, r := range s.routes {
		if r.re.MatchString(path) {
			if op, ok := s.paths[r.template][strings.ToLower(method)].(map[string]any); ok {
				return op, r.template
			}
			return nil, r.template
		}
	}
	return nil, ""
}

func (s *spec) resolve(schema map[string]any) map[string]any {
	for i := 0; i < 20; i++ {
		ref, ok := schema["$ref"].(string)
		if !ok {
			return schema
		}
		next, ok := s.schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
		if !ok {
			return map[string]any{"x-dangling": ref}
		}
		schema = next
	}
	return schema
}

// validate checks v against schema; request mode also refuses read-only properties.
func (s *spec) validate(v any, schema map[string]any, at string, request bool) []string {
	schema = s.resolve(schema)
	if ref, ok := schema["x-dangling"]; ok {
		return []string{fmt.Sprintf("%s: the spec's $ref %v does not resolve", at, ref)}
	}
	if v == nil {
		if schema["nullable"] == true {
			return nil
		}
		return []string{at + ": null where the spec allows none"}
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	typ, _ := schema["type"].(string)
	if typ == "" && schema["properties"] != nil {
		typ = "object"
	}
	switch typ {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			bad("want an object, got %T", v)
			return errs
		}
		props, _ := schema["properties"].(map[string]any)
		for k, pv := range obj {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if props != nil {
					bad("property %q is not in the schema", k)
				}
				continue
			}
			if request && s.resolveReadOnly(ps) {
				bad("property %q is read-only", k)
			}
			errs = append(errs, s.validate(pv, ps, at+"."+k, request)...)
		}
		if req, ok := schema["required"].([]any); ok {
			for _, r := range req {
				if _, ok := obj[fmt.Sprint(r)]; !ok {
					bad("required property %q is missing", r)
				}
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			bad("want an array, got %T", v)
			return errs
		}
		items, _ := schema["items"].(map[string]any)
		for i, x := range arr {
			errs = append(errs, s.validate(x, items, fmt.Sprintf("%s[%d]", at, i), request)...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			bad("want a string, got %T", v)
			return errs
		}
		if e := enumOf(schema); len(e) > 0 && !contains(e, str) {
			bad("%q is not one of %v", str, e)
		}
		if n, ok := num(schema["maxLength"]); ok && float64(len([]rune(str))) > n {
			bad("%q is longer than %v", str, n)
		}
		if n, ok := num(schema["minLength"]); ok && float64(len([]rune(str))) < n {
			bad("%q is shorter than %v", str, n)
		}
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok {
			bad("want a number, got %T", v)
			return errs
		}
		f, err := n.Float64()
		if err != nil {
			bad("%v is not a number", n)
		}
		if typ == "integer" {
			if _, err := n.Int64(); err != nil {
				bad("%v is not an integer", n)
			}
		}
		if m, ok := num(schema["minimum"]); ok && f < m {
			bad("%v is below %v", n, m)
		}
		if m, ok := num(schema["maximum"]); ok && f > m {
			bad("%v is above %v", n, m)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("want a boolean, got %T", v)
		}
	}
	return errs
}

func (s *spec) resolveReadOnly(ps map[string]any) bool {
	if ps["readOnly"] == true {
		return true
	}
	return false
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func num(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

func (s *spec) schemaOf(op map[string]any, keys ...string) map[string]any {
	var cur any = op
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	m, _ := cur.(map[string]any)
	return m
}

// checkRequest validates one request the client sent.
func (s *spec) checkRequest(r *http.Request, body []byte) []string {
	op, tpl := s.operation(r.Method, r.URL.Path)
	where := r.Method + " " + r.URL.Path
	if op == nil {
		return []string{where + ": no such operation in Square's API (template " + tpl + ")"}
	}
	var errs []string
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		errs = append(errs, where+": no Bearer Authorization")
	}
	if r.Header.Get("Square-Version") != SquareVersion {
		errs = append(errs, where+": Square-Version is "+r.Header.Get("Square-Version"))
	}
	params := map[string]map[string]any{}
	if ps, ok := op["parameters"].([]any); ok {
		for _, p := range ps {
			if pm, ok := p.(map[string]any); ok && pm["in"] == "query" {
				params[fmt.Sprint(pm["name"])] = pm
			}
		}
	}
	for name, vals := range r.URL.Query() {
		pm, ok := params[name]
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: query parameter %q is not documented", where, name))
			continue
		}
		sch := s.resolve(s.schemaOf(pm, "schema"))
		for _, v := range vals {
			var jv any = v
			if sch["type"] == "integer" {
				jv = json.Number(v)
			}
			errs = append(errs, s.validate(jv, sch, where+"?"+name, true)...)
		}
	}
	rb := s.schemaOf(op, "requestBody", "content", "application/json", "schema")
	switch {
	case rb == nil && len(body) > 0:
		errs = append(errs, where+": a body where the operation takes none")
	case rb != nil:
		v, err := decodeJSON(body)
		if err != nil {
			return append(errs, where+": body is not JSON: "+err.Error())
		}
		errs = append(errs, s.validate(v, rb, where+" body", true)...)
	}
	return errs
}

// checkResponse validates one answer of the simulator.
func (s *spec) checkResponse(r *http.Request, status int, h http.Header, body []byte) []string {
	op, _ := s.operation(r.Method, r.URL.Path)
	where := fmt.Sprintf("%s %s -> %d", r.Method, r.URL.Path, status)
	if op == nil {
		return nil // reported with the request
	}
	var errs []string
	if h.Get("Square-Version") == "" {
		errs = append(errs, where+": Square-Version not echoed")
	}
	if !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		errs = append(errs, where+": Content-Type "+h.Get("Content-Type"))
	}
	v, err := decodeJSON(body)
	if err != nil {
		return append(errs, where+": answer is not JSON: "+err.Error())
	}
	// Square's response schemas all carry errors; an error answer is the same object.
	sch := s.schemaOf(op, "responses", "200", "content", "application/json", "schema")
	if sch == nil {
		return append(errs, where+": the spec has no 200 schema")
	}
	errs = append(errs, s.validate(v, sch, where, false)...)
	if status >= 300 {
		m, _ := v.(map[string]any)
		list, _ := m["errors"].([]any)
		if len(list) == 0 {
			errs = append(errs, where+": an error answer without errors")
		}
		for _, e := range list {
			em, _ := e.(map[string]any)
			if !s.categories[fmt.Sprint(em["category"])] || !s.errorCodes[fmt.Sprint(em["code"])] {
				errs = append(errs, fmt.Sprintf("%s: undocumented error %v/%v", where, em["category"], em["code"]))
			}
		}
	}
	return errs
}

// validating wraps the simulator so every exchange is checked against the spec.
func validating(t *testing.T, s *spec, seen *sync.Map) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			for _, e := range s.checkRequest(r, body) {
				t.Errorf("request: %s", e)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code == 0 || (rec.Body.Len() == 0 && rec.Code == http.StatusOK) {
				return // a timeout fault: nothing was answered
			}
			for _, e := range s.checkResponse(r, rec.Code, rec.Header(), rec.Body.Bytes()) {
				t.Errorf("response: %s", e)
			}
			_, tpl := s.operation(r.Method, r.URL.Path)
			seen.Store(r.Method+" "+tpl, true)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		})
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	var seen sync.Map
	wrap := validating(t, s, &seen)

	t.Run("contract", func(t *testing.T) {
		contract.Run(t, contract.Harness{Provider: Provider, Start: func(t *testing.T) contract.Env {
			e := startEnv(t, wrap, nil)
			return contract.Env{Conn: e.client, Sim: harnessSim{e.sim}}
		}})
	})
	// The recorded conversations of testdata/fidelity: their requests are Square's documented
	// shape and every answer of the simulator to them too.
	t.Run("replays", func(t *testing.T) {
		fidelity.RunDir(t, "testdata/fidelity", func(t *testing.T) fidelity.Target {
			sim := NewSimulator()
			srv := httptest.NewServer(validating(t, s, &seen)(sim))
			t.Cleanup(srv.Close)
			t.Cleanup(sim.Close)
			return fidelity.Target{BaseURL: srv.URL, Client: srv.Client(), Vars: map[string]string{"location": sim.LocationIDs()[0]},
				Auth: func(r *http.Request) {
					r.Header.Set("Authorization", "Bearer "+sim.AccessToken())
					r.Header.Set("Square-Version", SquareVersion)
				}}
		})
	})
	t.Run("every capability", func(t *testing.T) {
		rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		t.Cleanup(rx.Close)
		e := startEnv(t, wrap, nil)
		ctx := tctx(t)
		hook := rx.URL + "/hooks"
		_, subKey, err := e.client.CreateSubscription(ctx, hook, []string{"order.created", "order.updated", "catalog.version.updated", "inventory.count.updated", "customer.created", "customer.updated"})
		if err != nil {
			t.Fatal(err)
		}
		exerciseEverything(t, e)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}

		// Every webhook body validates against its event schema.
		events := map[string]string{
			"order.created": "OrderCreatedEvent", "order.updated": "OrderUpdatedEvent",
			"catalog.version.updated": "CatalogVersionUpdatedEvent", "inventory.count.updated": "InventoryCountUpdatedEvent",
			"customer.created": "CustomerCreatedEvent", "customer.updated": "CustomerUpdatedEvent",
		}
		deadline := time.Now().Add(2 * time.Minute) // generous: a busy machine; it ends when every type arrived
		var ds []Delivery
		for {
			ds = e.sim.Deliveries()
			types := map[string]bool{}
			for _, d := range ds {
				var ev webhookEvent
				_ = json.Unmarshal(d.Body, &ev)
				types[ev.Type] = true
			}
			if len(types) == len(events) || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond) // polling the simulator's record, bounded by the deadline
		}
		got := map[string]bool{}
		for _, d := range ds {
			v, err := decodeJSON(d.Body)
			must(err)
			typ := fmt.Sprint(v.(map[string]any)["type"])
			got[typ] = true
			name, ok := events[typ]
			if !ok {
				t.Errorf("undocumented event type %s", typ)
				continue
			}
			for _, e := range s.validate(v, map[string]any{"$ref": "#/components/schemas/" + name}, typ, false) {
				t.Errorf("webhook: %s", e)
			}
			if !VerifySignature(d.Header.Get(SignatureHeader), subKey, d.URL, d.Body) {
				t.Errorf("webhook %s: bad signature", typ)
			}
		}
		for typ := range events {
			if !got[typ] {
				t.Errorf("no %s notification was delivered", typ)
			}
		}
	})
	// The operations the client uses were all exercised and checked.
	for _, op := range []string{
		"GET /v2/locations", "GET /v2/catalog/list", "POST /v2/catalog/search", "POST /v2/catalog/object",
		"POST /v2/catalog/batch-upsert", "POST /v2/catalog/batch-retrieve", "GET /v2/catalog/object/{object_id}",
		"POST /v2/inventory/counts/batch-retrieve", "POST /v2/inventory/changes/batch-create",
		"POST /v2/orders", "PUT /v2/orders/{order_id}", "GET /v2/orders/{order_id}", "POST /v2/orders/search",
		"GET /v2/customers", "POST /v2/customers", "PUT /v2/customers/{customer_id}", "POST /v2/customers/search",
		"POST /v2/webhooks/subscriptions", "DELETE /v2/webhooks/subscriptions/{subscription_id}",
	} {
		if _, ok := seen.Load(op); !ok {
			t.Errorf("%s was not exercised", op)
		}
	}
}

// exerciseEverything calls every capability of the client once against e's simulator.
func exerciseEverything(t *testing.T, e *testEnv) {
	t.Helper()
	ctx := tctx(t)
	ids := e.sim.SeedProducts(3)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	p, err := e.client.GetProduct(ctx, ids[0])
	must(err)
	p.Name = "Changed"
	_, err = e.client.UpdateProduct(ctx, p)
	must(err)
	_, err = e.client.UpsertProducts(ctx, []domain.Product{{ID: ids[1], Name: "B"}, {Name: "New", Price: domain.Money{Amount: 5, Currency: "EUR"}}, {Name: ""}})
	must(err)
	_, err = e.client.SetStock(ctx, []domain.StockLevel{{VariantID: p.Variants[0].ID, Quantity: "3.25"}})
	must(err)
	st, err := e.client.ListStock(ctx, "")
	must(err)
	_, err = e.client.ListStock(ctx, st.Resume)
	must(err)
	cu, err := e.client.CreateCustomer(ctx, domain.Customer{FirstName: "Ann", Email: "ann@example.com", Reference: "C1"})
	must(err)
	_, err = e.client.UpdateCustomer(ctx, cu)
	must(err)
	cp, err := e.client.ListCustomers(ctx, "")
	must(err)
	_, err = e.client.ListCustomers(ctx, cp.Resume)
	must(err)
	o, err := e.client.CreateOrder(ctx, domain.Order{Reference: "INV-C", CustomerID: cu.ID, Lines: []domain.OrderLine{{VariantID: p.Variants[0].ID, Quantity: "2"}}}, "c-1")
	must(err)
	o.Lines = append(o.Lines, domain.OrderLine{Name: "Extra", Quantity: "1", UnitPrice: domain.Money{Amount: 100, Currency: "EUR"}})
	_, err = e.client.UpdateOrder(ctx, o, "c-2")
	must(err)
	_, err = e.client.FindOrderByReference(ctx, "INV-C")
	must(err)
	e.sim.CompleteOrder(o.ID)
	sp, err := e.client.SalesSince(ctx, "")
	must(err)
	_, err = e.client.SalesSince(ctx, sp.Resume)
	must(err)
	o2, err := e.client.CreateOrder(ctx, domain.Order{Reference: "INV-D", Lines: []domain.OrderLine{{Name: "X", Quantity: "1", UnitPrice: domain.Money{Amount: 1, Currency: "EUR"}}}}, "d-1")
	must(err)
	must(e.client.CancelOrder(ctx, o2.ID, domain.CancelVoid))
	_, err = e.client.GetOrder(ctx, "MISSING")
	if err == nil {
		t.Fatal("missing order found")
	}
	_ = e.client.Unsubscribe(ctx, "wbhk_missing")

}

// The validator itself: it must catch what it claims to.
func TestConformanceValidatorCatches(t *testing.T) {
	s := loadSpec(t)
	order := map[string]any{"$ref": "#/components/schemas/CreateOrderRequest"}
	for name, body := range map[string]string{
		"unknown field": `{"idempotency_key":"k","order":{"location_id":"L","referenceId":"x"}}`,
		"wrong type":    `{"idempotency_key":"k","order":{"location_id":"L","version":"1"}}`,
		"read-only":     `{"idempotency_key":"k","order":{"location_id":"L","id":"X"}}`,
		"too long":      `{"idempotency_key":"k","order":{"location_id":"L","reference_id":"` + strings.Repeat("x", 41) + `"}}`,
		"bad enum":      `{"idempotency_key":"k","order":{"location_id":"L","state":"VOIDED"}}`,
		"missing":       `{"idempotency_key":"k","order":{}}`,
	} {
		v, _ := decodeJSON([]byte(body))
		if errs := s.validate(v, order, name, true); len(errs) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
	v, _ := decodeJSON([]byte(`{"idempotency_key":"k","order":{"location_id":"L","reference_id":"R","line_items":[{"name":"A","quantity":"1","base_price_money":{"amount":1,"currency":"EUR"}}]}}`))
	if errs := s.validate(v, order, "good", true); len(errs) != 0 {
		t.Errorf("a valid request refused: %v", errs)
	}
}
