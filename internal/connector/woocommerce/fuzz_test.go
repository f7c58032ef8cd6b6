package woocommerce

import (
	"net/http"
	"testing"
	"time"
)

// FuzzParseWebhook: any body and signature header is refused or parsed, never a panic; a body
// signed with the secret parses or is refused as a bad body, and a wrong signature never passes.
func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"id":15,"date_modified_gmt":"2026-11-20T10:00:00"}`), "order.updated", "")
	f.Add([]byte(`{"id":15,"id":16}`), "product.updated", "bm90IGEgc2lnbmF0dXJl")
	f.Add([]byte(`webhook_id=3`), "", "")
	f.Add([]byte(`{"id":"1e400"}`), "order.created", "x")
	now := func() time.Time { return time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC) }
	f.Fuzz(func(t *testing.T, body []byte, topic, sig string) {
		const secret = "wc_secret"
		h := http.Header{}
		h.Set(HeaderTopic, topic)
		h.Set(HeaderSignature, sig)
		if _, err := ParseWebhook(h, body, secret, now); err == nil && sig != Sign(secret, body) && sig != "" {
			t.Fatalf("a wrong signature %q passed", sig)
		}
		h.Set(HeaderSignature, Sign(secret, body))
		evs, err := ParseWebhook(h, body, secret, now)
		if err == nil && len(evs) != 1 {
			t.Fatalf("a signed delivery gave %d events", len(evs))
		}
	})
}
