-- Scheduled searches, and the indexes of the alerts list.
--
-- A scheduled search is a definition, edited by people, and the
-- bookkeeping of its runs, written by the scheduler at every run: two
-- tables, as monitors are (0006), so that a run does not rewrite a
-- definition whose payload can fill overflow pages.

-- The definition. Times are RFC 3339 text like monitors': few rows, off the
-- hot path, read by people who open the file. A search has no lists, so
-- every field is a column of its own. The time range is whole seconds (the
-- model allows whole minutes only). The checks hold the shape of a row;
-- hookline.ScheduledSearch.Validate holds the limits, which may move
-- without a migration.
CREATE TABLE scheduled_searches (
    id                  TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    name                TEXT NOT NULL CHECK (name <> ''),
    -- name_key is the name lower-cased by the server (Unicode-aware, as
    -- connections' and monitors'): the unique key and the listing order.
    name_key            TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    query               TEXT NOT NULL CHECK (query <> ''),
    schedule_type       TEXT NOT NULL CHECK (schedule_type <> ''),
    -- Filled in for the fixed schedule types too (Normalize), so that a
    -- row says when it runs without the code's table of types.
    cron_expression     TEXT NOT NULL CHECK (cron_expression <> ''),
    time_zone           TEXT NOT NULL CHECK (time_zone <> ''),
    time_range_s        INTEGER NOT NULL CHECK (time_range_s > 0),
    -- Both NULL when the search notifies every time it completes.
    threshold_operator  TEXT CHECK (threshold_operator <> ''),
    threshold_count     INTEGER CHECK ((threshold_operator IS NULL) = (threshold_count IS NULL) AND threshold_count >= 0),
    -- No foreign key: deleting a connection must not be refused, or delete
    -- the searches that name it. Whoever runs the search finds it gone.
    connection_id       TEXT NOT NULL CHECK (connection_id <> ''),
    payload             TEXT NOT NULL DEFAULT '',
    itemize_alerts      INTEGER NOT NULL DEFAULT 0 CHECK (itemize_alerts IN (0, 1)),
    max_itemized_alerts INTEGER NOT NULL DEFAULT 0 CHECK (max_itemized_alerts >= 0 AND (itemize_alerts = 1 OR max_itemized_alerts = 0)),
    disabled            INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at          TEXT NOT NULL,
    created_by          TEXT NOT NULL DEFAULT '',
    modified_at         TEXT NOT NULL,
    modified_by         TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE UNIQUE INDEX scheduled_searches_name_key ON scheduled_searches (name_key);

-- One row per search, made with it and deleted with it. Times are Unix
-- nanoseconds (UTC) like monitor_states': the claim compares them in an
-- index on every poll.
--
--   - next_run_at is the schedule's next time, when the search is next
--     due; NULL while it is disabled, so that disabled searches are not in
--     scheduled_search_states_due at all. scheduled_searches.disabled is
--     the truth; the store keeps the two in step in the same transactions.
--     The store does not read cron expressions: the scheduler gives it the
--     next time.
--   - lease_owner holds the search until lease_expires_at, or until it
--     saves a run; both NULL when no one holds it. An expired lease keeps
--     its owner, who may still save as long as no one else claimed.
--   - last_* is the last run saved: last_scheduled_at is the schedule's
--     time it stood for, NULL before the first run (and then the rest are
--     their defaults).
CREATE TABLE scheduled_search_states (
    search_id         TEXT NOT NULL PRIMARY KEY REFERENCES scheduled_searches (id) ON DELETE CASCADE,
    next_run_at       INTEGER,
    lease_owner       TEXT CHECK (lease_owner <> ''),
    lease_expires_at  INTEGER CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL)),
    last_scheduled_at INTEGER,
    last_results      INTEGER NOT NULL DEFAULT 0,
    last_alerts       INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT NOT NULL DEFAULT '',
    CHECK (last_scheduled_at IS NOT NULL OR (last_results = 0 AND last_alerts = 0 AND last_error = ''))
) STRICT;

-- The schedule: enabled searches in the order they fall due, the lease's
-- expiry in the index so that a claim passes over held searches without
-- reading their rows.
CREATE INDEX scheduled_search_states_due ON scheduled_search_states (next_run_at, search_id, lease_expires_at)
    WHERE next_run_at IS NOT NULL;

-- The alerts list (DeliveryStore.Alerts): newest first by (received_at,
-- id), all of them or one source's ("monitor:ID", "search:ID") or one
-- trigger type's. Each filter has an index that leads with it and
-- continues with the order, so that a page is read in order and stops at
-- its limit instead of sorting every matching alert. Three more indexes to
-- write per accepted alert; received_at grows with time, so each insert
-- appends near the end of each (within one source or trigger type) rather
-- than dirtying a random page.
CREATE INDEX alerts_received ON alerts (received_at, id);
CREATE INDEX alerts_source_received ON alerts (source, received_at, id);
CREATE INDEX alerts_trigger_received ON alerts (trigger_type, received_at, id);
