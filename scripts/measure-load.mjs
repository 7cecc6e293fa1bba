// The page's loading over a throttled link, as a visitor on a real connection sees it (not a
// test): dist/ from scripts/static-server.mjs (gzip, ETag, `Cache-Control: no-cache`), headless
// Chromium, and for each link three visits in ONE browser context: a first visit (empty cache), a
// second one (what the HTTP cache, or a service worker if the page has one, saves) and an offline
// one (does the page still reach its first sample?).
//
// Usage: node scripts/measure-load.mjs [--mbit 10,50] [--latency 40] [--throttle server|cdp]
//          [--cache disk|memory] [--dir dist] [--query ?backend=cpu] [--timeout 240]
//          [--settle 120] [--offline-timeout 60]      (timeouts in seconds)
// Prints one JSON object on stdout, a summary on stderr. Build dist/ first.
//
// --cache: disk (default): a fresh profile on disk, as a visitor's browser has, with a disk
//   HTTP cache. memory: harness.mjs's launch() and a new (off-the-record) context, whose HTTP
//   cache lives in memory and keeps no entry over a few MB: there, a second visit downloads
//   weights/mnist.bpk (10.6 MB gzipped) again, which a visitor's browser would not.
//
// --throttle: where the link is emulated.
//   server (default): in the static server, ONE link for every response (`link` option of
//     startStaticServer): whichever context asks (page, dedicated worker, the workers it starts,
//     a service worker), its bytes share the same bandwidth and pay the same latency.
//   cdp: DevTools' Network.emulateNetworkConditions on the page's session, and on every
//     service worker and worker attached below it (Target.setAutoAttach, paused at start until
//     throttled). Chromium keeps one budget per client there: the page and its dedicated worker
//     share one, but a service worker gets a second one of its own (twice the bandwidth while both
//     download), and a worker started by a worker is throttled only if its parent has a DevTools
//     session with Network enabled (and not always then). Its pace also falls well below the
//     nominal rate while the CPU is busy (measured here: about 70% of 10 Mbit/s and 40-50% of
//     50 Mbit/s during the page's start, against 90-95% and 60-85% for `server`). So `server`
//     is the more honest link. The JSON lists, per visit, the requests that went faster than the link
//     allows (`fasterThanLink`) and those no DevTools session saw (`notSeenByBrowserSessions`).
import path from "node:path";
import os from "node:os";
import fs from "node:fs";
import { createRequire } from "node:module";
import { launch, root } from "../tests/browser/harness.mjs";
import { startStaticServer } from "./static-server.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
};
const opts = {
  mbits: arg("mbit", "10,50").split(",").map(Number),
  latencyMs: Number(arg("latency", 40)),
  throttle: arg("throttle", "server"),
  cache: arg("cache", "disk"),
  dir: path.resolve(arg("dir", path.join(root, "dist"))),
  query: arg("query", "?backend=cpu"),
  timeoutMs: Number(arg("timeout", 240)) * 1000, // a visit's first sample
  settleMs: Number(arg("settle", 120)) * 1000, // the rest of a visit's downloads, and its service worker
  offlineTimeoutMs: Number(arg("offline-timeout", 60)) * 1000,
};
if (!["server", "cdp"].includes(opts.throttle)) throw new Error("--throttle is server or cdp");
if (!["disk", "memory"].includes(opts.cache)) throw new Error("--cache is disk or memory");

/** ONE browser context: a persistent one on a fresh profile (disk cache; the flags of
 *  harness.mjs's launch()), or launch()'s browser and a new context (memory cache). */
async function openContext() {
  const viewport = { width: 1200, height: 1000 };
  if (opts.cache === "memory") {
    const browser = await launch();
    return { context: await browser.newContext({ viewport }), close: () => browser.close() };
  }
  const { chromium } = createRequire(path.join(root, "scripts/package.json"))("playwright-core");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "measure-load-"));
  const context = await chromium.launchPersistentContext(profile, {
    viewport,
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--enable-unsafe-webgpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-quic",
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// In the page, before its scripts: when each canvas is first drawn (any drawing, and a picture:
// putImageData or drawImage), when each window.__test field is first set, and when the page
// says it is ready. Nothing in app.js marks the digits panel's first picture.
const MARKS = () => {
  const marks = { firstDraw: {}, firstPicture: {}, testSet: {}, ready: null };
  Object.defineProperty(window, "__loadMarks", { value: marks });
  let test;
  Object.defineProperty(window, "__test", {
    configurable: true,
    get: () => test,
    set(value) {
      test = value && typeof value === "object"
        ? new Proxy(value, {
          set(target, key, v) {
            if (!(key in marks.testSet)) marks.testSet[key] = performance.now();
            target[key] = v;
            return true;
          },
        })
        : value;
    },
  });
  const P = CanvasRenderingContext2D.prototype;
  for (const name of ["fillRect", "fillText", "fill", "stroke", "putImageData", "drawImage"]) {
    const original = P[name];
    const picture = name === "putImageData" || name === "drawImage";
    P[name] = function (...args) {
      const id = this.canvas && this.canvas.id;
      if (id) {
        if (!(id in marks.firstDraw)) marks.firstDraw[id] = performance.now();
        if (picture && !(id in marks.firstPicture)) marks.firstPicture[id] = performance.now();
      }
      return original.apply(this, args);
    };
  }
  new MutationObserver(() => {
    if (marks.ready === null && document.body && document.body.dataset.ready === "true") marks.ready = performance.now();
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-ready"] });
};

/** A DevTools session reached through its parent with Target.sendMessageToTarget (Playwright's
 *  CDPSession cannot address the flat child sessions of Target.setAutoAttach). */
function childSession(parent, sessionId) {
  let lastId = 0;
  const pending = new Map();
  const listeners = new Map();
  const child = {
    children: new Map(),
    send(method, params = {}) {
      const id = ++lastId;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, method });
        parent.send("Target.sendMessageToTarget", { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
      });
    },
    on(event, fn) {
      if (!listeners.has(event)) listeners.set(event, []);
      listeners.get(event).push(fn);
    },
    receive(message) {
      const m = JSON.parse(message);
      if (m.id !== undefined && pending.has(m.id)) {
        const { resolve, reject, method } = pending.get(m.id);
        pending.delete(m.id);
        if (m.error) reject(new Error(`${method}: ${m.error.message}`));
        else resolve(m.result);
      } else if (m.method) {
        for (const fn of listeners.get(m.method) || []) fn(m.params);
      }
    },
  };
  child.on("Target.receivedMessageFromTarget", (e) => child.children.get(e.sessionId)?.receive(e.message));
  return child;
}

/** Records `session`'s requests in `net` (the browser's own view), by context `label`. */
function watchNetwork(session, label, net) {
  const key = (id) => `${label}/${id}`;
  session.on("Network.requestWillBeSent", (e) => {
    if (net.clockOffset === null && e.wallTime) net.clockOffset = e.wallTime * 1000 - e.timestamp * 1000;
    if (!net.requests.has(key(e.requestId))) net.requests.set(key(e.requestId), { url: e.request.url, context: label, t0: e.timestamp * 1000 });
  });
  session.on("Network.responseReceived", (e) => {
    const r = net.requests.get(key(e.requestId));
    if (r) Object.assign(r, { status: e.response.status, fromServiceWorker: !!e.response.fromServiceWorker, fromDiskCache: !!e.response.fromDiskCache });
  });
  session.on("Network.requestServedFromCache", (e) => {
    const r = net.requests.get(key(e.requestId));
    if (r) r.fromMemoryCache = true;
  });
  session.on("Network.loadingFinished", (e) => {
    const r = net.requests.get(key(e.requestId));
    if (r) Object.assign(r, { t1: e.timestamp * 1000, encodedBytes: e.encodedDataLength });
  });
  session.on("Network.loadingFailed", (e) => {
    const r = net.requests.get(key(e.requestId));
    if (r) Object.assign(r, { t1: e.timestamp * 1000, failed: e.errorText, encodedBytes: 0 });
  });
}

/** Auto-attaches below `session`: each worker and service worker, paused at its start, gets
 *  Network enabled (and `conditions`, where Chromium supports them: not on dedicated workers,
 *  which share their page's) before it runs; the same below each worker (its own workers). */
function attachBelow(session, conditions, net, depth = 0) {
  session.on("Target.attachedToTarget", async ({ sessionId, targetInfo }) => {
    const child = childSession(session, sessionId);
    session.children.set(sessionId, child);
    const label = `${targetInfo.type}:${new URL(targetInfo.url || "about:blank").pathname.split("/").pop()}${new URL(targetInfo.url || "about:blank").search}#${net.targets.length}`;
    const target = { type: targetInfo.type, url: targetInfo.url, depth, throttled: false };
    net.targets.push(target);
    try {
      if (["worker", "service_worker", "shared_worker"].includes(targetInfo.type)) {
        watchNetwork(child, label, net);
        await child.send("Network.enable");
        if (conditions) {
          // A dedicated worker answers "Not supported": its requests go by its page's conditions
          // (a top-level one's do; one started by a worker's, only sometimes: see above).
          await child.send("Network.emulateNetworkConditions", conditions).then(
            () => (target.throttled = true),
            (e) => (target.throttled = targetInfo.type === "worker" ? "by the page's session (not settable here)" : `no: ${e.message}`),
          );
        }
        attachBelow(child, conditions, net, depth + 1);
        await child.send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: true, flatten: false }).catch(() => {});
      }
    } catch (e) {
      target.error = String(e.message || e);
    }
    await child.send("Runtime.runIfWaitingForDebugger").catch(() => {});
  });
  session.on("Target.detachedFromTarget", ({ sessionId }) => session.children.delete(sessionId));
}

/** DevTools sessions on `page` and below it: the browser's view of every request, and in cdp
 *  mode (or offline) the throttling. */
async function instrument(context, page, conditions) {
  const cdp = await context.newCDPSession(page);
  const net = { requests: new Map(), targets: [], clockOffset: null };
  const session = {
    children: new Map(),
    send: (method, params) => cdp.send(method, params),
    on: (event, fn) => cdp.on(event, fn),
  };
  cdp.on("Target.receivedMessageFromTarget", (e) => session.children.get(e.sessionId)?.receive(e.message));
  watchNetwork(session, "page", net);
  await cdp.send("Network.enable");
  if (conditions) await cdp.send("Network.emulateNetworkConditions", conditions);
  attachBelow(session, conditions, net);
  await cdp.send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
  return { cdp, net };
}

const MB = (bytes) => Math.round(bytes / 1e4) / 100;

/** One visit: opens a page, navigates, waits for the first sample (or an error), then for the
 *  downloads to settle. Resolves to { page, result }; the caller closes the page. */
async function visit(context, base, log, { link, offline = false }) {
  const page = await context.newPage();
  const jsErrors = [];
  page.on("pageerror", (e) => jsErrors.push(String(e)));
  const bytesPerMs = (link.mbit * 1e6) / 8 / 1000;
  const conditions = offline
    ? { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 }
    : opts.throttle === "cdp"
      ? { offline: false, latency: link.latencyMs, downloadThroughput: bytesPerMs * 1000, uploadThroughput: bytesPerMs * 1000 }
      : null;
  const { cdp, net } = await instrument(context, page, conditions);
  const from = log.length;
  const result = { offline };
  try {
    await page.goto(base + opts.query, { waitUntil: "commit", timeout: offline ? opts.offlineTimeoutMs : opts.timeoutMs });
  } catch (e) {
    result.navigationError = String(e.message || e).split("\n")[0];
  }
  if (!result.navigationError) {
    try {
      await page.waitForFunction(
        () => window.__test?.timeToFirstSample !== undefined || (document.getElementById("error") && !document.getElementById("error").hidden),
        null,
        { timeout: offline ? opts.offlineTimeoutMs : opts.timeoutMs, polling: 50 },
      );
    } catch (e) {
      result.waitError = String(e.message || e).split("\n")[0];
    }
  }
  const state = result.navigationError ? null : await page.evaluate(() => ({
    timeOrigin: performance.timeOrigin,
    timeToFirstSample: window.__test?.timeToFirstSample ?? null,
    error: document.getElementById("error") && !document.getElementById("error").hidden ? document.getElementById("error").textContent : null,
    marks: window.__loadMarks,
    controlled: Boolean(navigator.serviceWorker && navigator.serviceWorker.controller),
  })).catch((e) => ({ evaluateError: String(e.message || e) }));
  const firstSampleAt = state && state.timeToFirstSample !== null ? state.timeOrigin + state.timeToFirstSample : null;
  const secs = (ms) => (ms === null || ms === undefined ? null : Math.round(ms) / 1000);
  result.reachedFirstSample = firstSampleAt !== null;
  result.timeToFirstSample_s = secs(state?.timeToFirstSample);
  if (state?.error) result.errorShown = state.error;
  if (state?.evaluateError) result.evaluateError = state.evaluateError;
  if (state?.marks) {
    const m = state.marks;
    result.ready_s = secs(m.ready);
    // The digits panel (#digits-canvas): its first drawing (the "Press Generate" prompt, unless
    // the page generates by itself), and its first picture from the models (putImageData).
    result.digitsPanelFirstDraw_s = secs(m.firstDraw["digits-canvas"]);
    result.digitsPanelFirstPicture_s = secs(m.firstPicture["digits-canvas"]);
    // The first digit the page shows: the in-painting editor's test digit (__test.digitsLoaded).
    result.editorTestDigit_s = secs(m.testSet.digitsLoaded);
    result.testFieldsFirstSet_s = Object.fromEntries(Object.entries(m.testSet).filter(([k]) => k !== "maxStall").map(([k, v]) => [k, secs(v)]));
    result.canvasFirstDraw_s = Object.fromEntries(Object.entries(m.firstDraw).map(([k, v]) => [k, secs(v)]));
  }
  result.controlledByServiceWorker = state?.controlled ?? false;

  // The rest of the visit: until the server has been quiet for 1.5 s (lazy weights, a service
  // worker's cache), then the service worker, if the page registered one. (The server's view:
  // DevTools does not report the end of every worker's script request.)
  const quiet = async () => {
    const t = Date.now();
    let quietSince = Date.now();
    let logLength = log.length;
    while (Date.now() - t < opts.settleMs) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (log.inFlight > 0 || log.length !== logLength) quietSince = Date.now();
      logLength = log.length;
      if (Date.now() - quietSince >= 1500) return;
    }
  };
  if (!offline && result.reachedFirstSample) {
    await quiet();
    result.serviceWorker = await page.evaluate(async (ms) => {
      if (!("serviceWorker" in navigator)) return { supported: false };
      let regs = await navigator.serviceWorker.getRegistrations();
      for (let i = 0; i < 20 && regs.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        regs = await navigator.serviceWorker.getRegistrations();
      }
      if (regs.length === 0) return { supported: true, registered: false };
      const active = await Promise.race([navigator.serviceWorker.ready.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), ms))]);
      return { supported: true, registered: true, active, activeAt_s: Math.round(performance.now()) / 1000, scope: regs[0].scope };
    }, opts.settleMs).catch((e) => ({ error: String(e.message || e) }));
    if (result.serviceWorker.active) await quiet(); // its install may have downloads of its own
    result.settled_s = secs(Date.now() - state.timeOrigin);
  }

  // What crossed the link: the server's log (bytes sent), and the browser's own view.
  const served = log.slice(from);
  const before = (r) => firstSampleAt !== null && r.start <= firstSampleAt;
  result.server = {
    requests: served.length,
    bytes: served.reduce((s, r) => s + r.bytes, 0),
    bytesBeforeFirstSample: firstSampleAt === null ? null : served.filter(before).reduce((s, r) => s + r.bytes, 0),
    statuses: served.reduce((s, r) => ({ ...s, [r.status]: (s[r.status] || 0) + 1 }), {}),
  };
  const files = {};
  for (const r of served) {
    const f = (files[r.path] ??= { downloads: 0, notModified: 0, bytes: 0 });
    if (r.status === 200) f.downloads++;
    else if (r.status === 304) f.notModified++;
    else f[`status${r.status}`] = (f[`status${r.status}`] || 0) + 1;
    f.bytes += r.bytes;
    if (r.query) (f.queries ??= []).push(r.query);
    if (r.aborted) f.aborted = (f.aborted || 0) + 1;
  }
  result.files = files;
  // A file whose body crossed the link more than once in this visit (under several URLs too:
  // worker.js and worker.js?role=helper are one file).
  result.downloadedTwice = Object.entries(files).filter(([, f]) => f.downloads > 1)
    .map(([p, f]) => `${p} x${f.downloads}${f.queries ? ` (queries: ${f.queries.join(" ")})` : ""}`);

  const reqs = [...net.requests.values()].filter((r) => /^https?:/.test(r.url));
  const wall = (t) => (net.clockOffset === null || t === undefined ? null : t + net.clockOffset);
  const overNetwork = reqs.filter((r) => !r.fromServiceWorker && !r.fromMemoryCache);
  result.browser = {
    requests: reqs.length,
    servedByServiceWorker: reqs.filter((r) => r.fromServiceWorker).length,
    encodedBytes: overNetwork.reduce((s, r) => s + (r.encodedBytes || 0), 0),
    encodedBytesBeforeFirstSample: firstSampleAt === null || net.clockOffset === null ? null
      : overNetwork.filter((r) => wall(r.t1) !== null && wall(r.t1) <= firstSampleAt).reduce((s, r) => s + (r.encodedBytes || 0), 0),
    byContext: reqs.reduce((s, r) => ({ ...s, [r.context.replace(/#\d+$/, "")]: (s[r.context.replace(/#\d+$/, "")] || 0) + 1 }), {}),
  };
  // Each request as the browser saw it: start and duration (ms from navigation), bytes received.
  const origin = state?.timeOrigin ?? null;
  result.requests = reqs.map((r) => ({
    url: new URL(r.url).pathname + new URL(r.url).search,
    context: r.context.replace(/#\d+$/, ""),
    status: r.status ?? null,
    ...(r.fromServiceWorker ? { fromServiceWorker: true } : {}),
    ...(r.fromMemoryCache ? { fromMemoryCache: true } : {}),
    ...(r.failed ? { failed: r.failed } : {}),
    encodedBytes: r.encodedBytes ?? null,
    start_ms: origin === null || wall(r.t0) === null ? null : Math.round(wall(r.t0) - origin),
    duration_ms: r.t1 === undefined ? null : Math.round(r.t1 - r.t0),
  }));
  result.targets = net.targets.map((t) => `${t.type} ${new URL(t.url).pathname}${new URL(t.url).search} depth ${t.depth}${conditions ? ` throttled: ${t.throttled}` : ""}`);
  // Checks of the throttling: a large response that came faster than the link allows was not
  // throttled; a request the server answered that no session saw may not have been.
  const slack = 0.8;
  result.fasterThanLink = overNetwork
    .filter((r) => r.encodedBytes > 200_000 && r.t1 !== undefined && r.t1 - r.t0 < (slack * r.encodedBytes) / bytesPerMs)
    .map((r) => `${r.context} ${new URL(r.url).pathname}: ${MB(r.encodedBytes)} MB in ${Math.round(r.t1 - r.t0)} ms (link: ${Math.round(r.encodedBytes / bytesPerMs)} ms)`);
  const seen = {};
  for (const r of overNetwork) {
    const u = new URL(r.url);
    seen[u.pathname + u.search] = (seen[u.pathname + u.search] || 0) + 1;
  }
  result.notSeenByBrowserSessions = [];
  for (const r of served) {
    const k = r.path + r.query;
    if (seen[k] > 0) seen[k]--;
    else result.notSeenByBrowserSessions.push(`${k} (${r.status}, ${r.bytes} B)`);
  }
  if (jsErrors.length) result.jsErrors = jsErrors;
  await cdp.detach().catch(() => {});
  return { page, result };
}

async function measureLink(mbit) {
  const link = { mbit, latencyMs: opts.latencyMs };
  const { server, base, log } = await startStaticServer({ dir: opts.dir, link: opts.throttle === "server" ? link : null });
  const { context, close } = await openContext();
  const out = { mbit, latencyMs: opts.latencyMs, throttle: opts.throttle, cache: opts.cache };
  try {
    await context.addInitScript(MARKS);
    for (const name of ["first", "second"]) {
      const { page, result } = await visit(context, base, log, { link });
      out[name] = result;
      await page.close();
    }
    // Offline: the browser's emulation, and no server either (the browser process's own
    // requests, such as a service worker's update check, ignore the emulation).
    await context.setOffline(true);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    const { page, result } = await visit(context, base, log, { link, offline: true });
    out.offline = result;
    await page.close();
  } finally {
    await close();
    if (server.listening) server.close();
  }
  return out;
}

function summary(r) {
  const line = (name, v) => {
    if (!v.reachedFirstSample) {
      return `  ${name}: no first sample (${v.navigationError || v.errorShown || v.waitError || v.evaluateError || "?"})`;
    }
    const parts = [
      `first sample ${v.timeToFirstSample_s} s`,
      `${MB(v.server.bytesBeforeFirstSample)} MB before it (server; browser ${MB(v.browser.encodedBytesBeforeFirstSample ?? 0)} MB)`,
      `${MB(v.server.bytes)} MB in all, ${v.server.requests} requests ${JSON.stringify(v.server.statuses)}`,
      `ready ${v.ready_s} s, digits panel drawn ${v.digitsPanelFirstDraw_s} s${v.digitsPanelFirstPicture_s !== null ? ` (picture ${v.digitsPanelFirstPicture_s} s)` : ""}, test digit ${v.editorTestDigit_s} s`,
    ];
    if (v.controlledByServiceWorker) parts.push(`service worker served ${v.browser.servedByServiceWorker}`);
    if (v.serviceWorker?.registered) parts.push(`service worker active: ${v.serviceWorker.active}`);
    if (v.downloadedTwice.length) parts.push(`DOWNLOADED TWICE: ${v.downloadedTwice.join(", ")}`);
    if (v.fasterThanLink.length) parts.push(`NOT THROTTLED: ${v.fasterThanLink.join("; ")}`);
    const unseen = v.notSeenByBrowserSessions.filter((u) => !/, 0 B\)$/.test(u)); // the JSON lists the 304s too
    if (unseen.length) parts.push(`not seen by DevTools: ${unseen.join(", ")}`);
    return `  ${name}: ${parts.join("; ")}`;
  };
  return [`${r.mbit} Mbit/s, ${r.latencyMs} ms (throttle: ${r.throttle}, cache: ${r.cache}):`, line("first visit", r.first), line("second visit", r.second), line("offline", r.offline)].join("\n");
}

const out = { dir: opts.dir, query: opts.query, throttle: opts.throttle, cache: opts.cache, links: [] };
for (const mbit of opts.mbits) {
  const r = await measureLink(mbit);
  out.links.push(r);
  console.error(summary(r));
}
console.log(JSON.stringify(out, null, 2));
