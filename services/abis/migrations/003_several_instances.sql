-- Several ABIS instances follow one gallery (docs/abis.md, "Several instances"): every write
-- to a reference (insert, re-insert, delete) gives its row the next `seq`, and a delete leaves
-- a tombstone (no ciphertext) instead of removing the row, so every instance reads each change
-- after the highest `seq` it holds. One row per reference: its latest change.
CREATE SEQUENCE gallery_seq;

-- The writing transaction takes its transaction id before its `seq`: a reader that sees a
-- later `seq` committed can then tell, from its snapshot, when this one has ended
-- (services/abis/rules.py: Position).
CREATE FUNCTION gallery_next_seq() RETURNS bigint LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM pg_current_xact_id();
    RETURN nextval('gallery_seq');
END
$$;

ALTER TABLE gallery
    ADD COLUMN seq bigint NOT NULL DEFAULT gallery_next_seq(),
    ALTER COLUMN nonce DROP NOT NULL,
    ALTER COLUMN ciphertext DROP NOT NULL,
    ADD CONSTRAINT gallery_tombstone CHECK ((nonce IS NULL) = (ciphertext IS NULL));
ALTER SEQUENCE gallery_seq OWNED BY gallery.seq;
CREATE UNIQUE INDEX gallery_by_seq ON gallery (seq);

-- A batch job is taken by one instance for a while (renewed after every page): another
-- instance takes it over only if that one stopped before answering.
ALTER TABLE batch_jobs ADD COLUMN taken_until timestamptz;
