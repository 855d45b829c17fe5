-- The test stage's state: one row per application of a message, no uniqueness, so a message
-- applied twice shows up as two rows instead of being hidden by a constraint.
CREATE TABLE applied (
    application_id text        NOT NULL,
    message_id     uuid        NOT NULL,
    n              integer     NOT NULL,
    pid            integer     NOT NULL,
    at             timestamptz NOT NULL DEFAULT now()
);
