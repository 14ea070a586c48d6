// The device page (#/devices/<key>): one chart per metric over 1 h (raw readings), 6 h or 24 h
// (minute buckets with their min–max band), the rules' thresholds as dashed lines and the alert
// episodes shaded; `reading` and `alert` events extend it live.

import { el, $ } from './dom.js';
import { ctx, iso, devicePath, getRules, addToBuckets, bucketsByMetric } from './context.js';
import { lineChart } from './charts.js';
import { notice, clearNotice } from './notices.js';
import { ago, dateTime, num, parseTs, humanStatus } from './format.js';
import { deviceState } from './devices.js';
import { isOpen } from './alerts.js';

const RANGES = { '1h': 3600000, '6h': 6 * 3600000, '24h': 24 * 3600000 };
const LIMIT = 10000;

export const page = {
  key: null,
  range: '1h',
  generation: 0,
  series: new Map(), // metric -> {mode: 'raw'|'1m', points: [{t, v}] | buckets, note}
  episodes: new Map(), // alert id -> alert
  rules: [],
  loaded: false,
  error: null,
  redrawTimer: null,
  lastWidth: 0,
};

let resizeObserver = null;

export function wireDevicePage() {
  for (const b of $('device-range').querySelectorAll('button[data-range]')) {
    b.addEventListener('click', () => {
      if (page.range === b.dataset.range) return;
      page.range = b.dataset.range;
      loadDevicePage().catch(loadError);
    });
  }
  resizeObserver = new ResizeObserver(() => {
    const w = $('device-charts').clientWidth;
    if (page.key && Math.abs(w - page.lastWidth) > 8) scheduleRedraw(150);
  });
  resizeObserver.observe($('device-charts'));
}

export function openDevicePage(key) {
  if (page.key !== key) {
    page.key = key;
    page.series = new Map();
    page.episodes = new Map();
    page.loaded = false;
    page.error = null;
    $('device-charts').replaceChildren(el('p', { class: 'muted', text: 'Loading…' }));
    $('device-alerts').replaceChildren();
  }
  $('device-title').textContent = key;
  loadDevicePage().catch(loadError);
}

export function closeDevicePage() {
  page.key = null;
  page.generation++;
  clearTimeout(page.redrawTimer);
}

function loadError(e) {
  if (e && e.status === 404) {
    page.error = `No device '${page.key}' in this tenant.`;
    render();
    return;
  }
  notice(`Could not load the device page: ${e && e.describe ? e.describe() : e}`, { key: 'load-device' });
}

function rawByMetric(res) {
  const out = new Map();
  for (const r of res.readings || []) {
    const t = Date.parse(r.ts);
    if (!Number.isFinite(t) || typeof r.value !== 'number') continue;
    if (!out.has(r.metric)) out.set(r.metric, []);
    out.get(r.metric).push({ t, v: r.value });
  }
  return out;
}

function asSeries(res, mode, note = null) {
  const out = new Map();
  const grouped = mode === 'raw' ? rawByMetric(res) : bucketsByMetric(res);
  for (const [m, points] of grouped) out.set(m, { mode, points, note });
  return out;
}

/**
 * The device's readings since `from`: one request, or when that is truncated one per metric;
 * a metric with more raw readings than one answer holds falls back to minute buckets.
 */
async function fetchSeries(key, mode, from) {
  const path = devicePath(key);
  const q = { resolution: mode, from: iso(from), limit: LIMIT };
  const first = await ctx.api.get(path, q);
  if (!first.truncated) return asSeries(first, mode);
  const listing = mode === '1m' ? first : await ctx.api.get(path, { resolution: '1m', from: iso(from), limit: LIMIT });
  const metrics = new Set([...bucketsByMetric(listing).keys()]);
  for (const r of first.readings || []) metrics.add(r.metric);
  const out = new Map();
  await Promise.all([...metrics].map((metric) => ctx.queue.run(async () => {
    const res = await ctx.api.get(path, { ...q, metric });
    if (!res.truncated) {
      for (const [m, s] of asSeries(res, mode)) out.set(m, s);
    } else if (mode === 'raw') {
      const b = await ctx.api.get(path, { resolution: '1m', from: iso(from), limit: LIMIT, metric });
      for (const [m, s] of asSeries(b, '1m', 'minute averages: more raw readings than one request returns')) out.set(m, s);
    } else {
      for (const [m, s] of asSeries(res, mode, `the first ${LIMIT} minutes only`)) out.set(m, s);
    }
  })));
  return out;
}

async function fetchEpisodes(key, from) {
  const [recent, open] = await Promise.all([
    ctx.api.get('/api/alerts', { device: key, since: iso(from), limit: 500 }),
    ctx.api.get('/api/alerts', { device: key, status: 'open', limit: 500 }),
  ]);
  const out = new Map();
  for (const a of [...recent.alerts, ...open.alerts]) out.set(a.id, a);
  return out;
}

export async function loadDevicePage() {
  const key = page.key;
  if (!key) return;
  const generation = ++page.generation;
  const span = RANGES[page.range];
  const from = Date.now() - span;
  const mode = page.range === '1h' ? 'raw' : '1m';
  renderRange();
  const [series, rules, episodes] = await Promise.all([
    fetchSeries(key, mode, from),
    getRules(),
    fetchEpisodes(key, from),
  ]);
  if (generation !== page.generation || key !== page.key) return; // superseded
  page.series = series;
  page.rules = rules;
  // Events that came in while loading are newer than the lists.
  for (const [id, a] of page.episodes) {
    const fetched = episodes.get(id);
    if (!fetched || fetched.version < a.version) episodes.set(id, a);
  }
  page.episodes = episodes;
  page.mode = mode;
  page.loaded = true;
  page.error = null;
  clearNotice('load-device');
  render();
}

function renderRange() {
  for (const b of $('device-range').querySelectorAll('button[data-range]')) {
    b.setAttribute('aria-pressed', String(b.dataset.range === page.range));
  }
}

function thresholdsFor(metric) {
  const out = [];
  for (const r of page.rules) {
    if (!r.enabled || r.metric !== metric) continue;
    if (r.device !== null && r.device !== undefined && r.device !== page.key) continue;
    if (r.condition !== 'above_threshold' && r.condition !== 'below_threshold') continue;
    if (typeof r.threshold !== 'number') continue;
    const op = r.condition === 'above_threshold' ? '>' : '<';
    out.push({ value: r.threshold, kind: 'threshold', label: `${r.name} ${op} ${num(r.threshold)}`, short: `${op} ${num(r.threshold)}`, rule: r.id });
    if (typeof r.clear_threshold === 'number' && r.clear_threshold !== r.threshold) {
      out.push({ value: r.clear_threshold, kind: 'clear', label: `${r.name} clears at ${num(r.clear_threshold)}`, short: `clears ${num(r.clear_threshold)}`, rule: r.id });
    }
  }
  return out;
}

function episodesFor(metric, now) {
  const out = [];
  for (const a of page.episodes.values()) {
    if (a.metric !== metric && a.metric !== '*') continue;
    if (a.status === 'cancelled') continue;
    const start = parseTs(a.started_at) ?? parseTs(a.created_at);
    const end = isOpen(a) ? now : parseTs(a.resolved_at) ?? now;
    if (start === null) continue;
    const label = `${a.severity} ${a.status}: ${a.message || a.metric} (since ${dateTime(start)}${isOpen(a) ? '' : `, resolved ${dateTime(end)}`})`;
    out.push({ id: a.id, from: start, to: Math.max(end, start), severity: a.severity, open: isOpen(a), label });
  }
  return out;
}

function deviceInfo() {
  return deviceState.list.find((d) => d.device === page.key) || null;
}

function renderHeader() {
  const d = deviceInfo();
  const badge = $('device-status-badge');
  badge.replaceChildren();
  if (d) badge.append(el('span', { class: `badge status-${d.status}`, text: humanStatus(d.status) }));
  const live = deviceState.latest.get(page.key);
  const last = Math.max(parseTs(d && d.last_received_at) ?? 0, live ? live.at : 0) || null;
  const meta = [];
  if (last) meta.push(`last received ${ago(last)}`);
  meta.push(page.mode === 'raw' ? 'raw readings' : 'minute averages with min–max band');
  $('device-meta').textContent = meta.join(' · ');
}

function renderOpenEpisodes() {
  const open = [...page.episodes.values()].filter(isOpen);
  const box = $('device-alerts');
  if (open.length === 0) {
    box.replaceChildren();
    return;
  }
  box.replaceChildren(el('ul', { class: 'device-alert-list' }, open.map((a) =>
    el('li', { class: `sev-${a.severity}`, dataset: { alertId: a.id } },
      el('span', { class: `badge sev-${a.severity}`, text: a.severity }), ' ',
      el('span', { text: `${a.metric} ${a.status}, ${num(a.last_value)} (threshold ${num(a.threshold)}) since ${ago(parseTs(a.started_at))}` }),
      a.acked_by ? el('span', { class: 'muted', text: ` · acked by ${a.acked_by}` }) : null))));
}

function render() {
  if (!page.key) return;
  renderRange();
  const box = $('device-charts');
  if (page.error) {
    box.replaceChildren(el('p', { class: 'form-error', role: 'alert', text: page.error }));
    return;
  }
  if (!page.loaded) return;
  renderHeader();
  renderOpenEpisodes();
  const now = Date.now();
  const span = RANGES[page.range];
  let to = now;
  for (const s of page.series.values()) {
    const last = s.points[s.points.length - 1];
    if (last && last.t > to) to = Math.min(last.t + 5000, now + 10 * 60000); // device clocks run ahead
  }
  const from = to - span;
  if (page.series.size === 0) {
    box.replaceChildren(el('p', { class: 'muted', text: `No readings in the last ${page.range}.` }));
    return;
  }
  // Cards are kept and only their contents redrawn: what the user scrolled to or points at
  // stays put while readings arrive.
  const existing = new Map([...box.querySelectorAll(':scope > section.chart-card')]
    .map((c) => [c.dataset.metric, c]));
  const cards = [];
  for (const metric of [...page.series.keys()].sort()) {
    const s = page.series.get(metric);
    s.points = s.points.filter((p) => p.t >= from - 60000);
    const last = s.points[s.points.length - 1];
    const head = el('div', { class: 'chart-head' },
      el('h3', { text: metric }),
      el('span', { class: 'chart-latest', text: last ? `${num(last.v)} · ${ago(last.t)}` : '' }),
      s.note ? el('span', { class: 'muted', text: s.note }) : null);
    let card = existing.get(metric);
    if (card) {
      existing.delete(metric);
      card.querySelector('.chart-head').replaceWith(head);
      card.querySelector('.chart-box').replaceChildren();
    } else {
      card = el('section', { class: 'chart-card', dataset: { metric } }, head,
        el('div', { class: 'chart-box' }));
    }
    cards.push(card);
  }
  for (const stale of existing.values()) stale.remove();
  const inOrder = cards.length === box.children.length && cards.every((c, i) => box.children[i] === c);
  if (!inOrder) box.replaceChildren(...cards);
  const width = box.clientWidth;
  page.lastWidth = width;
  for (const card of cards) {
    const metric = card.dataset.metric;
    const s = page.series.get(metric);
    const holder = card.querySelector('.chart-box');
    holder.append(lineChart({
      from,
      to,
      points: s.points,
      band: s.mode === '1m' ? s.points.map((b) => ({ t: b.t, min: b.min, max: b.max })) : [],
      thresholds: thresholdsFor(metric),
      episodes: episodesFor(metric, now),
      width: holder.clientWidth || width,
      height: width < 500 ? 180 : 220,
      title: `${page.key} ${metric}`,
      stepHint: s.mode === '1m' ? 60000 : 1000,
    }));
  }
}

function scheduleRedraw(ms = 1000) {
  if (page.redrawTimer) return;
  page.redrawTimer = setTimeout(() => {
    page.redrawTimer = null;
    render();
  }, ms);
}

/** A `reading` event of any device. */
export function onDeviceReading(data) {
  if (!page.key || data.device !== page.key || !page.loaded) return;
  for (const [metric, r] of Object.entries(data.metrics)) {
    const t = parseTs(r && r.ts);
    if (t === null || typeof r.value !== 'number') continue;
    let s = page.series.get(metric);
    if (!s) {
      s = { mode: page.mode, points: [], note: null };
      page.series.set(metric, s);
    }
    if (s.mode === 'raw') {
      const pts = s.points;
      if (pts.length === 0 || pts[pts.length - 1].t <= t) pts.push({ t, v: r.value });
      else {
        let i = pts.length - 1;
        while (i >= 0 && pts[i].t > t) i--;
        pts.splice(i + 1, 0, { t, v: r.value });
      }
    } else {
      addToBuckets(s.points, t, r.value);
    }
  }
  scheduleRedraw();
}

/** An alert object (event or action answer) of any device. */
export function onDeviceAlert(a) {
  if (!page.key || a.device !== page.key) return;
  const cur = page.episodes.get(a.id);
  if (cur && cur.version > a.version) return;
  page.episodes.set(a.id, a);
  scheduleRedraw(200);
}
