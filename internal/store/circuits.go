package store

import (
	"context"
	"fmt"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

const circuitCols = `account_id, integration_id, state, reason, message, consecutive_failures, opened_at, next_attempt_at, open_for, updated_at`

func scanCircuit(r row) (domain.Circuit, error) {
	var c domain.Circuit
	var state string
	var opened, next *int64
	var openFor, updated int64
	if err := r.Scan(&c.AccountID, &c.IntegrationID, &state, &c.Reason, &c.Message, &c.ConsecutiveFailures, &opened, &next, &openFor, &updated); err != nil {
		return c, err
	}
	c.State = domain.CircuitState(state)
	c.OpenedAt, c.NextAttemptAt = fromMicrosPtr(opened), fromMicrosPtr(next)
	c.OpenFor, c.UpdatedAt = time.Duration(openFor)*time.Microsecond, fromMicros(updated)
	return c, nil
}

// closedCircuit is the state of an integration whose breaker never tripped (no row).
func closedCircuit(accountID, integrationID string) domain.Circuit {
	return domain.Circuit{AccountID: accountID, IntegrationID: integrationID, State: domain.CircuitClosed}
}

// GetCircuit reads an integration's circuit breaker; one that never tripped is closed. Another
// account's integration reads as closed too (there is nothing of it to see).
func (s queries) GetCircuit(ctx context.Context, accountID, integrationID string) (domain.Circuit, error) {
	c, err := scanCircuit(s.q.queryRow(ctx, `SELECT `+circuitCols+` FROM integration_circuits WHERE account_id = $1 AND integration_id = $2`,
		accountID, integrationID))
	if err == ErrNotFound {
		return closedCircuit(accountID, integrationID), nil
	}
	if err != nil {
		return c, fmt.Errorf("read circuit of %s: %w", integrationID, err)
	}
	return c, nil
}

// ListCircuits reads the circuits of an account's integrations that ever tripped, by integration id.
func (s queries) ListCircuits(ctx context.Context, accountID string) (map[string]domain.Circuit, error) {
	rs, err := s.q.query(ctx, `SELECT `+circuitCols+` FROM integration_circuits WHERE account_id = $1`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list circuits: %w", err)
	}
	defer rs.Close()
	out := map[string]domain.Circuit{}
	for rs.Next() {
		c, err := scanCircuit(rs)
		if err != nil {
			return nil, fmt.Errorf("list circuits: %w", err)
		}
		out[c.IntegrationID] = c
	}
	return out, rs.Err()
}

// LockCircuit reads an integration's circuit for update within a transaction, creating its row
// (closed) on first use, so that concurrent workers of every process change it one at a time.
// The integration must be the account's (ErrNotFound otherwise).
func (s queries) LockCircuit(ctx context.Context, accountID, integrationID string, now time.Time) (domain.Circuit, error) {
	_, err := s.q.exec(ctx, `INSERT INTO integration_circuits (integration_id, account_id, state, updated_at)
		SELECT id, account_id, 'closed', $3 FROM integrations WHERE account_id = $1 AND id = $2
		ON CONFLICT (integration_id) DO NOTHING`, accountID, integrationID, micros(now))
	if err != nil {
		return domain.Circuit{}, fmt.Errorf("create circuit of %s: %w", integrationID, err)
	}
	q := `SELECT ` + circuitCols + ` FROM integration_circuits WHERE account_id = $1 AND integration_id = $2`
	if s.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	c, err := scanCircuit(s.q.queryRow(ctx, q, accountID, integrationID))
	if err != nil && err != ErrNotFound {
		err = fmt.Errorf("lock circuit of %s: %w", integrationID, err)
	}
	return c, err
}

// SaveCircuit writes a circuit read with LockCircuit.
func (s queries) SaveCircuit(ctx context.Context, c domain.Circuit) error {
	n, err := s.q.exec(ctx, `UPDATE integration_circuits SET state = $3, reason = $4, message = $5, consecutive_failures = $6,
		opened_at = $7, next_attempt_at = $8, open_for = $9, updated_at = $10 WHERE account_id = $1 AND integration_id = $2`,
		c.AccountID, c.IntegrationID, string(c.State), c.Reason, c.Message, c.ConsecutiveFailures,
		microsPtr(c.OpenedAt), microsPtr(c.NextAttemptAt), c.OpenFor.Microseconds(), micros(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("save circuit of %s: %w", c.IntegrationID, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
