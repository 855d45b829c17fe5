-- Kecamatan isolation (issue #17, docs/identity.md): a transaction sees and writes only the
-- rows of the kecamatan named by its setting tuntas.kecamatan (services.runtime.db.scoped),
-- or every row with '*'; with no setting it sees none. FORCE: the owner is held to it too.

ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON jobs
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');

ALTER TABLE blank_batches ENABLE ROW LEVEL SECURITY;
ALTER TABLE blank_batches FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON blank_batches
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');

ALTER TABLE blanks ENABLE ROW LEVEL SECURITY;
ALTER TABLE blanks FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON blanks
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');

ALTER TABLE escalations ENABLE ROW LEVEL SECURITY;
ALTER TABLE escalations FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON escalations
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');
