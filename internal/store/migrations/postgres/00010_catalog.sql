-- +goose Up
-- Catalog sync (issue 9): the account's settings, the records read from the system of record
-- (products with variants and prices, stock per location, customers), the links of each record to
-- the destinations' products, the change feed the app reads, and the import's progress.
CREATE TABLE catalog_sync_settings (
    account_id  TEXT PRIMARY KEY REFERENCES accounts(id),
    settings    TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE catalog_products (
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    id              TEXT NOT NULL,
    integration_id  TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    name            TEXT NOT NULL,
    sku             TEXT NOT NULL DEFAULT '',
    barcode         TEXT NOT NULL DEFAULT '',
    search          TEXT NOT NULL DEFAULT '',
    data            TEXT NOT NULL,
    hash            TEXT NOT NULL,
    deleted         BOOLEAN NOT NULL DEFAULT FALSE,
    pass            BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, id),
    UNIQUE (account_id, integration_id, external_id)
);
CREATE INDEX catalog_products_list ON catalog_products (account_id, name, id);

CREATE TABLE catalog_stock (
    account_id           TEXT NOT NULL REFERENCES accounts(id),
    integration_id       TEXT NOT NULL,
    external_product_id  TEXT NOT NULL,
    variant_id           TEXT NOT NULL DEFAULT '',
    location_id          TEXT NOT NULL,
    quantity             TEXT NOT NULL,
    pass                 BIGINT NOT NULL DEFAULT 0,
    updated_at           BIGINT NOT NULL,
    PRIMARY KEY (account_id, integration_id, external_product_id, variant_id, location_id)
);

CREATE TABLE catalog_customers (
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    id              TEXT NOT NULL,
    integration_id  TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    email           TEXT NOT NULL DEFAULT '',
    first_name      TEXT NOT NULL DEFAULT '',
    last_name       TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    search          TEXT NOT NULL DEFAULT '',
    data            TEXT NOT NULL,
    hash            TEXT NOT NULL,
    deleted         BOOLEAN NOT NULL DEFAULT FALSE,
    pass            BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, id),
    UNIQUE (account_id, integration_id, external_id)
);
CREATE INDEX catalog_customers_list ON catalog_customers (account_id, last_name, first_name, id);

CREATE TABLE catalog_links (
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    product_id      TEXT NOT NULL,
    integration_id  TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    origin          TEXT NOT NULL,
    pushed_hash     TEXT NOT NULL DEFAULT '',
    pushed_at       BIGINT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, product_id, integration_id),
    UNIQUE (account_id, integration_id, external_id)
);

CREATE TABLE catalog_changes (
    id          BIGSERIAL PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    at          BIGINT NOT NULL,
    record      TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    action      TEXT NOT NULL
);
CREATE INDEX catalog_changes_feed ON catalog_changes (account_id, id);

CREATE TABLE catalog_imports (
    account_id      TEXT PRIMARY KEY REFERENCES accounts(id),
    integration_id  TEXT NOT NULL,
    pass            BIGINT NOT NULL,
    phase           TEXT NOT NULL,
    cursor          TEXT NOT NULL DEFAULT '',
    done            BIGINT NOT NULL DEFAULT 0,
    total           BIGINT NOT NULL DEFAULT 0,
    started_at      BIGINT,
    finished_at     BIGINT,
    error           TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE catalog_imports;
DROP TABLE catalog_changes;
DROP TABLE catalog_links;
DROP TABLE catalog_customers;
DROP TABLE catalog_stock;
DROP TABLE catalog_products;
DROP TABLE catalog_sync_settings;
