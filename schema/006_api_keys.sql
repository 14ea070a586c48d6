-- 006: named API keys with roles (docs/ALERTING.md §2). A tenant holds any number of keys, each
-- with a name (shown as acked_by, created_by, a timeline's actor) and a role: `operator` reads and
-- changes everything of its tenant, `viewer` reads only. Only the key's SHA-256 is stored.
-- Revoking keeps the row (revoked_at), so an old name stays traceable; a revoked key's name may
-- be given to a new key.

CREATE TABLE api_keys (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    name       text NOT NULL CHECK (name ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    role       text NOT NULL CHECK (role IN ('operator', 'viewer')),
    key_hash   bytea NOT NULL UNIQUE,       -- SHA-256 of the key; the key itself is never stored
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    PRIMARY KEY (tenant_id, id)
);
-- One live key per name and tenant.
CREATE UNIQUE INDEX api_keys_live_name ON api_keys (tenant_id, name) WHERE revoked_at IS NULL;

-- Every tenant's single key becomes its `default` operator key: the same secret keeps working.
INSERT INTO api_keys (tenant_id, name, role, key_hash, created_at)
SELECT id, 'default', 'operator', api_key_hash, created_at FROM tenants;

ALTER TABLE tenants DROP COLUMN api_key_hash;
