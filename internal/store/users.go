package store

import (
	"context"
	"fmt"
	"time"

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
	activated := microsPtr(u.ActivatedAt)
	if u.ActivatedAt == nil && u.PasswordHash != "" && u.InvitedBy == "" {
		activated = microsPtr(&u.CreatedAt) // made with a password (first admin, CLI): active at once
	}
	_, err := s.q.exec(ctx, `INSERT INTO users (id, account_id, email, role, password_hash, created_at, name, invited_by, activated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		u.ID, u.AccountID, u.Email, string(u.Role), u.PasswordHash, micros(u.CreatedAt), u.Name, u.InvitedBy, activated)
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

const userCols = `id, account_id, email, role, password_hash, created_at, name, invited_by, activated_at, deactivated_at`

func scanUser(r row) (domain.User, error) {
	var u domain.User
	var role string
	var created int64
	var activated, deactivated *int64
	err := r.Scan(&u.ID, &u.AccountID, &u.Email, &role, &u.PasswordHash, &created, &u.Name, &u.InvitedBy, &activated, &deactivated)
	u.Role, u.CreatedAt = domain.Role(role), fromMicros(created)
	u.ActivatedAt, u.DeactivatedAt = fromMicrosPtr(activated), fromMicrosPtr(deactivated)
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
	rs, err := s.q.query(ctx, `SELECT email FROM users WHERE account_id = $1 AND role = $2 AND deactivated_at IS NULL AND activated_at IS NOT NULL ORDER BY email`, accountID, string(domain.RoleAdmin))
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

// ListUsers lists the account's users by email.
func (s queries) ListUsers(ctx context.Context, accountID string) ([]domain.User, error) {
	rs, err := s.q.query(ctx, `SELECT `+userCols+` FROM users WHERE account_id = $1 ORDER BY email`, accountID)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []domain.User{}
	for rs.Next() {
		u, err := scanUser(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rs.Err()
}

// SetUserRole gives a user of the account another role.
func (s queries) SetUserRole(ctx context.Context, accountID, id, role string) error {
	n, err := s.q.exec(ctx, `UPDATE users SET role = $3 WHERE account_id = $1 AND id = $2`, accountID, id, role)
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	return err
}

// SetUserDeactivated deactivates (at != nil) or reactivates a user; deactivating ends its sessions.
func (s queries) SetUserDeactivated(ctx context.Context, accountID, id string, at *time.Time) error {
	n, err := s.q.exec(ctx, `UPDATE users SET deactivated_at = $3 WHERE account_id = $1 AND id = $2`, accountID, id, microsPtr(at))
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	if err == nil && at != nil {
		_, err = s.q.exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id)
	}
	return err
}

// SetUserPassword replaces a user's password hash, activates an invited user, and ends every
// session of the user but keepToken's (the hash of the session that changed it; "" ends all).
func (s queries) SetUserPassword(ctx context.Context, accountID, id, hash, keepToken string, now time.Time) error {
	n, err := s.q.exec(ctx, `UPDATE users SET password_hash = $3, activated_at = COALESCE(activated_at, $4) WHERE account_id = $1 AND id = $2`,
		accountID, id, hash, micros(now))
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	if err == nil {
		_, err = s.q.exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, id, keepToken)
	}
	return err
}

// UserToken is a one-time link of a user: an invitation or a password reset.
type UserToken struct {
	UserID, AccountID, Kind string
	ExpiresAt               time.Time
}

// CreateUserToken stores a one-time link by its token's hash; earlier unused links of the
// same kind for the user stop working.
func (s queries) CreateUserToken(ctx context.Context, tokenHash string, t UserToken, now time.Time) error {
	if _, err := s.q.exec(ctx, `UPDATE user_tokens SET used_at = $3 WHERE user_id = $1 AND kind = $2 AND used_at IS NULL`, t.UserID, t.Kind, micros(now)); err != nil {
		return err
	}
	_, err := s.q.exec(ctx, `INSERT INTO user_tokens (token_hash, user_id, account_id, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		tokenHash, t.UserID, t.AccountID, t.Kind, micros(now), micros(t.ExpiresAt))
	return err
}

// PeekUserToken reads a live (unused, unexpired) one-time link.
func (s queries) PeekUserToken(ctx context.Context, tokenHash string, now time.Time) (UserToken, error) {
	var t UserToken
	var exp int64
	err := s.q.queryRow(ctx, `SELECT user_id, account_id, kind, expires_at FROM user_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`,
		tokenHash, micros(now)).Scan(&t.UserID, &t.AccountID, &t.Kind, &exp)
	t.ExpiresAt = fromMicros(exp)
	return t, err
}

// UseUserToken marks a live one-time link used, atomically: of two concurrent uses one wins,
// the other gets ErrNotFound.
func (s queries) UseUserToken(ctx context.Context, tokenHash string, now time.Time) (UserToken, error) {
	t, err := s.PeekUserToken(ctx, tokenHash, now)
	if err != nil {
		return t, err
	}
	n, err := s.q.exec(ctx, `UPDATE user_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL`, tokenHash, micros(now))
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	return t, err
}
