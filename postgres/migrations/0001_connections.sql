-- Connections and server settings.
--
-- Conventions of every PostgreSQL migration here, written for PostgreSQL
-- rather than copied from SQLite's:
--
--   - Names are compared and ordered by a key the server lower-cases
--     (Go's strings.ToLower is Unicode-aware; the sort must not depend on
--     the database's locale), so key columns and IDs are COLLATE "C":
--     byte-wise UTF-8, which is code point order, on any cluster.
--   - Times the store sets itself are timestamptz. PostgreSQL keeps
--     microseconds, so the store's clock is truncated to microseconds
--     before a time is stored and handed back: what a caller is given is
--     what a later read returns.
--   - JSON documents the store reads whole are jsonb; their shape is
--     checked here as well as in the code.

CREATE TABLE connections (
    id                 text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    name               text NOT NULL CHECK (name <> ''),
    name_key           text COLLATE "C" NOT NULL,
    description        text NOT NULL DEFAULT '',
    webhook_type       text NOT NULL,
    url                text NOT NULL,
    custom_headers     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(custom_headers) = 'array'),
    default_payload    text NOT NULL,
    resolution_payload text NOT NULL DEFAULT '',
    settings           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    -- Field name → the keyring's sealed value (AES-256-GCM, additional data
    -- "connection/<id>/<field>"). The sealed form is the keyring's own
    -- text, which names the key that sealed it (keyring.KeyIDOf), so it is
    -- kept as it is rather than as bytea: the key check and the rotation
    -- read the key ID from it. The plaintext never reaches the database.
    secrets            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(secrets) = 'object'),
    created_at         timestamptz NOT NULL,
    created_by         text NOT NULL DEFAULT '',
    modified_at        timestamptz NOT NULL,
    modified_by        text NOT NULL DEFAULT ''
);

-- Names are unique ignoring case; the store maps a violation of this
-- index, by its name, to ECONFLICT on "name". Being unique, it is also the
-- whole listing order: paging walks it and sorts nothing.
CREATE UNIQUE INDEX connections_name_key ON connections (name_key);

-- Server settings, such as the keyring check (postgres/keycheck.go).
CREATE TABLE settings (
    key         text NOT NULL PRIMARY KEY,
    value       text NOT NULL,
    modified_at timestamptz NOT NULL
);
