/**
 * The Run panel as a person uses it: open the CA2 CNN, run it on an MNIST sample and on a drawn digit in the
 * browser engine, read the prediction, and select conv1 to see its 20 feature maps and its kernels.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { ARTIFACTS, chromiumMissing, openEditor, openTemplate, startSession, stopSession, type Session } from './browser.ts';

const errors: string[] = [];
const shot = (page: Page, name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png` });

describe('the Run panel in Chromium', { skip: chromiumMissing }, () => {
  let session: Session;
  before(async () => (session = await startSession()));
  after(async () => {
    await stopSession(session);
    assert.deepEqual(errors, [], 'no page errors');
  });

  test('runs the CA2 CNN on an MNIST sample and a drawn digit; conv1 shows 20 feature maps and its kernels', async () => {
    const page = await openEditor(session, errors);
    await openTemplate(page, 'ca2-cnn');
    await page.getByRole('tab', { name: 'Run' }).click();

    // A dataset sample: 28×28 digits are padded to the model's 32×32, and the panel says so.
    await page.getByLabel('Input source').selectOption('sample');
    await page.getByLabel('Sample index').fill('3');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const prediction = page.getByRole('status', { name: 'Prediction' });
    await prediction.waitFor();
    assert.match((await prediction.textContent())!, /Prediction: \S+ \(\d+\.\d%\) · label \d · top 3: /);
    assert.equal(await page.getByRole('list', { name: 'Class probabilities' }).getByRole('listitem').count(), 21, "the CA2 CNN's 21 classes");
    assert.match((await page.getByLabel('Latency').textContent())!, /Ran on wasm in [\d.]+ ms · input zero-padded 28×28 to 32×32, centred/);

    // The tensor views of a layer: its output as one tile per channel, and its weights.
    await page.getByTestId('rf__node-conv1').click();
    const maps = page.getByRole('group', { name: 'conv1 output: 20 feature maps of 28×28' });
    await maps.waitFor();
    assert.equal(await maps.getByRole('img').count(), 20);
    assert.match((await page.getByLabel('Statistics of conv1 output').textContent())!, /min -?[\d.e-]+ · max [\d.e-]+ · mean -?[\d.e-]+ · std [\d.e-]+ · NaN 0 · Inf 0/);
    assert.equal(await page.getByRole('group', { name: 'conv1.weight: 20 feature maps of 5×5' }).getByRole('img').count(), 20, "conv1's kernels (20 × 1 input channel)");
    await shot(page, 'run-panel-sample');

    // A drawn digit runs when the stroke ends.
    await page.getByRole('tab', { name: 'Run' }).click();
    await page.getByLabel('Input source').selectOption('draw');
    const pad = (await page.getByRole('img', { name: 'Drawing pad' }).boundingBox())!;
    await page.mouse.move(pad.x + pad.width * 0.5, pad.y + pad.height * 0.2);
    await page.mouse.down();
    await page.mouse.move(pad.x + pad.width * 0.5, pad.y + pad.height * 0.8, { steps: 8 });
    await page.mouse.up();
    await page.getByLabel('Latency').filter({ hasNotText: 'zero-padded' }).waitFor();
    assert.match((await prediction.textContent())!, /Prediction: \S+ \(\d+\.\d%\) · top 3: /);
    await shot(page, 'run-panel-drawn');
    await page.context().close();
  });

  test('generates text from the char-GPT template: the same seed gives the same text as netloom generate', async () => {
    const cli = execFileSync(process.execPath, ['bin/netloom.js', 'generate', '--template', 'char-gpt', '--prompt', 'Shall I', '--length', '30', '--seed', '4', '--temperature', '100'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).replace(/\n$/, '');
    const page = await openEditor(session, errors);
    await openTemplate(page, 'char-gpt');
    await page.getByRole('tab', { name: 'Run' }).click();
    const generated = page.getByRole('status', { name: 'Generated text' });
    const generateWith = async (seed: string) => {
      await page.getByLabel('Prompt').fill('Shall I');
      await page.getByLabel('Length').fill('30');
      await page.getByLabel('Temperature').fill('100');
      await page.getByLabel('Generation seed').fill(seed);
      await page.getByRole('button', { name: 'Generate', exact: true }).click();
      await page.getByRole('button', { name: 'Generate', exact: true }).waitFor();
      await generated.waitFor();
      return (await generated.textContent())!;
    };
    assert.equal(await generateWith('4'), cli, 'the app and the CLI sample the same tokens');
    assert.notEqual(await generateWith('3'), cli, 'another seed, other text');
    await shot(page, 'run-panel-generate');
    await page.context().close();
  });
});
