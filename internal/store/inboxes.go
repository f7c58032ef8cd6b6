package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// EmailInbox is an email integration's address and import settings.
type EmailInbox struct {
	IntegrationID  string
	AccountID      string
	LocalPart      string
	Mapping        json.RawMessage
	AllowedSenders []string
	LastFileAt     *time.Time
	CreatedAt      time.Time
}

const inboxCols = `integration_id, account_id, local_part, mapping, allowed_senders, last_file_at, created_at`

func scanInbox(r row) (EmailInbox, error) {
	var in EmailInbox
	var mapping, senders string
	var last *int64
	var created int64
	if err := r.Scan(&in.IntegrationID, &in.AccountID, &in.LocalPart, &mapping, &senders, &last, &created); err != nil {
		return in, err
	}
	in.Mapping = json.RawMessage(mapping)
	if err := json.Unmarshal([]byte(senders), &in.AllowedSenders); err != nil {
		return in, fmt.Errorf("decode allowed senders of %s: %w", in.IntegrationID, err)
	}
	in.LastFileAt, in.CreatedAt = fromMicrosPtr(last), fromMicros(created)
	return in, nil
}

// GetEmailInbox reads an integration's inbox (ErrNotFound when it has none yet).
func (s queries) GetEmailInbox(ctx context.Context, accountID, integrationID string) (EmailInbox, error) {
	return scanInbox(s.q.queryRow(ctx, `SELECT `+inboxCols+` FROM email_inboxes WHERE account_id = $1 AND integration_id = $2`, accountID, integrationID))
}

// EmailInboxByLocalPart finds the inbox of an address's local part, in any account.
func (s queries) EmailInboxByLocalPart(ctx context.Context, localPart string) (EmailInbox, error) {
	return scanInbox(s.q.queryRow(ctx, `SELECT `+inboxCols+` FROM email_inboxes WHERE local_part = $1`, localPart))
}

// CreateEmailInbox gives an integration its inbox, unless it has one; it returns the inbox.
func (s queries) CreateEmailInbox(ctx context.Context, in EmailInbox) (EmailInbox, error) {
	senders, _ := json.Marshal(append([]string{}, in.AllowedSenders...))
	mapping := string(in.Mapping)
	if mapping == "" {
		mapping = "{}"
	}
	if _, err := s.q.exec(ctx, `INSERT INTO email_inboxes (integration_id, account_id, local_part, mapping, allowed_senders, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (integration_id) DO NOTHING`,
		in.IntegrationID, in.AccountID, in.LocalPart, mapping, string(senders), micros(in.CreatedAt)); err != nil {
		return in, fmt.Errorf("create email inbox: %w", err)
	}
	return s.GetEmailInbox(ctx, in.AccountID, in.IntegrationID)
}

// SetEmailInboxSettings replaces an inbox's column mapping and sender allow-list.
func (s queries) SetEmailInboxSettings(ctx context.Context, accountID, integrationID string, mapping json.RawMessage, senders []string) error {
	b, _ := json.Marshal(append([]string{}, senders...))
	n, err := s.q.exec(ctx, `UPDATE email_inboxes SET mapping = $3, allowed_senders = $4 WHERE account_id = $1 AND integration_id = $2`,
		accountID, integrationID, string(mapping), string(b))
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

// MarkEmailFile records that a sales file came to the inbox.
func (s queries) MarkEmailFile(ctx context.Context, accountID, integrationID string, at time.Time) error {
	_, err := s.q.exec(ctx, `UPDATE email_inboxes SET last_file_at = $3 WHERE account_id = $1 AND integration_id = $2`, accountID, integrationID, micros(at))
	return err
}
