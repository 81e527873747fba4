/**
 * Issue #17's rough edges, in Chromium with controls found by role and name: Inspector rewiring,
 * bad number text, Ctrl+Z in a field, keyboard-added layers, Trainable, help text, groups, paste, long
 * names, the empty canvas and the recovery banner.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { ARTIFACTS, chromiumMissing, openEditor, openTemplate, recoverySaved, startSession, stopSession, viewportSettled, type Session } from './browser.ts';

let session: Session;
const errors: string[] = [];
const node = (page: Page, id: string) => page.getByTestId(`rf__node-${id}`);
const shapeOf = (page: Page, id: string) => node(page, id).getByTestId('shape').textContent();

async function template(page: Page, id: string): Promise<void> {
  await openTemplate(page, id);
  await page.getByRole('dialog', { name: 'Templates' }).waitFor({ state: 'detached' });
  await page.locator('.react-flow__node').first().waitFor();
  await viewportSettled(page);
}

async function select(page: Page, id: string): Promise<void> {
  await page.getByRole('searchbox', { name: 'Find layer' }).fill(id);
  await page.getByRole('searchbox', { name: 'Find layer' }).press('Enter');
  await page.getByRole('heading', { name: new RegExp(`^${id} `) }).waitFor();
  // Find hands the focus to the layer it found once the view has moved there.
  await page.waitForFunction((wanted) => document.activeElement?.getAttribute('data-id') === wanted, id);
}

type Rect = { x: number; y: number; width: number; height: number };
const overlap = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const rect = async (l: Locator): Promise<Rect> => (await l.boundingBox())!;

describe('rough edges in Chromium', { skip: chromiumMissing }, () => {
  before(async () => {
    session = await startSession();
  });
  after(async () => {
    if (session) await stopSession(session);
    assert.deepEqual(errors, [], 'no page errors');
  });

  test('Inspector: a cycle is refused and the existing edge stays; "abc" is kept, marked invalid, the model unchanged; Ctrl+Z in a field undoes the model', async () => {
    const page = await openEditor(session, errors);
    await template(page, 'ca2-cnn');
    await select(page, 'conv2');
    const input = page.getByRole('combobox', { name: 'Input input' });
    assert.equal(await input.inputValue(), 'maxpool1');
    await input.selectOption('linear2');
    await page
      .getByRole('alert')
      .filter({ hasText: /would make a cycle/ })
      .waitFor();
    assert.equal(await page.getByRole('combobox', { name: 'Input input' }).inputValue(), 'maxpool1', 'the edge from maxpool1 is still there');
    assert.equal(await shapeOf(page, 'conv2'), 'N×50×10×10');

    await select(page, 'conv1');
    const channels = page.getByLabel('Out channels', { exact: true });
    await channels.fill('abc');
    await channels.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'Out channels: "abc" is not a whole number' }).waitFor();
    assert.equal(await channels.inputValue(), 'abc', 'what was typed is kept');
    assert.equal(await channels.getAttribute('aria-invalid'), 'true');
    assert.equal(await shapeOf(page, 'conv1'), 'N×20×28×28', 'the model is unchanged');
    assert.equal(await page.getByRole('menubar').getByText('•').count(), 0, 'nothing to save');
    await page.screenshot({ path: `${ARTIFACTS}rough-invalid-field.png` });

    await channels.fill('30');
    await channels.press('Enter');
    assert.equal(await shapeOf(page, 'conv1'), 'N×30×28×28');
    await channels.press('Control+z');
    assert.equal(await shapeOf(page, 'conv1'), 'N×20×28×28', 'Ctrl+Z in the field undid the edit to the model');
    assert.equal(await channels.inputValue(), '20');

    // Trainable only where there is something to train; help shows `code` as code.
    assert.equal(await page.getByRole('checkbox', { name: /^Trainable/ }).count(), 1);
    await select(page, 'relu1');
    assert.equal(await page.getByRole('checkbox', { name: /^Trainable/ }).count(), 0, 'ReLU has no parameters to freeze');
    await select(page, 'face');
    const help = page.getByRole('complementary', { name: 'Inspector' }).locator('.doc');
    assert.equal(await help.locator('code', { hasText: 'shape' }).count(), 1);
    assert.doesNotMatch((await help.textContent())!, /`/);
    await page.context().close();
  });

  test('empty canvas hint; layers added by keyboard wire after the selection and the view follows', async () => {
    const page = await openEditor(session, errors);
    await page
      .getByRole('note')
      .filter({ hasText: /Start with an Input/ })
      .waitFor();
    await page.getByRole('button', { name: 'Input', exact: true }).focus();
    await page.keyboard.press('Enter');
    await node(page, 'input1').waitFor();
    assert.equal(await page.getByRole('note').count(), 0, 'the hint goes once there is a layer');
    const canvas = await rect(page.getByTestId('canvas'));
    let previous = 'input1';
    for (const [op, id] of [
      ['Flatten', 'flatten1'],
      ['Linear', 'linear1'],
      ['ReLU', 'relu1'],
      ['Linear', 'linear2'],
      ['ReLU', 'relu2'],
      ['Linear', 'linear3'],
      ['Softmax', 'softmax1'],
    ]) {
      await page.getByRole('button', { name: op, exact: true }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: new RegExp(`^${id} `) }).waitFor();
      assert.equal(await page.getByRole('combobox', { name: 'Input input' }).inputValue(), previous, `${id} is wired after ${previous}`);
      await viewportSettled(page);
      const box = await rect(node(page, id));
      assert.ok(box.y >= canvas.y && box.y + box.height <= canvas.y + canvas.height, `${id} is on screen`);
      previous = id;
    }
    assert.equal(await shapeOf(page, 'linear3'), 'N×10');
    await page.keyboard.press('Control+z');
    assert.equal(await node(page, 'softmax1').count(), 0, 'one undo removes the layer and its edge');
    await page.screenshot({ path: `${ARTIFACTS}rough-keyboard-chain.png` });
    await page.context().close();
  });

  test('a new group holds only its layers; pasted layers land beside the originals; long names stay inside their layer', async () => {
    const page = await openEditor(session, errors);
    await template(page, 'ca2-cnn');
    await select(page, 'conv1');
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Control+v');
    await node(page, 'conv3').waitFor();
    await viewportSettled(page);
    assert.ok(!overlap(await rect(node(page, 'conv3')), await rect(node(page, 'conv1'))), 'the pasted layer does not cover conv1');
    await page.keyboard.press('Delete');

    await node(page, 'conv1').click();
    await node(page, 'maxpool1').click({ modifiers: ['Shift'] });
    await node(page, 'relu1').click({ modifiers: ['Shift'] });
    await page.keyboard.press('Control+g');
    await page.getByRole('button', { name: 'Collapse Block' }).waitFor();
    await viewportSettled(page);
    const box = await rect(page.getByTestId('group-group1'));
    for (const other of ['face', 'conv2', 'relu2']) {
      if ((await node(page, other).count()) === 0) continue;
      assert.ok(!overlap(box, await rect(node(page, other))), `the block's box does not cover ${other}`);
    }
    await page.screenshot({ path: `${ARTIFACTS}rough-group.png` });

    page.once('dialog', (d) => void d.accept());
    await template(page, 'gpt1');
    const block = node(page, 'block1');
    await block.waitFor();
    const outer = await rect(block);
    const op = await rect(block.locator('.layer-op'));
    const id = await rect(block.locator('.layer-id'));
    assert.ok(!overlap(op, id), 'op and id do not run together');
    for (const part of [op, id]) assert.ok(part.x >= outer.x && part.x + part.width <= outer.x + outer.width, 'inside the layer');
    await page.context().close();
  });

  test('the recovery banner offers the work before it is recovered', async () => {
    const page = await openEditor(session, errors);
    await template(page, 'mlp-3-4-2');
    await node(page, 'linear1').click();
    const field = page.getByLabel('Out features', { exact: true });
    await field.fill('7');
    await field.press('Enter');
    await recoverySaved(page, '"outFeatures":7');
    await page.reload();
    const banner = page.getByRole('alert').filter({ hasText: /Unsaved work from/ });
    await banner.waitFor();
    assert.match((await banner.textContent())!, /can be recovered/);
    assert.doesNotMatch((await banner.textContent())!, /was recovered/);
    await page.context().close();
  });
});
