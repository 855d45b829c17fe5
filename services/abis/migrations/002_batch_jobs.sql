-- Batch inserts (insert_batch): taken from Kafka into this table and answered by a background
-- worker when the whole batch is in the gallery, so a long batch holds no consume transaction.
CREATE TABLE batch_jobs (
    request_id  text        PRIMARY KEY,
    request     jsonb       NOT NULL,  -- the abis.requested envelope, answered when done
    received_at timestamptz NOT NULL DEFAULT now(),
    done_at     timestamptz
);
CREATE INDEX batch_jobs_pending ON batch_jobs (received_at) WHERE done_at IS NULL;
