package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestGuard(t *testing.T) {
	reached := 0
	h := Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		if r.Method == "POST" && !strings.HasPrefix(r.URL.Path, "/api/") {
			_ = r.PostForm.Get("x") // the form the guard parsed is the handler's
		}
		w.WriteHeader(http.StatusTeapot)
	}))
	form := func(v string) string { return url.Values{"csrf": {"t"}, "x": {v}}.Encode() }
	cases := []struct {
		name, method, target, ctype, body string
		status                            int
		json                              bool
	}{
		{"clean API call", "GET", "/api/v1/integrations/int_1?limit=5", "", "", http.StatusTeapot, false},
		{"NUL in a hook id", "POST", "/hooks/int_%00", "application/json", "{}", http.StatusNotFound, true},
		{"control byte in an API id", "GET", "/api/v1/integrations/int_%01x", "", "", http.StatusNotFound, true},
		{"invalid UTF-8 in a sandbox id", "GET", "/sandbox/api/v1/orders/%ff", "", "", http.StatusNotFound, true},
		{"C1 control in a console id", "GET", "/integrations/int_%C2%85", "", "", http.StatusNotFound, false},
		{"NUL in a query parameter", "GET", "/api/v1/timeline?limit=%00", "", "", http.StatusUnprocessableEntity, true},
		{"NUL in a query name", "GET", "/api/v1/timeline?a%00=1", "", "", http.StatusUnprocessableEntity, true},
		{"NUL in a console query", "GET", "/documents?tab=%00", "", "", http.StatusUnprocessableEntity, false},
		{"NUL in a console form", "POST", "/integrations/int_1", "application/x-www-form-urlencoded", form("a\x00b"), http.StatusUnprocessableEntity, false},
		{"escape in a console form", "POST", "/integrations/int_1", "application/x-www-form-urlencoded", form("a\x1b[2J"), http.StatusUnprocessableEntity, false},
		{"line breaks in a console form", "POST", "/integrations/int_1", "application/x-www-form-urlencoded", form("two\r\nlines\tok"), http.StatusTeapot, false},
		{"oversize console form", "POST", "/integrations/int_1", "application/x-www-form-urlencoded", form(strings.Repeat("x", MaxForm)), http.StatusRequestEntityTooLarge, false},
		{"API bodies are the decoder's", "POST", "/api/v1/integrations", "application/json", "{\"x\":\"\\u0000\"}", http.StatusTeapot, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
			if c.ctype != "" {
				r.Header.Set("Content-Type", c.ctype)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d: %s", w.Code, c.status, w.Body)
			}
			if isJSON := strings.HasPrefix(w.Header().Get("Content-Type"), "application/json"); isJSON != c.json {
				t.Fatalf("JSON answer %v, want %v: %s", isJSON, c.json, w.Body)
			}
			if c.json && !strings.Contains(w.Body.String(), `"error"`) {
				t.Fatalf("not the API's error body: %s", w.Body)
			}
			if c.target == "/api/v1/timeline?limit=%00" && !strings.Contains(w.Body.String(), `"field":"limit"`) {
				t.Fatalf("the parameter is not named: %s", w.Body)
			}
		})
	}
	if reached != 3 {
		t.Fatalf("the handler ran %d times, want 3", reached)
	}
}
