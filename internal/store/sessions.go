package store

import (
	"context"
	"time"
)

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
	// The user's state is read with the session: a deactivated user's session ends at once, in
	// every process.
	err := s.q.queryRow(ctx, `SELECT s.user_id, s.account_id, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.deactivated_at IS NULL`, tokenHash, micros(now)).
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
