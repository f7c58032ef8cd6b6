package store

import (
	"context"
	"fmt"

	"github.com/posbridge/posbridge/internal/domain"
)

// CountAccounts counts accounts (zero on a fresh database).
func (s queries) CountAccounts(ctx context.Context) (int, error) {
	var n int
	err := s.q.queryRow(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n)
	return n, err
}

// CreateAccount inserts an account.
func (s queries) CreateAccount(ctx context.Context, a domain.Account) error {
	_, err := s.q.exec(ctx, `INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)`, a.ID, a.Name, micros(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert account: %w", err)
	}
	return nil
}

// GetAccount reads an account.
func (s queries) GetAccount(ctx context.Context, id string) (domain.Account, error) {
	var a domain.Account
	var created int64
	err := s.q.queryRow(ctx, `SELECT id, name, created_at FROM accounts WHERE id = $1`, id).Scan(&a.ID, &a.Name, &created)
	a.CreatedAt = fromMicros(created)
	return a, err
}
