-- +goose Up
-- Email integrations: the POS emails a daily sales file to the integration's own address
-- (local_part@--smtp-domain). mapping is the CSV column mapping (JSON: a preset and overrides),
-- allowed_senders an optional allow-list (JSON array; empty: anyone who knows the address),
-- last_file_at when the last file came (30 days without one calls the integration off).
CREATE TABLE email_inboxes (
    integration_id   TEXT PRIMARY KEY REFERENCES integrations(id),
    account_id       TEXT NOT NULL REFERENCES accounts(id),
    local_part       TEXT NOT NULL UNIQUE,
    mapping          TEXT NOT NULL DEFAULT '{}',
    allowed_senders  TEXT NOT NULL DEFAULT '[]',
    last_file_at     BIGINT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX email_inboxes_account ON email_inboxes (account_id);

-- +goose Down
DROP TABLE email_inboxes;
