-- +goose Up
-- PostgreSQL drops webhook_events' reference to accounts here (a trigger query and a row lock per
-- event, while the intake takes the account from the verified integration's row). SQLite keeps it:
-- its check is one look-up in the same process, and dropping a reference there means rebuilding
-- the table.
SELECT 1;

-- +goose Down
SELECT 1;
