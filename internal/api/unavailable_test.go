package api

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/posbridge/posbridge/internal/domain"
)

// TestUnavailableAnswers503: a store error saying the database cannot be reached answers 503
// with code unavailable and Retry-After, in the documented Error shape; other errors stay 500.
func TestUnavailableAnswers503(t *testing.T) {
	a := oasAPI()
	req := httptest.NewRequest("GET", "/api/v1/integrations", nil)
	down := fmt.Errorf("list integrations: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
	rec := httptest.NewRecorder()
	a.writeError(rec, req, down)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("database down: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	var body struct {
		Error struct{ Code domain.Code } `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != domain.CodeUnavailable {
		t.Fatalf("body %s", rec.Body.Bytes())
	}
	if err := oasCheckJSON(t, "Error", rec.Body.Bytes()); err != nil {
		t.Fatalf("body %s does not fit Error: %v", rec.Body.Bytes(), err)
	}
	if StatusOf(domain.CodeUnavailable) != http.StatusServiceUnavailable {
		t.Fatal("StatusOf(unavailable) is not 503")
	}
	rec = httptest.NewRecorder()
	a.writeError(rec, req, fmt.Errorf("no such column: x"))
	if rec.Code != http.StatusInternalServerError || rec.Header().Get("Retry-After") != "" {
		t.Fatalf("a query fault: %d", rec.Code)
	}
}
