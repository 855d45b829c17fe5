-- Kecamatan isolation (issue #17): the runtime's isolate_by_kecamatan (runtime migration
-- 003_rls.sql) puts each table holding a kecamatan's rows under row-level security.

SELECT isolate_by_kecamatan('contacts');
SELECT isolate_by_kecamatan('sms_outbox');
SELECT isolate_by_kecamatan('reminders');
SELECT isolate_by_kecamatan('call_tasks');
