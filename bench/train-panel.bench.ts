/**
 * The Train panel as a person meets it, in the built editor in headless Chromium: the CA2 CNN template,
 * MNIST, Adam, lr 1e-3, batch 64; the time from the click on Start to the loss chart's first point
 * (target < 2 s): with Start clicked at once, a few seconds after the panel opened (the worker prepares
 * the run meanwhile: engines/web/worker.ts), and for a second run on the same page.
 */
import type { Page } from 'playwright-core';
import { buildRenderer } from '../scripts/build.js';
import { chromiumMissing, openEditor, startSession, stopSession, type Session } from '../tests/e2e/browser.ts';
import { ca2TrainingSettings } from './editor-page.ts';
import { report } from './measure.ts';

/** Milliseconds from the click on Start to the first point of the loss chart, measured on the page; then stops the run. */
export async function startToFirstPoint(page: Page): Promise<number> {
  const settings = page.getByRole('form', { name: 'Training settings' });
  const start = settings.getByRole('button', { name: 'Start' });
  // Page-side code as text: tsx would otherwise wrap the inner functions in a helper the page lacks.
  const measured = page.evaluate(`new Promise((resolve) => {
    const chart = document.querySelector('[aria-label="Training loss per step"]');
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent === 'Start');
    let clicked = 0;
    button.addEventListener('click', () => { clicked = performance.now(); }, { capture: true, once: true });
    new MutationObserver((_, observer) => {
      if (clicked && Number(chart.getAttribute('data-points')) > 0) {
        observer.disconnect();
        resolve(performance.now() - clicked);
      }
    }).observe(chart, { attributes: true, attributeFilter: ['data-points'] });
  })`) as Promise<number>;
  await start.click();
  const ms = await measured;
  await settings.getByRole('button', { name: 'Stop' }).click();
  await page.getByRole('status', { name: 'Training status' }).filter({ hasText: /^Done/ }).waitFor({ timeout: 120_000 });
  return ms;
}

/** A fresh editor page with the CA2 CNN template open and the Train panel's settings filled in. */
export async function trainPanel(session: Session, errors: string[]): Promise<Page> {
  const page = await openEditor(session, errors);
  await ca2TrainingSettings(page);
  return page;
}

/** Seconds a person might spend on the panel before Start (reading it, picking settings). */
const ON_THE_PANEL_S = 5;

export async function benchTrainPanel(): Promise<void> {
  if (chromiumMissing) return void console.log(`Train panel: skipped (${chromiumMissing})`);
  await buildRenderer();
  const session = await startSession();
  const errors: string[] = [];
  try {
    const hurried = await trainPanel(session, errors);
    const atOnce = await startToFirstPoint(hurried);
    const again = await startToFirstPoint(hurried);
    await hurried.context().close();
    const person = await trainPanel(session, errors);
    await person.waitForTimeout(ON_THE_PANEL_S * 1000);
    const afterAWhile = await startToFirstPoint(person);
    await person.context().close();
    const what = 'Train panel (CA2 CNN, MNIST, Adam, batch 64): click on Start to the first loss point';
    report(`${what}, Start clicked as soon as the panel is filled in`, atOnce, 'ms', 2000);
    report(`${what}, Start clicked ${ON_THE_PANEL_S} s after the panel opened`, afterAWhile, 'ms', 2000);
    report(`${what}, a second run on the same page`, again, 'ms', 2000);
    if (errors.length) console.log(`Train panel: page errors: ${errors.join('; ')}`);
  } finally {
    await stopSession(session);
  }
}
