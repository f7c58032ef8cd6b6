package domain_test

import (
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/domain"
)

func TestCheckText(t *testing.T) {
	cases := []struct {
		name, in string
		k        domain.TextKind
		ok       bool
	}{
		{"plain", "Café Nord", domain.TextName, true},
		{"arabic name", "مقهى", domain.TextName, true},
		{"at the limit", strings.Repeat("é", domain.MaxNameLen), domain.TextName, true},
		{"over the limit", strings.Repeat("x", domain.MaxNameLen+1), domain.TextName, false},
		{"NUL", "a\x00b", domain.TextName, false},
		{"NUL in long text", "a\x00b", domain.TextDescription, false},
		{"newline in a name", "a\nb", domain.TextName, false},
		{"newline in long text", "a\nb\tc\r\n", domain.TextDescription, true},
		{"escape", "a\x1b[31mb", domain.TextDescription, false},
		{"DEL", "a\x7fb", domain.TextName, false},
		{"C1", "a\u0085b", domain.TextDescription, false},
		{"bidi override in a name", "abc\u202Egnp.exe", domain.TextName, false},
		{"bidi isolate in an id", "x\u2066y", domain.TextID, false},
		{"bidi in long text", "abc\u202Bx", domain.TextDescription, true},
		{"invalid UTF-8", "a\xffb", domain.TextDescription, false},
		{"1 MiB", strings.Repeat("x", 1<<20), domain.TextDescription, false},
	}
	for _, c := range cases {
		err := domain.CheckText("f.name", c.in, c.k)
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil && (domain.ErrorCode(err) != domain.CodeInvalid || err.(*domain.Error).Field != "f.name") {
			t.Errorf("%s: %v does not name the field as invalid", c.name, err)
		}
	}
	for in, want := range map[string]bool{"int_1": true, "int_\x00": false, "a\tb": false, "a\x7f": false, "\xc0": false, "x\u0090": false, "ünï": true} {
		if got := domain.PlausibleID(in); got != want {
			t.Errorf("PlausibleID(%q) = %v", in, got)
		}
	}
}

func TestMoneyArithmetic(t *testing.T) {
	const max = domain.MaxAmount
	if s, err := domain.AddAmounts(max-1, 1); err != nil || s != max {
		t.Fatalf("%d %v", s, err)
	}
	if _, err := domain.AddAmounts(max, 1); err == nil {
		t.Fatal("sum beyond MaxAmount accepted")
	}
	if _, err := domain.AddAmounts(1<<62, 1<<62); err == nil {
		t.Fatal("int64-wrapping sum accepted")
	}
	if _, err := domain.MulAmount(1<<40, 1<<40); err == nil {
		t.Fatal("wrapping product accepted")
	}
	if p, err := domain.MulAmount(-3, 7); err != nil || p != -21 {
		t.Fatalf("%d %v", p, err)
	}
	for _, c := range []struct {
		amount int64
		q      string
		want   int64
		ok     bool
	}{
		{199, "3", 597, true}, {199, "0.5", 100, true}, {-199, "0.5", -100, true}, {5, "-2", -10, true},
		{9223372036854775807, "1", 0, false}, {max, "1.00001", 0, false}, {max, "1", max, true}, {1, "x", 0, false},
	} {
		got, err := domain.MulRat(c.amount, c.q)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("MulRat(%d, %q) = %d, %v", c.amount, c.q, got, err)
		}
	}
	if _, err := domain.MulInt64(1<<62, 4); err == nil {
		t.Fatal("MulInt64 wrapped")
	}
}

func TestDocumentBounds(t *testing.T) {
	line := func(amount int64, q string) domain.DocLine {
		return domain.DocLine{Description: "x", Quantity: q, UnitPrice: domain.Money{Amount: amount, Currency: "EUR"}}
	}
	cases := []struct {
		name  string
		c     domain.DocContent
		field string
	}{
		{"ok", domain.DocContent{Status: "issued", Lines: []domain.DocLine{line(domain.MaxAmount/2, "1"), line(domain.MaxAmount/2, "1")}}, ""},
		{"two lines of 2^63-1", domain.DocContent{Status: "issued", Lines: []domain.DocLine{line(1<<63-1, "1"), line(1<<63-1, "1")}}, "lines[0].unit_price.amount"},
		{"amount beyond the bound", domain.DocContent{Status: "issued", Lines: []domain.DocLine{line(domain.MaxAmount+1, "1")}}, "lines[0].unit_price.amount"},
		{"negative amount beyond the bound", domain.DocContent{Status: "issued", Lines: []domain.DocLine{line(-domain.MaxAmount-1, "1")}}, "lines[0].unit_price.amount"},
		{"quantity beyond the bound", domain.DocContent{Status: "issued", Lines: []domain.DocLine{line(1, "1000000001")}}, "lines[0].quantity"},
		{"line total beyond", domain.DocContent{Status: "issued", Lines: []domain.DocLine{line(domain.MaxAmount, "2")}}, "lines[0].quantity"},
		{"document total beyond", domain.DocContent{Status: "issued", Lines: []domain.DocLine{line(domain.MaxAmount, "1"), line(1, "1")}}, "lines"},
		{"control in description", domain.DocContent{Status: "issued", Lines: []domain.DocLine{{Description: "a\x00", Quantity: "1", UnitPrice: domain.Money{Amount: 1, Currency: "EUR"}}}}, "lines[0].description"},
		{"bidi in customer name", domain.DocContent{Status: "issued", Customer: &domain.DocCustomer{Name: "x\u202Ey"}}, "customer.name"},
		{"long customer phone", domain.DocContent{Status: "issued", Customer: &domain.DocCustomer{Phone: strings.Repeat("1", 41)}}, "customer.phone"},
	}
	for _, c := range cases {
		err := c.c.Validate(domain.KindInvoice)
		got := ""
		if err != nil {
			got = err.(*domain.Error).Field
		}
		if got != c.field {
			t.Errorf("%s: field %q, want %q (%v)", c.name, got, c.field, err)
		}
	}
	c := domain.DocContent{Lines: []domain.DocLine{line(1<<63-1, "1"), line(1<<63-1, "1")}}
	if _, err := c.Total(); err == nil {
		t.Fatal("Total of two lines of 2^63-1 did not fail")
	}
}
