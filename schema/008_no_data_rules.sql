-- 008: no-data rules (docs/ALERTING.md §4). A rule with condition `no_data` fires when a series
-- (`metric` set) or a whole device (`metric` '*') of the devices in its scope has received no
-- reading for `silent_minutes`; it has no threshold. The episode timer decides them
-- (evaluator/alerts/no_data_sweep.cpp) from series_activity and devices.last_seen_at.

ALTER TABLE alert_rules
    DROP CONSTRAINT alert_rules_condition_check,
    DROP CONSTRAINT alert_rules_metric_check,
    ALTER COLUMN threshold DROP NOT NULL,
    ADD COLUMN silent_minutes integer CHECK (silent_minutes BETWEEN 1 AND 10080),
    ADD CONSTRAINT alert_rules_condition_check CHECK
        (condition IN ('above_threshold', 'below_threshold', 'deviation_from_mean', 'no_data')),
    ADD CONSTRAINT alert_rules_metric_check CHECK
        (metric ~ '^[A-Za-z0-9_.:-]{1,128}$' OR (metric = '*' AND condition = 'no_data')),
    -- A no-data rule has silent_minutes and no threshold; every other rule the reverse.
    ADD CONSTRAINT alert_rules_no_data_fields CHECK
        ((condition = 'no_data') = (silent_minutes IS NOT NULL)
         AND (condition = 'no_data') = (threshold IS NULL));

-- The timer's timing for all evaluator instances together: how long no-data has been watched
-- without a break. An instance that runs the timer sets running_since to now when the previous
-- run (by any instance) is older than the allowed gap, so after an outage of every evaluator no
-- no-data episode fires until the timer has run for the rule's silent_minutes again (the
-- start-up guard), while restarting one of several instances changes nothing.
CREATE TABLE nodata_timer (
    id            integer PRIMARY KEY CHECK (id = 1),
    running_since timestamptz NOT NULL,
    last_run_at   timestamptz NOT NULL
);
