package domain

import (
	"errors"
	"math/big"
)

// Bounds on money and quantities from outside. Amounts are int64 minor units; keeping them (and
// every total) within MaxAmount leaves room so no sum of a document's lines wraps around.
const (
	MaxAmount   int64 = 1_000_000_000_000_000 // 10^15 minor units (10^13 EUR)
	MaxQuantity int64 = 1_000_000_000         // 10^9 units on one line
)

// ErrOutOfRange is returned by the checked arithmetic when a result leaves ±MaxAmount.
var ErrOutOfRange = errors.New("amount out of range")

// CheckAmount checks an amount of minor units against ±MaxAmount, naming the field.
func CheckAmount(field string, a int64) error {
	if a > MaxAmount || a < -MaxAmount {
		return Invalid(field, "%s must be between -%d and %d minor units", field, MaxAmount, MaxAmount)
	}
	return nil
}

// AddAmounts adds minor units; ErrOutOfRange when an operand or the sum leaves ±MaxAmount.
func AddAmounts(a, b int64) (int64, error) {
	if a > MaxAmount || a < -MaxAmount || b > MaxAmount || b < -MaxAmount {
		return 0, ErrOutOfRange
	}
	s := a + b // cannot wrap: |a|, |b| <= 10^15
	if s > MaxAmount || s < -MaxAmount {
		return 0, ErrOutOfRange
	}
	return s, nil
}

// MulAmount multiplies minor units by a whole quantity; ErrOutOfRange when the product (or an
// operand) leaves ±MaxAmount. Never wraps.
func MulAmount(amount, qty int64) (int64, error) {
	p := new(big.Int).Mul(big.NewInt(amount), big.NewInt(qty))
	if !p.IsInt64() || p.Int64() > MaxAmount || p.Int64() < -MaxAmount {
		return 0, ErrOutOfRange
	}
	return p.Int64(), nil
}

// MulRat multiplies minor units by a decimal quantity ("2", "0.5") and rounds half away from
// zero; ErrOutOfRange when the result leaves ±MaxAmount, an error when quantity is no number.
func MulRat(amount int64, quantity string) (int64, error) {
	q, ok := new(big.Rat).SetString(quantity)
	if !ok {
		return 0, errors.New("quantity " + quantity + " is not a decimal number")
	}
	t := new(big.Rat).Mul(q, new(big.Rat).SetInt64(amount))
	n, d := t.Num(), t.Denom()
	quo, rem := new(big.Int).QuoRem(n, d, new(big.Int))
	if new(big.Int).Mul(new(big.Int).Abs(rem), big.NewInt(2)).Cmp(d) >= 0 {
		if n.Sign() < 0 {
			quo.Sub(quo, big.NewInt(1))
		} else {
			quo.Add(quo, big.NewInt(1))
		}
	}
	if !quo.IsInt64() || quo.Int64() > MaxAmount || quo.Int64() < -MaxAmount {
		return 0, ErrOutOfRange
	}
	return quo.Int64(), nil
}

// MulInt64 multiplies two int64 values; ErrOutOfRange when the product does not fit in an int64.
// For intermediate products (price x tax rate in millionths) that are scaled down afterwards.
func MulInt64(a, b int64) (int64, error) {
	p := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	if !p.IsInt64() {
		return 0, ErrOutOfRange
	}
	return p.Int64(), nil
}
