-- +goose Up
-- The account's back-office settings: how long after Save and Publish the terminals and the
-- store's POS integrations get a version (no row: the server's --publish-delay, 30 s by default).
CREATE TABLE backoffice_settings (
    account_id             TEXT PRIMARY KEY REFERENCES accounts(id),
    publish_delay_seconds  INTEGER NOT NULL,
    updated_at             BIGINT NOT NULL,
    updated_by             TEXT NOT NULL
);

-- +goose Down
DROP TABLE backoffice_settings;
