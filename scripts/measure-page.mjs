// Page measurements for the README (not a test): time to first sample, and the time to generate
// 48 digits on each backend in headless Chromium. SwiftShader's WebGPU is a CPU emulation, so on
// it only the first `--gpu-rows` rows are timed and the whole is extrapolated (said so in output).
// Usage: node scripts/measure-page.mjs [gpu-rows]   (serves dist/ on loopback; build it first)
import { createRequire } from "node:module";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(root, "scripts/package.json"));
const { chromium } = require("playwright-core");
const dist = path.join(root, "dist");
const gpuRows = Number(process.argv[2] || 1);
const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css" };
const server = http.createServer((req, res) => {
  const p = new URL(req.url, "http://x").pathname;
  const file = path.join(dist, p === "/" ? "index.html" : p);
  if (!file.startsWith(dist) || !fs.existsSync(file)) return res.writeHead(404).end();
  res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream" });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--enable-unsafe-webgpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

async function timeDigits(page, count, rows) {
  return page.evaluate(async ({ count, rows }) => {
    const demo = window.demo;
    demo.start_digits(count, 0, 1.0, undefined);
    const t0 = performance.now();
    let r;
    do { r = await demo.advance(28, 0); } while (!r.done && r.step < rows * 28);
    return { secs: (performance.now() - t0) / 1000, steps: r.step };
  }, { count, rows });
}

const out = {};
for (const backend of ["cpu", "gpu"]) {
  const page = await browser.newPage();
  const t0 = Date.now();
  await page.goto(base + (backend === "cpu" ? "?backend=cpu" : ""));
  await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 300_000 });
  const name = await page.textContent("#backend");
  const first = await page.evaluate(() => window.timeToFirstSample);
  const ready = (Date.now() - t0) / 1000;
  const rows = backend === "cpu" ? 28 : gpuRows;
  const r = await timeDigits(page, 48, rows);
  out[backend] = {
    backend: name,
    time_to_first_toy_sample_s: first / 1000,
    page_load_to_ready_s: ready,
    digits: 48,
    steps_timed: r.steps,
    seconds_timed: r.secs,
    seconds_for_48_digits: (r.secs * 784) / r.steps,
    extrapolated: r.steps < 784,
  };
  await page.close();
}
console.log(JSON.stringify(out, null, 2));
await browser.close();
server.close();
