-- Log ingest: HTTP sources and the log records they receive.

-- A source's token is kept as its SHA-256 only (hookline.SourceTokenHash);
-- the receiver finds the source by it on every request, hence the unique
-- index. received and last_received_at are counters the ingest path bumps
-- once a batch; they are not configuration and are not audited.
CREATE TABLE sources (
    id               text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    name             text NOT NULL CHECK (name <> ''),
    name_key         text COLLATE "C" NOT NULL,
    description      text NOT NULL DEFAULT '',
    category         text NOT NULL DEFAULT '',
    host_name        text NOT NULL DEFAULT '',
    token_hash       text NOT NULL CHECK (length(token_hash) = 64),
    received         bigint NOT NULL DEFAULT 0 CHECK (received >= 0),
    last_received_at timestamptz, -- NULL until the first batch
    created_at       timestamptz NOT NULL,
    modified_at      timestamptz NOT NULL
);

CREATE UNIQUE INDEX sources_name_key ON sources (name_key);
CREATE UNIQUE INDEX sources_token_hash ON sources (token_hash);

-- The records, built for appending and for scanning a time range:
--
--   - id comes from a sequence, so it grows with arrival (within a call
--     strictly; calls committing at once may interleave), and among
--     records of one time the newest arrival comes first in a scan.
--   - time and received_at are bigint nanoseconds since 1970 (UTC): a
--     record's time is the sender's, kept to the nanosecond.
--   - logs_time is the one index: a scan walks it backwards from its upper
--     bound, and pruning deletes from its left edge.
--   - No foreign key to sources: deleting a source leaves its records
--     until retention removes them, and an insert checks nothing per row.
CREATE TABLE logs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time        bigint NOT NULL,
    received_at bigint NOT NULL,
    source_id   text COLLATE "C" NOT NULL,
    -- COLLATE "C": in it lower() folds ASCII letters only, which is what
    -- hookline.MatchCategory, and so a scan's category filter, compares.
    category    text COLLATE "C" NOT NULL DEFAULT '',
    host        text NOT NULL DEFAULT '',
    name        text NOT NULL DEFAULT '',
    message     text NOT NULL
);

CREATE INDEX logs_time ON logs (time, id);
