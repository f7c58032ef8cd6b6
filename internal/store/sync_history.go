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

// DayActivity is one day of an account's sync activity: POS syncs that went through and that
// failed.
type DayActivity struct {
	Day    time.Time // 00:00 UTC of the day
	OK     int
	Failed int
}

// SyncActivity counts the account's sync history per UTC day, from the day of since to the day
// of until (both included), oldest first; days without activity are there with zero counts.
func (s queries) SyncActivity(ctx context.Context, accountID string, since, until time.Time) ([]DayActivity, error) {
	y, m, d := since.UTC().Date()
	first := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	days := int(until.UTC().Sub(first)/(24*time.Hour)) + 1
	if days < 1 || days > 366 {
		return nil, fmt.Errorf("sync activity: %d days asked", days)
	}
	out := make([]DayActivity, days)
	for i := range out {
		out[i].Day = first.AddDate(0, 0, i)
	}
	const day = int64(24 * time.Hour / time.Microsecond)
	rs, err := s.q.query(ctx, `SELECT (at - $2) / $3 AS d, outcome, COUNT(*) FROM sync_history
		WHERE account_id = $1 AND at >= $2 AND at < $4 AND outcome IN ('ok', 'failed') GROUP BY d, outcome`,
		accountID, micros(first), day, micros(first)+int64(days)*day)
	if err != nil {
		return nil, fmt.Errorf("sync activity: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var i int64
		var outcome string
		var n int
		if err := rs.Scan(&i, &outcome, &n); err != nil {
			return nil, fmt.Errorf("sync activity: %w", err)
		}
		if i < 0 || i >= int64(days) {
			continue
		}
		if outcome == "ok" {
			out[i].OK += n
		} else {
			out[i].Failed += n
		}
	}
	return out, rs.Err()
}
