-- Issue 7: the call center — operators, their passkeys and console sessions,
-- four-eyes approval requests, the inquiry form, and an index for the adoption
-- dashboard. PostgreSQL flavour; keep in step with ../sqlite/00003_console.sql.

-- +goose Up
CREATE TABLE operators (
    id                BIGSERIAL PRIMARY KEY,
    name              TEXT      NOT NULL UNIQUE,
    role              TEXT      NOT NULL CHECK (role IN ('agent', 'supervisor')),
    user_handle       BYTEA     NOT NULL UNIQUE,
    enroll_hash       BYTEA, -- keyed hash of the pending one-time enrollment code
    enroll_expires_at BIGINT,
    created_at        BIGINT    NOT NULL,
    created_by        TEXT      NOT NULL DEFAULT '',
    disabled_at       BIGINT
);

CREATE TABLE operator_passkeys (
    id                 BIGSERIAL PRIMARY KEY,
    operator_id        BIGINT    NOT NULL REFERENCES operators (id),
    credential_id      BYTEA     NOT NULL UNIQUE,
    public_key         BYTEA     NOT NULL,
    sign_count         BIGINT    NOT NULL DEFAULT 0, -- uint32
    aaguid             BYTEA,
    transports         TEXT      NOT NULL DEFAULT '', -- comma-joined
    backup_eligible    BOOLEAN   NOT NULL DEFAULT FALSE,
    backup_state       BOOLEAN   NOT NULL DEFAULT FALSE,
    attestation_format TEXT      NOT NULL DEFAULT '',
    created_at         BIGINT    NOT NULL,
    created_ip         TEXT      NOT NULL DEFAULT '',
    last_used_at       BIGINT,
    revoked_at         BIGINT
);
CREATE INDEX operator_passkeys_operator ON operator_passkeys (operator_id, id);

-- A table of its own: a customer's session token is nothing here.
CREATE TABLE operator_sessions (
    id_hash      BYTEA  PRIMARY KEY,
    operator_id  BIGINT NOT NULL REFERENCES operators (id),
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    ip           TEXT   NOT NULL DEFAULT '',
    user_agent   TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);
CREATE INDEX operator_sessions_expires ON operator_sessions (expires_at);

-- The public inquiry form: nothing in a row is verified.
CREATE TABLE inquiries (
    id            BIGSERIAL PRIMARY KEY,
    customer_code TEXT      NOT NULL,
    customer_id   BIGINT    REFERENCES customers (id), -- NULL when the code matched nobody
    name          TEXT      NOT NULL DEFAULT '',
    email         TEXT      NOT NULL DEFAULT '',
    topic         TEXT      NOT NULL,
    message       TEXT      NOT NULL DEFAULT '',
    ip            TEXT      NOT NULL DEFAULT '',
    user_agent    TEXT      NOT NULL DEFAULT '',
    created_at    BIGINT    NOT NULL,
    closed_at     BIGINT,
    closed_by     TEXT      NOT NULL DEFAULT '',
    close_note    TEXT      NOT NULL DEFAULT ''
);
CREATE INDEX inquiries_open ON inquiries (closed_at, id);
CREATE INDEX inquiries_customer ON inquiries (customer_id, id);

-- Four eyes: one operator requests, another approves.
CREATE TABLE approval_requests (
    id            BIGSERIAL PRIMARY KEY,
    kind          TEXT      NOT NULL,
    customer_id   BIGINT    NOT NULL REFERENCES customers (id),
    inquiry_id    BIGINT    REFERENCES inquiries (id),
    payload       TEXT      NOT NULL DEFAULT '{}',
    reason        TEXT      NOT NULL,
    requested_by  TEXT      NOT NULL,
    requested_at  BIGINT    NOT NULL,
    status        TEXT      NOT NULL DEFAULT 'pending',
    decided_by    TEXT      NOT NULL DEFAULT '',
    decided_at    BIGINT,
    decision_note TEXT      NOT NULL DEFAULT ''
);
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
