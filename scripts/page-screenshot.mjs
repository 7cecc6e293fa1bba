// The README's picture of the page (docs/page.png): 16 any-order digits and six completions of
// the first test digit, on the CPU, from the built page (dist/). Not a test.
//   node scripts/page-screenshot.mjs docs/page.png
import { serve, launch, openPage, generateDigits } from "../tests/browser/harness.mjs";
const { server, base } = await serve();
const browser = await launch();
const page = await openPage(browser, base, "?backend=cpu", { viewport: { width: 1100, height: 900 } });
await page.waitForSelector('#toy-canvas[data-count="25"]', { timeout: 120_000 });
// The digits panel at its defaults (random order, cosine schedule: docs/judge.md#the-schedule).
await generateDigits(page, { count: 16, perStep: 16, order: await page.inputValue("#digits-order"), schedule: await page.inputValue("#digits-schedule") });
await page.click("#complete");
await page.waitForSelector('#completions[data-done="true"]', { timeout: 300_000 });
// The digits panel and the in-painting panel's completions: what a visitor watches.
const [top, bottom] = await page.evaluate(() => [
  document.getElementById("digits").getBoundingClientRect().top + scrollY,
  document.getElementById("completions").getBoundingClientRect().bottom + scrollY,
]);
await page.screenshot({ path: process.argv[2], fullPage: true, clip: { x: 0, y: top - 8, width: 1100, height: bottom - top + 24 } });
await browser.close();
server.close();
