/**
 * The editor in headless Chromium with a generated 500-node model: time to first render, time from a
 * parameter edit to the updated shape on screen, and frame times while panning.
 */
import { openUntilDrawn } from './editor-page.ts';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serializeModel } from '../core/index.ts';
import { buildRenderer } from '../scripts/build.js';
import { serve } from '../scripts/serve.js';
import { residualModel } from './inference.bench.ts';
import { report } from './measure.ts';

export async function benchUi(): Promise<void> {
  if (!existsSync('/usr/bin/chromium')) return void console.log('editor benchmark skipped: Chromium is not installed (apt-get install chromium)');
  await buildRenderer();
  const model = residualModel(500);
  model.nodes.forEach((n, i) => (n.position = { x: (i % 25) * 260, y: Math.floor(i / 25) * 150 }));
  const file = join(mkdtempSync(join(tmpdir(), 'netloom-ui-')), 'big.json');
  writeFileSync(file, serializeModel(model));

  const { server, url } = await serve(fileURLToPath(new URL('../dist/renderer/', import.meta.url)), 0);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    report('editor: open a 500-node model until it is drawn', await openUntilDrawn(page, url, file, 500), 's', 2);

    // Edit → screen: from the Enter that commits a new channel count to the node showing its new shape.
    const target = page.getByTestId('rf__node-b0_conv1');
    await target.click();
    const field = page.getByLabel('Out channels', { exact: true });
    const timings: number[] = [];
    for (const channels of ['48', '32', '40', '32', '56', '32']) {
      await field.fill(channels);
      // Page-side code as text: tsx would otherwise wrap the inner functions in a helper the page lacks.
      const shown = page.evaluate(`new Promise((resolve) => {
        const shape = document.querySelector('[data-testid="rf__node-b0_conv1"] [data-testid="shape"]');
        new MutationObserver(() => shape.textContent === 'N×${channels}×16×16' && resolve(performance.now() - window.__editStart))
          .observe(shape, { characterData: true, childList: true, subtree: true });
      })`) as Promise<number>;
      await page.evaluate(`window.addEventListener('keydown', () => { window.__editStart = performance.now(); }, { capture: true, once: true })`);
      await field.press('Enter');
      timings.push(await shown);
    }
    timings.sort((a, b) => a - b);
    report(`editor: parameter edit until the new shape is on screen (median of ${timings.length})`, timings[Math.floor(timings.length / 2)], 'ms', 100);

    // Panning: main-thread time per frame (Chrome's TaskDuration over the frames drawn), and how many
    // frames missed the 16.7 ms display interval.
    const box = (await page.getByTestId('canvas').boundingBox())!;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const busy = async () => ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0) * 1000;
    const frames = page.evaluate(`new Promise((resolve) => {
      const times = [];
      const tick = (t) => {
        times.push(t);
        if (times.length < 90) requestAnimationFrame(tick);
        else resolve(times.slice(1).map((v, i) => v - times[i]));
      };
      requestAnimationFrame(tick);
    })`) as Promise<number[]>;
    const before = await busy();
    await page.mouse.move(box.x + box.width - 40, box.y + 40);
    await page.mouse.down();
    for (let i = 0; i < 60; i++) await page.mouse.move(box.x + box.width - 40 - i * 12, box.y + 40 + i * 6);
    await page.mouse.up();
    const intervals = await frames;
    const perFrame = ((await busy()) - before) / intervals.length;
    const dropped = intervals.filter((t) => t > 20).length;
    report(`editor: main-thread time per frame while panning (${intervals.length} frames, ${dropped} over 20 ms apart)`, perFrame, 'ms', 16);
  } finally {
    await browser.close();
    server.close();
  }
}
