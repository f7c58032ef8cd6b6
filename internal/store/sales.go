package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

// ImportResult counts what one import did: new sales, changed ones (a refund, a void), and
// sales already there unchanged (an overlapping window). FirstSeq..LastSeq are the change
// numbers given to the new and changed sales (0, 0 when none).
type ImportResult struct {
	New, Updated, Unchanged int
	NewItems                int
	FirstSeq, LastSeq       int64
}

// SalesState is an integration's sales schedule and where its provider listing resumes.
type SalesState struct {
	IntervalMinutes int
	NextAt          *time.Time
	Cursor          string
}

// GetSalesState reads an integration's sales schedule and cursor.
func (s queries) GetSalesState(ctx context.Context, accountID, id string) (SalesState, error) {
	var st SalesState
	var next *int64
	err := s.q.queryRow(ctx, `SELECT sales_interval_minutes, next_sales_at, sales_cursor FROM integrations WHERE account_id = $1 AND id = $2`,
		accountID, id).Scan(&st.IntervalMinutes, &next, &st.Cursor)
	st.NextAt = fromMicrosPtr(next)
	return st, err
}

// SetSalesCursor records where the integration's provider listing resumes.
func (s queries) SetSalesCursor(ctx context.Context, accountID, id, cursor string) error {
	_, err := s.q.exec(ctx, `UPDATE integrations SET sales_cursor = $3 WHERE account_id = $1 AND id = $2`, accountID, id, cursor)
	return err
}

// SetSalesSchedule sets the integration's sales check frequency and its next fetch.
func (s queries) SetSalesSchedule(ctx context.Context, accountID, id string, intervalMinutes int, next *time.Time) error {
	n, err := s.q.exec(ctx, `UPDATE integrations SET sales_interval_minutes = $3, next_sales_at = $4 WHERE account_id = $1 AND id = $2`,
		accountID, id, intervalMinutes, microsPtr(next))
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

// DueSales lists scheduled integrations of any account whose sales fetch is due, or that have
// no sales schedule yet (next_sales_at NULL), up to limit.
func (s queries) DueSales(ctx context.Context, now time.Time, limit int) ([]domain.Integration, error) {
	return s.listIntegrations(ctx, `SELECT `+integrationCols+` FROM integrations
		WHERE (next_sales_at IS NULL OR next_sales_at <= $1) AND status IN ($2, $3, $4)
		ORDER BY next_sales_at LIMIT $5`,
		micros(now), string(domain.StatusInitializing), string(domain.StatusHealthy), string(domain.StatusFailed), limit)
}

// ClaimDueSales moves the integration's next sales fetch to next if it is still due (or unset)
// and the integration scheduled; it reports whether this caller claimed it.
func (s queries) ClaimDueSales(ctx context.Context, accountID, id string, now, next time.Time) (bool, error) {
	n, err := s.q.exec(ctx, `UPDATE integrations SET next_sales_at = $3
		WHERE account_id = $1 AND id = $2 AND (next_sales_at IS NULL OR next_sales_at <= $4) AND status IN ($5, $6, $7)`,
		accountID, id, micros(next), micros(now),
		string(domain.StatusInitializing), string(domain.StatusHealthy), string(domain.StatusFailed))
	return n == 1, err
}

// SaleFilter selects sales of an account. AfterSeq/AfterID is the keyset cursor (seq, id); with
// AfterID empty, the sales after change number AfterSeq.
type SaleFilter struct {
	IntegrationID string
	Since, Until  *time.Time // sold_at >= Since, < Until
	AfterSeq      int64
	AfterID       string
	Limit         int
	Newest        bool // the latest changes first (no cursor)
}

const saleCols = `id, account_id, integration_id, external_id, number, store_id, status, currency, total, sold_at, seq, created_at, updated_at, lines, payments`

// decodeSaleLines reads a sale's lines and payments as its row keeps them (SalesImport.encode).
func decodeSaleLines(lines, payments string) ([]domain.SaleLine, []domain.SalePayment, error) {
	var ls [][5]json.RawMessage
	if err := json.Unmarshal([]byte(lines), &ls); err != nil {
		return nil, nil, fmt.Errorf("read lines: %w", err)
	}
	outL := make([]domain.SaleLine, len(ls))
	for n, l := range ls {
		x := &outL[n]
		for i, dst := range []any{&x.PosItemID, &x.Name, &x.Quantity, &x.UnitPrice, &x.Total} {
			if err := json.Unmarshal(l[i], dst); err != nil {
				return nil, nil, fmt.Errorf("read line %d: %w", n+1, err)
			}
		}
	}
	var ps [][2]json.RawMessage
	if err := json.Unmarshal([]byte(payments), &ps); err != nil {
		return nil, nil, fmt.Errorf("read payments: %w", err)
	}
	outP := make([]domain.SalePayment, len(ps))
	for n, p := range ps {
		if err := json.Unmarshal(p[0], &outP[n].Method); err != nil {
			return nil, nil, fmt.Errorf("read payment %d: %w", n+1, err)
		}
		if err := json.Unmarshal(p[1], &outP[n].Amount); err != nil {
			return nil, nil, fmt.Errorf("read payment %d: %w", n+1, err)
		}
	}
	return outL, outP, nil
}

// ListSales lists an account's sales in change order (seq, id), each with its lines and payments.
func (s queries) ListSales(ctx context.Context, accountID string, f SaleFilter) ([]domain.ImportedSale, error) {
	q := `SELECT ` + saleCols + ` FROM sales WHERE account_id = $1`
	args := []any{accountID}
	add := func(cond string, v any) {
		args = append(args, v)
		q += fmt.Sprintf(" AND "+cond, len(args))
	}
	if f.IntegrationID != "" {
		add("integration_id = $%d", f.IntegrationID)
	}
	if f.Since != nil {
		add("sold_at >= $%d", micros(*f.Since))
	}
	if f.Until != nil {
		add("sold_at < $%d", micros(*f.Until))
	}
	if f.AfterID == "" && f.AfterSeq > 0 {
		add("seq > $%d", f.AfterSeq)
	} else if f.AfterID != "" {
		args = append(args, f.AfterSeq, f.AfterID)
		q += fmt.Sprintf(" AND (seq > $%d OR (seq = $%d AND id > $%d))", len(args)-1, len(args)-1, len(args))
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	args = append(args, f.Limit)
	order := "seq, id"
	if f.Newest {
		order = "seq DESC, id DESC"
	}
	q += fmt.Sprintf(" ORDER BY "+order+" LIMIT $%d", len(args))
	rs, err := s.q.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list sales: %w", err)
	}
	out := []domain.ImportedSale{}
	for rs.Next() {
		var x domain.ImportedSale
		var sold, created, updated int64
		var lines, payments string
		if err := rs.Scan(&x.ID, &x.AccountID, &x.IntegrationID, &x.ExternalID, &x.Number, &x.StoreID, &x.Status, &x.Currency,
			&x.Total, &sold, &x.Seq, &created, &updated, &lines, &payments); err != nil {
			rs.Close()
			return nil, err
		}
		x.SoldAt, x.CreatedAt, x.UpdatedAt = fromMicros(sold), fromMicros(created), fromMicros(updated)
		var err error
		if x.Lines, x.Payments, err = decodeSaleLines(lines, payments); err != nil {
			rs.Close()
			return nil, fmt.Errorf("sale %s: %w", x.ID, err)
		}
		out = append(out, x)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// SalesDay is one UTC day's sales of one currency.
type SalesDay struct {
	Day           time.Time
	Currency      string
	Count         int   // completed sales
	Total         int64 // sum of completed sales
	RefundedCount int
	RefundedTotal int64
	VoidedCount   int
}

const dayMicros = int64(24 * time.Hour / time.Microsecond)

// SalesSummary totals an account's sales per UTC day (sold_at in [from, to)), oldest first.
func (s queries) SalesSummary(ctx context.Context, accountID, integrationID string, from, to time.Time) ([]SalesDay, error) {
	q := `SELECT sold_at / $2 AS d, currency, status, COUNT(*), SUM(total) FROM sales
		WHERE account_id = $1 AND sold_at >= $3 AND sold_at < $4`
	args := []any{accountID, dayMicros, micros(from), micros(to)}
	if integrationID != "" {
		args = append(args, integrationID)
		q += ` AND integration_id = $5`
	}
	q += ` GROUP BY d, currency, status ORDER BY d, currency`
	rs, err := s.q.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sales summary: %w", err)
	}
	defer rs.Close()
	out := []SalesDay{}
	for rs.Next() {
		var d, sum int64
		var n int
		var cur, status string
		if err := rs.Scan(&d, &cur, &status, &n, &sum); err != nil {
			return nil, err
		}
		day := fromMicros(d * dayMicros)
		if len(out) == 0 || !out[len(out)-1].Day.Equal(day) || out[len(out)-1].Currency != cur {
			out = append(out, SalesDay{Day: day, Currency: cur})
		}
		x := &out[len(out)-1]
		switch status {
		case domain.SaleCompleted:
			x.Count, x.Total = x.Count+n, x.Total+sum
		case domain.SaleRefunded:
			x.RefundedCount, x.RefundedTotal = x.RefundedCount+n, x.RefundedTotal+sum
		case domain.SaleVoided:
			x.VoidedCount += n
		}
	}
	return out, rs.Err()
}

const posItemCols = `id, account_id, integration_id, external_id, name, sku, app_ref, currency, last_unit_price, first_seen_at, last_seen_at`

func scanPosItem(r row) (domain.PosItem, error) {
	var p domain.PosItem
	var first, last int64
	err := r.Scan(&p.ID, &p.AccountID, &p.IntegrationID, &p.ExternalID, &p.Name, &p.SKU, &p.AppRef, &p.Currency, &p.LastUnitPrice, &first, &last)
	p.FirstSeenAt, p.LastSeenAt = fromMicros(first), fromMicros(last)
	return p, err
}

// PosItemFilter selects POS items; AfterName/AfterID is the keyset cursor (name, id).
type PosItemFilter struct {
	IntegrationID string
	Query         string // part of the name or SKU, case-insensitive
	AfterName     string
	AfterID       string
	Limit         int
}

// ListPosItems lists an account's POS items by name.
func (s queries) ListPosItems(ctx context.Context, accountID string, f PosItemFilter) ([]domain.PosItem, error) {
	q := `SELECT ` + posItemCols + ` FROM pos_items WHERE account_id = $1`
	args := []any{accountID}
	if f.IntegrationID != "" {
		args = append(args, f.IntegrationID)
		q += fmt.Sprintf(" AND integration_id = $%d", len(args))
	}
	if f.Query != "" {
		args = append(args, "%"+strings.ToLower(likeEscape(f.Query))+"%")
		q += fmt.Sprintf(` AND (LOWER(name) LIKE $%d ESCAPE '\' OR LOWER(sku) LIKE $%d ESCAPE '\')`, len(args), len(args))
	}
	if f.AfterID != "" {
		args = append(args, f.AfterName, f.AfterID)
		q += fmt.Sprintf(" AND (name > $%d OR (name = $%d AND id > $%d))", len(args)-1, len(args)-1, len(args))
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(" ORDER BY name, id LIMIT $%d", len(args))
	rs, err := s.q.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list POS items: %w", err)
	}
	defer rs.Close()
	out := []domain.PosItem{}
	for rs.Next() {
		p, err := scanPosItem(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rs.Err()
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// SetPosItemMapping sets the app's reference of a POS item ("" clears it).
func (s queries) SetPosItemMapping(ctx context.Context, accountID, id, appRef string) (domain.PosItem, error) {
	return scanPosItem(s.q.queryRow(ctx, `UPDATE pos_items SET app_ref = $3 WHERE account_id = $1 AND id = $2 RETURNING `+posItemCols,
		accountID, id, appRef))
}

// CountSales counts an integration's sales (for tests and the console).
func (s queries) CountSales(ctx context.Context, accountID, integrationID string) (int, error) {
	var n int
	err := s.q.queryRow(ctx, `SELECT COUNT(*) FROM sales WHERE account_id = $1 AND integration_id = $2`, accountID, integrationID).Scan(&n)
	return n, err
}

// GetPosItem reads one POS item of the account.
func (s queries) GetPosItem(ctx context.Context, accountID, id string) (domain.PosItem, error) {
	return scanPosItem(s.q.queryRow(ctx, `SELECT `+posItemCols+` FROM pos_items WHERE account_id = $1 AND id = $2`, accountID, id))
}
