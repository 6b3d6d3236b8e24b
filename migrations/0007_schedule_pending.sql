-- A scheduler act between its request to ECS and the answer. Written before the request and
-- removed with the act's history row, so an act whose answer never came (lost on the way, a
-- timeout, the console killed) is not forgotten: the next pass resolves it from what ECS then
-- reports, and records it once, as done or as not done.
CREATE TABLE schedule_pending (
    app_id     INTEGER NOT NULL PRIMARY KEY REFERENCES apps (id),
    at         TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    from_count INTEGER,
    to_count   INTEGER NOT NULL
);
