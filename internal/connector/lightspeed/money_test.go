package lightspeed

import "testing"

func TestParseMinor(t *testing.T) {
	cases := []struct {
		in     string
		digits int
		want   int64
	}{
		{"2.63158", 2, 263},
		{"126.5", 2, 12650},
		{"40", 2, 4000},
		{"0.005", 2, 1},
		{"-0.005", 2, -1},
		{"-200", 2, -20000},
		{"1.2e1", 2, 1200},
		{"12e-1", 2, 120},
		{"3.02632", 2, 303},
		{"1234", 0, 1234},
		{"1.2345", 3, 1235},
		{"", 2, 0},
		{"0.00499", 2, 0},
	}
	for _, c := range cases {
		got, err := parseMinor(c.in, c.digits)
		if err != nil || got != c.want {
			t.Errorf("parseMinor(%q, %d) = %d, %v; want %d", c.in, c.digits, got, err, c.want)
		}
	}
	for _, bad := range []string{"abc", "1.2.3", "--1", "1e999", "12345678901234567890"} {
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
	if got := formatMinor(7, 0); got != "7" {
		t.Errorf("formatMinor(7, 0) = %s", got)
	}
	for in, want := range map[string]string{"2.500": "2.5", "1e1": "10", "": "0", "007": "7", "-0.0": "0", "0.125": "0.125"} {
		if got, err := normDecimal(in); err != nil || got != want {
			t.Errorf("normDecimal(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if minorDigits("JPY") != 0 || minorDigits("KWD") != 3 || minorDigits("eur") != 2 {
		t.Error("minor digits table")
	}
}
