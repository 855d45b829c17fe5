-- Kecamatan isolation (issue #17): the runtime's isolate_by_kecamatan (runtime migration
-- 003_rls.sql) puts each table holding a kecamatan's rows under row-level security.
-- The district's monthly reports are stored under kecamatan '': only the '*' scope sees them.

SELECT isolate_by_kecamatan('facts');
SELECT isolate_by_kecamatan('complaints');
SELECT isolate_by_kecamatan('survey_invitations');
SELECT isolate_by_kecamatan('survey_responses');
SELECT isolate_by_kecamatan('monthly_reports');
