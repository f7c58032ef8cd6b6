package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/domain"
)

func contentHash(v any) (string, []byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", nil, err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16]), b, nil
}

// productSearch is the lower-cased text a product search matches: name, SKUs and barcodes.
// tracksStock tells whether the product or one of its variants tracks stock: only then does a
// shop take stock with it.
func tracksStock(p domain.Product) bool {
	return p.TrackStock || slices.ContainsFunc(p.Variants, func(v domain.Variant) bool { return v.TrackStock })
}

func productSearch(p domain.Product) string {
	parts := []string{p.Name, p.SKU, p.Barcode}
	for _, v := range p.Variants {
		parts = append(parts, v.Name, v.SKU, v.Barcode)
	}
	return strings.ToLower(strings.Join(parts, "\n"))
}

func customerSearch(c domain.Customer) string {
	return strings.ToLower(strings.Join([]string{c.FirstName + " " + c.LastName, c.Email, c.Phone, c.Reference}, "\n"))
}

// likePattern makes a LIKE pattern matching s anywhere, with % _ and \ taken literally.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// RecordChange is what a write of a record did: its posbridge id, the change feed action ("" when
// nothing changed) and, for a record that changed or was deleted, which fields changed (the
// caller records them in the history with what caused the change).
type RecordChange struct {
	ID      string
	Action  string
	Changes []domain.FieldChange
}

// productChanges are the history changes of a product read again: its fields, and deleted
// false when it was deleted before.
func productChanges(oldData string, wasDeleted bool, p domain.Product) []domain.FieldChange {
	var out []domain.FieldChange
	if wasDeleted {
		out = append(out, domain.DeletedChange(false))
	}
	var old domain.Product
	if json.Unmarshal([]byte(oldData), &old) == nil {
		out = append(out, domain.ProductDiff(old, p)...)
	}
	return out
}

// UpsertCatalogProduct writes a product read from the source in the import pass (0 outside
// one), and adds a change feed entry when it is new or changed.
func (s queries) UpsertCatalogProduct(ctx context.Context, accountID, integrationID string, p domain.Product, pass int64, now time.Time) (RecordChange, error) {
	p.UpdatedAt = p.UpdatedAt.UTC()
	hash, data, err := contentHash(p)
	if err != nil {
		return RecordChange{}, err
	}
	var id, old, oldData string
	var deleted bool
	var oldPass int64
	err = s.q.queryRow(ctx, `SELECT id, hash, deleted, pass, data FROM catalog_products WHERE account_id = $1 AND integration_id = $2 AND external_id = $3`,
		accountID, integrationID, p.ID).Scan(&id, &old, &deleted, &oldPass, &oldData)
	ch := RecordChange{ID: id}
	switch {
	case errors.Is(err, ErrNotFound):
		ch = RecordChange{ID: auth.NewID("prd"), Action: domain.ChangeCreated}
		if p.Deleted {
			return RecordChange{}, nil // never seen, already gone
		}
		if pass == 0 {
			pass = -1 // not seen by a pass yet; the next pass's deletions leave it only if it reads it
		}
		_, err = s.q.exec(ctx, `INSERT INTO catalog_products (account_id, id, integration_id, external_id, name, sku, barcode, search, data, hash, deleted, pass, created_at, updated_at, tracks_stock)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)`,
			accountID, ch.ID, integrationID, p.ID, p.Name, p.SKU, p.Barcode, productSearch(p), string(data), hash, false, pass, micros(now), tracksStock(p))
		if err != nil {
			return ch, fmt.Errorf("insert product %s: %w", p.ID, err)
		}
	case err != nil:
		return ch, err
	default:
		if pass == 0 {
			pass = oldPass
		}
		switch {
		case p.Deleted && deleted, !p.Deleted && !deleted && old == hash:
			if pass != oldPass {
				_, err = s.q.exec(ctx, `UPDATE catalog_products SET pass = $3 WHERE account_id = $1 AND id = $2`, accountID, id, pass)
			}
			return ch, err
		case p.Deleted:
			ch.Action = domain.ChangeDeleted
			ch.Changes = []domain.FieldChange{domain.DeletedChange(true)}
			_, err = s.q.exec(ctx, `UPDATE catalog_products SET deleted = $3, pass = $4, updated_at = $5 WHERE account_id = $1 AND id = $2`, accountID, id, true, pass, micros(now))
		default:
			ch.Action = domain.ChangeUpdated
			if deleted {
				ch.Action = domain.ChangeCreated
			}
			ch.Changes = productChanges(oldData, deleted, p)
			_, err = s.q.exec(ctx, `UPDATE catalog_products SET name = $3, sku = $4, barcode = $5, search = $6, data = $7, hash = $8, deleted = $9, pass = $10, updated_at = $11,
				tracks_stock = $12 WHERE account_id = $1 AND id = $2`, accountID, id, p.Name, p.SKU, p.Barcode, productSearch(p), string(data), hash, false, pass, micros(now), tracksStock(p))
		}
		if err != nil {
			return ch, fmt.Errorf("update product %s: %w", p.ID, err)
		}
	}
	return ch, s.AddCatalogChange(ctx, accountID, domain.RecordProduct, ch.ID, ch.Action, now)
}

// UpsertCatalogCustomer is UpsertCatalogProduct for a customer.
func (s queries) UpsertCatalogCustomer(ctx context.Context, accountID, integrationID string, c domain.Customer, pass int64, now time.Time) (RecordChange, error) {
	c.UpdatedAt = c.UpdatedAt.UTC()
	hash, data, err := contentHash(c)
	if err != nil {
		return RecordChange{}, err
	}
	var id, old, oldData string
	var deleted bool
	var oldPass int64
	err = s.q.queryRow(ctx, `SELECT id, hash, deleted, pass, data FROM catalog_customers WHERE account_id = $1 AND integration_id = $2 AND external_id = $3`,
		accountID, integrationID, c.ID).Scan(&id, &old, &deleted, &oldPass, &oldData)
	ch := RecordChange{ID: id}
	switch {
	case errors.Is(err, ErrNotFound):
		ch = RecordChange{ID: auth.NewID("cus"), Action: domain.ChangeCreated}
		if pass == 0 {
			pass = -1
		}
		_, err = s.q.exec(ctx, `INSERT INTO catalog_customers (account_id, id, integration_id, external_id, email, first_name, last_name, phone, search, data, hash, deleted, pass, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)`,
			accountID, ch.ID, integrationID, c.ID, c.Email, c.FirstName, c.LastName, c.Phone, customerSearch(c), string(data), hash, false, pass, micros(now))
		if err != nil {
			return ch, fmt.Errorf("insert customer %s: %w", c.ID, err)
		}
	case err != nil:
		return ch, err
	default:
		if pass == 0 {
			pass = oldPass
		}
		if !deleted && old == hash {
			if pass != oldPass {
				_, err = s.q.exec(ctx, `UPDATE catalog_customers SET pass = $3 WHERE account_id = $1 AND id = $2`, accountID, id, pass)
			}
			return ch, err
		}
		ch.Action = domain.ChangeUpdated
		if deleted {
			ch.Action = domain.ChangeCreated
			ch.Changes = append(ch.Changes, domain.DeletedChange(false))
		}
		var prev domain.Customer
		if json.Unmarshal([]byte(oldData), &prev) == nil {
			ch.Changes = append(ch.Changes, domain.CustomerDiff(prev, c)...)
		}
		_, err = s.q.exec(ctx, `UPDATE catalog_customers SET email = $3, first_name = $4, last_name = $5, phone = $6, search = $7, data = $8, hash = $9, deleted = $10, pass = $11, updated_at = $12
			WHERE account_id = $1 AND id = $2`, accountID, id, c.Email, c.FirstName, c.LastName, c.Phone, customerSearch(c), string(data), hash, false, pass, micros(now))
		if err != nil {
			return ch, fmt.Errorf("update customer %s: %w", c.ID, err)
		}
	}
	return ch, s.AddCatalogChange(ctx, accountID, domain.RecordCustomer, ch.ID, ch.Action, now)
}

// UpsertCatalogStock writes a stock level read from the source; a change is a change feed entry
// of the product's (when posbridge knows the product).
func (s queries) UpsertCatalogStock(ctx context.Context, accountID, integrationID string, l domain.StockLevel, pass int64, now time.Time) (RecordChange, error) {
	var old string
	var oldPass int64
	err := s.q.queryRow(ctx, `SELECT quantity, pass FROM catalog_stock WHERE account_id = $1 AND integration_id = $2 AND external_product_id = $3 AND variant_id = $4 AND location_id = $5`,
		accountID, integrationID, l.ProductID, l.VariantID, l.LocationID).Scan(&old, &oldPass)
	action := domain.ChangeUpdated
	switch {
	case errors.Is(err, ErrNotFound):
		if pass == 0 {
			pass = -1
		}
		action = domain.ChangeCreated
		_, err = s.q.exec(ctx, `INSERT INTO catalog_stock (account_id, integration_id, external_product_id, variant_id, location_id, quantity, pass, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, accountID, integrationID, l.ProductID, l.VariantID, l.LocationID, l.Quantity, pass, micros(now))
	case err != nil:
		return RecordChange{}, err
	default:
		if pass == 0 {
			pass = oldPass
		}
		if old == l.Quantity {
			if pass != oldPass {
				_, err = s.q.exec(ctx, `UPDATE catalog_stock SET pass = $6 WHERE account_id = $1 AND integration_id = $2 AND external_product_id = $3 AND variant_id = $4 AND location_id = $5`,
					accountID, integrationID, l.ProductID, l.VariantID, l.LocationID, pass)
			}
			return RecordChange{}, err
		}
		_, err = s.q.exec(ctx, `UPDATE catalog_stock SET quantity = $6, pass = $7, updated_at = $8 WHERE account_id = $1 AND integration_id = $2 AND external_product_id = $3 AND variant_id = $4 AND location_id = $5`,
			accountID, integrationID, l.ProductID, l.VariantID, l.LocationID, l.Quantity, pass, micros(now))
	}
	if err != nil {
		return RecordChange{}, fmt.Errorf("write stock of %s: %w", l.ProductID, err)
	}
	var pid string // the product's stock changed: its destinations' stock is pending (stock_seq)
	err = s.q.queryRow(ctx, `UPDATE catalog_products SET stock_seq = stock_seq + 1 WHERE account_id = $1 AND integration_id = $2 AND external_id = $3 RETURNING id`,
		accountID, integrationID, l.ProductID).Scan(&pid)
	if errors.Is(err, ErrNotFound) {
		return RecordChange{}, nil
	}
	if err != nil {
		return RecordChange{}, err
	}
	ch := RecordChange{ID: pid, Action: action}
	if action == domain.ChangeUpdated { // a first stock level is part of the product's arrival
		ch.Changes = []domain.FieldChange{{Field: domain.StockField(l), From: old, To: l.Quantity}}
	}
	return ch, s.AddCatalogChange(ctx, accountID, domain.RecordStock, pid, action, now)
}

// UpsertCatalogStocks is UpsertCatalogStock for a page of stock levels, in the page's order: one
// query reads the levels posbridge holds of the page's products, one their product ids, and the
// writes go as one batch (one round trip on PostgreSQL), so a page of an import holds the
// database (SQLite's one connection) for a short while.
func (s queries) UpsertCatalogStocks(ctx context.Context, accountID, integrationID string, ls []domain.StockLevel, pass int64, now time.Time) ([]RecordChange, error) {
	out := make([]RecordChange, len(ls))
	if len(ls) == 0 {
		return out, nil
	}
	var exts []string
	seenExt := map[string]bool{}
	for _, l := range ls {
		if !seenExt[l.ProductID] {
			seenExt[l.ProductID] = true
			exts = append(exts, l.ProductID)
		}
	}
	type held struct {
		quantity string
		pass     int64
	}
	key := func(l domain.StockLevel) string { return l.ProductID + "\x00" + l.VariantID + "\x00" + l.LocationID }
	have := map[string]held{}
	pids := map[string]string{} // external product id -> posbridge's product id
	in := func(first int) string {
		var b strings.Builder
		for i := range exts {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", first+i)
		}
		return b.String()
	}
	args := []any{accountID, integrationID}
	for _, e := range exts {
		args = append(args, e)
	}
	rs, err := s.q.query(ctx, `SELECT external_product_id, variant_id, location_id, quantity, pass FROM catalog_stock
		WHERE account_id = $1 AND integration_id = $2 AND external_product_id IN (`+in(3)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read stock: %w", err)
	}
	for rs.Next() {
		var l domain.StockLevel
		var h held
		if err := rs.Scan(&l.ProductID, &l.VariantID, &l.LocationID, &h.quantity, &h.pass); err != nil {
			rs.Close()
			return nil, err
		}
		have[key(l)] = h
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, err
	}
	rs, err = s.q.query(ctx, `SELECT external_id, id FROM catalog_products WHERE account_id = $1 AND integration_id = $2 AND external_id IN (`+in(3)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read the stock's products: %w", err)
	}
	for rs.Next() {
		var ext, id string
		if err := rs.Scan(&ext, &id); err != nil {
			rs.Close()
			return nil, err
		}
		pids[ext] = id
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, err
	}
	steps := make([]step, 0, 3*len(ls))
	for i, l := range ls {
		k := key(l)
		h, ok := have[k]
		action := domain.ChangeUpdated
		np := pass
		switch {
		case !ok:
			if np == 0 {
				np = -1
			}
			action = domain.ChangeCreated
			steps = append(steps, step{q: `INSERT INTO catalog_stock (account_id, integration_id, external_product_id, variant_id, location_id, quantity, pass, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, args: []any{accountID, integrationID, l.ProductID, l.VariantID, l.LocationID, l.Quantity, np, micros(now)}})
		default:
			if np == 0 {
				np = h.pass
			}
			if h.quantity == l.Quantity {
				if np != h.pass {
					steps = append(steps, step{q: `UPDATE catalog_stock SET pass = $6 WHERE account_id = $1 AND integration_id = $2 AND external_product_id = $3 AND variant_id = $4 AND location_id = $5`,
						args: []any{accountID, integrationID, l.ProductID, l.VariantID, l.LocationID, np}})
					have[k] = held{quantity: h.quantity, pass: np}
				}
				continue
			}
			steps = append(steps, step{q: `UPDATE catalog_stock SET quantity = $6, pass = $7, updated_at = $8 WHERE account_id = $1 AND integration_id = $2 AND external_product_id = $3 AND variant_id = $4 AND location_id = $5`,
				args: []any{accountID, integrationID, l.ProductID, l.VariantID, l.LocationID, l.Quantity, np, micros(now)}})
		}
		have[k] = held{quantity: l.Quantity, pass: np}
		pid, known := pids[l.ProductID]
		if !known {
			continue
		}
		// The product's stock changed: its destinations' stock is pending (stock_seq).
		steps = append(steps, step{q: `UPDATE catalog_products SET stock_seq = stock_seq + 1 WHERE account_id = $1 AND id = $2`, args: []any{accountID, pid}},
			step{q: `INSERT INTO catalog_changes (account_id, at, record, record_id, action) VALUES ($1, $2, $3, $4, $5)`,
				args: []any{accountID, micros(now), domain.RecordStock, pid, action}})
		out[i] = RecordChange{ID: pid, Action: action}
		if action == domain.ChangeUpdated { // a first stock level is part of the product's arrival
			out[i].Changes = []domain.FieldChange{{Field: domain.StockField(l), From: h.quantity, To: l.Quantity}}
		}
	}
	if err := s.q.batch(ctx, steps); err != nil {
		return nil, fmt.Errorf("write stock: %w", err)
	}
	return out, nil
}

// AddCatalogChange appends an entry to the account's change feed; an empty action adds none.
func (s queries) AddCatalogChange(ctx context.Context, accountID, record, recordID, action string, now time.Time) error {
	if action == "" {
		return nil
	}
	_, err := s.q.exec(ctx, `INSERT INTO catalog_changes (account_id, at, record, record_id, action) VALUES ($1, $2, $3, $4, $5)`,
		accountID, micros(now), record, recordID, action)
	return err
}

// ConcludeCatalogDeletions marks deleted every product and customer of the account that the
// complete pass did not read (and those of another source), removes the stock levels it did
// not read, and adds their change feed entries. Records written since the pass started (by a
// webhook, say) are left: the source had them then. It answers how many records it deleted.
func (s queries) ConcludeCatalogDeletions(ctx context.Context, accountID string, pass int64, started, now time.Time) (int64, error) {
	var n int64
	for _, t := range []struct{ table, record string }{{"catalog_products", domain.RecordProduct}, {"catalog_customers", domain.RecordCustomer}} {
		if _, err := s.q.exec(ctx, `INSERT INTO catalog_changes (account_id, at, record, record_id, action)
			SELECT account_id, $3, '`+t.record+`', id, 'deleted' FROM `+t.table+` WHERE account_id = $1 AND pass < $2 AND updated_at < $4 AND NOT deleted ORDER BY id`,
			accountID, pass, micros(now), micros(started)); err != nil {
			return n, err
		}
		if _, err := s.q.exec(ctx, `INSERT INTO catalog_history (account_id, record, record_id, at, cause, integration_id, actor, changes)
			SELECT account_id, '`+t.record+`', id, $3, $5, integration_id, $6, $7 FROM `+t.table+` WHERE account_id = $1 AND pass < $2 AND updated_at < $4 AND NOT deleted ORDER BY id`,
			accountID, pass, micros(now), micros(started), HistoryImport, domain.ActorSystem, deletedJSON); err != nil {
			return n, err
		}
		k, err := s.q.exec(ctx, `UPDATE `+t.table+` SET deleted = $3, updated_at = $4 WHERE account_id = $1 AND pass < $2 AND updated_at < $5 AND NOT deleted`, accountID, pass, true, micros(now), micros(started))
		if err != nil {
			return n, err
		}
		n += k
	}
	_, err := s.q.exec(ctx, `DELETE FROM catalog_stock WHERE account_id = $1 AND pass < $2 AND updated_at < $3`, accountID, pass, micros(started))
	return n, err
}

// HistoryImport is the trigger of history entries an import pass writes.
const HistoryImport = "import"

// deletedJSON is the history changes of a record concluded deleted.
const deletedJSON = `[{"field":"deleted","from":false,"to":true}]`

// CountCatalogRecords counts the account's products, stock levels and customers (not deleted).
func (s queries) CountCatalogRecords(ctx context.Context, accountID string) (int64, error) {
	var n int64
	err := s.q.queryRow(ctx, `SELECT (SELECT count(*) FROM catalog_products WHERE account_id = $1 AND NOT deleted)
		+ (SELECT count(*) FROM catalog_stock WHERE account_id = $1) + (SELECT count(*) FROM catalog_customers WHERE account_id = $1 AND NOT deleted)`, accountID).Scan(&n)
	return n, err
}

// GetCatalogImport reads the account's import progress; phase idle when none ran.
func (s queries) GetCatalogImport(ctx context.Context, accountID string) (domain.CatalogImport, error) {
	var c domain.CatalogImport
	var started, finished *int64
	var matches string
	err := s.q.queryRow(ctx, `SELECT integration_id, pass, phase, cursor, done, total, started_at, finished_at, error, match_by_sku, sku_matches
		FROM catalog_imports WHERE account_id = $1`, accountID).
		Scan(&c.IntegrationID, &c.Pass, &c.Phase, &c.Cursor, &c.Done, &c.Total, &started, &finished, &c.Error, &c.MatchBySKU, &matches)
	if errors.Is(err, ErrNotFound) {
		return domain.CatalogImport{Phase: domain.PhaseIdle}, nil
	}
	if err != nil {
		return c, err
	}
	c.StartedAt, c.FinishedAt = fromMicrosPtr(started), fromMicrosPtr(finished)
	if matches != "" {
		c.SKUMatches = &domain.SKUMatchReport{}
		if err := json.Unmarshal([]byte(matches), c.SKUMatches); err != nil {
			return c, fmt.Errorf("the SKU match report of %s: %w", accountID, err)
		}
	}
	return c, nil
}

// LockCatalogImport is GetCatalogImport holding the row until the transaction ends (PostgreSQL).
func (s queries) LockCatalogImport(ctx context.Context, accountID string) (domain.CatalogImport, error) {
	if s.dialect == Postgres {
		if _, err := s.q.exec(ctx, `SELECT 1 FROM catalog_imports WHERE account_id = $1 FOR UPDATE`, accountID); err != nil {
			return domain.CatalogImport{}, err
		}
	}
	return s.GetCatalogImport(ctx, accountID)
}

// SaveCatalogImport writes the account's import progress.
func (s queries) SaveCatalogImport(ctx context.Context, accountID string, c domain.CatalogImport) error {
	matches := ""
	if c.SKUMatches != nil {
		b, err := json.Marshal(c.SKUMatches)
		if err != nil {
			return fmt.Errorf("the SKU match report: %w", err)
		}
		matches = string(b)
	}
	_, err := s.q.exec(ctx, `INSERT INTO catalog_imports (account_id, integration_id, pass, phase, cursor, done, total, started_at, finished_at, error, match_by_sku, sku_matches)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (account_id) DO UPDATE SET integration_id = excluded.integration_id, pass = excluded.pass, phase = excluded.phase, cursor = excluded.cursor,
		done = excluded.done, total = excluded.total, started_at = excluded.started_at, finished_at = excluded.finished_at, error = excluded.error,
		match_by_sku = excluded.match_by_sku, sku_matches = excluded.sku_matches`,
		accountID, c.IntegrationID, c.Pass, c.Phase, c.Cursor, c.Done, c.Total, microsPtr(c.StartedAt), microsPtr(c.FinishedAt), c.Error, c.MatchBySKU, matches)
	return err
}

// GetCatalogCursor reads where the incremental reads of kind resume ("" = none yet).
func (s queries) GetCatalogCursor(ctx context.Context, accountID, integrationID, kind string) (string, error) {
	var c string
	err := s.q.queryRow(ctx, `SELECT cursor FROM catalog_cursors WHERE account_id = $1 AND integration_id = $2 AND kind = $3`, accountID, integrationID, kind).Scan(&c)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return c, err
}

// SaveCatalogCursor writes where the incremental reads of kind resume.
func (s queries) SaveCatalogCursor(ctx context.Context, accountID, integrationID, kind, cursor string, now time.Time) error {
	_, err := s.q.exec(ctx, `INSERT INTO catalog_cursors (account_id, integration_id, kind, cursor, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (account_id, integration_id, kind) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`, accountID, integrationID, kind, cursor, micros(now))
	return err
}

// UpsertCatalogProducts is UpsertCatalogProduct for a page of products: one query reads what
// posbridge holds of them, and the writes go as one batch (one round trip on PostgreSQL).
func (s queries) UpsertCatalogProducts(ctx context.Context, accountID, integrationID string, ps []domain.Product, pass int64, now time.Time) ([]RecordChange, error) {
	out := make([]RecordChange, len(ps))
	if len(ps) == 0 {
		return out, nil
	}
	type held struct {
		id, hash string
		deleted  bool
		pass     int64
	}
	have := map[string]held{}
	q := `SELECT external_id, id, hash, deleted, pass FROM catalog_products WHERE account_id = $1 AND integration_id = $2 AND external_id IN (`
	args := []any{accountID, integrationID}
	for i, p := range ps {
		if i > 0 {
			q += `, `
		}
		args = append(args, p.ID)
		q += fmt.Sprintf(`$%d`, len(args))
	}
	rs, err := s.q.query(ctx, q+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read products: %w", err)
	}
	for rs.Next() {
		var ext string
		var h held
		if err := rs.Scan(&ext, &h.id, &h.hash, &h.deleted, &h.pass); err != nil {
			rs.Close()
			return nil, err
		}
		have[ext] = h
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, err
	}
	hashes, datas := make([]string, len(ps)), make([][]byte, len(ps))
	var changed []string
	for i := range ps {
		ps[i].UpdatedAt = ps[i].UpdatedAt.UTC()
		if hashes[i], datas[i], err = contentHash(ps[i]); err != nil {
			return nil, err
		}
		if h, ok := have[ps[i].ID]; ok && !ps[i].Deleted && h.hash != hashes[i] {
			changed = append(changed, h.id)
		}
	}
	oldData, err := s.catalogProductData(ctx, accountID, changed)
	if err != nil {
		return nil, err
	}
	var steps []step
	change := func(id, action string) {
		steps = append(steps, step{q: `INSERT INTO catalog_changes (account_id, at, record, record_id, action) VALUES ($1, $2, $3, $4, $5)`,
			args: []any{accountID, micros(now), domain.RecordProduct, id, action}})
	}
	seen := map[string]bool{}
	for i, p := range ps {
		if seen[p.ID] {
			// The same product twice on a page: the one-by-one path keeps the order right.
			if err := s.q.batch(ctx, steps); err != nil {
				return nil, err
			}
			steps = nil
			ch, err := s.UpsertCatalogProduct(ctx, accountID, integrationID, p, pass, now)
			if err != nil {
				return nil, err
			}
			out[i] = ch
			continue
		}
		seen[p.ID] = true
		hash, data := hashes[i], datas[i]
		h, ok := have[p.ID]
		np := pass
		switch {
		case !ok:
			if p.Deleted {
				continue
			}
			if np == 0 {
				np = -1
			}
			id := auth.NewID("prd")
			out[i] = RecordChange{ID: id, Action: domain.ChangeCreated}
			steps = append(steps, step{q: `INSERT INTO catalog_products (account_id, id, integration_id, external_id, name, sku, barcode, search, data, hash, deleted, pass, created_at, updated_at, tracks_stock)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)`,
				args: []any{accountID, id, integrationID, p.ID, p.Name, p.SKU, p.Barcode, productSearch(p), string(data), hash, false, np, micros(now), tracksStock(p)}})
			change(id, domain.ChangeCreated)
		default:
			if np == 0 {
				np = h.pass
			}
			out[i] = RecordChange{ID: h.id}
			switch {
			case p.Deleted && h.deleted, !p.Deleted && !h.deleted && h.hash == hash:
				if np != h.pass {
					steps = append(steps, step{q: `UPDATE catalog_products SET pass = $3 WHERE account_id = $1 AND id = $2`, args: []any{accountID, h.id, np}})
				}
			case p.Deleted:
				out[i].Action = domain.ChangeDeleted
				out[i].Changes = []domain.FieldChange{domain.DeletedChange(true)}
				steps = append(steps, step{q: `UPDATE catalog_products SET deleted = $3, pass = $4, updated_at = $5 WHERE account_id = $1 AND id = $2`,
					args: []any{accountID, h.id, true, np, micros(now)}})
				change(h.id, domain.ChangeDeleted)
			default:
				out[i].Action = domain.ChangeUpdated
				if h.deleted {
					out[i].Action = domain.ChangeCreated
				}
				out[i].Changes = productChanges(oldData[h.id], h.deleted, p)
				steps = append(steps, step{q: `UPDATE catalog_products SET name = $3, sku = $4, barcode = $5, search = $6, data = $7, hash = $8, deleted = $9, pass = $10, updated_at = $11,
					tracks_stock = $12 WHERE account_id = $1 AND id = $2`, args: []any{accountID, h.id, p.Name, p.SKU, p.Barcode, productSearch(p), string(data), hash, false, np, micros(now), tracksStock(p)}})
				change(h.id, out[i].Action)
			}
		}
	}
	if err := s.q.batch(ctx, steps); err != nil {
		return nil, fmt.Errorf("write products: %w", err)
	}
	return out, nil
}

// catalogProductData reads the stored data of the account's products ids, in one query.
func (s queries) catalogProductData(ctx context.Context, accountID string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	q := `SELECT id, data FROM catalog_products WHERE account_id = $1 AND id IN (`
	args := []any{accountID}
	for i, id := range ids {
		if i > 0 {
			q += `, `
		}
		args = append(args, id)
		q += fmt.Sprintf(`$%d`, len(args))
	}
	rs, err := s.q.query(ctx, q+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read changed products: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var id, data string
		if err := rs.Scan(&id, &data); err != nil {
			return nil, err
		}
		out[id] = data
	}
	return out, rs.Err()
}

// CatalogPushed is what a push did to one product in a destination.
type CatalogPushed struct {
	ProductID, ExternalID, Hash string
	Created                     bool  // a new product in the destination (or one found after a lost answer): link it
	StockSeq                    int64 // the product's stock_seq whose stock reached the destination; -1 when its stock did not
}

// RecordCatalogPushes records a batch of pushes to a destination in one round trip: the links
// of the products it created (their intents done), the hash each product was pushed with and the
// stock it carried.
func (s queries) RecordCatalogPushes(ctx context.Context, accountID, integrationID string, ps []CatalogPushed, now time.Time) error {
	steps := make([]step, 0, len(ps))
	for _, p := range ps {
		if p.Created {
			steps = append(steps, step{q: `INSERT INTO catalog_links (account_id, product_id, integration_id, external_id, origin, pushed_hash, pushed_at, created_at, stock_seq)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) ON CONFLICT DO NOTHING`,
				args: []any{accountID, p.ProductID, integrationID, p.ExternalID, domain.LinkCreated, p.Hash, micros(now), max(p.StockSeq, -1)}},
				step{q: `DELETE FROM catalog_push_intents WHERE account_id = $1 AND integration_id = $2 AND product_id = $3`,
					args: []any{accountID, integrationID, p.ProductID}})
			continue
		}
		if p.StockSeq >= 0 {
			steps = append(steps, step{q: `UPDATE catalog_links SET pushed_hash = $4, pushed_at = $5, stock_seq = $6 WHERE account_id = $1 AND product_id = $2 AND integration_id = $3`,
				args: []any{accountID, p.ProductID, integrationID, p.Hash, micros(now), p.StockSeq}})
			continue
		}
		steps = append(steps, step{q: `UPDATE catalog_links SET pushed_hash = $4, pushed_at = $5 WHERE account_id = $1 AND product_id = $2 AND integration_id = $3`,
			args: []any{accountID, p.ProductID, integrationID, p.Hash, micros(now)}})
	}
	return s.q.batch(ctx, steps)
}

// RepushCatalogLinks makes every product linked to the destination due for it again: its data,
// and with stock also its stock (a change of the destination's settings changes what it gets).
// It answers how many products are due again.
func (s queries) RepushCatalogLinks(ctx context.Context, accountID, integrationID string, stock bool) (int64, error) {
	q := `UPDATE catalog_links SET pushed_hash = '' WHERE account_id = $1 AND integration_id = $2`
	if stock {
		q = `UPDATE catalog_links SET pushed_hash = '', stock_seq = -1 WHERE account_id = $1 AND integration_id = $2`
	}
	n, err := s.q.exec(ctx, q, accountID, integrationID)
	if err != nil {
		return 0, fmt.Errorf("push the products linked to %s again: %w", integrationID, err)
	}
	return n, nil
}

// RecordCatalogPushIntents says, before a destination is asked to create products, that it is:
// after a crash before their links are saved, the next push looks for them in the destination
// instead of creating them again. An intent already written keeps its time.
func (s queries) RecordCatalogPushIntents(ctx context.Context, accountID, integrationID string, productIDs []string, now time.Time) error {
	steps := make([]step, 0, len(productIDs))
	for _, id := range productIDs {
		steps = append(steps, step{q: `INSERT INTO catalog_push_intents (account_id, integration_id, product_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			args: []any{accountID, integrationID, id, micros(now)}})
	}
	return s.q.batch(ctx, steps)
}

// CatalogStockOf reads the stock levels of the source's products with the given external ids.
func (s queries) CatalogStockOf(ctx context.Context, accountID, integrationID string, externalIDs []string) (map[string][]domain.StockLevel, error) {
	out := map[string][]domain.StockLevel{}
	if len(externalIDs) == 0 {
		return out, nil
	}
	q := `SELECT external_product_id, variant_id, location_id, quantity, updated_at FROM catalog_stock WHERE account_id = $1 AND integration_id = $2 AND external_product_id IN (`
	args := []any{accountID, integrationID}
	for i, id := range externalIDs {
		if i > 0 {
			q += `, `
		}
		args = append(args, id)
		q += fmt.Sprintf(`$%d`, len(args))
	}
	rs, err := s.q.query(ctx, q+`) ORDER BY external_product_id, location_id, variant_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read stock of %d products: %w", len(externalIDs), err)
	}
	defer rs.Close()
	for rs.Next() {
		var l domain.StockLevel
		var at int64
		if err := rs.Scan(&l.ProductID, &l.VariantID, &l.LocationID, &l.Quantity, &at); err != nil {
			return nil, err
		}
		l.UpdatedAt = fromMicros(at)
		out[l.ProductID] = append(out[l.ProductID], l)
	}
	return out, rs.Err()
}

// RequestCatalogWork numbers a request for a catalog job of the account (work names it: "poll",
// "push:<integration id>") and answers its number.
func (s queries) RequestCatalogWork(ctx context.Context, accountID, work string) (int64, error) {
	var n int64
	err := s.q.queryRow(ctx, `INSERT INTO catalog_work_requests (account_id, work, requests) VALUES ($1, $2, 1)
		ON CONFLICT (account_id, work) DO UPDATE SET requests = catalog_work_requests.requests + 1 RETURNING requests`, accountID, work).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("request catalog %s: %w", work, err)
	}
	return n, nil
}

// WorkClaim is the outcome of ClaimCatalogWork.
type WorkClaim int

// The outcomes of ClaimCatalogWork.
const (
	WorkDone    WorkClaim = iota // a finished job covered the request: nothing to do
	WorkBusy                     // another job holds the lease: try again shortly
	WorkClaimed                  // the lease is the caller's until it finishes or releases it
)

// ClaimCatalogWork takes the lease of a catalog job for the request numbered n, until until
// (a crashed holder's lease runs out then). Claimed, it answers the number of the latest
// request: finishing covers every request up to it.
func (s queries) ClaimCatalogWork(ctx context.Context, accountID, work string, n int64, now, until time.Time) (WorkClaim, int64, error) {
	var upTo int64
	err := s.q.queryRow(ctx, `UPDATE catalog_work_requests SET lease_until = $5
		WHERE account_id = $1 AND work = $2 AND done < $3 AND lease_until < $4 RETURNING requests`,
		accountID, work, n, micros(now), micros(until)).Scan(&upTo)
	if err == nil {
		return WorkClaimed, upTo, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return WorkBusy, 0, fmt.Errorf("claim catalog %s: %w", work, err)
	}
	var done int64
	err = s.q.queryRow(ctx, `SELECT done FROM catalog_work_requests WHERE account_id = $1 AND work = $2`, accountID, work).Scan(&done)
	if errors.Is(err, ErrNotFound) || err == nil && done >= n {
		return WorkDone, 0, nil
	}
	if err != nil {
		return WorkBusy, 0, fmt.Errorf("claim catalog %s: %w", work, err)
	}
	return WorkBusy, 0, nil
}

// ExtendCatalogWork moves the end of a job's lease from held (its end as the holder last set
// it) to until; false when the lease is not the holder's any more (taken over after it ran out).
func (s queries) ExtendCatalogWork(ctx context.Context, accountID, work string, held, until time.Time) (bool, error) {
	n, err := s.q.exec(ctx, `UPDATE catalog_work_requests SET lease_until = $4 WHERE account_id = $1 AND work = $2 AND lease_until = $3`,
		accountID, work, micros(held), micros(until))
	if err != nil {
		return false, fmt.Errorf("extend the lease of catalog %s: %w", work, err)
	}
	return n == 1, nil
}

// ReleaseCatalogWork lets go of a job's lease; upTo > 0 (a finished job) marks every request up
// to it done.
func (s queries) ReleaseCatalogWork(ctx context.Context, accountID, work string, upTo int64) error {
	_, err := s.q.exec(ctx, `UPDATE catalog_work_requests SET lease_until = 0, done = CASE WHEN done < $3 THEN $3 ELSE done END
		WHERE account_id = $1 AND work = $2`, accountID, work, upTo)
	if err != nil {
		return fmt.Errorf("release catalog %s: %w", work, err)
	}
	return nil
}

// CatalogWorkIdle answers whether every request for the account's catalog job work is done and
// no job holds its lease (a read of one row: what a caller may look at often, where the pending
// pushes themselves would read the catalog).
func (s queries) CatalogWorkIdle(ctx context.Context, accountID, work string) (bool, error) {
	var requests, done, lease int64
	err := s.q.queryRow(ctx, `SELECT requests, done, lease_until FROM catalog_work_requests WHERE account_id = $1 AND work = $2`,
		accountID, work).Scan(&requests, &done, &lease)
	if errors.Is(err, ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("catalog %s: %w", work, err)
	}
	return done >= requests && lease == 0, nil
}
