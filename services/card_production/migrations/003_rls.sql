-- Kecamatan isolation (issue #17): the runtime's isolate_by_kecamatan (runtime migration
-- 003_rls.sql) puts each table holding a kecamatan's rows under row-level security.

SELECT isolate_by_kecamatan('jobs');
SELECT isolate_by_kecamatan('blank_batches');
SELECT isolate_by_kecamatan('blanks');
SELECT isolate_by_kecamatan('escalations');
