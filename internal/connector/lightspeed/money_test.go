package lightspeed

import "testing"

// The plain decimal conversion is tested in package connector (connector.ParseMinor,
// connector.FormatMinor, connector.CurrencyExponent); these cases cover what Lightspeed adds:
// JSON numbers in exponent form and json.Number output.

func TestParseMinor(t *testing.T) {
	cases := []struct {
		in     string
		digits int
		want   int64
	}{
		{"2.63158", 2, 263},
		{"-0.005", 2, -1},
		{"1.2e1", 2, 1200},
		{"12e-1", 2, 120},
		{"1E2", 0, 100},
		{"1e+2", 0, 100},
		{"-2.5e-3", 2, 0},
		{"5e-3", 2, 1},
		{"-5e-3", 2, -1},
		{"0.0000", 2, 0},
		{"", 2, 0},
	}
	for _, c := range cases {
		got, err := parseMinor(c.in, c.digits)
		if err != nil || got != c.want {
			t.Errorf("parseMinor(%q, %d) = %d, %v; want %d", c.in, c.digits, got, err, c.want)
		}
	}
	for _, bad := range []string{"abc", "1.2.3", "--1", "1e999", "1e", "1e5abc", "e5", "12345678901234567890", "1e25"} {
		if _, err := parseMinor(bad, 2); err == nil {
			t.Errorf("parseMinor(%q) accepted", bad)
		}
	}
}

func TestFormatMinorAndNormDecimal(t *testing.T) {
	if got := formatMinor(2500, 2); got != "25.00" {
		t.Errorf("formatMinor(2500) = %s", got)
	}
	if got := formatMinor(-5, 2); got != "-0.05" {
		t.Errorf("formatMinor(-5) = %s", got)
	}
	for in, want := range map[string]string{"2.500": "2.5", "1e1": "10", "": "0", "007": "7", "-0.0": "0", "0.125": "0.125"} {
		if got, err := normDecimal(in); err != nil || got != want {
			t.Errorf("normDecimal(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
