-- 009: silences (docs/ALERTING.md §3). A silence mutes the notifications of the open episodes
-- its matchers select, in its tenant, between starts_at and ends_at; evaluation, the alert rows,
-- the timeline and the NATS events carry on. DELETE through the API expires a silence now
-- (ends_at = now()), so its history stays.

CREATE TABLE silences (
    tenant_id  bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    -- [{"field": "device|metric|rule_id|severity", "op": "=|!=|=~|!~", "value": "..."}, ...],
    -- json (not jsonb): kept as the API wrote it, so it reads back in the same order.
    matchers   json NOT NULL CHECK (json_typeof(matchers) = 'array'),
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    comment    text NOT NULL CHECK (length(comment) BETWEEN 1 AND 1000),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK (ends_at >= starts_at)
);
CREATE INDEX silences_ends ON silences (tenant_id, ends_at);

-- Whether every matcher selects the episode (device, metric, rule id, severity). Regexes are
-- anchored at both ends; the API refuses invalid ones and bounds their length. Matching is
-- PostgreSQL's regex engine, so the API, the evaluator and the preview cannot disagree.
CREATE FUNCTION ste_silence_matches(matchers json, device text, metric text, rule_id text,
                                    severity text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(bool_and(
               CASE m->>'op'
                   WHEN '=' THEN f.v = m->>'value'
                   WHEN '!=' THEN f.v <> m->>'value'
                   WHEN '=~' THEN f.v ~ ('^(?:' || (m->>'value') || ')$')
                   WHEN '!~' THEN f.v !~ ('^(?:' || (m->>'value') || ')$')
                   ELSE false
               END), false)
    FROM json_array_elements(matchers) m
    CROSS JOIN LATERAL (
        SELECT CASE m->>'field' WHEN 'device' THEN device WHEN 'metric' THEN metric
                                WHEN 'rule_id' THEN rule_id WHEN 'severity' THEN severity END AS v
    ) f
$$;

-- An episode whose firing notification a silence held back: sent when the silence ends while
-- the episode is still firing and unacknowledged (the episode timer does it).
ALTER TABLE alerts ADD COLUMN muted boolean NOT NULL DEFAULT false;
