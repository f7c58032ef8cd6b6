package lightspeed

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/posbridge/posbridge/internal/connector/fidelity"
)

// TestFidelityReplay replays the recorded Lightspeed Retail (X-Series) API conversations of
// testdata/fidelity (requests and answers in the shape its reference documents, each script
// naming its pages) against the simulator.
func TestFidelityReplay(t *testing.T) {
	t.Parallel()
	fidelity.RunDir(t, "testdata/fidelity", func(t *testing.T) fidelity.Target {
		sim := NewSimulator()
		srv := httptest.NewServer(sim)
		t.Cleanup(srv.Close)
		t.Cleanup(sim.Close)
		return fidelity.Target{BaseURL: srv.URL, Client: srv.Client(),
			Auth: func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+sim.Token()) }}
	})
}
