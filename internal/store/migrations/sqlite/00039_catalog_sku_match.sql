-- +goose Up
-- The one-off SKU match of a first import: whether the pass was asked to link the shops' products
-- to the source's by SKU, and what it matched (JSON, the report GET /api/v1/catalog-sync/progress
-- shows; '' when none ran).
ALTER TABLE catalog_imports ADD COLUMN match_by_sku INTEGER NOT NULL DEFAULT 0;
ALTER TABLE catalog_imports ADD COLUMN sku_matches TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE catalog_imports DROP COLUMN sku_matches;
ALTER TABLE catalog_imports DROP COLUMN match_by_sku;
