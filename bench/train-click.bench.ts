/**
 * The editor stays responsive while the Train panel trains: the CA2 CNN template training on MNIST in
 * the browser engine (Adam, lr 1e-3, batch 64), and meanwhile clicks on canvas layers, alternately
 * conv1 and relu1. Each is timed from the click's pointerdown to the next frame after the inspector's
 * title names the layer (target < 100 ms); then the main thread's time per frame while training goes on
 * (target < 16 ms). Figures, never test assertions.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { buildRenderer } from '../scripts/build.js';
import { serve } from '../scripts/serve.js';
import { ca2TrainingSettings } from './editor-page.ts';
import { report } from './measure.ts';

const CLICKS = 20;

export async function benchClickDuringTraining(): Promise<void> {
  if (!existsSync('/usr/bin/chromium')) return void console.log('click during training: skipped (Chromium is not installed)');
  await buildRenderer();
  const { server, url } = await serve(fileURLToPath(new URL('../dist/renderer/', import.meta.url)), 0);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(url);
    const settings = await ca2TrainingSettings(page);
    await settings.getByLabel('Epochs').fill('3');
    await settings.getByRole('button', { name: 'Start' }).click();
    await page.waitForFunction(() => Number(document.querySelector('[aria-label="Training loss per step"]')?.getAttribute('data-points')) > 0, undefined, { timeout: 120_000 });

    // Layout time (Chrome's LayoutDuration) of the first click: a font new to the page once held it for
    // 0.3-0.8 s, waiting on the browser process (README, "The first click while training").
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const metric = async (name: string) => ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === name)?.value ?? 0) * 1000;
    let firstLayout = 0;
    const timings: number[] = [];
    for (let i = 0; i < CLICKS; i++) {
      const id = i % 2 === 0 ? 'conv1' : 'relu1';
      // Page-side code as text: tsx would otherwise wrap the inner functions in a helper the page lacks.
      const shown = page.evaluate(`new Promise((resolve) => {
        let start = 0;
        window.addEventListener('pointerdown', () => { start = performance.now(); }, { capture: true, once: true });
        const inspector = document.querySelector('[aria-label="Inspector"]');
        const named = () => inspector.querySelector('h2')?.textContent?.startsWith('${id} ');
        new MutationObserver((_, observer) => {
          if (!start || !named()) return;
          observer.disconnect();
          requestAnimationFrame(() => resolve(performance.now() - start));
        }).observe(inspector, { characterData: true, childList: true, subtree: true });
      })`) as Promise<number>;
      const layoutBefore = await metric('LayoutDuration');
      await page.getByTestId(`rf__node-${id}`).click();
      timings.push(await shown);
      if (i === 0) firstLayout = (await metric('LayoutDuration')) - layoutBefore;
    }
    // Main-thread time per frame while training goes on untouched for 200 frames: Chrome's TaskDuration
    // (wall-clock time in the page's main-thread tasks) over the frames drawn meanwhile.
    const busy = async () => ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0) * 1000;
    const before = await busy();
    await page.evaluate('new Promise((resolve) => { let n = 0; const tick = () => (++n < 200 ? requestAnimationFrame(tick) : resolve(n)); requestAnimationFrame(tick); })');
    const perFrame = ((await busy()) - before) / 200;
    await cdp.detach();
    const training = /^Training/.test((await page.getByRole('status', { name: 'Training status' }).textContent()) ?? '');
    await page.getByRole('button', { name: 'Stop training' }).click();
    const first = timings[0];
    timings.sort((a, b) => a - b);
    const note = training ? '' : ' — training had ended before the last click';
    report(`editor during browser training (CA2 CNN on MNIST): click on a layer until the inspector shows it, median of ${timings.length}${note}`, timings[Math.floor(timings.length / 2)], 'ms', 100);
    report(`editor during browser training (CA2 CNN on MNIST): click on a layer until the inspector shows it, slowest of ${timings.length}${note}`, timings[timings.length - 1], 'ms', 100);
    report(`editor during browser training (CA2 CNN on MNIST): the first click (its Layout ${firstLayout.toFixed(0)} ms)${note}`, first, 'ms', 100);
    report(`editor during browser training (CA2 CNN on MNIST): main-thread time per frame over 200 frames${note}`, perFrame, 'ms', 16);
  } finally {
    await browser.close();
    server.close();
  }
}
