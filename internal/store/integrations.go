package store

import (
	"context"
	"fmt"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

const integrationCols = `id, account_id, type, nickname, status, status_reason, consecutive_failures, store_id,
	last_check_at, last_success_at, last_sales_check_at, last_sale_imported_at, next_check_at,
	created_at, updated_at, deactivated_at, sales_interval_minutes`

// scanIntegration scans integrationCols, then into extra the columns a query selects after them.
func scanIntegration(r row, extra ...any) (domain.Integration, error) {
	var i domain.Integration
	var status string
	var created, updated int64
	var lastCheck, lastSuccess, lastSales, lastSale, nextCheck, deactivated *int64
	err := r.Scan(append([]any{&i.ID, &i.AccountID, &i.Type, &i.Nickname, &status, &i.StatusReason, &i.ConsecutiveFailures, &i.StoreID,
		&lastCheck, &lastSuccess, &lastSales, &lastSale, &nextCheck, &created, &updated, &deactivated, &i.SalesIntervalMinutes}, extra...)...)
	if err != nil {
		return i, err
	}
	i.Status = domain.Status(status)
	i.LastCheckAt, i.LastSuccessAt = fromMicrosPtr(lastCheck), fromMicrosPtr(lastSuccess)
	i.LastSalesCheckAt, i.LastSaleImportedAt = fromMicrosPtr(lastSales), fromMicrosPtr(lastSale)
	i.NextCheckAt, i.DeactivatedAt = fromMicrosPtr(nextCheck), fromMicrosPtr(deactivated)
	i.CreatedAt, i.UpdatedAt = fromMicros(created), fromMicros(updated)
	return i, nil
}

// CreateIntegration inserts an integration with its sealed credentials.
func (s queries) CreateIntegration(ctx context.Context, i domain.Integration, sealedCredentials, sealedWebhookSecret string) error {
	_, err := s.q.exec(ctx, `INSERT INTO integrations (id, account_id, type, nickname, status, status_reason, consecutive_failures,
		store_id, credentials, webhook_secret, next_check_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		i.ID, i.AccountID, i.Type, i.Nickname, string(i.Status), i.StatusReason, i.ConsecutiveFailures, i.StoreID,
		sealedCredentials, sealedWebhookSecret, microsPtr(i.NextCheckAt), micros(i.CreatedAt), micros(i.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert integration: %w", err)
	}
	return nil
}

// GetIntegration reads an integration of the account; another account's id is ErrNotFound.
func (s queries) GetIntegration(ctx context.Context, accountID, id string) (domain.Integration, error) {
	return scanIntegration(s.q.queryRow(ctx, `SELECT `+integrationCols+` FROM integrations WHERE account_id = $1 AND id = $2`, accountID, id))
}

// LockIntegration reads an integration for update within a transaction (PostgreSQL locks the row;
// SQLite transactions are serialised already).
func (s queries) LockIntegration(ctx context.Context, accountID, id string) (domain.Integration, error) {
	q := `SELECT ` + integrationCols + ` FROM integrations WHERE account_id = $1 AND id = $2`
	if s.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	return scanIntegration(s.q.queryRow(ctx, q, accountID, id))
}

// IntegrationFilter selects integrations of an account.
type IntegrationFilter struct {
	Active *bool  // nil: all; true: not inactive; false: inactive only
	Type   string // "" any
}

// ListIntegrations lists an account's integrations, oldest first.
func (s queries) ListIntegrations(ctx context.Context, accountID string, f IntegrationFilter) ([]domain.Integration, error) {
	q := `SELECT ` + integrationCols + ` FROM integrations WHERE account_id = $1`
	args := []any{accountID}
	if f.Active != nil {
		args = append(args, string(domain.StatusInactive))
		if *f.Active {
			q += fmt.Sprintf(` AND status <> $%d`, len(args))
		} else {
			q += fmt.Sprintf(` AND status = $%d`, len(args))
		}
	}
	if f.Type != "" {
		args = append(args, f.Type)
		q += fmt.Sprintf(` AND type = $%d`, len(args))
	}
	q += ` ORDER BY created_at, id`
	return s.listIntegrations(ctx, q, args...)
}

func (s queries) listIntegrations(ctx context.Context, q string, args ...any) ([]domain.Integration, error) {
	rs, err := s.q.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	defer rs.Close()
	out := []domain.Integration{}
	for rs.Next() {
		i, err := scanIntegration(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rs.Err()
}

// DueIntegrations lists integrations of any account whose scheduled check is due.
func (s queries) DueIntegrations(ctx context.Context, now time.Time, limit int) ([]domain.Integration, error) {
	return s.listIntegrations(ctx, `SELECT `+integrationCols+` FROM integrations
		WHERE next_check_at IS NOT NULL AND next_check_at <= $1 AND status IN ($2, $3, $4)
		ORDER BY next_check_at LIMIT $5`,
		micros(now), string(domain.StatusInitializing), string(domain.StatusHealthy), string(domain.StatusFailed), limit)
}

// UpdateIntegration writes every mutable field of an integration.
func (s queries) UpdateIntegration(ctx context.Context, i domain.Integration) error {
	n, err := s.q.exec(ctx, `UPDATE integrations SET nickname = $3, status = $4, status_reason = $5, consecutive_failures = $6,
		store_id = $7, last_check_at = $8, last_success_at = $9, last_sales_check_at = $10, last_sale_imported_at = $11,
		next_check_at = $12, updated_at = $13, deactivated_at = $14
		WHERE account_id = $1 AND id = $2`,
		i.AccountID, i.ID, i.Nickname, string(i.Status), i.StatusReason, i.ConsecutiveFailures, i.StoreID,
		microsPtr(i.LastCheckAt), microsPtr(i.LastSuccessAt), microsPtr(i.LastSalesCheckAt), microsPtr(i.LastSaleImportedAt),
		microsPtr(i.NextCheckAt), micros(i.UpdatedAt), microsPtr(i.DeactivatedAt))
	if err != nil {
		return fmt.Errorf("update integration %s: %w", i.ID, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// IntegrationSecrets reads the sealed credentials and webhook secret.
func (s queries) IntegrationSecrets(ctx context.Context, accountID, id string) (credentials, webhookSecret string, err error) {
	err = s.q.queryRow(ctx, `SELECT credentials, webhook_secret FROM integrations WHERE account_id = $1 AND id = $2`, accountID, id).
		Scan(&credentials, &webhookSecret)
	return credentials, webhookSecret, err
}

// SetIntegrationCredentials replaces the sealed credentials.
func (s queries) SetIntegrationCredentials(ctx context.Context, accountID, id, sealed string) error {
	_, err := s.q.exec(ctx, `UPDATE integrations SET credentials = $3 WHERE account_id = $1 AND id = $2`, accountID, id, sealed)
	return err
}

// ReplaceStores replaces the stores loaded from the provider.
func (s queries) ReplaceStores(ctx context.Context, accountID, integrationID string, stores []domain.Store) error {
	if _, err := s.q.exec(ctx, `DELETE FROM integration_stores WHERE account_id = $1 AND integration_id = $2`, accountID, integrationID); err != nil {
		return fmt.Errorf("clear stores: %w", err)
	}
	for _, st := range stores {
		if _, err := s.q.exec(ctx, `INSERT INTO integration_stores (integration_id, account_id, store_id, name, currency) VALUES ($1, $2, $3, $4, $5)`,
			integrationID, accountID, st.ID, st.Name, st.Currency); err != nil {
			return fmt.Errorf("insert store %s: %w", st.ID, err)
		}
	}
	return nil
}

// ListStores lists an integration's stores.
func (s queries) ListStores(ctx context.Context, accountID, integrationID string) ([]domain.Store, error) {
	rs, err := s.q.query(ctx, `SELECT store_id, name, currency FROM integration_stores WHERE account_id = $1 AND integration_id = $2 ORDER BY name, store_id`,
		accountID, integrationID)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []domain.Store{}
	for rs.Next() {
		var st domain.Store
		if err := rs.Scan(&st.ID, &st.Name, &st.Currency); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rs.Err()
}

// StatusCounts counts integrations by status across all accounts (for metrics).
func (s queries) StatusCounts(ctx context.Context) (map[domain.Status]int, error) {
	rs, err := s.q.query(ctx, `SELECT status, COUNT(*) FROM integrations GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := map[domain.Status]int{}
	for rs.Next() {
		var st string
		var n int
		if err := rs.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[domain.Status(st)] = n
	}
	return out, rs.Err()
}

// ClaimDueCheck moves an integration's next check forward if it is still due and scheduled;
// it reports whether this caller claimed it (so two sweeps never enqueue the same check).
func (s queries) ClaimDueCheck(ctx context.Context, accountID, id string, now, next time.Time) (bool, error) {
	n, err := s.q.exec(ctx, `UPDATE integrations SET next_check_at = $3
		WHERE account_id = $1 AND id = $2 AND next_check_at <= $4 AND status IN ($5, $6, $7)`,
		accountID, id, micros(next), micros(now),
		string(domain.StatusInitializing), string(domain.StatusHealthy), string(domain.StatusFailed))
	return n == 1, err
}

// IntegrationByID finds an integration in any account (inbound webhooks name only the id).
func (s queries) IntegrationByID(ctx context.Context, id string) (domain.Integration, error) {
	return scanIntegration(s.q.queryRow(ctx, `SELECT `+integrationCols+` FROM integrations WHERE id = $1`, id))
}

// WebhookSubscription reads the id of the provider's webhook subscription for the integration.
func (s queries) WebhookSubscription(ctx context.Context, accountID, id string) (string, error) {
	var sub string
	err := s.q.queryRow(ctx, `SELECT webhook_subscription_id FROM integrations WHERE account_id = $1 AND id = $2`, accountID, id).Scan(&sub)
	return sub, err
}

// SetWebhookSubscription records the provider's webhook subscription id.
func (s queries) SetWebhookSubscription(ctx context.Context, accountID, id, sub string) error {
	_, err := s.q.exec(ctx, `UPDATE integrations SET webhook_subscription_id = $3 WHERE account_id = $1 AND id = $2`, accountID, id, sub)
	return err
}

// SetIssuedWebhookSubscription records a subscription whose provider issued the signing key
// itself: the id and the sealed key, which replaces the integration's webhook secret in the
// same statement, so deliveries are verified with the key of the subscription on record.
func (s queries) SetIssuedWebhookSubscription(ctx context.Context, accountID, id, sub, sealedKey string) error {
	_, err := s.q.exec(ctx, `UPDATE integrations SET webhook_subscription_id = $3, webhook_secret = $4 WHERE account_id = $1 AND id = $2`,
		accountID, id, sub, sealedKey)
	return err
}
