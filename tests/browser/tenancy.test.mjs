// Another tenant's alerts never reach this tenant's page: an alert of tenant `other` shows on
// other's page and never on acme's, neither in what acme's page reads nor in what its stream
// delivers (after other's page showed it, an acme alert fired later reaches acme's page: the
// stream had its chance).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  alertRow, api, createRule, deleteRule, env, fireAlert, launch, newPage, pageProblems, runId, signIn,
} from './helpers.mjs';

const metric = `bt${runId}_tenant`;
const marker = `bt${runId}_marker`;
let browser;
const rules = [];

before(async () => {
  browser = await launch();
  rules.push([env.otherKey, await createRule(env.otherKey, metric)]);
  rules.push([env.operatorKey, await createRule(env.operatorKey, marker)]);
});

after(async () => {
  await browser?.close();
  for (const [key, rule] of rules) await deleteRule(key, rule.id);
});

test("another tenant's alert shows on its page and never on acme's", async () => {
  const me = await api(env.otherKey, 'GET', '/api/keys/current');
  assert.equal(me.body.tenant, 'other');

  const acme = await newPage(browser);
  const other = await newPage(browser);
  await signIn(acme, env.operatorKey);
  await signIn(other, env.otherKey);
  assert.equal(await other.locator('#who-tenant').textContent(), 'other');

  const foreign = await fireAlert('other', env.otherKey, metric);
  await alertRow(other, foreign.id).waitFor({ state: 'visible', timeout: 20000 });

  // A later acme alert reaches acme's page through its stream ...
  const own = await fireAlert('acme', env.operatorKey, marker);
  await alertRow(acme, own.id).waitFor({ state: 'visible', timeout: 20000 });
  // ... and the other tenant's never did.
  assert.equal(await alertRow(acme, foreign.id).count(), 0);
  assert.equal(await acme.locator(`#alerts-table tr[data-metric="${metric}"]`).count(), 0);
  assert.equal(await acme.locator('html').getAttribute('data-foreign-events'), null,
    "acme's stream delivered another tenant's alert (the page dropped it)");
  assert.equal(await alertRow(other, own.id).count(), 0);

  // Reading everything again changes nothing.
  await acme.reload();
  await acme.locator('#live[data-state="live"]').waitFor({ state: 'attached', timeout: 20000 });
  await alertRow(acme, own.id).waitFor({ timeout: 20000 });
  assert.equal(await alertRow(acme, foreign.id).count(), 0);
  assert.equal((await api(env.operatorKey, 'GET', `/api/alerts/${foreign.id}`)).status, 404);

  assert.deepEqual(await pageProblems(acme), []);
  assert.deepEqual(await pageProblems(other), []);
});
