-- +goose Up
-- What became of each delivered back-office version at each POS integration of its store
-- (issue 11): written, being tried again, failed or skipped, with a sentence for the merchant
-- and the technical detail, so the back office page and the API show it, not only the timeline.
CREATE TABLE backoffice_pos_deliveries (
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    store_id        TEXT NOT NULL,
    version         INTEGER NOT NULL,
    integration_id  TEXT NOT NULL,
    status          TEXT NOT NULL,
    message         TEXT NOT NULL DEFAULT '',
    detail          TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, store_id, version, integration_id)
);

-- +goose Down
DROP TABLE backoffice_pos_deliveries;
