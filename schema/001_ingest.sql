-- 001: tenants, devices, raw readings (range-partitioned by time) and the per-minute rollup.
-- Every table carries tenant_id in its keys so the data can later be distributed by tenant.

CREATE TABLE tenants (
    id           bigserial PRIMARY KEY,
    slug         text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{1,63}$'),
    name         text NOT NULL,
    api_key_hash bytea NOT NULL UNIQUE,          -- SHA-256 of the key; the key itself is never stored
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE devices (
    id           bigserial PRIMARY KEY,
    tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    device_key   text NOT NULL CHECK (device_key ~ '^[A-Za-z0-9_-]{1,128}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz,
    UNIQUE (tenant_id, device_key)
);

-- The primary key is the uniqueness key of the ingest contract, (tenant, device, metric, ts):
-- INSERT ... ON CONFLICT DO NOTHING makes redelivered messages harmless (first write wins).
-- Partitions (one per UTC day, readings_pYYYYMMDD) are created ahead and dropped after the
-- retention period by ste-ingester; see ingester/partition_keeper.cpp.
CREATE TABLE readings (
    tenant_id bigint NOT NULL,
    device_id bigint NOT NULL,
    metric    text NOT NULL,
    time      timestamptz NOT NULL,
    value     double precision NOT NULL,
    unit      text,
    PRIMARY KEY (tenant_id, device_id, metric, time)
) PARTITION BY RANGE (time);

-- Exact per-minute aggregates, folded from the rows each batch actually inserted.
CREATE TABLE readings_1m (
    tenant_id bigint NOT NULL,
    device_id bigint NOT NULL,
    metric    text NOT NULL,
    bucket    timestamptz NOT NULL,
    n         bigint NOT NULL,
    sum       double precision NOT NULL,
    sumsq     double precision NOT NULL,
    min       double precision NOT NULL,
    max       double precision NOT NULL,
    PRIMARY KEY (tenant_id, device_id, metric, bucket)
);
