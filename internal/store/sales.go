package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
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

// saleHash is the content of a sale that, when it changes, makes the import update the row.
func saleHash(s domain.ImportedSale) string {
	type line struct {
		K, S, N, Q string
		P, T       int64
	}
	v := struct {
		N, St, S, C string
		T           int64
		At          int64
		L           []line
		P           []domain.SalePayment
	}{s.Number, s.StoreID, s.Status, s.Currency, s.Total, micros(s.SoldAt), nil, s.Payments}
	for _, l := range s.Lines {
		v.L = append(v.L, line{l.ItemKey, l.SKU, l.Name, l.Quantity, l.UnitPrice, l.Total})
	}
	b, _ := json.Marshal(v)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

// ImportSales inserts the integration's sales that are new, updates the ones whose content
// changed and leaves the others: a sale is keyed by (integration, provider sale id). Every line's
// POS item is kept (created on first sight). Run it in the transaction that also moves the
// integration's cursor and times (after LockIntegration), so a failed import leaves nothing.
// newID makes ids for new rows ("sale", "posi").
func (s queries) ImportSales(ctx context.Context, accountID, integrationID string, sales []domain.ImportedSale, newID func(prefix string) string, now time.Time) (ImportResult, error) {
	var res ImportResult
	var seq int64
	if err := s.q.queryRow(ctx, `SELECT sales_seq FROM integrations WHERE account_id = $1 AND id = $2`, accountID, integrationID).Scan(&seq); err != nil {
		return res, fmt.Errorf("read sales seq: %w", err)
	}
	items := map[string]string{}
	for _, sale := range sales {
		h := saleHash(sale)
		var id, old string
		err := s.q.queryRow(ctx, `SELECT id, hash FROM sales WHERE account_id = $1 AND integration_id = $2 AND external_id = $3`,
			accountID, integrationID, sale.ExternalID).Scan(&id, &old)
		switch {
		case errors.Is(err, ErrNotFound):
			id = newID("sale")
			seq++
			if _, err := s.q.exec(ctx, `INSERT INTO sales (id, account_id, integration_id, external_id, number, store_id, status, currency,
				total, sold_at, hash, seq, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)`,
				id, accountID, integrationID, sale.ExternalID, sale.Number, sale.StoreID, sale.Status, sale.Currency,
				sale.Total, micros(sale.SoldAt), h, seq, micros(now)); err != nil {
				return res, fmt.Errorf("insert sale %s: %w", sale.ExternalID, err)
			}
			res.New++
		case err != nil:
			return res, fmt.Errorf("read sale %s: %w", sale.ExternalID, err)
		case old == h:
			res.Unchanged++
			continue
		default:
			seq++
			if _, err := s.q.exec(ctx, `UPDATE sales SET number = $3, store_id = $4, status = $5, currency = $6, total = $7, sold_at = $8,
				hash = $9, seq = $10, updated_at = $11 WHERE account_id = $1 AND id = $2`,
				accountID, id, sale.Number, sale.StoreID, sale.Status, sale.Currency, sale.Total, micros(sale.SoldAt), h, seq, micros(now)); err != nil {
				return res, fmt.Errorf("update sale %s: %w", sale.ExternalID, err)
			}
			if _, err := s.q.exec(ctx, `DELETE FROM sale_lines WHERE sale_id = $1`, id); err != nil {
				return res, err
			}
			if _, err := s.q.exec(ctx, `DELETE FROM sale_payments WHERE sale_id = $1`, id); err != nil {
				return res, err
			}
			res.Updated++
		}
		if res.FirstSeq == 0 {
			res.FirstSeq = seq
		}
		res.LastSeq = seq
		for n, l := range sale.Lines {
			itemID, ok := items[l.ItemKey]
			if !ok {
				cand := newID("posi")
				if err := s.q.queryRow(ctx, `INSERT INTO pos_items (id, account_id, integration_id, external_id, name, sku, currency,
					last_unit_price, first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
					ON CONFLICT (integration_id, external_id) DO UPDATE SET name = excluded.name, sku = excluded.sku,
					currency = excluded.currency, last_unit_price = excluded.last_unit_price,
					last_seen_at = CASE WHEN excluded.last_seen_at > pos_items.last_seen_at THEN excluded.last_seen_at ELSE pos_items.last_seen_at END
					RETURNING id`, cand, accountID, integrationID, l.ItemKey, l.Name, l.SKU, sale.Currency, l.UnitPrice, micros(sale.SoldAt)).Scan(&itemID); err != nil {
					return res, fmt.Errorf("keep POS item %q: %w", l.ItemKey, err)
				}
				if itemID == cand {
					res.NewItems++
				}
				items[l.ItemKey] = itemID
			}
			if _, err := s.q.exec(ctx, `INSERT INTO sale_lines (sale_id, line_no, account_id, pos_item_id, name, quantity, unit_price, total)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, n+1, accountID, itemID, l.Name, l.Quantity, l.UnitPrice, l.Total); err != nil {
				return res, fmt.Errorf("insert line %d of sale %s: %w", n+1, sale.ExternalID, err)
			}
		}
		for n, p := range sale.Payments {
			if _, err := s.q.exec(ctx, `INSERT INTO sale_payments (sale_id, idx, account_id, method, amount) VALUES ($1, $2, $3, $4, $5)`,
				id, n+1, accountID, p.Method, p.Amount); err != nil {
				return res, fmt.Errorf("insert payment of sale %s: %w", sale.ExternalID, err)
			}
		}
	}
	if res.LastSeq != 0 {
		if _, err := s.q.exec(ctx, `UPDATE integrations SET sales_seq = $3 WHERE account_id = $1 AND id = $2`, accountID, integrationID, seq); err != nil {
			return res, fmt.Errorf("write sales seq: %w", err)
		}
	}
	return res, nil
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

const saleCols = `id, account_id, integration_id, external_id, number, store_id, status, currency, total, sold_at, seq, created_at, updated_at`

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
	idx := map[string]int{}
	for rs.Next() {
		var x domain.ImportedSale
		var sold, created, updated int64
		if err := rs.Scan(&x.ID, &x.AccountID, &x.IntegrationID, &x.ExternalID, &x.Number, &x.StoreID, &x.Status, &x.Currency,
			&x.Total, &sold, &x.Seq, &created, &updated); err != nil {
			rs.Close()
			return nil, err
		}
		x.SoldAt, x.CreatedAt, x.UpdatedAt = fromMicros(sold), fromMicros(created), fromMicros(updated)
		x.Lines, x.Payments = []domain.SaleLine{}, []domain.SalePayment{}
		idx[x.ID] = len(out)
		out = append(out, x)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	ph := make([]string, len(out))
	ids := make([]any, 0, len(out)+1)
	ids = append(ids, accountID)
	for n, x := range out {
		ph[n] = fmt.Sprintf("$%d", n+2)
		ids = append(ids, x.ID)
	}
	in := strings.Join(ph, ", ")
	lr, err := s.q.query(ctx, `SELECT sale_id, pos_item_id, name, quantity, unit_price, total FROM sale_lines
		WHERE account_id = $1 AND sale_id IN (`+in+`) ORDER BY sale_id, line_no`, ids...)
	if err != nil {
		return nil, fmt.Errorf("list sale lines: %w", err)
	}
	for lr.Next() {
		var sid string
		var l domain.SaleLine
		if err := lr.Scan(&sid, &l.PosItemID, &l.Name, &l.Quantity, &l.UnitPrice, &l.Total); err != nil {
			lr.Close()
			return nil, err
		}
		out[idx[sid]].Lines = append(out[idx[sid]].Lines, l)
	}
	lr.Close()
	if err := lr.Err(); err != nil {
		return nil, err
	}
	pr, err := s.q.query(ctx, `SELECT sale_id, method, amount FROM sale_payments
		WHERE account_id = $1 AND sale_id IN (`+in+`) ORDER BY sale_id, idx`, ids...)
	if err != nil {
		return nil, fmt.Errorf("list sale payments: %w", err)
	}
	defer pr.Close()
	for pr.Next() {
		var sid string
		var p domain.SalePayment
		if err := pr.Scan(&sid, &p.Method, &p.Amount); err != nil {
			return nil, err
		}
		out[idx[sid]].Payments = append(out[idx[sid]].Payments, p)
	}
	return out, pr.Err()
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
