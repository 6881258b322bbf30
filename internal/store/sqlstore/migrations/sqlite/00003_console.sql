-- Issue 7: the call center — operators, their passkeys and console sessions,
-- four-eyes approval requests, the inquiry form, and an index for the adoption
-- dashboard. SQLite flavour; keep in step with ../postgres/00003_console.sql.

-- +goose Up
CREATE TABLE operators (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT    NOT NULL UNIQUE,
    role              TEXT    NOT NULL CHECK (role IN ('agent', 'supervisor')),
    user_handle       BLOB    NOT NULL UNIQUE,
    enroll_hash       BLOB, -- keyed hash of the pending one-time enrollment code
    enroll_expires_at INTEGER,
    created_at        INTEGER NOT NULL,
    created_by        TEXT    NOT NULL DEFAULT '',
    disabled_at       INTEGER
) STRICT;

CREATE TABLE operator_passkeys (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id        INTEGER NOT NULL REFERENCES operators (id),
    credential_id      BLOB    NOT NULL UNIQUE,
    public_key         BLOB    NOT NULL,
    sign_count         INTEGER NOT NULL DEFAULT 0,
    aaguid             BLOB,
    transports         TEXT    NOT NULL DEFAULT '', -- comma-joined
    backup_eligible    INTEGER NOT NULL DEFAULT 0 CHECK (backup_eligible IN (0, 1)),
    backup_state       INTEGER NOT NULL DEFAULT 0 CHECK (backup_state IN (0, 1)),
    attestation_format TEXT    NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    created_ip         TEXT    NOT NULL DEFAULT '',
    last_used_at       INTEGER,
    revoked_at         INTEGER
) STRICT;
CREATE INDEX operator_passkeys_operator ON operator_passkeys (operator_id, id);

-- A table of its own: a customer's session token is nothing here.
CREATE TABLE operator_sessions (
    id_hash      BLOB    PRIMARY KEY,
    operator_id  INTEGER NOT NULL REFERENCES operators (id),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT    NOT NULL DEFAULT '',
    user_agent   TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);
CREATE INDEX operator_sessions_expires ON operator_sessions (expires_at);

-- The public inquiry form: nothing in a row is verified.
CREATE TABLE inquiries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_code TEXT    NOT NULL,
    customer_id   INTEGER REFERENCES customers (id), -- NULL when the code matched nobody
    name          TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    topic         TEXT    NOT NULL,
    message       TEXT    NOT NULL DEFAULT '',
    ip            TEXT    NOT NULL DEFAULT '',
    user_agent    TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    closed_at     INTEGER,
    closed_by     TEXT    NOT NULL DEFAULT '',
    close_note    TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX inquiries_open ON inquiries (closed_at, id);
CREATE INDEX inquiries_customer ON inquiries (customer_id, id);

-- Four eyes: one operator requests, another approves.
CREATE TABLE approval_requests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL,
    customer_id   INTEGER NOT NULL REFERENCES customers (id),
    inquiry_id    INTEGER REFERENCES inquiries (id),
    payload       TEXT    NOT NULL DEFAULT '{}',
    reason        TEXT    NOT NULL,
    requested_by  TEXT    NOT NULL,
    requested_at  INTEGER NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'pending',
    decided_by    TEXT    NOT NULL DEFAULT '',
    decided_at    INTEGER,
    decision_note TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX approval_requests_status ON approval_requests (status, id);
CREATE INDEX approval_requests_customer ON approval_requests (customer_id, id);

-- The adoption dashboard counts logins by event and time (O6).
CREATE INDEX audit_log_event ON audit_log (event, at);

-- +goose Down
DROP INDEX audit_log_event;
DROP TABLE approval_requests;
DROP TABLE inquiries;
DROP TABLE operator_sessions;
DROP TABLE operator_passkeys;
DROP TABLE operators;
