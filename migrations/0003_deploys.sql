-- App definitions in full, and deploys.

-- The apps table is rebuilt so that a slug is unique among live apps only: a deleted app
-- keeps its row (and its deploy history) while a new app may take its slug. Dropping the old
-- table empties service_status (a cache the refresher fills again).
CREATE TABLE apps_new (
    id                  INTEGER PRIMARY KEY,
    slug                TEXT    NOT NULL CHECK (length(slug) BETWEEN 1 AND 63),
    name                TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    image               TEXT    NOT NULL,
    cpu                 INTEGER NOT NULL,
    memory              INTEGER NOT NULL,
    architecture        TEXT    NOT NULL DEFAULT 'x86_64' CHECK (architecture IN ('x86_64', 'arm64')),
    port                INTEGER NOT NULL DEFAULT 3838 CHECK (port BETWEEN 1 AND 65535),
    health_check_path   TEXT    NOT NULL DEFAULT '/',
    -- An optional container health check: NULL (none), 'curl' or 'wget'.
    health_check_tool   TEXT    CHECK (health_check_tool IN ('curl', 'wget')),
    desired_count       INTEGER NOT NULL DEFAULT 1 CHECK (desired_count BETWEEN 0 AND 100),
    -- JSON arrays of [name, value] pairs, sorted by name.
    env_json            TEXT    NOT NULL DEFAULT '[]',
    tags_json           TEXT    NOT NULL DEFAULT '[]',
    task_role_arn       TEXT,
    execution_role_arn  TEXT,
    target_group_arn    TEXT,
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    deleted_at          TEXT
);
INSERT INTO apps_new (id, slug, name, image, cpu, memory, architecture, port, health_check_path, desired_count,
                      task_role_arn, execution_role_arn, created_at, updated_at, deleted_at)
SELECT id, slug, name, image, cpu, memory, architecture, port, health_check_path, desired_count,
       task_role_arn, execution_role_arn, created_at, updated_at, deleted_at
FROM apps;
DROP TABLE apps;
ALTER TABLE apps_new RENAME TO apps;
CREATE UNIQUE INDEX apps_live_slug ON apps (slug) WHERE deleted_at IS NULL;

-- The service's latest events, as JSON [{id, at, message}], newest first.
ALTER TABLE service_status ADD COLUMN events_json TEXT NOT NULL DEFAULT '[]';

-- One row per deploy (a rollback is a deploy of an earlier revision). A row is written
-- before the cloud is asked (state IN_PROGRESS, no task definition yet), which is what makes
-- two concurrent deploys of one app impossible: the partial unique index lets only one be
-- in progress. It is removed again when the cloud refuses to start it.
CREATE TABLE deploys (
    id                INTEGER PRIMARY KEY,
    app_id            INTEGER NOT NULL REFERENCES apps (id),
    kind              TEXT    NOT NULL CHECK (kind IN ('deploy', 'rollback')),
    -- The image as asked for (tag or digest) and, for ECR images, the digest it resolved to.
    image             TEXT    NOT NULL,
    digest            TEXT,
    -- The task-definition revision and ARN it rolls out, once registered.
    revision          INTEGER,
    task_definition   TEXT,
    -- The ECS deployment it started.
    deployment_id     TEXT,
    state             TEXT    NOT NULL CHECK (state IN ('IN_PROGRESS', 'COMPLETED', 'FAILED')),
    reason            TEXT,
    created_by        TEXT    NOT NULL,
    created_at        TEXT    NOT NULL,
    finished_at       TEXT,
    -- The client's Idempotency-Key (or the form's): a retried request returns this deploy.
    idempotency_key   TEXT,
    UNIQUE (app_id, idempotency_key)
);
CREATE UNIQUE INDEX deploys_one_in_progress ON deploys (app_id) WHERE state = 'IN_PROGRESS';
CREATE INDEX deploys_app ON deploys (app_id, id);
