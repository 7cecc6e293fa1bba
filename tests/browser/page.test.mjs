// Browser tests: the built page (dist/, from `trunk build --release`) served on loopback and
// driven in headless Chromium, as a user would. Screenshots of each panel go to tests/artifacts/.
import { createRequire } from "node:module";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(path.join(root, "scripts/package.json"));
const { chromium } = require("playwright-core");
const dist = path.join(root, "dist");
const artifacts = path.join(root, "tests/artifacts");
fs.mkdirSync(artifacts, { recursive: true });

const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css" };

function serve() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://localhost");
    const file = path.join(dist, decodeURIComponent(url.pathname === "/" ? "/index.html" : url.pathname));
    if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const server = await serve();
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--enable-unsafe-webgpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic",
  ],
});

async function openPage(query = "", setup = async () => {}) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await setup(page);
  await page.goto(base + query);
  await page.waitForFunction(() => document.body.dataset.ready === "true" || !document.getElementById("error").hidden, null, { timeout: 180_000 });
  page.jsErrors = errors;
  return page;
}

// Share of a canvas's pixels that are not the light background (R=G=B=225) nor white.
async function inkShare(page, id) {
  return page.evaluate((id) => {
    const c = document.getElementById(id);
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) {
      const bg = d[i] === d[i + 1] && d[i + 1] === d[i + 2] && (d[i] === 225 || d[i] === 255);
      if (!bg) ink++;
    }
    return ink / (d.length / 4);
  }, id);
}

const noErrorBox = async (page) => {
  const text = await page.evaluate(() => { const e = document.getElementById("error"); return e.hidden ? "" : e.textContent; });
  assert(text === "", `the page shows an error: ${text}`);
  assert(page.jsErrors.length === 0, `JavaScript errors: ${page.jsErrors.join("; ")}`);
};

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("the page draws 25 toy sequences that start at T (CPU)", async () => {
  const page = await openPage("?backend=cpu");
  await noErrorBox(page);
  await page.waitForSelector('#toy-canvas[data-count="25"]', { timeout: 60_000 });
  const toy = await page.evaluate(() => window.lastToy);
  assert(toy.values.length === 25 * toy.len, `${toy.values.length} values`);
  for (let s = 0; s < 25; s++) assert(toy.values[s * toy.len] === toy.len, `sequence ${s} starts at ${toy.values[s * toy.len]}`);
  assert((await inkShare(page, "toy-canvas")) > 0.01, "the toy canvas is empty");
  assert((await page.textContent("#backend")).includes("CPU"), "the page does not say it runs on the CPU");
  await page.locator("#toy").screenshot({ path: path.join(artifacts, "toy.png") });
  await page.close();
});

test("digits are generated on the CPU, with the posterior view", async () => {
  const page = await openPage("?backend=cpu");
  await page.fill("#digits-count", "4");
  await page.click("#digits-go");
  await page.waitForSelector('#digits-canvas[data-done="true"]', { timeout: 300_000 });
  await noErrorBox(page);
  const digits = await page.evaluate(() => window.lastDigits);
  assert(digits.count === 4 && digits.pixels.length === 4 * 784, "wrong number of pixels");
  const inked = digits.pixels.filter((v) => v > 128).length;
  assert(inked > 4 * 20, `only ${inked} dark pixels in 4 digits`);
  assert((await inkShare(page, "digits-canvas")) > 0.02, "the digits canvas is empty");
  assert((await inkShare(page, "posterior-canvas")) > 0.01, "the posterior view is empty");
  console.log(`   4 digits on the CPU in ${digits.secs.toFixed(2)} s`);
  await page.locator("#digits").screenshot({ path: path.join(artifacts, "digits.png") });
  // Stop halts a longer generation part-way: the picture stays unfinished.
  await page.fill("#digits-count", "32");
  await page.click("#digits-go");
  await page.waitForFunction(() => /^\d+\/784 pixels/.test(document.getElementById("digits-status").textContent));
  await page.click("#digits-stop");
  await page.waitForFunction(() => document.getElementById("digits-status").textContent.includes("(stopped)"), null, { timeout: 30_000 });
  const status = await page.textContent("#digits-status");
  const step = Number(status.split("/")[0]);
  assert(step < 784, `stopped at ${step}`);
  assert((await page.getAttribute("#digits-canvas", "data-done")) === null, "a stopped generation says done");
  await noErrorBox(page);
  await page.close();
});

test("in-painting keeps every known pixel and fills the others", async () => {
  const page = await openPage("?backend=cpu");
  await page.click("#editor-test");
  await page.fill("#keep-rows", "18");
  await page.dispatchEvent("#keep-rows", "input");
  await page.check('input[name="tool"][value="pen"]');
  // A stroke across rows 21-22, below the kept rows: these pixels become known too.
  const box = await page.locator("#editor").boundingBox();
  await page.mouse.move(box.x + 60, box.y + 215);
  await page.mouse.down();
  await page.mouse.move(box.x + 220, box.y + 225, { steps: 12 });
  await page.mouse.up();
  const drawn = await page.evaluate(() => Array.from(window.editor.drawn).reduce((a, b) => a + b, 0));
  assert(drawn > 10, `the stroke marked only ${drawn} pixels`);
  await page.fill("#alternatives", "2");
  await page.click("#complete");
  await page.waitForSelector('#completions[data-done="true"]', { timeout: 300_000 });
  await noErrorBox(page);
  const { known, pixels } = await page.evaluate(() => window.lastCompletion);
  let unknown = 0, filled = 0;
  for (let i = 0; i < known.length; i++) {
    if (known[i] >= 0) assert(pixels[i] === known[i], `known pixel ${i % 784} of completion ${Math.floor(i / 784)} changed`);
    else { unknown++; if (pixels[i] > 0) filled++; }
  }
  assert(unknown > 2 * 100, `only ${unknown} unknown pixels`);
  assert(filled > 0, "no unknown pixel was filled with ink");
  await page.locator("#inpaint").screenshot({ path: path.join(artifacts, "inpainting.png") });
  await page.close();
});

test("WebGPU and the CPU give the same logits, and the backend switch works", async () => {
  const page = await openPage();
  await noErrorBox(page);
  const gpu = await page.evaluate(() => window.demo.gpu_available());
  assert(gpu, `no WebGPU adapter: ${await page.textContent("#backend-note")}`);
  assert((await page.textContent("#backend")).startsWith("WebGPU"), "the page does not name the WebGPU adapter");
  const diff = await page.evaluate(async () => {
    const a = await window.demo.probe_logits(false);
    const b = await window.demo.probe_logits(true);
    // Each holds the plain logits, then the row-skipping ones (what generation uses).
    let m = 0, skip = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    for (let i = 0; i < 256; i++) skip = Math.max(skip, Math.abs(a[i] - a[256 + i]), Math.abs(b[i] - b[256 + i]));
    return { m, skip, n: a.length };
  });
  assert(diff.n === 512, `${diff.n} logits`);
  assert(diff.m < 1e-3, `CPU and WebGPU logits differ by ${diff.m}`);
  assert(diff.skip < 1e-3, `skipping the empty rows changes the logits by ${diff.skip}`);
  console.log(`   max |CPU - WebGPU| logit difference: ${diff.m.toExponential(2)}`);
  await page.selectOption("#backend-select", "cpu");
  assert((await page.textContent("#backend")).includes("CPU"), "switching to the CPU did not take");
  await page.locator("header").screenshot({ path: path.join(artifacts, "backend.png") });
  await page.close();
});

test("corrupt or wrong weights give a clear message in the page", async () => {
  const weights = fs.readFileSync(path.join(dist, "weights/mnist.bpk"));
  const toy = fs.readFileSync(path.join(dist, "weights/toy.bpk"));
  const page = await openPage("?backend=cpu", async (p) => {
    await p.route("**/weights/mnist.bpk", (route) => route.fulfill({ status: 200, body: weights.subarray(0, weights.length >> 1) }));
  });
  const text = await page.textContent("#error");
  assert(!(await page.locator("#error").isHidden()), "no error shown for truncated weights");
  assert(text.includes("MNIST weights"), `the message does not name the weights: ${text}`);
  assert(await page.isDisabled("#digits-go"), "digits can still be generated without weights");
  await page.waitForSelector('#toy-canvas[data-count="25"]', { timeout: 60_000 });
  await page.locator("header").screenshot({ path: path.join(artifacts, "corrupt-weights.png") });
  await page.close();

  const swapped = await openPage("?backend=cpu", async (p) => {
    await p.route("**/weights/mnist.bpk", (route) => route.fulfill({ status: 200, body: toy }));
  });
  const swappedText = await swapped.textContent("#error");
  assert(swappedText.includes("toy-conv1d"), `wrong-model weights not explained: ${swappedText}`);
  await swapped.close();
});

let passed = 0, failed = 0;
for (const t of tests) {
  const start = Date.now();
  try {
    await t.fn();
    passed++;
    console.log(`ok   ${t.name} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${t.name}: ${e.message}`);
  }
}
await browser.close();
server.close();
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
