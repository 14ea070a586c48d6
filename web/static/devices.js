// The device list (GET /api/devices, paged, status filter) with a sparkline of the last hour of
// each visible device (GET …/readings?resolution=1m), updated by `reading` events.

import { el, $ } from './dom.js';
import { ctx, iso, devicePath, deviceHref, addToBuckets, bucketsByMetric } from './context.js';
import { sparkline } from './charts.js';
import { notice } from './notices.js';
import { ago, dateTime, num, parseTs, humanStatus } from './format.js';

const PAGE_SIZE = 20;
const HOUR = 3600000;
const SPARK_TTL = 55000;
const MAX_SPARKS = 3; // metrics shown per device

export const deviceState = {
  status: '',
  cursor: null, // the cursor of this page (null = first)
  previous: [], // cursors of earlier pages
  nextCursor: null,
  list: [],
  loaded: false,
  spark: new Map(), // device -> {at, metrics: Map(metric -> buckets)}
  latest: new Map(), // device -> {at, values: {metric: {value, ts}}}
  dirty: new Set(),
  flushTimer: null,
};

export function resetDevices() {
  Object.assign(deviceState, {
    status: '',
    cursor: null,
    previous: [],
    nextCursor: null,
    list: [],
    loaded: false,
    spark: new Map(),
    latest: new Map(),
    dirty: new Set(),
  });
  clearTimeout(deviceState.flushTimer);
  deviceState.flushTimer = null;
  $('device-status').value = '';
  $('devices-body').replaceChildren();
}

export async function loadDevices() {
  const res = await ctx.api.get('/api/devices', {
    status: deviceState.status || undefined,
    limit: PAGE_SIZE,
    cursor: deviceState.cursor || undefined,
  });
  deviceState.list = res.devices || [];
  deviceState.nextCursor = res.next_cursor || null;
  deviceState.loaded = true;
  renderDevices();
  loadSparklines();
}

export function setDeviceFilter(status) {
  deviceState.status = status;
  deviceState.cursor = null;
  deviceState.previous = [];
  $('device-status').value = status;
  loadDevices().catch(loadError);
  $('devices-panel').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

function loadError(e) {
  notice(`Could not load the devices: ${e.describe ? e.describe() : e}`, { key: 'load-devices' });
}

export function wireDevices() {
  $('device-status').addEventListener('change', (e) => setDeviceFilter(e.target.value));
  $('devices-next').addEventListener('click', () => {
    if (!deviceState.nextCursor) return;
    deviceState.previous.push(deviceState.cursor);
    deviceState.cursor = deviceState.nextCursor;
    loadDevices().catch(loadError);
  });
  $('devices-prev').addEventListener('click', () => {
    if (deviceState.previous.length === 0) return;
    deviceState.cursor = deviceState.previous.pop();
    loadDevices().catch(loadError);
  });
}

function loadSparklines() {
  const now = Date.now();
  for (const d of deviceState.list) {
    const key = d.device;
    const cached = deviceState.spark.get(key);
    if (d.status === 'never_seen') continue;
    if (cached && now - cached.at < SPARK_TTL) continue;
    ctx.queue
      .run(async () => {
        if (!ctx.me || !deviceState.list.some((x) => x.device === key)) return; // page changed
        const res = await ctx.api.get(devicePath(key), { resolution: '1m', from: iso(Date.now() - HOUR), limit: 10000 });
        deviceState.spark.set(key, { at: Date.now(), metrics: bucketsByMetric(res) });
        markDirty(key, true);
      })
      .catch((e) => {
        if (e && e.status === 404) return; // deleted meanwhile
        notice(`Could not load readings of ${key}: ${e.describe ? e.describe() : e}`, { key: 'spark' });
      });
  }
}

function lastReceived(d) {
  const server = parseTs(d.last_received_at);
  const live = deviceState.latest.get(d.device);
  if (live && (server === null || live.at > server)) return live.at;
  return server;
}

function sparkCell(d) {
  const sp = deviceState.spark.get(d.device);
  const live = deviceState.latest.get(d.device);
  const metrics = new Set();
  if (sp) for (const m of sp.metrics.keys()) metrics.add(m);
  if (live) for (const m of Object.keys(live.values)) metrics.add(m);
  if (metrics.size === 0) {
    return el('span', { class: 'muted', text: d.status === 'never_seen' ? '—' : sp ? 'no readings in the last hour' : '…' });
  }
  const now = Date.now();
  // The metrics with the most minutes of data in the hour first, then by name.
  const minutes = (m) => (sp && sp.metrics.get(m) ? sp.metrics.get(m).length : 0);
  const order = [...metrics].sort((a, b) => minutes(b) - minutes(a) || (a < b ? -1 : a > b ? 1 : 0));
  const items = order.slice(0, MAX_SPARKS).map((m) => {
    const buckets = (sp && sp.metrics.get(m)) || [];
    const recent = buckets.filter((b) => b.t >= now - HOUR);
    const lv = live && live.values[m];
    const value = lv ? lv.value : recent.length ? recent[recent.length - 1].v : null;
    return el('div', { class: 'spark-item', dataset: { metric: m } },
      el('span', { class: 'spark-metric', text: m }),
      sparkline(recent, { from: now - HOUR, to: now, label: `${m}, last hour (minute averages)` }),
      el('span', { class: 'spark-value', title: lv ? `latest reading ${dateTime(parseTs(lv.ts))}` : 'last minute average', text: num(value) }));
  });
  if (metrics.size > MAX_SPARKS) items.push(el('span', { class: 'muted', text: `+${metrics.size - MAX_SPARKS} more` }));
  return el('div', { class: 'sparks' }, items);
}

function deviceRow(d) {
  const t = lastReceived(d);
  return el('tr', { class: `device-row status-${d.status}`, dataset: { device: d.device, status: d.status } },
    el('td', { 'data-label': 'Device' }, el('a', { href: deviceHref(d.device), class: 'device-link', text: d.device })),
    el('td', { 'data-label': 'Status' }, el('span', { class: `badge status-${d.status}`, text: humanStatus(d.status) })),
    el('td', { 'data-label': 'Last received' },
      el('span', { class: 'age', dataset: { ts: t ?? '' }, title: dateTime(t), text: ago(t) })),
    el('td', { 'data-label': 'Last hour', class: 'spark-cell' }, sparkCell(d)));
}

export function renderDevices() {
  const body = $('devices-body');
  if (deviceState.list.length === 0) {
    body.replaceChildren(el('tr', { class: 'empty' },
      el('td', { colspan: 4, text: deviceState.loaded ? 'No devices.' : 'Loading…' })));
  } else {
    body.replaceChildren(...deviceState.list.map(deviceRow));
  }
  $('devices-prev').disabled = deviceState.previous.length === 0;
  $('devices-next').disabled = !deviceState.nextCursor;
  const page = deviceState.previous.length + 1;
  $('devices-page').textContent = `page ${page}`;
}

/** Re-renders the rows of changed devices, at most once a second. */
function markDirty(key, now = false) {
  deviceState.dirty.add(key);
  if (now) {
    flush();
    return;
  }
  if (deviceState.flushTimer) return;
  deviceState.flushTimer = setTimeout(flush, 1000);
}

function flush() {
  clearTimeout(deviceState.flushTimer);
  deviceState.flushTimer = null;
  const body = $('devices-body');
  for (const key of deviceState.dirty) {
    const d = deviceState.list.find((x) => x.device === key);
    if (!d) continue;
    const old = [...body.children].find((tr) => tr.dataset.device === key);
    if (old) old.replaceWith(deviceRow(d));
  }
  deviceState.dirty.clear();
}

/** A `reading` event: {device, metrics: {name: {value, ts}}}. */
export function onReadingEvent(data) {
  const key = data.device;
  const now = Date.now();
  const live = deviceState.latest.get(key) || { at: now, values: {} };
  live.at = now;
  for (const [m, r] of Object.entries(data.metrics)) {
    if (!r || typeof r.value !== 'number') continue;
    live.values[m] = r;
    const sp = deviceState.spark.get(key);
    const t = parseTs(r.ts);
    if (sp && t !== null) {
      if (!sp.metrics.has(m)) sp.metrics.set(m, []);
      const buckets = sp.metrics.get(m);
      addToBuckets(buckets, t, r.value);
      while (buckets.length > 0 && buckets[0].t < now - HOUR) buckets.shift();
    }
  }
  deviceState.latest.set(key, live);
  const d = deviceState.list.find((x) => x.device === key);
  if (d) {
    d.status = 'online';
    markDirty(key);
  }
}

/** Keeps `ago` texts current. */
export function tickAges() {
  const now = Date.now();
  for (const span of document.querySelectorAll('.age[data-ts]')) {
    const t = Number.parseInt(span.dataset.ts, 10);
    span.textContent = Number.isFinite(t) ? ago(t, now) : ago(null);
  }
}
