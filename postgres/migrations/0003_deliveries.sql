-- Durable delivery: the alerts Hookline accepted, one delivery per alert and
-- connection, and every attempt of each. Nothing here is secret: payloads
-- are templates, responses were redacted before they reached the store.
-- IDs are 16 hex digits that grow with time (postgres.idGen), so new rows
-- append to every index keyed by them.
--
-- Times here are Unix nanoseconds in bigint, not timestamptz: the queue
-- compares the times the dispatcher computes (retry schedules, claim
-- deadlines) and hands back, to the nanosecond, as SQLite's does; a
-- timestamptz would cut them to microseconds, so a retry due a nanosecond
-- after a claim's deadline could be claimed early.

CREATE TABLE alerts (
    id              text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    source          text NOT NULL,
    -- NULL when the sender gave none; the empty string is never stored.
    idempotency_key text CHECK (idempotency_key <> ''),
    trigger_type    text NOT NULL,
    received_at     bigint NOT NULL,
    -- The hookline.Alert's JSON wire form, as text: the store hands it
    -- back byte for byte and never queries into it, so jsonb would only
    -- parse up to 512 result rows on every insert and rewrite them.
    body            text NOT NULL
);

-- Idempotency keys are unique per source: a key is the sender's name for an
-- alert, and two senders name their alerts independently.
CREATE UNIQUE INDEX alerts_source_idempotency_key ON alerts (source, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- The alerts list (DeliveryStore.Alerts): newest first by (received_at,
-- id), all of them, by source or by trigger type.
CREATE INDEX alerts_received ON alerts (received_at, id);
CREATE INDEX alerts_source_received ON alerts (source, received_at, id);
CREATE INDEX alerts_trigger_received ON alerts (trigger_type, received_at, id);

CREATE TABLE deliveries (
    id              text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    alert_id        text COLLATE "C" NOT NULL REFERENCES alerts (id),
    -- The delivery's place among its alert's, as the sender listed them.
    position        integer NOT NULL,
    -- No foreign key: deleting a connection keeps its delivery log.
    connection_id   text COLLATE "C" NOT NULL,
    trigger_type    text NOT NULL,
    payload         text NOT NULL DEFAULT '',
    state           text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'dead')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at bigint CHECK ((next_attempt_at IS NOT NULL) = (state = 'pending')),
    -- The process holding the delivery in memory; NULL when anyone may claim it.
    owner           text CHECK (owner <> ''),
    created_at      bigint NOT NULL,
    updated_at      bigint NOT NULL,
    last_status     integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT ''
);

-- The work queue: pending deliveries in the order they fall due.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE state = 'pending';
-- The delivery log, newest first: all, per connection, per state (also the
-- queue's size and age, and the counts), per alert (in the sender's order;
-- it also serves the foreign key).
CREATE INDEX deliveries_created ON deliveries (created_at, id);
CREATE INDEX deliveries_connection ON deliveries (connection_id, created_at, id);
CREATE INDEX deliveries_state ON deliveries (state, created_at, id);
CREATE UNIQUE INDEX deliveries_alert ON deliveries (alert_id, position);

CREATE TABLE attempts (
    delivery_id text COLLATE "C" NOT NULL REFERENCES deliveries (id),
    n           integer NOT NULL CHECK (n >= 1),
    started_at  bigint NOT NULL,
    latency_us  bigint NOT NULL,
    status_code integer NOT NULL,
    error       text NOT NULL,
    -- bytea: an excerpt of what the target answered, which need not be
    -- UTF-8 and may hold NUL, neither of which text accepts.
    response    bytea NOT NULL,
    retry_at    bigint, -- NULL when no retry was scheduled
    PRIMARY KEY (delivery_id, n)
);
