-- An application the biometric stage's adjudication closed (biometrics.duplicate_confirmed:
-- the applicant is already recorded under another identity) is written into the same
-- append-only audit, next to the section head's decision on its item: decision
-- 'duplicate_confirmed', staff_id the adjudicating officer, event_message_id the biometric
-- stage's event (for the other decisions, the event this stage emitted).
ALTER TABLE decisions DROP CONSTRAINT decisions_work_item_id_key;
ALTER TABLE decisions DROP CONSTRAINT decisions_decision_check;
ALTER TABLE decisions ADD CONSTRAINT decisions_decision_check
    CHECK (decision IN ('approved', 'sent_back', 'rejected', 'duplicate_confirmed'));
-- Still one section head's decision per item, and one closure per application.
CREATE UNIQUE INDEX decisions_one_per_item ON decisions (work_item_id)
    WHERE decision <> 'duplicate_confirmed';
CREATE UNIQUE INDEX decisions_one_duplicate ON decisions (application_id)
    WHERE decision = 'duplicate_confirmed';
