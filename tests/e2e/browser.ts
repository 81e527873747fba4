/** Playwright on Debian's Chromium against the built editor, served on loopback. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { serve } from '../../scripts/serve.js';

export const CHROMIUM = '/usr/bin/chromium';
export const chromiumMissing = existsSync(CHROMIUM) ? false : 'Chromium is not installed (apt-get install chromium)';
export const ARTIFACTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/renderer/', import.meta.url));

export interface Session {
  browser: Browser;
  server: Server;
  url: string;
}

export async function startSession(): Promise<Session> {
  if (!existsSync(`${DIST}index.html`)) throw new Error('the editor is not built: run "node scripts/build.js" first (npm test does)');
  mkdirSync(ARTIFACTS, { recursive: true });
  const { server, url } = await serve(DIST, 0);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-dev-shm-usage'],
  });
  return { browser, server, url };
}

export async function stopSession(s: Session): Promise<void> {
  await s.browser.close();
  s.server.close();
}

/** A fresh page (empty storage) whose page errors fail the test. */
export async function openEditor(s: Session, errors: string[]): Promise<Page> {
  const context = await s.browser.newContext({ viewport: { width: 1600, height: 1000 }, acceptDownloads: true });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.url });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(s.url);
  await page.getByRole('button', { name: 'Templates' }).waitFor();
  return page;
}

/**
 * Waits until the canvas viewport stops moving (a fit or zoom animation has ended): the transform must stay
 * the same for ten frames in a row, counted in frames, not time. A string, so that no bundler helper
 * (tsx's __name) is sent into the page.
 */
export async function viewportSettled(page: Page): Promise<void> {
  await page.waitForFunction(`new Promise((resolve) => {
    const read = () => document.querySelector('.react-flow__viewport')?.getAttribute('style') ?? '';
    let last = read();
    let still = 0;
    const frame = () => {
      const now = read();
      still = now === last ? still + 1 : 0;
      last = now;
      if (still >= 10) resolve(true);
      else requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  })`);
}

/** Two animation frames: any redraw already asked for has happened. */
export async function frames(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
}

/**
 * Screenshots of the page, or of one part of it, in the light and the dark theme, each once the theme has
 * been drawn, to test-results/<name>-light.png and -dark.png; then the theme follows no OS preference again.
 */
export async function screenshotBothThemes(target: Page | Locator, name: string): Promise<void> {
  const page = 'page' in target ? target.page() : target;
  for (const theme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: theme });
    await frames(page);
    await target.screenshot({ path: `${ARTIFACTS}${name}-${theme}.png` });
  }
  await page.emulateMedia({ colorScheme: null });
}

/** Waits until the autosave has written a recovery copy that contains `text`. */
export async function recoverySaved(page: Page, text: string): Promise<void> {
  await page.waitForFunction((t) => (localStorage.getItem('netloom.recovery') ?? '').includes(t), text);
}

/** File › Open… with these files picked in the chooser, as a person opens a model (with its weights, or data). */
export async function openFiles(page: Page, paths: string | string[]): Promise<void> {
  const choosing = page.waitForEvent('filechooser');
  await page.getByRole('menuitem', { name: 'File' }).click();
  await page.getByRole('menuitem', { name: /^Open…/ }).click();
  await (await choosing).setFiles(paths);
}

/** Opens a template from the Templates dialog; given its parameter count, waits until the status bar shows it. */
export async function openTemplate(page: Page, id: string, totalParams?: string): Promise<void> {
  await page.getByRole('button', { name: 'Templates' }).click();
  await page.getByRole('button', { name: `Template ${id}`, exact: true }).click();
  if (totalParams === undefined) return;
  const count = page.getByRole('status').filter({ hasText: `Total params: ${totalParams}` });
  await count.waitFor();
}

/** Opens the Train tab; its settings form. */
export async function openTrainPanel(page: Page): Promise<Locator> {
  await page.getByRole('tab', { name: 'Train' }).click();
  return page.getByRole('form', { name: 'Training settings' });
}

/** Settings of the Train panel to fill in; those left out keep what the panel shows. */
export interface TrainingSettings {
  dataset?: string;
  optimizer?: string;
  loss?: string;
  /** As typed: '1e30' stays '1e30'. */
  learningRate?: string;
  batchSize?: number;
  epochs?: number;
}

/**
 * Fills in the given settings. The optimiser comes before the loss and the learning rate, since choosing
 * it sets its own default rate (and the perceptron its loss).
 */
export async function fillTrainingSettings(settings: Locator, s: TrainingSettings): Promise<void> {
  if (s.dataset !== undefined) await settings.getByLabel('Dataset').selectOption(s.dataset);
  if (s.optimizer !== undefined) await settings.getByLabel('Optimizer').selectOption(s.optimizer);
  if (s.loss !== undefined) await settings.getByLabel('Loss').selectOption(s.loss);
  if (s.learningRate !== undefined) await settings.getByLabel('Learning rate').fill(s.learningRate);
  if (s.batchSize !== undefined) await settings.getByLabel('Batch size').fill(String(s.batchSize));
  if (s.epochs !== undefined) await settings.getByLabel('Epochs').fill(String(s.epochs));
}

const HARNESS_SOURCE = fileURLToPath(new URL('./web-engine/', import.meta.url));
export const HARNESS = `${ARTIFACTS}web-engine/`;

/**
 * Builds the browser engine's test page (web-engine/harness.ts) with Vite, as the app is built, under
 * the app's own Content-Security-Policy (read from renderer/index.html), so the tests also check that
 * the engine runs under it.
 */
export async function buildHarness(): Promise<string> {
  const { build } = await import('vite');
  const csp = /<meta\s+http-equiv="Content-Security-Policy"[^>]*>/.exec(readFileSync(fileURLToPath(new URL('../../renderer/index.html', import.meta.url)), 'utf8'))![0];
  const root = `${ARTIFACTS}web-engine-src/`;
  mkdirSync(root, { recursive: true });
  writeFileSync(`${root}index.html`, `<!doctype html><html><head>${csp}<title>engine</title></head><body><script type="module" src="${HARNESS_SOURCE}harness.ts"></script></body></html>`);
  await build({ root, base: './', configFile: false, logLevel: 'warn', worker: { format: 'es' }, build: { outDir: HARNESS, emptyOutDir: true, chunkSizeWarningLimit: 40000 } });
  return HARNESS;
}

/** A browser on the harness: WASM only, or with SwiftShader's WebGPU adapter. */
export async function startHarness(webgpu: boolean): Promise<Session> {
  const { server, url } = await serve(HARNESS, 0);
  const args = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-dev-shm-usage'];
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: webgpu ? [...args, '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'] : [...args, '--disable-gpu'],
  });
  return { browser, server, url };
}
