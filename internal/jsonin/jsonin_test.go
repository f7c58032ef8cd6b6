package jsonin_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jsonin"
)

type line struct {
	Description string       `json:"description"`
	Quantity    string       `json:"quantity"`
	UnitPrice   domain.Money `json:"unit_price"`
}

type body struct {
	Status   string            `json:"status"`
	AutoSync *bool             `json:"auto_sync"`
	Enabled  bool              `json:"enabled"`
	Lines    []line            `json:"lines"`
	Creds    map[string]string `json:"credentials"`
}

func TestUnmarshal(t *testing.T) {
	cases := []struct {
		name, in   string
		code       domain.Code
		field, msg string
	}{
		{"ok", `{"status":"open","auto_sync":null,"lines":[{"description":"a","quantity":"1","unit_price":{"amount":5,"currency":"EUR"}}]}`, "", "", ""},
		{"empty", ``, domain.CodeBadRequest, "", "empty"},
		{"blank", " \n", domain.CodeBadRequest, "", "empty"},
		{"null body", `null`, domain.CodeBadRequest, "", "null"},
		{"array body", `[1]`, domain.CodeBadRequest, "", "object"},
		{"string body", `"x"`, domain.CodeBadRequest, "", "object"},
		{"truncated", `{"status":`, domain.CodeBadRequest, "", "malformed"},
		{"trailing object", `{"status":"a"} {}`, domain.CodeBadRequest, "", "malformed"},
		{"trailing garbage", `{"status":"a"}x`, domain.CodeBadRequest, "", "malformed"},
		{"invalid utf8", "{\"status\":\"\xff\"}", domain.CodeBadRequest, "", "malformed"},
		{"unknown", `{"colour":"red"}`, domain.CodeInvalid, "colour", "unknown field"},
		{"case variant", `{"STATUS":"open"}`, domain.CodeInvalid, "STATUS", `did you mean "status"`},
		{"duplicate", `{"status":"open","status":"paid"}`, domain.CodeInvalid, "status", "more than once"},
		{"nested duplicate", `{"lines":[{"quantity":"1","quantity":"2"}]}`, domain.CodeInvalid, "lines[0].quantity", "more than once"},
		{"nested unknown", `{"lines":[{"qty":"1"}]}`, domain.CodeInvalid, "lines[0].qty", "unknown"},
		{"null bool", `{"enabled":null}`, domain.CodeInvalid, "enabled", "null"},
		{"null string", `{"status":null}`, domain.CodeInvalid, "status", "null"},
		{"null array", `{"lines":null}`, domain.CodeInvalid, "lines", "null"},
		{"wrong type", `{"status":5}`, domain.CodeInvalid, "status", "must be a string"},
		{"nested wrong type", `{"lines":[{"unit_price":{"amount":"5"}}]}`, domain.CodeInvalid, "lines[0].unit_price.amount", "whole number"},
		{"int overflow", `{"lines":[{"unit_price":{"amount":92233720368547758070}}]}`, domain.CodeInvalid, "lines[0].unit_price.amount", "whole number"},
		{"fraction amount", `{"lines":[{"unit_price":{"amount":1.5}}]}`, domain.CodeInvalid, "lines[0].unit_price.amount", "whole number"},
		{"map value type", `{"credentials":{"api_key":7}}`, domain.CodeInvalid, "credentials.api_key", "string"},
		{"map duplicate", `{"credentials":{"k":"a","k":"b"}}`, domain.CodeInvalid, "credentials.k", "more than once"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b body
			err := jsonin.Unmarshal([]byte(c.in), &b)
			if c.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var de *domain.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *domain.Error", err)
			}
			if de.Code != c.code || de.Field != c.field || !strings.Contains(de.Message, c.msg) {
				t.Fatalf("got %s %q %q, want %s %q ~%q", de.Code, de.Field, de.Message, c.code, c.field, c.msg)
			}
		})
	}
}

func TestMergeKeepsFieldsLeftOut(t *testing.T) {
	b := body{Status: "open", Enabled: true}
	if err := jsonin.Unmarshal([]byte(`{"status":"paid"}`), &b); err != nil {
		t.Fatal(err)
	}
	if b.Status != "paid" || !b.Enabled {
		t.Fatalf("got %+v", b)
	}
}

func TestDecodeTooLarge(t *testing.T) {
	rec := httptest.NewRecorder()
	r := http.MaxBytesReader(rec, io.NopCloser(strings.NewReader(`{"status":"`+strings.Repeat("x", 100)+`"}`)), 10)
	var b body
	if err := jsonin.Decode(r, &b); domain.ErrorCode(err) != domain.CodeTooLarge {
		t.Fatalf("got %v", err)
	}
}

func TestCheckPayload(t *testing.T) {
	for in, ok := range map[string]bool{
		`{"id":"1","extra":{"x":[1,2]}}`: true,
		"{\"name\":\"caf\xe9\"}":         true, // providers' invalid UTF-8 is theirs to send
		`{"id":"1","id":"2"}`:            false,
		`{"a":{"b":1,"b":2}}`:            false,
		`{"a":1} {"b":2}`:                false,
		`{"a":`:                          false,
		``:                               false,
		`[{"x":1},{"x":2}]`:              true,
	} {
		if err := jsonin.CheckPayload([]byte(in)); (err == nil) != ok {
			t.Errorf("%q: %v", in, err)
		}
	}
	if err := jsonin.CheckPayload([]byte(`"` + strings.Repeat("x", jsonin.MaxPayload) + `"`)); domain.ErrorCode(err) != domain.CodeTooLarge {
		t.Errorf("oversize payload: %v", err)
	}
}

func TestControlCharactersRefused(t *testing.T) {
	for in, field := range map[string]string{
		`{"status":"a\u0000b"}`:                                  "status",
		`{"lines":[{"description":"ok"},{"quantity":"\u001b"}]}`: "lines[1].quantity",
		`{"credentials":{"api_key":"x\u0085"}}`:                  "credentials.api_key",
		`{"lines":[{"unit_price":{"currency":"E\u007fR"}}]}`:     "lines[0].unit_price.currency",
	} {
		var b body
		err := jsonin.Unmarshal([]byte(in), &b)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeInvalid || de.Field != field {
			t.Errorf("%s: %v, want invalid %s", in, err, field)
		}
	}
	var b body
	if err := jsonin.Unmarshal([]byte(`{"status":"two\nlines\tand\ra tab"}`), &b); err != nil {
		t.Errorf("line breaks and tabs refused: %v", err)
	}
}

// TestTypeErrorsNameThePathAndTheForm: a wrong type names the exact path, index included, and
// the form expected: an amount is a whole number of minor units.
func TestTypeErrorsNameThePathAndTheForm(t *testing.T) {
	type req struct {
		Lines []domain.DocLine `json:"lines"`
		Count int              `json:"count"`
	}
	ok := `{"description":"a","quantity":"1","unit_price":{"amount":1,"currency":"EUR"}}`
	for _, c := range []struct{ body, field, want, not string }{
		{`{"lines":[` + ok + `,` + ok + `,{"description":"a","quantity":2}]}`, "lines[2].quantity", "lines[2].quantity must be a string, not a number", ""},
		{`{"lines":[{"unit_price":{"amount":8.99}}]}`, "lines[0].unit_price.amount", "whole number of minor units (cents): 899 for 8.99", "not a number"},
		{`{"lines":[{"unit_price":{"amount":"899"}}]}`, "lines[0].unit_price.amount", "whole number of minor units (cents)", ""},
		{`{"lines":[` + ok + `,{"unit_price":{"amount":1e30}}]}`, "lines[1].unit_price.amount", "at most 1000000000000000 either way", ""},
		{`{"count":1.5}`, "count", "count must be a whole number (no fraction, no exponent)", ""},
	} {
		var v req
		err := jsonin.Decode(strings.NewReader(c.body), &v)
		var de *domain.Error
		if !errors.As(err, &de) || de.Field != c.field || !strings.Contains(de.Message, c.want) || (c.not != "" && strings.Contains(de.Message, c.not)) {
			t.Errorf("%s: %v, want field %s and %q", c.body, err, c.field, c.want)
		}
	}
	if err := (&domain.DocContent{Status: "nope"}).Validate(domain.KindInvoice); err == nil || !strings.Contains(err.Error(), "status of an invoice") {
		t.Errorf("grammar: %v", err)
	}
}
