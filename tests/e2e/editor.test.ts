/**
 * The editor in a real browser (Debian's Chromium, browser mode): build the CA2 CNN by drag and drop,
 * edit it, break it, undo and redo, save and reopen, templates, export. Screenshots go to test-results/.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { Page } from 'playwright-core';
import { SCHEMA_ID } from '../../core/graph/types.ts';
import { ARTIFACTS, chromiumMissing, openEditor, openFiles, openTemplate, recoverySaved, startSession, stopSession, viewportSettled, type Session } from './browser.ts';

let session: Session;
const errors: string[] = [];

const node = (page: Page, id: string) => page.getByTestId(`rf__node-${id}`);
const shapeOf = (page: Page, id: string) => node(page, id).getByTestId('shape').textContent();
const paramsOf = (page: Page, id: string) => node(page, id).getByTestId('params').textContent();
const shot = (page: Page, name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png` });

async function dropLayer(page: Page, op: string, x: number, y: number): Promise<void> {
  const canvas = await page.getByTestId('canvas').boundingBox();
  await page.getByRole('button', { name: op, exact: true }).dragTo(page.getByTestId('canvas'), { targetPosition: { x: x, y: y } });
  assert.ok(canvas);
}

async function setField(page: Page, label: string, value: string): Promise<void> {
  const field = page.getByLabel(label, { exact: true });
  await field.fill(value);
  await field.press('Enter');
}

async function connect(page: Page, from: string, to: string): Promise<void> {
  await node(page, from).locator('.react-flow__handle.source').first().dragTo(node(page, to).locator('.react-flow__handle.target').first());
}

async function select(page: Page, id: string): Promise<void> {
  await node(page, id).click();
  await page.getByRole('heading', { name: new RegExp(`^${id} `) }).waitFor();
}

describe('the editor in Chromium', { skip: chromiumMissing }, () => {
  before(async () => {
    session = await startSession();
  });
  after(async () => {
    if (session) await stopSession(session);
    assert.deepEqual(errors, [], 'no page errors');
  });

  test('build the CA2 CNN by drag and drop: every shape and the total', async () => {
    const page = await openEditor(session, errors);
    const layers: [string, string, Record<string, string>][] = [
      ['Input', 'input1', { Shape: '1, 32, 32' }],
      ['Conv2d', 'conv1', { 'Out channels': '20', 'Kernel size': '5' }],
      ['ReLU', 'relu1', {}],
      ['MaxPool2d', 'maxpool1', { 'Kernel size': '2' }],
      ['Conv2d', 'conv2', { 'Out channels': '50', 'Kernel size': '5' }],
      ['ReLU', 'relu2', {}],
      ['MaxPool2d', 'maxpool2', { 'Kernel size': '2' }],
      ['Flatten', 'flatten1', {}],
      ['Linear', 'linear1', { 'Out features': '500' }],
      ['ReLU', 'relu3', {}],
      ['Linear', 'linear2', { 'Out features': '21' }],
    ];
    for (const [i, [op, id, fields]] of layers.entries()) {
      await dropLayer(page, op, 130 + (i % 4) * 250, 80 + Math.floor(i / 4) * 190);
      await node(page, id).waitFor();
      for (const [label, value] of Object.entries(fields)) await setField(page, label, value);
    }
    for (let i = 1; i < layers.length; i++) await connect(page, layers[i - 1][1], layers[i][1]);
    const expected: Record<string, [string, string]> = {
      input1: ['N×1×32×32', '0'],
      conv1: ['N×20×28×28', '520'],
      relu1: ['N×20×28×28', '0'],
      maxpool1: ['N×20×14×14', '0'],
      conv2: ['N×50×10×10', '25,050'],
      relu2: ['N×50×10×10', '0'],
      maxpool2: ['N×50×5×5', '0'],
      flatten1: ['N×1250', '0'],
      linear1: ['N×500', '625,500'],
      relu3: ['N×500', '0'],
      linear2: ['N×21', '10,521'],
    };
    for (const [id, [shape, params]] of Object.entries(expected)) {
      assert.equal(await shapeOf(page, id), shape, `${id} shape`);
      assert.equal(await paramsOf(page, id), params, `${id} params`);
    }
    assert.equal(await page.locator('.react-flow__edge').count(), 10);
    assert.ok((await page.locator('.edge-shape', { hasText: 'N×20×28×28' }).count()) >= 1, 'edges are labelled with shapes');
    await page.getByRole('tab', { name: 'Summary' }).click();
    assert.equal(await page.getByTestId('total-params').textContent(), 'Total params: 661,591');
    await shot(page, 'ca2-built');

    // A kernel-size edit updates shapes and counts downstream, in place: no node is measured again and
    // no edge is rebuilt (React Flow drops and redraws the edges of a node it has to measure again).
    await select(page, 'conv1');
    await page.evaluate(
      `window.__rebuiltEdges = 0; new MutationObserver((ms) => { for (const m of ms) for (const n of m.addedNodes) if (n.nodeType === 1 && (n.matches('.react-flow__edge, .edge-shape') || n.querySelector('.react-flow__edge, .edge-shape'))) window.__rebuiltEdges++; }).observe(document.querySelector('.react-flow'), { childList: true, subtree: true });`,
    );
    await setField(page, 'Kernel size', '3');
    assert.equal(await shapeOf(page, 'conv1'), 'N×20×30×30');
    assert.equal(await page.locator('.edge-shape', { hasText: 'N×20×30×30' }).count(), 2, 'the edges out of conv1 and its ReLU show the new shape');
    assert.equal(await page.evaluate('window.__rebuiltEdges'), 0, 'edges rebuilt by the edit');
    assert.equal(await paramsOf(page, 'conv1'), '200');
    assert.equal(await page.getByTestId('total-params').textContent(), 'Total params: 661,271');
    assert.match((await page.getByTestId('formulas').textContent())!, /W2 = \(W1 − F \+ 2P\)\/S \+ 1 = \(32 − 3\)\/1 \+ 1 = 30/);

    // An impossible kernel: the error is on the node and in Problems; clicking it selects the node.
    await setField(page, 'Kernel size', '40');
    await page.getByRole('tab', { name: /Problems \(1\)/ }).click();
    assert.match((await node(page, 'conv1').getAttribute('aria-label'))!, /conv1 Conv2d \(error: output H would be -7/);
    assert.match((await node(page, 'conv1').locator('.layer-node').getAttribute('class'))!, /error/);
    await page.getByRole('button', { name: /error conv1 output H would be -7/ }).click();
    assert.equal(await page.getByRole('heading', { name: /^conv1 / }).count(), 1);
    assert.equal(await shapeOf(page, 'linear2'), '?', 'downstream shapes are unknown, not wrong');
    await shot(page, 'ca2-error');

    // Undo and redo, from the keyboard.
    await page.getByTestId('canvas').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+z');
    assert.equal(await shapeOf(page, 'conv1'), 'N×20×30×30');
    await page.keyboard.press('Control+z');
    assert.equal(await shapeOf(page, 'conv1'), 'N×20×28×28');
    await page.keyboard.press('Control+Shift+z');
    assert.equal(await shapeOf(page, 'conv1'), 'N×20×30×30');
    await page.keyboard.press('Control+y');
    assert.equal(await page.getByRole('tab', { name: /Problems \(1\)/ }).count(), 1);
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+z');
    assert.equal(await paramsOf(page, 'conv1'), '520');

    // A second edge into a single-input layer is refused, with the reason.
    await page.keyboard.press('Control+0');
    await viewportSettled(page);
    await connect(page, 'relu3', 'conv2');
    await page
      .getByRole('alert')
      .filter({ hasText: /Connection refused: conv2's input "input" is already connected to maxpool1/ })
      .waitFor();
    await page.context().close();
  });

  test('save, reopen and compare; export ONNX that ONNX Runtime loads', async () => {
    const page = await openEditor(session, errors);
    await openTemplate(page, 'lenet5');
    await node(page, 'conv1').waitFor();
    page.once('dialog', (d) => void d.accept('lenet.json'));
    const saving = page.waitForEvent('download');
    await page.keyboard.press('Control+s');
    const saved = await saving;
    assert.equal(saved.suggestedFilename(), 'lenet.json');
    const path = `${ARTIFACTS}lenet.json`;
    await saved.saveAs(path);
    const text = readFileSync(path, 'utf8');
    assert.equal(JSON.parse(text).name, 'LeNet-5');
    // The template's $schema (relative to the templates folder) becomes the schema's identifier.
    assert.equal(JSON.parse(text).$schema, SCHEMA_ID);

    await page.keyboard.press('Control+n');
    assert.equal(await page.locator('.react-flow__node').count(), 0);
    await openFiles(page, path);
    await node(page, 'conv1').waitFor();
    page.once('dialog', (d) => void d.accept());
    const again = page.waitForEvent('download');
    await page.keyboard.press('Control+s');
    await (await again).saveAs(`${ARTIFACTS}lenet-again.json`);
    assert.equal(readFileSync(`${ARTIFACTS}lenet-again.json`, 'utf8'), text, 'saving what was opened gives the same bytes');

    const exporting = page.waitForEvent('download');
    await page.keyboard.press('Control+e');
    const onnxFile = await exporting;
    assert.equal(onnxFile.suggestedFilename(), 'LeNet-5.onnx');
    await onnxFile.saveAs(`${ARTIFACTS}lenet.onnx`);
    const ortSession = await ort.InferenceSession.create(readFileSync(`${ARTIFACTS}lenet.onnx`));
    assert.deepEqual(ortSession.outputNames, ['linear3']);
    await page.context().close();
  });

  test('every template opens with its parameter count', async () => {
    const page = await openEditor(session, errors);
    for (const [id, total] of [
      ['ca2-cnn', '661,591'],
      ['resnet18', '11,689,512'],
      ['gpt1', '116,534,784'],
      ['bert-base', '109,482,240'],
      ['llama-block', '2,769,920'],
    ]) {
      await openTemplate(page, id, total);
    }
    await shot(page, 'template-llama-block');
    await page.context().close();
  });

  test('keyboard: add from the palette with Enter, wire with the inspector, copy and paste, group', async () => {
    const page = await openEditor(session, errors);
    await page.getByRole('button', { name: 'Input', exact: true }).focus();
    await page.keyboard.press('Enter');
    await setField(page, 'Shape', '784');
    await page.getByRole('button', { name: 'Linear', exact: true }).focus();
    await page.keyboard.press('Enter');
    await node(page, 'linear1').waitFor();
    await page.getByLabel('Input input').selectOption('input1');
    assert.equal(await shapeOf(page, 'linear1'), 'N×10');
    assert.equal(await paramsOf(page, 'linear1'), '7,850');
    await node(page, 'linear1').focus();
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Control+v');
    await node(page, 'linear2').waitFor();
    await page.keyboard.press('Control+a');
    await page.keyboard.press('Control+g');
    await page.getByRole('button', { name: 'Collapse Block' }).click();
    // Collapsing closes the block in place and moves what lies below it up (relayout.ts), hiding the members.
    await node(page, 'linear1').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Expand Block' }).click();
    await node(page, 'linear1').waitFor();
    await shot(page, 'keyboard-and-group');
    await page.context().close();
  });

  test('autosave: after a reload the editor offers the unsaved work back', async () => {
    const page = await openEditor(session, errors);
    await openTemplate(page, 'mlp-3-4-2');
    await select(page, 'linear1');
    await setField(page, 'Out features', '7');
    await recoverySaved(page, '"outFeatures":7');
    await page.reload();
    await page.getByRole('button', { name: 'Recover' }).click();
    await node(page, 'linear1').waitFor();
    assert.equal(await shapeOf(page, 'linear1'), 'N×7');
    await page.context().close();
  });

  test('dark and light themes follow the OS, and switch from the View menu', async () => {
    const page = await openEditor(session, errors);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.reload();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.getByRole('menuitem', { name: 'View' }).click();
    await page.getByRole('menuitem', { name: 'Switch Theme' }).click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
    await shot(page, 'theme-light');
    await page.context().close();
  });

  test('docked layout: a handle resizes the inspector, the size survives a reload, Toggle Panels hides and restores the docks', async () => {
    const page = await openEditor(session, errors);
    const inspector = page.getByRole('complementary', { name: 'Inspector' });
    const widthOf = async () => (await inspector.boundingBox())?.width ?? 0;
    const before = await widthOf();
    const handle = (await page.getByRole('separator', { name: 'Resize the inspector' }).boundingBox())!;
    await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
    await page.mouse.down();
    await page.mouse.move(handle.x - 150, handle.y + handle.height / 2, { steps: 5 });
    await page.mouse.up();
    const wider = await widthOf();
    assert.ok(wider > before + 100, `the inspector grew from ${before} to ${wider} px`);
    await page.reload();
    await page.getByRole('button', { name: 'Templates' }).waitFor();
    assert.ok(Math.abs((await widthOf()) - wider) < 3, 'the size is remembered');
    await page.keyboard.press('Control+j');
    // The dock (the panel around the inspector) collapses to nothing.
    await page.waitForFunction(() => (document.querySelector('[data-testid="inspector"]')?.getBoundingClientRect().width ?? -1) === 0);
    assert.equal(await page.evaluate(() => document.querySelector('[data-testid="bottom"]')!.getBoundingClientRect().height), 0, 'the bottom dock is collapsed too');
    await page.keyboard.press('Control+j');
    await page.waitForFunction((w) => Math.abs((document.querySelector('[aria-label="Inspector"]')?.getBoundingClientRect().width ?? 0) - w) < 3, wider);
    await shot(page, 'docked-layout');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'docked-layout-dark');
    await page.context().close();
  });
});
