package woocommerce

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/posbridge/posbridge/internal/connector/fidelity"
)

// TestFidelityReplay replays the recorded WooCommerce REST API conversations of
// testdata/fidelity (requests and answers in the shape the WooCommerce REST API documentation
// shows, each script naming its sections) against the simulator, over plain HTTP with OAuth 1.0a.
func TestFidelityReplay(t *testing.T) {
	t.Parallel()
	fidelity.RunDir(t, "testdata/fidelity", func(t *testing.T) fidelity.Target {
		sim := NewSimulator()
		srv := httptest.NewServer(sim)
		t.Cleanup(srv.Close)
		t.Cleanup(sim.Close)
		key, secret := sim.Credentials()
		return fidelity.Target{BaseURL: srv.URL, Client: srv.Client(),
			Auth: func(r *http.Request) { signOAuth(r.Method, r.URL, key, secret, sim.now()) },
			Vars: map[string]string{"key": key, "secret": secret,
				"basic": base64.StdEncoding.EncodeToString([]byte(key + ":" + secret)),
				"wrong": base64.StdEncoding.EncodeToString([]byte(key + ":cs_wrong"))}}
	})
}
