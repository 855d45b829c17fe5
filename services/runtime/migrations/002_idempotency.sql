-- Idempotent commands (services.runtime.commands): the answer of each keyed command, stored in
-- the command's own transaction. IF NOT EXISTS: intake created this same table in its own first
-- migration before it moved here, so existing intake schemas already have it.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope        text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    status_code  integer     NOT NULL,
    response     jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
