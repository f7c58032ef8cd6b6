package shopify

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/posbridge/posbridge/internal/connector"
)

// parseMoney turns a Shopify decimal amount ("19.99", "5", "-0.5", "" = 0) into integer minor
// units of currency; see connector.ParseMinor for the grammar and the rounding.
func parseMoney(s, currency string) (int64, error) {
	return connector.ParseMinor(s, connector.CurrencyExponent(currency))
}

// formatMoney writes integer minor units of currency as the decimal string Shopify expects
// ("19.99", "1000" for JPY).
func formatMoney(amount int64, currency string) string {
	return connector.FormatMinor(amount, connector.CurrencyExponent(currency))
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
