-- +goose Up
-- Custom roles of an account (the presets Store Admin, Manager and Staff live in the code).
-- permissions and store_ids are JSON arrays of strings; an empty store_ids covers every store.
CREATE TABLE roles (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    name         TEXT NOT NULL,
    permissions  TEXT NOT NULL DEFAULT '[]',
    store_ids    TEXT NOT NULL DEFAULT '[]',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX roles_account_name ON roles (account_id, name);

-- +goose Down
DROP TABLE roles;
