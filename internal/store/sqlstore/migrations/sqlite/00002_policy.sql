-- Issue 6: the passkey-mandatory phase and the important operations.
-- SQLite flavour; keep in step with ../postgres/00002_policy.sql.

-- +goose Up
-- When the customer last registered a passkey or changed their e-mail or second
-- factor: withdrawals and bank-account changes wait out the cooling-off from it (P6).
ALTER TABLE customers ADD COLUMN sensitive_changed_at INTEGER;
-- When the reminder that passkeys become mandatory was mailed (sent once, P4).
ALTER TABLE customers ADD COLUMN phase_notice_at INTEGER;

-- What the demo trading site was asked to do (P5): stored, nothing more.
CREATE TABLE operations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    kind        TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '{}',
    method      TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    ip          TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX operations_customer ON operations (customer_id, kind, id);

-- +goose Down
DROP TABLE operations;
ALTER TABLE customers DROP COLUMN phase_notice_at;
ALTER TABLE customers DROP COLUMN sensitive_changed_at;
