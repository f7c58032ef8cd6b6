package store

import (
	"context"
	"fmt"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

// HistoryEntry is one event of a document's sync history.
type HistoryEntry struct {
	ID      int64
	At      time.Time
	Action  string
	Outcome string
	Summary string
	Error   string
}

// AddHistory appends to a document's sync history.
func (s queries) AddHistory(ctx context.Context, accountID string, kind domain.DocKind, ref string, h HistoryEntry) error {
	_, err := s.q.exec(ctx, `INSERT INTO sync_history (account_id, kind, ref, at, action, outcome, summary, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		accountID, string(kind), ref, micros(h.At), h.Action, h.Outcome, h.Summary, h.Error)
	if err != nil {
		return fmt.Errorf("add sync history: %w", err)
	}
	return nil
}

// ListHistory lists a document's sync history, newest first.
func (s queries) ListHistory(ctx context.Context, accountID string, kind domain.DocKind, ref string, limit int) ([]HistoryEntry, error) {
	rs, err := s.q.query(ctx, `SELECT id, at, action, outcome, summary, error FROM sync_history WHERE account_id = $1 AND kind = $2 AND ref = $3
		ORDER BY id DESC LIMIT $4`, accountID, string(kind), ref, limit)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []HistoryEntry{}
	for rs.Next() {
		var h HistoryEntry
		var at int64
		if err := rs.Scan(&h.ID, &at, &h.Action, &h.Outcome, &h.Summary, &h.Error); err != nil {
			return nil, err
		}
		h.At = fromMicros(at)
		out = append(out, h)
	}
	return out, rs.Err()
}
