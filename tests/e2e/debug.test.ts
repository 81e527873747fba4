/**
 * The Debug panel in a real browser: deck 001's f = (x + y)·z at −2, 5, −4, stepped with F10 forward and
 * backward, every number read from the screen; Step back, a breakpoint, the highlighted layer and the
 * values written on the edges. ONNX Runtime runs in the page (onnxruntime-web, wasm).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ARTIFACTS, chromiumMissing, openEditor, openFiles, openTemplate, screenshotBothThemes, startSession, stopSession, viewportSettled, type Session } from './browser.ts';

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

/** Deck 003: ŷ = sign₊(⟨w, x⟩), no bias; the target y is an input the perceptron criterion reads. */
const perceptron = {
  format: 'netloom.model',
  version: 1,
  name: 'perceptron',
  nodes: [
    { id: 'x', op: 'Input', params: { shape: [2] }, position: { x: 0, y: 0 } },
    { id: 'w', op: 'Linear', params: { outFeatures: 1, bias: false }, position: { x: 300, y: 0 } },
    { id: 'decide', op: 'Sign', params: { atZero: 1 }, position: { x: 600, y: 0 } },
    { id: 'y', op: 'Input', params: { shape: [1] }, position: { x: 300, y: 200 } },
    { id: 'loss', op: 'PerceptronLoss', params: {}, position: { x: 600, y: 200 } },
  ],
  edges: [
    { from: 'x', to: 'w' },
    { from: 'w', to: 'decide' },
    { from: 'w', to: 'loss:input' },
    { from: 'y', to: 'loss:target' },
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
    await openFiles(page, path);
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

  test("deck 003's perceptron from w = (0, 0): x = (1, −1), y = −1 is a mistake and w becomes (−1, 1); then x = (−1, 1), y = +1 is a match", async () => {
    const page = await openEditor(session, errors);
    const path = `${ARTIFACTS}perceptron.json`;
    writeFileSync(path, JSON.stringify(perceptron));
    await openFiles(page, path);
    await page.getByTestId('rf__node-decide').waitFor();

    await page.getByRole('tab', { name: 'Debug' }).click();
    await page.getByLabel('Optimizer').selectOption('perceptron');
    await page.getByText('Start parameters').click();
    const toolbar = page.getByRole('toolbar', { name: 'Debugger' });
    const trace = page.getByRole('list', { name: 'Trace' });
    const observe = async (x: string, y: string, w: string) => {
      await page.getByLabel('Value of x').fill(x);
      await page.getByLabel('Value of y').fill(y);
      await page.getByLabel('Start value of w.weight').fill(w);
      await toolbar.getByRole('button', { name: 'Restart' }).click();
      await toolbar.getByText('ready: press Step (F10)').waitFor();
      await toolbar.getByRole('button', { name: 'Run to breakpoint' }).click();
      await toolbar.getByText(/^update (\d+) of \1$/).waitFor();
      return (await trace.textContent())!;
    };
    const mistake = await observe('[1, -1]', '-1', '[0, 0]');
    assert.match(mistake, /decide = Sign\(w\) = Sign\(\[0\]\) = \[1\]/, 'ŷ = sign₊(0) = +1');
    assert.match(mistake, /update \(perceptron, η = 1\): the perceptron rule/);
    assert.match(mistake, /w\.weight: \[0, 0\] → \[−1, 1\]/);
    await page.screenshot({ path: `${ARTIFACTS}debug-perceptron.png` });
    const match = await observe('[-1, 1]', '1', '[-1, 1]');
    assert.match(match, /decide = Sign\(w\) = Sign\(\[2\]\) = \[1\]/);
    assert.match(match, /w\.weight: \[−1, 1\] → \[−1, 1\]/, 'a match leaves w alone');
    await page.context().close();
  });

  test('the gradient-norm overlay: a deep sigmoid MLP stepped in the Debug panel shows its first layer orders of magnitude below its last', async () => {
    const page = await openEditor(session, errors);
    const nodes: object[] = [{ id: 'x', op: 'Input', params: { shape: [4] }, position: { x: 0, y: 0 } }];
    const edges: object[] = [];
    let previous = 'x';
    for (let l = 1; l <= 6; l++) {
      nodes.push({ id: `fc${l}`, op: 'Linear', params: { outFeatures: l === 6 ? 1 : 4 }, position: { x: 250 * (2 * l - 1), y: 0 } });
      edges.push({ from: previous, to: `fc${l}` });
      previous = `fc${l}`;
      if (l === 6) break;
      nodes.push({ id: `s${l}`, op: 'Sigmoid', params: {}, position: { x: 250 * 2 * l, y: 120 } });
      edges.push({ from: previous, to: `s${l}` });
      previous = `s${l}`;
    }
    const path = `${ARTIFACTS}deep-sigmoid.json`;
    writeFileSync(path, JSON.stringify({ format: 'netloom.model', version: 1, name: 'deep sigmoid', nodes, edges }));
    await openFiles(page, path);
    // The model opens readable at 100 % from its input; fit it so that every layer is drawn.
    await page.getByTestId('rf__node-fc1').waitFor();
    await page.keyboard.press('Control+0');
    await viewportSettled(page);
    await page.getByTestId('rf__node-fc6').waitFor();

    await page.getByLabel('Overlay', { exact: true }).selectOption('gradient-norm');
    await page.getByText('Train the model (Train panel) or step it in the Debug panel (Restart) to see its gradient norms.').waitFor();
    await page.getByRole('tab', { name: 'Debug' }).click();
    await page.getByLabel('Value of x').fill('[1, -2, 3, -4]');
    await page.getByRole('toolbar', { name: 'Debugger' }).getByRole('button', { name: 'Restart' }).click();
    await page.getByRole('img', { name: /^Overlay legend: Gradient norm from \S+ to \S+, log scale$/ }).waitFor();
    const norm = async (id: string) => Number(await page.getByTestId(`rf__node-${id}`).getByTestId('overlay').textContent());
    const first = await norm('fc1');
    const last = await norm('fc6');
    assert.ok(first > 0 && first < last / 100, `‖∂L/∂W‖: fc1 ${first}, fc6 ${last}`);
    await screenshotBothThemes(page.getByTestId('canvas'), 'overlay-gradient-norm');
    await page.getByLabel('Overlay', { exact: true }).selectOption('none');
    assert.equal(await page.getByTestId('overlay').count(), 0, 'no overlay once switched off');
    await page.context().close();
  });

  test('the CA2 CNN on an MNIST digit: conv1 shows its 20 feature maps forward and their gradient backward', async () => {
    const page = await openEditor(session, errors);
    await openTemplate(page, 'ca2-cnn');
    await page.getByRole('tab', { name: 'Debug' }).click();
    await page.getByLabel('Example source').selectOption('mnist');
    await page.getByLabel('Sample index').fill('3');
    await page.getByLabel('Breakpoint at conv1').check();
    const toolbar = page.getByRole('toolbar', { name: 'Debugger' });
    await toolbar.getByRole('button', { name: 'Restart' }).click();
    await toolbar.getByText('ready: press Step (F10)').waitFor();

    await toolbar.getByRole('button', { name: 'Run to breakpoint' }).click();
    await toolbar.getByText(/^forward 2 of \d+$/).waitFor();
    const maps = page.getByRole('group', { name: 'conv1 output: 20 feature maps of 28×28' });
    assert.equal(await maps.getByRole('img').count(), 20);
    assert.match((await page.getByLabel('Statistics of conv1 output').textContent())!, /NaN 0 · Inf 0/);
    for (const theme of ['dark', 'light']) {
      await page.emulateMedia({ colorScheme: theme as 'dark' | 'light' });
      await maps.scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${ARTIFACTS}debug-ca2-conv1-${theme}.png` });
    }

    await toolbar.getByRole('button', { name: 'Run to breakpoint' }).click();
    await toolbar.getByText(/^backward \d+ of \d+$/).waitFor();
    const current = page.getByRole('list', { name: 'Trace' }).locator('[aria-current="step"]');
    assert.match((await current.locator('pre').textContent())!, /^conv1 \(Conv2d\)/);
    const gradient = page.getByRole('group', { name: '∂L/∂conv1: 20 feature maps of 28×28' });
    assert.equal(await gradient.getByRole('img').count(), 20);
    assert.equal(await page.getByRole('group', { name: '∂L/∂conv1.weight: 20 feature maps of 5×5' }).getByRole('img').count(), 20, "conv1's kernel gradients as tiles");
    const stats = (await page.getByLabel('Statistics of ∂L/∂conv1', { exact: true }).textContent())!;
    assert.doesNotMatch(stats, /min 0 · max 0/, 'a gradient reaches conv1');
    await gradient.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${ARTIFACTS}debug-ca2-conv1-gradient.png` });
    await page.context().close();
  });
});
