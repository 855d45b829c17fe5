-- The front desk's tables (intake schema). Every row carries its kecamatan.

-- One row per application, as the desk knows it. `active` is true until the application ends
-- (rejected, collected, cancelled): a NIK may have one active application at a time.
CREATE TABLE applications (
    id                uuid PRIMARY KEY,
    kecamatan         text        NOT NULL,
    tracking_number   text        NOT NULL UNIQUE,
    nik               text        NOT NULL,
    application_type  text        NOT NULL,
    state             text        NOT NULL,
    active            boolean     NOT NULL DEFAULT true,
    revision          integer     NOT NULL DEFAULT 1,
    file              jsonb       NOT NULL,  -- {application_type, applicant, documents}
    kk_scan_id        uuid,
    officer_id        text        NOT NULL,
    accepted_at       timestamptz NOT NULL,  -- first acceptance (the receipt's date)
    revised_at        timestamptz NOT NULL,  -- last acceptance (revision > 1: a correction)
    deadline          timestamptz NOT NULL,
    sent_back_reasons jsonb,
    sent_back_at      timestamptz,
    closed_reason     text,
    storage_place     text,
    ready_at          timestamptz,
    activated_at      timestamptz,
    chip_serial       text,
    collected_at      timestamptz,
    receipt_reference text,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX applications_one_active_per_nik ON applications (nik) WHERE active;
CREATE INDEX applications_queue ON applications (kecamatan, state, updated_at);

-- Tracking numbers: one counter per kecamatan and (office-local) day.
CREATE TABLE tracking_counters (
    kecamatan text    NOT NULL,
    day       date    NOT NULL,
    last      integer NOT NULL,
    PRIMARY KEY (kecamatan, day)
);

-- Scanned documents and signed receipts (PDF/JPEG/PNG, size-limited by the API).
CREATE TABLE uploads (
    id           uuid PRIMARY KEY,
    kecamatan    text        NOT NULL,
    kind         text        NOT NULL,  -- "kk_scan", "signed_receipt"
    content_type text        NOT NULL,
    size         integer     NOT NULL,
    sha256       text        NOT NULL,
    content      bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Files refused at the desk: counts and problem codes only (no personal data).
CREATE TABLE refusals (
    id               bigserial PRIMARY KEY,
    kecamatan        text        NOT NULL,
    application_type text,
    problem_codes    text[]      NOT NULL,
    officer_id       text,
    at               timestamptz NOT NULL DEFAULT now()
);

-- Handovers (step 8): the signed receipt and the identity check, one per application.
CREATE TABLE handovers (
    application_id   uuid PRIMARY KEY REFERENCES applications (id),
    kecamatan        text        NOT NULL,
    receipt_upload   uuid REFERENCES uploads (id),
    scan_reference   text,
    receipt_reference text       NOT NULL,
    officer_id       text        NOT NULL,
    at               timestamptz NOT NULL DEFAULT now()
);
