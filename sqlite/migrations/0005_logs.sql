-- Log ingest: HTTP sources and the log records they receive.

-- A source's token is kept as its SHA-256 only (hookline.SourceTokenHash);
-- the receiver finds the source by it on every request, hence the index.
-- received and last_received_at are counters the ingest path bumps once a
-- batch; they are not configuration and are not audited. Times are RFC 3339
-- text as in the other small tables.
CREATE TABLE sources (
    id               TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    name             TEXT NOT NULL CHECK (name <> ''),
    name_key         TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    category         TEXT NOT NULL DEFAULT '',
    host_name        TEXT NOT NULL DEFAULT '',
    token_hash       TEXT NOT NULL CHECK (length(token_hash) = 64),
    received         INTEGER NOT NULL DEFAULT 0 CHECK (received >= 0),
    last_received_at TEXT, -- NULL until the first batch
    created_at       TEXT NOT NULL,
    modified_at      TEXT NOT NULL
) STRICT;

CREATE UNIQUE INDEX sources_name_key ON sources (name_key);
CREATE UNIQUE INDEX sources_token_hash ON sources (token_hash);

-- The records. Built for appending and for scanning a time range:
--
--   - id is the rowid (INTEGER PRIMARY KEY, no AUTOINCREMENT), so a new
--     record goes at the right edge of the table's b-tree: rowid order is
--     arrival order, and appending dirties only the last pages.
--   - time and received_at are INTEGER nanoseconds since 1970 (UTC): eight
--     bytes or fewer instead of 30 of text, compared as numbers.
--   - logs_time is the one index. Records mostly arrive in time order, so
--     it too grows at its right edge; a scan newest first walks it backwards
--     (its entries end with the rowid, which orders equal times by
--     arrival), and pruning deletes from its left edge, where the oldest
--     rows also sit in the table.
--   - No foreign key to sources: deleting a source leaves its records until
--     retention removes them, and an insert checks nothing per row.
--   - message is last, so that the metadata columns are read without
--     touching the overflow pages of a long message.
CREATE TABLE logs (
    id          INTEGER PRIMARY KEY,
    time        INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    source_id   TEXT NOT NULL,
    category    TEXT NOT NULL DEFAULT '',
    host        TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL DEFAULT '',
    message     TEXT NOT NULL
) STRICT;

CREATE INDEX logs_time ON logs (time);

-- The Administrator's row lists every capability for whoever reads the
-- file; the store takes its capabilities from the code.
UPDATE roles SET capabilities = '["viewConnections","manageConnections","viewMonitors","manageMonitors","viewAlerts","sendAlerts","manageUsersAndRoles","viewAuditLog","manageCollectors"]'
WHERE id = '0000000000000001';
