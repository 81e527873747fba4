/**
 * The Debug panel in a real browser: deck 001's f = (x + y)·z at −2, 5, −4, stepped with F10 forward and
 * backward, every number read from the screen; Step back, a breakpoint, the highlighted layer and the
 * values written on the edges. ONNX Runtime runs in the page (onnxruntime-web, wasm).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ARTIFACTS, chromiumMissing, openEditor, startSession, stopSession, type Session } from './browser.ts';

let session: Session;
const errors: string[] = [];

const fxyz = {
  format: 'netloom.model',
  version: 1,
  name: 'f = (x + y)·z',
  nodes: [
    { id: 'x', op: 'Input', params: { shape: [] }, position: { x: 0, y: 0 } },
    { id: 'y', op: 'Input', params: { shape: [] }, position: { x: 0, y: 160 } },
    { id: 'q', op: 'Add', params: {}, position: { x: 300, y: 80 } },
    { id: 'z', op: 'Input', params: { shape: [] }, position: { x: 300, y: 260 } },
    { id: 'f', op: 'Mul', params: {}, position: { x: 600, y: 160 } },
  ],
  edges: [
    { from: 'x', to: 'q' },
    { from: 'y', to: 'q' },
    { from: 'q', to: 'f' },
    { from: 'z', to: 'f' },
  ],
};

describe('the Debug panel in Chromium', { skip: chromiumMissing }, () => {
  before(async () => {
    session = await startSession();
  });
  after(async () => {
    if (session) await stopSession(session);
    assert.deepEqual(errors, [], 'no page errors');
  });

  test('f = (x + y)·z at −2, 5, −4: step forward and backward with F10 and read every value', async () => {
    const page = await openEditor(session, errors);
    const path = `${ARTIFACTS}fxyz.json`;
    writeFileSync(path, JSON.stringify(fxyz));
    const choosing = page.waitForEvent('filechooser');
    await page.getByRole('menuitem', { name: 'File' }).click();
    await page.getByRole('menuitem', { name: /^Open…/ }).click();
    await (await choosing).setFiles(path);
    await page.getByTestId('rf__node-f').waitFor();

    await page.getByRole('tab', { name: 'Debug' }).click();
    await page.getByLabel('Value of x').fill('-2');
    await page.getByLabel('Value of y').fill('5');
    await page.getByLabel('Value of z').fill('-4');
    const toolbar = page.getByRole('toolbar', { name: 'Debugger' });
    await toolbar.getByRole('button', { name: 'Restart' }).click();
    await toolbar.getByText('ready: press Step (F10)').waitFor();

    const trace = page.getByRole('list', { name: 'Trace' });
    const steps = trace.getByRole('listitem');
    const current = () => trace.locator('[aria-current="step"]').textContent();
    const press = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const before = await steps.count();
        await page.keyboard.press('F10');
        await assert.doesNotReject(steps.nth(before).waitFor());
      }
    };

    // Forward: x, y, q, z, f in topological order.
    await press(3);
    assert.match((await current())!, /q \(Add\): q = x \+ y = −2 \+ 5 = 3/);
    await page.locator('.react-flow__node-layer.selected[data-id="q"]').waitFor();
    await page.locator('.edge-shape', { hasText: '= 3' }).first().waitFor();
    await press(2);
    assert.match((await current())!, /f \(Mul\): f = q · z = 3 · −4 = −12/);

    // Backward, from ∂f/∂f = 1.
    await press(1);
    const atF = (await current())!;
    assert.match(atF, /upstream {3}∂L\/∂f = 1\n/);
    assert.match(atF, /Mul swaps/);
    assert.match(atF, /downstream ∂L\/∂q = −4\n/);
    assert.match(atF, /downstream ∂L\/∂z = 3/);
    await press(2);
    const atQ = (await current())!;
    assert.match(atQ, /q \(Add\)/);
    assert.match(atQ, /Add distributes/);
    assert.match(atQ, /downstream ∂L\/∂x = −4\n/);
    assert.match(atQ, /downstream ∂L\/∂y = −4/);
    await page.screenshot({ path: `${ARTIFACTS}debug-fxyz.png` });

    // Step back, then a breakpoint at f from the start.
    await toolbar.getByRole('button', { name: 'Step back' }).click();
    assert.equal(await steps.count(), 7);
    assert.match((await current())!, /^z \(Input\)/);
    await page.getByLabel('Breakpoint at f').check();
    await toolbar.getByRole('button', { name: 'Restart' }).click();
    await toolbar.getByText('ready: press Step (F10)').waitFor();
    await toolbar.getByRole('button', { name: 'Run to breakpoint' }).click();
    await toolbar.getByText(/^forward 5 of \d+$/).waitFor();
    assert.match((await current())!, /f = q · z = 3 · −4 = −12/);
    // A layer expands to its ONNX nodes.
    await toolbar.getByRole('checkbox', { name: 'ONNX nodes' }).check();
    assert.match((await current())!, /\n {4}f Mul\(q, z\) = −12/);
    await page.context().close();
  });
});
