-- Notification stage: contacts, SMS delivery bookkeeping, uncollected-card reminders, calls.

CREATE TABLE contacts (
    application_id  text PRIMARY KEY,
    kecamatan       text        NOT NULL,
    name            text,
    phone           text,               -- E.164; NULL: the applicant has no phone
    tracking_number text,
    opted_out       boolean     NOT NULL DEFAULT false,
    opted_out_at    timestamptz,
    wrong_number    boolean     NOT NULL DEFAULT false,  -- flagged for the front desk
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per (source, template): a message is sent once however often its cause is seen.
CREATE TABLE sms_outbox (
    id               bigserial PRIMARY KEY,
    source_key       text        NOT NULL,  -- the event's message id, or reminder:<app>:<n>
    template         text        NOT NULL,
    application_id   text        NOT NULL,
    kecamatan        text        NOT NULL,
    causation_id     uuid,
    fields           jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status           text        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent', 'failed', 'skipped', 'cancelled')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,
    last_error       text,
    phone            text,
    text             text,
    smsc_message_ids text[],
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    UNIQUE (source_key, template)
);
CREATE INDEX sms_outbox_due ON sms_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX sms_outbox_status ON sms_outbox (status, kecamatan, id);
CREATE INDEX sms_outbox_app ON sms_outbox (application_id, id);

-- Delivery receipts, one per SMSC message id (one per part); may arrive before the sent mark.
CREATE TABLE sms_receipts (
    smsc_message_id text PRIMARY KEY,
    sms_id          bigint,
    stat            text,
    err             text,
    done_date       text,
    received_at     timestamptz
);
CREATE INDEX sms_receipts_sms ON sms_receipts (sms_id);

-- Uncollected cards: one schedule per ready card, stopped when it is collected.
CREATE TABLE reminders (
    application_id text PRIMARY KEY,
    kecamatan      text        NOT NULL,
    ready_at       timestamptz NOT NULL,
    storage_place  text        NOT NULL,
    step           integer     NOT NULL DEFAULT 0,  -- next regular step of the schedule
    fired          integer     NOT NULL DEFAULT 0,
    next_due       timestamptz,
    next_channel   text,
    override       boolean     NOT NULL DEFAULT false,
    state          text        NOT NULL DEFAULT 'active'
        CHECK (state IN ('active', 'collected', 'stopped', 'wrong_number')),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reminders_due ON reminders (next_due) WHERE state = 'active';

CREATE TABLE call_tasks (
    id             bigserial PRIMARY KEY,
    application_id text        NOT NULL,
    kecamatan      text        NOT NULL,
    due_at         timestamptz NOT NULL,
    status         text        NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'done', 'cancelled')),
    outcome        text,
    come_on        date,
    officer_id     text,
    note           text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    closed_at      timestamptz
);
CREATE UNIQUE INDEX call_tasks_one_open ON call_tasks (application_id) WHERE status = 'open';
CREATE INDEX call_tasks_kecamatan ON call_tasks (kecamatan, status, due_at);

-- Contact history shown to the caller.
CREATE TABLE contact_log (
    id             bigserial PRIMARY KEY,
    application_id text        NOT NULL,
    at             timestamptz NOT NULL,
    channel        text        NOT NULL,
    what           text        NOT NULL,
    detail         text
);
CREATE INDEX contact_log_app ON contact_log (application_id, id);
