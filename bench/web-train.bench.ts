/**
 * The browser engine against the Node engine, in one run: the CA2 CNN template (20-50-500, 32×32, Adam,
 * batch 64) trained by onnxruntime-web (WASM, SIMD, threads) in a Web Worker of headless Chromium,
 * against onnxruntime-node on the same machine (target ≥ 0.5 of it). Also, from the page: the time from
 * the train command to the first step event, and the longest gap between frames while training runs.
 * These two are the engine's share only; the Train panel's charts add their own work on top.
 */
import { readFileSync } from 'node:fs';
import type { ModelDocument } from '../core/index.ts';
import { optimizerConfig } from '../core/train/optimizers.ts';
import { buildHarness, chromiumMissing, startHarness, stopSession } from '../tests/e2e/browser.ts';
import { randomImages, throughput } from './train.bench.ts';

const SIZE = 1600;
const EPOCHS = 6;
const DIMS = [1, 32, 32];
const CLASSES = 10;

/** Rounds of Node then browser: this machine's speed swings by a third from minute to minute, so one pair can mislead. */
const ROUNDS = 3;

export async function benchWebTraining(): Promise<void> {
  if (chromiumMissing) return void console.log(`browser training: skipped (${chromiumMissing})`);
  const model = JSON.parse(readFileSync(new URL('../assets/templates/ca2-cnn.json', import.meta.url), 'utf8')) as ModelDocument;
  await buildHarness();
  const session = await startHarness(false);
  try {
    const page = await session.browser.newPage();
    await page.goto(session.url);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    const threads = await page.evaluate(() => (window as unknown as { harness: { providers(): Promise<{ detail: string }[]> } }).harness.providers().then((p) => p[0].detail));
    const spec = { doc: model, graph: { optimizer: optimizerConfig('adam'), loss: 'cross-entropy' }, options: { epochs: EPOCHS, batchSize: 64, lr: 1e-3 }, size: SIZE, dims: DIMS, classes: CLASSES };
    type Result = { rates: number[]; prepared: number; firstStep: number; longestFrame: number; frames: number };
    const rounds: { node: number; browser: number; web: Result }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const node = await throughput(model, randomImages(SIZE, DIMS, CLASSES), 'adam', EPOCHS);
      const web = await page.evaluate((json) => (window as unknown as { harness: { trainRandom(s: unknown): Promise<Result> } }).harness.trainRandom(JSON.parse(json)), JSON.stringify(spec));
      rounds.push({ node, browser: Math.max(...web.rates.slice(1)), web });
    }
    const ratios = rounds.map((r) => r.browser / r.node);
    const median = [...ratios].sort((a, b) => a - b)[Math.floor(ROUNDS / 2)];
    console.log(
      `CA2 CNN training (batch 64, Adam), best epoch of 2–${EPOCHS}, ${ROUNDS} rounds of onnxruntime-node then browser WASM (${threads}): ${rounds.map((r) => `${Math.round(r.node)} / ${Math.round(r.browser)} samples/s`).join(', ')}; browser/Node ${ratios.map((r) => r.toFixed(2)).join(', ')}, median ${median.toFixed(2)} (target ≥ 0.5: ${median >= 0.5 ? 'met' : 'MISSED'})`,
    );
    const web = rounds[0].web;
    console.log(
      `browser training, engine only (no panel yet), first round: first step event ${web.firstStep.toFixed(0)} ms after the train command (step graph built and data ready at ${web.prepared.toFixed(0)} ms; target < 2000 ms: ${web.firstStep < 2000 ? 'met' : 'MISSED'}); longest gap between frames ${web.longestFrame.toFixed(1)} ms over ${web.frames} frames (target < 16 ms per frame of main-thread work)`,
    );
  } finally {
    await stopSession(session);
  }
}
