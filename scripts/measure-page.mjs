// Page measurements for docs/page.md (not a test): time to first sample, and the time to generate
// 48 digits per model, visiting order and positions per step on the CPU, through the page's own
// controls in headless Chromium. Usage: node scripts/measure-page.mjs   (build dist/ first)
// With --gpu it also times SwiftShader's WebGPU (a CPU emulation: slow; for correctness only).
import { serve, launch, openPage, generateDigits } from "../tests/browser/harness.mjs";

const { server, base } = await serve();
const browser = await launch();
const defaultRun = { model: "mnist-any-order", order: "random", perStep: 16, schedule: "cosine" }; // the digits panel's
const adaptiveRun = { model: "mnist-any-order", order: "adaptive", perStep: 16, schedule: "constant" }; // the in-painting panel's
// The first generation after load also pays for the model's first passes (allocation, the
// wasm's first runs): a warm-up run, not reported, then the two settings compared three times each,
// alternating, so that neither gains from going second.
const warmUp = { ...defaultRun, warmUp: true };
const runs = [
  warmUp, defaultRun, adaptiveRun, defaultRun, adaptiveRun, defaultRun, adaptiveRun,
  { model: "mnist-any-order", order: "raster", perStep: 16, schedule: "constant" },
  { model: "mnist-any-order", order: "adaptive", perStep: 4, schedule: "constant" },
  { model: "mnist-any-order", order: "random", perStep: 16, schedule: "constant" },
  { model: "mnist", order: "raster", perStep: 1 },
];
const out = { digits: 48, runs: [] };
const backends = process.argv.includes("--gpu") ? ["cpu", "gpu"] : ["cpu"];
for (const backend of backends) {
  const page = await openPage(browser, base, `?backend=${backend}`);
  await page.waitForFunction(() => window.__test.timeToFirstSample !== undefined, null, { timeout: 120_000 });
  if (backend === "cpu") out.time_to_first_toy_sample_s = (await page.evaluate(() => window.__test.timeToFirstSample)) / 1000;
  for (const run of backend === "cpu" ? runs : [defaultRun]) {
    const { warmUp: skip, ...settings } = run;
    const r = await generateDigits(page, { ...settings, count: 48 });
    if (skip) continue;
    out.runs.push({ backend: await page.textContent("#backend"), workers: r.workers, ...settings, seconds: r.secs, longest_main_thread_stall_ms: r.maxStall });
    console.error(JSON.stringify(out.runs.at(-1)));
  }
  await page.close();
}
console.log(JSON.stringify(out, null, 2));
await browser.close();
server.close();
