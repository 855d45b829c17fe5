-- The runtime's own tables, in every service's schema (search_path selects it).

-- Inbox: one row per consumed message id; a duplicate delivery finds its row and is skipped.
CREATE TABLE inbox (
    message_id  uuid PRIMARY KEY,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    "offset"    bigint      NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- Outbox: events written in the same transaction as the state change that caused them,
-- published later by the relay in id order (so in order per key).
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    message_id  uuid        NOT NULL UNIQUE,
    topic       text        NOT NULL,
    key         text        NOT NULL,
    payload     bytea       NOT NULL,
    headers     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
CREATE INDEX outbox_key ON outbox (key, id);

-- Status: one row per application as this stage sees it (MOSIP-style), and its history.
CREATE TABLE application_status (
    application_id  text PRIMARY KEY,
    kecamatan       text        NOT NULL,
    state           text        NOT NULL,
    direction       text        NOT NULL CHECK (direction IN ('in', 'out')),
    last_message_id uuid        NOT NULL,
    updated_at      timestamptz NOT NULL,
    redrive_count   integer     NOT NULL DEFAULT 0
);
CREATE INDEX application_status_waiting ON application_status (updated_at) WHERE direction = 'in';

CREATE TABLE application_history (
    id             bigserial PRIMARY KEY,
    application_id text        NOT NULL,
    state          text        NOT NULL,
    direction      text        NOT NULL,
    message_id     uuid        NOT NULL,
    causation_id   uuid,
    at             timestamptz NOT NULL DEFAULT now(),
    note           text
);
CREATE INDEX application_history_app ON application_history (application_id, id);
