-- Kecamatan isolation (issue #17, docs/identity.md): a transaction sees and writes only the
-- rows of the kecamatan named by its setting tuntas.kecamatan (services.runtime.db.scoped),
-- or every row with '*'; with no setting it sees none. FORCE: the owner is held to it too.

ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON contacts
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');

ALTER TABLE sms_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE sms_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON sms_outbox
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');

ALTER TABLE reminders ENABLE ROW LEVEL SECURITY;
ALTER TABLE reminders FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON reminders
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');

ALTER TABLE call_tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE call_tasks FORCE ROW LEVEL SECURITY;
CREATE POLICY kecamatan_scope ON call_tasks
  USING (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*')
  WITH CHECK (kecamatan = current_setting('tuntas.kecamatan', true)
         OR current_setting('tuntas.kecamatan', true) = '*');
