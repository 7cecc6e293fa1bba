// Page measurement for docs/page.md (not a test): how long the in-painting panel takes to complete
// a test digit's erased top half, guided (the default) and unguided, on the CPU in headless
// Chromium, alternating three times each. Usage: node scripts/measure-inpainting.mjs [COMPLETIONS]
// (build dist/ first; default 6 completions, the panel's own).
import { serve, launch, openPage, loadTestDigit } from "../tests/browser/harness.mjs";

const completions = Number(process.argv[2] || 6);
const { server, base } = await serve();
const browser = await launch();
const page = await openPage(browser, base, "?backend=cpu");
await loadTestDigit(page);
await page.click("#erase-top");
await page.fill("#alternatives", String(completions));
const time = async (guidance) => {
  await page.fill("#inpaint-guidance", String(guidance));
  await page.evaluate(() => { delete window.__test.lastCompletion; });
  const t0 = Date.now();
  await page.click("#complete");
  await page.waitForFunction(() => window.__test.lastCompletion !== undefined, null, { timeout: 300_000 });
  return (Date.now() - t0) / 1000;
};
await time(1); // warm-up: the model's first passes
const out = { completions, guided_s: [], unguided_s: [] };
for (let i = 0; i < 3; i++) {
  out.guided_s.push(await time(1));
  out.unguided_s.push(await time(0));
}
console.log(JSON.stringify(out));
await browser.close();
server.close();
