package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

// GetOrderSyncSettings reads the account's settings, or the defaults when none were saved.
func (s queries) GetOrderSyncSettings(ctx context.Context, accountID string) (domain.OrderSyncSettings, error) {
	var raw string
	err := s.q.queryRow(ctx, `SELECT settings FROM order_sync_settings WHERE account_id = $1`, accountID).Scan(&raw)
	if errors.Is(err, ErrNotFound) {
		return domain.DefaultOrderSyncSettings(), nil
	}
	if err != nil {
		return domain.OrderSyncSettings{}, err
	}
	return parseSettings(accountID, &raw)
}

// parseSettings decodes saved settings over the defaults; nil is none saved.
func parseSettings(accountID string, raw *string) (domain.OrderSyncSettings, error) {
	st := domain.DefaultOrderSyncSettings()
	if raw == nil {
		return st, nil
	}
	if err := json.Unmarshal([]byte(*raw), &st); err != nil {
		return st, fmt.Errorf("order sync settings of %s: %w", accountID, err)
	}
	return st, nil
}

// SaveOrderSyncSettings writes the account's settings.
func (s queries) SaveOrderSyncSettings(ctx context.Context, accountID string, st domain.OrderSyncSettings, now time.Time) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = s.q.exec(ctx, `INSERT INTO order_sync_settings (account_id, settings, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (account_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`, accountID, string(b), micros(now))
	return err
}
