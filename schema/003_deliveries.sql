-- 003: per-tenant webhook targets and the record of every delivery attempt.

-- A tenant's own targets; NULL columns fall back to the evaluator's STE_* defaults.
-- Secrets are needed in clear to sign and authenticate, so they are stored; the API never
-- returns them (only whether they are set).
CREATE TABLE tenant_integrations (
    tenant_id               bigint PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    notification_hub_url    text,
    notification_hub_api_key text,
    workflow_engine_url     text,
    workflow_engine_secret  text,
    updated_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE delivery_attempts (
    id              bigserial PRIMARY KEY,
    delivery_id     uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    tenant_id       bigint NOT NULL,
    attempt         integer NOT NULL,
    started_at      timestamptz NOT NULL,
    duration_ms     double precision NOT NULL,
    http_status     integer,           -- NULL: no response (connect error, timeout, ...)
    error           text,
    outcome         text NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed')),
    next_attempt_at timestamptz,       -- set when outcome = 'retry'
    UNIQUE (delivery_id, attempt)
);
CREATE INDEX deliveries_tenant_status ON deliveries (tenant_id, status);
