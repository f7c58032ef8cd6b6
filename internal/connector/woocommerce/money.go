package woocommerce

import (
	"fmt"
	"math/big"
	"strings"
)

// currencyExponent returns the number of minor-unit digits of an ISO 4217 currency. Minor units
// are counted in the currency's own exponent, whatever the store shows (price decimals).
func currencyExponent(cur string) int {
	switch strings.ToUpper(cur) {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

// parseMinor turns a decimal string ("12.5", "12.50", "-3", "") into minor units with exp digits,
// rounding half away from zero when the string has more digits than the currency. No floats.
func parseMinor(s string, exp int) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return 0, fmt.Errorf("amount %q is not a decimal number", s)
	}
	for _, r := range intPart + frac {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("amount %q is not a decimal number", s)
		}
	}
	round := false
	if len(frac) > exp {
		round = frac[exp] >= '5'
		frac = frac[:exp]
	}
	frac += strings.Repeat("0", exp-len(frac))
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		digits = "0"
	}
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok || n.BitLen() > 62 {
		return 0, fmt.Errorf("amount %q is out of range", s)
	}
	v := n.Int64()
	if round {
		v++
	}
	if neg {
		v = -v
	}
	return v, nil
}

// formatMinor writes minor units as the decimal string WooCommerce expects ("12.50").
func formatMinor(v int64, exp int) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := fmt.Sprintf("%0*d", exp+1, v)
	if exp > 0 {
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// weightFactors are grams per unit, exact (1 lb = 453.59237 g by definition).
var weightFactors = map[string]*big.Rat{
	"g":   big.NewRat(1, 1),
	"kg":  big.NewRat(1000, 1),
	"lbs": big.NewRat(45359237, 100000),
	"lb":  big.NewRat(45359237, 100000),
	"oz":  big.NewRat(45359237, 1600000),
}

// convertWeight converts a decimal weight between g, kg, lb(s) and oz exactly, rounded to
// 4 decimals when the result does not terminate. WooCommerce calls pounds "lbs".
func convertWeight(value, from, to string) (string, error) {
	from, to = strings.ToLower(from), strings.ToLower(to)
	if value == "" || from == to || from == "" {
		return value, nil
	}
	f, ok1 := weightFactors[from]
	t, ok2 := weightFactors[to]
	if !ok1 || !ok2 {
		return "", fmt.Errorf("cannot convert weight from %q to %q", from, to)
	}
	r, ok := new(big.Rat).SetString(value)
	if !ok {
		return "", fmt.Errorf("weight %q is not a decimal number", value)
	}
	r.Mul(r, f).Quo(r, t)
	s := r.FloatString(4)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-" {
		s = "0"
	}
	return s, nil
}

// neutralWeightUnit names WooCommerce's weight unit the way domain.Weight does.
func neutralWeightUnit(u string) string {
	if u == "lbs" {
		return "lb"
	}
	return u
}
