package connector

import (
	"math"
	"testing"
)

func TestCurrencyExponent(t *testing.T) {
	for cur, want := range map[string]int{
		"EUR": 2, "USD": 2, "eur": 2, "": 2, "XXX-unknown": 2,
		"JPY": 0, "jpy": 0, "KRW": 0, "CLP": 0, "ISK": 0, "XOF": 0, "VND": 0,
		"KWD": 3, "kwd": 3, "BHD": 3, "JOD": 3, "TND": 3, "OMR": 3,
	} {
		if got := CurrencyExponent(cur); got != want {
			t.Errorf("CurrencyExponent(%q) = %d, want %d", cur, got, want)
		}
	}
}

func TestParseMinor(t *testing.T) {
	for _, c := range []struct {
		in   string
		exp  int
		want int64
	}{
		// plain amounts
		{"19.99", 2, 1999}, {"12.50", 2, 1250}, {"12.5", 2, 1250}, {"12", 2, 1200}, {"5", 2, 500},
		{"0.5", 2, 50}, {"126.5", 2, 12650}, {"40", 2, 4000}, {"0.00", 2, 0}, {"007", 2, 700},
		{"5.", 2, 500}, {".5", 2, 50},
		// signs
		{"-3.10", 2, -310}, {"-200", 2, -20000}, {"+1.5", 2, 150}, {"-0", 2, 0}, {"-.5", 2, -50},
		// other exponents
		{"1000", 0, 1000}, {"1500", 0, 1500}, {"1234", 0, 1234}, {"1.234", 3, 1234},
		{"0.00001", 5, 1}, {"12.5", 8, 1250000000},
		// rounding half away from zero on the first dropped digit
		{"19.995", 2, 2000}, {"0.005", 2, 1}, {"-0.005", 2, -1}, {"0.004", 2, 0}, {"0.00499", 2, 0},
		{"2.63158", 2, 263}, {"3.02632", 2, 303}, {"1.2345", 3, 1235}, {"-1.2345", 3, -1235},
		{"0.5", 0, 1}, {"-0.5", 0, -1}, {"0.49", 0, 0}, {"-0.004", 2, 0},
		// empty and blank are zero; white space is ignored
		{"", 2, 0}, {"   ", 2, 0}, {" 1.5\n", 2, 150},
		// the int64 edges
		{"92233720368547758.07", 2, math.MaxInt64}, {"-92233720368547758.07", 2, -math.MaxInt64},
		{"92233720368547758.065", 2, math.MaxInt64}, {"92233720368547758.064", 2, math.MaxInt64 - 1}, {"9223372036854775807", 0, math.MaxInt64},
		{"0000000000000000000000001", 2, 100},
	} {
		got, err := ParseMinor(c.in, c.exp)
		if err != nil || got != c.want {
			t.Errorf("ParseMinor(%q, %d) = %d, %v; want %d", c.in, c.exp, got, err, c.want)
		}
	}
}

func TestParseMinorRefuses(t *testing.T) {
	for _, c := range []struct {
		in  string
		exp int
	}{
		{"1,00", 2}, {"1,50", 2}, {"abc", 2}, {"1.2.3", 2}, {"1e5", 2}, {"1.2e1", 2}, {"-", 2}, {"+", 2},
		{".", 2}, {"--1", 2}, {"+-1", 2}, {"- 1", 2}, {"1 000", 2}, {"0x10", 2}, {"½", 2}, {"1.5", -1},
		// out of int64 range, also through rounding
		{"12345678901234567890", 2}, {"92233720368547758.08", 2}, {"92233720368547758.075", 2},
		{"-92233720368547758.08", 2}, {"9223372036854775808", 0}, {"1", 19},
	} {
		if got, err := ParseMinor(c.in, c.exp); err == nil {
			t.Errorf("ParseMinor(%q, %d) = %d, want an error", c.in, c.exp, got)
		}
	}
}

func TestFormatMinor(t *testing.T) {
	for _, c := range []struct {
		in   int64
		exp  int
		want string
	}{
		{1999, 2, "19.99"}, {1250, 2, "12.50"}, {2500, 2, "25.00"}, {5, 2, "0.05"}, {0, 2, "0.00"},
		{-5, 2, "-0.05"}, {-310, 2, "-3.10"}, {7, 0, "7"}, {1000, 0, "1000"}, {-7, 0, "-7"},
		{1234, 3, "1.234"}, {1, 3, "0.001"}, {1250000000, 8, "12.50000000"}, {3, -1, "3"},
		{math.MaxInt64, 2, "92233720368547758.07"}, {math.MinInt64, 2, "-92233720368547758.08"},
		{math.MinInt64, 0, "-9223372036854775808"},
	} {
		if got := FormatMinor(c.in, c.exp); got != c.want {
			t.Errorf("FormatMinor(%d, %d) = %q, want %q", c.in, c.exp, got, c.want)
		}
	}
}

func TestMinorRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 99, -100, 123456789, math.MaxInt64, -math.MaxInt64} {
		for exp := 0; exp <= 8; exp++ {
			s := FormatMinor(v, exp)
			if got, err := ParseMinor(s, exp); err != nil || got != v {
				t.Errorf("ParseMinor(FormatMinor(%d, %d) = %q) = %d, %v", v, exp, s, got, err)
			}
		}
	}
}
