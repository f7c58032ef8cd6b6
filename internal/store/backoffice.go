package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

// BackOfficeDraft is a store's draft (content is JSON, checked by internal/backoffice).
type BackOfficeDraft struct {
	StoreID   string
	Content   string
	UpdatedAt time.Time
	UpdatedBy string
}

// GetDraft reads a store's draft.
func (s queries) GetDraft(ctx context.Context, accountID, storeID string) (BackOfficeDraft, error) {
	d := BackOfficeDraft{StoreID: storeID}
	var at int64
	err := s.q.queryRow(ctx, `SELECT content, updated_at, updated_by FROM backoffice_drafts WHERE account_id = $1 AND store_id = $2`,
		accountID, storeID).Scan(&d.Content, &at, &d.UpdatedBy)
	d.UpdatedAt = fromMicros(at)
	return d, err
}

// PutDraft saves a store's draft.
func (s queries) PutDraft(ctx context.Context, accountID string, d BackOfficeDraft) error {
	_, err := s.q.exec(ctx, `INSERT INTO backoffice_drafts (account_id, store_id, content, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (account_id, store_id) DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		accountID, d.StoreID, d.Content, micros(d.UpdatedAt), d.UpdatedBy)
	return err
}

// BackOfficeVersion is a published, immutable version of a store's back office.
type BackOfficeVersion struct {
	StoreID     string
	Version     int64
	Content     string
	Diff        string // JSON array of sentences
	PublishedBy string
	PublishedAt time.Time
	DeliversAt  time.Time
	DeliveredAt *time.Time
}

const versionCols = `store_id, version, content, diff, published_by, published_at, delivers_at, delivered_at`

func scanVersion(r row) (BackOfficeVersion, error) {
	var v BackOfficeVersion
	var pub, del int64
	var delivered *int64
	err := r.Scan(&v.StoreID, &v.Version, &v.Content, &v.Diff, &v.PublishedBy, &pub, &del, &delivered)
	v.PublishedAt, v.DeliversAt, v.DeliveredAt = fromMicros(pub), fromMicros(del), fromMicrosPtr(delivered)
	return v, err
}

// LatestVersion reads a store's newest published version; delivered: the newest delivered one.
func (s queries) LatestVersion(ctx context.Context, accountID, storeID string, delivered bool) (BackOfficeVersion, error) {
	cond := ""
	if delivered {
		cond = " AND delivered_at IS NOT NULL"
	}
	return scanVersion(s.q.queryRow(ctx, `SELECT `+versionCols+` FROM backoffice_versions WHERE account_id = $1 AND store_id = $2`+cond+
		` ORDER BY version DESC LIMIT 1`, accountID, storeID))
}

// LatestVersionNumber is the newest version number of the store (0 when none).
func (s queries) LatestVersionNumber(ctx context.Context, accountID, storeID string, delivered bool) (int64, error) {
	cond := ""
	if delivered {
		cond = " AND delivered_at IS NOT NULL"
	}
	var n int64
	err := s.q.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM backoffice_versions WHERE account_id = $1 AND store_id = $2`+cond,
		accountID, storeID).Scan(&n)
	return n, err
}

// InsertVersion adds a version (its number must be the next: the primary key refuses a race).
func (s queries) InsertVersion(ctx context.Context, accountID string, v BackOfficeVersion) error {
	_, err := s.q.exec(ctx, `INSERT INTO backoffice_versions (account_id, store_id, version, content, diff, published_by, published_at, delivers_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, accountID, v.StoreID, v.Version, v.Content, v.Diff, v.PublishedBy, micros(v.PublishedAt), micros(v.DeliversAt))
	return err
}

// ListVersions lists a store's versions, newest first.
func (s queries) ListVersions(ctx context.Context, accountID, storeID string, limit int) ([]BackOfficeVersion, error) {
	rs, err := s.q.query(ctx, `SELECT `+versionCols+` FROM backoffice_versions WHERE account_id = $1 AND store_id = $2 ORDER BY version DESC LIMIT $3`,
		accountID, storeID, limit)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []BackOfficeVersion{}
	for rs.Next() {
		v, err := scanVersion(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rs.Err()
}

// MarkDelivered marks a version delivered when it is still the store's newest; answers whether it was.
// An older version whose period ends after a newer publish is never delivered: terminals get the newest.
func (s queries) MarkDelivered(ctx context.Context, accountID, storeID string, version int64, now time.Time) (bool, error) {
	n, err := s.q.exec(ctx, `UPDATE backoffice_versions SET delivered_at = $4 WHERE account_id = $1 AND store_id = $2 AND version = $3
		AND delivered_at IS NULL AND version = (SELECT MAX(version) FROM backoffice_versions WHERE account_id = $1 AND store_id = $2)`,
		accountID, storeID, version, micros(now))
	return n > 0, err
}

// Terminal is a paired POS terminal of a store.
type Terminal struct {
	ID, AccountID, StoreID, Name string
	PairedAt                     time.Time
	LastSyncedVersion            int64
	LastSyncedAt                 *time.Time
}

const terminalCols = `id, account_id, store_id, name, paired_at, last_synced_version, last_synced_at`

func scanTerminal(r row) (Terminal, error) {
	var t Terminal
	var paired int64
	var synced *int64
	err := r.Scan(&t.ID, &t.AccountID, &t.StoreID, &t.Name, &paired, &t.LastSyncedVersion, &synced)
	t.PairedAt, t.LastSyncedAt = fromMicros(paired), fromMicrosPtr(synced)
	return t, err
}

// CreatePairingCode stores a pairing code's hash.
func (s queries) CreatePairingCode(ctx context.Context, accountID, storeID, codeHash string, now, expires time.Time) error {
	_, err := s.q.exec(ctx, `INSERT INTO terminal_pairing_codes (code_hash, account_id, store_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		codeHash, accountID, storeID, micros(now), micros(expires))
	return err
}

// UsePairingCode spends a live pairing code once and answers its account and store.
func (s queries) UsePairingCode(ctx context.Context, codeHash string, now time.Time) (accountID, storeID string, err error) {
	err = s.q.queryRow(ctx, `SELECT account_id, store_id FROM terminal_pairing_codes WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2`,
		codeHash, micros(now)).Scan(&accountID, &storeID)
	if err != nil {
		return "", "", err
	}
	n, err := s.q.exec(ctx, `UPDATE terminal_pairing_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL`, codeHash, micros(now))
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	return accountID, storeID, err
}

// CreateTerminal stores a paired terminal by its device token's hash.
func (s queries) CreateTerminal(ctx context.Context, t Terminal, tokenHash string) error {
	_, err := s.q.exec(ctx, `INSERT INTO terminals (id, account_id, store_id, name, token_hash, paired_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.ID, t.AccountID, t.StoreID, t.Name, tokenHash, micros(t.PairedAt))
	return err
}

// TerminalByToken finds a live (not revoked) terminal by its token's hash, in any account.
func (s queries) TerminalByToken(ctx context.Context, tokenHash string) (Terminal, error) {
	return scanTerminal(s.q.queryRow(ctx, `SELECT `+terminalCols+` FROM terminals WHERE token_hash = $1 AND revoked_at IS NULL`, tokenHash))
}

// TerminalLive tells whether a terminal is still paired (not revoked).
func (s queries) TerminalLive(ctx context.Context, id string) (bool, error) {
	var n int
	err := s.q.queryRow(ctx, `SELECT COUNT(*) FROM terminals WHERE id = $1 AND revoked_at IS NULL`, id).Scan(&n)
	return n > 0, err
}

// ListTerminals lists the account's live terminals.
func (s queries) ListTerminals(ctx context.Context, accountID string) ([]Terminal, error) {
	rs, err := s.q.query(ctx, `SELECT `+terminalCols+` FROM terminals WHERE account_id = $1 AND revoked_at IS NULL ORDER BY store_id, paired_at, id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []Terminal{}
	for rs.Next() {
		t, err := scanTerminal(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rs.Err()
}

// GetTerminal reads a live terminal of the account.
func (s queries) GetTerminal(ctx context.Context, accountID, id string) (Terminal, error) {
	return scanTerminal(s.q.queryRow(ctx, `SELECT `+terminalCols+` FROM terminals WHERE account_id = $1 AND id = $2 AND revoked_at IS NULL`, accountID, id))
}

// RevokeTerminal unpairs a terminal: its token is refused from the next request on.
func (s queries) RevokeTerminal(ctx context.Context, accountID, id string, now time.Time) error {
	n, err := s.q.exec(ctx, `UPDATE terminals SET revoked_at = $3 WHERE account_id = $1 AND id = $2 AND revoked_at IS NULL`, accountID, id, micros(now))
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	return err
}

// TerminalSynced records the version a terminal received.
func (s queries) TerminalSynced(ctx context.Context, id string, version int64, now time.Time) error {
	_, err := s.q.exec(ctx, `UPDATE terminals SET last_synced_version = $2, last_synced_at = $3 WHERE id = $1`, id, version, micros(now))
	return err
}

// BackOfficeSettings are an account's back-office settings.
type BackOfficeSettings struct {
	PublishDelaySeconds int
	UpdatedAt           time.Time
	UpdatedBy           string
}

// GetBackOfficeSettings reads the account's back-office settings (ErrNotFound: none saved).
func (s queries) GetBackOfficeSettings(ctx context.Context, accountID string) (BackOfficeSettings, error) {
	var b BackOfficeSettings
	var at int64
	err := s.q.queryRow(ctx, `SELECT publish_delay_seconds, updated_at, updated_by FROM backoffice_settings WHERE account_id = $1`,
		accountID).Scan(&b.PublishDelaySeconds, &at, &b.UpdatedBy)
	b.UpdatedAt = fromMicros(at)
	return b, err
}

// PutBackOfficeSettings saves the account's back-office settings.
func (s queries) PutBackOfficeSettings(ctx context.Context, accountID string, b BackOfficeSettings) error {
	_, err := s.q.exec(ctx, `INSERT INTO backoffice_settings (account_id, publish_delay_seconds, updated_at, updated_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (account_id) DO UPDATE SET publish_delay_seconds = excluded.publish_delay_seconds, updated_at = excluded.updated_at,
		updated_by = excluded.updated_by`, accountID, b.PublishDelaySeconds, micros(b.UpdatedAt), b.UpdatedBy)
	return err
}

// GetVersion reads one version of a store.
func (s queries) GetVersion(ctx context.Context, accountID, storeID string, version int64) (BackOfficeVersion, error) {
	return scanVersion(s.q.queryRow(ctx, `SELECT `+versionCols+` FROM backoffice_versions WHERE account_id = $1 AND store_id = $2 AND version = $3`,
		accountID, storeID, version))
}

// StoreIntegrations lists the ids of the account's integrations, not inactive, whose store is
// storeID (the POS integrations a back-office version of that store is written to).
func (s queries) StoreIntegrations(ctx context.Context, accountID, storeID string) ([]string, error) {
	rs, err := s.q.query(ctx, `SELECT id FROM integrations WHERE account_id = $1 AND store_id = $2 AND status <> $3 ORDER BY created_at, id`,
		accountID, storeID, string(domain.StatusInactive))
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rs.Err()
}

// TerminalsSynced records the version many terminals received, in one statement per 500.
func (s queries) TerminalsSynced(ctx context.Context, ids []string, version int64, now time.Time) error {
	for len(ids) > 0 {
		part := ids[:min(500, len(ids))]
		ids = ids[len(part):]
		args := []any{version, micros(now)}
		ph := make([]string, 0, len(part))
		for _, id := range part {
			args = append(args, id)
			ph = append(ph, "$"+strconv.Itoa(len(args)))
		}
		if _, err := s.q.exec(ctx, `UPDATE terminals SET last_synced_version = $1, last_synced_at = $2 WHERE id IN (`+strings.Join(ph, ", ")+`)`, args...); err != nil {
			return err
		}
	}
	return nil
}

// POSDelivery is what became of a delivered back-office version at one POS integration of its
// store (status: pending, retrying, delivered, failed or skipped).
type POSDelivery struct {
	StoreID       string
	Version       int64
	IntegrationID string
	Status        string
	Message       string // for the merchant
	Detail        string // the technical text, "" when none
	Attempts      int
	UpdatedAt     time.Time
}

// PutPOSDelivery records (or replaces) the state of a version's delivery to an integration.
func (s queries) PutPOSDelivery(ctx context.Context, accountID string, d POSDelivery) error {
	_, err := s.q.exec(ctx, `INSERT INTO backoffice_pos_deliveries (account_id, store_id, version, integration_id, status, message, detail, attempts, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (account_id, store_id, version, integration_id) DO UPDATE SET status = excluded.status, message = excluded.message,
		detail = excluded.detail, attempts = excluded.attempts, updated_at = excluded.updated_at`,
		accountID, d.StoreID, d.Version, d.IntegrationID, d.Status, d.Message, d.Detail, d.Attempts, micros(d.UpdatedAt))
	return err
}

// ListPOSDeliveries lists the POS deliveries of a store's versions from fromVersion to
// toVersion, by version then in the order they were scheduled.
func (s queries) ListPOSDeliveries(ctx context.Context, accountID, storeID string, fromVersion, toVersion int64) ([]POSDelivery, error) {
	rs, err := s.q.query(ctx, `SELECT store_id, version, integration_id, status, message, detail, attempts, updated_at FROM backoffice_pos_deliveries
		WHERE account_id = $1 AND store_id = $2 AND version >= $3 AND version <= $4 ORDER BY version DESC, integration_id`,
		accountID, storeID, fromVersion, toVersion)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []POSDelivery
	for rs.Next() {
		var d POSDelivery
		var at int64
		if err := rs.Scan(&d.StoreID, &d.Version, &d.IntegrationID, &d.Status, &d.Message, &d.Detail, &d.Attempts, &at); err != nil {
			return nil, err
		}
		d.UpdatedAt = fromMicros(at)
		out = append(out, d)
	}
	return out, rs.Err()
}

// StoreTerminalVersions lists the version each live terminal of the store last received.
func (s queries) StoreTerminalVersions(ctx context.Context, accountID, storeID string) ([]int64, error) {
	rs, err := s.q.query(ctx, `SELECT last_synced_version FROM terminals WHERE account_id = $1 AND store_id = $2 AND revoked_at IS NULL`,
		accountID, storeID)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []int64
	for rs.Next() {
		var v int64
		if err := rs.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rs.Err()
}
