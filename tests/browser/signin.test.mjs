// Sign-in: a wrong key is refused with a clear message; the right key shows the tenant and the
// key's name; the key lives in sessionStorage only (never localStorage, never in a URL); sign out
// forgets it.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, env, launch, newPage, pageProblems, waitLive } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('a wrong key shows an error and stays on the sign-in form', async () => {
  const page = await newPage(browser);
  await page.goto(env.pageUrl);
  await page.locator('#signin-key').fill('ste_0000000000000000000000000000000000000000');
  await page.locator('#signin-submit').click();
  const error = page.locator('#signin-error');
  await error.waitFor({ state: 'visible', timeout: 20000 });
  assert.match(await error.textContent(), /not accepted.*401/);
  assert.equal(await page.locator('#whoami').isVisible(), false);
  assert.equal(await page.locator('#overview-view').isVisible(), false);
  assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0);
  assert.deepEqual(await pageProblems(page), []);
  await page.context().close();
});

test('the right key shows the tenant and the key name; sign out forgets the key', async () => {
  const me = await api(env.operatorKey, 'GET', '/api/keys/current');
  assert.equal(me.status, 200);
  assert.equal(me.body.tenant, 'acme');
  assert.equal(me.body.role, 'operator');

  const page = await newPage(browser);
  await page.goto(env.pageUrl);
  await page.locator('#signin-key').fill(env.operatorKey);
  await page.locator('#signin-submit').click();
  await page.locator('#whoami').waitFor({ state: 'visible', timeout: 20000 });
  assert.equal(await page.locator('#who-tenant').textContent(), 'acme');
  assert.equal(await page.locator('#who-key').textContent(), me.body.name);
  assert.equal(await page.locator('#signin-view').isVisible(), false);
  await page.locator('#tiles .tile').first().waitFor({ timeout: 20000 });
  await waitLive(page);

  // The key is in this tab's sessionStorage only, and in no URL the page requested.
  const stored = await page.evaluate(() => ({
    session: Object.keys(sessionStorage).map((k) => sessionStorage.getItem(k)),
    local: localStorage.length,
  }));
  assert.deepEqual(stored.session, [env.operatorKey]);
  assert.equal(stored.local, 0);
  assert.ok(page.rec.requests.length > 0);
  for (const r of page.rec.requests) assert.ok(!r.url.includes(env.operatorKey), `the key is in ${r.url}`);

  // A reload in the same tab keeps the session.
  await page.reload();
  await page.locator('#whoami').waitFor({ state: 'visible', timeout: 20000 });
  assert.equal(await page.locator('#who-tenant').textContent(), 'acme');

  await page.locator('#signout').click();
  await page.locator('#signin-view').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0);
  assert.equal(await page.locator('#live').getAttribute('data-state'), 'off');
  assert.deepEqual(await pageProblems(page), []);
  await page.context().close();
});
