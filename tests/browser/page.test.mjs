// Browser tests: the built page (dist/, from `trunk build --release`) served on loopback and
// driven in headless Chromium, as a user would. Screenshots of each panel go to tests/artifacts/.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { root, dist, serve, launch, openPage as open, generateDigits, fillGenerationFields, loadTestDigit, pageHandover, watchErrors, waitUntilReady } from "./harness.mjs";

const artifacts = path.join(root, "tests/artifacts");
fs.mkdirSync(artifacts, { recursive: true });

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const { server, base } = await serve();
const browser = await launch();
const openPage = (query = "", options = {}) => open(browser, base, query, options);
const SIDE = 28;
const PIXELS = SIDE * SIDE;

// Share of a canvas's pixels that are neither the light background (R=G=B=225 or 238) nor white.
async function inkShare(page, id) {
  return page.evaluate((id) => {
    const c = document.getElementById(id);
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) {
      const bg = d[i] === d[i + 1] && d[i + 1] === d[i + 2] && (d[i] === 225 || d[i] === 255 || d[i] === 238);
      if (!bg) ink++;
    }
    return ink / (d.length / 4);
  }, id);
}

const noErrorBox = async (page) => {
  const text = await page.evaluate(() => [...document.querySelectorAll(".error")].filter((e) => !e.hidden).map((e) => e.textContent).join("\n"));
  assert(text === "", `the page shows an error: ${text}`);
  assert(page.jsErrors.length === 0, `JavaScript errors: ${page.jsErrors.join("; ")}`);
};

const editorState = (page) => page.evaluate(() => ({ pixels: Array.from(window.__test.editor.pixels), known: Array.from(window.__test.editor.known) }));

/** A pen stroke on the editor through `points` (canvas fractions 0..1), `steps` moves a segment. */
async function stroke(page, points, { steps = 8, button = "left" } = {}) {
  const box = await page.locator("#editor").boundingBox();
  const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
  await page.mouse.move(...at(points[0]));
  await page.mouse.down({ button });
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps });
  await page.mouse.up({ button });
}

/** Completes the editor's picture with the page's controls; resolves to window.__test.lastCompletion. */
async function complete(page, { model = "mnist-any-order", order = "adaptive", perStep = 16, count = 2, seed = 0 } = {}) {
  await fillGenerationFields(page, "inpaint", { model, order, perStep, seed });
  await page.fill("#alternatives", String(count));
  await page.evaluate(() => { delete window.__test.lastCompletion; });
  await page.click("#complete");
  await page.waitForSelector('#completions[data-done="true"]', { timeout: 300_000 });
  return page.evaluate(() => window.__test.lastCompletion);
}

/** Every known pixel kept in every completion; returns the completions' pixels, image by image. */
function checkKept(completion) {
  const { known, pixels } = completion;
  for (let i = 0; i < known.length; i++) {
    if (known[i] >= 0) assert(pixels[i] === known[i], `known pixel ${i % PIXELS} of completion ${Math.floor(i / PIXELS)} changed`);
  }
  const images = [];
  for (let a = 0; a < pixels.length / PIXELS; a++) images.push(pixels.slice(a * PIXELS, (a + 1) * PIXELS));
  return images;
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("the page opens with the toy sequences drawn and a prompt in every other panel (CPU)", async () => {
  const page = await openPage("?backend=cpu");
  await noErrorBox(page);
  await page.waitForSelector('#toy-canvas[data-count="25"]', { timeout: 60_000 });
  const toy = await page.evaluate(() => window.__test.lastToy);
  assert(toy.values.length === 25 * toy.len, `${toy.values.length} values`);
  for (let s = 0; s < 25; s++) assert(toy.values[s * toy.len] === toy.len, `sequence ${s} starts at ${toy.values[s * toy.len]}`);
  for (const id of ["toy-canvas", "pin-canvas", "digits-canvas", "order-canvas", "posterior-canvas", "editor", "completions"]) {
    assert((await inkShare(page, id)) > 0.005, `the ${id} canvas opens blank`);
  }
  assert((await page.textContent("#backend")).includes("CPU"), "the page does not say it runs on the CPU");
  // Both image panels open on the library's defaults of the any-order model for their task (one
  // definition): generating, and in-painting.
  for (const [panel, field] of [["digits", "defaults"], ["inpaint", "inpaintDefaults"]]) {
    const defaults = await page.evaluate((field) => window.__test.ready[field]["mnist-any-order"], field);
    assert(["raster", "random", "adaptive"].includes(defaults.order) && defaults.perStep >= 1 && ["constant", "cosine"].includes(defaults.schedule), JSON.stringify(defaults));
    assert((await page.inputValue(`#${panel}-per-step`)) === String(defaults.perStep), `${panel}: per step not the library's ${defaults.perStep}`);
    assert((await page.inputValue(`#${panel}-order`)) === defaults.order, `${panel}: order not the library's ${defaults.order}`);
    assert((await page.inputValue(`#${panel}-schedule`)) === defaults.schedule, `${panel}: schedule not the library's ${defaults.schedule}`);
  }
  // scripts/measure-page.mjs reads it.
  await page.waitForFunction(() => typeof window.__test.timeToFirstSample === "number");
  await page.locator("#toy").screenshot({ path: path.join(artifacts, "toy.png") });
  await page.close();
});

test("toy: every sequence drawn by the any-order model passes through every pin", async () => {
  const page = await openPage("?backend=cpu");
  await page.waitForSelector('#toy-canvas[data-count="25"]', { timeout: 60_000 });
  const box = await page.locator("#pin-canvas").boundingBox();
  // Three clicks: positions near 8, 20 and 28; a fourth click on the same spot removes a pin.
  for (const [fx, fy] of [[0.28, 0.3], [0.62, 0.6], [0.85, 0.45], [0.85, 0.45], [0.85, 0.4]]) {
    await page.mouse.click(box.x + fx * box.width, box.y + fy * box.height);
  }
  const pins = await page.evaluate(() => [...window.__test.pins]);
  assert(pins.length === 3, `${pins.length} pins after clicking three places and removing one: ${JSON.stringify(pins)}`);
  // The page opens on the lecture's model; a pin switches to the any-order one.
  assert((await page.inputValue("#toy-model")) === "toy-any-order", "a pin did not switch to the any-order model");
  await page.evaluate(() => { delete document.getElementById("toy-canvas").dataset.count; });
  await page.click("#toy-go");
  await page.waitForSelector('#toy-canvas[data-count="25"]', { timeout: 60_000 });
  await noErrorBox(page);
  const toy = await page.evaluate(() => window.__test.lastToy);
  for (let s = 0; s < 25; s++) {
    for (const [k, v] of pins) assert(toy.values[s * toy.len + k] === v, `sequence ${s} has ${toy.values[s * toy.len + k]} at pinned position ${k}, not ${v}`);
  }
  await page.locator("#toy").screenshot({ path: path.join(artifacts, "toy-pins.png") });
  // The lecture's model cannot use pins and says so.
  await page.selectOption("#toy-model", "toy");
  await page.click("#toy-go");
  await page.waitForFunction(() => document.getElementById("toy-status").textContent.includes("done"));
  assert((await page.textContent("#toy-status")).includes("cannot use pins"), "the lecture model's run does not say it ignores the pins");
  await page.close();
});

test("digits: any-order and lecture models on the CPU, the posterior view and the order map; the main thread never stalls", async () => {
  const page = await openPage("?backend=cpu");
  const anyOrder = await generateDigits(page, { count: 8, perStep: 16, order: "adaptive" });
  await noErrorBox(page);
  assert(anyOrder.pixels.length === 8 * PIXELS, "wrong number of pixels");
  const inked = anyOrder.pixels.filter((v) => v > 128).length;
  assert(inked > 8 * 40, `only ${inked} dark pixels in 8 digits`);
  for (const id of ["digits-canvas", "posterior-canvas", "order-canvas"]) assert((await inkShare(page, id)) > 0.02, `the ${id} canvas is empty`);
  // On the CPU the samples are split over one worker per core (up to 4), each its own seed.
  const cores = await page.evaluate(() => Math.min(navigator.hardwareConcurrency || 1, 4));
  assert(anyOrder.workers === cores, `${anyOrder.workers} workers generated the digits on ${cores} cores`);
  const digitsOf = (d) => Array.from({ length: d.count }, (_, i) => d.pixels.slice(i * PIXELS, (i + 1) * PIXELS).join());
  assert(new Set(digitsOf(anyOrder)).size === 8, "two of the 8 digits are the same: the workers' blocks share a seed");
  // The watched sample in the last block: its order map and posterior still show.
  await page.fill("#watch", "7");
  await page.evaluate(() => { for (const id of ["posterior-canvas", "order-canvas"]) { const ctx = document.getElementById(id).getContext("2d"); ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, 1e4, 1e4); } });
  const watched = await generateDigits(page, { count: 8, perStep: 16, order: "adaptive", seed: 3 });
  assert(watched.pixels.length === 8 * PIXELS, "wrong number of pixels watching sample 7");
  for (const id of ["posterior-canvas", "order-canvas"]) assert((await inkShare(page, id)) > 0.02, `the ${id} canvas is empty watching sample 7`);
  await page.fill("#watch", "0");
  // A run done in one step has no next pixel to show, and shows no earlier run's either.
  const shown = await inkShare(page, "posterior-canvas");
  await generateDigits(page, { count: 2, perStep: 784, order: "raster", seed: 4 });
  const oneStep = await page.textContent("#digits-status");
  assert(oneStep.includes("(1 step)"), `status after a one-step run: ${oneStep}`);
  const after = await inkShare(page, "posterior-canvas");
  assert(after < shown / 3, `the posterior view still shows an earlier run (ink ${after.toFixed(3)}, was ${shown.toFixed(3)})`);
  assert(anyOrder.maxStall < 100, `the main thread stalled ${anyOrder.maxStall.toFixed(0)} ms during a generation`);
  console.log(`   8 digits, any-order, adaptive, 16 per step, CPU: ${anyOrder.secs.toFixed(2)} s; longest main-thread stall ${anyOrder.maxStall.toFixed(0)} ms`);
  await page.locator("#digits").screenshot({ path: path.join(artifacts, "digits-any-order.png") });
  const lecture = await generateDigits(page, { model: "mnist", count: 2 });
  assert(lecture.pixels.filter((v) => v > 128).length > 2 * 40, "the lecture model's digits are blank");
  assert(lecture.maxStall < 100, `the main thread stalled ${lecture.maxStall.toFixed(0)} ms during a lecture generation`);
  assert(await page.isDisabled("#digits-order"), "the order can be chosen for the lecture model");
  // Stop halts a longer generation part-way: the picture stays unfinished.
  await page.fill("#digits-count", "32");
  await page.click("#digits-go");
  await page.waitForFunction(() => /^step \d+\/784/.test(document.getElementById("digits-status").textContent));
  await page.click("#digits-stop");
  const status = await page.textContent("#digits-status");
  assert(status.includes("(stopped)"), `status after Stop: ${status}`);
  assert((await page.getAttribute("#digits-canvas", "data-done")) === null, "a stopped generation says done");
  assert(await page.isDisabled("#digits-stop"), "Stop stays enabled after stopping");
  await page.waitForTimeout(500);
  assert((await page.textContent("#digits-status")) === status, "a stopped run still updates the status");
  await noErrorBox(page);
  await page.close();
});

test("a newer run survives an older one; each panel keeps its own run", async () => {
  const page = await openPage("?backend=cpu");
  // Two quick starts in the digits panel: only the second run's pictures and result count.
  await page.selectOption("#digits-model", "mnist-any-order");
  await page.fill("#digits-per-step", "16");
  await page.fill("#digits-count", "6");
  await page.click("#digits-go");
  await page.fill("#digits-count", "3");
  await page.click("#digits-go");
  // Meanwhile the in-painting panel runs its own completion.
  await page.click("#complete");
  await page.waitForSelector('#digits-canvas[data-done="true"]', { timeout: 300_000 });
  await page.waitForSelector('#completions[data-done="true"]', { timeout: 300_000 });
  await page.waitForTimeout(1000); // room for any late message of the first run
  const digits = await page.evaluate(() => window.__test.lastDigits);
  assert(digits.count === 3 && digits.pixels.length === 3 * PIXELS, `the older run's result won: ${digits.count} digits`);
  const width = await page.evaluate(() => document.getElementById("digits-canvas").width);
  assert(width < 6 * 28 * 3, `the digits canvas shows the older run's 6 digits (width ${width})`);
  assert((await page.textContent("#digits-status")).startsWith("done"), "the newer run's status was overwritten");
  assert(await page.isDisabled("#digits-stop"), "Stop enabled after the run finished");
  await noErrorBox(page);
  await page.close();
});

test("a helper worker that ends silently mid-run: the run finishes without it, the other panels keep working", async () => {
  const page = await openPage("?backend=cpu&helperTimeout=2000");
  const helpers = () => page.workers().filter((w) => w.url().includes("role=helper"));
  for (let i = 0; i < 100 && helpers().length === 0; i++) await page.waitForTimeout(100);
  assert(helpers().length > 0, "no helper worker started");
  await fillGenerationFields(page, "digits", { model: "mnist-any-order", order: "adaptive", perStep: 4, seed: 5 });
  await page.fill("#digits-count", "8");
  await page.click("#digits-go");
  await page.waitForFunction(() => /^step \d+\//.test(document.getElementById("digits-status").textContent));
  await helpers()[0].evaluate(() => self.close());
  await page.waitForSelector('#digits-canvas[data-done="true"]', { timeout: 120_000 });
  const digits = await page.evaluate(() => window.__test.lastDigits);
  assert(digits.pixels.length === 8 * PIXELS, "the run did not finish after its helper ended");
  assert(digits.workers < Math.min(await page.evaluate(() => navigator.hardwareConcurrency), 4), `${digits.workers} workers: the ended helper still counted`);
  await page.evaluate(() => { delete window.__test.lastToy; });
  await page.click("#toy-go");
  await page.waitForFunction(() => window.__test.lastToy && document.getElementById("toy-status").textContent.startsWith("done"), null, { timeout: 60_000 });
  await noErrorBox(page);
  await page.close();
});

test("a helper worker whose start-up stalls is left out after its bound: image runs finish, the page says so", async () => {
  // The server never answers the helpers' script: their start-up never answers.
  // (No service worker: it would serve the helpers' script from its cache.)
  server.stalled.add("/worker.js?role=helper");
  const page = await openPage("?backend=cpu&helperStartTimeout=3000&sw=off");
  const digits = await generateDigits(page, { count: 4, perStep: 64 }).finally(() => server.stalled.clear());
  assert(digits.pixels.length === 4 * PIXELS, "the run did not finish without its stalled helper");
  assert(digits.workers === 1, `${digits.workers} workers: the stalled helper still counted`);
  assert((await page.textContent("#backend-note")).includes("did not start in 3 s"), `no word of it: ${await page.textContent("#backend-note")}`);
  await noErrorBox(page);
  await page.close();
});

test("a visit downloads the weights and the wasm module once, though every worker uses them", async () => {
  server.requests.length = 0;
  const page = await openPage("?backend=cpu");
  const digits = await generateDigits(page, { count: 4, perStep: 64 });
  const workers = Math.min(await page.evaluate(() => navigator.hardwareConcurrency), 4);
  assert(digits.workers === workers, `${digits.workers} workers of ${workers}: the helpers did not take part`);
  const counts = {};
  for (const p of server.requests) counts[p] = (counts[p] || 0) + 1;
  for (const [p, n] of Object.entries(counts)) {
    if (p.endsWith(".bpk") || p.endsWith(".wasm")) assert(n === 1, `${p} downloaded ${n} times`);
  }
  assert(Object.keys(counts).some((p) => p.endsWith(".wasm")) && Object.keys(counts).filter((p) => p.endsWith(".bpk")).length >= 2, JSON.stringify(counts));
  await page.close();
});

test("the screen's pixel density changes without a resize: the canvases are drawn again at the new density", async () => {
  const page = await openPage("?backend=cpu");
  await page.waitForSelector('#toy-canvas[data-count="25"]', { timeout: 60_000 });
  const density = () => page.evaluate(() => ["toy-canvas", "editor", "pin-canvas"].map((id) => {
    const c = document.getElementById(id);
    return Math.round((100 * c.width) / parseFloat(c.style.width)) / 100;
  }));
  assert((await density()).every((d) => d === 1), `at density 1: ${await density()}`);
  const cdp = await page.context().newCDPSession(page);
  const { width, height } = page.viewportSize();
  await cdp.send("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 2, mobile: false });
  await page.waitForFunction(() => window.devicePixelRatio === 2);
  // Headless Chromium evaluates media queries when it renders a frame: a screenshot through the
  // protocol renders one (Playwright's own would restore its device scale factor first).
  const shot = await cdp.send("Page.captureScreenshot", { format: "png" });
  fs.writeFileSync(path.join(artifacts, "density-2.png"), Buffer.from(shot.data, "base64"));
  await page.waitForFunction(() => document.getElementById("toy-canvas").width === 2 * parseFloat(document.getElementById("toy-canvas").style.width), null, { timeout: 5_000 })
    .catch(() => {});
  assert((await density()).every((d) => d === 2), `after the change to density 2: ${await density()}`);
  await noErrorBox(page);
  await page.close();
});

test("the pen takes over from a resting palm, whose marks it undoes; a touch while the pen draws is ignored", async () => {
  const page = await openPage("?backend=cpu");
  await page.click("#editor-clear");
  await page.check('input[name="tool"][value="pen"]');
  const before = await editorState(page);
  // Pointer events as a tablet sends them: a palm (touch) down and moving, then the pen.
  const send = (type, id, pointerType, x, y) => page.evaluate(([type, id, pointerType, x, y]) => {
    const c = document.getElementById("editor");
    const r = c.getBoundingClientRect();
    c.dispatchEvent(new PointerEvent(type, { pointerId: id, pointerType, isPrimary: true, button: type === "pointermove" ? -1 : 0, buttons: type === "pointerup" ? 0 : 1, clientX: r.left + x * r.width, clientY: r.top + y * r.height, bubbles: true, cancelable: true }));
  }, [type, id, pointerType, x, y]);
  await send("pointerdown", 11, "touch", 0.1, 0.1);
  await send("pointermove", 11, "touch", 0.3, 0.1);
  const palm = await editorState(page);
  assert(palm.pixels.some((v, i) => v !== before.pixels[i]), "the palm drew nothing: the check below could not fail");
  await send("pointerdown", 12, "pen", 0.5, 0.8);
  await send("pointermove", 12, "pen", 0.8, 0.8);
  await send("pointermove", 11, "touch", 0.1, 0.5); // the palm moves on: ignored
  await send("pointerdown", 13, "touch", 0.9, 0.1); // a new touch while the pen draws: ignored
  await send("pointermove", 13, "touch", 0.9, 0.3);
  await send("pointerup", 12, "pen", 0.8, 0.8);
  const after = await editorState(page);
  const row = (y) => Math.floor(y * SIDE) * SIDE;
  for (const [x, y] of [[0.2, 0.1], [0.1, 0.4], [0.9, 0.2]]) {
    const i = row(y) + Math.floor(x * SIDE);
    assert(after.pixels[i] === before.pixels[i], `a touch mark at (${x}, ${y}) stayed`);
  }
  const penAt = row(0.8) + Math.floor(0.65 * SIDE);
  assert(after.pixels[penAt] !== before.pixels[penAt], "the pen drew nothing");
  await noErrorBox(page);
  await page.close();
});

test("in-painting: strokes in the bottom half shape the completed top half; known pixels kept", async () => {
  const page = await openPage("?backend=cpu");
  await page.click("#editor-clear");
  await page.check('input[name="tool"][value="pen"]');
  // A vertical stroke and a curve, both in the bottom half.
  await stroke(page, [[0.5, 0.55], [0.5, 0.9]]);
  await stroke(page, [[0.3, 0.6], [0.45, 0.75], [0.65, 0.8]]);
  const drawn = await editorState(page);
  const inkBottom = drawn.pixels.filter((v, i) => i >= PIXELS / 2 && v > 0).length;
  assert(inkBottom > 10 && drawn.pixels.slice(0, PIXELS / 2).every((v) => v === 0), `strokes: ${inkBottom} inked pixels below, some above`);
  await page.click("#erase-top");
  const withStrokes = await complete(page, { count: 3, seed: 5 });
  await noErrorBox(page);
  const images = checkKept(withStrokes);
  for (const image of images) {
    assert(image.slice(0, PIXELS / 2).some((v) => v > 128), "a completion left the top half blank");
  }
  await page.locator("#inpaint").screenshot({ path: path.join(artifacts, "inpainting-strokes.png") });
  // The same seed on an empty canvas (top half erased, bottom half white): different tops.
  await page.click("#editor-clear");
  await page.click("#erase-top");
  const empty = await complete(page, { count: 3, seed: 5 });
  const emptyImages = checkKept(empty);
  const differ = images.filter((im, a) => im.slice(0, PIXELS / 2).some((v, i) => v !== emptyImages[a][i])).length;
  assert(differ === 3, `only ${differ} of 3 completions changed when strokes were drawn below`);
  await page.close();
});

test("in-painting guidance: the library's default shown, used and changeable; a bad value said and replaced; off for the lecture model", async () => {
  const page = await openPage("?backend=cpu");
  assert((await page.inputValue("#inpaint-guidance")) === "1", `guidance field: ${await page.inputValue("#inpaint-guidance")}`);
  await loadTestDigit(page);
  await page.click("#erase-top");
  const guided = checkKept(await complete(page, { count: 2, seed: 4 }));
  await page.fill("#inpaint-guidance", "0");
  const plain = checkKept(await complete(page, { count: 2, seed: 4 }));
  const differ = guided.filter((im, a) => im.some((v, i) => v !== plain[a][i])).length;
  assert(differ === 2, `guidance 1 and 0 gave ${2 - differ} of 2 completions the same: the field does not reach the model`);
  await page.fill("#inpaint-guidance", "-3");
  await complete(page, { count: 1, seed: 4 });
  const status = await page.textContent("#inpaint-status");
  assert(status.includes("Guidance") && status.includes("outside 0..10"), `no note for guidance -3: ${status}`);
  assert((await page.inputValue("#inpaint-guidance")) === "0", "the field does not show the value used");
  await page.selectOption("#inpaint-model", "mnist");
  assert(await page.isDisabled("#inpaint-guidance"), "guidance offered for the lecture model");
  await noErrorBox(page);
  await page.close();
});

test("in-painting: an erased centre square is filled and nothing else changes; the lecture model too", async () => {
  const page = await openPage("?backend=cpu");
  await loadTestDigit(page);
  const original = await editorState(page);
  await page.click("#erase-centre");
  const state = await editorState(page);
  const unknown = state.known.filter((k) => k === 0).length;
  assert(unknown === 14 * 14, `the centre preset marked ${unknown} pixels`);
  for (const model of ["mnist-any-order", "mnist"]) {
    const done = await complete(page, { model, count: 2, seed: 1 });
    const images = checkKept(done);
    for (const image of images) {
      for (let i = 0; i < PIXELS; i++) {
        if (state.known[i]) assert(image[i] === original.pixels[i], `${model}: pixel ${i} outside the centre changed`);
      }
      const centreInk = image.filter((v, i) => !state.known[i] && v > 128).length;
      assert(centreInk > 0, `${model}: nothing drawn in the centre`);
    }
    // Steps go only to the pixels to generate.
    const expected = model === "mnist" ? 14 * 14 : Math.ceil((14 * 14) / 16);
    assert(done.steps === expected, `${model}: ${done.steps} steps for ${14 * 14} pixels (expected ${expected})`);
  }
  await page.locator("#inpaint").screenshot({ path: path.join(artifacts, "inpainting-centre.png") });
  // Nothing to generate: a clear message, no run.
  await page.click("#editor-clear");
  await page.click("#complete");
  const text = await page.textContent("#inpaint-error");
  assert(text.includes("Nothing to generate"), `no message when every pixel is given: ${text}`);
  await page.close();
});

test("the pen: fast strokes are continuous, the right button draws nothing, pointercancel ends a stroke", async () => {
  const page = await openPage("?backend=cpu", { viewport: { width: 400, height: 900 } });
  await page.click("#editor-clear");
  const box = await page.locator("#editor").boundingBox();
  assert(box.x >= 0 && box.x + box.width <= 400, `the editor does not fit a 400 px viewport (${box.x}..${box.x + box.width})`);
  // A fast stroke: three pointer moves across most of the width, along row 14.
  const y = box.y + box.height * (14.5 / 28);
  const x0 = box.x + box.width * 0.1, x1 = box.x + box.width * 0.9;
  await page.mouse.move(x0, y);
  await page.mouse.down();
  await page.mouse.move(x1, y, { steps: 3 });
  await page.mouse.up();
  const fast = await editorState(page);
  const c0 = Math.floor(0.1 * 28) + 1, c1 = Math.floor(0.9 * 28) - 1;
  for (let c = c0; c <= c1; c++) assert(fast.pixels[14 * 28 + c] > 0, `the fast stroke skipped column ${c}`);
  // A right-button drag.
  await page.click("#editor-clear");
  await stroke(page, [[0.2, 0.3], [0.8, 0.3]], { button: "right" });
  assert((await editorState(page)).pixels.every((v) => v === 0), "a right-button drag drew");
  // A touch stroke the browser cancels (a gesture it takes over, a palm it rejects) leaves no
  // mark, and later moves of the same pointer draw nothing.
  const inked = await page.evaluate(() => {
    const c = document.getElementById("editor");
    const r = c.getBoundingClientRect();
    const ev = (type, fx, fy, buttons) => new PointerEvent(type, { pointerId: 7, pointerType: "touch", isPrimary: true, button: type === "pointermove" ? -1 : 0, buttons, clientX: r.left + fx * r.width, clientY: r.top + fy * r.height, bubbles: true });
    const ink = () => window.__test.editor.pixels.filter((v) => v > 0).length;
    c.dispatchEvent(ev("pointerdown", 0.2, 0.2, 1));
    c.dispatchEvent(ev("pointermove", 0.3, 0.2, 1));
    const before = ink();
    c.dispatchEvent(ev("pointercancel", 0.3, 0.2, 0));
    c.dispatchEvent(ev("pointermove", 0.8, 0.8, 1));
    return { before, after: ink() };
  });
  assert(inked.before > 0, "the touch stroke drew nothing before the cancel");
  assert(inked.after === 0, `the cancelled touch stroke and later moves left ${inked.after} inked pixels`);
  // Narrowed canvases keep their shape (displayed width/height as the bitmap's).
  const shapes = await page.evaluate(() => [...document.querySelectorAll("canvas")].map((c) => {
    const r = c.getBoundingClientRect();
    return { id: c.id, shown: r.width / r.height, bitmap: c.width / c.height, right: r.right };
  }));
  for (const c of shapes) {
    assert(Math.abs(c.shown / c.bitmap - 1) < 0.03, `${c.id} is stretched at 400 px: shown ${c.shown.toFixed(2)}, drawn ${c.bitmap.toFixed(2)}`);
    assert(c.right <= 400, `${c.id} overflows a 400 px viewport (right edge ${c.right})`);
  }
  await page.screenshot({ path: path.join(artifacts, "narrow-viewport.png"), fullPage: true });
  await noErrorBox(page);
  await page.close();
});

test("values out of range are corrected in their fields and said; temperature 0 is explained", async () => {
  const page = await openPage("?backend=cpu");
  await page.fill("#digits-count", "500");
  await page.fill("#digits-temp", "0");
  await page.fill("#digits-per-step", "784");
  await page.click("#digits-go");
  assert((await page.inputValue("#digits-count")) === "96", "the count field was not corrected");
  const status = await page.textContent("#digits-status");
  assert(status.includes("outside 1..96") && status.includes("most likely"), `status: ${status}`);
  await page.click("#digits-stop");
  // The Train panel: corrected and said on its note line, which Start does not clear.
  await page.fill("#train-batch", "5000");
  await page.fill("#train-lr", "");
  await page.click("#train-start");
  await page.waitForFunction(() => window.__test.training.step > 0, null, { timeout: 60_000 });
  assert((await page.inputValue("#train-batch")) === "1000" && (await page.inputValue("#train-lr")) === "0.003", "the Train panel's fields were not corrected");
  const note = await page.textContent("#train-note");
  assert(note.includes("outside 1..1000") && note.includes("empty"), `note: ${note}`);
  await page.click("#train-reset");
  await page.close();
});

test("an error while showing a run ends it: Stop disabled, the status cleared, the error in the panel", async () => {
  const page = await openPage("?backend=cpu");
  // The next picture put on a canvas fails once.
  await page.evaluate(() => {
    const proto = CanvasRenderingContext2D.prototype;
    const original = proto.putImageData;
    proto.putImageData = function () {
      proto.putImageData = original;
      throw new Error("simulated drawing failure");
    };
  });
  await fillGenerationFields(page, "digits", { model: "mnist-any-order", order: "adaptive", perStep: 16, seed: 0 });
  await page.fill("#digits-count", "4");
  await page.click("#digits-go");
  await page.waitForFunction(() => !document.getElementById("digits-error").hidden);
  const error = await page.textContent("#digits-error");
  assert(error.includes("simulated drawing failure"), `the panel shows: ${error}`);
  assert(await page.isDisabled("#digits-stop"), "Stop stays enabled after a failed run");
  await page.waitForTimeout(500);
  assert((await page.textContent("#digits-status")) === "", `the status after a failed run: ${await page.textContent("#digits-status")}`);
  // The panel runs again.
  const digits = await generateDigits(page, { count: 2, perStep: 64 });
  assert(digits.pixels.length === 2 * PIXELS, "the panel did not run again after a failed run");
  await noErrorBox(page);
  await page.close();
});

const trainer = path.join(root, "target/release/trainer");
/** `trainer ARGS` (the native binary `cargo test --release` builds); its stdout. */
function runTrainer(args) {
  assert(fs.existsSync(trainer), `${trainer} is missing: build it (cargo build --release -p trainer) before the browser tests`);
  return execFileSync(trainer, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

test("train in the tab: the page's training step is the trainer's (same weights and batch: the same losses)", async () => {
  const page = await openPage("?backend=cpu", { waitFor: "ready" });
  const bytes = Array.from(fs.readFileSync(path.join(root, "web/weights/toy.bpk")));
  const { seed, batch, lr } = { seed: 5, batch: 16, lr: 1e-4 };
  const losses = await page.evaluate(async ({ bytes, seed, batch, lr }) => {
    window.__test.trainLog = [];
    await window.__test.call("trainStart", { id: 1e6, kind: "toy", seed, batch, lr, init: Uint8Array.from(bytes) });
    while (!window.__test.trainLog.some((m) => m.type === "trainProgress")) await new Promise((r) => setTimeout(r, 20));
    await window.__test.call("trainReset");
    return window.__test.trainLog.find((m) => m.type === "trainProgress").losses;
  }, { bytes, seed, batch, lr });
  assert(losses.length >= 2, `the first chunk trained ${losses.length} steps`);
  // The trainer on fresh batches from the same weights and seed: its loss is the mean of the
  // steps' losses (the first step's at --train-size = batch; the second after one Adam step).
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "train-step-"));
  try {
    const native = (steps) => {
      const out = runTrainer(["train", "toy", "--init", path.join(root, "web/weights/toy.bpk"), "--fresh-data", "--train-size", String(steps * batch),
        "--batch-size", String(batch), "--epochs", "1", "--seed", String(seed), "--lr", String(lr), "--device", "flex",
        "--out", path.join(tmp, `w${steps}.bpk`), "--report-dir", path.join(tmp, `r${steps}`), "--quiet"]);
      return JSON.parse(out).training.final_train_loss;
    };
    const first = native(1), two = native(2);
    const close = (a, b) => Math.abs(a - b) < 1e-4;
    assert(close(losses[0], first), `first step: the page's loss ${losses[0]}, the trainer's ${first}`);
    assert(close((losses[0] + losses[1]) / 2, two), `two steps: the page's mean loss ${(losses[0] + losses[1]) / 2}, the trainer's ${two}`);
    assert(Math.abs(losses[1] - losses[0]) > 1e-3, "the second step's loss equals the first's: the test would not see a different update");
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  await noErrorBox(page);
  await page.close();
});

test("train in the tab: the loss falls and the held-out figure improves; Pause, Resume, Reset, the toy panel meanwhile; the downloaded weights give the same figure in `trainer eval`", async () => {
  const page = await openPage("?backend=cpu");
  const state = () => page.evaluate(() => {
    const t = window.__test.training;
    return { id: t.id, step: t.step, running: t.running, losses: t.losses.map((p) => p.y), evals: t.evals.map((p) => ({ step: p.step, nats: p.y })), button: document.getElementById("train-start").textContent, status: document.getElementById("train-status").textContent };
  });
  await page.evaluate(() => { window.__test.maxStall = 0; });
  await page.fill("#train-lr", "0.003");
  await page.fill("#train-batch", "50");
  await page.click("#train-start");
  // The toy panel draws while the tab trains.
  await page.click("#toy-go");
  await page.waitForFunction(() => {
    const t = window.__test.training;
    return t.step >= 300 && t.evals.length >= 2;
  }, null, { timeout: 180_000 });
  await page.waitForFunction(() => /done in/.test(document.getElementById("toy-status").textContent), null, { timeout: 60_000 });
  await page.click("#train-start"); // Pause
  await page.waitForFunction(() => {
    const t = window.__test.training;
    return !t.running && t.lastEval && t.lastEval.step === t.step;
  }, null, { timeout: 60_000 });
  let s = await state();
  assert(s.button === "Resume" && /paused/.test(s.status), `after Pause: button ${s.button}, status ${s.status}`);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const [early, late] = [mean(s.losses.slice(0, 3)), mean(s.losses.slice(-3))];
  assert(early > 3 && late < early - 1, `the training loss went from ${early} to ${late} in ${s.step} steps`);
  const [firstEval, lastEval] = [s.evals[0], s.evals[s.evals.length - 1]];
  assert(lastEval.nats < firstEval.nats - 0.3, `held-out: ${firstEval.nats} at step ${firstEval.step}, ${lastEval.nats} at step ${lastEval.step}`);
  const stall = await page.evaluate(() => window.__test.maxStall);
  assert(stall < 100, `the main thread stalled ${stall} ms while training`);
  const inked = await inkShare(page, "train-samples");
  assert(inked > 0.01, `the samples canvas is empty (${inked})`);

  // Paused: nothing trains. The weights, downloaded, score the same in the trainer.
  await page.waitForTimeout(500);
  assert((await state()).step === s.step, "training went on while paused");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#train-download")]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "train-tab-"));
  try {
    const file = path.join(tmp, download.suggestedFilename());
    await download.saveAs(file);
    assert(/^toy-trained-in-tab-step\d+\.bpk$/.test(download.suggestedFilename()), `file name ${download.suggestedFilename()}`);
    const evaluated = JSON.parse(runTrainer(["eval", "toy", "--weights", file, "--json", "--device", "flex"]));
    assert(Math.abs(evaluated.nats_per_position - lastEval.nats) < 1e-4, `trainer eval: ${evaluated.nats_per_position}, the page: ${lastEval.nats}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  // Resume goes on from there; Reset leaves nothing running.
  await page.click("#train-start");
  await page.waitForFunction((step) => window.__test.training.step > step + 20, s.step, { timeout: 60_000 });
  await page.click("#train-reset");
  await page.waitForTimeout(800);
  s = await state();
  assert(s.id === 0 && s.step === 0 && !s.running && s.button === "Start", `after Reset: ${JSON.stringify({ id: s.id, step: s.step, running: s.running, button: s.button })}`);

  // A short training again, then its weights in the toy panel.
  await page.click("#train-start");
  await page.waitForFunction(() => window.__test.training.evals.length >= 1, null, { timeout: 60_000 });
  await page.click("#train-start");
  await page.waitForFunction(() => !window.__test.training.running && document.getElementById("train-use").disabled === false, null, { timeout: 60_000 });
  await page.click("#train-use");
  await page.waitForFunction(() => /done in/.test(document.getElementById("toy-status").textContent) && /toy panel uses the weights of step/.test(document.getElementById("train-status").textContent), null, { timeout: 60_000 });
  await page.locator("#train").screenshot({ path: path.join(artifacts, "train.png") });
  await noErrorBox(page);
  await page.close();
});

test("WebGPU: SwiftShader is not the default; CPU and WebGPU logits agree; a lost device falls back to the CPU", async () => {
  const auto = await openPage();
  await noErrorBox(auto);
  const ready = await auto.evaluate(() => window.__test.ready);
  assert(ready.gpuAvailable, `no WebGPU adapter: ${ready.note}`);
  assert((await auto.textContent("#backend")).includes("CPU"), "a software WebGPU adapter was made the default");
  assert((await auto.textContent("#backend-note")).includes("software"), `the page does not say why it runs on the CPU: ${await auto.textContent("#backend-note")}`);
  await auto.close();

  const page = await openPage("?backend=gpu");
  await noErrorBox(page);
  assert((await page.textContent("#backend")).startsWith("WebGPU"), "asked for WebGPU, the page does not use it");
  for (const kind of ["mnist-any-order", "mnist"]) {
    const diff = await page.evaluate(async (kind) => {
      const a = await window.__test.call("probe", { kind, gpu: false });
      const b = await window.__test.call("probe", { kind, gpu: true });
      const c = a.length / 2;
      let m = 0, other = 0;
      for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
      for (let i = 0; i < c; i++) other = Math.max(other, Math.abs(a[i] - a[c + i]), Math.abs(b[i] - b[c + i]));
      return { m, other, n: a.length };
    }, kind);
    assert(diff.n === 512, `${kind}: ${diff.n} logits`);
    assert(diff.m < 1e-3, `${kind}: CPU and WebGPU logits differ by ${diff.m}`);
    assert(diff.other < 1e-3, `${kind}: the generation's pass differs from the plain one by ${diff.other}`);
    console.log(`   ${kind}: max |CPU - WebGPU| logit difference ${diff.m.toExponential(2)}`);
  }
  await page.locator("header").screenshot({ path: path.join(artifacts, "backend.png") });
  // A device lost during a run: the run finishes on the CPU, and the page says so.
  await page.evaluate(() => window.__test.call("simulateDeviceLoss"));
  const digits = await generateDigits(page, { count: 2, perStep: 64 });
  assert(digits.pixels.length === 2 * PIXELS, "the run did not finish after the device loss");
  assert((await page.textContent("#backend")).includes("CPU"), "the page did not fall back to the CPU");
  assert((await page.textContent("#backend-note")).includes("WebGPU failed"), `the fallback is not explained: ${await page.textContent("#backend-note")}`);
  await page.close();
});

test("bad weights give a clear message naming the URL; the rest of the page works", async () => {
  const weights = fs.readFileSync(path.join(dist, "weights/mnist-any-order.bpk"));
  const toy = fs.readFileSync(path.join(dist, "weights/toy.bpk"));
  const cases = [
    ["truncated", weights.subarray(0, weights.length >> 1), "MNIST weights (any-order)"],
    ["an HTML page", Buffer.from("<!doctype html><html><body>Not found</body></html>"), "HTML page"],
    ["an empty file", Buffer.alloc(0), "empty file"],
    // The message names the model the weights are for.
    ["another model's", toy, "toy"],
    // The last bytes are the last tensor's data: all ones is NaN in any 4-byte alignment.
    ["NaN-holding", Buffer.concat([weights.subarray(0, weights.length - 16), Buffer.alloc(16, 0xff)]), "NaN"],
  ];
  for (const [what, body, expected] of cases) {
    // (No service worker: requests it makes are beyond the page's routes.)
    const page = await openPage("?backend=cpu&sw=off", {
      setup: async (p) => p.route("**/weights/mnist-any-order.bpk", (route) => route.fulfill({ status: 200, body, contentType: what === "an HTML page" ? "text/html" : "application/octet-stream" })),
    });
    const text = await page.textContent("#error");
    assert(!(await page.locator("#error").isHidden()), `no error shown for ${what} weights`);
    assert(text.includes(expected) && text.includes("weights/mnist-any-order.bpk"), `${what}: the message does not name the weights and the problem: ${text}`);
    assert(await page.evaluate(() => document.querySelector('#digits-model option[value="mnist-any-order"]').disabled), `${what}: the broken model can still be chosen`);
    await page.waitForSelector('#toy-canvas[data-count="25"]', { timeout: 60_000 });
    if (what === "truncated") await page.locator("header").screenshot({ path: path.join(artifacts, "corrupt-weights.png") });
    await page.close();
  }
});

test("the toy panel's first model's weights missing: said once, and the other toy model draws", async () => {
  const page = await openPage("?backend=cpu&toy=weights/nothing.bpk");
  await page.waitForSelector('#toy-canvas[data-count="25"]', { timeout: 60_000 });
  const text = await page.textContent("#error");
  assert(text.split("\n").length === 1 && text.includes("weights/nothing.bpk") && text.includes("404"), `the message: ${text}`);
  assert((await page.inputValue("#toy-model")) === "toy-any-order", "the panel did not turn to the model that loads");
  assert(await page.evaluate(() => document.querySelector('#toy-model option[value="toy"]').disabled), "the missing model can still be chosen");
  await page.close();
});

test("the first sample needs only the toy model's weights; the others load after it, said on the page, or when a panel needs them", async () => {
  // The image models' weights never arrive until released: the toy panel must not wait for them.
  for (const kind of ["mnist", "mnist-any-order"]) server.stalled.add(`/weights/${kind}.bpk`);
  server.requests.length = 0;
  let page;
  try {
    page = await openPage("?backend=cpu", { waitFor: "ready" });
    await page.waitForFunction(() => typeof window.__test.timeToFirstSample === "number", null, { timeout: 60_000 });
    const weightsAsked = server.requests.filter((p) => p.endsWith(".bpk"));
    assert(weightsAsked[0] === `/weights/${await page.inputValue("#toy-model")}.bpk`, `the first weights asked for: ${weightsAsked}`);
    await page.waitForFunction(() => /Loading MNIST weights/.test(document.getElementById("loading").textContent), null, { timeout: 30_000 });
    // A digits run asked for meanwhile waits for its weights, and says so.
    await fillGenerationFields(page, "digits", { model: "mnist-any-order", order: "adaptive", perStep: 64, seed: 1 });
    await page.fill("#digits-count", "2");
    await page.click("#digits-go");
    await page.waitForFunction(() => document.getElementById("digits-status").textContent.startsWith("waiting for the MNIST weights"));
    server.release();
    await page.waitForSelector('#digits-canvas[data-done="true"]', { timeout: 120_000 });
    await page.waitForFunction(() => window.__test.allLoaded && document.getElementById("loading").textContent === "", null, { timeout: 60_000 });
    const counts = {};
    for (const p of server.requests) counts[p] = (counts[p] || 0) + 1;
    for (const kind of ["toy", "toy-any-order", "mnist", "mnist-any-order"]) assert(counts[`/weights/${kind}.bpk`] === 1, `${kind}: ${JSON.stringify(counts)}`);
    await noErrorBox(page);
  } finally {
    server.release();
    await page?.close();
  }
});

test("a second visit opens from the service worker's cache, downloading nothing; offline too", async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
  try {
    server.requests.length = 0;
    const first = await openPage("?backend=cpu", { context });
    // The page hands the service worker its own HTML from the browser's HTTP cache once it is in
    // control (at most a wait for the install, which a busy machine slows).
    const mayFetch = await pageHandover(first);
    const firstVisit = [...server.requests];
    for (const p of new Set(firstVisit)) assert(firstVisit.filter((q) => q === p).length === 1, `${p} downloaded twice in the first visit: ${firstVisit}`);
    await first.close();
    for (const offline of [false, true]) {
      await context.setOffline(offline);
      server.requests.length = 0;
      const page = await openPage("?backend=cpu", { context });
      await page.waitForFunction(() => typeof window.__test.timeToFirstSample === "number", null, { timeout: 60_000 });
      const digits = await generateDigits(page, { count: 2, perStep: 64 });
      assert(digits.pixels.length === 2 * PIXELS, "no digits");
      // The browser may ask for sw.js (its update check); nothing else reaches the server.
      const asked = server.requests.filter((p) => p !== "/sw.js" && !(mayFetch.includes(p) && !offline));
      assert(asked.length === 0, `${offline ? "offline" : "second"} visit downloaded ${asked}`);
      console.log(`   ${offline ? "offline" : "second"} visit: first sample after ${(await page.evaluate(() => window.__test.timeToFirstSample) / 1000).toFixed(2)} s, nothing downloaded`);
      await noErrorBox(page);
      await page.close();
    }
  } finally {
    await context.close();
  }
});

test("a first visit whose service worker takes over before app.js runs still keeps the page for offline visits", async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
  try {
    // The page's app.js held back at the server until the worker, registered while the page
    // parses, is in control (a fast install; its own copy of app.js is not held): app.js must
    // still see a first visit and hand the page over.
    const page = watchErrors(await context.newPage());
    server.stalledOnce.add("/app.js");
    await page.goto(`${base}?backend=cpu`, { waitUntil: "commit" });
    await page.waitForFunction(() => navigator.serviceWorker?.controller, null, { timeout: 60_000 });
    assert(server.held.length === 1, `the page's app.js was not held back: ${server.requests}`);
    server.release();
    const mayFetch = await pageHandover(page);
    // Every file in, as a visit that ends before them would not leave them for offline.
    await waitUntilReady(page);
    await noErrorBox(page);
    await page.close();
    if (mayFetch.length) return; // the browser did not keep the page: nothing to hand over
    await context.setOffline(true);
    const offline = await openPage("?backend=cpu", { context, waitFor: "ready" });
    await noErrorBox(offline);
    await offline.close();
  } finally {
    server.release();
    await context.close();
  }
});

test("a new build: the next visit downloads only the changed files, and the page offers to switch to it", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "autoregress-build-"));
  fs.cpSync(dist, dir, { recursive: true });
  const { server: other, base: otherBase } = await serve(dir);
  const context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
  try {
    const first = await open(browser, otherBase, "?backend=cpu", { context });
    // As on a second visit: the page hands the service worker its HTML once in control.
    const mayFetch = await pageHandover(first);
    await first.close();
    // The new build: one changed file (and the lists of files that name it).
    fs.appendFileSync(path.join(dir, "app.js"), "\n// the next build\n");
    execFileSync("bash", [path.join(root, "scripts/build-manifest.sh"), dir]);
    other.requests.length = 0;
    const page = await open(browser, otherBase, "?backend=cpu", { context });
    await page.waitForSelector("#update:not([hidden])", { timeout: 60_000 });
    const changed = ["/sw.js", "/app.js", "/build.json", ...mayFetch];
    assert(other.requests.every((p) => changed.includes(p)), `downloaded more than the changed files: ${other.requests}`);
    assert(other.requests.filter((p) => p === "/app.js").length === 1, `app.js: ${other.requests}`);
    // This page still runs the old build, whole.
    assert(!(await page.evaluate(() => fetch("app.js").then((r) => r.text()))).includes("the next build"), "the old page was served a file of the new build");
    await Promise.all([page.waitForEvent("load"), page.click("#update-go")]);
    await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 60_000 });
    assert((await page.evaluate(() => fetch("app.js").then((r) => r.text()))).includes("the next build"), "Reload did not switch to the new build");
    await noErrorBox(page);
    await page.close();
  } finally {
    await context.close();
    other.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

let passed = 0, failed = 0;
const only = process.env.PAGE_TEST;
for (const t of tests) {
  if (only && !t.name.includes(only)) continue;
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
for (const { res } of server.held) res.destroy();
server.close();
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
