package store

import (
	"context"
	"fmt"

	"github.com/posbridge/posbridge/internal/domain"
)

// CreateUser inserts a user; a taken email is a conflict on the email field.
func (s queries) CreateUser(ctx context.Context, u domain.User) error {
	var taken int
	if err := s.q.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE email = $1`, u.Email).Scan(&taken); err != nil {
		return err
	}
	if taken > 0 {
		return &domain.Error{Code: domain.CodeConflict, Field: "email", Message: "a user with this email already exists"}
	}
	_, err := s.q.exec(ctx, `INSERT INTO users (id, account_id, email, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		u.ID, u.AccountID, u.Email, string(u.Role), u.PasswordHash, micros(u.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

const userCols = `id, account_id, email, role, password_hash, created_at`

func scanUser(r row) (domain.User, error) {
	var u domain.User
	var role string
	var created int64
	err := r.Scan(&u.ID, &u.AccountID, &u.Email, &role, &u.PasswordHash, &created)
	u.Role, u.CreatedAt = domain.Role(role), fromMicros(created)
	return u, err
}

// UserByEmail finds a user for login, in any account.
func (s queries) UserByEmail(ctx context.Context, email string) (domain.User, error) {
	return scanUser(s.q.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE email = $1`, email))
}

// GetUser reads a user of the account.
func (s queries) GetUser(ctx context.Context, accountID, id string) (domain.User, error) {
	return scanUser(s.q.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE account_id = $1 AND id = $2`, accountID, id))
}

// AdminEmails lists the emails of the account's admins (who get called-off notices).
func (s queries) AdminEmails(ctx context.Context, accountID string) ([]string, error) {
	rs, err := s.q.query(ctx, `SELECT email FROM users WHERE account_id = $1 AND role = $2 ORDER BY email`, accountID, string(domain.RoleAdmin))
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var e string
		if err := rs.Scan(&e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rs.Err()
}
