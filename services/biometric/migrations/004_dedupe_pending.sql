-- 1:N dedupe through the ABIS (docs/abis.md): a recorded application waits in
-- dedupe_pending until the ABIS answers its identify request (abis.responded).
ALTER TABLE applications DROP CONSTRAINT applications_state_check;
ALTER TABLE applications ADD CONSTRAINT applications_state_check CHECK (state IN
    ('queued', 'dedupe_pending', 'duplicate_suspected', 'print_ready', 'duplicate_confirmed',
     'cancelled'));
