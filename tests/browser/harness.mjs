// What the page tests and scripts/measure-page.mjs share: dist/ served on loopback, headless
// Chromium with WebGPU (SwiftShader where there is no GPU), and a page opened until it is ready.
import { createRequire } from "node:module";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const dist = path.join(root, "dist");
const require = createRequire(path.join(root, "scripts/package.json"));
const { chromium } = require("playwright-core");

const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css" };

/** Serves `dir` (dist/ by default) on a free loopback port; resolves to { server, base }.
 *  `server.requests` lists the paths asked for, in order (a test may empty it); a request whose
 *  path and query are in `server.stalled` is not answered (a stalled link, for tests of bounded
 *  waits) until `server.release()`; one in `server.stalledOnce`, only the first time it is asked. */
export function serve(dir = dist) {
  const send = (res, pathname) => {
    const file = path.join(dir, decodeURIComponent(pathname === "/" ? "/index.html" : pathname));
    if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://localhost");
    server.requests.push(url.pathname);
    const key = url.pathname + url.search;
    if (server.stalled.has(key) || server.stalledOnce.delete(key)) {
      server.held.push({ res, pathname: url.pathname });
      return;
    }
    send(res, url.pathname);
  });
  server.requests = [];
  server.stalled = new Set();
  server.stalledOnce = new Set();
  server.held = [];
  server.release = () => {
    server.stalled.clear();
    server.stalledOnce.clear();
    for (const { res, pathname } of server.held.splice(0)) send(res, pathname);
  };
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, base: `http://127.0.0.1:${server.address().port}/` })));
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--enable-unsafe-webgpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-quic",
    ],
  });
}

/** Opens `base + query` and waits until the page is ready or shows an error. */
export async function openPage(browser, base, query = "", { setup = async () => {}, viewport = { width: 1200, height: 1000 }, context = null, waitFor = "loaded" } = {}) {
  const page = watchErrors(context ? await context.newPage() : await browser.newPage({ viewport }));
  await setup(page);
  await page.goto(base + query);
  await waitUntilReady(page, waitFor);
  return page;
}

/** Collects `page`'s uncaught JavaScript errors in `page.jsErrors`; returns `page`. */
export function watchErrors(page) {
  page.jsErrors = [];
  page.on("pageerror", (e) => page.jsErrors.push(String(e)));
  return page;
}

/** Waits until `page` is ready and (`waitFor` "loaded", the default) every model's weights are in
 *  (they load after the first sample), or an error is shown. */
export async function waitUntilReady(page, waitFor = "loaded") {
  await page.waitForFunction((all) => (document.body.dataset.ready === "true" && (!all || window.__test.allLoaded)) || !document.getElementById("error").hidden, waitFor === "loaded", { timeout: 180_000 });
}

/** Waits (at most 60 s) until a first visit's page has handed its own HTML to the service worker
 *  (`window.__test.pageHandedOver`, set once the worker is in control); returns the paths the next
 *  visit may still fetch: none, or the page itself where the browser did not keep it. */
export async function pageHandover(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  const outcome = await (await page.waitForFunction(() => window.__test?.pageHandedOver, null, { timeout: 60_000 })).jsonValue();
  if (outcome !== "yes") console.log(`   (the page was not handed over: ${outcome})`);
  return outcome === "yes" ? [] : ["/index.html"];
}

/** Puts the next test digit in the in-painting editor (its Load button) and waits until it is in. */
export async function loadTestDigit(page) {
  const loads = await page.evaluate(() => window.__test.digitsLoaded);
  await page.click("#editor-test");
  await page.waitForFunction((n) => window.__test.digitsLoaded > n, loads);
}

/** Sets panel `prefix`'s model, order, positions per step, schedule (if given) and seed. */
export async function fillGenerationFields(page, prefix, { model, order, perStep, schedule, seed }) {
  await page.selectOption(`#${prefix}-model`, model);
  if (model.endsWith("any-order")) {
    await page.selectOption(`#${prefix}-order`, order);
    await page.fill(`#${prefix}-per-step`, String(perStep));
    if (schedule) await page.selectOption(`#${prefix}-schedule`, schedule);
  }
  await page.fill(`#${prefix}-seed`, String(seed));
}

/** Generates `count` digits through the page's controls; resolves to window.__test.lastDigits. */
export async function generateDigits(page, { model = "mnist-any-order", order = "adaptive", perStep = 16, schedule, count = 48, seed = 0 } = {}) {
  await fillGenerationFields(page, "digits", { model, order, perStep, schedule, seed });
  await page.fill("#digits-count", String(count));
  await page.evaluate(() => { delete window.__test.lastDigits; window.__test.maxStall = 0; });
  await page.click("#digits-go");
  await page.waitForSelector('#digits-canvas[data-done="true"]', { timeout: 600_000 });
  return page.evaluate(() => ({ ...window.__test.lastDigits, maxStall: window.__test.maxStall }));
}
