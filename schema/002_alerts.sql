-- 002: alert rules, alerts and the delivery outbox.

CREATE TABLE alert_rules (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    metric           text NOT NULL CHECK (metric ~ '^[A-Za-z0-9_.:-]{1,128}$'),
    device_key       text CHECK (device_key ~ '^[A-Za-z0-9_-]{1,128}$'),  -- NULL = every device
    condition        text NOT NULL CHECK (condition IN ('above_threshold', 'below_threshold', 'deviation_from_mean')),
    threshold        double precision NOT NULL,
    window_minutes   integer NOT NULL DEFAULT 60 CHECK (window_minutes BETWEEN 1 AND 1440),
    cooldown_minutes integer NOT NULL DEFAULT 15 CHECK (cooldown_minutes BETWEEN 0 AND 10080),
    severity         text NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
    enabled          boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_rules_tenant_metric ON alert_rules (tenant_id, metric);

-- Any change to the rules (API or plain SQL) wakes every evaluator's rule cache.
CREATE FUNCTION ste_notify_rules_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ste_rules_changed', '');
    RETURN NULL;
END $$;
CREATE TRIGGER alert_rules_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON alert_rules
    FOR EACH STATEMENT EXECUTE FUNCTION ste_notify_rules_changed();

-- Alerts outlive their rule (history is kept when a rule is deleted), so rule_id has no FK.
-- (rule_id, device_id, reading_ts) is unique: re-evaluating a redelivered summary can never
-- raise the same alert twice, whatever the cooldown.
CREATE TABLE alerts (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    rule_id     uuid NOT NULL,
    device_id   bigint NOT NULL,
    device_key  text NOT NULL,
    metric      text NOT NULL,
    condition   text NOT NULL,
    threshold   double precision NOT NULL,
    value       double precision NOT NULL,
    reading_ts  timestamptz NOT NULL,
    mean        double precision,
    stddev      double precision,
    severity    text NOT NULL,
    message     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (rule_id, device_id, reading_ts)
);
CREATE INDEX alerts_cooldown ON alerts (rule_id, device_id, created_at);
CREATE INDEX alerts_tenant_created ON alerts (tenant_id, created_at DESC, id DESC);

-- The delivery outbox: one row per alert and configured target, written in the alert's
-- transaction and drained by the delivery worker.
CREATE TABLE deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    alert_id        uuid NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    target          text NOT NULL CHECK (target IN ('notification_hub', 'workflow_engine')),
    url             text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    last_status     integer,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (alert_id, target)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
