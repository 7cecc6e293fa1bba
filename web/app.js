// The page's wiring: buttons, the pen, and the loop that advances a generation a chunk at a time
// (yielding to the browser in between). Models, sampling and drawing are in the wasm crate.

const $ = (id) => document.getElementById(id);
const SIDE = 28;
const PIXELS = SIDE * SIDE;

function showError(message) {
  const box = $("error");
  box.textContent = box.hidden ? message : `${box.textContent}\n${message}`;
  box.hidden = false;
}

function errorText(e) {
  return e && e.message ? e.message : String(e);
}

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
  return new Uint8Array(await response.arrayBuffer());
}

function intValue(id, lo, hi) {
  const v = Math.round(Number($(id).value));
  return Math.min(hi, Math.max(lo, Number.isFinite(v) ? v : lo));
}

function numberValue(id, lo, hi) {
  const v = Number($(id).value);
  return Math.min(hi, Math.max(lo, Number.isFinite(v) ? v : lo));
}

const nextFrame = () => new Promise((resolve) => setTimeout(resolve, 0));

async function main() {
  const w = window.wasmBindings;
  const params = new URLSearchParams(location.search);
  const demo = await w.Demo.create(params.get("backend") !== "cpu");
  window.demo = demo;
  const select = $("backend-select");

  // Browsers hide the adapter's name from wgpu; ask WebGPU itself for what it will tell.
  let adapterLabel = "";
  if (demo.gpu_available() && navigator.gpu) {
    try {
      const adapter = await navigator.gpu.requestAdapter();
      const info = adapter && adapter.info;
      if (info) adapterLabel = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(" ");
    } catch (_) { /* the label is only cosmetic */ }
  }

  function showBackend() {
    const name = demo.backend_name();
    $("backend").textContent = name.startsWith("WebGPU") && adapterLabel ? `WebGPU (${adapterLabel})` : name;
    select.value = name.startsWith("WebGPU") ? "gpu" : "cpu";
    $("backend-note").textContent = demo.gpu_note() || "";
    select.querySelector('option[value="gpu"]').disabled = !demo.gpu_available();
    select.disabled = false;
    document.body.dataset.backend = select.value;
  }
  showBackend();
  select.addEventListener("change", () => {
    stopRun();
    try {
      demo.use_gpu(select.value === "gpu");
    } catch (e) {
      showError(`Cannot switch backend: ${errorText(e)}`);
    }
    showBackend();
  });

  // Weights and test digits. Each failure is shown; the rest of the page keeps working.
  const loaded = {};
  for (const [kind, what] of [["toy", "Toy weights"], ["mnist", "MNIST weights"]]) {
    const url = params.get(kind) || `weights/${kind}.bpk`;
    try {
      demo.load_weights(kind, await fetchBytes(url, what));
      loaded[kind] = true;
    } catch (e) {
      showError(`${what} (${url}): ${errorText(e)}`);
    }
  }
  let testDigits = 0;
  try {
    testDigits = demo.load_test_digits(await fetchBytes("assets/test-digits.idx", "Test digits"));
  } catch (e) {
    showError(errorText(e));
  }

  // 1. Toy sequences.
  async function generateToy() {
    const t0 = performance.now();
    $("toy-status").textContent = "generating…";
    try {
      const values = await demo.toy_sample(25, intValue("toy-seed", 0, 2 ** 31), numberValue("toy-temp", 0, 10));
      const [len, , numValues] = demo.shape("toy");
      w.draw_sequences($("toy-canvas"), values, len, numValues);
      window.lastToy = { values: Array.from(values), len };
      const ms = performance.now() - t0;
      $("toy-status").textContent = `25 sequences in ${ms.toFixed(0)} ms`;
      $("toy-canvas").dataset.count = "25";
      return ms;
    } catch (e) {
      $("toy-status").textContent = "";
      showError(`Toy sequences: ${errorText(e)}`);
      return null;
    }
  }
  if (loaded.toy) {
    $("toy-go").disabled = false;
    $("toy-go").addEventListener("click", generateToy);
    await generateToy();
    // performance.now() counts from the start of navigation: download, compile, weights, sample.
    const first = performance.now();
    window.timeToFirstSample = first;
    $("toy-status").textContent += ` (first sample ${(first / 1000).toFixed(2)} s after the page opened)`;
  }

  // 2 and 3 share one generation loop: a chunk of steps, one read-back, a redraw, a yield.
  let run = null;
  function stopRun() {
    if (run) run.stopped = true;
    run = null;
    demo.stop();
    $("digits-stop").disabled = true;
  }

  async function generate({ count, seed, temperature, known, canvas, columns, status, onDone }) {
    stopRun();
    const token = { stopped: false };
    run = token;
    $("digits-stop").disabled = false;
    demo.start_digits(count, seed, temperature, known);
    const t0 = performance.now();
    let steps = 8;
    const watch = intValue("watch", 0, count - 1);
    while (!token.stopped) {
      const tc = performance.now();
      const r = await demo.advance(steps, watch);
      if (token.stopped) break;
      w.draw_digits(canvas, r.pixels, SIDE, SIDE, columns, 3);
      if (r.log_probs && r.position !== null) {
        w.draw_posterior($("posterior-canvas"), r.pixels.subarray(watch * PIXELS, (watch + 1) * PIXELS), r.position, r.log_probs, SIDE, SIDE);
      }
      const secs = (performance.now() - t0) / 1000;
      status.textContent = `${r.step}/${r.total} pixels, ${secs.toFixed(1)} s`;
      if (r.done) {
        status.textContent = `${count} done in ${secs.toFixed(2)} s on ${demo.backend_name()}`;
        canvas.dataset.done = "true";
        run = null;
        $("digits-stop").disabled = true;
        onDone && onDone(r.pixels, secs);
        return;
      }
      // Aim at about 80 ms of work a chunk so the page stays responsive.
      const dt = performance.now() - tc;
      steps = Math.max(1, Math.min(196, Math.round(steps * (80 / Math.max(dt, 1)))));
      await nextFrame();
    }
    status.textContent += " (stopped)";
  }

  if (loaded.mnist) {
    $("digits-go").disabled = false;
    $("digits-go").addEventListener("click", async () => {
      const count = intValue("digits-count", 1, 96);
      const canvas = $("digits-canvas");
      delete canvas.dataset.done;
      try {
        await generate({
          count,
          seed: intValue("digits-seed", 0, 2 ** 31),
          temperature: numberValue("digits-temp", 0, 10),
          known: undefined,
          canvas,
          columns: Math.min(count, 16),
          status: $("digits-status"),
          onDone: (pixels, secs) => { window.lastDigits = { pixels: Array.from(pixels), count, secs }; },
        });
      } catch (e) {
        showError(`Digits: ${errorText(e)}`);
      }
    });
    $("digits-stop").addEventListener("click", stopRun);
  }

  // 3. The in-painting editor.
  const editor = $("editor");
  const pixels = new Uint8Array(PIXELS);
  const drawn = new Uint8Array(PIXELS); // 1 where the user gave the pixel (pen or eraser)
  const known = () => {
    const keep = intValue("keep-rows", 0, SIDE) * SIDE;
    return Uint8Array.from(drawn, (d, i) => (i < keep || d ? 1 : 0));
  };
  const redraw = () => w.draw_editor(editor, pixels, known(), SIDE, 10);
  window.editor = { pixels, drawn, known };
  redraw();
  $("keep-rows").addEventListener("input", redraw);
  $("editor-clear").addEventListener("click", () => { pixels.fill(0); drawn.fill(0); redraw(); });

  let painting = false;
  function paint(event) {
    const rect = editor.getBoundingClientRect();
    const x = Math.floor(((event.clientX - rect.left) / rect.width) * SIDE);
    const y = Math.floor(((event.clientY - rect.top) / rect.height) * SIDE);
    const tool = document.querySelector('input[name="tool"]:checked').value;
    const level = intValue("pen-level", 0, 255);
    // A soft round pen, about two pixels wide.
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx, yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= SIDE || yy >= SIDE) continue;
        const i = yy * SIDE + xx;
        const edge = dx !== 0 && dy !== 0;
        if (tool === "pen") {
          pixels[i] = Math.max(pixels[i], edge ? Math.round(level / 3) : level);
          drawn[i] = 1;
        } else if (!edge) {
          pixels[i] = 0;
          drawn[i] = tool === "eraser" ? 1 : 0;
        }
      }
    }
    redraw();
  }
  editor.addEventListener("pointerdown", (e) => { painting = true; editor.setPointerCapture(e.pointerId); paint(e); });
  editor.addEventListener("pointermove", (e) => { if (painting) paint(e); });
  editor.addEventListener("pointerup", () => { painting = false; });

  if (testDigits > 0) {
    let next = 0;
    $("editor-test").disabled = false;
    $("editor-test").addEventListener("click", () => {
      pixels.set(demo.test_digit(next % testDigits));
      drawn.fill(0);
      next += 1;
      redraw();
    });
  }

  if (loaded.mnist) {
    $("complete").disabled = false;
    $("complete").addEventListener("click", async () => {
      const alternatives = intValue("alternatives", 1, 16);
      const k = known();
      const one = Int32Array.from(pixels, (v, i) => (k[i] ? v : -1));
      const all = new Int32Array(alternatives * PIXELS);
      for (let a = 0; a < alternatives; a++) all.set(one, a * PIXELS);
      const canvas = $("completions");
      delete canvas.dataset.done;
      try {
        await generate({
          count: alternatives,
          seed: intValue("inpaint-seed", 0, 2 ** 31),
          temperature: 1,
          known: all,
          canvas,
          columns: Math.min(alternatives, 4),
          status: $("inpaint-status"),
          onDone: (out) => { window.lastCompletion = { known: Array.from(all), pixels: Array.from(out) }; },
        });
      } catch (e) {
        showError(`In-painting: ${errorText(e)}`);
      }
    });
  }
  document.body.dataset.ready = "true";
}

function start() {
  main().catch((e) => showError(`The demo could not start: ${errorText(e)}`));
}

if (window.wasmBindings) start();
else addEventListener("TrunkApplicationStarted", start);
