-- Durable delivery: the alerts Hookline accepted, one delivery per alert and
-- connection, and every attempt of each. Times are Unix nanoseconds (UTC):
-- integers keep the indexes small and compare fast, and the queue is the
-- hot path. Nothing here is secret: payloads are templates, responses were
-- redacted before they reached the store. IDs are 16 hex digits that grow
-- with time (sqlite.idGen), so new rows append to every index keyed by them.

CREATE TABLE alerts (
    id              TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    source          TEXT NOT NULL,
    -- NULL when the sender gave none; the empty string is never stored.
    idempotency_key TEXT CHECK (idempotency_key <> ''),
    trigger_type    TEXT NOT NULL,
    received_at     INTEGER NOT NULL,
    -- The hookline.Alert's JSON wire form. Not checked with json_valid():
    -- that would parse up to 512 result rows again on every insert.
    body            TEXT NOT NULL
) STRICT;

-- The idempotency key is unique among the alerts that have one.
CREATE UNIQUE INDEX alerts_idempotency_key ON alerts (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- WITHOUT ROWID: the rows are small (the payload is empty unless a sender
-- overrode it) and always found by ID, so the table is the ID index itself,
-- one b-tree fewer to write per delivery.
CREATE TABLE deliveries (
    id              TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    alert_id        TEXT NOT NULL REFERENCES alerts (id),
    -- The delivery's place among its alert's, as the sender listed them.
    position        INTEGER NOT NULL,
    -- No foreign key: deleting a connection keeps its delivery log.
    connection_id   TEXT NOT NULL,
    trigger_type    TEXT NOT NULL,
    payload         TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER CHECK ((next_attempt_at IS NOT NULL) = (state = 'pending')),
    -- The process holding the delivery in memory; NULL when anyone may claim it.
    owner           TEXT CHECK (owner <> ''),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;

-- The work queue: pending deliveries in the order they fall due. Owner and
-- connection are in the index so that ClaimDue passes over held deliveries
-- and skipped connections without reading their rows.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id, owner, connection_id) WHERE state = 'pending';
-- The delivery log, newest first: all, per connection, per state (also the
-- queue's size and age), per alert (in the sender's order; it also serves
-- the foreign key).
CREATE INDEX deliveries_created ON deliveries (created_at, id);
CREATE INDEX deliveries_connection ON deliveries (connection_id, created_at, id);
CREATE INDEX deliveries_state ON deliveries (state, created_at, id);
CREATE UNIQUE INDEX deliveries_alert ON deliveries (alert_id, position);

CREATE TABLE attempts (
    delivery_id TEXT NOT NULL REFERENCES deliveries (id),
    n           INTEGER NOT NULL CHECK (n >= 1),
    started_at  INTEGER NOT NULL,
    latency_us  INTEGER NOT NULL,
    status_code INTEGER NOT NULL,
    error       TEXT NOT NULL,
    response    TEXT NOT NULL,
    retry_at    INTEGER, -- NULL when no retry was scheduled
    PRIMARY KEY (delivery_id, n)
) STRICT, WITHOUT ROWID;
