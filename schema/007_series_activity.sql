-- 007: when each series last received a reading, and the tenant's offline threshold
-- (docs/ALERTING.md §4). "Received" is the server's clock when the ingester wrote the batch, not
-- the device timestamp: a late batch of old readings is activity, and device clock skew cannot
-- make a series look silent.
--
-- The ingester upserts a row in the batch's write statement only when the stored time is older
-- than the activity granularity (15 s, ingester/batch_writer.cpp), so a series sending every
-- second costs one row update per 15 s, not one per batch. devices.last_seen_at is the device's
-- last received time at the same granularity. No foreign key, like readings and readings_1m:
-- the hot path checks nothing it does not have to.

CREATE TABLE series_activity (
    tenant_id        bigint NOT NULL,
    device_id        bigint NOT NULL,
    metric           text NOT NULL,
    last_received_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, device_id, metric)
);

-- A device silent for longer than this is `offline` in GET /api/devices and the alert summary.
ALTER TABLE tenants
    ADD COLUMN device_offline_minutes integer NOT NULL DEFAULT 10
        CHECK (device_offline_minutes BETWEEN 1 AND 10080);
