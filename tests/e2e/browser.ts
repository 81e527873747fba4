/** Playwright on Debian's Chromium against the built editor, served on loopback. */
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
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
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-dev-shm-usage'] });
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

/** Waits until the autosave has written a recovery copy that contains `text`. */
export async function recoverySaved(page: Page, text: string): Promise<void> {
  await page.waitForFunction((t) => (localStorage.getItem('netloom.recovery') ?? '').includes(t), text);
}
