-- The app registry: one row per Shiny app ShinyFleet manages. The slug names the ECS service
-- and the task-definition family. Deleted apps keep their row (deleted_at) so their history
-- and costs stay readable.
CREATE TABLE apps (
    id                  INTEGER PRIMARY KEY,
    slug                TEXT    NOT NULL UNIQUE CHECK (length(slug) BETWEEN 1 AND 63),
    name                TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    image               TEXT    NOT NULL,
    cpu                 INTEGER NOT NULL,
    memory              INTEGER NOT NULL,
    architecture        TEXT    NOT NULL DEFAULT 'x86_64' CHECK (architecture IN ('x86_64', 'arm64')),
    port                INTEGER NOT NULL DEFAULT 3838 CHECK (port BETWEEN 1 AND 65535),
    health_check_path   TEXT    NOT NULL DEFAULT '/',
    desired_count       INTEGER NOT NULL DEFAULT 1 CHECK (desired_count BETWEEN 0 AND 100),
    -- JSON objects: {"NAME": "value"}.
    env_json            TEXT    NOT NULL DEFAULT '{}',
    tags_json           TEXT    NOT NULL DEFAULT '{}',
    task_role_arn       TEXT,
    execution_role_arn  TEXT,
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    deleted_at          TEXT
);

-- The cached view of each app's ECS service, kept fresh by the background refresher so that
-- page views never call AWS. `fetched_at` is when the cloud last answered for this app;
-- `stale_since`/`last_error` say when and why refreshes started failing.
CREATE TABLE service_status (
    app_id          INTEGER PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
    status          TEXT    NOT NULL,
    desired_count   INTEGER NOT NULL,
    running_count   INTEGER NOT NULL,
    pending_count   INTEGER NOT NULL,
    task_definition TEXT,
    rollout_state   TEXT CHECK (rollout_state IN ('IN_PROGRESS', 'COMPLETED', 'FAILED')),
    rollout_reason  TEXT,
    fetched_at      TEXT    NOT NULL,
    stale_since     TEXT,
    last_error      TEXT
);
