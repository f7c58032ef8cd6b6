package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

// GetCatalogSyncSettings reads the account's catalog sync settings, or the defaults when none were saved.
func (s queries) GetCatalogSyncSettings(ctx context.Context, accountID string) (domain.CatalogSyncSettings, error) {
	var raw string
	st := domain.DefaultCatalogSyncSettings()
	err := s.q.queryRow(ctx, `SELECT settings FROM catalog_sync_settings WHERE account_id = $1`, accountID).Scan(&raw)
	if errors.Is(err, ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return st, fmt.Errorf("catalog sync settings of %s: %w", accountID, err)
	}
	if st.Destinations == nil {
		st.Destinations = []domain.CatalogDestination{}
	}
	return st, nil
}

// SaveCatalogSyncSettings writes the account's catalog sync settings.
func (s queries) SaveCatalogSyncSettings(ctx context.Context, accountID string, st domain.CatalogSyncSettings, now time.Time) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = s.q.exec(ctx, `INSERT INTO catalog_sync_settings (account_id, settings, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (account_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`, accountID, string(b), micros(now))
	return err
}

// CatalogSyncAccounts lists the accounts whose catalog sync is on, with their settings.
func (s queries) CatalogSyncAccounts(ctx context.Context) (map[string]domain.CatalogSyncSettings, error) {
	rs, err := s.q.query(ctx, `SELECT account_id, settings FROM catalog_sync_settings`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := map[string]domain.CatalogSyncSettings{}
	for rs.Next() {
		var acct, raw string
		if err := rs.Scan(&acct, &raw); err != nil {
			return nil, err
		}
		var st domain.CatalogSyncSettings
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			return nil, fmt.Errorf("catalog sync settings of %s: %w", acct, err)
		}
		if st.Enabled {
			out[acct] = st
		}
	}
	return out, rs.Err()
}
