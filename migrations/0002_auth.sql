-- Sign-in, API tokens and the audit log.

-- Every change made through the console, one row each, written in the same transaction as
-- the change it describes (for changes in the cloud: right after the cloud accepted it).
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT    NOT NULL,              -- RFC 3339, UTC
    -- Who: a user's email, `token:<name>` for an API token, `cli` for the command line,
    -- `console` for the console's own workers; for a failed sign-in, the email tried.
    actor       TEXT    NOT NULL,
    source      TEXT,                          -- the client's address, when there was one
    action      TEXT    NOT NULL,              -- dotted, e.g. `user.invite`, `auth.sign_in`
    target      TEXT    NOT NULL DEFAULT '',   -- what the action was about
    before_json TEXT,                          -- the state before (JSON), when there was one
    after_json  TEXT                           -- the state after (JSON), when there is one
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, at);
CREATE INDEX audit_log_action ON audit_log (action, at);

-- Named tokens for automation (`Authorization: Bearer …`). Only the SHA-256 of a token is
-- kept; the token itself is shown once, when it is created.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    role         TEXT    NOT NULL CHECK (role IN ('admin', 'viewer')),
    token_hash   TEXT    NOT NULL UNIQUE,      -- lowercase hex SHA-256 of the token
    created_by   TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
-- A name is reused only once the token that had it was revoked.
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- Sessions of a user that began before `revoked_at` are no longer honoured: set when an
-- admin disables or deletes the user or changes their groups, so a change of access takes
-- effect at the next request rather than at the next sign-in.
CREATE TABLE user_revocations (
    username   TEXT NOT NULL PRIMARY KEY,
    revoked_at TEXT NOT NULL
);

-- Admins added with `shinyfleet admin invite` while the console runs on the sandbox, whose
-- directory lives in memory: they are invited again at every start.
CREATE TABLE sandbox_admins (
    email    TEXT NOT NULL PRIMARY KEY,
    added_at TEXT NOT NULL
);
