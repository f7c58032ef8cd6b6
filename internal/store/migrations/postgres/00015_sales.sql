-- +goose Up
-- Sales import (seed 002). A sale is keyed by its integration and the provider's sale id, so a
-- re-fetch of an overlapping window finds the row and changes nothing (the content hash is the
-- same) and a refund or void updates it. seq is the integration's change counter (bumped for each
-- new or changed sale): the sales list and the sales.imported webhook's cursor follow it.
CREATE TABLE sales (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    integration_id  TEXT NOT NULL REFERENCES integrations(id),
    external_id     TEXT NOT NULL,
    number          TEXT NOT NULL DEFAULT '',
    store_id        TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    currency        TEXT NOT NULL DEFAULT '',
    total           BIGINT NOT NULL,
    sold_at         BIGINT NOT NULL,
    hash            TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (integration_id, external_id)
);
CREATE INDEX sales_account_seq ON sales (account_id, seq, id);
CREATE INDEX sales_integration_seq ON sales (account_id, integration_id, seq, id);
CREATE INDEX sales_integration_sold ON sales (account_id, integration_id, sold_at);

-- The lines of a sale, replaced whole when the sale changes; line_no is the provider's order.
CREATE TABLE sale_lines (
    sale_id     TEXT NOT NULL REFERENCES sales(id) ON DELETE CASCADE,
    line_no     INTEGER NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    pos_item_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    quantity    TEXT NOT NULL,
    unit_price  BIGINT NOT NULL,
    total       BIGINT NOT NULL,
    PRIMARY KEY (sale_id, line_no)
);

CREATE TABLE sale_payments (
    sale_id     TEXT NOT NULL REFERENCES sales(id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    method      TEXT NOT NULL,
    amount      BIGINT NOT NULL,
    PRIMARY KEY (sale_id, idx)
);

-- Every item seen in an integration's sales, so the app can map it to its own product or
-- recipe (app_ref). external_id is the provider's product id, else its SKU, else its name.
CREATE TABLE pos_items (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    integration_id  TEXT NOT NULL REFERENCES integrations(id),
    external_id     TEXT NOT NULL,
    name            TEXT NOT NULL,
    sku             TEXT NOT NULL DEFAULT '',
    app_ref         TEXT NOT NULL DEFAULT '',
    currency        TEXT NOT NULL DEFAULT '',
    last_unit_price BIGINT NOT NULL DEFAULT 0,
    first_seen_at   BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    UNIQUE (integration_id, external_id)
);
CREATE INDEX pos_items_account ON pos_items (account_id, integration_id, name, id);

-- The sales schedule of each integration: every sales_interval_minutes (default 6 hours), at a
-- phase spread by a hash of its id; sales_cursor is where the provider's listing resumes.
ALTER TABLE integrations ADD COLUMN sales_interval_minutes INTEGER NOT NULL DEFAULT 360;
ALTER TABLE integrations ADD COLUMN next_sales_at BIGINT;
ALTER TABLE integrations ADD COLUMN sales_cursor TEXT NOT NULL DEFAULT '';
ALTER TABLE integrations ADD COLUMN sales_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX integrations_sales_due ON integrations (next_sales_at);

-- +goose Down
DROP INDEX integrations_sales_due;
ALTER TABLE integrations DROP COLUMN sales_seq;
ALTER TABLE integrations DROP COLUMN sales_cursor;
ALTER TABLE integrations DROP COLUMN next_sales_at;
ALTER TABLE integrations DROP COLUMN sales_interval_minutes;
DROP TABLE pos_items;
DROP TABLE sale_payments;
DROP TABLE sale_lines;
DROP TABLE sales;
