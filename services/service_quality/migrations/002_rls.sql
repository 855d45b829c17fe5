-- Kecamatan isolation (issue #17, docs/identity.md): a transaction sees and writes only the
-- rows of the kecamatan named by its setting tuntas.kecamatan (services.runtime.db.scoped),
-- or every row with '*'; with no setting it sees none. FORCE: the owner is held to it too.
-- nullif: a session whose setting went back to '' sees none, not the district reports ('').

ALTER TABLE facts ENABLE ROW LEVEL SECURITY;
ALTER TABLE facts FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON facts
  USING (kecamatan = nullif(current_setting('tuntas.kecamatan', true), '')
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = nullif(current_setting('tuntas.kecamatan', true), '')
         OR current_setting('tuntas.kecamatan', true) = '*');

ALTER TABLE complaints ENABLE ROW LEVEL SECURITY;
ALTER TABLE complaints FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON complaints
  USING (kecamatan = nullif(current_setting('tuntas.kecamatan', true), '')
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = nullif(current_setting('tuntas.kecamatan', true), '')
         OR current_setting('tuntas.kecamatan', true) = '*');

ALTER TABLE survey_invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE survey_invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON survey_invitations
  USING (kecamatan = nullif(current_setting('tuntas.kecamatan', true), '')
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = nullif(current_setting('tuntas.kecamatan', true), '')
         OR current_setting('tuntas.kecamatan', true) = '*');

ALTER TABLE survey_responses ENABLE ROW LEVEL SECURITY;
ALTER TABLE survey_responses FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON survey_responses
  USING (kecamatan = nullif(current_setting('tuntas.kecamatan', true), '')
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = nullif(current_setting('tuntas.kecamatan', true), '')
         OR current_setting('tuntas.kecamatan', true) = '*');

ALTER TABLE monthly_reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE monthly_reports FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON monthly_reports
  USING (kecamatan = nullif(current_setting('tuntas.kecamatan', true), '')
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = nullif(current_setting('tuntas.kecamatan', true), '')
         OR current_setting('tuntas.kecamatan', true) = '*');
