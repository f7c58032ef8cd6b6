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

// FuzzOrderBody: any body of POST /sandbox/api/v1/orders is refused with a 4xx or checked into an
// order whose total is the sum of its lines, never a wrapped number or a panic.
func FuzzOrderBody(f *testing.F) {
	f.Add([]byte(`{"reference":"INV-1","store_id":"st_main","lines":[{"name":"Tea","quantity":"2","unit_price":{"amount":350,"currency":"EUR"}}]}`))
	f.Add([]byte(`{"reference":"X","lines":[{"name":"a","quantity":"999999999.99999","unit_price":{"amount":100000000000,"currency":"EUR"}},{"name":"b","quantity":"999999999","unit_price":{"amount":100000000000,"currency":"EUR"}}]}`))
	f.Add([]byte(`{"reference":"X","reference":"Y"}`))
	f.Add([]byte(`{"Reference":"X","lines":null}`))
	base := sampleState("sbx_fuzz", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), 5)
	f.Fuzz(func(t *testing.T, body []byte) {
		var in orderIn
		if e := decode(body, &in); e != nil {
			if e.status < 400 || e.status >= 500 {
				t.Fatalf("status %d for a bad body", e.status)
			}
			return
		}
		total, e := base.checkOrder(&in) // checkOrder only reads the state
		if e != nil {
			if e.status < 400 || e.status >= 500 {
				t.Fatalf("status %d for a bad order", e.status)
			}
			return
		}
		var sum int64
		for _, l := range in.Lines {
			if l.Total.Amount > 1e15 || l.Total.Amount < -1e15 {
				t.Fatalf("line total %d out of range", l.Total.Amount)
			}
			sum += l.Total.Amount
		}
		if sum != total {
			t.Fatalf("total %d, lines sum to %d", total, sum)
		}
	})
}
