-- Kecamatan isolation (issue #17, docs/identity.md): a transaction sees and writes only the
-- rows of the kecamatan named by its setting tuntas.kecamatan (services.runtime.db.scoped),
-- or every row with '*'; with no setting, or one reset to '', it sees none. FORCE: the table's
-- owner is held to it too. Every stage puts its kecamatan tables under it with
-- SELECT isolate_by_kecamatan('<table>') in its own migration.

CREATE FUNCTION isolate_by_kecamatan(target regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
  EXECUTE format(
    'CREATE POLICY kecamatan_scope ON %s'
    ' USING (kecamatan = nullif(current_setting(''tuntas.kecamatan'', true), '''')'
    '        OR current_setting(''tuntas.kecamatan'', true) = ''*'')'
    ' WITH CHECK (kecamatan = nullif(current_setting(''tuntas.kecamatan'', true), '''')'
    '        OR current_setting(''tuntas.kecamatan'', true) = ''*'')',
    target);
END
$$;

SELECT isolate_by_kecamatan('application_status');
