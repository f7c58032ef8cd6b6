package store

import (
	"context"
	"fmt"
)

// CountCatalogSourceLinks counts the links to any destination of the products the source gave
// the account: none before the first push (or the first explicit link).
func (s queries) CountCatalogSourceLinks(ctx context.Context, accountID, sourceID string) (int64, error) {
	var n int64
	err := s.q.queryRow(ctx, `SELECT count(*) FROM catalog_links l JOIN catalog_products p ON p.account_id = l.account_id AND p.id = l.product_id
		WHERE l.account_id = $1 AND p.integration_id = $2`, accountID, sourceID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count the links of the source's products: %w", err)
	}
	return n, nil
}

// SKUProduct is a product of the source with a SKU, as the SKU match reads it.
type SKUProduct struct {
	ID         string // posbridge's id
	ExternalID string // the source's id
	SKU        string
	Linked     bool // linked to the destination the match is for
}

// CatalogSKUProducts reads the source's products that are not deleted and have a SKU, each saying
// whether it is linked to the destination destID.
func (s queries) CatalogSKUProducts(ctx context.Context, accountID, sourceID, destID string) ([]SKUProduct, error) {
	rs, err := s.q.query(ctx, `SELECT p.id, p.external_id, p.sku, l.product_id IS NOT NULL
		FROM catalog_products p LEFT JOIN catalog_links l ON l.account_id = p.account_id AND l.product_id = p.id AND l.integration_id = $3
		WHERE p.account_id = $1 AND p.integration_id = $2 AND NOT p.deleted AND p.sku <> '' ORDER BY p.id`, accountID, sourceID, destID)
	if err != nil {
		return nil, fmt.Errorf("read the source's SKUs: %w", err)
	}
	defer rs.Close()
	var out []SKUProduct
	for rs.Next() {
		var p SKUProduct
		if err := rs.Scan(&p.ID, &p.ExternalID, &p.SKU, &p.Linked); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rs.Err()
}

// CatalogLinkedExternalIDs reads which of the destination's products are linked in the account.
func (s queries) CatalogLinkedExternalIDs(ctx context.Context, accountID, destID string) (map[string]bool, error) {
	rs, err := s.q.query(ctx, `SELECT external_id FROM catalog_links WHERE account_id = $1 AND integration_id = $2`, accountID, destID)
	if err != nil {
		return nil, fmt.Errorf("read the destination's links: %w", err)
	}
	defer rs.Close()
	out := map[string]bool{}
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rs.Err()
}
