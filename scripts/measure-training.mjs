// Training in the tab, measured: the built page (dist/) in headless Chromium on the CPU, the Train
// panel's Start pressed, and the held-out cross-entropy followed until it reaches a target or time
// runs out. Prints the time from Start to the first held-out figure at or under the target, the
// training speed, every held-out figure, and the main thread's longest stall; writes a screenshot.
//
//   node scripts/measure-training.mjs [--model toy|toy-any-order] [--lr 0.003] [--batch 50]
//        [--target 0.90] [--seconds 120] [--screenshot FILE]
import { serve, launch, openPage } from "../tests/browser/harness.mjs";

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const model = args.model || "toy";
const target = Number(args.target || 0.9);
const seconds = Number(args.seconds || 120);

const { server, base } = await serve();
const browser = await launch();
try {
  const page = await openPage(browser, base, "?backend=cpu");
  await page.selectOption("#train-model", model);
  if (args.lr) await page.fill("#train-lr", args.lr);
  if (args.batch) await page.fill("#train-batch", args.batch);
  await page.evaluate(() => { window.__test.maxStall = 0; });
  await page.click("#train-start");
  await page.waitForFunction(({ target, seconds }) => {
    const t = window.__test.training;
    return t.evals.some((e) => e.y <= target) || performance.now() - t.startedAt > seconds * 1000;
  }, { target, seconds }, { timeout: (seconds + 60) * 1000, polling: 200 });
  await page.click("#train-start"); // Pause
  const r = await page.evaluate(() => {
    const t = window.__test.training;
    return { step: t.step, sequences: t.sequences, seconds: t.seconds, evals: t.evals, maxStall: window.__test.maxStall, status: document.getElementById("train-status").textContent };
  });
  const hit = r.evals.find((e) => e.y <= target);
  console.log(`model ${model}; lr ${args.lr || "the page's"}; batch ${args.batch || "the page's"}`);
  console.log(hit ? `held-out <= ${target}: ${(hit.at / 1000).toFixed(1)} s after Start (step ${hit.step}, ${hit.y.toFixed(3)} nats/position)` : `held-out never <= ${target} in ${seconds} s`);
  console.log(`${r.step} steps, ${r.sequences} sequences in ${r.seconds.toFixed(1)} s of training: ${Math.round(r.sequences / r.seconds)} sequences/s`);
  console.log(`held-out (s after Start, step, nats/position): ${r.evals.map((e) => `${(e.at / 1000).toFixed(1)} ${e.step} ${e.y.toFixed(3)}`).join("; ")}`);
  console.log(`longest main-thread stall: ${r.maxStall.toFixed(0)} ms`);
  if (args.screenshot) await page.locator("#train").screenshot({ path: args.screenshot });
} finally {
  await browser.close();
  server.close();
}
