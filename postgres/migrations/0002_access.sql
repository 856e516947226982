-- Access control: users, roles, access keys, browser sessions and the
-- audit log. Nothing here is a secret in the clear: passwords and access
-- keys are argon2id hashes, session tokens SHA-256 hashes.

CREATE TABLE users (
    id            text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    email         text NOT NULL CHECK (email <> ''),
    -- The email lower-cased by the server: the unique key and the listing
    -- order.
    email_key     text COLLATE "C" NOT NULL,
    name          text NOT NULL DEFAULT '',
    -- '' for a user who signs in with access keys only.
    password_hash text NOT NULL DEFAULT '',
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    modified_at   timestamptz NOT NULL
);

CREATE UNIQUE INDEX users_email_key ON users (email_key);

CREATE TABLE roles (
    id           text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    name         text NOT NULL CHECK (name <> ''),
    name_key     text COLLATE "C" NOT NULL,
    description  text NOT NULL DEFAULT '',
    -- Capability names. The store reads a built-in role's capabilities
    -- from the code instead, so that a capability added later is the
    -- Administrator's without a migration.
    capabilities text[] NOT NULL DEFAULT '{}',
    built_in     boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL,
    modified_at  timestamptz NOT NULL
);

CREATE UNIQUE INDEX roles_name_key ON roles (name_key);

-- A table rather than an array on users, so that "is another enabled
-- administrator left?" is one indexed lookup (user_roles_role), and
-- deleting a role removes it from every user by key. position keeps the
-- order in which a user's roles were given.
CREATE TABLE user_roles (
    user_id  text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id  text COLLATE "C" NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    position integer NOT NULL,
    PRIMARY KEY (user_id, role_id)
);

CREATE INDEX user_roles_role ON user_roles (role_id, user_id);

-- The access ID is the key: the API looks keys up by it on every call.
CREATE TABLE access_keys (
    id           text COLLATE "C" NOT NULL PRIMARY KEY CHECK (id <> ''),
    label        text NOT NULL DEFAULT '',
    user_id      text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key_hash     text NOT NULL CHECK (key_hash <> ''),
    created_at   timestamptz NOT NULL,
    -- Unix nanoseconds, NULL until first used. Not timestamptz: the time
    -- is the caller's (the request's), not the store's clock, and the
    -- AccessStore contract (storetest's TouchAccessKey) gives it back
    -- exactly, nanoseconds included.
    last_used_at bigint
);

-- Listing newest first, everyone's and one user's (which also counts a
-- user's keys against the limit and serves the foreign key).
CREATE INDEX access_keys_created ON access_keys (created_at, id);
CREATE INDEX access_keys_user ON access_keys (user_id, created_at, id);

CREATE TABLE sessions (
    token_hash text NOT NULL PRIMARY KEY CHECK (token_hash <> ''),
    user_id    text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id, expires_at);

-- The audit log. IDs grow with time (postgres.idGen), so the primary key
-- is also the newest-first order. The actor is in columns so that it can
-- be filtered on; before and after are the audit views, NULL for a
-- creation's before and a deletion's after.
CREATE TABLE audit_events (
    id              text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    at              timestamptz NOT NULL,
    actor_kind      text NOT NULL,
    actor_id        text COLLATE "C" NOT NULL DEFAULT '',
    actor_name      text NOT NULL DEFAULT '',
    actor_access_id text NOT NULL DEFAULT '',
    action          text NOT NULL,
    target_type     text NOT NULL,
    target_id       text COLLATE "C" NOT NULL,
    target_name     text NOT NULL DEFAULT '',
    before          jsonb,
    after           jsonb
);

CREATE INDEX audit_events_target ON audit_events (target_type, target_id, id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);

-- The built-in Administrator (hookline.AdministratorRoleID). Its
-- capabilities column is informative only; see roles above.
INSERT INTO roles (id, name, name_key, description, capabilities, built_in, created_at, modified_at)
VALUES ('0000000000000001', 'Administrator', 'administrator', 'Can do everything.',
        '{viewConnections,manageConnections,viewMonitors,manageMonitors,viewAlerts,sendAlerts,manageUsersAndRoles,viewAuditLog,manageCollectors}',
        true, date_trunc('microseconds', now()), date_trunc('microseconds', now()));
