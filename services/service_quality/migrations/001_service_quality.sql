-- Service quality stage: the pipeline's facts (for the monthly report), complaints with their
-- history and deadlines, outgoing e-mail, IKM survey links and responses, produced reports.

-- Every consumed event, as it was, so any past month's report can be rebuilt.
CREATE TABLE facts (
    message_id     uuid PRIMARY KEY,
    type           text        NOT NULL,
    kecamatan      text        NOT NULL,
    application_id text        NOT NULL,
    occurred_at    timestamptz NOT NULL,
    payload        jsonb       NOT NULL
);
CREATE INDEX facts_month ON facts (kecamatan, occurred_at);
CREATE INDEX facts_application ON facts (application_id);

CREATE SEQUENCE complaint_serial;

CREATE TABLE complaints (
    id              uuid PRIMARY KEY,
    ticket          text        NOT NULL UNIQUE,
    kecamatan       text        NOT NULL,
    channel         text        NOT NULL
        CHECK (channel IN ('suggestion_box', 'website', 'telephone', 'email')),
    category        text        NOT NULL,
    application_ref text,                      -- tracking number or application id, optional
    name            text,
    email           text,
    phone           text,
    subject         text        NOT NULL,
    body            text        NOT NULL,
    status          text        NOT NULL DEFAULT 'received'
        CHECK (status IN ('received', 'acknowledged', 'closed')),
    received_at     timestamptz NOT NULL,
    ack_due         timestamptz NOT NULL,
    follow_up_due   timestamptz NOT NULL,
    acknowledged_at timestamptz,
    closed_at       timestamptz,
    outcome         text,
    escalated_at    timestamptz                -- to the camat, once overdue
);
CREATE INDEX complaints_open ON complaints (kecamatan, status, follow_up_due);
CREATE INDEX complaints_month ON complaints (kecamatan, received_at);

CREATE TABLE complaint_history (
    id           bigserial PRIMARY KEY,
    complaint_id uuid        NOT NULL REFERENCES complaints (id),
    at           timestamptz NOT NULL,
    action       text        NOT NULL,
    actor        text        NOT NULL,
    note         text
);
CREATE INDEX complaint_history_of ON complaint_history (complaint_id, id);

-- Written in the transaction that decided to write it; a loop delivers it over SMTP.
CREATE TABLE outgoing_mail (
    id           bigserial PRIMARY KEY,
    complaint_id uuid REFERENCES complaints (id),
    sender       text        NOT NULL,
    recipient    text        NOT NULL,
    subject      text        NOT NULL,
    body         text        NOT NULL,
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts     integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error   text,
    sent_at      timestamptz
);
CREATE INDEX outgoing_mail_due ON outgoing_mail (next_attempt_at) WHERE status = 'pending';

CREATE TABLE survey_invitations (
    token          text PRIMARY KEY,
    application_id text        NOT NULL UNIQUE,  -- one invitation per handover
    kecamatan      text        NOT NULL,
    invited_at     timestamptz NOT NULL,
    answered_at    timestamptz
);

CREATE TABLE survey_responses (
    id           bigserial PRIMARY KEY,
    token        text        NOT NULL UNIQUE REFERENCES survey_invitations (token),
    kecamatan    text        NOT NULL,
    submitted_at timestamptz NOT NULL,
    age          integer     NOT NULL,
    sex          text        NOT NULL,
    education    text        NOT NULL,
    occupation   text        NOT NULL,
    scores       integer[]   NOT NULL CHECK (cardinality(scores) = 9),
    suggestion   text
);
CREATE INDEX survey_responses_month ON survey_responses (kecamatan, submitted_at);

-- Reports produced on the first working day of a month (kecamatan '' = the district).
CREATE TABLE monthly_reports (
    month       date        NOT NULL,
    kecamatan   text        NOT NULL,
    produced_at timestamptz NOT NULL,
    pdf         bytea       NOT NULL,
    csv         text        NOT NULL,
    PRIMARY KEY (month, kecamatan)
);
