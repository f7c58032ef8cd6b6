// Package jsonin is posbridge's one JSON decoder for input from outside: API and console request
// bodies, the Sandbox POS's own API, and (in a lenient mode) provider webhook payloads.
//
// Strict decoding (Decode, Unmarshal) refuses what encoding/json lets through silently: unknown
// keys, duplicate keys (encoding/json keeps the last), keys whose case differs from the field's
// ("STATUS" for "status"), data after the value, a null body, null for a field that is not
// nullable (only pointer and interface fields may be null), invalid UTF-8, and strings holding a
// NUL or another control character (\t, \n and \r aside). Every refusal is a
// *domain.Error: CodeBadRequest for malformed JSON or a body of the wrong shape (HTTP 400),
// CodeInvalid naming the field as a dotted path such as "lines[0].unit_price.amount" (HTTP 422),
// CodeTooLarge when the reader stopped at its size limit (HTTP 413).
//
// Provider payloads (CheckPayload) may carry keys posbridge does not know, legitimately: there
// only duplicate keys, invalid JSON and oversize bodies are refused.
//
// It is built on github.com/go-json-experiment/json (the JSON v2 proposal), whose decoder is
// case-sensitive, detects duplicate names and reports errors with a JSON pointer.
package jsonin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/posbridge/posbridge/internal/domain"
)

// MaxPayload is the largest provider payload CheckPayload accepts.
const MaxPayload = 1 << 20

// noNulls refuses null for every value that is not a pointer or an interface.
var noNulls = json.UnmarshalFromFunc(func(dec *jsontext.Decoder, v any) error {
	if dec.PeekKind() != 'n' {
		return json.SkipFunc
	}
	switch reflect.TypeOf(v).Elem().Kind() {
	case reflect.Pointer, reflect.Interface:
		return json.SkipFunc
	}
	return errNull
})

var errNull = errors.New("null is not allowed here")

var strict = json.JoinOptions(
	json.RejectUnknownMembers(true),
	json.MatchCaseInsensitiveNames(false),
	json.WithUnmarshalers(noNulls),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// Decode reads all of r (usually an http.MaxBytesReader) and unmarshals it strictly into v.
func Decode(r io.Reader, v any) error {
	b, err := io.ReadAll(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &domain.Error{Code: domain.CodeTooLarge, Message: fmt.Sprintf("the body is larger than %d bytes", mbe.Limit), Err: err}
		}
		return &domain.Error{Code: domain.CodeBadRequest, Message: "the body could not be read", Err: err}
	}
	return Unmarshal(b, v)
}

// Unmarshal decodes one JSON value strictly into v (a pointer).
func Unmarshal(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return &domain.Error{Code: domain.CodeBadRequest, Message: "the body is empty; send a JSON object"}
	}
	if err := json.Unmarshal(b, v, strict); err != nil {
		return describe(err, v)
	}
	return checkStrings(reflect.ValueOf(v), "")
}

// checkStrings refuses, naming the field, a decoded string with a NUL or another control
// character other than \t, \n and \r: no text field of posbridge's takes one. (Per-field
// limits, and whether a field may hold line breaks, are the domain's to check.)
func checkStrings(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return checkStrings(v.Elem(), path)
		}
	case reflect.String:
		for _, r := range v.String() {
			if r != '\t' && r != '\n' && r != '\r' && domain.IsControl(r) {
				field := path
				if field == "" {
					field = "body"
				}
				return &domain.Error{Code: domain.CodeInvalid, Field: field,
					Message: fmt.Sprintf("%s must not contain control characters (found U+%04X)", field, r)}
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			p := path
			if !f.Anonymous || name != "" {
				if name == "" {
					name = f.Name
				}
				p = join(path, name)
			}
			if err := checkStrings(v.Field(i), p); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // bytes (json.RawMessage, base64) are not text
		}
		for i := 0; i < v.Len(); i++ {
			if err := checkStrings(v.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			k := fmt.Sprint(it.Key().Interface())
			if domain.HasControl(k) {
				return &domain.Error{Code: domain.CodeInvalid, Field: path, Message: fmt.Sprintf("%s has a key with control characters", path)}
			}
			if err := checkStrings(it.Value(), join(path, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// CheckPayload checks a provider's payload before it is parsed with the provider's own types:
// one JSON value, at most MaxPayload bytes, no object with the same key twice (a payload whose
// meaning depends on which duplicate a parser keeps is refused). Unknown keys are fine.
func CheckPayload(b []byte) error {
	if len(b) > MaxPayload {
		return &domain.Error{Code: domain.CodeTooLarge, Message: fmt.Sprintf("the payload is larger than %d bytes", MaxPayload)}
	}
	dec := jsontext.NewDecoder(bytes.NewReader(b), jsontext.AllowDuplicateNames(false), jsontext.AllowInvalidUTF8(true))
	if err := dec.SkipValue(); err != nil {
		return describe(err, nil)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return &domain.Error{Code: domain.CodeBadRequest, Message: "malformed JSON: data after the value"}
	}
	return nil
}

// describe turns a decoding error into a coded error naming the field.
func describe(err error, v any) error {
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		field := Path(syn.JSONPointer)
		if errors.Is(syn.Err, jsontext.ErrDuplicateName) {
			return &domain.Error{Code: domain.CodeInvalid, Field: field, Err: err,
				Message: fmt.Sprintf("%s appears more than once; send each field once", field)}
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return &domain.Error{Code: domain.CodeBadRequest, Message: "malformed JSON: the body ends too early", Err: err}
		}
		return &domain.Error{Code: domain.CodeBadRequest, Message: "malformed JSON: " + syn.Err.Error() + at(syn.ByteOffset), Err: err}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &domain.Error{Code: domain.CodeBadRequest, Message: "malformed JSON: the body ends too early", Err: err}
	}
	var sem *json.SemanticError
	if !errors.As(err, &sem) {
		return &domain.Error{Code: domain.CodeBadRequest, Message: "malformed JSON: " + err.Error(), Err: err}
	}
	field := Path(sem.JSONPointer)
	switch {
	case errors.Is(sem.Err, json.ErrUnknownName):
		if field == "" {
			field = "?"
		}
		name := field
		if i := strings.LastIndexAny(field, ".]"); i >= 0 && field[i] == '.' {
			name = field[i+1:]
		}
		msg := fmt.Sprintf("unknown field %q", name)
		if want := caseMatch(sem.GoType, name); want != "" {
			msg = fmt.Sprintf("unknown field %q; field names are case-sensitive: did you mean %q?", name, want)
		}
		return &domain.Error{Code: domain.CodeInvalid, Field: field, Message: msg, Err: err}
	case field == "" && errors.Is(sem.Err, errNull):
		return &domain.Error{Code: domain.CodeBadRequest, Message: "the body must be a JSON object, not null", Err: err}
	case field == "":
		return &domain.Error{Code: domain.CodeBadRequest, Message: "the body must be a JSON object", Err: err}
	case errors.Is(sem.Err, errNull):
		return &domain.Error{Code: domain.CodeInvalid, Field: field, Message: fmt.Sprintf("%s must not be null; leave it out instead", field), Err: err}
	}
	want := "a valid value"
	if sem.GoType != nil {
		want = jsonType(sem.GoType)
	}
	got := ""
	if sem.JSONKind != 0 {
		got = ", not " + kindName(sem.JSONKind)
	}
	if want == "a whole number in range" {
		if sem.JSONKind == '0' {
			got = "" // a number, but with a fraction, an exponent or out of range: say which form
		}
		if strings.HasSuffix(field, "amount") {
			want = fmt.Sprintf("a whole number of minor units (cents): 899 for 8.99, at most %d either way", domain.MaxAmount)
		} else {
			want = "a whole number (no fraction, no exponent)"
		}
	}
	return &domain.Error{Code: domain.CodeInvalid, Field: field, Message: fmt.Sprintf("%s must be %s%s", field, want, got), Err: err}
}

func at(off int64) string {
	if off <= 0 {
		return ""
	}
	return " (at byte " + strconv.FormatInt(off, 10) + ")"
}

// caseMatch finds the field of the struct t whose JSON name equals name but for case.
func caseMatch(t reflect.Type, name string) string {
	for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice) {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return ""
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		n, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if n == "" {
			n = f.Name
		}
		if n != name && strings.EqualFold(n, name) {
			return n
		}
	}
	return ""
}

// Path turns a JSON pointer into the dotted path posbridge names fields with:
// "/lines/0/unit_price" is "lines[0].unit_price". Array indexes become [n].
func Path(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if tok != "" && strings.Trim(tok, "0123456789") == "" && len(tok) < 10 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a valid value"
}

func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "something else"
}
