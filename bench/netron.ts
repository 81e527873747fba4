/**
 * Netron, the model viewer Netloom's graph view is compared with (issue #17), run from its static web
 * build: the `source/` folder of a clone of github.com/lutzroeder/netron (index.html and its JS), named by
 * NETRON_DIR. Nothing of Netron is in this repository; the README says how to get it.
 */
import type { Server } from 'node:http';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { serve } from '../scripts/serve.js';

/**
 * Serves NETRON_DIR on 127.0.0.1, or says how to enable the comparison and gives null. Files Netron
 * asks for but a checkout lacks get 404 (it reads its metadata files as optional), never index.html.
 */
export async function serveNetron(): Promise<{ server: Server; url: string } | null> {
  const dir = process.env.NETRON_DIR;
  if (!dir) {
    console.log('Netron comparison off: set NETRON_DIR=/path/to/netron/source (a clone of lutzroeder/netron; see README "Speed against Netron")');
    return null;
  }
  if (!existsSync(join(dir, 'index.html')) || !existsSync(join(dir, 'browser.js'))) throw new Error(`NETRON_DIR=${dir}: not Netron's source folder (it has no index.html and browser.js)`);
  return serve(resolve(dir), 0, { fallback: false });
}

/**
 * Opens a model in Netron through its own file picker (Open Model…) on a fresh page and returns the seconds
 * from choosing the file until Netron shows its finished view: the body's class becomes "default", which
 * Netron sets once the graph is laid out (in its worker) and drawn, and which its own browser test waits
 * for; then two frames.
 */
export async function openInNetron(page: Page, url: string, file: string): Promise<number> {
  // Netron asks for consent to its telemetry once, and remembers the answer in a cookie.
  await page.context().addCookies([{ name: 'consent', value: String(Date.now()), url }]);
  await page.goto(url);
  await page.locator('body.welcome').waitFor();
  const chooser = page.waitForEvent('filechooser');
  await page.locator('#open-file-button').click();
  const started = Date.now();
  await (await chooser).setFiles(file);
  await page.locator('body.default, body.alert').waitFor({ timeout: 300_000 });
  if (await page.locator('body.alert').count()) throw new Error(`Netron could not open ${file}: ${await page.locator('#message-text').innerText()}`);
  // Through the DevTools protocol: Netron replaces window.eval, which page.evaluate relies on.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Runtime.evaluate', { expression: 'new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))', awaitPromise: true });
  return (Date.now() - started) / 1000;
}
