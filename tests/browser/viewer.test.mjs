// A viewer key sees the alerts but no button that changes anything: the action buttons are absent
// (not disabled), on the overview and on the device page.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DEVICE, alertRow, api, createRule, deleteRule, env, fireAlert, launch, newPage, pageProblems,
  runId, signIn,
} from './helpers.mjs';

const metric = `bt${runId}_viewer`;
let browser;
let rule;

before(async () => {
  browser = await launch();
  rule = await createRule(env.operatorKey, metric, { severity: 'warning' });
});

after(async () => {
  await browser?.close();
  if (rule) await deleteRule(env.operatorKey, rule.id);
});

test('a viewer key sees alert rows and no action buttons', async () => {
  const me = await api(env.viewerKey, 'GET', '/api/keys/current');
  assert.equal(me.body.role, 'viewer');
  assert.equal(me.body.tenant, 'acme');
  const alert = await fireAlert('acme', env.operatorKey, metric);

  const page = await newPage(browser);
  await signIn(page, env.viewerKey);
  assert.match(await page.locator('#who-role').textContent(), /viewer/);
  const row = alertRow(page, alert.id);
  await row.waitFor({ state: 'visible', timeout: 20000 });
  assert.ok(await page.locator('#alerts-table tr.alert-row').count() >= 1);

  const actions = '[data-action="ack"], [data-action="resolve"], [data-action="comment"], [data-action="silence"]';
  assert.equal(await page.locator(actions).count(), 0);
  assert.equal(await page.locator('#alerts-table button').count(), 0);
  assert.equal(await page.locator('#alerts-table th', { hasText: 'Actions' }).count(), 0);
  assert.equal(await row.locator('td').count(), 7);

  // The operator's page shows the same row with its buttons (the selector above is the right one).
  const op = await newPage(browser);
  await signIn(op, env.operatorKey);
  await alertRow(op, alert.id).waitFor({ timeout: 20000 });
  assert.ok(await alertRow(op, alert.id).locator(actions).count() >= 3);
  await op.context().close();

  // Device page: charts, range buttons, nothing that writes.
  await page.goto(new URL(`/#/devices/${DEVICE}`, env.pageUrl).href);
  await page.locator(`.chart-card[data-metric="${metric}"] svg.chart`).waitFor({ timeout: 20000 });
  assert.equal(await page.locator(actions).count(), 0);
  const labels = await page.locator('main button:visible').allTextContents();
  for (const label of labels) assert.match(label, /^(1 h|6 h|24 h)$/, `unexpected button '${label}'`);
  assert.deepEqual(await pageProblems(page), []);
  await page.context().close();
});
