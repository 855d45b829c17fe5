-- Biometric records per NIK. Images and templates are stored only as AES-256-GCM ciphertext
-- (services/biometric/crypto.py): no column of this schema holds biometric plaintext.

-- Data keys per kecamatan, wrapped by a master key version from configuration.
CREATE TABLE data_keys (
    kecamatan      text        NOT NULL,
    version        integer     NOT NULL CHECK (version >= 1),
    master_version integer     NOT NULL,
    nonce          bytea       NOT NULL,
    wrapped        bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kecamatan, version)
);

-- One record per NIK: an applicant is recorded once ("only for applicants not yet recorded").
CREATE TABLE records (
    record_id   uuid        PRIMARY KEY,
    nik         text        NOT NULL UNIQUE,
    kecamatan   text        NOT NULL,
    captured_at timestamptz NOT NULL
);
CREATE INDEX records_kecamatan ON records (kecamatan, record_id);

-- Items not captured, with the reason (never replaced by a fake capture).
CREATE TABLE record_exceptions (
    record_id uuid    NOT NULL REFERENCES records ON DELETE CASCADE,
    item      text    NOT NULL,
    reason    text    NOT NULL CHECK (reason IN ('amputated', 'bandaged', 'unreadable')),
    attempts  integer NOT NULL,
    PRIMARY KEY (record_id, item)
);

-- Captured artefacts (finger.<position>, iris.<eye>, face, signature), encrypted.
CREATE TABLE items (
    record_id   uuid    NOT NULL REFERENCES records ON DELETE CASCADE,
    item        text    NOT NULL,
    media_type  text    NOT NULL,
    quality     integer NOT NULL,
    key_version integer NOT NULL,
    nonce       bytea   NOT NULL,
    ciphertext  bytea   NOT NULL,
    PRIMARY KEY (record_id, item)
);

-- Fingerprint templates for 1:N matching, encrypted; kept apart from the images so a
-- dedupe scan reads a few hundred bytes per finger, not the images.
CREATE TABLE templates (
    record_id   uuid    NOT NULL REFERENCES records ON DELETE CASCADE,
    finger      text    NOT NULL,
    key_version integer NOT NULL,
    nonce       bytea   NOT NULL,
    ciphertext  bytea   NOT NULL,
    PRIMARY KEY (record_id, finger)
);
CREATE INDEX templates_finger ON templates (finger, record_id);
