// The page's main thread: controls, the pen and the canvases. The models run in a Web Worker
// (worker.js, which runs the wasm crate): this thread only sends requests and draws what comes
// back, so it never waits on a model.

import { channel, errorText } from "./rpc.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

const MODELS = {
  toy: "Toy weights (lecture)",
  "toy-any-order": "Toy weights (any-order)",
  mnist: "MNIST weights (lecture)",
  "mnist-any-order": "MNIST weights (any-order)",
};

// The page's one global: what the browser tests and scripts/measure-page.mjs read.
window.__test = { maxStall: 0 };

/** Adds `message` to the error box `box` (the header's by default) and shows it. */
function showError(message, box = $("error")) {
  box.textContent = box.hidden ? message : `${box.textContent}\n${message}`;
  box.hidden = false;
}

function clearError(box) {
  box.textContent = "";
  box.hidden = true;
}

/**
 * The number in field `id`, within `lo..hi` (an integer when `integer`). A value out of range or
 * not a number is replaced in the field by the one used, and `notes` gets a line saying so.
 */
function readNumber(id, lo, hi, notes, { integer = true, fallback = lo } = {}) {
  const field = $(id);
  const raw = Number(field.value);
  let v = Number.isFinite(raw) && field.value.trim() !== "" ? raw : fallback;
  if (integer) v = Math.round(v);
  v = Math.min(hi, Math.max(lo, v));
  const given = field.value.trim() !== "" && Number.isFinite(raw);
  if (!given || v !== raw) {
    const label = field.closest("label")?.textContent.trim() || id;
    const why = !given ? "empty or not a number" : raw < lo || raw > hi ? `${JSON.stringify(field.value)} is outside ${lo}..${hi}` : `${JSON.stringify(field.value)} is not a whole number`;
    notes.push(`${label}: ${why}, using ${v}`);
    field.value = String(v);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// The worker and its messages.

let models = null; // { worker, call }
let connected = Promise.resolve(); // settles once the worker (after a restart, the new one) is ready
const runners = {}; // panel name -> Runner
// The models' weights, loaded when first needed (the toy panel's first); kept across a restart.
const loaded = {}; // kind -> {description, shape}
const failed = {}; // kind -> why its weights could not load
const downloading = new Map(); // kind -> {what, received, total}: the progress line

function startWorker(backend) {
  const worker = new Worker("worker.js", { type: "module" });
  const rpc = channel(worker);
  worker.onmessage = (event) => {
    const m = event.data;
    if (rpc.settle(m)) return;
    if (m.type === "fatal") {
      rpc.failAll(m.message);
      restartOnCpu(`The models stopped on an internal error (${m.message})`);
    } else if (m.type === "backendChanged") {
      showBackend(m);
    } else if (m.type === "notice") {
      $("backend-note").textContent = m.message;
    } else if (m.type === "loading") {
      downloading.set(m.kind, m);
      showLoading();
    } else if (m.type.startsWith("train")) {
      trainPanel?.receive(m);
    } else if (runners[m.panel]) {
      runners[m.panel].receive(m);
    }
  };
  worker.onerror = (event) => {
    event.preventDefault();
    const why = `The models' worker failed (${event.message || "unknown error"})`;
    rpc.failAll(why); // no call waits on a dead worker
    restartOnCpu(why);
  };
  return { worker, call: rpc.call, backend };
}

let restarting = false;
/** A trapped module or a dead worker: a fresh worker on the CPU, and the runs again. */
async function restartOnCpu(reason) {
  if (restarting) return;
  restarting = true;
  models.worker.terminate();
  $("backend-note").textContent = `${reason}: restarted on the CPU.`;
  try {
    await connect("cpu", Object.keys(loaded));
    for (const runner of Object.values(runners)) runner.resume();
    trainPanel?.lost("the models' worker restarted, and the training with it: press Start to train again");
  } catch (e) {
    showError(`The models could not restart: ${errorText(e)}`);
  } finally {
    restarting = false;
  }
}

/** Starts the worker with the weights of the models in `first` and the test digits; the other
 *  models' weights load when `need`ed. */
function connect(backend, first) {
  models = startWorker(backend);
  const weights = {};
  for (const [kind, what] of Object.entries(MODELS)) weights[kind] = { url: params.get(kind) || `weights/${kind}.bpk`, what };
  const helperTimeout = Number(params.get("helperTimeout")) || 0;
  const helperStartTimeout = Number(params.get("helperStartTimeout")) || 0;
  const starting = (async () => {
    const ready = await models.call("init", { backend, weights, first, digits: "assets/test-digits.idx", helperTimeout, helperStartTimeout, regions: REGIONS });
    Object.assign(loaded, ready.loaded);
    for (const [kind, why] of Object.entries(ready.failed)) loadFailed(kind, why);
    for (const message of ready.errors) showError(message);
    loadsEnded(first);
    showBackend(ready);
    return ready;
  })();
  connected = starting.catch(() => {});
  return starting;
}

/** Model `kind`'s {description, shape}, once its weights are in (loading them now if need be,
 *  and saying so in `status` when given). Rejects with the reason if they cannot load. */
async function need(kind, status = null) {
  if (status && !loaded[kind] && !failed[kind]) status.textContent = `waiting for the ${MODELS[kind]}…`;
  await connected;
  if (loaded[kind]) return loaded[kind];
  if (failed[kind]) throw new Error(failed[kind]);
  const asked = models;
  try {
    loaded[kind] = await asked.call("load", { kind });
    window.__test[`loaded:${kind}`] = performance.now(); // scripts/measure-load.mjs reports it
    return loaded[kind];
  } catch (e) {
    // The worker restarted meanwhile (see restartOnCpu): ask the new one.
    if (models !== asked) return need(kind, status);
    loadFailed(kind, errorText(e));
    throw e;
  } finally {
    loadsEnded([kind]);
  }
}

/** Weights that did not load: said once, and their model offered no more. */
function loadFailed(kind, message) {
  if (failed[kind]) return;
  failed[kind] = message;
  showError(message);
  for (const id of ["toy-model", "digits-model", "inpaint-model"]) offerModels($(id));
}

function loadsEnded(kinds) {
  for (const kind of kinds) downloading.delete(kind);
  showLoading();
}

/** The progress line: what is downloading and how far along. */
function showLoading() {
  const mb = (bytes) => (bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1);
  const parts = [...downloading.values()].map(({ what, received, total }) =>
    total > 0 ? `${what} ${mb(Math.min(received, total))} of ${mb(total)} MB` : `${what} ${mb(received)} MB`);
  $("loading").textContent = parts.length ? `Loading ${parts.join(", ")}…` : "";
}

/** After the first sample: the weights of the panels in view, then the others, one at a time. */
async function loadTheRest() {
  const inView = (id) => {
    const r = $(id).getBoundingClientRect();
    return r.bottom > 0 && r.top < innerHeight;
  };
  const panels = [["toy", "toy-model"], ["digits", "digits-model"], ["inpaint", "inpaint-model"]];
  // The models the panels in view show, then those the others show, then the rest.
  const order = [
    ...panels.filter(([section]) => inView(section)).map(([, select]) => $(select).value),
    ...panels.map(([, select]) => $(select).value),
    ...Object.keys(MODELS),
  ];
  for (const kind of order) {
    if (loaded[kind] || failed[kind]) continue;
    try {
      await need(kind);
    } catch (_) {
      // said on the page by `need`
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The backend line.

let adapterLabel = "";

/** The backend line: what runs the models, and why (`state.note`). */
function showBackend(state) {
  const select = $("backend-select");
  if (state.adapterLabel) adapterLabel = state.adapterLabel;
  $("backend").textContent = state.gpu && adapterLabel ? `WebGPU (${adapterLabel})` : state.backend;
  select.value = state.gpu ? "gpu" : "cpu";
  $("backend-note").textContent = state.note || "";
  select.querySelector('option[value="gpu"]').disabled = !state.gpuAvailable;
  select.disabled = false;
  document.body.dataset.backend = select.value;
}

function setupBackend() {
  const select = $("backend-select");
  select.addEventListener("change", async () => {
    for (const runner of Object.values(runners)) runner.stop("backend changed: press the button again");
    try {
      showBackend(await models.call("backend", { gpu: select.value === "gpu" }));
    } catch (e) {
      showError(`Cannot switch backend: ${errorText(e)}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Runs: one per panel; a newer run replaces an older one, whose late messages are ignored.

let nextRunId = 1;

class Runner {
  constructor(panel, { status, stop, errors, onProgress }) {
    Object.assign(this, { panel, status, errorBox: errors, onProgress });
    this.current = null; // { id, request, notes, t0, resolve, reject }
    stop.addEventListener("click", () => this.stop());
    this.stopButton = stop;
    runners[panel] = this;
  }

  /**
   * Starts `request` in this panel; resolves with the last progress message, or null if the run
   * was stopped or failed (its error then shows in the panel). However it ends, Stop is disabled.
   */
  async run(request, notes = []) {
    this.cancel();
    clearError(this.errorBox);
    const run = { id: nextRunId++, request, notes, t0: performance.now() };
    const ended = new Promise((resolve, reject) => Object.assign(run, { resolve, reject }));
    this.current = run;
    this.stopButton.disabled = false;
    this.status.textContent = ["starting…", ...notes].join(" · ");
    try {
      models.worker.postMessage({ type: "start", panel: this.panel, id: run.id, ...request });
      return await ended;
    } catch (e) {
      this.status.textContent = "";
      showError(errorText(e), this.errorBox);
      return null;
    } finally {
      if (this.current === run) this.cancel();
    }
  }

  /** Messages from the worker for this panel: only the current run's count. */
  receive(m) {
    const run = this.current;
    if (!run || m.id !== run.id) return;
    try {
      if (m.type === "runError") throw new Error(m.message);
      if (m.type === "started" && m.total === 0) {
        this.status.textContent = "nothing to generate";
      } else if (m.type === "progress") {
        const secs = (performance.now() - run.t0) / 1000;
        this.onProgress(m, run.request);
        const extra = run.notes.length ? ` · ${run.notes.join(" · ")}` : "";
        this.status.textContent = m.done
          ? `done in ${secs.toFixed(2)} s on ${m.backend} (${m.total} ${m.total === 1 ? "step" : "steps"})${extra}`
          : `step ${m.step}/${m.total}, ${secs.toFixed(1)} s${extra}`;
        if (m.done) this.finish({ ...m, secs });
      }
    } catch (e) {
      run.reject(e); // run() ends it
    }
  }

  finish(result) {
    const run = this.current;
    this.current = null;
    this.stopButton.disabled = true;
    run.resolve(result);
  }

  /** Drops the current run (its late messages are ignored from now on). */
  cancel() {
    if (!this.current) return;
    models.worker.postMessage({ type: "stop", panel: this.panel });
    this.finish(null);
  }

  stop(why = "") {
    if (!this.current) return;
    this.cancel();
    this.status.textContent += why ? ` (stopped: ${why})` : " (stopped)";
  }

  /** After a worker restart: the run in progress again, from the start. */
  resume() {
    const run = this.current;
    if (!run) return;
    this.current = null;
    this.run(run.request, run.notes).then(run.resolve);
  }
}

/**
 * One generation, as every panel runs one: `prepare(notes)` reads the panel's controls into a
 * request (null: nothing to run), `onDone(result, request)` records a finished run. An error
 * shows in the panel; resolves with the result, or null.
 */
async function runGeneration(runner, prepare, onDone = () => {}) {
  const notes = [];
  try {
    const request = await prepare(notes);
    if (!request) return null;
    const t = temperatureNote(request.temperature);
    if (t) notes.push(t);
    const result = await runner.run(request, notes);
    if (result) onDone(result, request);
    return result;
  } catch (e) {
    showError(errorText(e), runner.errorBox);
    return null;
  }
}

/** Puts a picture from the worker (RGBA bytes) on `canvas`; CSS scales it, crisply. */
function putPicture(canvas, picture) {
  canvas.redrawAtDensity = null; // pixels from the worker, scaled by CSS: nothing to redraw
  canvas.width = picture.width;
  canvas.height = picture.height;
  canvas.style.width = `${picture.width}px`;
  canvas.style.height = "auto";
  const image = new ImageData(new Uint8ClampedArray(picture.rgba.buffer, picture.rgba.byteOffset, picture.rgba.byteLength), picture.width, picture.height);
  canvas.getContext("2d").putImageData(image, 0, 0);
}

/**
 * `draw` drew `canvas` at the screen's pixel density: it draws it again when the density changes
 * (the window moved to another screen, a zoom) without a resize.
 */
function redrawnOnDensityChange(canvas, draw) {
  canvas.redrawAtDensity = draw;
}

let densityQuery = null; // held: a collected MediaQueryList drops its listeners

/** Watches the screen's pixel density (a media query per density) and redraws the canvases. */
function watchDensity() {
  densityQuery = matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
  densityQuery.addEventListener("change", () => {
    for (const canvas of document.querySelectorAll("canvas")) canvas.redrawAtDensity?.();
    watchDensity();
  }, { once: true });
}

/** A canvas sized for the screen's pixel density: draw in CSS pixels on the returned context. */
function hiDpiContext(canvas, cssWidth, cssHeight) {
  const dpr = window.devicePixelRatio || 1;
  // A width and an automatic height: narrowed by max-width, the canvas keeps its shape.
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = "auto";
  canvas.width = Math.round(cssWidth * dpr);
  canvas.height = Math.round(cssHeight * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** A prompt written on an empty canvas, so that no panel opens on a blank box. */
function prompt(canvas, text, width = 400, height = 120) {
  redrawnOnDensityChange(canvas, () => prompt(canvas, text, width, height));
  const ctx = hiDpiContext(canvas, width, height);
  ctx.fillStyle = "#eee";
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = "#666";
  ctx.font = "14px system-ui, sans-serif";
  ctx.textAlign = "center";
  ctx.fillText(text, width / 2, height / 2);
}

function temperatureNote(t) {
  return t === 0 ? "temperature 0: each value is the most likely one" : null;
}

// ---------------------------------------------------------------------------------------------
// 1. Toy sequences: pins, and 25 sequences drawn through them.

// Room around the toy grid for the axes' labels. The grid itself (`ready.toyGrid`: panel size,
// gap, plots a row) is the trainer's, from the wasm side.
const AXES = { left: 30, bottom: 26, top: 8 };

/** The CSS size of `count` toy plots on `grid`, with the axes. */
function toyCanvasSize(grid, count) {
  const rows = Math.max(1, Math.ceil(count / grid.columns));
  return [AXES.left + grid.columns * (grid.panelWidth + grid.gap), AXES.top + rows * (grid.panelHeight + grid.gap) + AXES.bottom];
}

/** Plots of `sequences` (arrays of values in 0..numValues) on `grid`, with axes and the pins. */
function drawSequences(canvas, grid, sequences, numValues, pins) {
  redrawnOnDensityChange(canvas, () => drawSequences(canvas, grid, sequences, numValues, pins));
  const { panelWidth: w, panelHeight: h, gap, columns } = grid;
  const len = sequences[0]?.length || 1;
  const rows = Math.max(1, Math.ceil(sequences.length / columns));
  const [W, H] = toyCanvasSize(grid, sequences.length);
  const ctx = hiDpiContext(canvas, W, H);
  ctx.fillStyle = "#e1e1e1";
  ctx.fillRect(0, 0, W, H);
  ctx.font = "10px system-ui, sans-serif";
  const x = (x0, k) => x0 + 4 + (k * (w - 9)) / Math.max(1, len - 1);
  const y = (y0, v) => y0 + h - 5 - (v * (h - 9)) / (numValues - 1);
  sequences.forEach((seq, i) => {
    const x0 = AXES.left + (i % columns) * (w + gap);
    const y0 = AXES.top + Math.floor(i / columns) * (h + gap);
    ctx.fillStyle = "#fff";
    ctx.fillRect(x0, y0, w, h);
    ctx.strokeStyle = "#999";
    ctx.strokeRect(x0 + 0.5, y0 + 0.5, w - 1, h - 1);
    ctx.fillStyle = "#e1e1e1";
    ctx.fillRect(x0 + 1, Math.round(y(y0, numValues / 2)), w - 2, 1);
    ctx.fillStyle = "#2850c8";
    seq.forEach((v, k) => ctx.fillRect(x(x0, k) - 1.5, y(y0, v) - 1.5, 3, 3));
    ctx.strokeStyle = "#d01e1e";
    for (const [k, v] of pins) {
      ctx.beginPath();
      ctx.arc(x(x0, k), y(y0, v), 3.5, 0, 2 * Math.PI);
      ctx.stroke();
    }
    // Axes: values on the left column, positions on the bottom row.
    ctx.fillStyle = "#444";
    if (i % columns === 0) {
      ctx.textAlign = "right";
      ctx.fillText(String(numValues - 1), x0 - 3, y(y0, numValues - 1) + 3);
      ctx.fillText("0", x0 - 3, y(y0, 0) + 3);
    }
    if (Math.floor(i / columns) === rows - 1) {
      ctx.textAlign = "center";
      ctx.fillText("1", x(x0, 0), y0 + h + 11);
      ctx.fillText(String(len), x(x0, len - 1), y0 + h + 11);
    }
  });
  ctx.fillStyle = "#444";
  ctx.textAlign = "center";
  ctx.fillText("position →", AXES.left + (columns * (w + gap)) / 2, H - 3);
  ctx.save();
  ctx.translate(9, (rows * (h + gap)) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText("value →", 0, 0);
  ctx.restore();
}

/** How many sequences the toy panel draws. */
const TOY_COUNT = 25;

// The pin editor: one large plot (CSS pixels), a column a position and a row a value.
const PIN_PLOT = { w: 480, h: 200, left: 34, bottom: 28, top: 8 };

/** Where position `k` (`px`) and value `v` (`py`) lie on the pin editor, for `len` positions of `numValues` values. */
function pinScales(len, numValues) {
  const P = PIN_PLOT;
  return {
    px: (k) => P.left + ((k + 0.5) * (P.w - P.left - 8)) / len,
    py: (v) => P.top + ((numValues - 0.5 - v) * (P.h - P.top - P.bottom)) / numValues,
  };
}

/** The pin editor with `pins` (position -> value) in red, and the line that lists them. */
function drawPins(canvas, pins, len, numValues) {
  redrawnOnDensityChange(canvas, () => drawPins(canvas, pins, len, numValues));
  const P = PIN_PLOT;
  const { px, py } = pinScales(len, numValues);
  const ctx = hiDpiContext(canvas, P.w, P.h);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, P.w, P.h);
  ctx.strokeStyle = "#eee";
  for (let k = 0; k < len; k++) {
    ctx.beginPath();
    ctx.moveTo(px(k), P.top);
    ctx.lineTo(px(k), P.h - P.bottom);
    ctx.stroke();
  }
  ctx.strokeStyle = "#ccc";
  ctx.beginPath();
  ctx.moveTo(P.left, py(len));
  ctx.lineTo(P.w - 8, py(len));
  ctx.stroke();
  ctx.fillStyle = "#444";
  ctx.font = "11px system-ui, sans-serif";
  ctx.textAlign = "center";
  for (const k of [0, Math.floor(len / 2) - 1, len - 1]) ctx.fillText(String(k + 1), px(k), P.h - P.bottom + 13);
  ctx.fillText("position", (P.left + P.w) / 2, P.h - 3);
  ctx.textAlign = "right";
  for (const v of [0, len, numValues - 1]) ctx.fillText(String(v), P.left - 4, py(v) + 4);
  ctx.fillStyle = "#d01e1e";
  for (const [k, v] of pins) {
    ctx.beginPath();
    ctx.arc(px(k), py(v), 4, 0, 2 * Math.PI);
    ctx.fill();
  }
  $("pin-count").textContent = pins.size ? `${pins.size} pinned: ${[...pins].sort((a, b) => a[0] - b[0]).map(([k, v]) => `x${k + 1}=${v}`).join(", ")}` : "no pins";
}

/**
 * A click on the pin editor: a click on (or within a few pixels of) a pin removes it; elsewhere
 * it pins the value under the pointer at that position. False if the click is off the plot.
 */
function clickPin(canvas, e, pins, len, numValues) {
  const P = PIN_PLOT;
  const rect = canvas.getBoundingClientRect();
  const cx = ((e.clientX - rect.left) / rect.width) * P.w;
  const cy = ((e.clientY - rect.top) / rect.height) * P.h;
  const k = Math.round(((cx - P.left) * len) / (P.w - P.left - 8) - 0.5);
  const v = Math.round(numValues - 0.5 - ((cy - P.top) * numValues) / (P.h - P.top - P.bottom));
  if (k < 0 || k >= len || v < 0 || v >= numValues) return false;
  if (pins.has(k) && Math.abs(pinScales(len, numValues).py(pins.get(k)) - cy) <= 6) pins.delete(k);
  else pins.set(k, v);
  return true;
}

/** The pin editor's controls: clicks on the plot (primary button) and Clear pins edit `pins`. */
function setupPins(canvas, pins, len, numValues) {
  const redraw = () => drawPins(canvas, pins, len, numValues);
  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 || !clickPin(canvas, e, pins, len, numValues)) return;
    redraw();
    // Pins are for the any-order model: the lecture's (the page's first, the cheaper to load and
    // run) draws left to right and cannot use them.
    const model = $("toy-model");
    if (pins.size > 0 && model.value === "toy" && !failed["toy-any-order"]) {
      model.value = "toy-any-order";
      $("toy-status").textContent = "pins need the any-order model: switched to it";
    }
  });
  $("pins-clear").addEventListener("click", () => { pins.clear(); redraw(); });
  redraw();
}

/**
 * The toy panel's request: `count` sequences of `len` values from the chosen model, through
 * `pins` for the any-order model (the lecture's model cannot use them: `notes` says so).
 */
function toyRequest(notes, pins, count, len) {
  const seed = readNumber("toy-seed", 0, 2 ** 31 - 1, notes);
  const temperature = readNumber("toy-temp", 0, 10, notes, { integer: false, fallback: 1 });
  const kind = $("toy-model").value;
  const anyOrder = kind === "toy-any-order";
  if (!anyOrder && pins.size) notes.push(`the lecture's model draws left to right and cannot use pins: ${count} plain sequences`);
  let known = null;
  if (anyOrder && pins.size) {
    known = new Int32Array(count * len).fill(-1);
    for (let s = 0; s < count; s++) for (const [k, v] of pins) known[s * len + k] = v;
  }
  return { kind, count, seed, temperature, order: "raster", perStep: 1, known, image: false };
}

/** The toy panel: the pin editor and its runs. Returns the panel's Generate, or nothing if no toy
 *  weights load (the first toy model's were loaded by `connect`; both share one shape). */
async function setupToy(ready) {
  const canvas = $("toy-canvas");
  const pins = new Map(); // position -> value
  const count = TOY_COUNT;
  prompt(canvas, `${count} sequences appear here.`, ...toyCanvasSize(ready.toyGrid, count));
  offerModels($("toy-model"));
  let shape = null;
  for (const kind of [$("toy-model").value, "toy-any-order", "toy"]) {
    if (shape) break;
    shape = await need(kind).then((info) => info.shape, () => null);
  }
  if (!shape) return;
  const { len, numValues } = shape;
  setupPins($("pin-canvas"), pins, len, numValues);
  window.__test.pins = pins;

  const runner = new Runner("toy", {
    status: $("toy-status"),
    stop: $("toy-stop"),
    errors: $("toy-error"),
    onProgress: (m, request) => {
      const seqs = [];
      for (let s = 0; s < request.count; s++) seqs.push(Array.from(m.values.subarray(s * len, (s + 1) * len)));
      drawSequences(canvas, ready.toyGrid, seqs, numValues, request.known ? pins : new Map());
      if (m.done) {
        window.__test.lastToy = { values: Array.from(m.values), len };
        canvas.dataset.count = String(request.count);
      }
    },
  });

  const generate = () => runGeneration(runner, async (notes) => {
    await need($("toy-model").value, $("toy-status"));
    const request = toyRequest(notes, pins, count, len);
    delete canvas.dataset.count;
    return request;
  });
  $("toy-go").disabled = false;
  $("toy-go").addEventListener("click", generate);
  return generate;
}

// ---------------------------------------------------------------------------------------------
// 2. Digits, with the posterior view and the map of the visiting order.

/** Disables the models whose weights could not load, choosing the first other one if need be. */
function offerModels(select) {
  for (const option of select.options) option.disabled = Boolean(failed[option.value]);
  const first = [...select.options].find((option) => !option.disabled);
  if (failed[select.value] && first) select.value = first.value;
}

/** The library's defaults (from the worker) for panel `prefix`: in-painting has its own. */
const panelDefaults = (prefix, ready) => (prefix === "inpaint" ? ready.inpaintDefaults : ready.defaults);

/**
 * Panel `prefix`'s order, positions-per-step, schedule (and in-painting's guidance) fields, set to
 * the any-order model's defaults for the panel and enabled only for that model; a change of model
 * stops the panel's run (its picture would no longer match the controls).
 */
function linkOrderFields(prefix, ready) {
  const model = $(`${prefix}-model`);
  const defaults = panelDefaults(prefix, ready)["mnist-any-order"];
  if (defaults) {
    $(`${prefix}-order`).value = defaults.order;
    $(`${prefix}-per-step`).value = String(defaults.perStep);
    $(`${prefix}-schedule`).value = defaults.schedule;
    if (prefix === "inpaint") $("inpaint-guidance").value = String(defaults.guidance);
  }
  const fields = prefix === "inpaint" ? ["order", "per-step", "schedule", "guidance"] : ["order", "per-step", "schedule"];
  const sync = () => {
    const anyOrder = model.value.endsWith("any-order");
    for (const field of fields) $(`${prefix}-${field}`).disabled = !anyOrder;
  };
  model.addEventListener("change", () => {
    sync();
    runners[prefix]?.stop("model changed");
  });
  sync();
}

/** Panel `prefix`'s model and generation settings; waits for the model's weights, saying so. */
async function generationOptions(prefix, notes, ready) {
  const kind = $(`${prefix}-model`).value;
  const anyOrder = kind.endsWith("any-order");
  const { shape } = await need(kind, $(`${prefix}-status`));
  const { len } = shape;
  return {
    kind,
    seed: readNumber(`${prefix}-seed`, 0, 2 ** 31 - 1, notes),
    temperature: readNumber(`${prefix}-temp`, 0, 10, notes, { integer: false, fallback: 1 }),
    order: anyOrder ? $(`${prefix}-order`).value : "raster",
    perStep: anyOrder ? readNumber(`${prefix}-per-step`, 1, len, notes, { fallback: panelDefaults(prefix, ready)[kind].perStep }) : 1,
    schedule: anyOrder ? $(`${prefix}-schedule`).value : "constant",
    // Guidance needs kept pixels to hide: in-painting with an any-order model only.
    guidance: anyOrder && prefix === "inpaint"
      ? readNumber("inpaint-guidance", 0, 10, notes, { integer: false, fallback: panelDefaults(prefix, ready)[kind].guidance })
      : 0,
  };
}

function setupDigits(ready) {
  const canvas = $("digits-canvas");
  offerModels($("digits-model"));
  linkOrderFields("digits", ready);
  prompt(canvas, "Press Generate: the digits fill in here as they are drawn.", 500, 120);
  prompt($("order-canvas"), "visiting order", 112, 112);
  prompt($("posterior-canvas"), "what the model sees and predicts", 560, 130);
  let posteriorShown = false; // during the current run
  const runner = new Runner("digits", {
    status: $("digits-status"),
    stop: $("digits-stop"),
    errors: $("digits-error"),
    onProgress: (m) => {
      putPicture(canvas, m.pictures.grid);
      if (m.pictures.order) putPicture($("order-canvas"), m.pictures.order);
      if (m.pictures.posterior) {
        putPicture($("posterior-canvas"), m.pictures.posterior);
        posteriorShown = true;
      }
      // A run done in its first chunk had no next pixel to show: leave no earlier run's picture.
      if (m.done && !posteriorShown) prompt($("posterior-canvas"), "done in one chunk: no next pixel to show", 560, 130);
      if (m.done) canvas.dataset.done = "true";
    },
  });
  $("digits-go").disabled = false;
  const prepare = async (notes) => {
    const count = readNumber("digits-count", 1, 96, notes, { fallback: 16 });
    const options = await generationOptions("digits", notes, ready);
    const watch = readNumber("watch", 0, count - 1, notes, { fallback: 0 });
    const { width, height } = loaded[options.kind].shape;
    delete canvas.dataset.done;
    posteriorShown = false;
    return { ...options, count, known: null, image: true, width, height, columns: Math.min(count, 11), scale: 3, watch };
  };
  const onDone = (result, request) => {
    window.__test.lastDigits = { pixels: Array.from(result.values), count: request.count, secs: result.secs, workers: result.workers };
  };
  $("digits-go").addEventListener("click", () => runGeneration(runner, prepare, onDone));
}

// ---------------------------------------------------------------------------------------------
// 3. The in-painting editor and its completions.

/** The editor's picture (`side x side`): gray levels, and which pixels are given (1) or to generate (0). */
function makeEditor(side) {
  return { side, pixels: new Uint8Array(side * side), known: new Uint8Array(side * side).fill(1) };
}

function drawEditor(canvas, editor, lecture) {
  redrawnOnDensityChange(canvas, () => drawEditor(canvas, editor, lecture));
  const { side } = editor;
  const css = Math.min(280, Math.max(168, Math.floor(canvas.parentElement.clientWidth || 280)));
  const ctx = hiDpiContext(canvas, css, css);
  const s = css / side;
  const firstUnknown = editor.known.indexOf(0);
  for (let i = 0; i < side * side; i++) {
    const x = (i % side) * s, y = Math.floor(i / side) * s;
    if (!editor.known[i]) {
      ctx.fillStyle = "#ffb4b4"; // to generate
    } else {
      const ink = 255 - editor.pixels[i];
      // The raster model reaches given pixels after the first unknown one too late to use them.
      ctx.fillStyle = lecture && firstUnknown >= 0 && i > firstUnknown ? `rgb(${Math.round(ink * 0.75 + 30)},${Math.round(ink * 0.75 + 40)},${Math.round(ink * 0.75 + 64)})` : `rgb(${ink},${ink},${ink})`;
    }
    ctx.fillRect(x, y, s + 0.5, s + 0.5);
  }
  ctx.strokeStyle = "rgba(0,0,0,0.08)";
  ctx.lineWidth = 1;
  for (let k = 1; k < side; k++) {
    ctx.beginPath();
    ctx.moveTo(k * s, 0);
    ctx.lineTo(k * s, css);
    ctx.moveTo(0, k * s);
    ctx.lineTo(css, k * s);
    ctx.stroke();
  }
}

/** Paints the brush at pixel coordinates (x, y) (continuous, pixel units). */
function stamp(editor, x, y, tool, size, level) {
  const { side } = editor;
  const r = size / 2;
  for (let yy = Math.floor(y - r - 1); yy <= Math.ceil(y + r + 1); yy++) {
    for (let xx = Math.floor(x - r - 1); xx <= Math.ceil(x + r + 1); xx++) {
      if (xx < 0 || yy < 0 || xx >= side || yy >= side) continue;
      const d = Math.hypot(xx + 0.5 - x, yy + 0.5 - y);
      const cover = Math.min(1, Math.max(0, r + 0.5 - d));
      if (cover <= 0) continue;
      const i = yy * side + xx;
      if (tool === "pen") {
        const v = Math.round(level * cover);
        editor.pixels[i] = editor.known[i] ? Math.max(editor.pixels[i], v) : v;
        editor.known[i] = 1;
      } else if (cover >= 0.5) {
        editor.pixels[i] = 0;
        editor.known[i] = tool === "eraser" ? 1 : 0;
      }
    }
  }
}

/**
 * The pen: pointer events (mouse, touch, stylus), primary button only, continuous strokes. A pen
 * takes over from a touch stroke (a resting palm), whose marks it undoes; a touch that starts
 * while a pen draws is ignored.
 */
function setupPen(canvas, editor, redraw) {
  let stroke = null; // { id, type, x, y, before: the editor before a touch stroke }
  const at = (e) => {
    const rect = canvas.getBoundingClientRect();
    return [((e.clientX - rect.left) / rect.width) * editor.side, ((e.clientY - rect.top) / rect.height) * editor.side];
  };
  const brush = () => [document.querySelector('input[name="tool"]:checked').value, Number($("pen-size").value), Number($("pen-level").value)];
  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    if (stroke) {
      if (!(e.pointerType === "pen" && stroke.type === "touch")) return;
      editor.pixels.set(stroke.before.pixels);
      editor.known.set(stroke.before.known);
      stroke = null;
    }
    e.preventDefault();
    try {
      canvas.setPointerCapture(e.pointerId);
    } catch (_) {
      // A pointer the browser no longer tracks: the stroke still ends on pointerup or cancel.
    }
    const [x, y] = at(e);
    const before = e.pointerType === "touch" ? { pixels: editor.pixels.slice(), known: editor.known.slice() } : null;
    stroke = { id: e.pointerId, type: e.pointerType, x, y, before };
    stamp(editor, x, y, ...brush());
    redraw();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!stroke || e.pointerId !== stroke.id) return;
    if (e.pointerType === "mouse" && (e.buttons & 1) === 0) {
      stroke = null; // the button was released outside the page
      return;
    }
    const [tool, size, level] = brush();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) {
      const [x, y] = at(ev);
      // Stamps a quarter pixel apart: continuous at any pointer speed.
      const n = Math.max(1, Math.ceil(Math.hypot(x - stroke.x, y - stroke.y) * 4));
      for (let k = 1; k <= n; k++) stamp(editor, stroke.x + ((x - stroke.x) * k) / n, stroke.y + ((y - stroke.y) * k) / n, tool, size, level);
      stroke.x = x;
      stroke.y = y;
    }
    redraw();
  });
  for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
    canvas.addEventListener(type, (e) => {
      if (!stroke || e.pointerId !== stroke.id) return;
      // A touch the browser cancels (a palm it rejects, as a pen comes) leaves no mark.
      if (type === "pointercancel" && stroke.before) {
        editor.pixels.set(stroke.before.pixels);
        editor.known.set(stroke.before.known);
        redraw();
      }
      stroke = null;
    });
  }
  canvas.addEventListener("contextmenu", (e) => e.preventDefault());
}

/** The erase presets, one button each (`erase-NAME`): the worker hands back each one's mask
 *  (`ready.erased`), as the library erases it. */
const REGIONS = ["top", "bottom", "left", "right", "centre"];

/** Marks the pixels where `mask` is 1 unknown (and blank); the rest stays as it is. */
function eraseMask(editor, mask) {
  mask.forEach((erased, i) => {
    if (erased) {
      editor.known[i] = 0;
      editor.pixels[i] = 0;
    }
  });
}

/** A blank editor: every pixel given, white. */
function clearEditor(editor) {
  editor.pixels.fill(0);
  editor.known.fill(1);
}

/** Test digit `index` from the worker into the editor, every pixel given. */
async function loadTestDigit(editor, index) {
  const pixels = await models.call("testDigit", { index });
  editor.pixels.set(pixels);
  editor.known.fill(1);
  window.__test.digitsLoaded = (window.__test.digitsLoaded || 0) + 1;
}

/** The editor's buttons: the erase presets, Clear, and Test digit (the next one each press). */
function setupEditorButtons(editor, ready, redraw) {
  for (const name of REGIONS) {
    $(`erase-${name}`).addEventListener("click", () => {
      eraseMask(editor, ready.erased[name]);
      redraw();
    });
  }
  $("editor-clear").addEventListener("click", () => {
    clearEditor(editor);
    redraw();
  });
  let nextDigit = 0;
  const nextTestDigit = () => loadTestDigit(editor, nextDigit++ % ready.testDigits);
  if (ready.testDigits > 0) {
    $("editor-test").disabled = false;
    $("editor-test").addEventListener("click", async () => {
      await nextTestDigit();
      redraw();
    });
  }
  return nextTestDigit;
}

/** The in-painting panel's conditioning: the editor's picture (-1 where unknown), `count` times. */
function editorKnown(editor, count) {
  const one = Int32Array.from(editor.pixels, (v, i) => (editor.known[i] ? v : -1));
  const known = new Int32Array(count * one.length);
  for (let a = 0; a < count; a++) known.set(one, a * one.length);
  return known;
}

/** Nothing to complete: the panel says so instead of running. */
function showNothingToComplete(runner) {
  runner.stop();
  $("inpaint-status").textContent = "";
  clearError($("inpaint-error"));
  showError("Nothing to generate: every pixel is given. Mark pixels to generate with the Unknown brush or an Erase button.", $("inpaint-error"));
}

/**
 * The in-painting panel: the editor (pen, erase presets, test digits) and the completions.
 * Returns { loadTestDigit, redraw } for the first view, or nothing if no MNIST weights loaded.
 */
function setupInpainting(ready) {
  const canvas = $("editor");
  const model = $("inpaint-model");
  const editor = makeEditor(ready.side);
  const { side } = editor;
  window.__test.editor = editor;
  offerModels(model);
  const redraw = () => drawEditor(canvas, editor, model.value === "mnist");
  model.addEventListener("change", redraw);
  linkOrderFields("inpaint", ready);
  setupPen(canvas, editor, redraw);
  addEventListener("resize", redraw);
  const nextTestDigit = setupEditorButtons(editor, ready, redraw);
  redraw();

  const completions = $("completions");
  prompt(completions, "Erase part of the digit, then press Complete.", 400, 120);
  const runner = new Runner("inpaint", {
    status: $("inpaint-status"),
    stop: $("inpaint-stop"),
    errors: $("inpaint-error"),
    onProgress: (m) => {
      putPicture(completions, m.pictures.grid);
      if (m.done) completions.dataset.done = "true";
    },
  });
  $("complete").disabled = false;
  const prepare = async (notes) => {
    const count = readNumber("alternatives", 1, 16, notes, { fallback: 6 });
    const options = await generationOptions("inpaint", notes, ready);
    if (!editor.known.includes(0)) {
      showNothingToComplete(runner);
      return null;
    }
    delete completions.dataset.done;
    return { ...options, count, known: editorKnown(editor, count), image: true, width: side, height: side, columns: Math.min(count, 6), scale: 3, watch: 0 };
  };
  const onDone = (result, request) => {
    window.__test.lastCompletion = { known: Array.from(request.known), pixels: Array.from(result.values), steps: result.total };
  };
  $("complete").addEventListener("click", () => runGeneration(runner, prepare, onDone));
  return { loadTestDigit: nextTestDigit, redraw };
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// The service worker (sw.js): the page opens from its cache after a first visit, even offline.

/** Registers sw.js and, on a first visit, waits (at most 3 s) until it serves this page, so that
 *  every file the workers fetch is cached as it downloads, once. `?sw=off`: no service worker. */
async function useServiceWorker() {
  if (!("serviceWorker" in navigator) || params.get("sw") === "off") return;
  // Whether this page came from the service worker, as the page's first script saw it: a first
  // install can take over (clients.claim) before this runs, and its page is still to hand over.
  const hadController = window.swHadController ?? Boolean(navigator.serviceWorker.controller);
  try {
    const registration = await (window.swRegistration || navigator.serviceWorker.register("sw.js"));
    offerUpdates(registration, hadController);
    // The page itself, from the browser's HTTP cache (no second download), for offline visits.
    const handOverPage = async () => {
      const page = await fetch(location.href, { cache: "only-if-cached", mode: "same-origin" }).catch(() => null);
      if (page?.ok) navigator.serviceWorker.controller.postMessage({ type: "page", bytes: await page.arrayBuffer() });
      // Where the browser did not keep the page (it may not), the next visit fetches it.
      window.__test.pageHandedOver = page?.ok ? "yes" : "not in the browser's cache";
    };
    if (!hadController) {
      // A first visit: the page waits for the service worker at most 3 s; one that takes control
      // later (an install slowed by a busy machine) still gets the page then.
      const control = navigator.serviceWorker.controller
        ? Promise.resolve()
        : new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
      const soon = await Promise.race([control.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 3000))]);
      const handed = control.then(handOverPage);
      if (soon) await handed;
      else handed.catch((e) => console.warn(`The page was not kept for offline visits: ${errorText(e)}`));
    }
  } catch (e) {
    // The page works without it; it is only not kept for the next visit.
    console.warn(`No service worker (${errorText(e)}): the page will not open offline.`);
  }
}

/** A newer build installed beside this one: a Reload button switches to it (never by itself, so
 *  that a page never runs files of two builds). */
function offerUpdates(registration, hadController) {
  const offer = (worker) => {
    if (!worker || !navigator.serviceWorker.controller) return; // a first install: nothing older
    $("update").hidden = false;
    $("update-go").onclick = () => worker.postMessage({ type: "activate" });
  };
  if (registration.waiting) offer(registration.waiting);
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    worker?.addEventListener("statechange", () => worker.state === "installed" && offer(worker));
  });
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (hadController) location.reload(); // the new build took over: load its files
  });
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type !== "newBuildOnServer") return;
    $("update").hidden = false;
    $("update").firstChild.textContent = "A newer version of this page is on the server. ";
    $("update-go").onclick = () => registration.update().finally(() => location.reload());
  });
}


// ---------------------------------------------------------------------------------------------
// 4. Training in the tab: the worker trains (worker.js, `trainLoop`); this thread draws the loss
// curve, the held-out figures and the samples it sends.

let trainPanel = null;

/** The loss curve: each chunk's mean training loss (gray), the held-out cross-entropy (blue
 *  dots) and the generator's entropy, the floor (red, dashed), against sequences seen. */
function drawTrainCurve(canvas, t) {
  redrawnOnDensityChange(canvas, () => drawTrainCurve(canvas, t));
  const W = 640, H = 260, L = 46, R = 12, T = 10, B = 34;
  const ctx = hiDpiContext(canvas, W, H);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  const xMax = Math.max(1, t.sequences);
  const firsts = t.losses.slice(0, 5).map((p) => p.y);
  const yMax = Math.min(4.5, Math.max(1.5, ...firsts, ...t.evals.map((p) => p.y)));
  const x = (v) => L + ((W - L - R) * v) / xMax;
  const y = (v) => T + (H - T - B) * (1 - Math.min(v, yMax) / yMax);
  ctx.strokeStyle = "#999";
  ctx.strokeRect(L + 0.5, T + 0.5, W - L - R - 1, H - T - B - 1);
  ctx.fillStyle = "#444";
  ctx.font = "11px system-ui, sans-serif";
  ctx.textAlign = "right";
  for (let v = 0; v <= yMax + 1e-9; v += yMax > 3 ? 1 : 0.5) ctx.fillText(v.toFixed(1), L - 4, y(v) + 4);
  ctx.textAlign = "center";
  ctx.fillText("0", x(0), H - B + 14);
  ctx.fillText(xMax.toLocaleString("en"), x(xMax) - 10, H - B + 14);
  ctx.fillText("sequences seen →", L + (W - L - R) / 2, H - 4);
  ctx.save();
  ctx.translate(11, T + (H - T - B) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText("nats/position", 0, 0);
  ctx.restore();
  if (t.floor !== null) {
    ctx.strokeStyle = "#d01e1e";
    ctx.setLineDash([5, 4]);
    ctx.beginPath();
    ctx.moveTo(x(0), y(t.floor));
    ctx.lineTo(x(xMax), y(t.floor));
    ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.strokeStyle = "#aaa";
  ctx.beginPath();
  t.losses.forEach((p, i) => (i ? ctx.lineTo(x(p.x), y(p.y)) : ctx.moveTo(x(p.x), y(p.y))));
  ctx.stroke();
  ctx.strokeStyle = ctx.fillStyle = "#2850c8";
  ctx.beginPath();
  t.evals.forEach((p, i) => (i ? ctx.lineTo(x(p.x), y(p.y)) : ctx.moveTo(x(p.x), y(p.y))));
  ctx.stroke();
  for (const p of t.evals) ctx.fillRect(x(p.x) - 2.5, y(p.y) - 2.5, 5, 5);
  // The key.
  ctx.textAlign = "left";
  const key = [["#aaa", "training loss (each chunk's mean)"], ["#2850c8", "held-out cross-entropy"]];
  if (t.floor !== null) key.push(["#d01e1e", `floor ${t.floor.toFixed(3)}: the generator's entropy`]);
  key.forEach(([color, text], i) => {
    ctx.fillStyle = color;
    ctx.fillRect(W - R - 250, T + 8 + 15 * i, 14, 3);
    ctx.fillStyle = "#444";
    ctx.fillText(text, W - R - 230, T + 12 + 15 * i);
  });
}

function setupTraining(ready) {
  const start = $("train-start"), reset = $("train-reset"), download = $("train-download"), use = $("train-use");
  const status = $("train-status"), errors = $("train-error"), curve = $("train-curve"), samples = $("train-samples");
  let nextId = 1;
  // The training on the worker's side: id 0 is none.
  const t = { id: 0, running: false, kind: null, losses: [], evals: [], floor: null, sequences: 0, step: 0, seconds: 0, batch: 0, lastEval: null, usedStep: null, drawQueued: false };
  window.__test.training = t;
  const fresh = () => prompt(curve, "Press Start: the loss curve appears here.", 640, 260);
  fresh();
  prompt(samples, "Every few seconds, 25 sequences sampled from the weights being trained.", ...toyCanvasSize(ready.toyGrid, TOY_COUNT));

  const redraw = () => {
    if (t.drawQueued) return;
    t.drawQueued = true;
    requestAnimationFrame(() => {
      t.drawQueued = false;
      if (t.id) drawTrainCurve(curve, t);
    });
  };
  const say = () => {
    const parts = [`step ${t.step.toLocaleString("en")}`, `${t.sequences.toLocaleString("en")} sequences`];
    if (t.seconds > 0) parts.push(`${Math.round(t.sequences / t.seconds).toLocaleString("en")} sequences/s`, `${t.seconds.toFixed(1)} s training`);
    if (t.lastEval) parts.push(`held-out ${t.lastEval.nats.toFixed(3)} nats/position (${t.lastEval.heldOut.toLocaleString("en")} sequences) at step ${t.lastEval.step.toLocaleString("en")}`);
    if (!t.running && t.id) parts.push("paused");
    if (t.usedStep !== null) parts.push(`the toy panel uses the weights of step ${t.usedStep.toLocaleString("en")}`);
    status.textContent = parts.join(" · ");
  };
  // Values out of range are corrected in their fields and said on the note line: the last
  // correction of each field, until Reset.
  const corrections = new Map(); // field's label -> what was corrected
  const settings = (notes) => {
    const s = {
      lr: readNumber("train-lr", 1e-5, 0.1, notes, { integer: false, fallback: 0.003 }),
      batch: readNumber("train-batch", 1, 1000, notes, { fallback: 50 }),
    };
    for (const note of notes) corrections.set(note.split(":")[0], note);
    $("train-note").textContent = [...corrections.values()].join(" · ");
    return s;
  };
  const buttons = () => {
    start.textContent = t.running ? "Pause" : t.id ? "Resume" : "Start";
    reset.disabled = !t.id;
    download.disabled = use.disabled = !t.lastEval;
  };

  start.addEventListener("click", async () => {
    clearError(errors);
    if (t.running) {
      const id = t.id;
      t.running = false;
      buttons();
      try {
        await models.call("trainPause");
      } catch (e) {
        if (t.id === id) showError(errorText(e), errors); // not a training reset meanwhile
      }
      say();
      return;
    }
    const notes = [];
    const seed = readNumber("train-seed", 0, 2 ** 31 - 1, notes);
    const { lr, batch } = settings(notes);
    if (!t.id) {
      Object.assign(t, { id: nextId++, kind: $("train-model").value, losses: [], evals: [], sequences: 0, step: 0, seconds: 0, lastEval: null, startedAt: performance.now() });
    }
    t.running = true;
    buttons();
    try {
      const started = await models.call("trainStart", { id: t.id, kind: t.kind, seed, batch, lr });
      t.floor = started.floor;
      redraw();
    } catch (e) {
      t.running = false;
      buttons();
      showError(errorText(e), errors);
    }
  });

  const resetTraining = (why = "") => {
    if (!t.id) return;
    models.worker.postMessage({ type: "trainReset" });
    Object.assign(t, { id: 0, running: false, losses: [], evals: [], sequences: 0, step: 0, seconds: 0, lastEval: null, usedStep: null });
    buttons();
    fresh();
    prompt(samples, "Every few seconds, 25 sequences sampled from the weights being trained.", ...toyCanvasSize(ready.toyGrid, TOY_COUNT));
    status.textContent = why;
    corrections.clear();
    $("train-note").textContent = "";
  };
  reset.addEventListener("click", () => resetTraining());
  $("train-model").addEventListener("change", () => resetTraining(t.id ? "model changed: the training was reset" : ""));
  for (const id of ["train-lr", "train-batch"]) {
    $(id).addEventListener("change", () => {
      const s = settings([]);
      if (t.running) models.worker.postMessage({ type: "trainSettings", ...s });
    });
  }

  download.addEventListener("click", async () => {
    const id = t.id;
    try {
      const bytes = await models.call("trainWeights");
      if (t.id !== id) return; // reset meanwhile
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
      link.download = `${t.kind}-trained-in-tab-step${t.step}.bpk`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (e) {
      if (t.id === id) showError(errorText(e), errors);
    }
  });
  let usedInToyPanel = false;
  use.addEventListener("click", async () => {
    const id = t.id;
    try {
      const { kind, description, shape, step } = await models.call("trainUse");
      loaded[kind] = { description, shape };
      usedInToyPanel = true;
      $("toy-model").value = kind;
      $("toy-go").click();
      if (t.id === id) t.usedStep = step;
      say();
    } catch (e) {
      if (t.id === id) showError(errorText(e), errors);
    }
  });

  trainPanel = {
    receive(m) {
      window.__test.trainLog?.push({ ...m, losses: m.losses && Array.from(m.losses) }); // the tests' record
      if (m.id !== t.id) return; // a reset training's late messages
      if (m.type === "trainProgress") {
        const n = m.losses.length;
        const mean = m.losses.reduce((a, b) => a + b, 0) / Math.max(1, n);
        t.sequences += n * m.batch;
        Object.assign(t, { step: m.step, seconds: m.seconds });
        t.losses.push({ x: t.sequences, y: mean, step: m.step });
        redraw();
      } else if (m.type === "trainEval") {
        if (t.lastEval && m.step <= t.lastEval.step) return; // an older evaluation, late
        t.lastEval = m;
        // `at`: ms since Start was first pressed (scripts/measure-training.mjs reads it).
        t.evals.push({ x: t.sequences, y: m.nats, step: m.step, at: performance.now() - t.startedAt });
        const seqs = [];
        for (let i = 0; i < m.count; i++) seqs.push(Array.from(m.samples.subarray(i * m.len, (i + 1) * m.len)));
        drawSequences(samples, ready.toyGrid, seqs, m.numValues, new Map());
        buttons();
        redraw();
      } else if (m.type === "trainStopped") {
        t.running = false;
        buttons();
        showError(m.message, errors);
      }
      say();
    },
    lost(why) {
      // The new worker loaded the committed weights: a toy panel that used the tab's is back on them.
      const back = usedInToyPanel ? "; the toy panel is back on the committed weights" : "";
      usedInToyPanel = false;
      if (t.id) resetTraining(why + back);
      else if (back) status.textContent = `the models' worker restarted${back}`;
    },
  };
  start.disabled = false;
  buttons();
}

// ---------------------------------------------------------------------------------------------

/** Measures the longest gap between timer ticks on this thread: the page's worst stall. */
function watchStalls() {
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    window.__test.maxStall = Math.max(window.__test.maxStall, now - last - 20);
    last = now;
  }, 20);
}

async function main() {
  watchStalls();
  watchDensity();
  setupBackend();
  await useServiceWorker();
  // The toy panel's model first: the page's first sample; the rest after it (`loadTheRest`).
  const ready = await connect(params.get("backend") || "auto", [$("toy-model").value]);
  window.__test.ready = ready;
  window.__test.loaded = loaded;
  window.__test.call = (type, payload) => models.call(type, payload);
  const generateToy = await setupToy(ready);
  setupDigits(ready);
  const editorApi = setupInpainting(ready);
  setupTraining(ready);
  if (editorApi && ready.testDigits > 0) {
    // First view: a test digit with its bottom half to complete.
    await editorApi.loadTestDigit();
    $("erase-bottom").click();
  }
  document.body.dataset.ready = "true";
  if (generateToy) {
    await generateToy();
    // performance.now() counts from the start of navigation: download, compile, weights, sample.
    window.__test.timeToFirstSample = performance.now();
    $("toy-status").textContent += ` (first sample ${(window.__test.timeToFirstSample / 1000).toFixed(2)} s after the page opened)`;
  }
  await loadTheRest();
  window.__test.allLoaded = true;
}

main().catch((e) => showError(`The demo could not start: ${errorText(e)}`));
