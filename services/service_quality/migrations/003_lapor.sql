-- The SP4N-LAPOR! connector: each complaint is pushed once (the ticket is the idempotency key
-- on LAPOR!'s side), retried with backoff, and its status there pulled until it is final.
ALTER TABLE complaints
    ADD COLUMN lapor_id         text,
    ADD COLUMN lapor_status     text,
    ADD COLUMN lapor_attempts   integer     NOT NULL DEFAULT 0,
    ADD COLUMN lapor_next_at    timestamptz NOT NULL DEFAULT now(),  -- next push or pull
    ADD COLUMN lapor_error      text;
CREATE INDEX complaints_lapor_due ON complaints (lapor_next_at)
    WHERE lapor_status IS DISTINCT FROM 'completed';
