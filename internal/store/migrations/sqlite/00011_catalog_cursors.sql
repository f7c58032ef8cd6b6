-- +goose Up
-- Where the incremental reads of a catalog source resume (the last page's Resume cursor of a
-- complete pass, per kind of record).
CREATE TABLE catalog_cursors (
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    integration_id  TEXT NOT NULL,
    kind            TEXT NOT NULL,
    cursor          TEXT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, integration_id, kind)
);
CREATE INDEX catalog_products_pass ON catalog_products (account_id, pass);
CREATE INDEX catalog_customers_pass ON catalog_customers (account_id, pass);

-- +goose Down
DROP INDEX catalog_customers_pass;
DROP INDEX catalog_products_pass;
DROP TABLE catalog_cursors;
