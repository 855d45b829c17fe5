-- Earlier records loaded in bulk (python -m services.biometric.earlier) carry the id of their
-- import: the ABIS inserts them as one batch, paging through them by record id.
ALTER TABLE records ADD COLUMN import_id uuid;
CREATE INDEX records_import ON records (import_id, record_id) WHERE import_id IS NOT NULL;
