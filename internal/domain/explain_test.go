package domain

import (
	"strings"
	"testing"
)

func TestExplain(t *testing.T) {
	for _, c := range []struct {
		in, want string // want: a part of the sentence
		detail   bool
	}{
		{`Get "http://10.0.0.5/wp-json/wc/v3": dial tcp 10.0.0.5:80: provider host is not allowed: it resolves to a loopback, private, link-local or metadata address`,
			"private or local network address", true},
		{`Post "http://127.0.0.1:8080/sandbox/api/orders": dial tcp 127.0.0.1:8080: connect: connection refused`, "nothing answered", true},
		{`Called off after 5 consecutive failures; last: Get "http://x": dial tcp: lookup x: no such host`, "Called off after 5 consecutive failures. posbridge could not find", true},
		{`temporary: context deadline exceeded`, "did not answer in time", true},
		{`credentials (HTTP 401): bad key`, "refused the credentials", true},
		{`Status Failed: Get "http://x": EOF`, "Status Failed. The POS gave an answer", true},
		{"The POS order ord_12 now belongs to FLT-0200, not this invoice; use Send as new to create a new order.", "now belongs to FLT-0200", false},
		{`GET /orders: temporary (HTTP 503): upstream unavailable`, "The POS had a problem on its side", true},
		{"", "", false},
	} {
		e := Explain(c.in)
		if !strings.Contains(e.Text, c.want) || (e.Detail != "") != c.detail {
			t.Errorf("Explain(%q) = %+v, want text with %q, detail %v", c.in, e, c.want, c.detail)
		}
		if httpCall.MatchString(e.Text) {
			t.Errorf("Explain(%q) starts with the HTTP call: %q", c.in, e.Text)
		}
		if IsTechnical(e.Text) {
			t.Errorf("Explain(%q) is still technical: %q", c.in, e.Text)
		}
		if c.detail && e.Detail != c.in {
			t.Errorf("Explain(%q) lost the detail: %q", c.in, e.Detail)
		}
	}
	got := ReplaceIDs("POS int_01k8x2y3z4a5b6c7d8e9 -> int_01k8x2y3z4a5b6c7d8f0", func(id string) string {
		if id == "int_01k8x2y3z4a5b6c7d8e9" {
			return "WooCommerce (Shop)"
		}
		return ""
	})
	if got != "POS WooCommerce (Shop) -> int_01k8x2y3z4a5b6c7d8f0" {
		t.Errorf("ReplaceIDs = %q", got)
	}
}
