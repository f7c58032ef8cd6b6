package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

const productCols = `id, integration_id, external_id, data, hash, deleted, created_at, updated_at`

func scanProduct(r row) (domain.CatalogProduct, error) {
	var p domain.CatalogProduct
	var data string
	var created, updated int64
	if err := r.Scan(&p.ID, &p.IntegrationID, &p.ExternalID, &data, &p.Hash, &p.Deleted, &created, &updated); err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(data), &p.Product); err != nil {
		return p, fmt.Errorf("product %s: %w", p.ID, err)
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return p, nil
}

// GetCatalogProduct reads one of the account's products by posbridge's id.
func (s queries) GetCatalogProduct(ctx context.Context, accountID, id string) (domain.CatalogProduct, error) {
	return scanProduct(s.q.queryRow(ctx, `SELECT `+productCols+` FROM catalog_products WHERE account_id = $1 AND id = $2`, accountID, id))
}

// CatalogProductByExternalID reads the product of the source integration with that id.
func (s queries) CatalogProductByExternalID(ctx context.Context, accountID, integrationID, externalID string) (domain.CatalogProduct, error) {
	return scanProduct(s.q.queryRow(ctx, `SELECT `+productCols+` FROM catalog_products WHERE account_id = $1 AND integration_id = $2 AND external_id = $3`,
		accountID, integrationID, externalID))
}

// RecordFilter selects records: q matches (case-insensitively) anywhere in the name, SKU or
// barcode (customers: name, email, phone); After is the last id of the previous page.
type RecordFilter struct {
	Q              string
	After          string
	Limit          int
	IncludeDeleted bool
}

// ListCatalogProducts lists the account's products in id order (creation order).
func (s queries) ListCatalogProducts(ctx context.Context, accountID string, f RecordFilter) ([]domain.CatalogProduct, error) {
	q, args := recordQuery(`SELECT `+productCols+` FROM catalog_products`, accountID, f)
	rs, err := s.q.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	defer rs.Close()
	out := []domain.CatalogProduct{}
	for rs.Next() {
		p, err := scanProduct(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rs.Err()
}

func recordQuery(sel, accountID string, f RecordFilter) (string, []any) {
	q := sel + ` WHERE account_id = $1`
	args := []any{accountID}
	if !f.IncludeDeleted {
		q += ` AND NOT deleted`
	}
	if f.Q != "" {
		args = append(args, likePattern(f.Q))
		q += fmt.Sprintf(` AND search LIKE $%d ESCAPE '\'`, len(args))
	}
	if f.After != "" {
		args = append(args, f.After)
		q += fmt.Sprintf(` AND id > $%d`, len(args))
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY id LIMIT $%d`, len(args))
	return q, args
}

const customerCols = `id, integration_id, external_id, data, hash, deleted, created_at, updated_at`

func scanCustomer(r row) (domain.CatalogCustomer, error) {
	var c domain.CatalogCustomer
	var data string
	var created, updated int64
	if err := r.Scan(&c.ID, &c.IntegrationID, &c.ExternalID, &data, &c.Hash, &c.Deleted, &created, &updated); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(data), &c.Customer); err != nil {
		return c, fmt.Errorf("customer %s: %w", c.ID, err)
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, nil
}

// GetCatalogCustomer reads one of the account's customers by posbridge's id.
func (s queries) GetCatalogCustomer(ctx context.Context, accountID, id string) (domain.CatalogCustomer, error) {
	return scanCustomer(s.q.queryRow(ctx, `SELECT `+customerCols+` FROM catalog_customers WHERE account_id = $1 AND id = $2`, accountID, id))
}

// ListCatalogCustomers lists the account's customers in id order.
func (s queries) ListCatalogCustomers(ctx context.Context, accountID string, f RecordFilter) ([]domain.CatalogCustomer, error) {
	q, args := recordQuery(`SELECT `+customerCols+` FROM catalog_customers`, accountID, f)
	rs, err := s.q.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list customers: %w", err)
	}
	defer rs.Close()
	out := []domain.CatalogCustomer{}
	for rs.Next() {
		c, err := scanCustomer(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rs.Err()
}

// ListCatalogStock lists the stock levels of one of the account's products (by posbridge's id).
func (s queries) ListCatalogStock(ctx context.Context, accountID, productID string) ([]domain.StockLevel, error) {
	rs, err := s.q.query(ctx, `SELECT s.variant_id, s.location_id, s.quantity, s.updated_at FROM catalog_stock s
		JOIN catalog_products p ON p.account_id = s.account_id AND p.integration_id = s.integration_id AND p.external_id = s.external_product_id
		WHERE p.account_id = $1 AND p.id = $2 ORDER BY s.location_id, s.variant_id`, accountID, productID)
	if err != nil {
		return nil, fmt.Errorf("list stock: %w", err)
	}
	defer rs.Close()
	out := []domain.StockLevel{}
	for rs.Next() {
		l := domain.StockLevel{ProductID: productID}
		var at int64
		if err := rs.Scan(&l.VariantID, &l.LocationID, &l.Quantity, &at); err != nil {
			return nil, err
		}
		l.UpdatedAt = fromMicros(at)
		out = append(out, l)
	}
	return out, rs.Err()
}

// ListCatalogChanges reads the account's change feed after the entry id after, oldest first.
func (s queries) ListCatalogChanges(ctx context.Context, accountID string, after int64, limit int) ([]domain.CatalogChange, error) {
	rs, err := s.q.query(ctx, `SELECT id, at, record, record_id, action FROM catalog_changes WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		accountID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	defer rs.Close()
	out := []domain.CatalogChange{}
	for rs.Next() {
		var c domain.CatalogChange
		var at int64
		if err := rs.Scan(&c.ID, &at, &c.Record, &c.RecordID, &c.Action); err != nil {
			return nil, err
		}
		c.At = fromMicros(at)
		out = append(out, c)
	}
	return out, rs.Err()
}

// RecentCatalogChanges reads the account's newest change feed entries, newest first.
func (s queries) RecentCatalogChanges(ctx context.Context, accountID string, limit int) ([]domain.CatalogChange, error) {
	rs, err := s.q.query(ctx, `SELECT id, at, record, record_id, action FROM catalog_changes WHERE account_id = $1 ORDER BY id DESC LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	defer rs.Close()
	out := []domain.CatalogChange{}
	for rs.Next() {
		var c domain.CatalogChange
		var at int64
		if err := rs.Scan(&c.ID, &at, &c.Record, &c.RecordID, &c.Action); err != nil {
			return nil, err
		}
		c.At = fromMicros(at)
		out = append(out, c)
	}
	return out, rs.Err()
}

// ListCatalogLinks reads the links of the given products (all of the account's when ids is nil).
func (s queries) ListCatalogLinks(ctx context.Context, accountID string, productIDs []string) (map[string][]domain.CatalogLink, error) {
	out := map[string][]domain.CatalogLink{}
	q := `SELECT product_id, integration_id, external_id, origin, pushed_hash, pushed_at, created_at FROM catalog_links WHERE account_id = $1`
	args := []any{accountID}
	if productIDs != nil {
		if len(productIDs) == 0 {
			return out, nil
		}
		q += ` AND product_id IN (`
		for i, id := range productIDs {
			if i > 0 {
				q += `, `
			}
			args = append(args, id)
			q += fmt.Sprintf(`$%d`, len(args))
		}
		q += `)`
	}
	rs, err := s.q.query(ctx, q+` ORDER BY product_id, integration_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var l domain.CatalogLink
		var pushed *int64
		var created int64
		if err := rs.Scan(&l.ProductID, &l.IntegrationID, &l.ExternalID, &l.Origin, &l.PushedHash, &pushed, &created); err != nil {
			return nil, err
		}
		l.PushedAt, l.CreatedAt = fromMicrosPtr(pushed), fromMicros(created)
		out[l.ProductID] = append(out[l.ProductID], l)
	}
	return out, rs.Err()
}

// CreateCatalogLink links a product to a destination's product; ErrConflict-like errors come
// back as a *domain.Error conflict when the product or the external id is linked already.
func (s queries) CreateCatalogLink(ctx context.Context, accountID string, l domain.CatalogLink) error {
	var n int
	if err := s.q.queryRow(ctx, `SELECT count(*) FROM catalog_links WHERE account_id = $1 AND integration_id = $2 AND (product_id = $3 OR external_id = $4)`,
		accountID, l.IntegrationID, l.ProductID, l.ExternalID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return &domain.Error{Code: domain.CodeConflict, Message: "the product, or that product of the destination, is linked already"}
	}
	_, err := s.q.exec(ctx, `INSERT INTO catalog_links (account_id, product_id, integration_id, external_id, origin, pushed_hash, pushed_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, accountID, l.ProductID, l.IntegrationID, l.ExternalID, l.Origin, l.PushedHash, microsPtr(l.PushedAt), micros(l.CreatedAt))
	return err
}

// MarkCatalogPushed records what was last pushed of a product to a destination.
func (s queries) MarkCatalogPushed(ctx context.Context, accountID, productID, integrationID, hash string, at time.Time) error {
	_, err := s.q.exec(ctx, `UPDATE catalog_links SET pushed_hash = $4, pushed_at = $5 WHERE account_id = $1 AND product_id = $2 AND integration_id = $3`,
		accountID, productID, integrationID, hash, micros(at))
	return err
}

// PendingPush is a product whose latest data (or stock) a destination does not have yet.
type PendingPush struct {
	Product    domain.CatalogProduct
	ExternalID string // the destination's id; "" when not linked yet
	PushedHash string
	StockSeq   int64     // the product's stock changes so far
	StockDue   bool      // its stock changed since the last push (or it was never pushed)
	IntentAt   time.Time // when a create of it was last asked of the destination without its link saved; zero when none
}

// PendingCatalogPushes reads, in id order after the id after, up to limit products of the source
// whose data or stock differs from what was last pushed to the destination (or were never pushed).
// A product that tracks stock and is not in the destination yet waits while an import pass from
// the source is reading products or stock: its stock is still to come, and it is pushed once,
// with it, after that. While a pass that matches by SKU reads products or matches them, no
// product waiting for a link is pushed: the match may link it to the shop's product of that
// SKU, which a push before would have made twice. The stock of a product that tracks none is not pushed, so a level read
// for it does not make it due.
func (s queries) PendingCatalogPushes(ctx context.Context, accountID, sourceID, destID, after string, limit int) ([]PendingPush, error) {
	rs, err := s.q.query(ctx, `SELECT p.id, p.integration_id, p.external_id, p.data, p.hash, p.deleted, p.created_at, p.updated_at,
			COALESCE(l.external_id, ''), COALESCE(l.pushed_hash, ''), p.stock_seq, COALESCE(l.stock_seq, -1), COALESCE(i.created_at, 0)
		FROM catalog_products p LEFT JOIN catalog_links l ON l.account_id = p.account_id AND l.product_id = p.id AND l.integration_id = $3
			LEFT JOIN catalog_push_intents i ON l.product_id IS NULL AND i.account_id = p.account_id AND i.integration_id = $3 AND i.product_id = p.id
		WHERE p.account_id = $1 AND p.integration_id = $2 AND NOT p.deleted AND p.id > $4 AND (l.product_id IS NULL OR l.pushed_hash <> p.hash OR p.tracks_stock AND l.stock_seq <> p.stock_seq)
			AND (l.product_id IS NOT NULL OR NOT EXISTS (SELECT 1 FROM catalog_imports ci
				WHERE ci.account_id = $1 AND ci.integration_id = $2 AND (p.tracks_stock AND ci.phase IN ('products', 'sku_match', 'stock')
					OR ci.match_by_sku AND ci.phase IN ('products', 'sku_match'))))
		ORDER BY p.id LIMIT $5`, accountID, sourceID, destID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("pending pushes: %w", err)
	}
	defer rs.Close()
	var out []PendingPush
	for rs.Next() {
		var pp PendingPush
		var data string
		var created, updated int64
		p := &pp.Product
		var linkSeq, intent int64
		if err := rs.Scan(&p.ID, &p.IntegrationID, &p.ExternalID, &data, &p.Hash, &p.Deleted, &created, &updated, &pp.ExternalID, &pp.PushedHash,
			&pp.StockSeq, &linkSeq, &intent); err != nil {
			return nil, err
		}
		pp.StockDue = linkSeq != pp.StockSeq
		if intent != 0 {
			pp.IntentAt = fromMicros(intent)
		}
		if err := json.Unmarshal([]byte(data), &p.Product); err != nil {
			return nil, fmt.Errorf("product %s: %w", p.ID, err)
		}
		p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, pp)
	}
	return out, rs.Err()
}

// AnalyzeCatalog refreshes PostgreSQL's statistics of the catalog tables (a no-op on SQLite).
// Without them, a catalog that grew from nothing in minutes (an import) is planned as if it
// were empty: the pending-push query then read every link for every product.
func (s queries) AnalyzeCatalog(ctx context.Context) error {
	if s.dialect != Postgres {
		return nil
	}
	_, err := s.q.exec(ctx, `ANALYZE catalog_products, catalog_links`)
	return err
}
