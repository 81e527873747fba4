/**
 * Readable graphs (issue #17), in Chromium: every template opens with its Input's shape readable on
 * screen without zooming; an imported ResNet-18 shows its stages as collapsible blocks; Find jumps to a
 * layer inside a collapsed block. Screenshots in both themes go to test-results/.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { MODEL_CACHE, torchvisionModels } from '../integration/model-cache.ts';
import { ARTIFACTS, chromiumMissing, openEditor, openFiles, openTemplate, startSession, stopSession, viewportSettled, type Session } from './browser.ts';

let session: Session;
const errors: string[] = [];
const models = chromiumMissing ? null : torchvisionModels();

/** The on-screen size of the Input's shape text and whether it lies inside the visible canvas. */
async function inputShapeOnScreen(page: Page): Promise<{ px: number; inside: boolean; text: string }> {
  return page.evaluate(`(() => {
    const input = [...document.querySelectorAll('.react-flow__node')].find((n) => n.querySelector('.layer-op')?.textContent === 'Input');
    const shape = input.querySelector('[data-testid="shape"]');
    const zoom = new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport')).transform).a;
    const box = shape.getBoundingClientRect();
    const canvas = document.querySelector('[data-testid="canvas"]').getBoundingClientRect();
    const inside = box.left >= canvas.left && box.right <= canvas.right && box.top >= canvas.top && box.bottom <= canvas.bottom;
    return { px: parseFloat(getComputedStyle(shape).fontSize) * zoom, inside, text: shape.textContent };
  })()`);
}

/** View › Fit, from the menu (the file chooser leaves the focus where keys do not reach the canvas). */
async function fit(page: Page): Promise<void> {
  await page.getByRole('menuitem', { name: 'View' }).click();
  await page.getByRole('menuitem', { name: /^Fit/ }).click();
  await viewportSettled(page);
}

describe('readable graphs in Chromium', { skip: chromiumMissing }, () => {
  before(async () => {
    session = await startSession();
  });
  after(async () => {
    if (session) await stopSession(session);
    assert.deepEqual(errors, [], 'no page errors');
  });

  test('every template opens with its Input shape readable on screen, without zooming', async () => {
    const page = await openEditor(session, errors);
    await page.getByRole('button', { name: 'Templates' }).click();
    const ids = (await page.getByRole('button', { name: /^Template / }).evaluateAll((all) => all.map((b) => b.getAttribute('aria-label')!.slice('Template '.length)))) as string[];
    await page.keyboard.press('Escape');
    assert.ok(ids.length >= 10, `found ${ids.length} templates`);
    for (const id of ids) {
      await openTemplate(page, id);
      await page.getByRole('dialog', { name: 'Templates' }).waitFor({ state: 'detached' });
      // The template is laid out in the worker before it replaces the one shown: wait for its name.
      const name = (JSON.parse(readFileSync(new URL(`../../assets/templates/${id}.json`, import.meta.url), 'utf8')) as { name: string }).name;
      await page.getByRole('menubar').getByText(name, { exact: true }).waitFor();
      await page
        .locator('.react-flow__node .layer-op', { hasText: /^Input$/ })
        .first()
        .waitFor();
      await viewportSettled(page);
      const seen = await inputShapeOnScreen(page);
      assert.ok(seen.px >= 11, `${id}: the Input's shape text is ${seen.px.toFixed(1)} px on screen`);
      assert.ok(seen.inside, `${id}: the Input's shape "${seen.text}" is outside the visible canvas`);
      assert.match(seen.text, /^N×/, `${id}: the Input shows its shape`);
      if (id === 'resnet18' || id === 'gpt1') await page.screenshot({ path: `${ARTIFACTS}readable-template-${id}.png` });
    }
    // The minimap's mask (what lies outside the view) over its background follows the theme: it drew a
    // white frame over the dark one.
    for (const theme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: theme });
      await page.locator('.react-flow__minimap').screenshot({ path: `${ARTIFACTS}minimap-${theme}.png` });
      const lightness = (await page.evaluate(`(() => {
        const channels = (c) => c.match(/[\\d.]+/g).map(Number);
        const [r, g, b, a = 1] = channels(getComputedStyle(document.querySelector('.react-flow__minimap-mask')).fill);
        const [R, G, B] = channels(getComputedStyle(document.querySelector('.react-flow__minimap')).backgroundColor);
        return (0.2126 * (r * a + R * (1 - a)) + 0.7152 * (g * a + G * (1 - a)) + 0.0722 * (b * a + B * (1 - a))) / 255;
      })()`)) as number;
      assert.ok(theme === 'dark' ? lightness < 0.3 : lightness > 0.7, `the minimap's mask is ${lightness.toFixed(2)} light in the ${theme} theme`);
    }
    await page.context().close();
  });

  test('imported ResNet-18: collapsible stages with their shapes; Find expands and jumps to layer3.1.conv2', { skip: typeof models === 'string' ? models : false }, async () => {
    const page = await openEditor(session, errors);
    await openFiles(page, `${MODEL_CACHE}/resnet18.onnx`);
    await page.getByTestId('rf__node-x').waitFor();
    await viewportSettled(page);
    await page.screenshot({ path: `${ARTIFACTS}readable-resnet18-light.png` });
    await fit(page);
    await page.getByRole('button', { name: 'Collapse layer1', exact: true }).press('Enter');
    const shapes = page.getByTestId('group-m:layer1').getByTestId('group-shapes');
    await shapes.waitFor();
    assert.equal(await shapes.textContent(), 'N×64×56×56 → N×64×56×56');
    assert.match((await page.getByTestId('group-m:layer1').textContent()) ?? '', /14 layers · 147,968 params/);

    await page.getByRole('button', { name: 'Collapse all' }).click();
    await fit(page);
    await page.getByRole('button', { name: 'Expand layer4', exact: true }).waitFor();
    for (const stage of ['layer1', 'layer2', 'layer3']) assert.equal(await page.getByRole('button', { name: `Expand ${stage}`, exact: true }).count(), 1, `${stage} is a block`);
    // Expanded, layer1 shows its two basic blocks, collapsed, each marked ×2: they are identical.
    await page.getByRole('button', { name: 'Expand layer1', exact: true }).press('Enter');
    await page.getByRole('button', { name: 'Expand layer1.1', exact: true }).waitFor();
    await fit(page);
    await viewportSettled(page);
    for (const block of ['layer1.0', 'layer1.1']) assert.equal(await page.getByTestId(`group-m:layer1/${block}`).getByText('×2').count(), 1, `${block} is marked ×2`);
    assert.equal(await page.getByTestId('rf__node-layer3_layer3.1_conv2_Conv').count(), 0, 'hidden inside the collapsed stage');
    await page.keyboard.press('Control+f');
    await page.keyboard.type('layer3.1.conv2');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^layer3_layer3\.1_conv2_Conv / }).waitFor();
    await viewportSettled(page);
    const box = await page.getByTestId('rf__node-layer3_layer3.1_conv2_Conv').boundingBox();
    const canvas = await page.getByTestId('canvas').boundingBox();
    assert.ok(box && canvas && box.y >= canvas.y && box.y + box.height <= canvas.y + canvas.height, 'the found layer is on screen');
    assert.equal(await page.getByRole('navigation', { name: 'Breadcrumb' }).textContent(), 'layer3layer3.1layer3_layer3.1_conv2_Conv');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: `${ARTIFACTS}readable-resnet18-find-dark.png` });
    await page.context().close();
  });
});
