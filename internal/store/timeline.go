package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

// AddTimeline appends an entry to the account's timeline.
func (s queries) AddTimeline(ctx context.Context, e domain.TimelineEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	_, err := s.q.exec(ctx, `INSERT INTO timeline (account_id, at, kind, integration_id, actor, message) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.AccountID, micros(e.At), e.Kind, e.IntegrationID, e.Actor, e.Message)
	if err != nil {
		return fmt.Errorf("add timeline entry: %w", err)
	}
	return nil
}

// TimelineFilter selects timeline entries, newest first.
type TimelineFilter struct {
	IntegrationID string
	Before        int64     // entries with a smaller id only; 0 = from the newest
	Kinds         []string  // these kinds only; empty = all
	Since         time.Time // entries at or after this time only; zero = all
	Limit         int
}

// ListTimeline lists the account's timeline, newest first.
func (s queries) ListTimeline(ctx context.Context, accountID string, f TimelineFilter) ([]domain.TimelineEntry, error) {
	q := `SELECT id, account_id, at, kind, integration_id, actor, message FROM timeline WHERE account_id = $1`
	args := []any{accountID}
	if f.IntegrationID != "" {
		args = append(args, f.IntegrationID)
		q += fmt.Sprintf(` AND integration_id = $%d`, len(args))
	}
	if f.Before > 0 {
		args = append(args, f.Before)
		q += fmt.Sprintf(` AND id < $%d`, len(args))
	}
	if len(f.Kinds) > 0 {
		ph := make([]string, len(f.Kinds))
		for i, k := range f.Kinds {
			args = append(args, k)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		q += ` AND kind IN (` + strings.Join(ph, ", ") + `)`
	}
	if !f.Since.IsZero() {
		args = append(args, micros(f.Since))
		q += fmt.Sprintf(` AND at >= $%d`, len(args))
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rs, err := s.q.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list timeline: %w", err)
	}
	defer rs.Close()
	out := []domain.TimelineEntry{}
	for rs.Next() {
		var e domain.TimelineEntry
		var at int64
		if err := rs.Scan(&e.ID, &e.AccountID, &at, &e.Kind, &e.IntegrationID, &e.Actor, &e.Message); err != nil {
			return nil, err
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, rs.Err()
}
