-- Kecamatan isolation (issue #17, docs/identity.md): a transaction sees and writes only the
-- rows of the kecamatan named by its setting tuntas.kecamatan (services.runtime.db.scoped),
-- or every row with '*'; with no setting it sees none. FORCE: the owner is held to it too.

ALTER TABLE application_status ENABLE ROW LEVEL SECURITY;
ALTER TABLE application_status FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON application_status
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');
