package store

import (
	"context"
	"fmt"
	"time"

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

// Session is a logged-in console user.
type Session struct {
	UserID, AccountID string
	ExpiresAt         time.Time
}

// CreateSession stores a session by its token's hash.
func (s queries) CreateSession(ctx context.Context, tokenHash string, sess Session, now time.Time) error {
	_, err := s.q.exec(ctx, `INSERT INTO sessions (token_hash, user_id, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		tokenHash, sess.UserID, sess.AccountID, micros(now), micros(sess.ExpiresAt))
	return err
}

// GetSession finds a live session.
func (s queries) GetSession(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	var sess Session
	var exp int64
	err := s.q.queryRow(ctx, `SELECT user_id, account_id, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2`, tokenHash, micros(now)).
		Scan(&sess.UserID, &sess.AccountID, &exp)
	sess.ExpiresAt = fromMicros(exp)
	return sess, err
}

// DeleteSession logs a session out.
func (s queries) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := s.q.exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
	return err
}

// DeleteExpiredSessions removes sessions past their expiry.
func (s queries) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	return s.q.exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, micros(now))
}
