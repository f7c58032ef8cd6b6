package square

import (
	"testing"
)

// FuzzParseWebhook: the signature header and any notification body are checked without a panic;
// only the canonical signature verifies, and ParseEvent refuses or parses any body.
func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"merchant_id":"M","type":"order.updated","event_id":"e1","created_at":"2026-11-20T10:00:00Z","data":{"type":"order","id":"o1","object":{"order_updated":{}}}}`), "")
	f.Add([]byte(`{"event_id":"e","event_id":"f","type":"x"}`), "AAAA")
	f.Add([]byte(`{"event_id":"e","type":"t","data":null}`), "x=")
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		const key, url = "sq_key", "https://hub.example/hooks/int_1"
		if VerifySignature(sig, key, url, body) && sig != Sign(key, url, body) {
			t.Fatalf("signature %q verifies but is not the canonical one", sig)
		}
		if !VerifySignature(Sign(key, url, body), key, url, body) {
			t.Fatal("the canonical signature does not verify")
		}
		evs, err := ParseEvent(body)
		if err == nil && (len(evs) != 1 || evs[0].ID == "") {
			t.Fatalf("parsed %d events without an id", len(evs))
		}
	})
}
