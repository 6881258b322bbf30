-- kagi schema, SQLite flavour. Keep in step with ../postgres/00001_init.sql.
-- Times are unix microseconds UTC (NULL = zero time); booleans are 0/1.

-- +goose Up
CREATE TABLE customers (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_code        TEXT    NOT NULL UNIQUE,
    password_hash        TEXT    NOT NULL DEFAULT '',
    email                TEXT    NOT NULL DEFAULT '',
    email_verified_at    INTEGER,
    second_factor        TEXT    NOT NULL DEFAULT '',
    totp_secret          BLOB,
    totp_last_step       INTEGER NOT NULL DEFAULT 0,
    webauthn_user_handle BLOB    NOT NULL UNIQUE,
    lang                 TEXT    NOT NULL DEFAULT 'ja',
    failed_attempts      INTEGER NOT NULL DEFAULT 0,
    locked_at            INTEGER,
    frozen_at            INTEGER,
    created_at           INTEGER,
    -- Bumped first thing in AddPasskey's transaction: the row lock it takes serializes
    -- concurrent registrations for one customer on PostgreSQL, so the limit holds.
    passkey_gen          INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE sessions (
    id_hash          BLOB    PRIMARY KEY,
    customer_id      INTEGER NOT NULL REFERENCES customers (id),
    stage            TEXT    NOT NULL,
    method           TEXT    NOT NULL DEFAULT '',
    passkey_id       INTEGER,
    authenticated_at INTEGER,
    step_up_at       INTEGER,
    created_at       INTEGER,
    last_seen_at     INTEGER,
    expires_at       INTEGER NOT NULL,
    ip               TEXT    NOT NULL DEFAULT '',
    user_agent       TEXT    NOT NULL DEFAULT '',
    data             TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX sessions_customer ON sessions (customer_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE email_codes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    purpose     TEXT    NOT NULL,
    email       TEXT    NOT NULL DEFAULT '',
    code_hash   BLOB    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
) STRICT;
CREATE INDEX email_codes_latest ON email_codes (customer_id, purpose, id);

CREATE TABLE ceremonies (
    id          BLOB    PRIMARY KEY,
    kind        TEXT    NOT NULL,
    customer_id INTEGER REFERENCES customers (id), -- NULL for discoverable login
    data        BLOB,
    created_at  INTEGER,
    expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX ceremonies_expires ON ceremonies (expires_at);

CREATE TABLE passkeys (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id        INTEGER NOT NULL REFERENCES customers (id),
    credential_id      BLOB    NOT NULL UNIQUE,
    public_key         BLOB    NOT NULL,
    sign_count         INTEGER NOT NULL DEFAULT 0,
    aaguid             BLOB,
    transports         TEXT    NOT NULL DEFAULT '', -- comma-joined
    backup_eligible    INTEGER NOT NULL DEFAULT 0 CHECK (backup_eligible IN (0, 1)),
    backup_state       INTEGER NOT NULL DEFAULT 0 CHECK (backup_state IN (0, 1)),
    attestation_format TEXT    NOT NULL DEFAULT '',
    name               TEXT    NOT NULL DEFAULT '',
    shared             INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),
    created_at         INTEGER,
    created_ip         TEXT    NOT NULL DEFAULT '',
    created_user_agent TEXT    NOT NULL DEFAULT '',
    last_used_at       INTEGER,
    revoked_at         INTEGER,
    revoked_by         TEXT    NOT NULL DEFAULT '',
    suspended_at       INTEGER,
    suspend_reason     TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX passkeys_customer ON passkeys (customer_id, id);

-- seq is assigned from audit_head, never by the database.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER,
    actor       TEXT    NOT NULL,
    customer_id INTEGER NOT NULL DEFAULT 0,
    event       TEXT    NOT NULL,
    ip          TEXT    NOT NULL DEFAULT '',
    user_agent  TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT '{}',
    prev_hash   BLOB,
    hash        BLOB    NOT NULL
) STRICT;
CREATE INDEX audit_log_customer ON audit_log (customer_id, seq);

-- The chain's tip: updated in the transaction that appends, so appends serialize
-- on this one row and the chain cannot fork.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash BLOB
) STRICT;
INSERT INTO audit_head (id, seq) VALUES (1, 0);

-- Append-only in the database too, not just by convention of the code.
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    to_addr     TEXT    NOT NULL,
    subject     TEXT    NOT NULL DEFAULT '',
    body        TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER,
    sent_at     INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_try_at INTEGER, -- NULL: due at once
    last_error  TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX outbox_due ON outbox (next_try_at, id) WHERE sent_at IS NULL;
CREATE INDEX outbox_to ON outbox (to_addr, id);

CREATE TABLE rate_limits (
    key          TEXT    NOT NULL,
    window_start INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
) STRICT, WITHOUT ROWID;
CREATE INDEX rate_limits_window ON rate_limits (window_start);

-- +goose Down
DROP TABLE rate_limits;
DROP TABLE outbox;
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE passkeys;
DROP TABLE ceremonies;
DROP TABLE email_codes;
DROP TABLE sessions;
DROP TABLE customers;
