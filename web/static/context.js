// State shared by the page's modules.

import { Api, Queue } from './api.js';

export const KEY_STORAGE = 'ste.apiKey';

export const ctx = {
  key: null, // the API key (also in sessionStorage, never anywhere else)
  me: null, // GET /api/keys/current: {id, name, role, tenant}
  api: null,
  queue: new Queue(4), // background reads (sparklines, per-metric series) in flight at most
  stream: null,
  streamState: 'off',
  rules: null,
  rulesAt: 0,
  foreignEvents: 0,
};

export function isOperator() {
  return Boolean(ctx.me && ctx.me.role === 'operator');
}

export function makeApi(onUnauthorized) {
  ctx.api = new Api(() => ctx.key, { onUnauthorized });
  return ctx.api;
}

/** The tenant's rules, cached for 30 s. */
export async function getRules(force = false) {
  if (!force && ctx.rules && Date.now() - ctx.rulesAt < 30000) return ctx.rules;
  const res = await ctx.api.get('/api/rules');
  ctx.rules = res.rules || [];
  ctx.rulesAt = Date.now();
  return ctx.rules;
}

export function iso(ms) {
  return new Date(ms).toISOString();
}

export function devicePath(key) {
  return `/api/devices/${encodeURIComponent(key)}/readings`;
}

export function deviceHref(key) {
  return `#/devices/${encodeURIComponent(key)}`;
}

/** Adds a reading to minute buckets [{b, t, v, min, max, count}] (sorted by b). */
export function addToBuckets(buckets, t, v) {
  const b = Math.floor(t / 60000) * 60000;
  let i = buckets.length - 1;
  while (i >= 0 && buckets[i].b > b) i--;
  if (i >= 0 && buckets[i].b === b) {
    const x = buckets[i];
    x.v = (x.v * x.count + v) / (x.count + 1);
    x.count += 1;
    x.min = Math.min(x.min, v);
    x.max = Math.max(x.max, v);
  } else {
    buckets.splice(i + 1, 0, { b, t: b + 30000, v, min: v, max: v, count: 1 });
  }
}

/** Minute buckets of an API answer, per metric. */
export function bucketsByMetric(res) {
  const out = new Map();
  for (const x of res.buckets || []) {
    const b = Date.parse(x.bucket);
    if (!Number.isFinite(b)) continue;
    if (!out.has(x.metric)) out.set(x.metric, []);
    out.get(x.metric).push({ b, t: b + 30000, v: x.avg, min: x.min, max: x.max, count: x.count });
  }
  return out;
}
