package lightspeed

import (
	"testing"
	"time"
)

// FuzzParseWebhook: any X-Signature value and form body is checked without a panic; only the
// forms verifySignature documents pass, and parseDelivery refuses or parses any body.
func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`type=product.update&payload=%7B%22id%22%3A%22p1%22%2C%22version%22%3A3%7D`), "")
	f.Add([]byte(`payload=%7B%22id%22%3A1%2C%22id%22%3A2%7D`), "signature=00, algorithm=HMAC-SHA256")
	f.Add([]byte(`payload=%5B%5D&type=`), "AAAA")
	f.Add([]byte(`%zz`), "x")
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		const secret = "ls_secret"
		if verifySignature(sig, secret, body) && sig != Sign(secret, body) && len(sig) != 64 && len(sig) != 44 {
			t.Fatalf("signature %q verifies", sig)
		}
		if !verifySignature(Sign(secret, body), secret, body) {
			t.Fatal("the canonical signature does not verify")
		}
		evs, err := parseDelivery(body, now)
		if err == nil && len(evs) == 0 {
			t.Fatal("no error and no event")
		}
	})
}
