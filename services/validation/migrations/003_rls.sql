-- Kecamatan isolation (issue #17, docs/identity.md): a transaction sees and writes only the
-- rows of the kecamatan named by its setting tuntas.kecamatan (services.runtime.db.scoped),
-- or every row with '*'; with no setting it sees none. FORCE: the owner is held to it too.
-- registry_persons stays open: the population registry is looked up by NIK across the district.

ALTER TABLE applications ENABLE ROW LEVEL SECURITY;
ALTER TABLE applications FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON applications
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');

ALTER TABLE work_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE work_items FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON work_items
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');

ALTER TABLE decisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE decisions FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON decisions
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');
