-- One card-production station's tables (one schema per kecamatan station; every row still
-- carries its kecamatan and every query filters by it).

-- One row per application whose card this station produces.
CREATE TABLE jobs (
    application_id   uuid PRIMARY KEY,
    kecamatan        text        NOT NULL,
    seq              bigserial   NOT NULL,           -- arrival order (FIFO within a priority)
    tracking_number  text        NOT NULL,
    application_type text        NOT NULL,
    priority         text        NOT NULL,           -- first_card | replacement
    priority_rank    smallint    NOT NULL,           -- 0 first cards, 1 replacements
    state            text        NOT NULL,           -- an ApplicationState value
    print_ready      jsonb       NOT NULL,           -- the RecordPrintReady payload
    source_message   uuid        NOT NULL,           -- its envelope's message id
    blank_serial     text,                           -- the blank reserved / used
    chip_serial      text,
    print_job        text,
    storage_place    text,
    attempts         integer     NOT NULL DEFAULT 0, -- blanks spoiled on this job
    held             boolean     NOT NULL DEFAULT false,  -- escalated: not produced further
    activation_failures integer  NOT NULL DEFAULT 0,
    certificate_number text,
    certificate_path text,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_next ON jobs (kecamatan, state, priority_rank, seq) WHERE NOT held;

CREATE TABLE blank_batches (
    id           bigserial PRIMARY KEY,
    kecamatan    text        NOT NULL,
    batch_ref    text        NOT NULL,
    first_serial text        NOT NULL,
    last_serial  text        NOT NULL,
    count        integer     NOT NULL,
    received_by  text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kecamatan, batch_ref)
);

CREATE TABLE blanks (
    serial         text PRIMARY KEY,
    kecamatan      text        NOT NULL,
    batch_id       bigint      NOT NULL REFERENCES blank_batches (id),
    state          text        NOT NULL DEFAULT 'available'
                   CHECK (state IN ('available', 'reserved', 'used', 'spoiled')),
    application_id uuid,
    spoil_reason   text,
    spoil_note     text,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX blanks_available ON blanks (kecamatan, serial) WHERE state = 'available';

CREATE SEQUENCE storage_seq;
CREATE SEQUENCE certificate_seq;

CREATE TABLE escalations (
    id             bigserial PRIMARY KEY,
    kecamatan      text        NOT NULL,
    application_id uuid        NOT NULL,
    reason         text        NOT NULL,
    detail         text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (application_id, reason)
);
