package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/posbridge/posbridge/internal/domain"
)

// AddCatalogHistory appends entries to the account's field-level history (one batch).
func (s queries) AddCatalogHistory(ctx context.Context, accountID string, es []domain.HistoryEntry) error {
	steps := make([]step, 0, len(es))
	for _, e := range es {
		if len(e.Changes) == 0 {
			continue
		}
		b, err := json.Marshal(e.Changes)
		if err != nil {
			return fmt.Errorf("history of %s: %w", e.RecordID, err)
		}
		steps = append(steps, step{q: `INSERT INTO catalog_history (account_id, record, record_id, at, cause, integration_id, actor, changes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			args: []any{accountID, e.Record, e.RecordID, micros(e.At), e.Trigger, e.IntegrationID, e.Actor, string(b)}})
	}
	if len(steps) == 0 {
		return nil
	}
	if err := s.q.batch(ctx, steps); err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}

// ListCatalogHistory reads the history of one record, newest first, before the entry id before
// (0: from the newest).
func (s queries) ListCatalogHistory(ctx context.Context, accountID, record, recordID string, before int64, limit int) ([]domain.HistoryEntry, error) {
	q := `SELECT id, at, cause, integration_id, actor, changes FROM catalog_history WHERE account_id = $1 AND record = $2 AND record_id = $3`
	args := []any{accountID, record, recordID}
	if before > 0 {
		args = append(args, before)
		q += ` AND id < $4`
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rs, err := s.q.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list history: %w", err)
	}
	defer rs.Close()
	out := []domain.HistoryEntry{}
	for rs.Next() {
		e := domain.HistoryEntry{Record: record, RecordID: recordID}
		var at int64
		var raw string
		if err := rs.Scan(&e.ID, &at, &e.Trigger, &e.IntegrationID, &e.Actor, &raw); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(raw), &e.Changes); err != nil {
			return nil, fmt.Errorf("history entry %d: %w", e.ID, err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, rs.Err()
}
