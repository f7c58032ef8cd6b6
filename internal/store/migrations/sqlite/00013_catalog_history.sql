-- +goose Up
-- Field-level history of the catalog's records: which fields of a product or customer changed,
-- from what to what, when, and what caused it (a POS trigger, an import, an edit in the app).
-- One row per change of one record; changes holds the fields as JSON.
CREATE TABLE catalog_history (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    record          TEXT NOT NULL,
    record_id       TEXT NOT NULL,
    at              BIGINT NOT NULL,
    cause           TEXT NOT NULL,
    integration_id  TEXT NOT NULL DEFAULT '',
    actor           TEXT NOT NULL DEFAULT '',
    changes         TEXT NOT NULL
);
CREATE INDEX catalog_history_record ON catalog_history (account_id, record, record_id, id);
-- Retention deletes the change feed and the history by age.
CREATE INDEX catalog_history_at ON catalog_history (at);
CREATE INDEX catalog_changes_at ON catalog_changes (at);

-- +goose Down
DROP INDEX catalog_changes_at;
DROP INDEX catalog_history_at;
DROP INDEX catalog_history_record;
DROP TABLE catalog_history;
