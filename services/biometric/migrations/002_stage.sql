-- The stage's work: applications handed over by validation, the operator's recording queue,
-- and the adjudication cases of suspected duplicates. Biometric bytes stay in the core's
-- tables (001), encrypted; nothing here holds any.

-- One row per application this stage received (application.validated).
--   queued               waiting in the operator's recording queue
--   duplicate_suspected  recorded; the 1:N search matched: an adjudication case is open
--   print_ready          record.print_ready emitted (recorded, skipped, or cleared)
--   duplicate_confirmed  adjudication confirmed the duplicate: the application ends here
--   cancelled            withdrawn at the desk (application.cancelled) before printing
CREATE TABLE applications (
    application_id  uuid        PRIMARY KEY,
    kecamatan       text        NOT NULL,
    nik             text        NOT NULL,
    tracking_number text        NOT NULL,
    application_type text       NOT NULL,
    validated       jsonb       NOT NULL,  -- the application.validated payload (card biodata)
    validated_message_id uuid   NOT NULL,  -- causation of what this stage emits later
    state           text        NOT NULL CHECK (state IN
                        ('queued', 'duplicate_suspected', 'print_ready', 'duplicate_confirmed',
                         'cancelled')),
    skipped         boolean     NOT NULL DEFAULT false,  -- an earlier record was reused
    record_id       uuid,
    operator_id     text,
    auto_claimed_at timestamptz,  -- the automatic operator took it (demo/benchmark mode)
    received_at     timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX applications_queue ON applications (kecamatan, received_at) WHERE state = 'queued';
CREATE INDEX applications_record ON applications (record_id);

-- Suspected duplicates awaiting a decision (clear: print; confirm: the application ends).
CREATE TABLE adjudication_cases (
    case_id        text        PRIMARY KEY,
    application_id uuid        NOT NULL UNIQUE REFERENCES applications,
    kecamatan      text        NOT NULL,
    record_id      uuid        NOT NULL,
    candidates     jsonb       NOT NULL,  -- [{record_id, kecamatan, score}], best first
    decision       text        CHECK (decision IN ('clear', 'confirm')),
    officer_id     text,
    note           text,
    opened_at      timestamptz NOT NULL DEFAULT now(),
    decided_at     timestamptz
);
CREATE INDEX adjudication_open ON adjudication_cases (kecamatan, opened_at) WHERE decision IS NULL;
