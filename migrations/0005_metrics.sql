-- CPU and memory utilisation of each app's service, copied from CloudWatch by the metrics
-- worker so that charts and the Fleet table's sparklines never call AWS.

-- One datapoint per (app, metric, resolution, period start): the average utilisation in
-- percent over the period. 1-minute samples (resolution 60) are kept 15 days, as CloudWatch
-- keeps them; 1-hour rollups (resolution 3600), averaged from the minutes, are kept 90 days.
-- `at` is the period's start, RFC 3339 UTC on a whole minute, so text order is time order.
CREATE TABLE metric_samples (
    app_id          INTEGER NOT NULL REFERENCES apps (id),
    kind            TEXT    NOT NULL CHECK (kind IN ('cpu', 'memory')),
    resolution_secs INTEGER NOT NULL CHECK (resolution_secs IN (60, 3600)),
    at              TEXT    NOT NULL,
    percent         REAL    NOT NULL,
    PRIMARY KEY (app_id, kind, resolution_secs, at)
) WITHOUT ROWID;
-- Sparklines (the last hour of every app) and pruning read by time across apps.
CREATE INDEX metric_samples_at ON metric_samples (resolution_secs, at);

-- How far each app's samples have been fetched: every minute before `fetched_until` was
-- asked for and stored, so the next fetch starts there (never asking for a minute twice).
-- An app that did not run keeps its row unchanged; it has no samples to fetch.
CREATE TABLE metric_fetches (
    app_id        INTEGER NOT NULL PRIMARY KEY REFERENCES apps (id),
    fetched_until TEXT    NOT NULL
);
