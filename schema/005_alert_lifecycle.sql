-- 005: alert episodes (docs/ALERTING.md §1, §2, §6): an alert row is one episode of one rule on
-- one device, with a state, a timeline and one notification per transition; and tenant_id in the
-- keys of the alert, delivery and attempt tables (DESIGN §10), so the schema can be distributed
-- by tenant without another migration.

-- Rule fields of the lifecycle. clear_threshold NULL = the threshold itself.
ALTER TABLE alert_rules
    ADD COLUMN for_minutes       integer NOT NULL DEFAULT 0 CHECK (for_minutes BETWEEN 0 AND 10080),
    ADD COLUMN clear_threshold   double precision,
    ADD COLUMN clear_for_minutes integer NOT NULL DEFAULT 0 CHECK (clear_for_minutes BETWEEN 0 AND 10080),
    ADD COLUMN renotify_minutes  integer NOT NULL DEFAULT 0 CHECK (renotify_minutes BETWEEN 0 AND 10080);

-- Keys first: the foreign keys hang on alerts(id) and deliveries(id).
ALTER TABLE deliveries DROP CONSTRAINT deliveries_alert_id_fkey;
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_delivery_id_fkey;

-- Episodes. Alerts stored before this migration were one-shot events that nothing ever closed:
-- they become resolved episodes with resolve_reason 'migrated' (resolved when the schema was
-- upgraded), so no old alert shows as open or asks to be acknowledged, and every one of them
-- keeps its id, values, message and deliveries. Their cooldown carries over (alert_fingerprints).
ALTER TABLE alerts
    ADD COLUMN status           text NOT NULL DEFAULT 'pending'
                                CHECK (status IN ('pending', 'firing', 'resolved', 'cancelled')),
    ADD COLUMN started_at       timestamptz,   -- data time of the first crossing
    ADD COLUMN fired_at         timestamptz,   -- server time
    ADD COLUMN resolved_at      timestamptz,   -- server time (resolved or cancelled)
    ADD COLUMN resolve_reason   text CHECK (resolve_reason IN
                                ('cleared', 'manual', 'rule_changed', 'rule_deleted', 'rule_disabled', 'migrated')),
    ADD COLUMN last_value       double precision,
    ADD COLUMN last_reading_ts  timestamptz,
    ADD COLUMN peak_value       double precision,
    ADD COLUMN clear_since      timestamptz,   -- firing: data time since which readings clear
    ADD COLUMN acked_at         timestamptz,
    ADD COLUMN acked_by         text,
    ADD COLUMN ack_comment      text,
    ADD COLUMN flapping         boolean NOT NULL DEFAULT false,
    ADD COLUMN notified         boolean NOT NULL DEFAULT false,  -- its firing notification went out
    ADD COLUMN last_notified_at timestamptz,   -- the last firing or repeat notification
    ADD COLUMN version          integer NOT NULL DEFAULT 1,
    ADD COLUMN event_seq        integer NOT NULL DEFAULT 0,      -- the last timeline entry's seq
    ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now();

UPDATE alerts SET status = 'resolved', started_at = reading_ts, fired_at = created_at,
                  resolved_at = now(), resolve_reason = 'migrated', last_value = value,
                  last_reading_ts = reading_ts, peak_value = value, notified = true,
                  last_notified_at = created_at, event_seq = 2;

ALTER TABLE alerts
    ALTER COLUMN started_at SET NOT NULL,
    ALTER COLUMN last_value SET NOT NULL,
    ALTER COLUMN last_reading_ts SET NOT NULL,
    ALTER COLUMN peak_value SET NOT NULL,
    DROP CONSTRAINT alerts_pkey,
    ADD PRIMARY KEY (tenant_id, id),
    DROP CONSTRAINT alerts_rule_id_device_id_reading_ts_key,
    ADD CONSTRAINT alerts_closed_has_reason CHECK
        ((status IN ('pending', 'firing')) = (resolved_at IS NULL)
         AND (status = 'resolved') = (resolve_reason IS NOT NULL)),
    ADD CONSTRAINT alerts_acked_only_when_firing CHECK (acked_at IS NULL OR fired_at IS NOT NULL);
DROP INDEX alerts_cooldown;
-- At most one open episode per fingerprint: the schema, not only the code, enforces it.
CREATE UNIQUE INDEX alerts_one_open ON alerts (tenant_id, rule_id, device_id)
    WHERE status IN ('pending', 'firing');
CREATE INDEX alerts_fingerprint ON alerts (tenant_id, rule_id, device_id, created_at DESC);

-- What the evaluator knows of a fingerprint beyond its open episode: the newest data time it has
-- evaluated (older or redelivered tuples change nothing) and when its last firing notification
-- went out (the cooldown). Rows and episodes of a fingerprint change only under the advisory lock
-- on (rule_id, device_id).
CREATE TABLE alert_fingerprints (
    tenant_id         bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    rule_id           uuid NOT NULL,
    device_id         bigint NOT NULL,
    seen_until        timestamptz,
    last_notified_at  timestamptz,
    PRIMARY KEY (tenant_id, rule_id, device_id)
);
INSERT INTO alert_fingerprints (tenant_id, rule_id, device_id, seen_until, last_notified_at)
SELECT tenant_id, rule_id, device_id, max(reading_ts), max(created_at)
FROM alerts GROUP BY tenant_id, rule_id, device_id;

-- The append-only timeline of an episode (GET /api/alerts/{id}/events). kind: opened, fired,
-- cancelled, resolved, notified, notification_suppressed, repeated, acked, unacked, comment, ...
CREATE TABLE alert_events (
    tenant_id bigint NOT NULL,
    alert_id  uuid NOT NULL,
    seq       integer NOT NULL,
    kind      text NOT NULL CHECK (kind ~ '^[a-z_]{1,40}$'),
    at        timestamptz NOT NULL DEFAULT now(),   -- server time
    data_ts   timestamptz,                          -- the reading time it was decided at, if any
    actor     text NOT NULL,                        -- 'evaluator', or the API key's name
    detail    jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, alert_id, seq),
    FOREIGN KEY (tenant_id, alert_id) REFERENCES alerts (tenant_id, id) ON DELETE CASCADE
);
INSERT INTO alert_events (tenant_id, alert_id, seq, kind, at, data_ts, actor, detail)
SELECT tenant_id, id, 1, 'fired', created_at, reading_ts, 'evaluator', '{}'::jsonb FROM alerts
UNION ALL
SELECT tenant_id, id, 2, 'resolved', now(), NULL, 'migration', '{"reason": "migrated"}'::jsonb FROM alerts;

-- Deliveries: one row per notifying transition and target. `event` is what the transition was,
-- `transition_seq` its timeline seq: the Idempotency-Key is "<alert id>:<transition_seq>".
-- `payload` is the alert object as it was at the transition (NULL for rows written before this
-- migration: their payload is read from the alert row, as before).
ALTER TABLE deliveries
    ADD COLUMN event text NOT NULL DEFAULT 'created' CHECK (event IN
        ('created', 'resolved', 'repeated', 'acknowledged', 'flapping_started', 'flapping_ended')),
    ADD COLUMN transition_seq integer NOT NULL DEFAULT 1,
    ADD COLUMN payload text,
    DROP CONSTRAINT deliveries_pkey,
    ADD PRIMARY KEY (tenant_id, id),
    DROP CONSTRAINT deliveries_alert_id_target_key,
    ADD CONSTRAINT deliveries_one_per_transition UNIQUE (tenant_id, alert_id, transition_seq, target),
    ADD CONSTRAINT deliveries_alert_fkey FOREIGN KEY (tenant_id, alert_id)
        REFERENCES alerts (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE deliveries ALTER COLUMN event DROP DEFAULT, ALTER COLUMN transition_seq DROP DEFAULT;

ALTER TABLE delivery_attempts
    DROP CONSTRAINT delivery_attempts_pkey,
    ADD PRIMARY KEY (tenant_id, id),
    DROP CONSTRAINT delivery_attempts_delivery_id_attempt_key,
    ADD CONSTRAINT delivery_attempts_one_per_attempt UNIQUE (tenant_id, delivery_id, attempt),
    ADD CONSTRAINT delivery_attempts_delivery_fkey FOREIGN KEY (tenant_id, delivery_id)
        REFERENCES deliveries (tenant_id, id) ON DELETE CASCADE;
