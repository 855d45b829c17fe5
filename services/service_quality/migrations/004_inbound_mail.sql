-- Mail taken from the office mailbox over IMAP, one row per message, written in the transaction
-- that files its complaint (or sets it aside): a poll after a crash between that commit and the
-- move out of the inbox finds the row and only moves the message, so nothing is filed twice.
-- A set-aside row is the dead letter: what was wrong, with the message left in the set-aside
-- folder for the office to read.
CREATE TABLE inbound_mail (
    id           bigserial PRIMARY KEY,
    mailbox      text        NOT NULL,  -- user@host/folder, no password
    uidvalidity  bigint      NOT NULL,
    uid          bigint      NOT NULL,
    message_id   text,
    size         integer     NOT NULL,
    outcome      text        NOT NULL CHECK (outcome IN ('filed', 'duplicate', 'set_aside')),
    tickets      text[]      NOT NULL DEFAULT '{}',
    error        text,
    taken_at     timestamptz NOT NULL,
    UNIQUE (mailbox, uidvalidity, uid)
);
-- The same message seen again under another UID (UIDVALIDITY reset, a copy back to the inbox).
CREATE INDEX inbound_mail_message_id ON inbound_mail (message_id) WHERE outcome = 'filed';
