/** The editor in a benchmark's browser page. */
import type { Page } from 'playwright-core';
import { fillTrainingSettings, openTemplate, openTrainPanel } from '../tests/e2e/browser.ts';

/**
 * Opens a model file through File > Open on a fresh editor page and returns the seconds until it is drawn
 * and interactive: the status bar counts its layers, a layer is on screen, and two frames have passed.
 */
export async function openUntilDrawn(page: Page, url: string, file: string, layers: number): Promise<number> {
  await page.goto(url);
  await page.getByRole('button', { name: 'Templates' }).waitFor();
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('menuitem', { name: 'File' }).click();
  await page.getByRole('menuitem', { name: /^Open…/ }).click();
  const started = Date.now();
  await (await chooser).setFiles(file);
  await page
    .getByRole('status')
    .filter({ hasText: `${layers.toLocaleString('en')} layers` })
    .or(page.getByRole('status').filter({ hasText: `${layers} layers` }))
    .waitFor({ timeout: 120_000 });
  await page.locator('.react-flow__node').first().waitFor();
  await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
  return (Date.now() - started) / 1000;
}

/** Opens the CA2 CNN template and fills the Train panel's settings: MNIST, Adam, lr 1e-3, batch 64. */
export async function ca2TrainingSettings(page: Page) {
  await openTemplate(page, 'ca2-cnn', '661,591');
  const settings = await openTrainPanel(page);
  await fillTrainingSettings(settings, { dataset: 'mnist', optimizer: 'adam', learningRate: '0.001', batchSize: 64 });
  return settings;
}
