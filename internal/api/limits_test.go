package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/domain"
)

// TestOpenAPILimitsMatchDomain: the maxLength (and money bounds) the OpenAPI document names are
// the limits internal/domain enforces, and every free string of a request body or a path or
// query parameter has a maxLength (or an enum).
func TestOpenAPILimitsMatchDomain(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	get := func(ptr string) map[string]any {
		var cur any = doc
		for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
			m, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("%s: %q is not an object", ptr, tok)
			}
			cur = m[tok]
		}
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s: not in the document", ptr)
		}
		return m
	}
	num := func(m map[string]any, k string) int64 {
		f, _ := m[k].(float64)
		return int64(f)
	}
	const s = "/components/schemas/"
	want := map[string]int{
		s + "AddIntegrationRequest/properties/type":               domain.MaxCodeLen,
		s + "AddIntegrationRequest/properties/nickname":           domain.MaxNicknameLen,
		s + "AddIntegrationRequest/properties/store_id":           domain.MaxIDLen,
		s + "AddIntegrationRequest/properties/restore_id":         domain.MaxIDLen,
		s + "UpdateIntegrationRequest/properties/nickname":        domain.MaxNicknameLen,
		s + "UpdateIntegrationRequest/properties/store_id":        domain.MaxIDLen,
		s + "Credentials/additionalProperties":                    domain.MaxSecretLen,
		s + "DocRef":                                              domain.MaxRefLen,
		s + "DocCustomer/properties/ref":                          domain.MaxRefLen,
		s + "DocCustomer/properties/name":                         domain.MaxNameLen,
		s + "DocCustomer/properties/email":                        domain.MaxEmailLen,
		s + "DocCustomer/properties/phone":                        domain.MaxPhoneLen,
		s + "DocLine/properties/product_ref":                      domain.MaxRefLen,
		s + "DocLine/properties/description":                      domain.MaxLineDescriptionLen,
		s + "DocLine/properties/quantity":                         domain.MaxCodeLen,
		s + "DocLine/properties/tax_rate":                         domain.MaxCodeLen,
		s + "OrderSyncSettings/properties/integration_id":         domain.MaxIDLen,
		s + "CreateWebhookEndpointRequest/properties/url":         domain.MaxURLLen,
		s + "CreateWebhookEndpointRequest/properties/description": domain.MaxDescriptionLen,
		"/components/parameters/IntegrationID/schema":             domain.MaxIDLen,
	}
	for ptr, n := range want {
		if got := num(get(ptr), "maxLength"); got != int64(n) {
			t.Errorf("%s: maxLength %d, the domain's limit is %d", ptr, got, n)
		}
	}
	amount := get(s + "Money/properties/amount")
	if num(amount, "maximum") != domain.MaxAmount || num(amount, "minimum") != -domain.MaxAmount {
		t.Errorf("Money.amount bounds %v..%v, the domain's are ±%d", amount["minimum"], amount["maximum"], domain.MaxAmount)
	}
	// Every string property of a request schema, and every string path or query parameter, is bounded.
	schemas := get("/components/schemas")
	for name, v := range schemas {
		if !strings.HasSuffix(name, "Request") && name != "DocLine" && name != "DocCustomer" && name != "DocLink" {
			continue
		}
		props, _ := v.(map[string]any)["properties"].(map[string]any)
		for p, pv := range props {
			m := pv.(map[string]any)
			if m["type"] == "string" && m["maxLength"] == nil && m["enum"] == nil {
				t.Errorf("%s.%s: a string without maxLength", name, p)
			}
		}
	}
	var params []any
	for _, item := range get("/paths") {
		for k, op := range item.(map[string]any) {
			if k == "parameters" {
				params = append(params, op.([]any)...)
			} else if o, ok := op.(map[string]any); ok {
				ps, _ := o["parameters"].([]any)
				params = append(params, ps...)
			}
		}
	}
	for _, p := range get("/components/parameters") {
		params = append(params, p)
	}
	for _, p := range params {
		m := p.(map[string]any)
		if m["$ref"] != nil || (m["in"] != "path" && m["in"] != "query") {
			continue
		}
		sch, _ := m["schema"].(map[string]any)
		if sch["type"] == "string" && sch["maxLength"] == nil && sch["enum"] == nil && sch["$ref"] == nil {
			t.Errorf("parameter %v: a string without maxLength", m["name"])
		}
	}
}
