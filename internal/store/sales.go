package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
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
// newID makes ids for new rows ("sale", "posi"). A sale id given twice: the last one counts.
func (s queries) ImportSales(ctx context.Context, accountID, integrationID string, sales []domain.ImportedSale, newID func(prefix string) string, now time.Time) (ImportResult, error) {
	return s.ImportSalesCached(ctx, accountID, integrationID, sales, newID, now, map[string]string{})
}

// importBatch is how many rows one multi-row statement carries.
const importBatch = 400

// ImportSalesCached is ImportSales with a cache of the integration's POS item ids (item key ->
// id) kept by the caller across the chunks of one import. It works in batches: one look-up of
// the existing sales per 400, multi-row inserts of new sales, lines and payments.
func (s queries) ImportSalesCached(ctx context.Context, accountID, integrationID string, sales []domain.ImportedSale, newID func(prefix string) string, now time.Time, items map[string]string) (ImportResult, error) {
	var res ImportResult
	if len(sales) == 0 {
		return res, nil
	}
	var seq int64
	if err := s.q.queryRow(ctx, `SELECT sales_seq FROM integrations WHERE account_id = $1 AND id = $2`, accountID, integrationID).Scan(&seq); err != nil {
		return res, fmt.Errorf("read sales seq: %w", err)
	}
	// The last of each external id counts.
	last := make(map[string]int, len(sales))
	for n, x := range sales {
		last[x.ExternalID] = n
	}
	type known struct{ id, hash string }
	existing := make(map[string]known, len(sales))
	ids := make([]string, 0, len(last))
	for n, x := range sales {
		if last[x.ExternalID] == n {
			ids = append(ids, x.ExternalID)
		}
	}
	for b := 0; b < len(ids); b += importBatch {
		part := ids[b:min(b+importBatch, len(ids))]
		args := make([]any, 0, len(part)+1)
		args = append(args, integrationID)
		ph := make([]string, len(part))
		for k, id := range part {
			args = append(args, id)
			ph[k] = s.param(k + 2)
		}
		// By the unique (integration_id, external_id) index alone: with account_id too, SQLite
		// may pick the (account_id, integration_id, seq) index and read every sale of the
		// integration. The caller holds the integration of the account (LockIntegration).
		rs, err := s.q.query(ctx, `SELECT external_id, id, hash FROM sales WHERE integration_id = `+s.param(1)+` AND external_id IN (`+
			strings.Join(ph, ", ")+`)`, args...)
		if err != nil {
			return res, fmt.Errorf("read sales: %w", err)
		}
		for rs.Next() {
			var ext string
			var k known
			if err := rs.Scan(&ext, &k.id, &k.hash); err != nil {
				rs.Close()
				return res, err
			}
			existing[ext] = k
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return res, err
		}
	}
	if len(items) == 0 {
		rs, err := s.q.query(ctx, `SELECT external_id, id FROM pos_items WHERE account_id = $1 AND integration_id = $2`, accountID, integrationID)
		if err != nil {
			return res, fmt.Errorf("read POS items: %w", err)
		}
		for rs.Next() {
			var k, id string
			if err := rs.Scan(&k, &id); err != nil {
				rs.Close()
				return res, err
			}
			items[k] = id
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return res, err
		}
	}
	var newRows, lineRows, payRows [][]any
	var replaced []any
	touched := map[string]domain.SaleLine{} // item key -> its latest line in this import
	seenAt := map[string]time.Time{}
	currency := map[string]string{}
	for n, sale := range sales {
		if last[sale.ExternalID] != n {
			continue
		}
		h := saleHash(sale)
		k, ok := existing[sale.ExternalID]
		id := k.id
		switch {
		case !ok:
			id = newID("sale")
			seq++
			newRows = append(newRows, []any{id, accountID, integrationID, sale.ExternalID, sale.Number, sale.StoreID, sale.Status, sale.Currency,
				sale.Total, micros(sale.SoldAt), h, seq, micros(now), micros(now)})
			res.New++
		case k.hash == h:
			res.Unchanged++
			continue
		default:
			seq++
			if _, err := s.q.exec(ctx, `UPDATE sales SET number = $3, store_id = $4, status = $5, currency = $6, total = $7, sold_at = $8,
				hash = $9, seq = $10, updated_at = $11 WHERE account_id = $1 AND id = $2`,
				accountID, id, sale.Number, sale.StoreID, sale.Status, sale.Currency, sale.Total, micros(sale.SoldAt), h, seq, micros(now)); err != nil {
				return res, fmt.Errorf("update sale %s: %w", sale.ExternalID, err)
			}
			replaced = append(replaced, id)
			res.Updated++
		}
		if res.FirstSeq == 0 {
			res.FirstSeq = seq
		}
		res.LastSeq = seq
		for ln, l := range sale.Lines {
			if t, ok := seenAt[l.ItemKey]; !ok || !sale.SoldAt.Before(t) {
				touched[l.ItemKey], seenAt[l.ItemKey], currency[l.ItemKey] = l, sale.SoldAt, sale.Currency
			}
			lineRows = append(lineRows, []any{id, ln + 1, accountID, l.ItemKey, l.Name, l.Quantity, l.UnitPrice, l.Total})
		}
		for pn, p := range sale.Payments {
			payRows = append(payRows, []any{id, pn + 1, accountID, p.Method, p.Amount})
		}
	}
	// POS items: one upsert per item sold in this import (name, price and last seen follow its
	// latest sale), which also gives the ids of new ones.
	keys := make([]string, 0, len(touched))
	for k := range touched {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		l := touched[key]
		cand := newID("posi")
		var itemID string
		if err := s.q.queryRow(ctx, `INSERT INTO pos_items (id, account_id, integration_id, external_id, name, sku, currency,
			last_unit_price, first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
			ON CONFLICT (integration_id, external_id) DO UPDATE SET
			name = CASE WHEN excluded.last_seen_at >= pos_items.last_seen_at THEN excluded.name ELSE pos_items.name END,
			sku = CASE WHEN excluded.last_seen_at >= pos_items.last_seen_at THEN excluded.sku ELSE pos_items.sku END,
			currency = CASE WHEN excluded.last_seen_at >= pos_items.last_seen_at THEN excluded.currency ELSE pos_items.currency END,
			last_unit_price = CASE WHEN excluded.last_seen_at >= pos_items.last_seen_at THEN excluded.last_unit_price ELSE pos_items.last_unit_price END,
			first_seen_at = CASE WHEN excluded.first_seen_at < pos_items.first_seen_at THEN excluded.first_seen_at ELSE pos_items.first_seen_at END,
			last_seen_at = CASE WHEN excluded.last_seen_at > pos_items.last_seen_at THEN excluded.last_seen_at ELSE pos_items.last_seen_at END
			RETURNING id`, cand, accountID, integrationID, key, l.Name, l.SKU, currency[key], l.UnitPrice, micros(seenAt[key])).Scan(&itemID); err != nil {
			return res, fmt.Errorf("keep POS item %q: %w", key, err)
		}
		if _, had := items[key]; !had && itemID == cand {
			res.NewItems++
		}
		items[key] = itemID
	}
	for _, r := range lineRows {
		r[3] = items[r[3].(string)]
	}
	for b := 0; b < len(replaced); b += importBatch {
		part := replaced[b:min(b+importBatch, len(replaced))]
		ph := make([]string, len(part))
		for k := range part {
			ph[k] = s.param(k + 1)
		}
		in := strings.Join(ph, ", ")
		if _, err := s.q.exec(ctx, `DELETE FROM sale_lines WHERE sale_id IN (`+in+`)`, part...); err != nil {
			return res, fmt.Errorf("replace sale lines: %w", err)
		}
		if _, err := s.q.exec(ctx, `DELETE FROM sale_payments WHERE sale_id IN (`+in+`)`, part...); err != nil {
			return res, fmt.Errorf("replace sale payments: %w", err)
		}
	}
	if err := s.insertRows(ctx, `sales (id, account_id, integration_id, external_id, number, store_id, status, currency, total, sold_at, hash, seq, created_at, updated_at)`, newRows); err != nil {
		return res, fmt.Errorf("insert sales: %w", err)
	}
	if err := s.insertRows(ctx, `sale_lines (sale_id, line_no, account_id, pos_item_id, name, quantity, unit_price, total)`, lineRows); err != nil {
		return res, fmt.Errorf("insert sale lines: %w", err)
	}
	if err := s.insertRows(ctx, `sale_payments (sale_id, idx, account_id, method, amount)`, payRows); err != nil {
		return res, fmt.Errorf("insert sale payments: %w", err)
	}
	if res.LastSeq != 0 {
		if _, err := s.q.exec(ctx, `UPDATE integrations SET sales_seq = $3 WHERE account_id = $1 AND id = $2`, accountID, integrationID, seq); err != nil {
			return res, fmt.Errorf("write sales seq: %w", err)
		}
	}
	return res, nil
}

// param is the n-th parameter of a long statement: anonymous on SQLite (it looks a numbered
// parameter's name up in a list, which makes binding thousands of them quadratic), $n on
// PostgreSQL.
func (s queries) param(n int) string {
	if s.dialect == SQLite {
		return "?"
	}
	return "$" + strconv.Itoa(n)
}

// insertRows inserts rows (all of one width) into table "name (cols)" with multi-row INSERTs
// of at most importBatch rows.
func (s queries) insertRows(ctx context.Context, table string, rows [][]any) error {
	for b := 0; b < len(rows); b += importBatch {
		part := rows[b:min(b+importBatch, len(rows))]
		w := len(part[0])
		var q strings.Builder
		q.WriteString("INSERT INTO " + table + " VALUES ")
		args := make([]any, 0, len(part)*w)
		for r, row := range part {
			if r > 0 {
				q.WriteString(", ")
			}
			q.WriteByte('(')
			for c := range row {
				if c > 0 {
					q.WriteString(", ")
				}
				q.WriteString(s.param(r*w + c + 1))
			}
			q.WriteByte(')')
			args = append(args, row...)
		}
		if _, err := s.q.exec(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
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
