/**
 * The Train panel in Chromium: LeNet-5 on MNIST in the browser engine (padded to 32×32, as the panel
 * says), the loss chart gaining points while training, pause and resume, and Export ONNX writing the
 * trained weights afterwards; and the CA2 CNN template trained for 3 epochs to the CLI's 97%.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { decodeModel } from '../../core/onnx/proto.ts';
import { ARTIFACTS, chromiumMissing, fillTrainingSettings, frames, openEditor, openTemplate, openTrainPanel, screenshotBothThemes, startSession, stopSession, type Session } from './browser.ts';

let session: Session;
const errors: string[] = [];

const points = (page: Page, chart: string) => page.getByRole('figure', { name: chart }).getAttribute('data-points').then(Number);

const LOSS_CHART = 'Training loss per step';

const firstPoint = (page: Page) => page.waitForFunction((chart) => Number(document.querySelector(`[aria-label="${chart}"]`)?.getAttribute('data-points')) > 0, LOSS_CHART);

/**
 * Once the loss chart has its first point: Pause parks the trainer part-way through (`steps` in the run),
 * no step arrives while paused (across a switch of tabs), and Resume goes on.
 */
async function pauseAndResume(page: Page, settings: Locator, steps: number): Promise<void> {
  await firstPoint(page);
  await settings.getByRole('button', { name: 'Pause' }).click();
  await page
    .getByRole('status', { name: 'Training status' })
    .filter({ hasText: /^Paused/ })
    .waitFor();
  await frames(page);
  const paused = await points(page, LOSS_CHART);
  assert.ok(paused > 0 && paused < steps, `${paused} steps before the pause (${steps} in the run)`);
  await page.getByRole('tab', { name: 'Summary' }).click();
  await page.getByRole('tab', { name: 'Train' }).click();
  await frames(page);
  assert.equal(await points(page, LOSS_CHART), paused, 'no steps while paused');
  await settings.getByRole('button', { name: 'Resume' }).click();
}

async function validationAccuracy(status: Locator, timeout: number): Promise<number> {
  await status.filter({ hasText: /^Done/ }).waitFor({ timeout });
  return Number(/validation accuracy ([\d.]+)%/.exec((await status.textContent())!)![1]);
}

async function exportedConv1(page: Page, name: string): Promise<Float32Array> {
  const exporting = page.waitForEvent('download');
  await page.keyboard.press('Control+e');
  await (await exporting).saveAs(`${ARTIFACTS}${name}`);
  const conv1 = decodeModel(readFileSync(`${ARTIFACTS}${name}`)).graph.initializer!.find((t) => t.name === 'conv1.weight')!;
  return new Float32Array(Uint8Array.from(conv1.raw_data!).buffer);
}

describe('the Train panel', { skip: chromiumMissing }, () => {
  before(async () => {
    session = await startSession();
  });
  after(async () => {
    await stopSession(session);
    assert.deepEqual(errors, []);
  });

  test('trains LeNet-5 on MNIST with live charts, pauses and resumes, and the export carries the trained weights', async () => {
    const page = await openEditor(session, errors);
    await openTemplate(page, 'lenet5', '61,706');
    const untrained = await exportedConv1(page, 'lenet5-untrained.onnx');

    const settings = await openTrainPanel(page);
    await fillTrainingSettings(settings, { dataset: 'mnist', optimizer: 'adam', learningRate: '0.002', batchSize: 32, epochs: 1 });
    const start = settings.getByRole('button', { name: 'Start' });
    await start.click();
    const status = page.getByRole('status', { name: 'Training status' });
    await page.getByText('mnist: zero-padded 28×28 to 32×32, centred, to fit the model.').waitFor();
    await pauseAndResume(page, settings, 250);
    const accuracy = await validationAccuracy(status, 120_000);
    assert.equal(await points(page, LOSS_CHART), 250, 'a point per step: 8,000 images in batches of 32');
    assert.equal(await points(page, 'Loss and accuracy per epoch'), 1);
    assert.ok(accuracy >= 85, `validation accuracy ${accuracy}% after one epoch`);
    await page.screenshot({ path: `${ARTIFACTS}train-panel.png` });

    // The run's gradient norms colour the canvas's layers.
    await page.getByLabel('Overlay', { exact: true }).selectOption('gradient-norm');
    await page.getByRole('img', { name: /^Overlay legend: Gradient norm from \S+ to \S+, log scale$/ }).waitFor();
    const conv1Norm = Number(await page.getByTestId('rf__node-conv1').getByTestId('overlay').textContent());
    assert.ok(conv1Norm > 0 && Number.isFinite(conv1Norm), `conv1's gradient norm: ${conv1Norm}`);
    await screenshotBothThemes(page, 'train-gradient-norms');
    await page.getByLabel('Overlay', { exact: true }).selectOption('none');

    const trained = await exportedConv1(page, 'lenet5-trained.onnx');
    assert.equal(trained.length, untrained.length);
    assert.ok(
      trained.some((v, i) => Math.abs(v - untrained[i]) > 1e-4),
      'Export ONNX writes the trained weights',
    );

    // A second run, stopped early, joins the first on the charts and in the list of runs.
    await settings.getByLabel('Optimizer').selectOption('sgd');
    assert.equal(await settings.getByLabel('Learning rate').inputValue(), '0.01', "the optimiser's default rate");
    await start.click();
    await firstPoint(page);
    await settings.getByRole('button', { name: 'Stop' }).click();
    await status.filter({ hasText: /^Done/ }).waitFor();
    const runs = page.getByRole('list', { name: 'Runs' }).getByRole('listitem');
    assert.match((await runs.nth(0).textContent())!, /^run 1: mnist, adam lr 0\.002, batch 32, 1 epoch, wasm — validation accuracy \d+\.\d%$/);
    assert.match((await runs.nth(1).textContent())!, /^run 2: mnist, sgd lr 0\.01, batch 32, 1 epoch, wasm — stopped at step \d+$/);
    const legend = await page.getByRole('figure', { name: LOSS_CHART }).textContent();
    assert.ok(legend!.includes('smoothed (run 1)') && legend!.includes('smoothed (run 2)'), legend!);
    await page.context().close();
  });

  test('trains the CA2 CNN on MNIST to at least 97% in 3 epochs, as the CLI does', async (t) => {
    const page = await openEditor(session, errors);
    await openTemplate(page, 'ca2-cnn', '661,591');
    const settings = await openTrainPanel(page);
    await fillTrainingSettings(settings, { dataset: 'mnist', optimizer: 'adam', learningRate: '0.001', batchSize: 64, epochs: 3 });
    await settings.getByRole('button', { name: 'Start' }).click();
    await pauseAndResume(page, settings, 375);
    const accuracy = await validationAccuracy(page.getByRole('status', { name: 'Training status' }), 600_000);
    assert.equal(await points(page, LOSS_CHART), 375, '3 epochs of 125 batches of 64');
    assert.equal(await points(page, 'Loss and accuracy per epoch'), 3);
    t.diagnostic(`validation accuracy ${accuracy}% after 3 epochs`);
    assert.ok(accuracy >= 97, `validation accuracy ${accuracy}% after 3 epochs`);
    await page.context().close();
  });
});
