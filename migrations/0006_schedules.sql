-- Schedules: office hours for each app's service, temporary overrides, what the scheduler
-- did, and the lease that keeps two consoles on one database from both acting.

-- One schedule per app, stored as the document the admin saved (JSON, the API's shape), so
-- a schedule without its own "on" count keeps following the app's desired count.
CREATE TABLE schedules (
    app_id      INTEGER NOT NULL PRIMARY KEY REFERENCES apps (id),
    doc_json    TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    updated_by  TEXT    NOT NULL,
    -- The next instant the scheduler must act at (a transition, or the end of an override),
    -- as it last planned; NULL: nothing to do until the schedule changes. In "transitions"
    -- mode the scheduler acts only once this instant has passed, so a manual change made in
    -- between is respected; after an outage every missed transition collapses into one act.
    next_due_at TEXT
);

-- A temporary override: `desired` tasks until `until`, then the schedule resumes (or, with
-- no schedule, the count `restore` the service had when the override was set).
CREATE TABLE schedule_overrides (
    app_id     INTEGER NOT NULL PRIMARY KEY REFERENCES apps (id),
    desired    INTEGER NOT NULL CHECK (desired BETWEEN 0 AND 100),
    until      TEXT    NOT NULL,
    restore    INTEGER NOT NULL CHECK (restore BETWEEN 0 AND 100),
    set_by     TEXT    NOT NULL,
    set_at     TEXT    NOT NULL
);

-- Every action of the scheduler and every change of a schedule, per app, newest last.
CREATE TABLE schedule_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id     INTEGER NOT NULL REFERENCES apps (id),
    at         TEXT    NOT NULL,
    action     TEXT    NOT NULL CHECK (action IN
                   ('scale', 'catch_up', 'retry', 'override', 'override_ended', 'saved', 'deleted')),
    from_count INTEGER,
    to_count   INTEGER,
    outcome    TEXT    NOT NULL CHECK (outcome IN ('ok', 'failed')),
    detail     TEXT
);
CREATE INDEX schedule_history_app ON schedule_history (app_id, id);

-- The scheduler's lease: one row. A console acts only while it holds an unexpired lease;
-- it renews it well before it expires, and another console takes over once it has.
CREATE TABLE scheduler_lease (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    holder     TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
);
