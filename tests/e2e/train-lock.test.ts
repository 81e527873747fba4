/**
 * The Train panel and the document in Chromium: while a run holds the model it cannot be edited (the
 * inspector is read-only, an edit is refused with the reason, the banner's Stop ends the run), the
 * trained weights are one undoable step (Export ONNX writes the earlier weights after Undo, the trained
 * ones after Redo), and a loss that became NaN stops training with the advice, marked on the chart.
 * A small MLP on the spiral set, so that it is quick. Screenshots in both themes go to test-results/.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { serializeModel, type ModelDocument } from '../../core/index.ts';
import { decodeModel, tensorValues } from '../../core/onnx/proto.ts';
import { ARTIFACTS, chromiumMissing, fillTrainingSettings, openEditor, openFiles, openTemplate, openTrainPanel, screenshotBothThemes, startSession, stopSession, type Session } from './browser.ts';

const errors: string[] = [];
const model: ModelDocument = {
  format: 'netloom.model',
  version: 1,
  name: 'spiral-mlp',
  nodes: [
    { id: 'x', op: 'Input', params: { shape: [2] }, position: { x: 200, y: 40 } },
    { id: 'fc1', op: 'Linear', params: { outFeatures: 16 }, position: { x: 200, y: 180 } },
    { id: 'relu1', op: 'ReLU', params: {}, position: { x: 200, y: 320 } },
    { id: 'fc2', op: 'Linear', params: { outFeatures: 3 }, position: { x: 200, y: 460 } },
  ],
  edges: [
    { from: 'x', to: 'fc1' },
    { from: 'fc1', to: 'relu1' },
    { from: 'relu1', to: 'fc2' },
  ],
};

async function open(page: Page, doc = model): Promise<void> {
  const path = `${ARTIFACTS}spiral-mlp.json`;
  writeFileSync(path, serializeModel(doc));
  await openFiles(page, path);
  await page.getByTestId('rf__node-fc2').waitFor();
}

/** fc1's weight as Export ONNX writes it. */
async function exportedFc1(page: Page, name: string): Promise<number[]> {
  const exporting = page.waitForEvent('download');
  await page.keyboard.press('Control+e');
  await (await exporting).saveAs(`${ARTIFACTS}${name}`);
  return [...tensorValues(decodeModel(readFileSync(`${ARTIFACTS}${name}`)).graph.initializer!.find((t) => t.name === 'fc1.weight')!)];
}

async function edit(page: Page, command: 'Undo' | 'Redo'): Promise<void> {
  await page.getByRole('menuitem', { name: 'Edit' }).click();
  await page.getByRole('menuitem', { name: new RegExp(`^${command}`) }).click();
}

describe('training holds the model', { skip: chromiumMissing }, () => {
  let session: Session;
  before(async () => {
    session = await startSession();
  });
  after(async () => {
    await stopSession(session);
    assert.deepEqual(errors, [], 'no page errors');
  });

  test('while training the model is locked; Stop keeps what was trained; trained weights undo and redo as one step', async () => {
    const page = await openEditor(session, errors);
    await open(page);
    const untrained = await exportedFc1(page, 'spiral-untrained.onnx');

    const settings = await openTrainPanel(page);
    const status = page.getByRole('status', { name: 'Training status' });
    // More epochs than the test waits for: the run is paused, then stopped from the banner.
    await fillTrainingSettings(settings, { dataset: 'spiral', loss: 'cross-entropy', learningRate: '0.01', batchSize: 16, epochs: 100000 });
    await settings.getByRole('button', { name: 'Start' }).click();
    await page.waitForFunction(() => Number(document.querySelector('[aria-label="Training loss per step"]')?.getAttribute('data-points')) > 0);
    // Paused, so that what follows happens while the run holds the model, however fast the machine.
    await settings.getByRole('button', { name: 'Pause' }).click();
    await status.filter({ hasText: /^Paused/ }).waitFor();

    const banner = page.getByRole('status', { name: 'Model locked' });
    assert.match((await banner.textContent())!, /^Training — the model is locked\. Stop training to edit it\. Stopping keeps the weights trained so far \(Undo restores the earlier ones\)\./);
    await page.getByTestId('rf__node-fc1').click();
    const inspector = page.getByRole('complementary', { name: 'Inspector' });
    await inspector.getByRole('heading', { name: 'fc1 Linear' }).waitFor();
    const outFeatures = inspector.getByLabel('Out features');
    assert.equal(await outFeatures.inputValue(), '16');
    assert.equal(await outFeatures.isEditable(), false, 'inspector fields are read-only');
    // Delete, Undo and adding from the palette are refused, with the reason; the canvas stays as it was.
    await page.keyboard.press('Delete');
    await page.getByRole('alert').filter({ hasText: 'Training — the model is locked.' }).waitFor();
    await page.getByRole('navigation', { name: 'Layer palette' }).getByRole('button', { name: 'ReLU', exact: true }).click();
    await edit(page, 'Undo');
    // Opening a template is refused before anything is asked or laid out; the Code tab's text is read-only.
    await openTemplate(page, 'lenet5');
    await page.getByRole('tab', { name: 'Code' }).click();
    await page.getByText('Read-only while training').waitFor();
    await page.getByRole('tab', { name: 'Canvas' }).click();
    assert.equal(await page.getByTestId('rf__node-fc1').count(), 1);
    assert.equal(await page.locator('.react-flow__node-layer').count(), 4);
    await page
      .getByRole('status')
      .filter({ hasText: /^4 layers · Total params: 99/ })
      .waitFor();
    await screenshotBothThemes(page, 'train-locked');

    // The run's end message shows for 6 s: waited for together with the status, not after it, so a slow
    // machine cannot let it go before it is looked for.
    await banner.getByRole('button', { name: 'Stop training' }).click();
    await Promise.all([
      status.filter({ hasText: /^Done/ }).waitFor(),
      page.getByRole('alert').filter({ hasText: "Training stopped: the weights trained so far are the model's now (Undo restores the earlier ones" }).waitFor(),
    ]);
    assert.equal(await banner.count(), 0, 'the lock ends with the run');
    assert.equal(await outFeatures.isEditable(), true);
    const stopped = await exportedFc1(page, 'spiral-stopped.onnx');
    assert.notDeepEqual(stopped, untrained, 'a stopped run keeps what it trained');

    await settings.getByLabel('Epochs').fill('2');
    await settings.getByRole('button', { name: 'Start' }).click();
    await Promise.all([status.filter({ hasText: /^Done/ }).waitFor(), page.getByRole('alert').filter({ hasText: "Training done: the trained weights are the model's now" }).waitFor()]);
    // The message leaves the dock's controls free, on a small window too (it sat over Start and Pause at 1024 px).
    await page.setViewportSize({ width: 1024, height: 700 });
    for (const name of ['Start', 'Pause', 'Resume', 'Stop']) {
      const uncovered = await settings.getByRole('button', { name }).evaluate((button) => {
        const box = button.getBoundingClientRect();
        return button.contains(document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2));
      });
      assert.ok(uncovered, `${name} is not under the message`);
    }
    await page.setViewportSize({ width: 1600, height: 1000 });
    const trained = await exportedFc1(page, 'spiral-trained.onnx');
    assert.notDeepEqual(trained, stopped);

    await edit(page, 'Undo');
    assert.deepEqual(await exportedFc1(page, 'spiral-undone.onnx'), stopped, 'Undo: the weights from before this training');
    await edit(page, 'Undo');
    assert.deepEqual(await exportedFc1(page, 'spiral-undone-twice.onnx'), untrained, 'Undo again: the weights from before any training');
    await edit(page, 'Redo');
    await edit(page, 'Redo');
    assert.deepEqual(await exportedFc1(page, 'spiral-redone.onnx'), trained, 'Redo: the trained weights');
    await page.context().close();
  });

  test('the missing-weights and training banners stack, both readable; the step chart counts whole steps', async () => {
    const page = await openEditor(session, errors);
    await open(page, { ...model, weights: 'spiral-mlp.safetensors' });
    const missing = page.getByRole('alert', { name: 'Missing weights' });
    await missing.waitFor();
    const settings = await openTrainPanel(page);
    // One step per epoch (the whole training set in a batch): the chart's x-axis spans a few steps only.
    await fillTrainingSettings(settings, { dataset: 'spiral', loss: 'cross-entropy', batchSize: 480, epochs: 100000 });
    await settings.getByRole('button', { name: 'Start' }).click();
    await page.waitForFunction(() => Number(document.querySelector('[aria-label="Training loss per step"]')?.getAttribute('data-points')) > 0);
    await settings.getByRole('button', { name: 'Pause' }).click();
    await page
      .getByRole('status', { name: 'Training status' })
      .filter({ hasText: /^Paused/ })
      .waitFor();

    const locked = page.getByRole('status', { name: 'Model locked' });
    const [a, b] = [(await missing.boundingBox())!, (await locked.boundingBox())!];
    assert.ok(a.height > 0 && b.height > 0);
    assert.ok(a.y + a.height <= b.y || b.y + b.height <= a.y, `the banners do not overlap (${JSON.stringify([a, b])})`);
    for (const banner of [missing, locked]) assert.equal(await banner.evaluate((e) => e.scrollWidth <= e.clientWidth), true, 'the text fits its banner');
    await screenshotBothThemes(page, 'banners-stacked');

    const ticks = (await page.getByRole('figure', { name: 'Training loss per step' }).getAttribute('data-x-ticks'))!.split(' ').map(Number);
    assert.ok(ticks.length > 0 && ticks.every(Number.isInteger), `whole steps on the x-axis: ${ticks.join(' ')}`);

    // Stopped, the model has trained weights: nothing is missing; Undo takes them back, and the warning with them.
    await locked.getByRole('button', { name: 'Stop training' }).click();
    await missing.waitFor({ state: 'detached' });
    await edit(page, 'Undo');
    await missing.waitFor();
    await page.context().close();
  });

  test('a loss that becomes NaN stops training with the advice, marked on the step chart', async () => {
    const page = await openEditor(session, errors);
    await open(page);
    const before = await exportedFc1(page, 'spiral-before-nan.onnx');
    const settings = await openTrainPanel(page);
    await fillTrainingSettings(settings, { dataset: 'spiral', optimizer: 'sgd', learningRate: '1e30', epochs: 3 });
    await settings.getByRole('button', { name: 'Start' }).click();
    await page.getByRole('status', { name: 'Training status' }).filter({ hasText: /^Done/ }).waitFor();

    const message = page.getByText(/^Training stopped: the loss became (NaN|infinite) at step \d+ \(epoch 1\); try a smaller learning rate than 1e\+30\. The model's weights are unchanged\.$/);
    await message.waitFor();
    const step = /at step (\d+)/.exec((await message.textContent())!)![1];
    const chart = page.getByRole('figure', { name: 'Training loss per step' });
    const caption = page.locator(`[id="${await chart.getAttribute('aria-describedby')}"]`);
    assert.match((await caption.textContent())!, new RegExp(`^Run 1: the loss became (NaN|infinite) at step ${step} \\(epoch 1\\); try a smaller learning rate than 1e\\+30\\.$`));
    assert.deepEqual(await exportedFc1(page, 'spiral-after-nan.onnx'), before, 'no epoch completed: the weights are the ones from before');
    const ticks = (await chart.getAttribute('data-x-ticks'))!.split(' ').map(Number);
    assert.ok(ticks.length > 0 && ticks.every(Number.isInteger), `whole steps on the x-axis: ${ticks.join(' ')}`);
    await chart.screenshot({ path: `${ARTIFACTS}train-nan-chart.png` });
    await screenshotBothThemes(page, 'train-nan');
    await page.context().close();
  });
});
