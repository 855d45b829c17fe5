-- Each SMS at most once at the SMSC (docs/reliability.md, defect 35): the sender notes the
-- moment it starts a submit, in a transaction of its own, and clears it when it marks the
-- outcome. A row found with the note set was submitted by a sender that died before its mark:
-- the SMSC may have it, so it is not sent again but put before staff.
ALTER TABLE sms_outbox ADD COLUMN submitting_since timestamptz;
