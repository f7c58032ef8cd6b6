package lightspeed

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/posbridge/posbridge/internal/connector"
)

// Lightspeed sends amounts as JSON numbers with up to five decimals (price_excluding_tax
// 2.63158), possibly in exponent form. They are parsed as decimal text, never through float64,
// and rounded half away from zero to the currency's minor unit (connector.CurrencyExponent).

// parseMinor turns a JSON number text ("126.5", "-0.005", "40", "1.2e1") into minor units with
// the given number of digits, rounding half away from zero. "" (a JSON null) is 0. The exponent
// is applied here; the rest is connector.ParseMinor.
func parseMinor(s string, digits int) (int64, error) {
	plain, err := normDecimal(s)
	if err != nil {
		return 0, err
	}
	return connector.ParseMinor(plain, digits)
}

// formatMinor renders minor units as a decimal JSON number ("25.00" for 2500 with 2 digits).
func formatMinor(v int64, digits int) json.Number {
	return json.Number(connector.FormatMinor(v, digits))
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
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 30 || e < -30 {
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
