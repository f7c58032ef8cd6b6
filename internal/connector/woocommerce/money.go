package woocommerce

import (
	"fmt"
	"math/big"
	"strings"
)

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
