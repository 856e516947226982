-- Connections: named notification targets. Secrets hold a JSON object of
-- name → keyring-sealed value; the plaintext never reaches this file.
CREATE TABLE connections (
    id                 TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    name               TEXT NOT NULL CHECK (name <> ''),
    -- name_key is the name lower-cased by the server (Unicode-aware, which
    -- SQLite's lower() and NOCASE are not): the unique key and the sort key.
    name_key           TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    webhook_type       TEXT NOT NULL,
    url                TEXT NOT NULL,
    custom_headers     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(custom_headers)),
    default_payload    TEXT NOT NULL,
    resolution_payload TEXT NOT NULL DEFAULT '',
    settings           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
    secrets            TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(secrets)),
    created_at         TEXT NOT NULL, -- RFC 3339, UTC, nanoseconds
    created_by         TEXT NOT NULL DEFAULT '',
    modified_at        TEXT NOT NULL,
    modified_by        TEXT NOT NULL DEFAULT ''
) STRICT;

-- Names are unique case-insensitively. Being unique and NOT NULL, the index
-- also serves the listing order (name_key, id) without a sort.
CREATE UNIQUE INDEX connections_name_key ON connections (name_key);

-- Server settings, such as the admin token's hash.
CREATE TABLE settings (
    key         TEXT NOT NULL PRIMARY KEY,
    value       TEXT NOT NULL,
    modified_at TEXT NOT NULL
) STRICT;
