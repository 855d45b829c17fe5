-- The validation stage: the population registry, the applications it has seen, the section
-- head's work items and the append-only audit of decisions.

-- Population registry: the district's resident extract (one row per person), imported by
-- `python -m services.validation.registry import FILE`. `record` is the whole row as JSON.
CREATE TABLE registry_persons (
    nik         text PRIMARY KEY CHECK (nik ~ '^[0-9]{16}$'),
    kk_number   text        NOT NULL CHECK (kk_number ~ '^[0-9]{16}$'),
    kecamatan   text        NOT NULL,  -- of the current address (desa code's first 6 digits)
    record      jsonb       NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX registry_persons_kk ON registry_persons (kk_number);

-- Applications as this stage sees them (from intake's events and its own decisions); an
-- active one blocks another application for the same NIK.
CREATE TABLE applications (
    application_id  uuid PRIMARY KEY,
    kecamatan       text        NOT NULL,
    nik             text        NOT NULL,
    tracking_number text        NOT NULL,
    latest_revision integer     NOT NULL,
    state           text        NOT NULL,
    active          boolean     NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX applications_active_nik ON applications (nik) WHERE active;

-- One work item per accepted revision of an application.
CREATE TABLE work_items (
    id                  bigserial PRIMARY KEY,
    application_id      uuid        NOT NULL,
    revision            integer     NOT NULL,
    kecamatan           text        NOT NULL,
    tracking_number     text        NOT NULL,
    application_type    text        NOT NULL,
    accepted_message_id uuid        NOT NULL,
    accepted            jsonb       NOT NULL,  -- the application.accepted payload
    findings            jsonb       NOT NULL DEFAULT '[]'::jsonb,
    status              text        NOT NULL DEFAULT 'pending' CHECK (status IN
                        ('pending', 'approved', 'sent_back', 'rejected', 'superseded', 'cancelled')),
    received_at         timestamptz NOT NULL DEFAULT now(),
    decided_at          timestamptz,
    decided_by          text,
    automatic           boolean     NOT NULL DEFAULT false,
    UNIQUE (application_id, revision)
);
CREATE INDEX work_items_queue ON work_items (kecamatan, received_at) WHERE status = 'pending';

-- Audit: who decided what, when, on which findings. Append-only: the triggers refuse
-- UPDATE, DELETE and TRUNCATE, so no code path (nor a stray psql session) can rewrite it.
CREATE TABLE decisions (
    id               bigserial PRIMARY KEY,
    work_item_id     bigint      NOT NULL UNIQUE REFERENCES work_items (id),
    application_id   uuid        NOT NULL,
    revision         integer     NOT NULL,
    kecamatan        text        NOT NULL,
    decision         text        NOT NULL CHECK (decision IN ('approved', 'sent_back', 'rejected')),
    staff_id         text        NOT NULL,
    automatic        boolean     NOT NULL,
    findings         jsonb       NOT NULL,
    reasons          jsonb       NOT NULL DEFAULT '[]'::jsonb,
    note             text,
    event_message_id uuid        NOT NULL,
    decided_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decisions_application ON decisions (application_id, id);

CREATE FUNCTION decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the decisions audit is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER decisions_no_update_delete BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION decisions_append_only();
CREATE TRIGGER decisions_no_truncate BEFORE TRUNCATE ON decisions
    FOR EACH STATEMENT EXECUTE FUNCTION decisions_append_only();
