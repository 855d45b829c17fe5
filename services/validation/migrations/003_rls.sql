-- Kecamatan isolation (issue #17): the runtime's isolate_by_kecamatan (runtime migration
-- 003_rls.sql) puts each table holding a kecamatan's rows under row-level security.
-- registry_persons stays open: the population registry is looked up by NIK across the district.

SELECT isolate_by_kecamatan('applications');
SELECT isolate_by_kecamatan('work_items');
SELECT isolate_by_kecamatan('decisions');
