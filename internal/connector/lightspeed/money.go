package lightspeed

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Lightspeed sends amounts as JSON numbers with up to five decimals (price_excluding_tax
// 2.63158). They are parsed as decimal text, never through float64, and rounded half away from
// zero to the currency's minor unit.

// minorDigits is the number of minor-unit digits of an ISO 4217 currency (2 unless listed).
func minorDigits(currency string) int {
	switch strings.ToUpper(currency) {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
		"VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

// parseMinor turns a decimal text ("126.5", "-0.005", "40", "1.2e1") into minor units with the
// given number of digits, rounding half away from zero. "" (a JSON null) is 0.
func parseMinor(s string, digits int) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	intPart, frac, neg, err := splitDecimal(s)
	if err != nil {
		return 0, err
	}
	// Pad or cut the fraction to digits+1 places; the extra digit decides the rounding, and
	// any non-zero digit beyond it is irrelevant to half-away-from-zero except when the extra
	// digit is exactly 5 (still rounds away), so one guard digit is enough.
	for len(frac) < digits+1 {
		frac += "0"
	}
	keep, guard := frac[:digits], frac[digits]
	digitsStr := strings.TrimLeft(intPart+keep, "0")
	if len(digitsStr) > 18 {
		return 0, fmt.Errorf("amount %q is too large", s)
	}
	var v int64
	for _, c := range digitsStr {
		v = v*10 + int64(c-'0')
	}
	if guard >= '5' {
		v++
	}
	if neg {
		v = -v
	}
	return v, nil
}

// splitDecimal splits a JSON number into its integer digits, fraction digits and sign, applying
// any exponent by moving the decimal point.
func splitDecimal(s string) (intPart, frac string, neg bool, err error) {
	orig := s
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	} else if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		var e int
		if _, err := fmt.Sscanf(s[i+1:], "%d", &e); err != nil || e > 30 || e < -30 {
			return "", "", false, fmt.Errorf("not a decimal number: %q", orig)
		}
		exp, s = e, s[:i]
	}
	intPart, frac, _ = strings.Cut(s, ".")
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return "", "", false, fmt.Errorf("not a decimal number: %q", orig)
	}
	for ; exp > 0; exp-- {
		if frac == "" {
			intPart += "0"
		} else {
			intPart, frac = intPart+frac[:1], frac[1:]
		}
	}
	for ; exp < 0; exp++ {
		if intPart == "" {
			frac = "0" + frac
		} else {
			intPart, frac = intPart[:len(intPart)-1], intPart[len(intPart)-1:]+frac
		}
	}
	if intPart == "" {
		intPart = "0"
	}
	return intPart, frac, neg, nil
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// formatMinor renders minor units as a decimal JSON number ("25.00" for 2500 with 2 digits).
func formatMinor(v int64, digits int) json.Number {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	s := fmt.Sprintf("%0*d", digits+1, u)
	if digits > 0 {
		s = s[:len(s)-digits] + "." + s[len(s)-digits:]
	}
	if neg {
		s = "-" + s
	}
	return json.Number(s)
}

// normDecimal validates a decimal quantity and returns it in plain form without exponent and
// without trailing fraction zeros ("2.500" -> "2.5", "1e1" -> "10"). "" stays "0".
func normDecimal(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "0", nil
	}
	intPart, frac, neg, err := splitDecimal(s)
	if err != nil {
		return "", err
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	frac = strings.TrimRight(frac, "0")
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out, nil
}
