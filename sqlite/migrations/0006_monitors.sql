-- Monitors: a definition, edited by people, and the bookkeeping of its
-- evaluations, written by the scheduler once per interval. They are two
-- tables because they are written at different rates: an evaluation
-- rewrites its row, and a definition can hold 50 payload overrides of up to
-- 68 KiB each in overflow pages that an evaluation must not rewrite; the
-- state, up to 1000 active alerts, is as large the other way round.

-- The definition. Times are RFC 3339 text like connections': these rows
-- are small in number, off the hot path and read by people who open the
-- file. Interval and window are whole seconds (the model allows whole
-- minutes only). Triggers, notifications and group fields are JSON arrays
-- in the store's own encoding (sqlite/monitor.go), not the API's.
CREATE TABLE monitors (
    id            TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    name          TEXT NOT NULL CHECK (name <> ''),
    -- name_key is the name lower-cased by the server (Unicode-aware, as
    -- connections'): the unique key and the listing order.
    name_key      TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    query         TEXT NOT NULL CHECK (query <> ''),
    interval_s    INTEGER NOT NULL CHECK (interval_s > 0),
    window_s      INTEGER NOT NULL CHECK (window_s >= interval_s),
    triggers      TEXT NOT NULL CHECK (json_valid(triggers) AND json_type(triggers) = 'array'),
    notifications TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(notifications) AND json_type(notifications) = 'array'),
    group_fields  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(group_fields) AND json_type(group_fields) = 'array'),
    muted         INTEGER NOT NULL DEFAULT 0 CHECK (muted IN (0, 1)),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL DEFAULT '',
    modified_at   TEXT NOT NULL,
    modified_by   TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE UNIQUE INDEX monitors_name_key ON monitors (name_key);

-- One row per monitor, made with it and deleted with it. Times are Unix
-- nanoseconds (UTC) like the delivery queue's: the claim compares them in
-- an index on every poll of every replica.
--
--   - next_eval_at is when the monitor is next due; NULL while it is
--     disabled, so that disabled monitors are not in monitor_states_due at
--     all and a claim never walks over them. monitors.disabled is the
--     truth; the store keeps the two in step in the same transactions.
--   - lease_owner holds the monitor until lease_expires_at, or until it
--     saves an evaluation; both NULL when no one holds it. An expired lease
--     keeps its owner, who may still save as long as no one else claimed.
--   - state is the JSON of monitor.State as the scheduler gave it, and
--     window_end the end of the window it was evaluated over; both NULL
--     before the first evaluation.
--
-- A rowid table, not WITHOUT ROWID: state can be hundreds of kilobytes.
CREATE TABLE monitor_states (
    monitor_id       TEXT NOT NULL PRIMARY KEY REFERENCES monitors (id) ON DELETE CASCADE,
    next_eval_at     INTEGER,
    lease_owner      TEXT CHECK (lease_owner <> ''),
    lease_expires_at INTEGER CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL)),
    window_end       INTEGER,
    state            TEXT CHECK (json_valid(state))
) STRICT;

-- The schedule: enabled monitors in the order they fall due, the lease's
-- expiry in the index so that a claim passes over held monitors without
-- reading their rows (and their state).
CREATE INDEX monitor_states_due ON monitor_states (next_eval_at, monitor_id, lease_expires_at)
    WHERE next_eval_at IS NOT NULL;
