package connector

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Money helpers shared by the providers. posbridge keeps amounts as int64 minor units of the
// currency (domain.Money); providers speak decimal strings ("19.99"). The conversion never goes
// through floating point: the decimal text is read digit by digit.

// CurrencyExponent returns the number of minor-unit digits of an ISO 4217 currency code: 0 for
// currencies without minor unit (JPY, KRW, ...), 3 for the three-decimal dinars and rials (KWD,
// BHD, ...), and 2 for every other code, including unknown or empty ones. The code is matched
// case-insensitively. A store's display precision does not change the exponent.
func CurrencyExponent(currency string) int {
	switch strings.ToUpper(currency) {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
		"VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

// ParseMinor turns a plain decimal string into integer minor units with exp fraction digits
// (exp is usually CurrencyExponent(currency)): ParseMinor("19.99", 2) is 1999.
//
//   - Surrounding white space is ignored; an empty string is 0 (providers send "" or null for
//     "no amount").
//   - One leading '-' or '+' sign is allowed; the integer or the fraction part may be empty but
//     not both ("5", "5.", ".5" are fine; ".", "-" are not). Leading zeros are fine.
//   - Anything else is refused: thousands separators or decimal commas ("1,50"), exponents
//     ("1e5"), repeated signs or points.
//   - Fraction digits beyond exp are rounded half away from zero on the first dropped digit:
//     "0.005" is 1 and "-0.005" is -1, "0.00499" is 0 (at exp 2).
//   - A value whose rounded magnitude does not fit in an int64 is refused rather than wrapped.
//   - exp must not be negative.
func ParseMinor(s string, exp int) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if exp < 0 {
		return 0, fmt.Errorf("amount %q: negative exponent %d", s, exp)
	}
	orig := s
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || !isDigits(whole) || !isDigits(frac) {
		return 0, fmt.Errorf("amount %q is not a decimal number", orig)
	}
	roundUp := false
	if len(frac) > exp {
		roundUp = frac[exp] >= '5'
		frac = frac[:exp]
	}
	var u uint64 // magnitude, kept <= math.MaxInt64
	for _, part := range []string{whole, frac, strings.Repeat("0", exp-len(frac))} {
		for i := 0; i < len(part); i++ {
			d := uint64(part[i] - '0')
			if u > (math.MaxInt64-d)/10 {
				return 0, fmt.Errorf("amount %q is out of range", orig)
			}
			u = u*10 + d
		}
	}
	if roundUp {
		if u == math.MaxInt64 {
			return 0, fmt.Errorf("amount %q is out of range", orig)
		}
		u++
	}
	v := int64(u)
	if neg {
		v = -v
	}
	return v, nil
}

// FormatMinor writes integer minor units as a plain decimal string with exactly exp fraction
// digits: FormatMinor(1999, 2) is "19.99", FormatMinor(-5, 2) is "-0.05", FormatMinor(7, 0) is
// "7". Negative amounts get a leading '-'; every int64 (math.MinInt64 included) is rendered
// exactly. An exp of zero or less writes no fraction part. ParseMinor(FormatMinor(v, exp), exp)
// is v for every v > math.MinInt64.
func FormatMinor(amount int64, exp int) string {
	neg := amount < 0
	u := uint64(amount)
	if neg {
		u = -u // two's complement: also right for math.MinInt64
	}
	s := strconv.FormatUint(u, 10)
	if exp > 0 {
		if len(s) <= exp {
			s = strings.Repeat("0", exp-len(s)+1) + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// isDigits reports whether s holds only ASCII digits (true for "").
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
