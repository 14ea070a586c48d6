// Small SVG charts: a sparkline and a time-series line chart with axes, dashed threshold lines and
// shaded alert episodes. Colours and strokes come from style.css classes.

import { svg } from './dom.js';
import { clock, num, dateTime } from './format.js';

const MINUTE = 60000;

/** A "nice" step (1, 2, 2.5, 5 × 10^n) close to range / count. */
export function niceStep(range, count) {
  const raw = range / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  const f = n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10;
  return f * mag;
}

/** Y ticks covering [lo, hi]: {lo, hi, ticks}. */
export function valueTicks(lo, hi, count = 5) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { lo: 0, hi: 1, ticks: [0, 1] };
  if (lo === hi) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= d;
    hi += d;
  }
  const step = niceStep(hi - lo, count);
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const ticks = [];
  const n = Math.min(50, Math.round((end - start) / step));
  // toPrecision(12) drops the binary noise of start + i * step (0.30000000000000004).
  for (let i = 0; i <= n; i++) ticks.push(Number((start + i * step).toPrecision(12)));
  return { lo: start, hi: end, ticks };
}

const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * MINUTE);

/** Time ticks at round local times, at most maxTicks of them. */
export function timeTicks(from, to, maxTicks) {
  const span = Math.max(1, to - from);
  const step = TIME_STEPS.find((s) => span / s <= maxTicks) || TIME_STEPS[TIME_STEPS.length - 1];
  const offset = -new Date(from).getTimezoneOffset() * MINUTE; // align to local clock times
  const ticks = [];
  for (let t = Math.ceil((from + offset) / step) * step - offset; t <= to; t += step) ticks.push(t);
  return ticks;
}

/** Splits points into runs where no gap is much longer than the usual spacing. */
function segments(points, minGap) {
  if (points.length < 2) return [points];
  const gaps = [];
  for (let i = 1; i < points.length; i++) gaps.push(points[i].t - points[i - 1].t);
  const sorted = [...gaps].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const limit = Math.max(median * 5, minGap);
  const out = [[points[0]]];
  for (let i = 1; i < points.length; i++) {
    if (gaps[i - 1] > limit) out.push([]);
    out[out.length - 1].push(points[i]);
  }
  return out;
}

function fmt(n) {
  return Number.isFinite(n) ? Number(n.toFixed(2)) : 0;
}

/**
 * A sparkline of points [{t, v}] over [from, to].
 */
export function sparkline(points, { from, to, width = 120, height = 26, label = '' } = {}) {
  const root = svg('svg', {
    class: 'sparkline',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': label,
  });
  if (label) root.append(svg('title', { text: label }));
  if (!points || points.length === 0) {
    root.append(svg('line', { class: 'spark-empty', x1: 2, x2: width - 2, y1: height / 2, y2: height / 2 }));
    return root;
  }
  const t0 = from ?? points[0].t;
  const t1 = to ?? points[points.length - 1].t;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points) {
    lo = Math.min(lo, p.v);
    hi = Math.max(hi, p.v);
  }
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const pad = 2;
  const x = (t) => pad + ((t - t0) / Math.max(1, t1 - t0)) * (width - 2 * pad);
  const y = (v) => height - pad - ((v - lo) / (hi - lo)) * (height - 2 * pad);
  const coords = points.map((p) => `${fmt(x(p.t))},${fmt(y(p.v))}`).join(' ');
  root.append(svg('polyline', { class: 'spark-line', points: coords, fill: 'none' }));
  const last = points[points.length - 1];
  root.append(svg('circle', { class: 'spark-dot', cx: fmt(x(last.t)), cy: fmt(y(last.v)), r: 2 }));
  return root;
}

/**
 * A line chart.
 *   from, to      time window (ms)
 *   points        [{t, v}] sorted by t (raw readings or bucket averages)
 *   band          [{t, min, max}] minute min/max (optional)
 *   thresholds    [{value, label, kind: 'threshold'|'clear'}]
 *   episodes      [{from, to, severity, open, label}]
 */
export function lineChart({
  from,
  to,
  points = [],
  band = [],
  thresholds = [],
  episodes = [],
  width = 640,
  height = 220,
  title = '',
  stepHint = MINUTE,
}) {
  width = Math.max(260, Math.round(width));
  const m = { l: 52, r: 14, t: 10, b: 24 };
  const pw = width - m.l - m.r;
  const ph = height - m.t - m.b;

  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points) {
    lo = Math.min(lo, p.v);
    hi = Math.max(hi, p.v);
  }
  for (const b of band) {
    lo = Math.min(lo, b.min);
    hi = Math.max(hi, b.max);
  }
  for (const th of thresholds) {
    lo = Math.min(lo, th.value);
    hi = Math.max(hi, th.value);
  }
  if (lo === Infinity) {
    lo = 0;
    hi = 1;
  }
  // Headroom above the highest value or threshold, for its label.
  if (hi > lo) hi += (hi - lo) * 0.06;
  const yt = valueTicks(lo, hi, Math.max(2, Math.floor(ph / 40)));
  const x = (t) => m.l + ((t - from) / Math.max(1, to - from)) * pw;
  const y = (v) => m.t + ph - ((v - yt.lo) / (yt.hi - yt.lo)) * ph;
  const clampX = (t) => Math.min(m.l + pw, Math.max(m.l, x(t)));

  const root = svg('svg', {
    class: 'chart',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': title,
  });
  if (title) root.append(svg('title', { text: title }));

  // Alert episodes: shaded spans under everything else.
  const eps = svg('g', { class: 'episodes' });
  for (const ep of episodes) {
    const x0 = clampX(ep.from);
    const x1 = clampX(ep.to);
    if (x1 - x0 < 0 || ep.to < from || ep.from > to) continue;
    const rect = svg('rect', {
      class: `episode sev-${ep.severity}${ep.open ? ' open' : ''}`,
      x: fmt(x0),
      y: m.t,
      width: fmt(Math.max(2, x1 - x0)),
      height: ph,
      'data-alert-id': ep.id,
    });
    if (ep.label) rect.append(svg('title', { text: ep.label }));
    eps.append(rect);
  }
  root.append(eps);

  // Grid and value axis.
  const grid = svg('g', { class: 'grid' });
  for (const v of yt.ticks) {
    const yy = fmt(y(v));
    grid.append(svg('line', { x1: m.l, x2: m.l + pw, y1: yy, y2: yy }));
    grid.append(svg('text', { class: 'tick-label', x: m.l - 6, y: yy, 'text-anchor': 'end', 'dominant-baseline': 'middle', text: num(v) }));
  }
  root.append(grid);

  // Time axis.
  const axis = svg('g', { class: 'x-axis' });
  axis.append(svg('line', { class: 'axis-line', x1: m.l, x2: m.l + pw, y1: m.t + ph, y2: m.t + ph }));
  for (const t of timeTicks(from, to, Math.max(2, Math.floor(pw / 70)))) {
    const xx = fmt(x(t));
    axis.append(svg('line', { x1: xx, x2: xx, y1: m.t + ph, y2: m.t + ph + 4 }));
    axis.append(svg('text', { class: 'tick-label', x: xx, y: m.t + ph + 16, 'text-anchor': 'middle', text: clock(t) }));
  }
  root.append(axis);

  // Minute min/max band.
  if (band.length > 0) {
    const g = svg('g', { class: 'band' });
    for (const seg of segments(band, 3 * MINUTE)) {
      if (seg.length === 0) continue;
      const top = seg.map((b) => `${fmt(x(b.t))},${fmt(y(b.max))}`);
      const bottom = seg.map((b) => `${fmt(x(b.t))},${fmt(y(b.min))}`).reverse();
      g.append(svg('polygon', { points: [...top, ...bottom].join(' ') }));
    }
    root.append(g);
  }

  // The series.
  if (points.length > 0) {
    let d = '';
    for (const seg of segments(points, Math.max(2 * MINUTE, 3 * stepHint))) {
      seg.forEach((p, i) => {
        d += `${i === 0 ? 'M' : 'L'}${fmt(x(p.t))},${fmt(y(p.v))}`;
      });
    }
    root.append(svg('path', { class: 'series', d, fill: 'none', 'data-points': points.length }));
    const last = points[points.length - 1];
    root.append(svg('circle', { class: 'last-point', cx: fmt(x(last.t)), cy: fmt(y(last.v)), r: 3 }));
  } else {
    root.append(svg('text', { class: 'no-data', x: m.l + pw / 2, y: m.t + ph / 2, 'text-anchor': 'middle', text: 'no readings in this range' }));
  }

  // Thresholds: dashed lines with a label at the right end.
  const ths = svg('g', { class: 'thresholds' });
  for (const th of thresholds) {
    const yy = fmt(y(th.value));
    ths.append(svg('line', {
      class: `threshold kind-${th.kind || 'threshold'}`,
      x1: m.l,
      x2: m.l + pw,
      y1: yy,
      y2: yy,
      'stroke-dasharray': th.kind === 'clear' ? '2 4' : '6 4',
      'data-value': th.value,
    }, svg('title', { text: th.label || String(th.value) })));
    // Threshold labels above their line, clear-threshold labels below, so a pair close together
    // stays readable; narrow charts show the short form.
    let below = th.kind === 'clear';
    if (!below && yy - 14 < m.t) below = true; // no room above the top line
    if (below && yy + 14 > m.t + ph) below = false; // nor below the bottom one
    ths.append(svg('text', {
      class: `threshold-label kind-${th.kind || 'threshold'}`,
      x: m.l + pw - 4,
      y: below ? yy + 12 : yy - 4,
      'text-anchor': 'end',
      text: (width < 520 ? th.short : th.label) || num(th.value),
    }));
  }
  root.append(ths);

  // Hover read-out: nearest point's time and value.
  if (points.length > 0) {
    const cross = svg('line', { class: 'crosshair', x1: 0, x2: 0, y1: m.t, y2: m.t + ph, visibility: 'hidden' });
    const readout = svg('text', { class: 'readout', x: m.l + 4, y: m.t + 12, visibility: 'hidden' });
    const hit = svg('rect', { class: 'hit', x: m.l, y: m.t, width: pw, height: ph, fill: 'transparent' });
    root.append(cross, readout, hit);
    const nearest = (t) => {
      let a = 0;
      let b = points.length - 1;
      while (b - a > 1) {
        const mid = (a + b) >> 1;
        if (points[mid].t < t) a = mid;
        else b = mid;
      }
      return Math.abs(points[a].t - t) <= Math.abs(points[b].t - t) ? points[a] : points[b];
    };
    hit.addEventListener('pointermove', (e) => {
      const box = root.getBoundingClientRect();
      const sx = ((e.clientX - box.left) / box.width) * width;
      const t = from + ((sx - m.l) / pw) * (to - from);
      const p = nearest(t);
      const xx = fmt(x(p.t));
      cross.setAttribute('x1', xx);
      cross.setAttribute('x2', xx);
      cross.setAttribute('visibility', 'visible');
      readout.textContent = `${dateTime(p.t)}  ${num(p.v)}`;
      readout.setAttribute('visibility', 'visible');
    });
    hit.addEventListener('pointerleave', () => {
      cross.setAttribute('visibility', 'hidden');
      readout.setAttribute('visibility', 'hidden');
    });
  }
  return root;
}
