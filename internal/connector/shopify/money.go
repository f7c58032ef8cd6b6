package shopify

import (
	"fmt"
	"strconv"
	"strings"
)

// minorDigits is the number of minor-unit digits of currencies that do not have two (ISO 4217).
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// digitsOf returns how many minor-unit digits currency has (2 unless listed).
func digitsOf(currency string) int {
	if d, ok := minorDigits[strings.ToUpper(currency)]; ok {
		return d
	}
	return 2
}

// parseMoney turns a Shopify decimal string ("19.99", "5", "-0.5") into integer minor units of
// currency without going through floating point. Digits beyond the currency's minor unit are
// rounded half away from zero.
func parseMoney(s, currency string) (int64, error) {
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
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("amount %q is not a decimal number", s)
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, fmt.Errorf("amount %q is not a decimal number", s)
			}
		}
	}
	digits := digitsOf(currency)
	roundUp := false
	if len(frac) > digits {
		roundUp = frac[digits] >= '5'
		frac = frac[:digits]
	}
	frac += strings.Repeat("0", digits-len(frac))
	if whole == "" {
		whole = "0"
	}
	if len(whole)+len(frac) > 18 {
		return 0, fmt.Errorf("amount %q is too large", s)
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q: %w", s, err)
	}
	if roundUp {
		n++
	}
	if neg {
		n = -n
	}
	return n, nil
}

// formatMoney writes integer minor units as the decimal string Shopify expects ("19.99").
func formatMoney(amount int64, currency string) string {
	digits := digitsOf(currency)
	neg := amount < 0
	if neg {
		amount = -amount
	}
	s := strconv.FormatInt(amount, 10)
	if digits > 0 {
		if len(s) <= digits {
			s = strings.Repeat("0", digits-len(s)+1) + s
		}
		s = s[:len(s)-digits] + "." + s[len(s)-digits:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// parseQuantity reads a decimal quantity that Shopify wants as a whole number ("2", "2.000").
func parseQuantity(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("quantity is empty")
	}
	whole, frac, _ := strings.Cut(s, ".")
	if strings.Trim(frac, "0") != "" {
		return 0, fmt.Errorf("quantity %q is not a whole number; Shopify counts whole units", s)
	}
	n, err := strconv.Atoi(whole)
	if err != nil {
		return 0, fmt.Errorf("quantity %q is not a number", s)
	}
	return n, nil
}
