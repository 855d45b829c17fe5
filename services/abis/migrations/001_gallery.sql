-- The ABIS gallery: one row per inserted reference (a biometric record id). The four dedupe
-- fingers' templates are kept only as AES-256-GCM ciphertext under the gallery key
-- (services/abis/sealing.py); the in-memory index is rebuilt from here after a restart.
CREATE TABLE gallery (
    reference_id uuid        PRIMARY KEY,
    nonce        bytea       NOT NULL,
    ciphertext   bytea       NOT NULL,
    inserted_at  timestamptz NOT NULL DEFAULT now()
);
