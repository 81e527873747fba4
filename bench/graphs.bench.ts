/**
 * Large graphs in the editor (issue #17), in one Chromium: ResNet-18 and ViT-B/16 exported from
 * torchvision (scripts/fixtures/export_torchvision.py, into .cache/bench-models) and generated ONNX
 * chains of 3,000 and 10,000 nodes, once named like a PyTorch export (/blocks/blocks.i/…, so they open
 * collapsed) and once without names (every layer laid out). For each: the time from choosing the file
 * to a drawn graph, selecting a layer, an edit until it shows, main-thread time per frame while panning
 * and zooming, and whether the minimap is there. With NETRON_DIR set, each file is also opened in Netron
 * (bench/netron.ts) in the same Chromium, and the times until each app's finished view and the heaps are compared.
 */
import { openUntilDrawn } from './editor-page.ts';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { encodeModelBytes, type ModelProto, type NodeProto } from '../core/onnx/proto.ts';
import { valueInfo } from '../core/onnx/builder.ts';
import { buildRenderer } from '../scripts/build.js';
import { serve } from '../scripts/serve.js';
import { report } from './measure.ts';
import { openInNetron, serveNetron } from './netron.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CACHE = `${ROOT}.cache/bench-models`;

/** A chain of `count` activations (Relu, Tanh, LeakyRelu, Sigmoid, repeating) on a N×64 input. */
function chain(count: number, named: boolean): ModelProto {
  const ops = ['Relu', 'Tanh', 'LeakyRelu', 'Sigmoid'];
  const node: NodeProto[] = Array.from({ length: count }, (_, i) => {
    const op = ops[i % ops.length];
    const name = named ? `/blocks/blocks.${Math.floor(i / 10)}/act${i % 10}/${op}` : `${op}_${i}`;
    return {
      op_type: op,
      name,
      input: [i === 0 ? 'x' : `v${i - 1}`],
      output: [i === count - 1 ? 'y' : `v${i}`],
      attribute: op === 'LeakyRelu' ? [{ name: 'alpha', type: 1, f: 0.01 }] : [],
    } as unknown as NodeProto;
  });
  return {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: { name: `chain${count}`, node, initializer: [], input: [valueInfo('x', { shape: ['N', 64], dtype: 'float32' })], output: [valueInfo('y', { shape: ['N', 64], dtype: 'float32' })] },
  } as unknown as ModelProto;
}

interface BenchModel {
  name: string;
  file: string;
  layers: number;
  /** A block whose ▸/▾ button the benchmark presses three times. */
  block?: string;
}

function models(): BenchModel[] {
  mkdirSync(CACHE, { recursive: true });
  const list: BenchModel[] = [];
  if (!existsSync(`${CACHE}/vit_b_16.onnx`)) spawnSync('/usr/bin/python3', [`${ROOT}scripts/fixtures/export_torchvision.py`, CACHE, 'resnet18', 'vit_b_16'], { stdio: 'inherit' });
  if (existsSync(`${CACHE}/vit_b_16.onnx`))
    list.push({ name: 'ResNet-18', file: `${CACHE}/resnet18.onnx`, layers: 70, block: 'layer2' }, { name: 'ViT-B/16', file: `${CACHE}/vit_b_16.onnx`, layers: 999, block: 'encoder' });
  else console.log('ResNet-18 and ViT-B/16 skipped: exporting them needs python3-torch and python3-torchvision');
  for (const count of [3000, 10000]) {
    for (const named of [true, false]) {
      const file = `${CACHE}/chain-${count}${named ? '-named' : ''}.onnx`;
      if (!existsSync(file)) writeFileSync(file, encodeModelBytes(chain(count, named)));
      list.push({ name: `${count.toLocaleString('en')}-node chain${named ? ', module paths (opens collapsed)' : ', no module paths (all laid out)'}`, file, layers: count + 1 });
    }
  }
  return list;
}

/** Milliseconds from a pointer press on `target` (page-side clock) until the Inspector names it. */
async function selectTime(page: Page, id: string): Promise<number> {
  const done = page.evaluate(`new Promise((resolve) => {
    const inspector = document.querySelector('[aria-label="Inspector"]');
    window.addEventListener('pointerdown', () => { window.__selectStart = performance.now(); }, { capture: true, once: true });
    const check = () => inspector.querySelector('h2')?.textContent?.startsWith(${JSON.stringify(id)} + ' ') && requestAnimationFrame(() => resolve(performance.now() - window.__selectStart));
    new MutationObserver(check).observe(inspector, { childList: true, subtree: true, characterData: true });
  })`) as Promise<number>;
  await page.getByTestId(`rf__node-${id}`).click();
  return done;
}

/** A point of the canvas where a press lands on the empty pane (not on a layer, block or control). */
async function emptySpot(page: Page): Promise<{ x: number; y: number }> {
  const spot = (await page.evaluate(`(() => {
    const box = document.querySelector('[data-testid="canvas"]').getBoundingClientRect();
    for (let y = box.top + box.height / 2; y < box.bottom - 40; y += 20)
      for (let x = box.left + 60; x < box.right - 60; x += 20)
        if (document.elementFromPoint(x, y)?.classList.contains('react-flow__pane')) return { x, y };
    return null;
  })()`)) as { x: number; y: number } | null;
  if (!spot) throw new Error('no empty spot on the canvas to pan from');
  return spot;
}

/**
 * Main-thread milliseconds per frame while the pointer drags from `start` by 40 steps of `step` and, when
 * `zoom`, a few wheel zooms follow: from the empty pane this pans the view, from a layer it moves the layer.
 */
async function frameTime(page: Page, start: { x: number; y: number }, step: { x: number; y: number }, zoom: boolean): Promise<{ perFrame: number; cpuPerFrame: number; frames: number }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  // TaskDuration: wall-clock time in the main thread's tasks; ThreadTime: its CPU time, which a busy shared machine inflates less.
  const busy = async () => {
    const metrics = (await cdp.send('Performance.getMetrics')).metrics;
    const ms = (name: string) => (metrics.find((m) => m.name === name)?.value ?? 0) * 1000;
    return { wall: ms('TaskDuration'), cpu: ms('ThreadTime') };
  };
  const counting = page.evaluate(`new Promise((resolve) => {
    let frames = 0;
    const tick = () => { frames++; if (!window.__stopFrames) requestAnimationFrame(tick); else resolve(frames); };
    window.__stopFrames = false;
    requestAnimationFrame(tick);
  })`) as Promise<number>;
  const before = await busy();
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  for (let i = 0; i < 40; i++) await page.mouse.move(start.x + i * step.x, start.y + i * step.y);
  await page.mouse.up();
  if (zoom) for (let i = 0; i < 6; i++) await page.mouse.wheel(0, i < 3 ? 120 : -120);
  await page.evaluate('window.__stopFrames = true');
  const frames = await counting;
  const after = await busy();
  await cdp.detach();
  return { perFrame: (after.wall - before.wall) / frames, cpuPerFrame: (after.cpu - before.cpu) / frames, frames };
}

const VIEWPORT = { width: 1600, height: 1000 };

/** MB of JavaScript heap a page holds once garbage is collected (through the DevTools protocol, which works on Netron's page too). */
async function heapMB(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('Performance.enable');
  const used = (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0;
  return used / 2 ** 20;
}

/**
 * Best of 2 in each app, each open on a fresh page, both given the file through their file picker
 * (Netloom's first try is `first`); and the heap each page holds after its last open.
 */
async function compareWithNetron(browser: Browser, urls: { netloom: string; netron: string }, model: { name: string; file: string; layers: number }, first: number): Promise<void> {
  const heap = { netloom: 0, netron: 0 };
  const once = async (app: keyof typeof heap, open: (page: Page) => Promise<number>): Promise<number> => {
    const page = await browser.newPage({ viewport: VIEWPORT });
    try {
      const seconds = await open(page);
      heap[app] = await heapMB(page);
      return seconds;
    } finally {
      await page.close();
    }
  };
  const netloom = Math.min(first, await once('netloom', (page) => openUntilDrawn(page, urls.netloom, model.file, model.layers)));
  const netron = Math.min(await once('netron', (page) => openInNetron(page, urls.netron, model.file)), await once('netron', (page) => openInNetron(page, urls.netron, model.file)));
  console.log(`${model.name}: open until drawn, best of 2 — Netloom ${netloom.toFixed(2)} s, Netron ${netron.toFixed(2)} s, ratio ${(netloom / netron).toFixed(2)}×`);
  console.log(`${model.name}: JS heap after opening — Netloom ${heap.netloom.toFixed(0)} MB, Netron ${heap.netron.toFixed(0)} MB, ratio ${(heap.netloom / heap.netron).toFixed(2)}×`);
}

/**
 * Milliseconds from pressing block `label`'s ▸/▾ button until the canvas has redrawn it the other way
 * (its button renamed) and two frames have passed; and which way it went.
 */
async function toggleTime(page: Page, label: string): Promise<{ action: string; ms: number }> {
  const button = page.getByRole('button', { name: new RegExp(`^(Expand|Collapse) ${label}$`) });
  const action = (await button.getAttribute('aria-label'))!.startsWith('Expand') ? 'expand' : 'collapse';
  const pressed = page.getByRole('button', { name: `${action === 'expand' ? 'Expand' : 'Collapse'} ${label}`, exact: true });
  const started = Date.now();
  // From the keyboard: at the fitted zoom the button is small and the block's title covers its edge.
  await pressed.press('Enter');
  await pressed.waitFor({ state: 'detached', timeout: 60_000 });
  await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
  return { action, ms: Date.now() - started };
}

export async function benchGraphs(only?: string): Promise<void> {
  if (!existsSync('/usr/bin/chromium')) return void console.log('graph benchmark skipped: Chromium is not installed (apt-get install chromium)');
  const list = models().filter((m) => !only || m.name.includes(only));
  await buildRenderer();
  const { server, url } = await serve(fileURLToPath(new URL('../dist/renderer/', import.meta.url)), 0);
  const netron = await serveNetron();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
  try {
    for (const model of list) {
      const page = await browser.newPage({ viewport: VIEWPORT });
      const opened = await openUntilDrawn(page, url, model.file, model.layers);
      report(`${model.name}: open until drawn and interactive`, opened, 's', model.layers > 5000 ? 3 : undefined);

      const visible = await page.locator('.react-flow__node-layer').evaluateAll((all) => all.map((n) => n.getAttribute('data-id')!));
      const target = visible[Math.min(1, visible.length - 1)];
      // Median of five selections: one alone varies by half on a shared machine.
      const picks = visible.length > 1 ? visible.slice(1, 6) : visible;
      const selects: number[] = [];
      const cpu: number[] = [];
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');
      const threadTime = async () => ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'ThreadTime')?.value ?? 0) * 1000;
      for (const id of picks.length > 1 ? [...picks, ...picks].slice(0, 5) : picks) {
        const before = await threadTime();
        selects.push(await selectTime(page, id));
        cpu.push((await threadTime()) - before);
      }
      await cdp.detach();
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      report(`${model.name}: select a layer until the Inspector shows it (median of ${selects.length}; main-thread CPU ${median(cpu).toFixed(1)} ms)`, median(selects), 'ms', 50);
      const slope = visible.find((id) => /LeakyRelu/i.test(id));
      if (slope) {
        await page.getByTestId(`rf__node-${slope}`).click();
        const field = page.getByLabel('Negative slope', { exact: true });
        await field.fill('0.2');
        const shown = page.evaluate(`new Promise((resolve) => {
          const params = document.querySelector('[data-testid="rf__node-${slope}"] .layer-params');
          new MutationObserver(() => params.textContent === '0.2' && resolve(performance.now() - window.__editStart)).observe(params, { characterData: true, childList: true, subtree: true });
        })`) as Promise<number>;
        await page.evaluate(`window.addEventListener('keydown', () => { window.__editStart = performance.now(); }, { capture: true, once: true })`);
        await field.press('Enter');
        report(`${model.name}: parameter edit until it shows on the layer`, await shown, 'ms', 100);
      }
      const layer = (await page.getByTestId(`rf__node-${target}`).boundingBox())!;
      // Down and to the right, staying inside the canvas: at its edge React Flow pans on its own every frame.
      const drag = await frameTime(page, { x: layer.x + layer.width / 2, y: layer.y + layer.height / 2 }, { x: 8, y: 10 }, false);
      report(`${model.name}: main-thread time per frame, dragging a layer (${drag.frames} frames; CPU ${drag.cpuPerFrame.toFixed(1)} ms)`, drag.perFrame, 'ms', 16);
      const pan = await frameTime(page, await emptySpot(page), { x: 8, y: -10 }, true);
      report(`${model.name}: main-thread time per frame, panning and zooming (${pan.frames} frames; CPU ${pan.cpuPerFrame.toFixed(1)} ms)`, pan.perFrame, 'ms', 16);
      if (model.block) {
        // Fit first, so that the block's button is on screen; then open or close it three times: the
        // third press repeats the first, with the block's inside remembered from the second.
        await page.getByRole('menuitem', { name: 'View' }).click();
        await page.getByRole('menuitem', { name: /^Fit/ }).click();
        await page.evaluate('new Promise((r) => setTimeout(r, 500))');
        for (let i = 0; i < 3; i++) {
          const { action, ms } = await toggleTime(page, model.block);
          report(`${model.name}: ${action} ${model.block}${i === 2 ? ' again' : ''} until drawn`, ms, 'ms');
        }
      }
      console.log(`${model.name}: minimap ${(await page.getByRole('img', { name: 'Minimap' }).or(page.locator('.react-flow__minimap')).count()) > 0 ? 'shown' : 'MISSING'}`);
      await page.close();
      if (netron) await compareWithNetron(browser, { netloom: url, netron: netron.url }, model, opened);
    }
  } finally {
    await browser.close();
    server.close();
    netron?.server.close();
  }
}
