package store

import (
	"context"
	"fmt"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

const apiKeyCols = `id, account_id, name, prefix, role, created_at, last_used_at, revoked_at`

func scanAPIKey(r row) (domain.APIKey, error) {
	var k domain.APIKey
	var created int64
	var used, revoked *int64
	err := r.Scan(&k.ID, &k.AccountID, &k.Name, &k.Prefix, &k.Role, &created, &used, &revoked)
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromMicros(created), fromMicrosPtr(used), fromMicrosPtr(revoked)
	return k, err
}

// APIKeyByHash finds a live (not revoked) API key by its hash, in any account. It reads the
// database on every call, so a revocation holds at once in every process.
func (s queries) APIKeyByHash(ctx context.Context, hash string) (domain.APIKey, error) {
	return scanAPIKey(s.q.queryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`, hash))
}

// ListAPIKeys lists the account's live API keys, oldest first.
func (s queries) ListAPIKeys(ctx context.Context, accountID string) ([]domain.APIKey, error) {
	rs, err := s.q.query(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE account_id = $1 AND revoked_at IS NULL ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []domain.APIKey{}
	for rs.Next() {
		k, err := scanAPIKey(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rs.Err()
}

// GetAPIKey reads a live API key of the account.
func (s queries) GetAPIKey(ctx context.Context, accountID, id string) (domain.APIKey, error) {
	return scanAPIKey(s.q.queryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE account_id = $1 AND id = $2 AND revoked_at IS NULL`, accountID, id))
}

// RevokeAPIKey revokes a live key of the account; ErrNotFound when there is none.
func (s queries) RevokeAPIKey(ctx context.Context, accountID, id string, now time.Time) error {
	n, err := s.q.exec(ctx, `UPDATE api_keys SET revoked_at = $3 WHERE account_id = $1 AND id = $2 AND revoked_at IS NULL`, accountID, id, micros(now))
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	return err
}

// TouchAPIKey records a use of the key, at most once a minute per key (a write per request
// would cost more than the information is worth).
func (s queries) TouchAPIKey(ctx context.Context, id string, now time.Time) error {
	_, err := s.q.exec(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)`,
		id, micros(now), micros(now.Add(-time.Minute)))
	return err
}

// CountAPIKeysWithRole counts the account's live keys acting with a role.
func (s queries) CountAPIKeysWithRole(ctx context.Context, accountID, role string) (int, error) {
	var n int
	err := s.q.queryRow(ctx, `SELECT COUNT(*) FROM api_keys WHERE account_id = $1 AND role = $2 AND revoked_at IS NULL`, accountID, role).Scan(&n)
	return n, err
}

// CreateAPIKey stores a key's hash.
func (s queries) CreateAPIKey(ctx context.Context, k domain.APIKey) error {
	if k.Role == "" {
		k.Role = domain.RoleStoreAdmin
	}
	_, err := s.q.exec(ctx, `INSERT INTO api_keys (id, account_id, name, prefix, hash, created_at, role) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.AccountID, k.Name, k.Prefix, k.Hash, micros(k.CreatedAt), k.Role)
	if err != nil {
		return fmt.Errorf("insert api key: %w", err)
	}
	return nil
}

// AccountByAPIKeyHash finds the account a live API key belongs to.
func (s queries) AccountByAPIKeyHash(ctx context.Context, hash string) (string, error) {
	var acct string
	err := s.q.queryRow(ctx, `SELECT account_id FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`, hash).Scan(&acct)
	return acct, err
}
