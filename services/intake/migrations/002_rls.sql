-- Kecamatan isolation (issue #17, docs/identity.md): a transaction sees and writes only the
-- rows of the kecamatan named by its setting tuntas.kecamatan (services.runtime.db.scoped),
-- or every row with '*'; with no setting it sees none. FORCE: the owner is held to it too.

ALTER TABLE applications ENABLE ROW LEVEL SECURITY;
ALTER TABLE applications FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON applications
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');

ALTER TABLE tracking_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE tracking_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON tracking_counters
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');

ALTER TABLE uploads ENABLE ROW LEVEL SECURITY;
ALTER TABLE uploads FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON uploads
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');

ALTER TABLE refusals ENABLE ROW LEVEL SECURITY;
ALTER TABLE refusals FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON refusals
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');

ALTER TABLE handovers ENABLE ROW LEVEL SECURITY;
ALTER TABLE handovers FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON handovers
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');
