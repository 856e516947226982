-- Access control: users, roles, access keys, browser sessions and the audit
-- log. Times are RFC 3339 text (UTC, nine-digit fraction) like connections':
-- these tables are small and off the hot path, and readable times help
-- whoever opens the file. Nothing here is a secret in the clear: passwords
-- and access keys are argon2id hashes, session tokens SHA-256 hashes.

CREATE TABLE users (
    id            TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    email         TEXT NOT NULL CHECK (email <> ''),
    -- email_key is the email lower-cased by the server (Unicode-aware, as
    -- connections' name_key): the unique key and the listing order.
    email_key     TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    -- '' for a user who signs in with access keys only.
    password_hash TEXT NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT NOT NULL,
    modified_at   TEXT NOT NULL
) STRICT;

CREATE UNIQUE INDEX users_email_key ON users (email_key);

CREATE TABLE roles (
    id           TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    name         TEXT NOT NULL CHECK (name <> ''),
    name_key     TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    -- A JSON array of capability names. The store reads a built-in role's
    -- capabilities from the code instead, so that a capability added later
    -- is the Administrator's without a migration.
    capabilities TEXT NOT NULL DEFAULT '[]'
                 CHECK (json_valid(capabilities) AND json_type(capabilities) = 'array'),
    built_in     INTEGER NOT NULL DEFAULT 0 CHECK (built_in IN (0, 1)),
    created_at   TEXT NOT NULL,
    modified_at  TEXT NOT NULL
) STRICT;

CREATE UNIQUE INDEX roles_name_key ON roles (name_key);

-- A table rather than a JSON column on users, so that "is another enabled
-- administrator left?" is one indexed lookup (user_roles_role) inside the
-- write transaction, and deleting a role removes it from every user by
-- key. position keeps the order in which a user's roles were given.
CREATE TABLE user_roles (
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id  TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (user_id, role_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX user_roles_role ON user_roles (role_id, user_id);

-- The access ID is the key: the API looks keys up by it on every call.
CREATE TABLE access_keys (
    id           TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
    label        TEXT NOT NULL DEFAULT '',
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key_hash     TEXT NOT NULL CHECK (key_hash <> ''),
    created_at   TEXT NOT NULL,
    last_used_at TEXT -- NULL until first used
) STRICT;

-- Listing newest first, everyone's and one user's (which also counts a
-- user's keys against the limit and serves the foreign key).
CREATE INDEX access_keys_created ON access_keys (created_at, id);
CREATE INDEX access_keys_user ON access_keys (user_id, created_at, id);

CREATE TABLE sessions (
    token_hash TEXT NOT NULL PRIMARY KEY CHECK (token_hash <> ''),
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_user ON sessions (user_id, expires_at);

-- The audit log. IDs grow with time (sqlite.idGen), so the primary key is
-- also the newest-first order. A rowid table, not WITHOUT ROWID: before and
-- after can hold a connection's payload templates, too large to keep well
-- inside an index b-tree. The actor is in columns so that it can be
-- filtered on; before and after are the audit views' JSON, NULL for a
-- creation's before and a deletion's after.
CREATE TABLE audit_events (
    id              TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    at              TEXT NOT NULL,
    actor_kind      TEXT NOT NULL,
    actor_id        TEXT NOT NULL DEFAULT '',
    actor_name      TEXT NOT NULL DEFAULT '',
    actor_access_id TEXT NOT NULL DEFAULT '',
    action          TEXT NOT NULL,
    target_type     TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    target_name     TEXT NOT NULL DEFAULT '',
    before          TEXT CHECK (json_valid(before)),
    after           TEXT CHECK (json_valid(after))
) STRICT;

CREATE INDEX audit_events_target ON audit_events (target_type, target_id, id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);

-- The built-in Administrator (hookline.AdministratorRoleID). Its
-- capabilities column is informative only; see roles above.
INSERT INTO roles (id, name, name_key, description, capabilities, built_in, created_at, modified_at)
VALUES ('0000000000000001', 'Administrator', 'administrator', 'Can do everything.',
        '["viewConnections","manageConnections","viewMonitors","manageMonitors","viewAlerts","sendAlerts","manageUsersAndRoles","viewAuditLog"]',
        1, strftime('%Y-%m-%dT%H:%M:%S.000000000Z', 'now'), strftime('%Y-%m-%dT%H:%M:%S.000000000Z', 'now'));

-- The admin token that earlier versions generated and stored: users and
-- access keys replace it, and HOOKLINE_ADMIN_TOKEN, when given, is not stored.
DELETE FROM settings WHERE key = 'admin_token_sha256';
