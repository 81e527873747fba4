/**
 * Rough edges a new user met in the Run and Train panels (an audit in Chromium, light and dark): the canvas
 * overlay's legend fits its box, a feature-map legend says which scale the maps use, heatmaps fit the
 * inspector (a vector as a strip one can see), and the training charts' axes are readable on the dark theme.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { loadImageFolder } from '../../cli/datasets.ts';
import { tensorStats } from '../../core/data/stats.ts';
import { ARTIFACTS, chromiumMissing, fillTrainingSettings, frames, openEditor, openTemplate, openTrainPanel, startSession, stopSession, type Session } from './browser.ts';

let session: Session;
const errors: string[] = [];

/**
 * The darkest and the lightest luminance (0 black, 1 white) of what a chart drew left of its plot area:
 * the y-axis's tick values, label and ticks. A string, so that no bundler helper is sent into the page.
 */
const axisInk = (page: Page, chart: string) =>
  page.evaluate(`(() => {
    const figure = document.querySelector('[aria-label="${chart}"]');
    const canvas = figure.querySelector('canvas');
    const ratio = canvas.width / canvas.clientWidth;
    // Stopping 6 px short of the plot: the points at its left edge (filled white) reach a little past it.
    const left = Math.floor((figure.querySelector('.u-over').offsetLeft - 6) * ratio);
    const pixels = canvas.getContext('2d').getImageData(0, 0, left, canvas.height).data;
    let darkest = 1, lightest = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i + 3] < 200) continue;
      const y = (0.2126 * pixels[i] + 0.7152 * pixels[i + 1] + 0.0722 * pixels[i + 2]) / 255;
      darkest = Math.min(darkest, y);
      lightest = Math.max(lightest, y);
    }
    return { darkest, lightest };
  })()`) as Promise<{ darkest: number; lightest: number }>;

describe('first use of the Run and Train panels', { skip: chromiumMissing }, () => {
  before(async () => {
    session = await startSession();
  });
  after(async () => {
    await stopSession(session);
    assert.deepEqual(errors, []);
  });

  test("the overlay's legend fits inside the overlay's box; a feature-map legend says when each map has its own scale; heatmaps fit the inspector", async () => {
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

    // conv1's feature maps: the legend gives the shared scale, and says so when each map has its own.
    await page.getByTestId('rf__node-conv1').click();
    const view = page.getByRole('region', { name: 'Tensor conv1 output' });
    const stats = (await view.getByLabel('Statistics of conv1 output').textContent())!;
    const [, min, max] = /min (\S+) · max (\S+)/.exec(stats)!;
    await view.getByRole('img', { name: `Colour scale of every map: ${min} to ${max}` }).waitFor();
    await view.getByLabel('Scale each map on its own').check();
    await view.getByRole('img', { name: 'Colour scale: each map from its own minimum to its own maximum' }).waitFor();
    assert.match((await view.getByRole('img', { name: /^channel 0: / }).getAttribute('aria-label'))!, /^channel 0: -?[\d.e+-]+ to -?[\d.e+-]+$/, "a map's own range");
    await view.screenshot({ path: `${ARTIFACTS}first-use-per-tile.png` });

    // A dense layer: its 500 outputs as a strip one can see, and its 500×1250 weights within the inspector.
    await page.getByPlaceholder('Find layer (Ctrl+F)').fill('linear1');
    await page.getByPlaceholder('Find layer (Ctrl+F)').press('Enter');
    const tensors = page.getByRole('region', { name: 'Tensors of this layer' });
    const inspector = (await tensors.boundingBox())!;
    const output = (await tensors.getByRole('img', { name: 'linear1 output as a 1×500 heatmap' }).boundingBox())!;
    assert.ok(output.height >= 12, `the 1×500 output is ${output.height} px tall`);
    for (const heatmap of ['linear1 output as a 1×500 heatmap', 'linear1.weight as a 500×1250 heatmap']) {
      const b = (await tensors.getByRole('img', { name: heatmap }).boundingBox())!;
      assert.ok(b.x >= inspector.x && b.x + b.width <= inspector.x + inspector.width, `${heatmap}: ${b.x}–${b.x + b.width} inside the inspector (${inspector.x}–${inspector.x + inspector.width})`);
    }
    await tensors.screenshot({ path: `${ARTIFACTS}first-use-dense.png` });
    await page.context().close();
  });

  test('a model without an image input runs at once on seeded random values, with no file to choose first', async () => {
    const page = await openEditor(session, errors);
    await openTemplate(page, 'mlp-3-4-2');
    await page.getByRole('tab', { name: 'Run' }).click();
    assert.equal(await page.getByLabel('Input source').inputValue(), 'random');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByLabel('Latency').waitFor();
    assert.equal(await page.getByRole('tabpanel', { name: 'Run' }).getByRole('alert').count(), 0);
    assert.match((await page.getByRole('status', { name: 'Prediction' }).textContent())!, /^Prediction: [01] \(\d+\.\d%\)/);
    await page.context().close();
  });

  test('an image file runs as the same image trains: resized to the input, light bars on dark stay light on dark', async () => {
    const folder = fileURLToPath(new URL('../fixtures/data/bars', import.meta.url));
    // What `netloom train --data bars/` and the Train panel's Image folder make of bars/vertical/0.png.
    const { dataset } = await loadImageFolder(folder, { dtype: 'float32', shape: ['N', 1, 32, 32] });
    const trained = tensorStats((dataset.x.data as Float32Array).slice(3 * 1024, 4 * 1024));
    const page = await openEditor(session, errors);
    await openTemplate(page, 'ca2-cnn');
    await page.getByRole('tab', { name: 'Run' }).click();
    await page.getByLabel('Input source').selectOption('image');
    await page.getByLabel('Image file').setInputFiles(`${folder}/vertical/0.png`);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByLabel('Latency').waitFor();
    await page.getByTestId('rf__node-face').click();
    const [, min, max, mean] = /min (\S+) · max (\S+) · mean (\S+)/.exec((await page.getByLabel('Statistics of face output').textContent())!)!.map(Number);
    for (const [what, shown, expected] of [
      ['min', min, trained.min],
      ['max', max, trained.max],
      ['mean', mean, trained.mean],
    ] as const) {
      assert.ok(Math.abs(shown - expected) < 1e-4, `the input's ${what} is ${shown}; the training sample's ${expected}`);
    }
    await page.context().close();
  });

  test("a layer with several outputs names each by its port (an LSTM's output, h and c), not by its number", async () => {
    const page = await openEditor(session, errors);
    await openTemplate(page, 'char-lstm');
    await page.getByRole('tab', { name: 'Run' }).click();
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByLabel('Latency').waitFor();
    await page.getByPlaceholder('Find layer (Ctrl+F)').fill('lstm1');
    await page.getByPlaceholder('Find layer (Ctrl+F)').press('Enter');
    const tensors = page.getByRole('region', { name: 'Tensors of this layer' });
    for (const port of ['output', 'h', 'c']) await tensors.getByRole('region', { name: `Tensor lstm1 ${port}`, exact: true }).waitFor();
    assert.equal(await tensors.getByRole('region', { name: /^Tensor lstm1:\d$/ }).count(), 0);
    await page.context().close();
  });

  test('the Train panel keeps its status and its buttons in view while its settings scroll', async () => {
    const page = await openEditor(session, errors);
    await openTemplate(page, 'lenet5');
    const settings = await openTrainPanel(page);
    const panel = (await page.getByRole('tabpanel', { name: 'Train' }).boundingBox())!;
    const start = settings.getByRole('button', { name: 'Start' });
    await start.scrollIntoViewIfNeeded();
    const inView = async (name: string, box: { y: number; height: number }) =>
      assert.ok(box.y >= panel.y && box.y + box.height <= panel.y + panel.height, `${name} (${box.y}–${box.y + box.height}) in the panel's view (${panel.y}–${panel.y + panel.height})`);
    await inView('Start', (await start.boundingBox())!);
    await inView('the training status', (await page.getByRole('status', { name: 'Training status' }).boundingBox())!);
    await inView('the progress bar', (await page.getByRole('progressbar', { name: 'Training progress' }).boundingBox())!);
    // The settings scroll under Start, Pause, Resume and Stop, which stay in view from any scroll position.
    await settings.evaluate((form) => (form.scrollTop = 0));
    await inView('Stop', (await settings.getByRole('button', { name: 'Stop' }).boundingBox())!);
    await page.screenshot({ path: `${ARTIFACTS}first-use-train-panel.png` });
    await page.context().close();
  });

  test("the training charts' axes are drawn in the theme's text colour: dark on light, light on dark; the data's adaptation reads right", async () => {
    const page = await openEditor(session, errors);
    // The Train tab stays open across a reload: its empty charts are made before the theme is applied.
    const settings = await openTrainPanel(page);
    await page.reload();
    await settings.waitFor();
    await frames(page);
    assert.deepEqual(errors, [], 'no page errors after a reload with the Train tab open');
    // Deck 003's perceptron on the two moons: a few steps, so that both charts draw their axes.
    await openTemplate(page, 'perceptron');
    await page.getByRole('status').filter({ hasText: 'Total params: 2 ' }).waitFor();
    await fillTrainingSettings(settings, { dataset: 'moons', optimizer: 'perceptron', epochs: 2 });
    await settings.getByRole('button', { name: 'Start' }).click();
    await page.getByRole('status', { name: 'Training status' }).filter({ hasText: /^Done/ }).waitFor();
    // What was done to the data reads right for labels too (it said "… for the perceptron loss to fit the model's input").
    await page.getByText('moons: labels 0/1 mapped to −1/+1 for the perceptron loss, to fit the model.', { exact: true }).waitFor();
    for (const chart of ['Training loss per step', 'Loss and accuracy per epoch']) {
      await page.emulateMedia({ colorScheme: 'light' });
      await page.getByRole('figure', { name: chart }).waitFor();
      const { darkest } = await axisInk(page, chart);
      assert.ok(darkest < 0.3, `${chart}: the axis text's luminance is ${darkest} on the light theme`);
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
      await frames(page);
      const { lightest } = await axisInk(page, chart);
      assert.ok(lightest > 0.7, `${chart}: the axis text's luminance is ${lightest} on the dark theme`);
    }
    await page.getByRole('figure', { name: 'Loss and accuracy per epoch' }).screenshot({ path: `${ARTIFACTS}first-use-chart-dark.png` });
    await page.context().close();
  });
});
