-- +goose Up
-- Whether a product (or one of its variants) tracks stock: a product that tracks none is pushed to
-- a shop without waiting for the import's stock phase, and a stock level read for it does not make
-- it due again. Products from before say they do, as every product was treated then.
ALTER TABLE catalog_products ADD COLUMN tracks_stock INTEGER NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE catalog_products DROP COLUMN tracks_stock;
