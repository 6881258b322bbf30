-- kagi schema, PostgreSQL flavour. Keep in step with ../sqlite/00001_init.sql.
-- Times are unix microseconds UTC (NULL = zero time).

-- +goose Up
CREATE TABLE customers (
    id                   BIGSERIAL PRIMARY KEY,
    customer_code        TEXT      NOT NULL UNIQUE,
    password_hash        TEXT      NOT NULL DEFAULT '',
    email                TEXT      NOT NULL DEFAULT '',
    email_verified_at    BIGINT,
    second_factor        TEXT      NOT NULL DEFAULT '',
    totp_secret          BYTEA,
    totp_last_step       BIGINT    NOT NULL DEFAULT 0,
    webauthn_user_handle BYTEA     NOT NULL UNIQUE,
    lang                 TEXT      NOT NULL DEFAULT 'ja',
    failed_attempts      INTEGER   NOT NULL DEFAULT 0,
    locked_at            BIGINT,
    frozen_at            BIGINT,
    created_at           BIGINT,
    -- Bumped first thing in AddPasskey's transaction: the row lock it takes serializes
    -- concurrent registrations for one customer, so the limit holds.
    passkey_gen          BIGINT    NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    id_hash          BYTEA   PRIMARY KEY,
    customer_id      BIGINT  NOT NULL REFERENCES customers (id),
    stage            TEXT    NOT NULL,
    method           TEXT    NOT NULL DEFAULT '',
    passkey_id       BIGINT,
    authenticated_at BIGINT,
    step_up_at       BIGINT,
    created_at       BIGINT,
    last_seen_at     BIGINT,
    expires_at       BIGINT  NOT NULL,
    ip               TEXT    NOT NULL DEFAULT '',
    user_agent       TEXT    NOT NULL DEFAULT '',
    data             TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_customer ON sessions (customer_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE email_codes (
    id          BIGSERIAL PRIMARY KEY,
    customer_id BIGINT    NOT NULL REFERENCES customers (id),
    purpose     TEXT      NOT NULL,
    email       TEXT      NOT NULL DEFAULT '',
    code_hash   BYTEA     NOT NULL,
    attempts    INTEGER   NOT NULL DEFAULT 0,
    created_at  BIGINT,
    expires_at  BIGINT    NOT NULL,
    used_at     BIGINT
);
CREATE INDEX email_codes_latest ON email_codes (customer_id, purpose, id);

CREATE TABLE ceremonies (
    id          BYTEA  PRIMARY KEY,
    kind        TEXT   NOT NULL,
    customer_id BIGINT REFERENCES customers (id), -- NULL for discoverable login
    data        BYTEA,
    created_at  BIGINT,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX ceremonies_expires ON ceremonies (expires_at);

CREATE TABLE passkeys (
    id                 BIGSERIAL PRIMARY KEY,
    customer_id        BIGINT    NOT NULL REFERENCES customers (id),
    credential_id      BYTEA     NOT NULL UNIQUE,
    public_key         BYTEA     NOT NULL,
    sign_count         BIGINT    NOT NULL DEFAULT 0, -- uint32
    aaguid             BYTEA,
    transports         TEXT      NOT NULL DEFAULT '', -- comma-joined
    backup_eligible    BOOLEAN   NOT NULL DEFAULT FALSE,
    backup_state       BOOLEAN   NOT NULL DEFAULT FALSE,
    attestation_format TEXT      NOT NULL DEFAULT '',
    name               TEXT      NOT NULL DEFAULT '',
    shared             BOOLEAN   NOT NULL DEFAULT FALSE,
    created_at         BIGINT,
    created_ip         TEXT      NOT NULL DEFAULT '',
    created_user_agent TEXT      NOT NULL DEFAULT '',
    last_used_at       BIGINT,
    revoked_at         BIGINT,
    revoked_by         TEXT      NOT NULL DEFAULT '',
    suspended_at       BIGINT,
    suspend_reason     TEXT      NOT NULL DEFAULT ''
);
CREATE INDEX passkeys_customer ON passkeys (customer_id, id);

-- seq is assigned from audit_head, never by the database.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT,
    actor       TEXT   NOT NULL,
    customer_id BIGINT NOT NULL DEFAULT 0,
    event       TEXT   NOT NULL,
    ip          TEXT   NOT NULL DEFAULT '',
    user_agent  TEXT   NOT NULL DEFAULT '',
    detail      TEXT   NOT NULL DEFAULT '{}',
    prev_hash   BYTEA,
    hash        BYTEA  NOT NULL
);
CREATE INDEX audit_log_customer ON audit_log (customer_id, seq);

-- The chain's tip: updated in the transaction that appends, so appends serialize
-- on this one row and the chain cannot fork.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT  NOT NULL,
    hash BYTEA
);
INSERT INTO audit_head (id, seq) VALUES (1, 0);

-- Append-only in the database too, not just by convention of the code.
-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE outbox (
    id          BIGSERIAL PRIMARY KEY,
    to_addr     TEXT      NOT NULL,
    subject     TEXT      NOT NULL DEFAULT '',
    body        TEXT      NOT NULL DEFAULT '',
    created_at  BIGINT,
    sent_at     BIGINT,
    attempts    INTEGER   NOT NULL DEFAULT 0,
    next_try_at BIGINT, -- NULL: due at once
    last_error  TEXT      NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (next_try_at, id) WHERE sent_at IS NULL;
CREATE INDEX outbox_to ON outbox (to_addr, id);

CREATE TABLE rate_limits (
    key          TEXT    NOT NULL,
    window_start BIGINT  NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);

-- +goose Down
DROP TABLE rate_limits;
DROP TABLE outbox;
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE passkeys;
DROP TABLE ceremonies;
DROP TABLE email_codes;
DROP TABLE sessions;
DROP TABLE customers;
