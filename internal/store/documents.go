package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

const docCols = `account_id, kind, ref, content, hash, version, created_at, updated_at, sync_status, integration_id,
	external_id, external_url, auto_sync, last_synced_at, last_error, synced_version, generation, sync_action,
	next_attempt_at, attempt, max_attempts`

func scanDoc(r row) (domain.Document, error) {
	var d domain.Document
	var kind, content, status string
	var created, updated int64
	var lastSynced, nextAttempt *int64
	err := r.Scan(&d.AccountID, &kind, &d.Ref, &content, &d.Hash, &d.Version, &created, &updated, &status, &d.Sync.IntegrationID,
		&d.Sync.ExternalID, &d.Sync.ExternalURL, &d.Sync.AutoSync, &lastSynced, &d.Sync.LastError, &d.Sync.SyncedVersion,
		&d.Sync.Generation, &d.Sync.Action, &nextAttempt, &d.Sync.Attempt, &d.Sync.MaxAttempts)
	if err != nil {
		return d, err
	}
	d.Kind, d.Sync.Status = domain.DocKind(kind), domain.SyncStatus(status)
	d.CreatedAt, d.UpdatedAt, d.Sync.LastSyncedAt = fromMicros(created), fromMicros(updated), fromMicrosPtr(lastSynced)
	d.Sync.NextAttemptAt = fromMicrosPtr(nextAttempt)
	if err := json.Unmarshal([]byte(content), &d.DocContent); err != nil {
		return d, fmt.Errorf("document %s/%s content: %w", kind, d.Ref, err)
	}
	return d, nil
}

// GetDocument reads a document of the account.
func (s queries) GetDocument(ctx context.Context, accountID string, kind domain.DocKind, ref string) (domain.Document, error) {
	return scanDoc(s.q.queryRow(ctx, `SELECT `+docCols+` FROM documents WHERE account_id = $1 AND kind = $2 AND ref = $3`, accountID, string(kind), ref))
}

// LockDocument reads a document for update within a transaction.
func (s queries) LockDocument(ctx context.Context, accountID string, kind domain.DocKind, ref string) (domain.Document, error) {
	q := `SELECT ` + docCols + ` FROM documents WHERE account_id = $1 AND kind = $2 AND ref = $3`
	if s.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	return scanDoc(s.q.queryRow(ctx, q, accountID, string(kind), ref))
}

// DocumentByExternalID finds the document whose POS order has the id.
func (s queries) DocumentByExternalID(ctx context.Context, accountID, integrationID, externalID string) (domain.Document, error) {
	return scanDoc(s.q.queryRow(ctx, `SELECT `+docCols+` FROM documents WHERE account_id = $1 AND integration_id = $2 AND external_id = $3
		ORDER BY updated_at DESC LIMIT 1`, accountID, integrationID, externalID))
}

// DocumentByExternalRef finds the document of reference ref whose POS order has the id (when
// several documents point at one order, the one the order carries).
func (s queries) DocumentByExternalRef(ctx context.Context, accountID, integrationID, externalID, ref string) (domain.Document, error) {
	return scanDoc(s.q.queryRow(ctx, `SELECT `+docCols+` FROM documents WHERE account_id = $1 AND integration_id = $2 AND external_id = $3
		AND ref = $4 ORDER BY updated_at DESC LIMIT 1`, accountID, integrationID, externalID, ref))
}

// SaveDocument inserts or replaces a document with its sync state.
func (s queries) SaveDocument(ctx context.Context, d domain.Document) error {
	_, err := s.saveDocument(ctx, d, saveUpsert)
	return err
}

// SaveDocumentReleasing is SaveDocument that also gives the push lease back (one statement less
// at the end of a push).
func (s queries) SaveDocumentReleasing(ctx context.Context, d domain.Document) error {
	_, err := s.saveDocument(ctx, d, saveRelease)
	return err
}

// InsertDocument inserts a new document; created is false when the document exists already (a
// concurrent first write made it), and nothing is changed then.
func (s queries) InsertDocument(ctx context.Context, d domain.Document) (created bool, err error) {
	n, err := s.saveDocument(ctx, d, saveInsert)
	return n == 1, err
}

type saveMode int

const (
	saveUpsert saveMode = iota
	saveRelease
	saveInsert
)

const docUpsert = ` ON CONFLICT (account_id, kind, ref) DO UPDATE SET content = excluded.content, status = excluded.status, hash = excluded.hash, version = excluded.version,
		updated_at = excluded.updated_at, sync_status = excluded.sync_status, integration_id = excluded.integration_id,
		external_id = excluded.external_id, external_url = excluded.external_url, auto_sync = excluded.auto_sync,
		last_synced_at = excluded.last_synced_at, last_error = excluded.last_error, synced_version = excluded.synced_version,
		generation = excluded.generation, sync_action = excluded.sync_action,
		next_attempt_at = excluded.next_attempt_at, attempt = excluded.attempt, max_attempts = excluded.max_attempts`

var docSave = map[saveMode]string{
	saveUpsert:  docUpsert,
	saveRelease: docUpsert + `, lease_until = 0`,
	saveInsert:  ` ON CONFLICT (account_id, kind, ref) DO NOTHING`,
}

func (s queries) saveDocument(ctx context.Context, d domain.Document, mode saveMode) (int64, error) {
	content, err := json.Marshal(d.DocContent)
	if err != nil {
		return 0, err
	}
	if d.Sync.Status != domain.SyncRetrying { // the next attempt is only for a document that waits for one
		d.Sync.NextAttemptAt, d.Sync.Attempt, d.Sync.MaxAttempts = nil, 0, 0
	}
	n, err := s.q.exec(ctx, `INSERT INTO documents (`+docCols+`, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
		$19, $20, $21, $22)`+docSave[mode],
		d.AccountID, string(d.Kind), d.Ref, string(content), d.Hash, d.Version, micros(d.CreatedAt), micros(d.UpdatedAt),
		string(d.Sync.Status), d.Sync.IntegrationID, d.Sync.ExternalID, d.Sync.ExternalURL, d.Sync.AutoSync,
		microsPtr(d.Sync.LastSyncedAt), d.Sync.LastError, d.Sync.SyncedVersion, d.Sync.Generation, d.Sync.Action,
		microsPtr(d.Sync.NextAttemptAt), d.Sync.Attempt, d.Sync.MaxAttempts, d.Status)
	if err != nil {
		return 0, fmt.Errorf("save document %s/%s: %w", d.Kind, d.Ref, err)
	}
	return n, nil
}

// DocumentFilter selects documents of an account.
type DocumentFilter struct {
	Kind       domain.DocKind
	SyncStatus domain.SyncStatus
	Limit      int
}

// ListDocuments lists the account's documents, most recently changed first.
func (s queries) ListDocuments(ctx context.Context, accountID string, f DocumentFilter) ([]domain.Document, error) {
	q := `SELECT ` + docCols + ` FROM documents WHERE account_id = $1`
	args := []any{accountID}
	if f.Kind != "" {
		args = append(args, string(f.Kind))
		q += fmt.Sprintf(` AND kind = $%d`, len(args))
	}
	if f.SyncStatus != "" {
		args = append(args, string(f.SyncStatus))
		q += fmt.Sprintf(` AND sync_status = $%d`, len(args))
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY updated_at DESC, ref LIMIT $%d`, len(args))
	rs, err := s.q.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	defer rs.Close()
	out := []domain.Document{}
	for rs.Next() {
		d, err := scanDoc(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rs.Err()
}

// CountDocumentsBySync counts an account's documents of a sync status (0 = all accounts when accountID is "").
func (s queries) CountDocumentsBySync(ctx context.Context, accountID string, status domain.SyncStatus) (int, error) {
	var n int
	err := s.q.queryRow(ctx, `SELECT COUNT(*) FROM documents WHERE ($1 = '' OR account_id = $1) AND sync_status = $2`, accountID, string(status)).Scan(&n)
	return n, err
}

// claimDocument takes the document's push lease until $4 when nobody holds it (a lease ends at
// $5, now); a pending document becomes syncing in the same statement (one commit less per push),
// and the row comes back with it (one read less).
const claimDocument = `UPDATE documents SET lease_until = $4,
		sync_status = CASE WHEN sync_status = 'pending' THEN 'syncing' ELSE sync_status END
		WHERE account_id = $1 AND kind = $2 AND ref = $3 AND lease_until < $5
		RETURNING ` + docCols

// Synced is what a successful push writes to its document.
type Synced struct {
	Version       int64  // the version pushed
	Action        string // the manual action the push carried out ("" for none)
	IntegrationID string
	ExternalID    string
	ExternalURL   string // "" keeps the one the document has
	At            time.Time
}

// markSynced records a successful push and gives the lease back when the document is still at
// the pushed version and no other manual action was asked for meanwhile; otherwise it changes
// nothing and returns no row.
const markSynced = `UPDATE documents SET external_id = $4, integration_id = $5,
		external_url = CASE WHEN $6 = '' THEN external_url ELSE $6 END, synced_version = $7, last_synced_at = $8,
		last_error = '', sync_action = '', sync_status = 'synced', lease_until = 0, next_attempt_at = NULL, attempt = 0, max_attempts = 0
		WHERE account_id = $1 AND kind = $2 AND ref = $3 AND version = $7 AND (sync_action = $9 OR sync_action = '')
		RETURNING ` + docCols

func markSyncedArgs(accountID string, kind domain.DocKind, ref string, v Synced) []any {
	return []any{accountID, string(kind), ref, v.ExternalID, v.IntegrationID, v.ExternalURL, v.Version, micros(v.At), v.Action}
}

// FinishedPush is what FinishPush did and read.
type FinishedPush struct {
	Document  domain.Document
	Synced    bool                     // false: the document moved on meanwhile; nothing was written
	Endpoints []domain.WebhookEndpoint // the account's webhook endpoints, for document.updated
}

// FinishPush records a successful push in one round trip on PostgreSQL: when the document is
// still at the pushed version and no other manual action was asked for meanwhile, it is marked
// synced (order linked, lease given back) and the push's history entry is written; and the
// account's webhook endpoints are read (for document.updated). When the document moved on,
// nothing is written and Synced is false: the caller merges under the row's lock.
func (s queries) FinishPush(ctx context.Context, accountID string, kind domain.DocKind, ref string, v Synced, h HistoryEntry) (FinishedPush, error) {
	var f FinishedPush
	err := s.q.batch(ctx, []step{
		{q: markSynced, args: markSyncedArgs(accountID, kind, ref, v), row: func(r row) error {
			var err error
			f.Document, err = scanDoc(r)
			f.Synced = err == nil
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			return err
		}},
		{q: `INSERT INTO sync_history (account_id, kind, ref, at, action, outcome, summary, error)
			SELECT $1, $2, $3, CAST($4 AS BIGINT), $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM documents
			WHERE account_id = $1 AND kind = $2 AND ref = $3 AND sync_status = 'synced' AND synced_version = $9 AND last_synced_at = $10)`,
			args: []any{accountID, string(kind), ref, micros(h.At), h.Action, h.Outcome, h.Summary, h.Error, v.Version, micros(v.At)}},
		{q: listEndpoints, args: []any{accountID}, rows: func(rs rows) error {
			var err error
			f.Endpoints, err = scanEndpoints(rs)
			return err
		}},
	})
	if err != nil {
		return f, fmt.Errorf("finish push of %s/%s: %w", kind, ref, err)
	}
	return f, nil
}

// ReleaseDocument gives the push lease back.
func (s queries) ReleaseDocument(ctx context.Context, accountID string, kind domain.DocKind, ref string) error {
	_, err := s.q.exec(ctx, `UPDATE documents SET lease_until = 0 WHERE account_id = $1 AND kind = $2 AND ref = $3`, accountID, string(kind), ref)
	return err
}

// SettingsAndDocumentExists reads, in one query, the account's order sync settings and whether
// the document exists: what a write of the document needs before it inserts a new one (an
// existing one it then locks with LockDocument).
func (s queries) SettingsAndDocumentExists(ctx context.Context, accountID string, kind domain.DocKind, ref string) (domain.OrderSyncSettings, bool, error) {
	var raw *string
	var version *int64
	// A scalar subquery, not EXISTS: PostgreSQL plans EXISTS for its first row, and on a table
	// without statistics yet it took a sequential scan for that.
	err := s.q.queryRow(ctx, `SELECT (SELECT settings FROM order_sync_settings WHERE account_id = $1),
		(SELECT version FROM documents WHERE account_id = $1 AND kind = $2 AND ref = $3)`, accountID, string(kind), ref).Scan(&raw, &version)
	if err != nil {
		return domain.OrderSyncSettings{}, false, err
	}
	st, err := parseSettings(accountID, raw)
	return st, version != nil, err
}

// OrderTarget is what a push needs besides the document, read in one query: the integration
// orders go to, its sealed credentials, and the account's order sync settings.
type OrderTarget struct {
	Integration       domain.Integration
	SealedCredentials string
	Settings          domain.OrderSyncSettings
}

// GetOrderTarget reads the integration with its sealed credentials and the account's order sync
// settings (the defaults when none were saved); an integration of another account is
// ErrNotFound.
func (s queries) GetOrderTarget(ctx context.Context, accountID, integrationID string) (OrderTarget, error) {
	return scanOrderTarget(accountID, s.q.queryRow(ctx, orderTarget+` AND i.id = $2`, accountID, integrationID))
}

var orderTarget = `SELECT ` + prefixed("i.", integrationCols) + `, i.credentials, o.settings
	FROM integrations i LEFT JOIN order_sync_settings o ON o.account_id = i.account_id
	WHERE i.account_id = $1`

func scanOrderTarget(accountID string, r row) (OrderTarget, error) {
	var t OrderTarget
	var raw *string
	var err error
	if t.Integration, err = scanIntegration(r, &t.SealedCredentials, &raw); err != nil {
		return t, err
	}
	t.Settings, err = parseSettings(accountID, raw)
	return t, err
}

// ClaimDocumentWithTarget takes the document's push lease until the given time, when nobody holds
// it, and marks a pending document syncing. It reports whether this caller holds it now, with the
// document as it is then and GetOrderTarget for the integration the document names, all in one
// round trip on PostgreSQL. target is nil when the claim failed, the document names no
// integration or the integration is gone (GetOrderTarget then tells which).
func (s queries) ClaimDocumentWithTarget(ctx context.Context, accountID string, kind domain.DocKind, ref string, now, until time.Time) (domain.Document, *OrderTarget, bool, error) {
	var d domain.Document
	var t *OrderTarget
	claimed := false
	err := s.q.batch(ctx, []step{
		{q: claimDocument, args: []any{accountID, string(kind), ref, micros(until), micros(now)}, row: func(r row) error {
			var err error
			d, err = scanDoc(r)
			claimed = err == nil
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			return err
		}},
		{q: orderTarget + ` AND i.id = (SELECT integration_id FROM documents WHERE account_id = $1 AND kind = $2 AND ref = $3)`,
			args: []any{accountID, string(kind), ref}, row: func(r row) error {
				ot, err := scanOrderTarget(accountID, r)
				if err == nil {
					t = &ot
				}
				if errors.Is(err, ErrNotFound) {
					return nil
				}
				return err
			}},
	})
	if err != nil || !claimed {
		return d, nil, false, err
	}
	return d, t, true, nil
}

// prefixed qualifies each of a comma-separated column list with prefix.
func prefixed(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// OpenOrderDocuments lists documents of any account whose POS order may still be completed in
// the POS (linked, synced, and not yet paid, completed or cancelled), least recently changed first.
func (s queries) OpenOrderDocuments(ctx context.Context, limit int) ([]domain.Document, error) {
	rs, err := s.q.query(ctx, `SELECT `+docCols+` FROM documents WHERE external_id <> '' AND sync_status = $1
		AND kind IN ('job', 'invoice', 'booking') AND status IN ('open', 'accepted', 'draft', 'issued')
		ORDER BY updated_at LIMIT $2`, string(domain.SyncSynced), limit)
	if err != nil {
		return nil, fmt.Errorf("open order documents: %w", err)
	}
	defer rs.Close()
	var out []domain.Document
	for rs.Next() {
		d, err := scanDoc(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rs.Err()
}

// DocumentsByExternalIDs finds, for each of the POS order ids, the integration's document most
// recently linked to it (one query for a chunk of webhook events; ids without one are absent).
func (s queries) DocumentsByExternalIDs(ctx context.Context, accountID, integrationID string, externalIDs []string) (map[string]domain.Document, error) {
	out := map[string]domain.Document{}
	if len(externalIDs) == 0 {
		return out, nil
	}
	var arg any = externalIDs
	in := `external_id = ANY($3::text[])`
	if s.dialect != Postgres {
		b, err := json.Marshal(externalIDs)
		if err != nil {
			return nil, err
		}
		arg, in = string(b), `external_id IN (SELECT value FROM json_each($3))`
	}
	rs, err := s.q.query(ctx, `SELECT `+docCols+` FROM documents WHERE account_id = $1 AND integration_id = $2 AND `+in+`
		ORDER BY updated_at`, accountID, integrationID, arg)
	if err != nil {
		return nil, fmt.Errorf("documents by order ids: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		d, err := scanDoc(rs)
		if err != nil {
			return nil, err
		}
		out[d.Sync.ExternalID] = d // the newest last
	}
	return out, rs.Err()
}
