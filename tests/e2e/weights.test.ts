/**
 * Weights travel with the document in the browser: a .netloom bundle and a .json opened with its
 * .safetensors export their own weights (checked with ONNX Runtime), a .json opened alone says its
 * weights are missing and Export asks first, and an ONNX file without its external data is refused.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { Page } from 'playwright-core';
import { serializeModel, type ModelDocument } from '../../core/index.ts';
import { decodeBundle, encodeBundle } from '../../core/graph/bundle.ts';
import { compileModel } from '../../core/convert/compile.ts';
import { encodeSafetensors, type Weights } from '../../core/graph/weights.ts';
import { encodeModelBytes, externalizeTensors } from '../../core/onnx/proto.ts';
import { ARTIFACTS, chromiumMissing, openEditor, openFiles, startSession, stopSession, type Session } from './browser.ts';

const errors: string[] = [];
const model: ModelDocument = {
  format: 'netloom.model',
  version: 1,
  name: 'tiny',
  weights: 'tiny.safetensors',
  nodes: [
    { id: 'x', op: 'Input', params: { shape: [4] } },
    { id: 'fc', op: 'Linear', params: { outFeatures: 3 } },
  ],
  edges: [{ from: 'x', to: 'fc' }],
};
/** Weights no initialiser would give. */
const trained: Weights = new Map([...compileModel(model).weights].map(([key, t]) => [key, { shape: t.shape, data: Float32Array.from(t.data, (_, i) => (i + 1) / 4) }]));
const file = (name: string, data: string | Uint8Array | Uint8Array[]) => {
  writeFileSync(`${ARTIFACTS}${name}`, Array.isArray(data) ? Buffer.concat(data) : data);
  return `${ARTIFACTS}${name}`;
};

async function outputOf(onnx: Uint8Array): Promise<number[]> {
  const session = await ort.InferenceSession.create(onnx);
  const x = new ort.Tensor('float32', Float32Array.from([1, -2, 3, 0.5]), [1, 4]);
  const result = await session.run({ [session.inputNames[0]]: x });
  return [...(result[session.outputNames[0]].data as Float32Array)];
}
const expected = () => outputOf(encodeModelBytes(compileModel(model, { weights: trained }).model));

async function exportOnnx(page: Page): Promise<Uint8Array> {
  const exporting = page.waitForEvent('download');
  await page.keyboard.press('Control+e');
  const download = await exporting;
  assert.equal(download.suggestedFilename(), 'tiny.onnx');
  const path = `${ARTIFACTS}${download.suggestedFilename()}`;
  await download.saveAs(path);
  return readFileSync(path);
}

describe('weights travel with the document in Chromium', { skip: chromiumMissing }, () => {
  let session: Session;
  let paths: { json: string; weights: string; bundle: string };
  before(async () => {
    session = await startSession();
    paths = {
      json: file('tiny.json', serializeModel(model)),
      weights: file('tiny.safetensors', encodeSafetensors(trained)),
      bundle: file('tiny.netloom', encodeBundle(model, trained)),
    };
  });
  after(async () => {
    await stopSession(session);
    assert.deepEqual(errors, [], 'no page errors');
  });

  test("a .netloom bundle opens, Export ONNX writes the bundle's weights, Save As .netloom keeps them, and Save As .json says it leaves them out", async () => {
    const page = await openEditor(session, errors);
    await openFiles(page, [paths.bundle]);
    await page.getByTestId('rf__node-fc').waitFor();
    assert.deepEqual(await outputOf(await exportOnnx(page)), await expected());

    page.once('dialog', (d) => void d.accept('copy.netloom'));
    const saving = page.waitForEvent('download');
    await page.keyboard.press('Control+Shift+S');
    const saved = await saving;
    assert.equal(saved.suggestedFilename(), 'copy.netloom');
    await saved.saveAs(`${ARTIFACTS}copy.netloom`);
    const copy = decodeBundle(readFileSync(`${ARTIFACTS}copy.netloom`));
    assert.equal(copy.doc.name, 'tiny');
    const values = (w: Weights) => Object.fromEntries([...w].map(([k, t]) => [k, [...t.data]]));
    assert.deepEqual(values(copy.weights!), values(trained));

    // Saved as .json, the document names no weights file (none is written) and the person is told.
    page.once('dialog', (d) => void d.accept('copy.json'));
    const savingJson = page.waitForEvent('download');
    await page.keyboard.press('Control+Shift+S');
    await (await savingJson).saveAs(`${ARTIFACTS}copy.json`);
    assert.equal(JSON.parse(readFileSync(`${ARTIFACTS}copy.json`, 'utf8')).weights, undefined);
    await page.getByRole('alert').filter({ hasText: 'copy.json holds the model without its weights: save as .netloom (or Export ONNX) to keep them' }).waitFor();
    await page.context().close();
  });

  test('a .json opened without its weights says so, Export asks first, and the weights can be picked after', async () => {
    const page = await openEditor(session, errors);
    const dialogs: string[] = [];
    let downloads = 0;
    page.on('download', () => downloads++);
    await openFiles(page, [paths.json]);
    const banner = page.getByRole('alert', { name: 'Missing weights' });
    await banner.waitFor();
    assert.match((await banner.textContent())!, /weights file tiny\.safetensors was not opened: running or exporting it would use fresh random weights/);

    // Export asks; declined, nothing is written.
    page.once('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.keyboard.press('Control+e');
    assert.match(dialogs[0], /The weights file tiny\.safetensors was not opened\. Export with fresh random weights instead\?/);

    // Picking the weights file completes the document: the banner goes, and Export writes those weights without asking.
    const choosing = page.waitForEvent('filechooser');
    await banner.getByRole('button', { name: 'Pick weights file…' }).click();
    await (await choosing).setFiles(paths.weights);
    await page.getByRole('alert').filter({ hasText: 'Weights from tiny.safetensors' }).waitFor();
    await banner.waitFor({ state: 'detached' });
    page.on('dialog', (d) => void dialogs.push(d.message()));
    assert.deepEqual(await outputOf(await exportOnnx(page)), await expected());
    assert.equal(dialogs.length, 1, 'Export asked only while the weights were missing');
    assert.equal(downloads, 1, 'the declined export wrote nothing');

    // The warning follows the document's weights: Undo of the opened weights brings it back, Redo hides it.
    await page.getByRole('menuitem', { name: 'Edit' }).click();
    await page.getByRole('menuitem', { name: /^Undo/ }).click();
    await banner.waitFor();
    await page.getByRole('menuitem', { name: 'Edit' }).click();
    await page.getByRole('menuitem', { name: /^Redo/ }).click();
    await banner.waitFor({ state: 'detached' });
    await page.context().close();
  });

  test('a .json and its .safetensors picked together open as one; a .json dropped with them too', async () => {
    const page = await openEditor(session, errors);
    await openFiles(page, [paths.json, paths.weights]);
    await page.getByTestId('rf__node-fc').waitFor();
    assert.equal(await page.getByRole('alert', { name: 'Missing weights' }).count(), 0);
    assert.deepEqual(await outputOf(await exportOnnx(page)), await expected());

    // Drag and drop of both files onto the window.
    await page.keyboard.press('Control+n');
    const transfer = await page.evaluateHandle(
      ([json, weights]) => {
        const dt = new DataTransfer();
        dt.items.add(new File([json], 'tiny.json', { type: 'application/json' }));
        dt.items.add(new File([new Uint8Array(weights)], 'tiny.safetensors'));
        return dt;
      },
      [readFileSync(paths.json, 'utf8'), [...readFileSync(paths.weights)]] as const,
    );
    await page.getByTestId('canvas').dispatchEvent('drop', { dataTransfer: transfer });
    await page.getByTestId('rf__node-fc').waitFor();
    assert.equal(await page.getByRole('alert', { name: 'Missing weights' }).count(), 0);
    assert.deepEqual(await outputOf(await exportOnnx(page)), await expected());
    await page.context().close();
  });

  test('an ONNX file whose weights are in external data is refused without its data file, and opens with it', async () => {
    const split = externalizeTensors(compileModel(model, { weights: trained }).model, 'tiny.onnx.data', 0);
    const onnx = file('external.onnx', encodeModelBytes(split.model));
    const data = file('tiny.onnx.data', split.data);
    const page = await openEditor(session, errors);
    await openFiles(page, [onnx]);
    await page.getByRole('alert').filter({ hasText: 'external.onnx keeps its weights in "tiny.onnx.data": open that file together with it' }).waitFor();
    assert.equal(await page.locator('.react-flow__node').count(), 0, 'nothing was imported');
    await openFiles(page, [onnx, data]);
    await page.locator('.react-flow__node').first().waitFor();
    await page.context().close();
  });
});
