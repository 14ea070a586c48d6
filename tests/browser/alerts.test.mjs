// The alerts table follows /api/stream: an alert fired by a reading published while the page is
// open appears without a reload and without the page asking /api/alerts again; an operator
// acknowledges it from the page (acked_by = the key's name) and silences its device (the silence
// exists in GET /api/silences).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DEVICE, alertRow, api, createRule, deleteRule, env, fireAlert, launch, newPage, pageProblems,
  runId, screenshot, signIn, waitFor,
} from './helpers.mjs';

const metric = `bt${runId}_live`;
let browser;
let page;
let rule;
let alert;
let keyName;

before(async () => {
  browser = await launch();
  rule = await createRule(env.operatorKey, metric);
  keyName = (await api(env.operatorKey, 'GET', '/api/keys/current')).body.name;
  page = await newPage(browser);
});

after(async () => {
  await browser?.close();
  if (rule) await deleteRule(env.operatorKey, rule.id);
});

test('an alert fired while the page is open appears without a reload', async () => {
  await signIn(page, env.operatorKey); // resolves once the stream said `ready`
  await page.locator('#alerts-open').waitFor();
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  const before = page.rec.requests.length;
  alert = await fireAlert('acme', env.operatorKey, metric);
  const row = alertRow(page, alert.id);
  await row.waitFor({ state: 'visible', timeout: 20000 });
  assert.equal(await row.getAttribute('data-status'), 'firing');
  assert.equal(await row.locator('td[data-label="Device"]').textContent(), DEVICE);
  assert.equal(await row.locator('td[data-label="Metric"]').textContent(), metric);
  assert.equal(await row.locator('td[data-label="Value"]').textContent(), '93.2');
  // Same document, and the row came from the stream: no alerts list was requested meanwhile.
  assert.equal(await page.evaluate(() => window.__sameDocument), true);
  const listed = page.rec.requests.slice(before).filter((r) => new URL(r.url).pathname === '/api/alerts');
  assert.deepEqual(listed, []);
  // The tiles follow (the summary is read again after the event).
  await waitFor(async () => Number(await page.locator('[data-tile="critical"] .unacked').getAttribute('data-count')) >= 1,
    { message: 'the critical tile to count the alert' });
});

test('an operator acknowledges the alert from the page', async () => {
  const row = alertRow(page, alert.id);
  await row.locator('button[data-action="ack"]').click();
  const dialog = page.locator('#action-dialog[data-kind="ack"]');
  await dialog.waitFor({ state: 'visible' });
  await dialog.locator('textarea[name="comment"]').fill(`checking ${runId}`);
  await dialog.locator('button[data-submit="ack"]').click();
  await dialog.waitFor({ state: 'hidden' });
  await waitFor(async () => (await row.locator('td[data-label="Acked by"]').textContent()) === keyName,
    { message: `acked_by ${keyName} in the row` });
  assert.equal(await row.locator('button[data-action="ack"]').count(), 0, 'no Acknowledge button once acknowledged');
  // The tiles follow: the critical tile counts it as acknowledged.
  await waitFor(async () => Number(await page.locator('[data-tile="critical"] .acked').getAttribute('data-count')) >= 1,
    { message: 'the critical tile to count an acknowledged alert' });
  const stored = await api(env.operatorKey, 'GET', `/api/alerts/${alert.id}`);
  assert.equal(stored.body.acked_by, keyName);
  assert.equal(stored.body.ack_comment, `checking ${runId}`);
});

test('an operator silences the device from the page', async () => {
  const row = alertRow(page, alert.id);
  await row.locator('button[data-action="silence"]').click();
  const dialog = page.locator('#action-dialog[data-kind="silence"]');
  await dialog.waitFor({ state: 'visible' });
  await dialog.locator('select[name="hours"]').selectOption('4');
  await dialog.locator('button[data-submit="silence"]').click();
  await dialog.waitFor({ state: 'hidden' });

  const silence = await waitFor(async () => {
    const r = await api(env.operatorKey, 'GET', '/api/silences?status=active');
    return r.body.silences.find((s) => s.comment.includes(metric));
  }, { message: 'the silence in GET /api/silences' });
  assert.deepEqual(silence.matchers, [{ field: 'device', op: '=', value: DEVICE }]);
  assert.equal(silence.created_by, keyName);
  const hours = (Date.parse(silence.ends_at) - Date.parse(silence.starts_at)) / 3600000;
  assert.ok(Math.abs(hours - 4) < 0.1, `the silence lasts ${hours} h, not 4`);
  // The row shows it (the page reads the alerts again: silenced_by changed).
  await row.locator('.tag-silenced').waitFor({ timeout: 20000 });
  await screenshot(page, 'overview-1280');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'overview-390');
  await api(env.operatorKey, 'DELETE', `/api/silences/${silence.id}`);
  assert.deepEqual(await pageProblems(page), []);
});

test('an API error is shown to the user', async () => {
  await page.setViewportSize({ width: 1280, height: 800 });
  // Resolved through the API, the row follows through the stream; then a comment (allowed in any
  // state) with a control character, which the server refuses with 422: the dialog shows it.
  const resolved = await api(env.operatorKey, 'POST', `/api/alerts/${alert.id}/resolve`, {});
  assert.equal(resolved.status, 200);
  const row = alertRow(page, alert.id);
  await waitFor(async () => (await row.getAttribute('data-status')) === 'resolved', { message: 'the row to turn resolved' });
  await row.locator('button[data-action="comment"]').click();
  const dialog = page.locator('#action-dialog[data-kind="comment"]');
  await dialog.locator('textarea[name="text"]').fill('bell \u0007 here');
  await dialog.locator('button[data-submit="comment"]').click();
  const error = dialog.locator('.form-error');
  await error.waitFor({ state: 'visible' });
  assert.match(await error.textContent(), /invalid_field, HTTP 422/);
  await dialog.locator('textarea[name="text"]').fill(`all good ${runId}`);
  await dialog.locator('button[data-submit="comment"]').click();
  await dialog.waitFor({ state: 'hidden' });
  const events = await api(env.operatorKey, 'GET', `/api/alerts/${alert.id}/events`);
  assert.ok(events.body.events.some((e) => e.kind === 'comment' && e.detail.text === `all good ${runId}`));
});
