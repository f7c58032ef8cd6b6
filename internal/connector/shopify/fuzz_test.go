package shopify

import (
	"net/http"
	"testing"
)

// FuzzParseWebhook: any body and X-Shopify-Hmac-Sha256 value is refused or parsed, never a panic;
// a wrong signature never passes and a signed body parses unless it is not one JSON object.
func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"id":820982911946154508,"updated_at":"2026-11-20T10:00:00Z"}`), "orders/updated", "")
	f.Add([]byte(`{"inventory_item_id":1,"location_id":2,"available":3}`), "inventory_levels/update", "AAAA")
	f.Add([]byte(`{"id":1,"id":2}`), "products/update", "==")
	f.Add([]byte(`[]`), "", "x")
	f.Fuzz(func(t *testing.T, body []byte, topic, sig string) {
		const secret = "shpss_secret"
		if VerifySignature(secret, body, sig) && sig != Sign(secret, body) {
			t.Fatalf("signature %q verifies but is not the canonical one", sig)
		}
		h := http.Header{}
		h.Set(HeaderTopic, topic)
		h.Set(HeaderHmac, sig)
		if _, err := ParseWebhook(h, body, secret); err == nil && !VerifySignature(secret, body, sig) {
			t.Fatalf("a wrong signature %q passed", sig)
		}
		h.Set(HeaderHmac, Sign(secret, body))
		ParseWebhook(h, body, secret) //nolint:errcheck // must not panic
	})
}
