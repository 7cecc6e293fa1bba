// The models' thread: loads the wasm crate (dist/web.js), fetches the weights, and runs one
// generation per panel, a chunk of steps at a time, posting each chunk's pictures to the page.
// Messages in: init, start, stop, backend, testDigit, probe, simulateDeviceLoss.
// Messages out: ready, progress, runError, reply, fatal.
import init, { Demo, render_digits, render_posterior, render_order_map } from "./web.js";

let demo = null;
let wasmTrapped = false;
const runs = new Map(); // panel -> { id, request, steps }
let pumping = false;
let failNextGpuChunk = false;

const errorText = (e) => (e && e.message ? e.message : String(e));
const post = (message, transfer = []) => self.postMessage(message, transfer);

async function fetchBytes(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`${what} (${url}) could not be fetched: ${errorText(e)}`);
  }
  if (!response.ok) {
    throw new Error(`${what} (${url}) is missing (HTTP ${response.status}): build the page with the committed weights, or train them (see README)`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
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

async function initialize({ backend, weights, digits }) {
  await init();
  const adapter = backend === "cpu" ? null : await softwareAdapter();
  // A software adapter is the default only when asked for by name (?backend=gpu).
  const preferGpu = backend === "gpu" || (backend !== "cpu" && adapter !== null && !adapter.software);
  demo = await Demo.create(backend !== "cpu", preferGpu);
  let note = demo.gpu_note() || "";
  if (adapter && adapter.software && demo.gpu_available() && !preferGpu) {
    note = `The WebGPU adapter here is a software emulation (${adapter.label || "fallback adapter"}), slower than the CPU path: running on the CPU. Choose WebGPU to try it anyway.`;
  }
  const loaded = {};
  const errors = [];
  for (const [kind, { url, what }] of Object.entries(weights)) {
    try {
      loaded[kind] = { description: demo.load_weights(kind, await fetchBytes(url, what)), shape: Array.from(demo.shape(kind)) };
    } catch (e) {
      errors.push(`${what} (${url}): ${errorText(e)}`);
    }
  }
  let testDigits = 0;
  try {
    testDigits = demo.load_test_digits(await fetchBytes(digits, "Test digits"));
  } catch (e) {
    errors.push(errorText(e));
  }
  return { ...backendState(), note, adapterLabel: adapter ? adapter.label : "", loaded, errors, testDigits };
}

function backendState() {
  return { backend: demo.backend_name(), gpu: demo.backend_name().startsWith("WebGPU"), gpuAvailable: demo.gpu_available(), note: demo.gpu_note() || "" };
}

// Pictures of a chunk: the grid of samples, the order map and the posterior of the watched one.
function pictures(request, p, values) {
  const out = {};
  const transfer = [];
  const add = (name, pic) => {
    out[name] = { width: pic.width, height: pic.height, rgba: pic.rgba };
    transfer.push(pic.rgba.buffer);
    pic.free();
  };
  if (request.image) {
    const side = request.side;
    const pixels = Uint8Array.from(values);
    add("grid", render_digits(pixels, side, side, request.columns, request.scale));
    const w = request.watch;
    const L = side * side;
    add("order", render_order_map(p.visit_steps.subarray(w * L, (w + 1) * L), side, side, 4));
    if (p.position >= 0) add("posterior", render_posterior(pixels.subarray(w * L, (w + 1) * L), p.known, p.position, p.log_probs, side, side));
  }
  return { out, transfer };
}

async function chunk(panel, run) {
  const t0 = performance.now();
  if (failNextGpuChunk && demo.backend_name().startsWith("WebGPU")) {
    failNextGpuChunk = false;
    throw new Error("simulated loss of the WebGPU device");
  }
  const p = await demo.advance(panel, run.steps, run.request.watch || 0);
  if (runs.get(panel) !== run) {
    p.free(); // stopped or replaced meanwhile
    return;
  }
  const dt = performance.now() - t0;
  // Aim at about 100 ms a chunk: live pictures, and Stop within a fraction of a second.
  run.steps = Math.max(1, Math.min(256, Math.round(run.steps * (100 / Math.max(dt, 1)))));
  const values = p.values; // one copy out of wasm memory, for the pictures and the page
  const { out, transfer } = pictures(run.request, p, values);
  transfer.push(values.buffer);
  post({ type: "progress", panel, id: run.id, done: p.done, step: p.step, total: p.total, values, pictures: out, backend: demo.backend_name() }, transfer);
  run.finished = p.done;
  p.free();
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
  runs.delete(panel);
  if (e instanceof WebAssembly.RuntimeError) {
    wasmTrapped = true;
    post({ type: "fatal", message: errorText(e) });
    return;
  }
  if (demo.backend_name().startsWith("WebGPU")) {
    // Every run was on the GPU: all of them again, from the start, on the CPU.
    const again = [run.request, ...[...runs.values()].map((r) => r.request)];
    runs.clear();
    demo.drop_gpu(`WebGPU failed during a run (${errorText(e)}): switched to the CPU`);
    post({ type: "backendChanged", ...backendState() });
    for (const request of again) start(request);
    return;
  }
  post({ type: "runError", panel, id: run.id, message: errorText(e) });
}

function start(request) {
  const { panel, id, kind, count, seed, temperature, order, perStep, known } = request;
  try {
    const total = demo.start(panel, kind, count, seed, temperature, order, perStep, known || undefined);
    const run = { id, request, steps: request.image ? 8 : 4 };
    runs.set(panel, run);
    post({ type: "started", panel, id, total });
    pump();
  } catch (e) {
    runs.delete(panel);
    post({ type: "runError", panel, id, message: errorText(e) });
  }
}

async function handle(message) {
  switch (message.type) {
    case "init":
      return initialize(message);
    case "start":
      return start(message);
    case "stop":
      runs.delete(message.panel);
      demo.stop(message.panel);
      return null;
    case "backend":
      runs.clear();
      demo.use_gpu(message.gpu);
      return backendState();
    case "testDigit":
      return demo.test_digit(message.index);
    case "probe":
      return demo.probe_logits(message.kind, message.gpu);
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
