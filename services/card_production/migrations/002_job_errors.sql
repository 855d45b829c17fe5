-- Failed tries of a job for reasons no device explains (bad card data, a bug); after
-- max_errors the job is escalated. Spoiled blanks are counted apart, in attempts.
ALTER TABLE jobs ADD COLUMN errors integer NOT NULL DEFAULT 0;
