-- Kecamatan isolation (issue #17): the runtime's isolate_by_kecamatan (runtime migration
-- 003_rls.sql) puts each table holding a kecamatan's rows under row-level security.

SELECT isolate_by_kecamatan('data_keys');
SELECT isolate_by_kecamatan('records');
SELECT isolate_by_kecamatan('applications');
SELECT isolate_by_kecamatan('adjudication_cases');
