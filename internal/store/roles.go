package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

const roleCols = `id, name, permissions, store_ids, created_at`

func scanRole(r row) (domain.AccessRole, error) {
	var ro domain.AccessRole
	var perms, stores string
	var created int64
	if err := r.Scan(&ro.ID, &ro.Name, &perms, &stores, &created); err != nil {
		return ro, err
	}
	if err := json.Unmarshal([]byte(perms), &ro.Permissions); err != nil {
		return ro, fmt.Errorf("role %s permissions: %w", ro.ID, err)
	}
	if err := json.Unmarshal([]byte(stores), &ro.StoreIDs); err != nil {
		return ro, fmt.Errorf("role %s store_ids: %w", ro.ID, err)
	}
	if ro.Permissions == nil {
		ro.Permissions = []domain.Permission{}
	}
	if ro.StoreIDs == nil {
		ro.StoreIDs = []string{}
	}
	t := fromMicros(created)
	ro.CreatedAt = &t
	return ro, nil
}

func jsonList[T any](v []T) string {
	if v == nil {
		v = []T{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// GetRole reads a custom role of the account.
func (s queries) GetRole(ctx context.Context, accountID, id string) (domain.AccessRole, error) {
	return scanRole(s.q.queryRow(ctx, `SELECT `+roleCols+` FROM roles WHERE account_id = $1 AND id = $2`, accountID, id))
}

// ListRoles lists the account's custom roles by name.
func (s queries) ListRoles(ctx context.Context, accountID string) ([]domain.AccessRole, error) {
	rs, err := s.q.query(ctx, `SELECT `+roleCols+` FROM roles WHERE account_id = $1 ORDER BY name, id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []domain.AccessRole{}
	for rs.Next() {
		r, err := scanRole(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// roleNameTaken tells whether another role of the account has the name (case-insensitively).
func (s queries) roleNameTaken(ctx context.Context, accountID, id, name string) (bool, error) {
	var n int
	err := s.q.queryRow(ctx, `SELECT COUNT(*) FROM roles WHERE account_id = $1 AND id <> $2 AND LOWER(name) = $3`,
		accountID, id, strings.ToLower(name)).Scan(&n)
	return n > 0, err
}

func roleNameConflict() error {
	return &domain.Error{Code: domain.CodeConflict, Field: "name", Message: "your account already has a role with this name"}
}

// CreateRole inserts a custom role; a taken name is a conflict on name.
func (s queries) CreateRole(ctx context.Context, accountID string, r domain.AccessRole, now time.Time) error {
	if taken, err := s.roleNameTaken(ctx, accountID, r.ID, r.Name); err != nil || taken {
		if err == nil {
			err = roleNameConflict()
		}
		return err
	}
	_, err := s.q.exec(ctx, `INSERT INTO roles (id, account_id, name, permissions, store_ids, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
		r.ID, accountID, r.Name, jsonList(r.Permissions), jsonList(r.StoreIDs), micros(now))
	return err
}

// UpdateRole replaces a custom role's name, permissions and stores.
func (s queries) UpdateRole(ctx context.Context, accountID string, r domain.AccessRole, now time.Time) error {
	if taken, err := s.roleNameTaken(ctx, accountID, r.ID, r.Name); err != nil || taken {
		if err == nil {
			err = roleNameConflict()
		}
		return err
	}
	n, err := s.q.exec(ctx, `UPDATE roles SET name = $3, permissions = $4, store_ids = $5, updated_at = $6 WHERE account_id = $1 AND id = $2`,
		accountID, r.ID, r.Name, jsonList(r.Permissions), jsonList(r.StoreIDs), micros(now))
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	return err
}

// DeleteRole removes a custom role.
func (s queries) DeleteRole(ctx context.Context, accountID, id string) error {
	n, err := s.q.exec(ctx, `DELETE FROM roles WHERE account_id = $1 AND id = $2`, accountID, id)
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	return err
}

// CountUsersWithRole counts the account's users that have a role.
func (s queries) CountUsersWithRole(ctx context.Context, accountID, role string) (int, error) {
	var n int
	err := s.q.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE account_id = $1 AND role = $2`, accountID, role).Scan(&n)
	return n, err
}
