-- Monitors and scheduled searches: each a definition, edited by people,
-- and the bookkeeping of its runs, written by the scheduler at every run.
-- Two tables each, so that a run does not rewrite a definition whose
-- payloads can be large, nor an edit the state.
--
-- Definitions keep the conventions of 0001 (timestamptz, COLLATE "C"
-- keys). Their lists (triggers, notifications, group fields) are json,
-- not jsonb: the store's own encoding (postgres/monitor.go), read whole,
-- and json keeps what it is given, where jsonb refuses a "\u0000" that a
-- payload override may hold. Durations are whole seconds (the model
-- allows whole minutes only).
--
-- The bookkeeping's times are Unix nanoseconds in bigint, like the
-- delivery queue's (0003): they are the scheduler's times, compared on
-- every poll and handed back to the nanosecond.
--
-- Claims lease a row to one owner until lease_expires_at, or until it
-- saves; both NULL when no one holds it. An expired lease keeps its owner,
-- who may still save as long as no one else claimed. next_* is NULL while
-- the definition is disabled, so that disabled ones are not in the _due
-- index at all; the definition's disabled is the truth, and the store
-- keeps the two in step in the same transactions.

CREATE TABLE monitors (
    id            text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    name          text NOT NULL CHECK (name <> ''),
    name_key      text COLLATE "C" NOT NULL,
    description   text NOT NULL DEFAULT '',
    query         text NOT NULL CHECK (query <> ''),
    interval_s    bigint NOT NULL CHECK (interval_s > 0),
    window_s      bigint NOT NULL CHECK (window_s >= interval_s),
    triggers      json NOT NULL CHECK (json_typeof(triggers) = 'array'),
    notifications json NOT NULL DEFAULT '[]' CHECK (json_typeof(notifications) = 'array'),
    group_fields  json NOT NULL DEFAULT '[]' CHECK (json_typeof(group_fields) = 'array'),
    muted         boolean NOT NULL DEFAULT false,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    created_by    text NOT NULL DEFAULT '',
    modified_at   timestamptz NOT NULL,
    modified_by   text NOT NULL DEFAULT ''
);

CREATE UNIQUE INDEX monitors_name_key ON monitors (name_key);

-- state is the JSON of monitor.State as the scheduler gave it, kept byte
-- for byte (text, not json: the contract hands it back unchanged), and
-- window_end the end of the window it was evaluated over; both NULL before
-- the first evaluation.
CREATE TABLE monitor_states (
    monitor_id       text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES monitors (id) ON DELETE CASCADE,
    next_eval_at     bigint,
    lease_owner      text CHECK (lease_owner <> ''),
    lease_expires_at bigint CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL)),
    window_end       bigint,
    state            text
);

CREATE INDEX monitor_states_due ON monitor_states (next_eval_at, monitor_id) WHERE next_eval_at IS NOT NULL;

CREATE TABLE scheduled_searches (
    id                  text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    name                text NOT NULL CHECK (name <> ''),
    name_key            text COLLATE "C" NOT NULL,
    description         text NOT NULL DEFAULT '',
    query               text NOT NULL CHECK (query <> ''),
    schedule_type       text NOT NULL CHECK (schedule_type <> ''),
    -- Filled in for the fixed schedule types too (Normalize), so that a
    -- row says when it runs without the code's table of types.
    cron_expression     text NOT NULL CHECK (cron_expression <> ''),
    time_zone           text NOT NULL CHECK (time_zone <> ''),
    time_range_s        bigint NOT NULL CHECK (time_range_s > 0),
    -- Both NULL when the search notifies every time it completes.
    threshold_operator  text CHECK (threshold_operator <> ''),
    threshold_count     bigint CHECK ((threshold_operator IS NULL) = (threshold_count IS NULL) AND threshold_count >= 0),
    -- No foreign key: deleting a connection must not be refused, or delete
    -- the searches that name it. Whoever runs the search finds it gone.
    connection_id       text COLLATE "C" NOT NULL CHECK (connection_id <> ''),
    payload             text NOT NULL DEFAULT '',
    itemize_alerts      boolean NOT NULL DEFAULT false,
    max_itemized_alerts bigint NOT NULL DEFAULT 0 CHECK (max_itemized_alerts >= 0 AND (itemize_alerts OR max_itemized_alerts = 0)),
    disabled            boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL,
    created_by          text NOT NULL DEFAULT '',
    modified_at         timestamptz NOT NULL,
    modified_by         text NOT NULL DEFAULT ''
);

CREATE UNIQUE INDEX scheduled_searches_name_key ON scheduled_searches (name_key);

-- last_* is the last run saved: last_scheduled_at is the schedule's time
-- it stood for, NULL before the first run (and then the rest are their
-- defaults).
CREATE TABLE scheduled_search_states (
    search_id         text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES scheduled_searches (id) ON DELETE CASCADE,
    next_run_at       bigint,
    lease_owner       text CHECK (lease_owner <> ''),
    lease_expires_at  bigint CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL)),
    last_scheduled_at bigint,
    last_results      bigint NOT NULL DEFAULT 0,
    last_alerts       bigint NOT NULL DEFAULT 0,
    last_error        text NOT NULL DEFAULT '',
    CHECK (last_scheduled_at IS NOT NULL OR (last_results = 0 AND last_alerts = 0 AND last_error = ''))
);

CREATE INDEX scheduled_search_states_due ON scheduled_search_states (next_run_at, search_id) WHERE next_run_at IS NOT NULL;
