-- 010: flapping (docs/ALERTING.md §5) and the built-in inhibition's index (§3).
--
-- A fingerprint that fires or resolves at least flap_changes times within flap_window_minutes
-- is flapping: one flapping_started notification instead of its transitions' own, nothing more
-- until it has not changed for flap_window_minutes, then one flapping_ended. flap_changes 0 =
-- never flapping. The recent change times (database clock) and the flag live with the
-- fingerprint, so they survive restarts and are shared by every evaluator instance.

ALTER TABLE alert_rules
    ADD COLUMN flap_changes        integer NOT NULL DEFAULT 6
        CHECK (flap_changes = 0 OR flap_changes BETWEEN 2 AND 1000),
    ADD COLUMN flap_window_minutes integer NOT NULL DEFAULT 30
        CHECK (flap_window_minutes BETWEEN 1 AND 1440);

ALTER TABLE alert_fingerprints
    ADD COLUMN flap_changes timestamptz[] NOT NULL DEFAULT '{}',
    ADD COLUMN flapping     boolean NOT NULL DEFAULT false;
CREATE INDEX alert_fingerprints_flapping ON alert_fingerprints (tenant_id) WHERE flapping;

-- Inhibition: a device's firing whole-device no-data episode (metric '*') mutes the
-- notifications of its other open episodes; looked up by device.
CREATE INDEX alerts_open_device ON alerts (tenant_id, device_id)
    WHERE status IN ('pending', 'firing');
