-- 004: an outbox row keeps the credential it was written with; alert retention.

-- Which credential an outbox row was written with (DESIGN §6):
--   'default' - the evaluator's STE_* target: sent with the STE_* credential of that target only
--               while the row's URL is still the STE_* URL (the operator's key is not copied here);
--   'tenant'  - the tenant's own target: sent with `credential`, the tenant's key or secret as it
--               was when the row was written (NULL = none), cleared once the row is final.
-- NULL: a row written before this migration; it gets a credential only where its URL is still
-- the current URL of the tenant's or the STE_* target.
ALTER TABLE deliveries
    ADD COLUMN credential_source text CHECK (credential_source IN ('default', 'tenant')),
    ADD COLUMN credential text,
    ADD CONSTRAINT deliveries_credential_only_while_pending
        CHECK (credential IS NULL OR (credential_source = 'tenant' AND status = 'pending'));

-- The retention pruner (STE_ALERT_RETENTION_DAYS) takes the oldest alerts first.
CREATE INDEX alerts_created ON alerts (created_at);
