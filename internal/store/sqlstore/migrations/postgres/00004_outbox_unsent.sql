-- Issue 8: the 9:00 login storm. PostgreSQL flavour; keep in step with
-- ../sqlite/00004_outbox_unsent.sql.

-- +goose Up
-- Every login enqueues a notice, so the outbox grows by the number of logins.
-- The mail worker claims the oldest unsent mails by id; (next_try_at, id) could
-- not serve that order, and the claim scanned every mail ever sent. Indexing
-- the unsent ones by id makes the claim read only them.
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
DROP INDEX outbox_due;

-- +goose Down
CREATE INDEX outbox_due ON outbox (next_try_at, id) WHERE sent_at IS NULL;
DROP INDEX outbox_unsent;
