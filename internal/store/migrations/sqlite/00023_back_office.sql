-- +goose Up
-- Back office (seed 001): a draft per store of what the POS terminals run with, immutable
-- numbered versions frozen by Save and Publish (delivered after a short period), and the
-- paired terminals of each store with their device token's hash.
CREATE TABLE backoffice_drafts (
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    store_id    TEXT NOT NULL,
    content     TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL,
    PRIMARY KEY (account_id, store_id)
);

CREATE TABLE backoffice_versions (
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    store_id      TEXT NOT NULL,
    version       INTEGER NOT NULL,
    content       TEXT NOT NULL,
    diff          TEXT NOT NULL DEFAULT '[]',
    published_by  TEXT NOT NULL,
    published_at  BIGINT NOT NULL,
    delivers_at   BIGINT NOT NULL,
    delivered_at  BIGINT,
    PRIMARY KEY (account_id, store_id, version)
);

CREATE TABLE terminals (
    id                    TEXT PRIMARY KEY,
    account_id            TEXT NOT NULL REFERENCES accounts(id),
    store_id              TEXT NOT NULL,
    name                  TEXT NOT NULL DEFAULT '',
    token_hash            TEXT NOT NULL UNIQUE,
    paired_at             BIGINT NOT NULL,
    last_synced_version   INTEGER NOT NULL DEFAULT 0,
    last_synced_at        BIGINT,
    revoked_at            BIGINT
);
CREATE INDEX terminals_account ON terminals (account_id, store_id);

CREATE TABLE terminal_pairing_codes (
    code_hash   TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    store_id    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

-- +goose Down
DROP TABLE terminal_pairing_codes;
DROP TABLE terminals;
DROP TABLE backoffice_versions;
DROP TABLE backoffice_drafts;
