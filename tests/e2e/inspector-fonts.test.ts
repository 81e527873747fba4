/**
 * Selecting a layer shows no font the page had not already shown (family, size, weight, style): a new
 * one makes Chromium's renderer ask the browser process for it synchronously, which, while training
 * loads the CPUs, held the first click on a layer in Layout for 0.3-0.5 s (bench/train-click.bench.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumMissing, openEditor, openTemplate, openTrainPanel, screenshotBothThemes, startSession, stopSession, type Session } from './browser.ts';

let session: Session;
const errors: string[] = [];

/**
 * Every font in which visible text or a control is drawn, with an example of where. Page-side code as
 * text: tsx would otherwise wrap the inner functions in a helper the page lacks.
 */
const fontsShown = (page: Page) =>
  page.evaluate(`(() => {
    const fonts = new Map();
    const note = (element, what) => {
      if (!element.checkVisibility()) return;
      const s = getComputedStyle(element);
      const font = [s.fontStyle, s.fontWeight, s.fontSize, s.fontFamily].join(' ');
      if (!fonts.has(font)) fonts.set(font, what);
    };
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let text = walk.nextNode(); text; text = walk.nextNode()) if (text.textContent.trim() && text.parentElement) note(text.parentElement, text.textContent.trim().slice(0, 40));
    for (const control of document.querySelectorAll('input, select, button, textarea')) note(control, control.tagName);
    return [...fonts];
  })()`) as Promise<[string, string][]>;

describe('the Inspector keeps to the fonts the page shows', { skip: chromiumMissing }, () => {
  before(async () => {
    session = await startSession();
  });
  after(async () => {
    await stopSession(session);
    assert.deepEqual(errors, [], 'no page errors');
  });

  test('selecting a convolution or a ReLU layer brings no new font size, weight or family', async () => {
    const page = await openEditor(session, errors);
    await openTemplate(page, 'ca2-cnn');
    await page.getByTestId('rf__node-conv1').waitFor();
    await openTrainPanel(page);
    const before = new Set((await fontsShown(page)).map(([font]) => font));
    const inspector = page.getByRole('complementary', { name: 'Inspector' });
    for (const id of ['conv1', 'relu1']) {
      await page.getByTestId(`rf__node-${id}`).click();
      await inspector.getByRole('heading', { name: new RegExp(`^${id} `) }).waitFor();
      const added = (await fontsShown(page)).filter(([font]) => !before.has(font));
      assert.deepEqual(added, [], `fonts new to the page after selecting ${id}`);
    }
    await screenshotBothThemes(inspector, 'inspector-relu1');
    await page.context().close();
  });
});
