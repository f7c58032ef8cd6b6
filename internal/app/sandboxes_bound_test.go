package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestSandboxStoreBounded: a sandbox store takes writes up to its bound, then refuses them
// (422 sandbox_full) while reads still answer; refused and failed writes take no room.
func TestSandboxStoreBounded(t *testing.T) {
	t.Parallel()
	st := &sandboxStore{handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if string(b) == "bad" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})}
	do := func(method, body string) int {
		rec := httptest.NewRecorder()
		st.serveHTTP(rec, httptest.NewRequest(method, "/x", strings.NewReader(body)), 100)
		return rec.Code
	}
	for range 20 {
		if c := do("POST", "bad"); c != http.StatusBadRequest {
			t.Fatalf("a refused write: %d", c)
		}
	}
	for n := 0; n < 3; n++ {
		if c := do("POST", strings.Repeat("x", 40)); c != http.StatusCreated {
			t.Fatalf("write %d within the bound: %d", n, c)
		}
	}
	if c := do("PUT", "x"); c != http.StatusUnprocessableEntity {
		t.Fatalf("a write past the bound: %d", c)
	}
	if c := do("GET", ""); c != http.StatusCreated {
		t.Fatalf("a read past the bound: %d", c)
	}
}
