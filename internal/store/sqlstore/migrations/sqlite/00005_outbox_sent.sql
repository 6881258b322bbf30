-- Issue 8: the 9:00 login storm. SQLite flavour; keep in step with
-- ../postgres/00005_outbox_sent.sql.

-- +goose Up
-- Every login leaves a sent notice of about 2 KB in the outbox. The sweep
-- deletes those older than the retention (--sent-mail-retention) in chunks,
-- oldest first; this index finds them without reading the whole table.
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- +goose Down
DROP INDEX outbox_sent;
