-- +goose Up
-- Stock pushes and crash-safe creates (catalog sync): stock_seq counts the stock changes of a
-- product and, on a link, the stock last pushed to that destination; an intent is written before
-- a destination is asked to create a product, so that after a crash between the shop's answer
-- and the link being saved posbridge looks for what it created instead of creating it twice.
-- Work requests number the polls and pushes asked for, per account and job ("poll", "push:<id>"):
-- each request is a job of its own number; one at a time holds the lease, and a job whose number
-- a finished one covered (done) has nothing to do.
ALTER TABLE catalog_products ADD COLUMN stock_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE catalog_links ADD COLUMN stock_seq BIGINT NOT NULL DEFAULT 0;
CREATE TABLE catalog_push_intents (
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    integration_id  TEXT NOT NULL,
    product_id      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, integration_id, product_id)
);
CREATE TABLE catalog_work_requests (
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    work        TEXT NOT NULL,
    requests    BIGINT NOT NULL,
    done        BIGINT NOT NULL DEFAULT 0,
    lease_until BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, work)
);

-- +goose Down
DROP TABLE catalog_work_requests;
DROP TABLE catalog_push_intents;
ALTER TABLE catalog_links DROP COLUMN stock_seq;
ALTER TABLE catalog_products DROP COLUMN stock_seq;
