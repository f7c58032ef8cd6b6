package jsonin_test

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jsonin"
)

// documentRequest mirrors api.DocumentRequest, the body of PUT /api/v1/documents/{kind}/{ref}
// (not imported: the fuzzing build of package api would take in the whole server).
type documentRequest struct {
	Status    string              `json:"status"`
	Customer  *domain.DocCustomer `json:"customer"`
	Lines     []domain.DocLine    `json:"lines"`
	Links     []domain.DocLink    `json:"links"`
	SyncToPOS *bool               `json:"sync_to_pos"`
}

// addIntegration mirrors the body of POST /api/v1/integrations.
type addIntegration struct {
	Type        string            `json:"type"`
	Nickname    string            `json:"nickname"`
	Credentials map[string]string `json:"credentials"`
	StoreID     string            `json:"store_id"`
	OnConflict  string            `json:"on_conflict"`
	RestoreID   string            `json:"restore_id"`
	Sandbox     bool              `json:"sandbox"`
}

// updateIntegration mirrors the body of PATCH /api/v1/integrations/{id}.
type updateIntegration struct {
	Nickname    *string           `json:"nickname"`
	StoreID     *string           `json:"store_id"`
	Credentials map[string]string `json:"credentials"`
}

// flags mirrors the bodies of PATCH .../sync and POST .../sync/send-as-new.
type flags struct {
	AutoSync     *bool `json:"auto_sync"`
	VoidExisting *bool `json:"void_existing"`
}

// endpoint mirrors the body of POST /api/v1/webhook-endpoints.
type endpoint struct {
	URL         string   `json:"url"`
	Description string   `json:"description"`
	Events      []string `json:"events"`
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("not a coded error: %v", err)
	}
	switch de.Code {
	case domain.CodeBadRequest, domain.CodeTooLarge:
	case domain.CodeInvalid:
		if de.Field == "" {
			t.Fatalf("an invalid field without its name: %v", err)
		}
	default:
		t.Fatalf("code %s for bad input: %v", de.Code, err)
	}
}

// FuzzDecode: any body decoded into the main request types is accepted or refused with a 4xx
// coded error naming the field; an accepted document either validates (and then its total is in
// range) or is refused naming a field; whatever is accepted is what encoding/json reads too.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"status":"issued","lines":[{"description":"Tea","quantity":"2","unit_price":{"amount":350,"currency":"EUR"}}]}`))
	f.Add([]byte(`{"status":"paid","lines":[{"description":"x","quantity":"1","unit_price":{"amount":9223372036854775807,"currency":"EUR"}},{"description":"y","quantity":"1","unit_price":{"amount":9223372036854775807,"currency":"EUR"}}]}`))
	f.Add([]byte(`{"type":"sandbox","nickname":"Front","credentials":{"api_key":"sbx_a"}}`))
	f.Add([]byte(`{"auto_sync":true,"integration_id":"int_1","on_cancel":"void"}`))
	f.Add([]byte(`{"url":"https://a.example/h","events":["document.updated"]}`))
	f.Add([]byte(`{"status":"a","status":"b"}`))
	f.Add([]byte(`{"STATUS":"a"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"customer":{"name":"\u202e"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var doc documentRequest
		err := jsonin.Unmarshal(b, &doc)
		checkErr(t, err)
		if err == nil {
			var again documentRequest
			if json.Unmarshal(b, &again) != nil {
				t.Fatalf("jsonin accepted what encoding/json refuses: %q", b)
			}
			c := domain.DocContent{Status: doc.Status, Customer: doc.Customer, Lines: doc.Lines, Links: doc.Links}
			verr := c.Validate(domain.KindInvoice)
			checkErr(t, verr)
			if verr == nil {
				if _, err := c.Total(); err != nil {
					t.Fatalf("a valid document's total is out of range: %q", b)
				}
			}
		}
		var s domain.OrderSyncSettings
		if err := jsonin.Unmarshal(b, &s); err == nil {
			checkErr(t, s.Validate())
		} else {
			checkErr(t, err)
		}
		var a addIntegration
		checkErr(t, jsonin.Unmarshal(b, &a))
		var e endpoint
		checkErr(t, jsonin.Unmarshal(b, &e))
		var u updateIntegration
		checkErr(t, jsonin.Unmarshal(b, &u))
		var fl flags
		checkErr(t, jsonin.Unmarshal(b, &fl))
	})
}

// FuzzCheckPayload: any provider payload is accepted or refused without a panic, and what is
// accepted is valid JSON for encoding/json (which also lets invalid UTF-8 through).
func FuzzCheckPayload(f *testing.F) {
	f.Add([]byte(`{"id":1,"extra":{"a":[1,2,{"b":null}]}}`))
	f.Add([]byte(`{"id":1,"id":2}`))
	f.Add([]byte("{\"n\":\"caf\xe9\"}"))
	f.Add([]byte(`[1,2] 3`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := jsonin.CheckPayload(b); err == nil {
			if !json.Valid(b) && utf8.Valid(b) {
				t.Fatalf("CheckPayload accepted what encoding/json refuses: %q", b)
			}
		}
	})
}
