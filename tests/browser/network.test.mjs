// The page needs nothing but its own origin: every request the page makes while signing in,
// showing the overview, following the stream and drawing a device page goes to the
// STE_PAGE_URL host, and the Content-Security-Policy is never violated.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEVICE, env, launch, newPage, pageProblems, signIn } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('no request leaves the host', async () => {
  const page = await newPage(browser);
  const res = await page.goto(env.pageUrl);
  const csp = res.headers()['content-security-policy'] || '';
  assert.match(csp, /default-src 'none'/);
  await signIn(page, env.operatorKey);
  await page.locator('#devices-body tr').first().waitFor({ timeout: 20000 });
  await page.goto(new URL(`/#/devices/${DEVICE}`, env.pageUrl).href);
  await page.locator('#device-charts svg.chart').first().waitFor({ timeout: 20000 });

  const host = new URL(env.pageUrl).host;
  const urls = page.rec.requests.map((r) => r.url);
  assert.ok(urls.some((u) => u.includes('/static/app.js')));
  assert.ok(urls.some((u) => u.includes('/api/stream')));
  for (const u of urls) {
    const url = new URL(u);
    if (url.protocol === 'data:') continue;
    assert.equal(url.host, host, `request to ${u}`);
  }
  assert.deepEqual(await pageProblems(page), []);
});
