package sandbox

import (
	"net/http"
	"testing"
	"time"
)

// FuzzParseWebhook: any Sandbox-Signature header and body is checked without a panic; only a
// fresh canonical signature verifies, and a signed body is parsed or refused, never a panic.
func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1","type":"order.completed","created_at":"2026-11-20T10:00:00Z","data":{"object":{"id":"ord_1"}}}`), "t=1795168800,v1=00")
	f.Add([]byte(`{"id":"evt_1","id":"evt_2","type":"sale.created"}`), "v1=,t=")
	f.Add([]byte(`{"id":"e","type":"t","data":{"object":"x"}}`), "t=-1,v1=zz,v1=00")
	f.Add([]byte(`null`), "t=99999999999999999999,v1=00")
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	c := &Conn{now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		const secret = "whsec_x"
		if err := VerifySignature(Sign(secret, now, body), body, secret, now, SignatureTolerance); err != nil {
			t.Fatalf("the canonical signature does not verify: %v", err)
		}
		h := http.Header{}
		h.Set(SignatureHeader, sig)
		c.ParseWebhook(h, body, "", secret) //nolint:errcheck // must not panic
		h.Set(SignatureHeader, Sign(secret, now, body))
		c.ParseWebhook(h, body, "", secret) //nolint:errcheck // must not panic
	})
}
