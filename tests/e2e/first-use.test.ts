/**
 * Rough edges a new user met in the Run and Train panels (an audit in Chromium, light and dark): the canvas
 * overlay's legend fits its box, and the training charts' axes are readable in the dark theme.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { ARTIFACTS, chromiumMissing, openEditor, startSession, stopSession, type Session } from './browser.ts';

let session: Session;
const errors: string[] = [];

async function openTemplate(page: Page, id: string): Promise<void> {
  await page.getByRole('button', { name: 'Templates' }).click();
  await page.getByRole('button', { name: `Template ${id}`, exact: true }).click();
}

describe('first use of the Run and Train panels', { skip: chromiumMissing }, () => {
  before(async () => {
    session = await startSession();
  });
  after(async () => {
    await stopSession(session);
    assert.deepEqual(errors, []);
  });

  test("the overlay's legend, both ends of its scale, fits inside the overlay's box", async () => {
    const page = await openEditor(session, errors);
    await openTemplate(page, 'ca2-cnn');
    await page.getByRole('tab', { name: 'Run' }).click();
    await page.getByLabel('Input source').selectOption('sample');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByRole('status', { name: 'Prediction' }).waitFor();
    await page.getByLabel('Overlay', { exact: true }).selectOption('activation');
    const legend = page.getByRole('img', { name: /^Overlay legend: Mean \|activation\| from \S+ to \S+, log scale$/ });
    await legend.waitFor();
    const box = (await page.getByLabel('Overlay', { exact: true }).locator('xpath=ancestor::div[1]').boundingBox())!;
    for (const end of [legend.locator('span').first(), legend.locator('span').last()]) {
      const b = (await end.boundingBox())!;
      assert.ok(b.x >= box.x && b.x + b.width <= box.x + box.width, `"${await end.textContent()}" (${b.x}–${b.x + b.width}) inside the overlay box (${box.x}–${box.x + box.width})`);
    }
    await page
      .getByLabel('Overlay', { exact: true })
      .locator('xpath=ancestor::div[1]')
      .screenshot({ path: `${ARTIFACTS}first-use-overlay.png` });
    await page.context().close();
  });
});
