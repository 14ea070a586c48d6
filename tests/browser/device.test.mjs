// The device page draws each metric: an SVG line chart with the rule's threshold and clear
// threshold as dashed lines and the alert episode shaded; 6 h shows minute buckets; a reading
// published while the page is open is added to the chart without a reload.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DEVICE, createRule, deleteRule, env, fireAlert, launch, newPage, pageProblems, publish, runId,
  screenshot, signIn, waitFor,
} from './helpers.mjs';

const metric = `bt${runId}_chart`;
let browser;
let rule;
let alert;

before(async () => {
  browser = await launch();
  rule = await createRule(env.operatorKey, metric, { device: DEVICE });
  await publish('acme', metric, 21.5);
  alert = await fireAlert('acme', env.operatorKey, metric);
});

after(async () => {
  await browser?.close();
  if (rule) await deleteRule(env.operatorKey, rule.id);
});

test('the device page shows a chart with the threshold and the episode', async () => {
  const page = await newPage(browser);
  await signIn(page, env.operatorKey, { hash: `#/devices/${DEVICE}` });
  assert.equal(await page.locator('#device-title').textContent(), DEVICE);
  const card = page.locator(`.chart-card[data-metric="${metric}"]`);
  const chart = card.locator('svg.chart');
  await chart.waitFor({ timeout: 20000 });
  await card.locator('svg.chart path.series').waitFor({ state: 'attached' });
  assert.ok(Number(await card.locator('path.series').getAttribute('data-points')) >= 2);
  assert.match(await card.locator('path.series').getAttribute('d'), /^M[\d.]+,[\d.]+L/);
  // threshold 80 dashed, clear threshold 75 dashed
  const threshold = card.locator('line.threshold.kind-threshold[data-value="80"]');
  assert.equal(await threshold.count(), 1);
  assert.ok(await threshold.getAttribute('stroke-dasharray'));
  assert.equal(await card.locator('line.threshold.kind-clear[data-value="75"]').count(), 1);
  // the episode, shaded over its span
  const episode = card.locator(`rect.episode[data-alert-id="${alert.id}"]`);
  assert.equal(await episode.count(), 1);
  assert.ok(Number(await episode.getAttribute('width')) > 0);
  await card.scrollIntoViewIfNeeded();
  await screenshot(page, 'device-1280');

  // A new reading is appended live.
  const points = Number(await card.locator('path.series').getAttribute('data-points'));
  await publish('acme', metric, 30.25);
  await waitFor(async () => Number(await card.locator('path.series').getAttribute('data-points')) > points,
    { timeout: 20000, message: 'the chart to take the new reading' });

  // 6 h: minute buckets, with the min-max band; the thresholds stay.
  await page.locator('#device-range button[data-range="6h"]').click();
  await waitFor(async () => (await page.locator('#device-range button[data-range="6h"]').getAttribute('aria-pressed')) === 'true');
  await card.locator('g.band polygon').first().waitFor({ state: 'attached', timeout: 20000 });
  assert.equal(await card.locator('line.threshold.kind-threshold[data-value="80"]').count(), 1);

  // Phone width: the charts are drawn again for the narrower box.
  await page.locator('#device-range button[data-range="1h"]').click();
  await card.locator('path.series').waitFor({ state: 'attached' });
  await page.setViewportSize({ width: 390, height: 844 });
  await waitFor(async () => Number(await card.locator('svg.chart').getAttribute('width')) <= 390,
    { message: 'the chart to be drawn for 390 px' });
  assert.equal(await card.locator('line.threshold.kind-threshold[data-value="80"]').count(), 1);
  await card.scrollIntoViewIfNeeded();
  await screenshot(page, 'device-390');
  assert.deepEqual(await pageProblems(page), []);
});
