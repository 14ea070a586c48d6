// Shared helpers of the operator page's browser tests (headless Chromium through playwright-core).
//
// Everything comes from the environment, set by the harness that started the stack:
//   STE_PAGE_URL       the page, e.g. http://127.0.0.1:PORT/ (the API is on the same origin)
//   STE_OPERATOR_KEY   tenant acme, role operator
//   STE_VIEWER_KEY     tenant acme, role viewer
//   STE_OTHER_KEY      tenant other, role operator
//   STE_LOADGEN_BIN    ste-loadgen, to publish readings
//   STE_NATS_URL       the NATS server the ingester reads
//   STE_SCREENSHOT_DIR optional: screenshots are written there
//   STE_CHROMIUM       optional: the browser (default /usr/bin/chromium)

import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const run = promisify(execFile);

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (the browser tests run against a live stack: tests/browser/README.md)`);
  return v;
}

export const env = {
  get pageUrl() {
    return required('STE_PAGE_URL');
  },
  get operatorKey() {
    return required('STE_OPERATOR_KEY');
  },
  get viewerKey() {
    return required('STE_VIEWER_KEY');
  },
  get otherKey() {
    return required('STE_OTHER_KEY');
  },
  get loadgen() {
    return required('STE_LOADGEN_BIN');
  },
  get natsUrl() {
    return required('STE_NATS_URL');
  },
  screenshotDir: process.env.STE_SCREENSHOT_DIR || '',
  chromium: process.env.STE_CHROMIUM || '/usr/bin/chromium',
};

/** A short id unique to this run, so metrics, rules and comments of earlier runs never match. */
export const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;

/** The device ste-loadgen publishes as with --devices 1. */
export const DEVICE = 'dev-0000';

// ---------------------------------------------------------------------------------------------
// Polling

export async function waitFor(fn, { timeout = 30000, interval = 200, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${message}${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

// ---------------------------------------------------------------------------------------------
// The API, from Node

export async function api(key, method, apiPath, body) {
  const url = new URL(apiPath, env.pageUrl);
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, {
      method,
      headers: { 'X-API-Key': key, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    if (res.status === 429 && attempt < 5) {
      await new Promise((r) => setTimeout(r, 1000 * (Number(res.headers.get('Retry-After')) || 1)));
      continue;
    }
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = { raw: text };
    }
    return { status: res.status, body: json };
  }
}

/** Creates an above-threshold rule (80, clears at 75) on `metric`; returns it. */
export async function createRule(key, metric, { severity = 'critical', device = null } = {}) {
  const r = await api(key, 'POST', '/api/rules', {
    name: `browser ${metric}`,
    metric,
    device,
    condition: 'above_threshold',
    threshold: 80,
    clear_threshold: 75,
    severity,
    cooldown_minutes: 0,
  });
  if (r.status !== 201) throw new Error(`POST /api/rules answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function deleteRule(key, id) {
  await api(key, 'DELETE', `/api/rules/${id}`);
}

export async function openAlerts(key, metric) {
  const r = await api(key, 'GET', `/api/alerts?status=open&metric=${encodeURIComponent(metric)}&limit=50`);
  if (r.status !== 200) throw new Error(`GET /api/alerts answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body.alerts;
}

// ---------------------------------------------------------------------------------------------
// Readings

/** Publishes one reading of `metric` for dev-0000 of `tenant` with ste-loadgen. */
export async function publish(tenant, metric, value = 93.2) {
  const args = ['--nats-url', env.natsUrl, '--tenant', tenant, '--devices', '1', '--metric-names', metric,
    '--count', '1', '--spike-every', '1', '--spike-value', String(value), '--log-level', 'warn'];
  const childEnv = { ...process.env };
  if (!childEnv.ASAN_OPTIONS) childEnv.ASAN_OPTIONS = 'detect_leaks=0';
  const { stdout } = await run(env.loadgen, args, { env: childEnv, timeout: 30000 });
  const line = stdout.trim().split('\n').pop();
  const summary = JSON.parse(line);
  if (summary.published !== 1) throw new Error(`ste-loadgen did not publish: ${stdout}`);
}

/**
 * Publishes a spike until the rule's alert is open (a new rule reaches the evaluators through
 * LISTEN/NOTIFY, so the first reading may come before it); returns the open alert.
 */
export async function fireAlert(tenant, key, metric, { timeout = 40000 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    await publish(tenant, metric);
    try {
      return await waitFor(async () => {
        const open = await openAlerts(key, metric);
        return open.find((a) => a.status === 'firing');
      }, { timeout: Math.min(4000, Math.max(500, deadline - Date.now())), message: `an alert on ${metric}` });
    } catch (e) {
      if (Date.now() >= deadline) throw e;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The browser

const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];

export async function launch() {
  return chromium.launch({ executablePath: env.chromium, args: ARGS });
}

/**
 * A new page in its own context (its own sessionStorage) that records every request, console
 * error, page error and Content-Security-Policy violation.
 */
export async function newPage(browser, { width = 1280, height = 800 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const rec = { requests: [], errors: [], csp: [] };
  page.on('request', (r) => rec.requests.push({ url: r.url(), method: r.method(), at: Date.now() }));
  page.on('pageerror', (e) => rec.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (401|403|404|409|429)/.test(m.text())) rec.errors.push(`console: ${m.text()}`);
  });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  page.rec = rec;
  return page;
}

/** Asserts nothing went wrong on the page: no script error, no CSP violation. */
export async function pageProblems(page) {
  const csp = await page.evaluate(() => window.__csp || []).catch(() => []);
  return [...page.rec.errors, ...csp.map((c) => `csp: ${c}`)];
}

/** Opens the page and signs in; resolves when the live stream is ready. */
export async function signIn(page, key, { hash = '' } = {}) {
  await page.goto(new URL(hash ? `/${hash}` : '/', env.pageUrl).href);
  await page.locator('#signin-key').fill(key);
  await page.locator('#signin-submit').click();
  await page.locator('#whoami').waitFor({ state: "visible", timeout: 20000 });
  await waitLive(page);
}

export async function waitLive(page, timeout = 20000) {
  await page.locator('#live[data-state="live"]').waitFor({ state: 'attached', timeout });
}

export function alertRow(page, id) {
  return page.locator(`#alerts-table tr.alert-row[data-alert-id="${id}"]`);
}

export async function screenshot(page, name) {
  if (!env.screenshotDir) return;
  mkdirSync(env.screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(env.screenshotDir, `${name}.png`), fullPage: false });
}
