// Formatting of times, durations and values for display.

export function parseTs(s) {
  if (s === null || s === undefined) return null;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : null;
}

/** "42s", "7m", "3h 5m", "2d 4h" */
export function duration(ms) {
  let s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

export function ago(ts, now = Date.now()) {
  if (ts === null || ts === undefined) return 'never';
  const d = now - ts;
  if (d < 5000) return 'just now';
  return `${duration(d)} ago`;
}

function pad(n) {
  return String(n).padStart(2, '0');
}

export function clock(ts, seconds = false) {
  const d = new Date(ts);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return seconds ? `${hm}:${pad(d.getSeconds())}` : hm;
}

export function dateTime(ts) {
  if (ts === null || ts === undefined) return '';
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(ts, true)}`;
}

/** A reading value: at most 4 significant digits below 1000, grouped above. */
export function num(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 1000) return v.toLocaleString('en-US', { maximumFractionDigits: 1 });
  if (a === 0) return '0';
  return String(Number(v.toPrecision(4)));
}

export const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 };

export function humanStatus(s) {
  return s === 'never_seen' ? 'never seen' : s;
}
