// Tiles (GET /api/alerts/summary) and the alerts table: open episodes by severity, then the
// recently resolved ones; the operator's actions (ack, resolve, comment, silence the device).

import { el, $ } from './dom.js';
import { ctx, isOperator, deviceHref } from './context.js';
import { openDialog } from './dialog.js';
import { notice } from './notices.js';
import { ago, dateTime, num, parseTs, SEVERITY_ORDER, clock } from './format.js';

const OPEN_LIMIT = 200;
const RESOLVED_LIMIT = 20;
const SEVERITIES = ['critical', 'warning', 'info'];

export const alertState = {
  byId: new Map(), // open episodes and the recently resolved, by id
  touched: new Map(), // id -> when the stream or an action last changed it
  openTruncated: false,
  summary: null,
  rendered: new Set(), // ids in the table, to mark new rows
  markNew: false,
  loadedOnce: false,
};

let summaryTimer = null;
let summaryLast = 0;
let onDeviceAlert = () => {};
let onDeviceFilter = () => {};

export function setAlertHooks({ deviceAlert, deviceFilter }) {
  onDeviceAlert = deviceAlert;
  onDeviceFilter = deviceFilter;
}

export function resetAlerts() {
  alertState.byId = new Map();
  alertState.touched = new Map();
  alertState.summary = null;
  alertState.rendered = new Set();
  alertState.markNew = false;
  alertState.loadedOnce = false;
  clearTimeout(summaryTimer);
  summaryTimer = null;
}

export function isOpen(a) {
  return a.status === 'pending' || a.status === 'firing';
}

/** Compares two copies of one alert: > 0 when a is newer (version, then the newest reading). */
function compareCopies(a, b) {
  if (a.version !== b.version) return a.version - b.version;
  return (parseTs(a.last_reading_ts) ?? 0) - (parseTs(b.last_reading_ts) ?? 0);
}

function atLeastAsNew(a, b) {
  return compareCopies(a, b) >= 0;
}

/** Takes a newer alert object into the state; false when it is older than what is there. */
export function upsertAlert(a, { live = false } = {}) {
  if (!a || typeof a.id !== 'string') return false;
  if (ctx.me && a.tenant && a.tenant !== ctx.me.tenant) {
    // The stream is scoped to the key's tenant; anything else is a server bug. Never show it.
    ctx.foreignEvents++;
    document.documentElement.dataset.foreignEvents = String(ctx.foreignEvents);
    console.error('stream: dropped an alert of another tenant');
    return false;
  }
  const cur = alertState.byId.get(a.id);
  if (cur && !atLeastAsNew(a, cur)) return false;
  alertState.byId.set(a.id, a);
  if (live) alertState.touched.set(a.id, Date.now());
  return true;
}

export async function loadAlerts() {
  const started = Date.now();
  const [open, resolved] = await Promise.all([
    ctx.api.get('/api/alerts', { status: 'open', sort: 'severity', limit: OPEN_LIMIT }),
    ctx.api.get('/api/alerts', { status: 'resolved', limit: RESOLVED_LIMIT }),
  ]);
  const next = new Map();
  for (const a of [...open.alerts, ...resolved.alerts]) next.set(a.id, a);
  // What the stream (or an action) changed while the lists were being read stays when it is
  // newer than what was read; at the same version the read copy wins (silenced_by, for one,
  // changes without a new version or an event).
  for (const [id, at] of alertState.touched) {
    if (at < started - 60000) {
      alertState.touched.delete(id);
      continue;
    }
    const cur = alertState.byId.get(id);
    const fetched = next.get(id);
    if (!cur) continue;
    if (fetched ? compareCopies(cur, fetched) > 0 : at >= started - 1000) next.set(id, cur);
  }
  alertState.byId = next;
  alertState.openTruncated = Boolean(open.next_cursor);
  alertState.loadedOnce = true;
  renderAlerts();
}

export async function loadSummary() {
  alertState.summary = await ctx.api.get('/api/alerts/summary');
  renderTiles();
}

const SUMMARY_EVERY_MS = 1500;

/** Refetches the summary: at once, then at most every 1.5 s (alert events come in bursts). */
export function scheduleSummary() {
  if (summaryTimer) return;
  const wait = Math.max(0, summaryLast + SUMMARY_EVERY_MS - Date.now());
  summaryTimer = setTimeout(() => {
    summaryTimer = null;
    summaryLast = Date.now();
    if (!ctx.me) return;
    loadSummary().catch((e) => notice(`Could not load the summary: ${e.describe ? e.describe() : e}`, { key: 'summary' }));
  }, wait);
}

/** An `alert` event from the stream. */
export function onAlertEvent(a) {
  if (!upsertAlert(a, { live: true })) return;
  renderAlerts();
  scheduleSummary();
  onDeviceAlert(a);
}

// ---------------------------------------------------------------------------------------------
// Tiles

export function renderTiles() {
  const s = alertState.summary;
  const box = $('tiles');
  if (!s) {
    box.replaceChildren();
    return;
  }
  const tiles = SEVERITIES.map((sev) => {
    const c = (s.open && s.open[sev]) || { acked: 0, unacked: 0 };
    return el('div', { class: `tile sev-${sev}${c.unacked > 0 ? ' has-unacked' : ''}`, dataset: { tile: sev } },
      el('div', { class: 'tile-label', text: sev }),
      el('div', { class: 'tile-value', text: String(c.acked + c.unacked) }),
      el('div', { class: 'tile-sub' },
        el('b', { class: 'unacked', dataset: { count: c.unacked }, title: 'unacknowledged', text: `${c.unacked} unacked` }),
        el('span', { class: 'sep', text: ' · ' }),
        el('span', { class: 'acked', dataset: { count: c.acked }, title: 'acknowledged', text: `${c.acked} acked` })));
  });
  const d = s.devices || { online: 0, offline: 0, never_seen: 0 };
  const link = (status, label, n) => {
    const b = el('button', { type: 'button', class: `tile-link status-${status}`, dataset: { filter: status }, title: `show ${label} devices` },
      el('span', { class: 'n', text: String(n) }), ` ${label}`);
    b.addEventListener('click', () => onDeviceFilter(status));
    return b;
  };
  tiles.push(el('div', { class: 'tile devices-tile', dataset: { tile: 'devices' } },
    el('div', { class: 'tile-label', text: 'devices' }),
    el('div', { class: 'tile-devices' },
      link('online', 'online', d.online), link('offline', 'offline', d.offline),
      link('never_seen', 'never seen', d.never_seen))));
  box.replaceChildren(...tiles);
}

// ---------------------------------------------------------------------------------------------
// The table

function sortOpen(a, b) {
  const s = (SEVERITY_ORDER[a.severity] ?? 9) - (SEVERITY_ORDER[b.severity] ?? 9);
  if (s) return s;
  const ack = (a.acked_at ? 1 : 0) - (b.acked_at ? 1 : 0);
  if (ack) return ack;
  const c = (parseTs(a.created_at) ?? 0) - (parseTs(b.created_at) ?? 0);
  if (c) return c;
  return a.id < b.id ? -1 : 1;
}

function sortResolved(a, b) {
  return (parseTs(b.resolved_at) ?? 0) - (parseTs(a.resolved_at) ?? 0);
}

const COLUMNS = ['Severity', 'Device', 'Metric', 'Value', 'Age', 'Status', 'Acked by'];

function td(label, ...children) {
  // One box per cell: on a phone the cell is a two-column grid (label, content).
  return el('td', { 'data-label': label }, el('div', { class: 'cell' }, ...children));
}

function ageSpan(ts) {
  const t = parseTs(ts);
  return el('span', { class: 'age', dataset: { ts: t ?? '' }, title: dateTime(t), text: ago(t) });
}

function statusCell(a) {
  const parts = [el('span', { class: `status status-${a.status}`, text: a.status })];
  if (a.status === 'resolved') {
    if (a.resolve_reason) parts.push(el('span', { class: 'reason', text: ` (${a.resolve_reason})` }));
    const t = parseTs(a.resolved_at);
    parts.push(' ', el('span', { class: 'age', dataset: { ts: t ?? '' }, title: dateTime(t), text: ago(t) }));
  }
  if (a.silenced_by && a.silenced_by.length > 0) {
    parts.push(' ', el('span', { class: 'tag tag-silenced', title: a.silenced_by.join(', '), text: 'silenced' }));
  }
  if (a.flapping) parts.push(' ', el('span', { class: 'tag tag-flapping', text: 'flapping' }));
  return parts;
}

function actionButton(action, label, handler) {
  const b = el('button', { type: 'button', class: `act act-${action}`, 'data-action': action, text: label });
  b.addEventListener('click', handler);
  return b;
}

function actionsFor(a) {
  const buttons = [];
  if (a.status === 'firing' && !a.acked_at) buttons.push(actionButton('ack', 'Acknowledge', () => ackDialog(a)));
  if (isOpen(a)) buttons.push(actionButton('resolve', 'Resolve', () => resolveDialog(a)));
  buttons.push(actionButton('comment', 'Comment', () => commentDialog(a)));
  if (isOpen(a)) buttons.push(actionButton('silence', 'Silence device…', () => silenceDialog(a)));
  return el('div', { class: 'actions' }, buttons);
}

function alertRow(a, operator) {
  const acked = Boolean(a.acked_at);
  const tr = el('tr', {
    class: `alert-row sev-${a.severity} ${acked ? 'acked' : 'unacked'} st-${a.status}`,
    dataset: { alertId: a.id, status: a.status, device: a.device, metric: a.metric },
  });
  tr.append(
    td('Severity', el('span', { class: `badge sev-${a.severity}`, text: a.severity })),
    td('Device', el('a', { href: deviceHref(a.device), class: 'device-link', text: a.device })),
    td('Metric', el('span', { class: 'metric', title: a.message || '', text: a.metric })),
    td('Value', el('span', {
      class: 'value',
      title: `first ${num(a.value)} · peak ${num(a.peak_value)} · threshold ${num(a.threshold)}`,
      text: num(a.last_value),
    })),
    td('Age', ageSpan(a.started_at)),
    td('Status', ...statusCell(a)),
    td('Acked by', el('span', { class: 'acked-by', title: a.ack_comment || '', text: a.acked_by || '—' })),
  );
  if (operator) tr.append(td('Actions', actionsFor(a)));
  return tr;
}

export function renderAlerts() {
  const operator = isOperator();
  const head = $('alerts-head');
  const cols = operator ? [...COLUMNS, 'Actions'] : COLUMNS;
  head.replaceChildren(el('tr', {}, cols.map((c) => el('th', { scope: 'col', text: c }))));

  const all = [...alertState.byId.values()];
  const open = all.filter(isOpen).sort(sortOpen);
  const resolved = all.filter((a) => a.status === 'resolved').sort(sortResolved).slice(0, RESOLVED_LIMIT);
  const seen = new Set();
  const mark = (tr, id) => {
    seen.add(id);
    if (alertState.markNew && !alertState.rendered.has(id)) tr.classList.add('new');
    return tr;
  };

  const openBody = $('alerts-open');
  if (open.length === 0) {
    openBody.replaceChildren(el('tr', { class: 'empty' },
      el('td', { colspan: cols.length, text: alertState.loadedOnce ? 'No open alerts.' : 'Loading…' })));
  } else {
    openBody.replaceChildren(...open.map((a) => mark(alertRow(a, operator), a.id)));
  }
  const resolvedBody = $('alerts-resolved');
  const rows = [el('tr', { class: 'section' }, el('th', { colspan: cols.length, scope: 'rowgroup', text: 'Recently resolved' }))];
  if (resolved.length === 0) rows.push(el('tr', { class: 'empty' }, el('td', { colspan: cols.length, text: 'None.' })));
  for (const a of resolved) rows.push(mark(alertRow(a, operator), a.id));
  resolvedBody.replaceChildren(...rows);
  alertState.rendered = seen;
  if (alertState.loadedOnce) alertState.markNew = true; // rows that appear from now on are new

  const unacked = open.filter((a) => !a.acked_at).length;
  $('alerts-meta').textContent = `${open.length} open${alertState.openTruncated ? '+' : ''} · ${unacked} unacknowledged`;
}

// ---------------------------------------------------------------------------------------------
// Actions (operator keys only: viewer keys never get the buttons)

function describe(a) {
  return `${a.severity} · ${a.device} · ${a.metric} = ${num(a.last_value)}`;
}

function ifMatch(a) {
  return { 'If-Match': `"${a.version}"` };
}

/** After a 409 the row is read again, so the next attempt starts from what is current. */
async function refreshAfter(err, a) {
  if (err && err.status === 409) {
    try {
      const fresh = await ctx.api.get(`/api/alerts/${encodeURIComponent(a.id)}`);
      upsertAlert(fresh, { live: true });
      renderAlerts();
    } catch {
      // keep the row as it is
    }
  }
  throw err;
}

function applyChanged(res) {
  upsertAlert(res, { live: true });
  renderAlerts();
  scheduleSummary();
  onDeviceAlert(res);
}

/** A state change with an optional comment (ack, resolve): POST, then show the new state. */
function actionDialog(a, { kind, title, text, path, submitLabel, done }) {
  openDialog({
    kind,
    title,
    text: `${describe(a)}. ${text}`,
    fields: [{ name: 'comment', label: 'Comment (optional)', type: 'textarea', maxLength: 1000 }],
    submitLabel,
    onSubmit: async ({ comment }) => {
      const res = await ctx.api
        .post(`/api/alerts/${encodeURIComponent(a.id)}/${path}`, comment ? { comment } : {}, { headers: ifMatch(a) })
        .catch((e) => refreshAfter(e, a));
      applyChanged(res);
      notice(`${done}: ${a.device} ${a.metric}`, { kind: 'ok', key: 'action' });
    },
  });
}

function ackDialog(a) {
  actionDialog(a, {
    kind: 'ack',
    title: 'Acknowledge alert',
    text: 'Repeats stop; the resolution is still notified.',
    path: 'ack',
    submitLabel: 'Acknowledge',
    done: 'Acknowledged',
  });
}

function resolveDialog(a) {
  actionDialog(a, {
    kind: 'resolve',
    title: 'Resolve alert by hand',
    text: 'A later crossing opens a new episode.',
    path: 'resolve',
    submitLabel: 'Resolve',
    done: 'Resolved',
  });
}

function commentDialog(a) {
  openDialog({
    kind: 'comment',
    title: 'Comment on alert',
    text: describe(a),
    fields: [{ name: 'text', label: 'Comment', type: 'textarea', required: true, maxLength: 1000 }],
    submitLabel: 'Add comment',
    onSubmit: async ({ text }) => {
      await ctx.api.post(`/api/alerts/${encodeURIComponent(a.id)}/comments`, { text });
      notice(`Comment added to ${a.device} ${a.metric}`, { kind: 'ok', key: 'action' });
    },
  });
}

const SILENCE_HOURS = [['1', '1 hour'], ['4', '4 hours'], ['24', '24 hours']];

function silenceDialog(a) {
  openDialog({
    kind: 'silence',
    title: `Silence device ${a.device}`,
    text: 'Notifications of every alert of this device are muted until the silence ends; the alerts still show here.',
    fields: [
      { name: 'hours', label: 'For', type: 'select', options: SILENCE_HOURS, value: '1' },
      { name: 'comment', label: 'Comment', type: 'textarea', required: true, maxLength: 1000, value: `${a.metric} on ${a.device}: silenced from the operator page` },
    ],
    submitLabel: 'Silence',
    onSubmit: async ({ hours, comment }) => {
      const h = Number.parseInt(hours, 10) || 1;
      const endsAt = new Date(Date.now() + h * 3600000).toISOString();
      const silence = await ctx.api.post('/api/silences', {
        matchers: [{ field: 'device', op: '=', value: a.device }],
        ends_at: endsAt,
        comment,
      });
      notice(`${a.device} silenced until ${clock(parseTs(silence.ends_at) ?? Date.parse(endsAt))} (by ${silence.created_by})`, { kind: 'ok', key: 'action' });
      // silenced_by changed on the device's open alerts; no alert event says so.
      loadAlerts().catch((e) => notice(`Could not reload the alerts: ${e.describe ? e.describe() : e}`, { key: 'load-alerts' }));
    },
  });
}
