package fidelity

import (
	"encoding/json"
	"strings"
	"testing"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMatch(t *testing.T) {
	got := decode(t, `{"a":1,"b":"x","c":[{"id":"7","n":null}],"d":true,"extra":{"k":1}}`)
	for _, c := range []struct {
		want string
		diff string // "" when it matches; else a piece of the difference
	}{
		{`{"a":1,"b":"x"}`, ""},
		{`{"a":"<number>","b":"<string>","c":"<any>","e":"<absent>","c2":"<absent>"}`, ""},
		{`{"c":[{"id":"7","n":"<absent>"}]}`, ""},
		{`{"c":[{"id":"7","n":null}],"d":true}`, ""},
		{`{"a":2}`, "body.a"},
		{`{"b":"<number>"}`, "not a number"},
		{`{"e":"<any>"}`, "body.e: missing"},
		{`{"b":"<absent>"}`, "documented absent"},
		{`{"c":[]}`, "1 elements, documented 0"},
		{`{"c":[{"id":"8"}]}`, "body.c[0].id"},
		{`{"d":false}`, "body.d"},
		{`{"extra":[1]}`, "documented an array"},
		{`{"a":{"x":1}}`, "documented an object"},
	} {
		diffs := Match(decode(t, c.want), got, "body")
		switch {
		case c.diff == "" && len(diffs) > 0:
			t.Errorf("%s: unexpected differences %v", c.want, diffs)
		case c.diff != "" && !strings.Contains(strings.Join(diffs, "|"), c.diff):
			t.Errorf("%s: differences %v, want one with %q", c.want, diffs, c.diff)
		}
	}
}

func TestAtAndExpand(t *testing.T) {
	v := decode(t, `{"order":{"line_items":[{"uid":"u1"}],"version":2}}`)
	if x, ok := At(v, "order.line_items.0.uid"); !ok || x != "u1" {
		t.Fatalf("At: %v %v", x, ok)
	}
	if _, ok := At(v, "order.line_items.3.uid"); ok {
		t.Fatal("At past the end")
	}
	if x, _ := At(v, "order.version"); scalar(x) != "2" {
		t.Fatalf("scalar %q", scalar(x))
	}
	if got := expand("/v2/orders/{{id}}?x={{unknown}}", map[string]string{"id": "O1"}); got != "/v2/orders/O1?x={{unknown}}" {
		t.Fatalf("expand %q", got)
	}
}
