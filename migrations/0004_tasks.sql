-- Every task the poller has seen, with its whole lifecycle: what costs are computed from, so a
-- task is kept after it stopped (and after its app was deleted). Times are the best ECS gave;
-- a task that vanished from ECS before its stop was seen is closed at when it was last seen.
CREATE TABLE tasks (
    arn             TEXT    NOT NULL PRIMARY KEY,
    app_id          INTEGER NOT NULL REFERENCES apps (id),
    task_definition TEXT    NOT NULL,
    revision        INTEGER,
    cpu             INTEGER NOT NULL,
    memory          INTEGER NOT NULL,
    architecture    TEXT    CHECK (architecture IN ('x86_64', 'arm64')),
    last_status     TEXT    NOT NULL,
    desired_status  TEXT    NOT NULL,
    health_status   TEXT    NOT NULL,
    created_at      TEXT,
    started_at      TEXT,
    stopping_at     TEXT,
    stopped_at      TEXT,
    stop_code       TEXT,
    stopped_reason  TEXT,
    first_seen_at   TEXT    NOT NULL,
    last_seen_at    TEXT    NOT NULL
);
CREATE INDEX tasks_app ON tasks (app_id, created_at);
-- The tasks not known to have stopped: the poller describes them every cycle.
CREATE INDEX tasks_live ON tasks (last_status) WHERE last_status <> 'STOPPED';
