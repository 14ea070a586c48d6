// The README's screenshots, taken from a running demo (not a test: `node --test` runs
// *.test.mjs only). With `bash deploy/local/demo.sh` running for a minute or more:
//   STE_PAGE_URL=http://127.0.0.1:8080/ STE_OPERATOR_KEY="$(cat .state/demo-api-key)" \
//   STE_SCREENSHOT_DIR=docs/screenshots node tests/browser/demo-screenshots.mjs
// Writes overview-1280.png, overview-390.png, device-1280.png and device-390.png.
import { env, launch, newPage, screenshot, signIn } from './helpers.mjs';

const browser = await launch();
try {
  const page = await newPage(browser);
  await signIn(page, env.operatorKey);
  await page.locator('#alerts-table tr.alert-row').first().waitFor({ timeout: 20000 });
  await page.locator('svg.sparkline').first().waitFor({ state: 'attached', timeout: 20000 });
  await screenshot(page, 'overview-1280');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'overview-390');

  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(new URL('/#/devices/dev-0001', env.pageUrl).href);
  await page.locator('svg.chart path.series').first().waitFor({ state: 'attached', timeout: 20000 });
  await screenshot(page, 'device-1280');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForFunction(() => Number(document.querySelector('svg.chart')?.getAttribute('width')) <= 390);
  await screenshot(page, 'device-390');
} finally {
  await browser.close();
}
