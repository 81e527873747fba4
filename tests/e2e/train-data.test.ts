/**
 * The Train panel on a person's own data in Chromium: .npy files picked together, a CSV file whose label
 * column can be chosen; deck 003's perceptron template learns a CSV file
 * of two separable classes labelled 0/1 with the perceptron optimiser (labels read as −1/+1) until no
 * point is on the wrong side; LeNet-5 trains on a folder of PNGs, one subfolder per class, resized to
 * its input; a file that cannot be read is a one-line error and the data read before stays.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { encodeNpy } from '../../core/data/npy.ts';
import { ARTIFACTS, chromiumMissing, fillTrainingSettings, openEditor, openTemplate, openTrainPanel, screenshotBothThemes, startSession, stopSession, type Session } from './browser.ts';

let session: Session;
const errors: string[] = [];
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/data/${name}`, import.meta.url));

describe('the Train panel on your own data', { skip: chromiumMissing }, () => {
  before(async () => {
    session = await startSession();
  });
  after(async () => {
    await stopSession(session);
    assert.deepEqual(errors, []);
  });

  test("deck 003's perceptron learns a CSV file of two separable classes with the perceptron optimiser", async () => {
    const page = await openEditor(session, errors);
    await openTemplate(page, 'perceptron', '2');
    const settings = await openTrainPanel(page);
    await settings.getByLabel('Dataset').selectOption('Your data…');
    const data = settings.getByRole('group', { name: 'Your data' });
    const loaded = data.getByRole('status', { name: 'Loaded data' });
    // .npy files picked together are the arrays named after them.
    const npy = (name: string, tensor: Parameters<typeof encodeNpy>[0]) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(encodeNpy(tensor)) });
    await data
      .getByLabel('Data files')
      .setInputFiles([
        npy('x.npy', { dtype: 'float32', dims: [3, 2], data: Float32Array.from([1, 1, -1, -1, 2, 0.5]) }),
        npy('y.npy', { dtype: 'int64', dims: [3], data: BigInt64Array.from([1n, 0n, 1n]) }),
      ]);
    await loaded.filter({ hasText: 'x.npy + y.npy: 3 samples of 2 · 2 classes (labels 0–1)' }).waitFor();

    // A CSV file without a header whose labels are words: its first row is data, and the panel says so.
    await data.getByLabel('Data files').setInputFiles({ name: 'points.csv', mimeType: 'text/csv', buffer: Buffer.from('0.5,1,yes\n-1,-2,no\n2,0.5,yes\n') });
    await loaded.filter({ hasText: 'points.csv: 3 samples · 2 features (column 1, column 2) · label column "column 3": 2 classes (no, yes) · no header row: the first row is data' }).waitFor();
    await screenshotBothThemes(loaded, 'train-data-no-header');

    await data.getByLabel('Data files').setInputFiles(fixture('separable.csv'));
    await loaded.filter({ hasText: 'separable.csv: 24 samples · 2 features (x1, x2) · label column "label": 2 classes (labels 0–1) · first row read as the column names' }).waitFor();
    assert.match((await loaded.textContent())!, /Validation: none; all 24 samples train/);
    assert.equal(await data.getByLabel('Label column').inputValue(), '2', 'the last column is the label');
    await data.getByLabel('Label column').selectOption('x1');
    await loaded.filter({ hasText: 'separable.csv: 24 samples · 2 features (x2, label) · label column "x1": targets of 1 per sample' }).waitFor();
    await data.getByLabel('Label column').selectOption('label');
    await loaded.filter({ hasText: 'label column "label"' }).waitFor();

    await settings.getByLabel('Optimizer').selectOption('perceptron');
    assert.equal(await settings.getByLabel('Loss').inputValue(), 'perceptron', 'the perceptron optimiser brings its loss');
    assert.equal(await settings.getByLabel('Learning rate').inputValue(), '1');
    await fillTrainingSettings(settings, { batchSize: 1, epochs: 10 });
    await settings.getByRole('button', { name: 'Start' }).click();
    await page.getByText('separable.csv: labels 0/1 mapped to −1/+1 for the perceptron loss').waitFor();
    const status = page.getByRole('status', { name: 'Training status' });
    await status.filter({ hasText: /^Done/ }).waitFor({ timeout: 60_000 });
    assert.match((await status.textContent())!, /final loss 0\.0000/, 'no point on the wrong side in the last epoch: the perceptron criterion is 0');
    assert.match((await page.getByRole('list', { name: 'Runs' }).textContent())!, /run 1: separable\.csv, perceptron lr 1, batch 1, 10 epochs/);
    await page.screenshot({ path: `${ARTIFACTS}train-data-perceptron.png` });
    await page.context().close();
  });

  test('LeNet-5 trains on a folder of PNGs, one subfolder per class; a bad file dropped is one line and the folder stays; another model reads it again for its input', async () => {
    const page = await openEditor(session, errors);
    await openTemplate(page, 'lenet5', '61,706');
    const settings = await openTrainPanel(page);
    await settings.getByLabel('Dataset').selectOption('Your data…');
    const data = settings.getByRole('group', { name: 'Your data' });
    await data.getByLabel('Image folder').setInputFiles(fixture('bars'));
    const loaded = data.getByRole('status', { name: 'Loaded data' });
    await loaded.filter({ hasText: 'bars: 6 images · 2 classes (horizontal, vertical) · resized to 1×32×32' }).waitFor();

    // Dropped on the data area (not the window, which would open it as a model).
    const dropped = await page.evaluateHandle(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['PK'], 'notes.xlsx'));
      return transfer;
    });
    await data.dispatchEvent('drop', { dataTransfer: dropped });
    assert.equal(await data.getByRole('alert').textContent(), 'notes.xlsx: Netloom reads .csv, .npz, .npy and .txt files and folders of PNG/JPEG images, not .xlsx');
    assert.match((await loaded.textContent())!, /^bars: 6 images/, 'the folder read before stays');

    await fillTrainingSettings(settings, { batchSize: 2, epochs: 2 });
    await settings.getByRole('button', { name: 'Start' }).click();
    const status = page.getByRole('status', { name: 'Training status' });
    await status.filter({ hasText: /^Done/ }).waitFor({ timeout: 60_000 });
    assert.equal(await page.getByRole('figure', { name: 'Training loss per step' }).getAttribute('data-points'), '6', 'three steps of two images per epoch');

    // Another model: the folder is read again for its input (3×227×227, colour). The trained weights
    // are an unsaved change, so opening a template asks first.
    const asked = new Promise<string>((resolve) => page.once('dialog', (d) => void d.accept().then(() => resolve(d.message()))));
    await openTemplate(page, 'alexnet-2012', '60,965,224');
    assert.equal(await asked, 'Discard the unsaved changes?');
    await loaded.filter({ hasText: 'bars: 6 images · 2 classes (horizontal, vertical) · resized to 3×227×227' }).waitFor();
    await page.context().close();
  });
});
