// The models' thread: loads the wasm crate (dist/web.js), fetches the weights, and runs one
// generation per panel, a chunk of steps at a time, posting each chunk's pictures to the page.
//
// Messages in (from the page; from the main worker, for a helper). Any of them may carry
// `replyTo`, and is then answered with a `reply`:
//   init {backend: "auto"|"gpu"|"cpu", weights: {kind: {url, what}}, first: [kind],
//         digits: url|null, helperTimeout?: ms, helperStartTimeout?: ms, regions?: [name]}
//        -> {backend, gpu, gpuAvailable, note, adapterLabel, loaded: {kind: {description, shape}},
//            failed: {kind: why its weights did not load} (of the first models),
//            defaults, inpaintDefaults: {kind: {order, perStep, schedule, guidance}}, errors: [message],
//            testDigits, side, toyGrid,
//            erased: {name: Uint8Array}}
//        Only the `first` models' weights are fetched before the reply (their downloads overlap
//        the module's); the others when asked for with `load`.
//   load {kind} -> {description, shape} once its weights are in (fetched at most once; a
//        helper is handed the bytes: {kind, url, what, bytes})
//   start {panel, id, kind, count, seed, temperature, order, perStep, schedule, known: Int32Array|null,
//          guidance (default 0), image, and for images width, height, columns, scale, watch}
//        (helpers: {panel, kind, count, seed, temperature, order, perStep, schedule, known, guidance} -> total steps)
//   advance {panel, steps} (helpers only) -> {done, step, values}
//   stop {panel}
//   backend {gpu} -> {backend, gpu, gpuAvailable, note}
//   testDigit {index} -> the digit's pixels
//   probe {kind, gpu} -> the logits (tests)
//   simulateDeviceLoss (tests: the next WebGPU chunk fails)
//   trainStart {id, kind, seed, batch, lr, init?: Uint8Array} -> {parameters, step, floor, testSequences}
//        (a new training when `id` differs from the current one's, else the same one resumed)
//   trainSettings {batch, lr} (applied from the next chunk)   trainPause   trainReset
//   trainWeights -> the weights now, as a .bpk file's bytes   trainUse -> the toy panel's model is now these weights
// Messages out:
//   reply {replyTo, value} or {replyTo, error}
//   loading {kind, what, received, total} (bytes of a download so far; total 0 if unknown)
//   started {panel, id, total}
//   progress {panel, id, done, step, total, values, pictures: {grid?, order?, posterior?}, backend, workers}
//   runError {panel, id, message}
//   backendChanged {backend, gpu, gpuAvailable, note} (WebGPU failed: the runs restarted on the CPU)
//   notice {message} (a helper left out)
//   fatal {message} (the wasm module trapped: every later message is answered with fatal)
//   trainProgress {id, step, losses: Float32Array, seconds, batch}
//   trainEval {id, step, seconds, nats, heldOut (sequences scored), samples: Int32Array, count, len, numValues, evalSeconds}
//   trainStopped {id, message} (an error: training paused)
//
// On the CPU, wasm runs on one core: a run is split into blocks of samples, one per worker, and
// "helper" copies of this worker (worker.js?role=helper, one per further core, up to
// MAX_WORKERS in all) generate the other blocks in step with this one. Helpers only answer
// init, load, start, advance and stop, and score the weights trained in the tab (heldOut).
import init, { Demo, page_side, erased_region, generate_defaults, inpaint_defaults, toy_grid, render_digits, render_posterior, render_order_map, held_out_sequences, toy_floor, toy_len } from "./web.js";
import { channel, errorText } from "./rpc.js";

const HELPER = new URL(self.location.href).searchParams.get("role") === "helper";
const MAX_WORKERS = 4;
// A chunk aims at 100 ms; a helper silent for this long is taken for gone.
// (?helperTimeout=MS on the page sets it, for tests.)
let helperTimeoutMs = 15_000;
// A helper's start-up (wasm, then the image weights over the network) gets this long; past it
// the page goes on without it. (?helperStartTimeout=MS sets it, for tests.)
let helperStartTimeoutMs = 60_000;

let demo = null;
let wasmTrapped = false;
const runs = new Map(); // panel -> { id, request, steps, mine, team, ready, finished }
let pumping = false;
let failNextGpuChunk = false;
const helpers = []; // { worker, call, kinds, loads, dead, started }
const starting = new Map(); // panel -> id of a run waiting for the helpers to load

const post = (message, transfer = []) => self.postMessage(message, transfer);

let compiledModule = null; // the WebAssembly.Module this worker runs

/** The wasm crate's module, fetched and compiled once; compiled while it downloads where the
 *  server says it is wasm. */
async function compileModule() {
  const url = new URL("web_bg.wasm", import.meta.url);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`the WebAssembly module (${url.pathname}) is missing (HTTP ${response.status}): build the page`);
  if ((response.headers.get("content-type") || "").startsWith("application/wasm")) {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

// The build's list of files and their sizes (build.json, written at build time by
// scripts/build-manifest.sh): the totals of the progress line, where the server compresses and
// so sends no usable length. The main worker only (a helper downloads nothing).
const buildFiles = HELPER
  ? Promise.resolve({})
  : fetch(new URL("build.json", import.meta.url))
      .then((r) => (r.ok ? r.json() : {}))
      .then((b) => b.files || {})
      .catch(() => ({}));

/** The expected size in bytes of `url`'s file, or 0 if unknown. */
async function expectedSize(url, response) {
  const u = new URL(url, self.location.href);
  const base = new URL("./", import.meta.url);
  const entry = u.origin === base.origin && u.pathname.startsWith(base.pathname) && (await buildFiles)[u.pathname.slice(base.pathname.length)];
  if (entry) return entry.bytes;
  const length = Number(response.headers.get("content-length"));
  return !response.headers.get("content-encoding") && length > 0 ? length : 0;
}

/** The bytes at `url`, with `onProgress(received, total)` called as they arrive (at most every
 *  100 ms, and once at the end). Errors name `what` and the URL and say what to do. */
async function fetchBytes(url, what, onProgress = () => {}) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`${what} (${url}) could not be fetched: ${errorText(e)}`);
  }
  if (!response.ok) {
    throw new Error(`${what} (${url}) is missing (HTTP ${response.status}): build the page with the committed weights, or train them (see README)`);
  }
  const total = await expectedSize(url, response);
  const parts = [];
  let received = 0;
  let said = performance.now();
  onProgress(0, total);
  try {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      received += value.length;
      if (performance.now() - said > 100) {
        said = performance.now();
        onProgress(received, total);
      }
    }
  } catch (e) {
    throw new Error(`${what} (${url}): the download broke off after ${received} bytes (${errorText(e)}): reload the page`);
  }
  onProgress(received, total);
  const bytes = new Uint8Array(received);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  const type = response.headers.get("content-type") || "";
  if (bytes.length === 0) throw new Error(`${what} (${url}) is an empty file: train the weights or fix the URL`);
  if (type.includes("text/html") || /^\s*<(!doctype|html)/i.test(new TextDecoder().decode(bytes.subarray(0, 64)))) {
    throw new Error(`${what} (${url}) is an HTML page, not weights: check the URL`);
  }
  return bytes;
}

// SwiftShader and other fallback adapters emulate a GPU on the CPU, slower than the CPU path.
async function softwareAdapter() {
  try {
    const adapter = navigator.gpu && (await navigator.gpu.requestAdapter());
    if (!adapter) return null;
    const info = adapter.info || {};
    const label = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(" ");
    const software = info.isFallbackAdapter || adapter.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|software/i.test(label);
    return { label, software };
  } catch (_) {
    return null;
  }
}

let weightsTable = {}; // kind -> {url, what, bytes?}: where each model's weights come from
const downloads = new Map(); // kind -> promise of its weights' bytes (each fetched once)
const loads = new Map(); // kind -> promise of {description, shape}, once loading began

/** `kind`'s weights' bytes: handed over, or fetched once with the page told how far along. */
function weightsBytes(kind) {
  if (!downloads.has(kind)) {
    const { url, what, bytes } = weightsTable[kind];
    const onProgress = (received, total) => post({ type: "loading", kind, what, received, total });
    if (!bytes) onProgress(0, 0); // said before the server answers
    const download = bytes ? Promise.resolve(bytes) : fetchBytes(url, what, onProgress);
    download.catch(() => downloads.delete(kind)); // a later call tries again
    downloads.set(kind, download);
  }
  return downloads.get(kind);
}

/** Loads `kind`'s weights into the models (once); resolves to {description, shape}. Errors name
 *  the weights and their URL. */
function loadKind(kind) {
  if (!weightsTable[kind]) return Promise.reject(new Error(`no weights are known for the model ${JSON.stringify(kind)}`));
  if (!loads.has(kind)) {
    const { url, what } = weightsTable[kind];
    const load = (async () => {
      const bytes = await weightsBytes(kind);
      const description = demo.load_weights(kind, bytes);
      const info = { description, shape: plainShape(demo.shape(kind)) };
      if (!HELPER) shareWithHelpers(kind, bytes);
      return info;
    })().catch((e) => {
      loads.delete(kind);
      // Download errors name the weights already; the model's own errors get the name here.
      const message = errorText(e);
      throw new Error(message.startsWith(`${what} (${url})`) ? message : `${what} (${url}): ${message}`);
    });
    loads.set(kind, load);
  }
  return loads.get(kind);
}

async function initialize({ backend, weights, first = [], digits, helperTimeout, helperStartTimeout, wasmModule, regions = [] }) {
  if (helperTimeout > 0) helperTimeoutMs = helperTimeout;
  if (helperStartTimeout > 0) helperStartTimeoutMs = helperStartTimeout;
  weightsTable = weights;
  // The first models' weights and the test digits download while the module does.
  for (const kind of first) if (weightsTable[kind]) weightsBytes(kind).catch(() => {});
  const digitsBytes = digits ? fetchBytes(digits, "Test digits") : null;
  if (digitsBytes) digitsBytes.catch(() => {});
  // The main worker compiles the module; a helper instantiates the one it was handed (no
  // second download).
  compiledModule = wasmModule || (await compileModule());
  await init({ module_or_path: compiledModule });
  const adapter = backend === "cpu" ? null : await softwareAdapter();
  // A software adapter is the default only when asked for by name (?backend=gpu).
  const preferGpu = backend === "gpu" || (backend !== "cpu" && adapter !== null && !adapter.software);
  demo = await Demo.create(backend !== "cpu", preferGpu);
  let note = demo.gpu_note() || "";
  if (adapter && adapter.software && demo.gpu_available() && !preferGpu) {
    note = `The WebGPU adapter here is a software emulation (${adapter.label || "fallback adapter"}), slower than the CPU path: running on the CPU. Choose WebGPU to try it anyway.`;
  }
  if (!HELPER) spawnHelpers();
  const loaded = {};
  const failed = {};
  const errors = [];
  for (const kind of first) {
    try {
      loaded[kind] = await loadKind(kind);
    } catch (e) {
      failed[kind] = errorText(e);
    }
  }
  const defaults = Object.fromEntries(Object.keys(weightsTable).map((kind) => [kind, plainDefaults(generate_defaults(kind))]));
  const inpaintDefaults = Object.fromEntries(Object.keys(weightsTable).map((kind) => [kind, plainDefaults(inpaint_defaults(kind))]));
  let testDigits = 0;
  if (digitsBytes) {
    try {
      testDigits = demo.load_test_digits(await digitsBytes);
    } catch (e) {
      errors.push(errorText(e));
    }
  }
  const side = page_side();
  // The editor's erase presets, as the library erases them (one definition of the regions).
  const erased = Object.fromEntries(regions.map((name) => [name, erased_region(name, side, side, 0)]));
  return { ...backendState(), note, adapterLabel: adapter ? adapter.label : "", loaded, failed, defaults, inpaintDefaults, errors, testDigits, side, toyGrid: plainToyGrid(toy_grid()), erased };
}

// wasm-bindgen objects cannot be posted (structured clone): their fields as plain objects.
function plainDefaults(defaults) {
  const plain = { order: defaults.order, perStep: defaults.per_step, schedule: defaults.schedule, guidance: defaults.guidance };
  defaults.free();
  return plain;
}

function plainShape(shape) {
  const plain = { len: shape.len, width: shape.width, height: shape.height, numValues: shape.num_values };
  shape.free();
  return plain;
}

function plainToyGrid(grid) {
  const plain = { panelWidth: grid.panel_width, panelHeight: grid.panel_height, gap: grid.gap, columns: grid.columns };
  grid.free();
  return plain;
}

function backendState() {
  return { backend: demo.backend_name(), gpu: demo.uses_gpu(), gpuAvailable: demo.gpu_available(), note: demo.gpu_note() || "" };
}

// Pictures of a chunk: the grid of samples, the order map and the posterior of the watched one.
function pictures(run, p, values) {
  const request = run.request;
  const out = {};
  const transfer = [];
  const add = (name, pic) => {
    out[name] = { width: pic.width, height: pic.height, rgba: pic.rgba };
    transfer.push(pic.rgba.buffer);
    pic.free();
  };
  if (request.image) {
    const { width, height } = request;
    const pixels = Uint8Array.from(values);
    add("grid", render_digits(pixels, width, height, request.columns, request.scale));
    const w = request.watch;
    const L = width * height;
    const local = w - run.mine.start; // in this worker's block
    add("order", render_order_map(p.visit_steps.subarray(local * L, (local + 1) * L), width, height, 4));
    if (p.position >= 0) add("posterior", render_posterior(pixels.subarray(w * L, (w + 1) * L), p.known, p.position, p.log_probs, width, height));
  }
  return { out, transfer };
}

async function chunk(panel, run) {
  const t0 = performance.now();
  if (failNextGpuChunk && demo.uses_gpu()) {
    failNextGpuChunk = false;
    throw new Error("simulated loss of the WebGPU device");
  }
  await run.ready;
  if (runs.get(panel) !== run) return;
  // The helpers' blocks first, so that they work while this thread works on its own.
  const asked = run.team.map(({ helper }) => withTimeout(helper.call("advance", { panel, steps: run.steps }), helperTimeoutMs, helper));
  asked.forEach((a) => a.catch(() => {})); // awaited below, or given up with the run
  const p = await demo.advance(panel, run.steps, (run.request.watch || 0) - run.mine.start);
  let parts;
  try {
    parts = await Promise.all(asked);
  } catch (e) {
    p.free();
    throw e;
  }
  if (runs.get(panel) !== run) {
    p.free(); // stopped or replaced meanwhile
    return;
  }
  const dt = performance.now() - t0;
  // Aim at about 100 ms a chunk: live pictures, and Stop within a fraction of a second.
  run.steps = Math.max(1, Math.min(256, Math.round(run.steps * (100 / Math.max(dt, 1)))));
  const values = joinBlocks(run, p.values, parts); // one copy out of wasm memory
  const { out, transfer } = pictures(run, p, values);
  transfer.push(values.buffer);
  const done = p.done && parts.every((part) => part.done);
  const workers = run.team.length + 1;
  const backend = workers > 1 ? `${demo.backend_name()}, ${workers} workers` : demo.backend_name();
  post({ type: "progress", panel, id: run.id, done, step: p.step, total: p.total, values, pictures: out, backend, workers }, transfer);
  run.finished = done;
  p.free();
}

/** `promise`, or a helper error after `ms`: a helper that ended silently must not hang every
 *  panel (the run then starts again without it). `what` names the wait in the error. */
function withTimeout(promise, ms, helper, what = "answer") {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`a helper worker did not ${what} in ${ms / 1000} s`), { helper })), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Leaves `helper` out from now on, and says so on the page. */
function leaveOut(helper, why) {
  if (helper.dead && helper.saidOut) return;
  helper.dead = true;
  helper.saidOut = true;
  helper.worker.terminate();
  const left = helpers.filter((h) => !h.dead).length + 1;
  post({ type: "notice", message: `${why}: going on without it (${left} worker${left > 1 ? "s" : ""})` });
}

/** The values of every block, in sample order: this worker's block and the helpers' ones. */
function joinBlocks(run, own, parts) {
  if (run.team.length === 0) return own;
  const L = own.length / run.mine.count;
  const values = new Int32Array(run.request.count * L);
  values.set(own, run.mine.start * L);
  run.team.forEach(({ block }, i) => values.set(parts[i].values, block.start * L));
  return values;
}

async function pump() {
  if (pumping) return;
  pumping = true;
  try {
    while (runs.size > 0) {
      for (const [panel, run] of [...runs]) {
        if (runs.get(panel) !== run) continue;
        try {
          await chunk(panel, run);
          if (runs.get(panel) === run && run.finished) runs.delete(panel);
        } catch (e) {
          await failed(panel, run, e);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 0)); // let stop and start messages in
    }
  } finally {
    pumping = false;
  }
}

// A failed chunk: on WebGPU, give it up and rerun on the CPU; a trapped module: the page restarts us.
async function failed(panel, run, e) {
  if (runs.get(panel) !== run) return; // a stale run's failure concerns nobody
  dropRun(panel);
  if (e && e.helper) {
    // A helper that failed is left out from now on; the run starts again without it.
    leaveOut(e.helper, errorText(e));
    start(run.request);
    return;
  }
  if (e instanceof WebAssembly.RuntimeError) {
    wasmTrapped = true;
    post({ type: "fatal", message: errorText(e) });
    return;
  }
  if (demo.uses_gpu()) {
    // Every run was on the GPU: all of them again, from the start, on the CPU.
    const again = [run.request, ...[...runs.values()].map((r) => r.request)];
    for (const other of [...runs.keys()]) dropRun(other);
    demo.drop_gpu(`WebGPU failed during a run (${errorText(e)}): switched to the CPU`);
    post({ type: "backendChanged", ...backendState() });
    for (const request of again) start(request);
    return;
  }
  post({ type: "runError", panel, id: run.id, message: errorText(e) });
}

async function start(request) {
  const { panel, id, kind, count, seed, temperature, order, perStep, schedule = "constant", known, guidance = 0 } = request;
  dropRun(panel);
  starting.set(panel, id);
  try {
    await loadKind(kind);
    // Runs on the CPU wait for the helpers still loading these weights (each wait is bounded):
    // waiting for them beats running alone.
    if (!demo.uses_gpu()) await Promise.all(helpers.filter((h) => !h.dead && h.loads.has(kind)).map((h) => h.loads.get(kind)));
  } catch (e) {
    if (starting.get(panel) === id) post({ type: "runError", panel, id, message: errorText(e) });
    starting.delete(panel);
    return;
  }
  if (starting.get(panel) !== id) return; // stopped or replaced meanwhile
  starting.delete(panel);
  try {
    const team = teamFor(request);
    const blocks = splitBlocks(count, team.length + 1);
    // This worker takes the block holding the watched sample (its posterior and order map).
    const watch = request.watch || 0;
    const mine = blocks.find((b) => watch >= b.start && watch < b.start + b.count);
    const others = blocks.filter((b) => b !== mine);
    const total = demo.start(panel, kind, mine.count, blockSeed(seed, mine.index), temperature, order, perStep, schedule, slice(known, mine, count) || undefined, guidance);
    // The first chunk: WebGPU runs one step (a software adapter may take seconds a step, and
    // a GPU chunk cannot be interrupted); the CPU a few. Later chunks aim at 100 ms.
    const firstSteps = demo.uses_gpu() ? 1 : request.image ? 8 : 4;
    const run = { id, request, steps: firstSteps, mine, team: others.map((block, i) => ({ block, helper: team[i] })) };
    run.ready = Promise.all(run.team.map(({ block, helper }) =>
      withTimeout(helper.call("start", { panel, kind, count: block.count, seed: blockSeed(seed, block.index), temperature, order, perStep, schedule, known: slice(known, block, count), guidance }), helperTimeoutMs, helper)));
    run.ready.catch(() => {}); // chunk awaits it and handles the failure
    runs.set(panel, run);
    post({ type: "started", panel, id, total });
    pump();
  } catch (e) {
    runs.delete(panel);
    post({ type: "runError", panel, id, message: errorText(e) });
  }
}

/** Drops `panel`'s run here and in its helpers. */
function dropRun(panel) {
  const run = runs.get(panel);
  runs.delete(panel);
  starting.delete(panel);
  if (demo) demo.stop(panel);
  if (run) for (const { helper } of run.team) helper.call("stop", { panel }).catch(() => {});
}

/** The helpers that take part in `request`: runs on the CPU only (WebGPU is one device). */
function teamFor(request) {
  if (request.count < 2 || demo.uses_gpu()) return [];
  return helpers.filter((h) => !h.dead && h.kinds.has(request.kind)).slice(0, request.count - 1);
}

/** `count` samples in `parts` contiguous blocks, as even as can be. */
function splitBlocks(count, parts) {
  const blocks = [];
  for (let i = 0, start = 0; i < parts; i++) {
    const size = Math.floor(count / parts) + (i < count % parts ? 1 : 0);
    blocks.push({ index: i, start, count: size });
    start += size;
  }
  return blocks;
}

/** Block 0 uses the seed itself; the others seeds derived from it (a run with one block is the
 *  unsplit run). */
function blockSeed(seed, index) {
  return index === 0 ? seed : (seed ^ Math.imul(index, 0x9e3779b1)) >>> 0;
}

/** The conditioning values (`count x L`) of one block, or null. */
function slice(known, block, count) {
  if (!known) return null;
  const L = known.length / count;
  return known.slice(block.start * L, (block.start + block.count) * L);
}

/** One helper worker per further core: each gets the models' weights as this worker loads them
 *  (`shareWithHelpers`). */
function spawnHelpers() {
  const wanted = Math.min(navigator.hardwareConcurrency || 1, MAX_WORKERS) - 1;
  for (let i = helpers.length; i < wanted; i++) {
    const worker = new Worker(new URL("worker.js?role=helper", import.meta.url), { type: "module" });
    const helper = { kinds: new Set(), loads: new Map(), dead: false, worker };
    // Its errors name it: a failed chunk then leaves this helper out (see `failed`).
    const helperError = (message) => Object.assign(new Error(message), { helper });
    const rpc = channel(worker, helperError);
    const fail = (message) => {
      helper.dead = true;
      rpc.failAll(`a helper worker failed (${message})`);
    };
    worker.onmessage = (event) => {
      if (!rpc.settle(event.data) && event.data.type === "fatal") fail(event.data.message);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      fail(event.message || "unknown error");
    };
    helper.call = (type, payload = {}) => (helper.dead ? Promise.reject(helperError("a helper worker stopped")) : rpc.call(type, payload));
    helpers.push(helper);
    // Bounded: a helper whose start-up stalls (its script never arrives) is left out.
    helper.started = withTimeout(helper.call("init", { backend: "cpu", weights: {}, digits: null, wasmModule: compiledModule }), helperStartTimeoutMs, helper, "start");
    helper.started.catch((e) => leaveOut(helper, errorText(e)));
  }
}

/** Hands model `kind`'s weights (bytes this worker has: never a second download) to every
 *  helper; `helper.loads` holds the bounded wait for each. */
function shareWithHelpers(kind, bytes) {
  for (const helper of helpers) {
    if (helper.dead || helper.loads.has(kind)) continue;
    const { url, what } = weightsTable[kind];
    const load = helper.started
      .then(() => withTimeout(helper.call("load", { kind, url, what, bytes }), helperStartTimeoutMs, helper, "load its weights"))
      .then(() => helper.kinds.add(kind))
      .catch((e) => leaveOut(helper, errorText(e)));
    helper.loads.set(kind, load);
  }
}

/** A helper's block: started here, advanced only when the main worker asks. */
function helperStart({ panel, kind, count, seed, temperature, order, perStep, schedule = "constant", known, guidance = 0 }) {
  return demo.start(panel, kind, count, seed, temperature, order, perStep, schedule, known || undefined, guidance);
}

async function helperAdvance({ panel, steps }) {
  const p = await demo.advance(panel, steps, 0);
  const out = { done: p.done, step: p.step, values: p.values };
  p.free();
  return out;
}


// ---------------------------------------------------------------------------------------------
// Training in the tab (the main worker only): chunks of training steps between the panels'
// chunks, and every few seconds the held-out cross-entropy and 25 samples of the weights then.

const TRAIN_PANEL = "train";
const TRAIN_SAMPLES = 25;
// Held-out evaluations take at most about a sixth of the time, and come at least this often.
const EVAL_EVERY_MS = 3000;
// Held-out sequences scored per call: each call about 100-200 ms, so messages get in.
const EVAL_PART = { toy: 125, "toy-any-order": 2 };
// A helper's scoring is bounded by this (the any-order model's 100 sequences are 3,200 passes of
// the whole network: seconds here, more on a slow machine), not by the shorter wait of a chunk.
const HELD_OUT_TIMEOUT_MS = 120_000;
let training = null; // {id, kind, batch, lr, running, steps, seconds, lastEval, evalMs, looping, evaluating}
let toyFloorNats = null;
// Everything that takes a snapshot of the training and reads it (scoring here, Download, Use)
// runs one at a time, so that none reads a snapshot another replaced.
let snapshotQueue = Promise.resolve();
function withSnapshot(task) {
  const run = snapshotQueue.then(task);
  snapshotQueue = run.catch(() => {});
  return run;
}

async function trainStart({ id, kind, seed, batch, lr, init }) {
  if (!training || training.id !== id) {
    trainReset();
    const parameters = demo.train_new(kind, seed, init || undefined);
    training = { id, kind, seed, parameters, running: false, steps: 4, seconds: 0, lastEval: 0, evalMs: 0, looping: false, evaluating: false };
  }
  Object.assign(training, { batch, lr, running: true });
  if (toyFloorNats === null) toyFloorNats = toy_floor();
  trainLoop(training);
  return { parameters: training.parameters, step: demo.train_step_count(), floor: toyFloorNats, heldOut: held_out_sequences(training.kind) };
}

function trainReset() {
  if (training) training.running = false;
  training = null;
  if (demo) {
    demo.train_drop();
    demo.stop(TRAIN_PANEL);
  }
}

/** Pauses, then scores and samples the weights as they are (the figures show the paused model).
 *  If Start comes again meanwhile, training goes on and nothing more is done here. */
async function trainPause() {
  const t = training;
  if (!t || !t.running) return null;
  t.running = false;
  const paused = () => training === t && !t.running;
  // Each wait is bounded: a chunk (about 100 ms), an evaluation (a helper's is timed out).
  while ((t.looping || t.evaluating) && paused()) await new Promise((resolve) => setTimeout(resolve, 5));
  if (paused()) await trainEvaluate(t);
  return null;
}

/** Trains `t` until it is paused, reset or fails: a chunk of steps (about 100 ms) at a time. The
 *  held-out figures are computed by a helper worker while training goes on (here, between
 *  chunks, when there is no helper). */
async function trainLoop(t) {
  if (t.looping) return;
  t.looping = true;
  try {
    while (t.running && training === t) {
      const started = performance.now();
      const losses = await demo.train_steps(t.steps, t.batch, t.lr);
      const dt = performance.now() - started;
      if (training !== t) break;
      t.seconds += dt / 1000;
      t.steps = Math.max(1, Math.min(200, Math.round(t.steps * (100 / Math.max(dt, 1)))));
      post({ type: "trainProgress", id: t.id, step: demo.train_step_count(), losses, seconds: t.seconds, batch: t.batch }, [losses.buffer]);
      if (!t.evaluating && performance.now() - t.lastEval > Math.max(EVAL_EVERY_MS, 6 * t.evalMs)) {
        const evaluation = trainEvaluate(t);
        if (!evaluation.byHelper) await evaluation;
      }
      await new Promise((resolve) => setTimeout(resolve, 0)); // let other messages in
    }
  } catch (e) {
    trainFailed(t, e);
  } finally {
    t.looping = false;
  }
}

/** A step or an evaluation of `t` failed: a trapped module restarts the worker; any other error
 *  pauses the training and is shown (unless `t` was reset meanwhile: then it concerns nobody). */
function trainFailed(t, e) {
  if (e instanceof WebAssembly.RuntimeError) {
    wasmTrapped = true;
    post({ type: "fatal", message: errorText(e) });
  } else if (training === t) {
    t.running = false;
    post({ type: "trainStopped", id: t.id, message: errorText(e) });
  }
}

/** The held-out cross-entropy of the weights now (nats/position, on `trainer eval`'s test
 *  sequences) and 25 sequences sampled from them, posted as trainEval: by a helper when there is
 *  one (the promise returned then has `byHelper`), else here. Never rejects: a failure goes to
 *  `trainFailed`. */
function trainEvaluate(t) {
  t.evaluating = true;
  const started = performance.now();
  t.lastEval = started; // the interval counts from the start: a helper's evaluation runs beside training
  const current = () => training === t;
  const helper = helpers.find((h) => !h.dead);
  const done = (async () => {
    let step, r;
    if (helper) {
      // The snapshot's bytes go to the helper, which scores them while this worker trains on.
      let bytes;
      [step, bytes] = await withSnapshot(async () => (current() ? [await demo.train_snapshot(), demo.train_weights()] : [null, null]));
      if (!bytes) return;
      try {
        await helper.started;
        r = await withTimeout(helper.call("heldOut", { kind: t.kind, bytes, step }), HELD_OUT_TIMEOUT_MS, helper);
      } catch (e) {
        if (!e.helper) throw e;
        leaveOut(helper, errorText(e));
        r = await withSnapshot(async () => (current() ? scoreSnapshot(t.kind, await demo.train_snapshot(), current) : null));
      }
    } else {
      r = await withSnapshot(async () => {
        if (!current()) return null;
        step = await demo.train_snapshot();
        return scoreSnapshot(t.kind, step, current);
      });
    }
    if (!r || !current()) return;
    t.evalMs = helper ? 0 : performance.now() - started;
    post({ type: "trainEval", id: t.id, step: r.step, seconds: t.seconds, ...r, evalSeconds: (performance.now() - started) / 1000 }, [r.samples.buffer]);
  })()
    .catch((e) => trainFailed(t, e))
    .finally(() => {
      t.evaluating = false;
    });
  done.byHelper = Boolean(helper);
  return done;
}

/** The snapshot of the training in this worker's module (taken at `step`), scored on the
 *  held-out sequences (a call of about 100 ms at a time) and sampled: {step, nats, heldOut,
 *  samples, count, len, numValues}; null as soon as `current()` is false (the training was
 *  reset: the snapshot is no longer its). */
async function scoreSnapshot(kind, step, current = () => true) {
  const count = held_out_sequences(kind);
  const part = EVAL_PART[kind];
  let sum = 0;
  for (let start = 0; start < count; start += part) {
    if (!current()) return null;
    sum += await demo.train_eval(start, Math.min(part, count - start));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  if (!current()) return null;
  const len = toy_len();
  demo.train_sample(TRAIN_PANEL, TRAIN_SAMPLES, step);
  const p = await demo.advance(TRAIN_PANEL, len, 0);
  const samples = p.values;
  p.free();
  return { step, nats: sum / (count * len), heldOut: count, samples, count: TRAIN_SAMPLES, len, numValues: 2 * len };
}

// A helper scores one snapshot at a time: each replaces the helper's model in training.
let heldOutQueue = Promise.resolve();

/** A helper's part: weights trained in the tab, scored and sampled as `scoreSnapshot` does, one
 *  call after the other. */
function helperHeldOut({ kind, bytes, step }) {
  const run = heldOutQueue.then(async () => {
    demo.train_new(kind, 0, bytes);
    try {
      await demo.train_snapshot();
      return await scoreSnapshot(kind, step);
    } finally {
      demo.train_drop();
    }
  });
  heldOutQueue = run.catch(() => {});
  return run;
}

/** The toy panel's model becomes the weights trained here (kept until the page reloads). */
async function trainUse() {
  const t = training;
  if (!t) throw new Error("nothing trained yet: press Start");
  const [step, bytes] = await withSnapshot(async () => [await demo.train_snapshot(), demo.train_weights()]);
  const kind = t.kind;
  const what = `${MODELS_TRAINED_HERE} (${kind}, step ${step})`;
  weightsTable[kind] = { url: "this tab", what, bytes };
  downloads.delete(kind);
  loads.delete(kind);
  for (const helper of helpers) {
    helper.loads.delete(kind);
    helper.kinds.delete(kind);
  }
  dropRun("toy");
  return { kind, ...(await loadKind(kind)), what, step };
}
const MODELS_TRAINED_HERE = "weights trained in this tab";

async function handle(message) {
  switch (message.type) {
    case "init":
      return initialize(message);
    case "load":
      if (HELPER) {
        // New bytes for a model (weights trained in the tab) replace the ones loaded before.
        weightsTable[message.kind] = { url: message.url, what: message.what, bytes: message.bytes };
        loads.delete(message.kind);
        downloads.delete(message.kind);
      }
      return loadKind(message.kind);
    case "start":
      return HELPER ? helperStart(message) : start(message);
    case "advance":
      return helperAdvance(message);
    case "stop":
      dropRun(message.panel);
      return null;
    case "backend":
      for (const panel of [...runs.keys()]) dropRun(panel);
      demo.use_gpu(message.gpu);
      return backendState();
    case "testDigit":
      return demo.test_digit(message.index);
    case "probe":
      return demo.probe_logits(message.kind, message.gpu);
    case "trainStart":
      return trainStart(message);
    case "trainSettings":
      if (training) Object.assign(training, { batch: message.batch, lr: message.lr });
      return null;
    case "trainPause":
      return trainPause();
    case "trainReset":
      trainReset();
      return null;
    case "trainWeights":
      if (!training) throw new Error("nothing trained yet: press Start");
      return withSnapshot(async () => {
        await demo.train_snapshot();
        return demo.train_weights();
      });
    case "trainUse":
      return trainUse();
    case "heldOut":
      return helperHeldOut(message);
    case "simulateDeviceLoss":
      failNextGpuChunk = true;
      return null;
    default:
      throw new Error(`unknown message ${message.type}`);
  }
}

self.onmessage = async (event) => {
  const message = event.data;
  if (wasmTrapped) {
    post({ type: "fatal", message: "the models' module stopped on an earlier error" });
    return;
  }
  try {
    const value = await handle(message);
    if (message.replyTo !== undefined) post({ type: "reply", replyTo: message.replyTo, value });
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      wasmTrapped = true;
      post({ type: "fatal", message: errorText(e) });
    }
    if (message.replyTo !== undefined) post({ type: "reply", replyTo: message.replyTo, error: errorText(e) });
  }
};
