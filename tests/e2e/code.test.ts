/**
 * The Code tab in Chromium: the model as JSON in Monaco, live both ways with the canvas, markers for
 * text that is not a model and for the Problems panel's diagnostics, the selection shared, schema-driven
 * completion and hover docs, the theme, and the read-only PyTorch and ONNX text views. Screenshots go to test-results/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import type { Download, Page } from 'playwright-core';
import { decodeSafetensors } from '../../core/graph/weights.ts';
import { ARTIFACTS, chromiumMissing, openEditor, openTemplate, startSession, stopSession, type Session } from './browser.ts';

let session: Session;
const errors: string[] = [];

const editorLines = (page: Page) => page.locator('.code-editor .view-lines');
const summaryRow = (page: Page, start: string) => page.getByRole('row', { name: new RegExp(`^${start}`) });
const shapeOf = (page: Page, id: string) => page.getByTestId(`rf__node-${id}`).getByTestId('shape').textContent();

/** Replaces the editor's whole text by pasting over it (a paste event, as the browser sends on Ctrl+V). */
async function replaceText(page: Page, text: string): Promise<void> {
  await page.locator('.code-editor .view-lines').click();
  await page.keyboard.press('Control+a');
  await page.evaluate((t) => {
    const data = new DataTransfer();
    data.setData('text/plain', t);
    document.activeElement!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
}

describe('the Code tab in Chromium', { skip: chromiumMissing }, () => {
  before(async () => {
    session = await startSession();
  });
  after(async () => {
    if (session) await stopSession(session);
    assert.deepEqual(errors, [], 'no page errors');
  });

  test('JSON in Monaco, live both ways, markers, selection, completion, theme, PyTorch and ONNX text', async () => {
    const page = await openEditor(session, errors);
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await openTemplate(page, 'ca2-cnn');
    await page.getByTestId('rf__node-conv1').waitFor();
    await page.getByRole('tab', { name: 'Code' }).click();
    await page.getByRole('textbox', { name: 'Model JSON' }).waitFor({ state: 'attached' });
    await editorLines(page).filter({ hasText: '"name": "CA2 CNN' }).waitFor();

    // Canvas → text: picking a layer in the Summary shows its text.
    await page.getByRole('tab', { name: 'Summary' }).click();
    await page.getByRole('row', { name: /^linear2 Linear/ }).click();
    await page.locator('.code-editor .selected-text').first().waitFor();
    await editorLines(page).filter({ hasText: '"id": "linear2"' }).waitFor();

    // Text → canvas, as one undoable change.
    await page.getByRole('button', { name: 'Model JSON' }).click();
    await replaceText(page, TEMPLATE_WITH_24_FILTERS);
    await summaryRow(page, 'conv1 Conv2d N×24×28×28').waitFor();
    await page.getByRole('tab', { name: 'Canvas' }).click();
    await page.getByRole('menuitem', { name: 'View' }).click();
    await page.getByRole('menuitem', { name: 'Fit' }).click();
    assert.equal(await shapeOf(page, 'conv1'), 'N×24×28×28');
    await page.getByRole('menuitem', { name: 'Edit' }).click();
    await page.getByRole('menuitem', { name: /^Undo/ }).click();
    await summaryRow(page, 'conv1 Conv2d N×20×28×28').waitFor();
    await summaryRow(page, 'linear2 Linear N×21').waitFor();
    await page.getByRole('tab', { name: 'Code' }).click();
    await editorLines(page).filter({ hasText: '"outChannels": 20' }).first().waitFor();

    // Text that is not a model: marked, and the canvas keeps the last valid model.
    await replaceText(page, '{ "format": "netloom.model", "version": 1, "name": "broken", "nodes": [ { "id": "9x", "op": "Input" } ], "edges": [] }');
    await page.getByText('1 problem in the text: the canvas keeps the last valid model').waitFor();
    await page.locator('.code-editor .squiggly-error').first().waitFor();
    await summaryRow(page, 'conv1 Conv2d N×20×28×28').waitFor();

    // A valid model with an error: the Problems panel's diagnostic as a marker on its node.
    await replaceText(page, TEMPLATE_WITH_24_FILTERS.replace('"kernelSize":5', '"kernelSize":50'));
    await page.getByRole('tab', { name: /^Problems \([1-9]/ }).waitFor();
    await page.locator('.code-editor .squiggly-error').first().waitFor();
    await page.locator('.code-editor .view-lines').click();
    await page.keyboard.press('F8'); // Go to the next problem: Monaco shows its message under the line
    await page.locator('.code-editor .marker-widget').filter({ hasText: 'conv1: output H would be' }).waitFor();
    await page.locator('.code-editor .marker-widget').filter({ hasText: 'H2 = (H1 − F + 2P)/S + 1' }).waitFor();
    await page.keyboard.press('Escape');

    // Completion from the schema: a Conv2d's params.
    await replaceText(page, '{ "format": "netloom.model", "version": 1, "name": "m", "nodes": [ { "id": "c", "op": "Conv2d", "params": { "');
    await page.keyboard.press('Control+Space');
    await page.locator('.suggest-widget').filter({ hasText: 'outChannels' }).waitFor();
    await page.keyboard.press('Escape');
    // Hover docs from the schema: the op's summary, and a param's help with its range and default.
    await replaceText(page, '{"nodes": [{"op": "Conv2d", "params": {"stride": 2}}]}');
    await page.locator('.code-editor .view-line span span', { hasText: 'Conv2d' }).first().hover();
    await page.locator('.monaco-hover').filter({ hasText: '2-D convolution: outChannels filters slid over the input.' }).waitFor();
    await page.locator('.code-editor .view-line span span', { hasText: 'stride' }).first().hover();
    await page.locator('.monaco-hover').filter({ hasText: 'Stride: Step S between windows. (1 to ∞) Default: 1.' }).waitFor();
    await replaceText(page, TEMPLATE_WITH_24_FILTERS);
    await page.getByText('Edits apply to the canvas').waitFor();

    // The theme follows the app's.
    await page.getByRole('menuitem', { name: 'View' }).click();
    await page.getByRole('menuitem', { name: 'Switch Theme' }).click();
    const theme = await page.evaluate(() => document.documentElement.dataset.theme);
    await page.locator(`.code-editor .monaco-editor.${theme === 'dark' ? 'vs-dark' : 'vs'}`).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}code-tab-json.png` });

    // Read-only views.
    await page.getByRole('button', { name: 'PyTorch' }).click();
    await page.getByRole('textbox', { name: 'PyTorch code (read-only)' }).waitFor({ state: 'attached' });
    await editorLines(page).filter({ hasText: 'class Model(nn.Module):' }).waitFor();
    await page.getByRole('button', { name: 'ONNX text' }).click();
    await page.getByRole('textbox', { name: 'ONNX text (read-only)' }).waitFor({ state: 'attached' });
    // conv1 is selected (F8 put the cursor in its text): the view shows its lowering.
    await page.getByText('Read-only: conv1').waitFor();
    await editorLines(page).filter({ hasText: '# conv1 (Conv2d): 1 ONNX node(s)' }).waitFor();
    await editorLines(page).filter({ hasText: 'conv1 = Conv <' }).waitFor();
    await page.getByRole('button', { name: 'Training step' }).click();
    await editorLines(page).filter({ hasText: '# conv1 in the training step (sgd)' }).waitFor();
    await editorLines(page).filter({ hasText: '# backward:' }).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}code-tab-training-step.png` });
    await page.getByRole('button', { name: 'Model JSON' }).click();

    // View > Code brings the tab back from the canvas.
    await page.getByRole('tab', { name: 'Canvas' }).click();
    await page.getByRole('menuitem', { name: 'View' }).click();
    await page.getByRole('menuitem', { name: 'Code' }).click();
    await page.getByRole('textbox', { name: 'Model JSON' }).waitFor({ state: 'attached' });

    // File > Export PyTorch: model.py and its weights.
    const downloads: Download[] = [];
    page.on('download', (d) => downloads.push(d));
    await page.getByRole('menuitem', { name: 'File' }).click();
    await page.getByRole('menuitem', { name: 'Export PyTorch…' }).click();
    while (downloads.length < 2) await page.waitForEvent('download');
    assert.deepEqual(
      downloads.map((d) => d.suggestedFilename()),
      ['CA2_CNN_20-50-500-21_.py', 'CA2_CNN_20-50-500-21_.safetensors'],
    );
    const code = readFileSync((await downloads[0].path())!, 'utf8');
    assert.match(code, /self\.conv1 = nn\.Conv2d\(1, 24, 5\)/);
    assert.deepEqual([...decodeSafetensors(readFileSync((await downloads[1].path())!)).weights.keys()].sort(), ['conv1.bias', 'conv1.weight']);
    assert.deepEqual(violations, []);
    await page.context().close();
  });
});

const TEMPLATE_WITH_24_FILTERS = JSON.stringify({
  format: 'netloom.model',
  version: 1,
  name: 'CA2 CNN (20-50-500-21)',
  nodes: [
    { id: 'face', op: 'Input', params: { shape: [1, 32, 32] }, position: { x: 0, y: 0 } },
    { id: 'conv1', op: 'Conv2d', params: { kernelSize: 5, outChannels: 24 }, position: { x: 0, y: 110 } },
    { id: 'relu1', op: 'ReLU', params: {}, position: { x: 0, y: 220 } },
  ],
  edges: [
    { from: 'face', to: 'conv1' },
    { from: 'conv1', to: 'relu1' },
  ],
});
