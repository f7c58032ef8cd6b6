package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The Sandbox POS's tables: each tenant (by the hash of its api key) has a snapshot of its state
// (sandbox_state), the log of changes made since (sandbox_log), and the account it belongs to
// (sandbox_tenants). State and log entries arrive sealed; the store never sees them in clear.

// SandboxLogRow is one change of a sandbox tenant.
type SandboxLogRow struct {
	KeyHash string
	Seq     int64
	Entry   string // sealed
}

// SandboxSnapshot is a tenant's whole state holding every change up to Seq.
type SandboxSnapshot struct {
	KeyHash string
	Seq     int64
	State   string // sealed
}

// SandboxSaved is what is stored of a tenant: its snapshot and the changes after it, in order.
type SandboxSaved struct {
	Found bool
	State string
	Seq   int64
	Log   []SandboxLogRow
}

// maxSandboxRowsPerInsert keeps one INSERT's parameters well under SQLite's limit.
const maxSandboxRowsPerInsert = 300

// CommitSandbox writes changes and snapshots in one transaction: the log rows first, then each
// snapshot, which replaces the tenant's state and drops its log up to the snapshot's Seq. When it
// returns nil all of it is durable; on error none of it is.
func (s *Store) CommitSandbox(ctx context.Context, logs []SandboxLogRow, snaps []SandboxSnapshot, now time.Time) error {
	if len(logs) == 0 && len(snaps) == 0 {
		return nil
	}
	return s.InTx(ctx, func(tx *Tx) error {
		var steps []step
		for rest := logs; len(rest) > 0; {
			n := min(len(rest), maxSandboxRowsPerInsert)
			var b strings.Builder
			b.WriteString(`INSERT INTO sandbox_log (key_hash, seq, entry) VALUES `)
			args := make([]any, 0, 3*n)
			for i, r := range rest[:n] {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "($%d, $%d, $%d)", 3*i+1, 3*i+2, 3*i+3)
				args = append(args, r.KeyHash, r.Seq, r.Entry)
			}
			steps = append(steps, step{q: b.String(), args: args})
			rest = rest[n:]
		}
		for _, sn := range snaps {
			steps = append(steps,
				step{q: `INSERT INTO sandbox_state (key_hash, state, log_seq, updated_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (key_hash) DO UPDATE SET state = excluded.state, log_seq = excluded.log_seq, updated_at = excluded.updated_at
				WHERE sandbox_state.log_seq <= excluded.log_seq`, args: []any{sn.KeyHash, sn.State, sn.Seq, micros(now)}},
				step{q: `DELETE FROM sandbox_log WHERE key_hash = $1 AND seq <= $2`, args: []any{sn.KeyHash, sn.Seq}})
		}
		if err := tx.q.batch(ctx, steps); err != nil {
			return fmt.Errorf("commit sandbox changes: %w", err)
		}
		return nil
	})
}

// LoadSandbox reads a tenant's snapshot and the log after it.
func (s queries) LoadSandbox(ctx context.Context, keyHash string) (SandboxSaved, error) {
	out := SandboxSaved{}
	err := s.q.queryRow(ctx, `SELECT state, log_seq FROM sandbox_state WHERE key_hash = $1`, keyHash).Scan(&out.State, &out.Seq)
	if errors.Is(err, ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("load sandbox state: %w", err)
	}
	out.Found = true
	rs, err := s.q.query(ctx, `SELECT seq, entry FROM sandbox_log WHERE key_hash = $1 AND seq > $2 ORDER BY seq`, keyHash, out.Seq)
	if err != nil {
		return out, fmt.Errorf("load sandbox log: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		r := SandboxLogRow{KeyHash: keyHash}
		if err := rs.Scan(&r.Seq, &r.Entry); err != nil {
			return out, fmt.Errorf("load sandbox log: %w", err)
		}
		out.Log = append(out.Log, r)
	}
	if err := rs.Err(); err != nil {
		return out, fmt.Errorf("load sandbox log: %w", err)
	}
	return out, nil
}

// SandboxTenant is a sandbox tenant: the account its key was minted for. The key itself is
// never stored, only its hash and a hint (its last characters).
type SandboxTenant struct {
	KeyHash   string
	AccountID string
	KeyHint   string
	CreatedAt time.Time
}

// ErrSandboxTenantLimit is returned by CreateSandboxTenant when the account holds as many
// tenants as it may.
var ErrSandboxTenantLimit = errors.New("the account has as many sandbox tenants as it may")

// CreateSandboxTenant records a tenant unless its account holds limit tenants already
// (ErrSandboxTenantLimit). In a transaction on PostgreSQL it locks the account's row first, so
// concurrent calls for one account cannot both take the last place; SQLite transactions are
// serialised already. Store.MintSandboxTenant runs it in a transaction of its own.
func (s queries) CreateSandboxTenant(ctx context.Context, t SandboxTenant, limit int) error {
	if s.dialect == Postgres {
		var id string
		if err := s.q.queryRow(ctx, `SELECT id FROM accounts WHERE id = $1 FOR UPDATE`, t.AccountID).Scan(&id); err != nil {
			return fmt.Errorf("lock account of sandbox tenant: %w", err)
		}
	}
	var n int
	if err := s.q.queryRow(ctx, `SELECT COUNT(*) FROM sandbox_tenants WHERE account_id = $1`, t.AccountID).Scan(&n); err != nil {
		return fmt.Errorf("count sandbox tenants: %w", err)
	}
	if n >= limit {
		return ErrSandboxTenantLimit
	}
	if _, err := s.q.exec(ctx, `INSERT INTO sandbox_tenants (key_hash, account_id, key_hint, created_at) VALUES ($1, $2, $3, $4)`,
		t.KeyHash, t.AccountID, t.KeyHint, micros(t.CreatedAt)); err != nil {
		return fmt.Errorf("insert sandbox tenant: %w", err)
	}
	return nil
}

// MintSandboxTenant is CreateSandboxTenant in a transaction of its own.
func (s *Store) MintSandboxTenant(ctx context.Context, t SandboxTenant, limit int) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.CreateSandboxTenant(ctx, t, limit) })
}

// SandboxTenantAccount returns the account of the tenant with the key hash, or ErrNotFound.
func (s queries) SandboxTenantAccount(ctx context.Context, keyHash string) (string, error) {
	var acct string
	err := s.q.queryRow(ctx, `SELECT account_id FROM sandbox_tenants WHERE key_hash = $1`, keyHash).Scan(&acct)
	return acct, err
}

// CountSandboxState tells whether anything is saved of the tenant with the key hash: its
// snapshot rows and log rows (for tests and checks that a refused key created nothing).
func (s queries) CountSandboxState(ctx context.Context, keyHash string) (snapshots, logs int, err error) {
	if err = s.q.queryRow(ctx, `SELECT COUNT(*) FROM sandbox_state WHERE key_hash = $1`, keyHash).Scan(&snapshots); err != nil {
		return 0, 0, fmt.Errorf("count sandbox state: %w", err)
	}
	if err = s.q.queryRow(ctx, `SELECT COUNT(*) FROM sandbox_log WHERE key_hash = $1`, keyHash).Scan(&logs); err != nil {
		return 0, 0, fmt.Errorf("count sandbox log: %w", err)
	}
	return snapshots, logs, nil
}

// CountSandboxTenants counts the tenants of an account.
func (s queries) CountSandboxTenants(ctx context.Context, accountID string) (int, error) {
	var n int
	err := s.q.queryRow(ctx, `SELECT COUNT(*) FROM sandbox_tenants WHERE account_id = $1`, accountID).Scan(&n)
	return n, err
}
