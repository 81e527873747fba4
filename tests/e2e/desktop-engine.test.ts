/**
 * The app in desktop mode, in Chromium: the window's engine is onnxruntime-node, as in Electron's utility
 * process. Electron cannot be installed here, so the page gets `window.netloom` before it loads, and the
 * bridge's two engine calls go through a Playwright binding to this process, where the main process's
 * routes (electron/engine-routes.ts) and the utility process's service (electron/engine-service.ts) run
 * on the real onnxruntime-node. The bridge's file calls answer "nothing" (no file is opened or saved here),
 * and its menu commands are chosen by the test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { EngineRoutes } from '../../electron/engine-routes.ts';
import { desktopEngineService } from '../../electron/engine-service.ts';
import type { NodeEngine } from '../../engines/node/engine.ts';
import type { WorkerReply } from '../../engines/web/protocol.ts';
import { ARTIFACTS, chromiumMissing, fillTrainingSettings, openTrainPanel, startSession, stopSession, type Session } from './browser.ts';

const errors: string[] = [];

// Electron's IPC carries Maps (weights) as structured clones do; Playwright's bindings do not, so both
// ends of this stand-in wrap them. Strings, so that no bundler helper is sent into the page.
const CODEC = `
  const encode = (v) =>
    v instanceof Map ? { __map: [...v].map(([k, x]) => [k, encode(x)]) }
    : v === null || typeof v !== 'object' || ArrayBuffer.isView(v) ? v
    : Array.isArray(v) ? v.map(encode)
    : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  const decode = (v) =>
    v === null || typeof v !== 'object' || ArrayBuffer.isView(v) ? v
    : Array.isArray(v) ? v.map(decode)
    : '__map' in v ? new Map(v.__map.map(([k, x]) => [k, decode(x)]))
    : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));`;
const { encode, decode } = new Function(`${CODEC}; return { encode, decode };`)() as { encode(v: unknown): unknown; decode(v: unknown): unknown };

// The preload bridge as the page sees it.
const BRIDGE = `(() => {${CODEC}
  const listeners = new Set();
  window.__engineReply = (reply) => listeners.forEach((listener) => listener(decode(reply)));
  const nothing = async () => null;
  window.netloom = {
    openFile: nothing, saveFile: nothing, exportOnnx: nothing, exportPyTorch: nothing, readRecovery: nothing,
    writeRecovery: async () => {}, clearRecovery: async () => {}, takePendingDocument: nothing,
    setTitle: () => {},
    // The native menu's commands (the test chooses them as a person would from the menu).
    onCommand(handler) {
      window.__menu = handler;
      return () => {};
    },
    engineRequest: (request) => void window.__engineRequest(encode(request)),
    onEngineReply(handler) {
      listeners.add(handler);
      return () => listeners.delete(handler);
    },
  };
})()`;

/** A page of the app in desktop mode, its engine requests answered here in order. */
async function openDesktop(session: Session): Promise<{ page: Page; engine: NodeEngine; dispose: () => Promise<void> }> {
  const context = await session.browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  const routes = new EngineRoutes();
  let delivered = Promise.resolve();
  // Replies reach the page in the order the engine sent them (events before the result).
  const toPage = (reply: WorkerReply) => {
    delivered = delivered
      .then(() => page.evaluate((r) => (window as unknown as { __engineReply(r: unknown): void }).__engineReply(r), encode(reply)))
      .catch((e: Error) => void errors.push(`a reply did not reach the page: ${e.message}`));
  };
  const { service, engine } = desktopEngineService((message) => {
    const routed = routes.fromEngine(message);
    if (routed) toPage(routed.reply);
  });
  await page.exposeBinding('__engineRequest', (_source, payload: unknown) => {
    const routed = routes.fromWindow(1, decode(payload));
    if ('toWindow' in routed) toPage(routed.toWindow);
    else void service.handle(routed.toEngine);
  });
  await page.addInitScript(BRIDGE);
  await page.goto(session.url);
  await page.getByRole('tab', { name: 'Train' }).waitFor();
  return {
    page,
    engine,
    dispose: async () => {
      await context.close();
      await engine.dispose();
    },
  };
}

describe('the desktop engine in the app', { skip: chromiumMissing }, () => {
  let session: Session;
  before(async () => (session = await startSession()));
  after(async () => {
    await stopSession(session);
    assert.deepEqual(errors, [], 'no page errors');
  });

  test('the provider picker lists cpu, webgpu, cuda and dml with reasons; LeNet-5 trains on MNIST and runs, on the CPU of onnxruntime-node', async () => {
    const { page, engine, dispose } = await openDesktop(session);
    await page.evaluate(() => (window as unknown as { __menu(command: string): void }).__menu('new-from-template'));
    await page.getByRole('button', { name: 'Template lenet5' }).click();
    const settings = await openTrainPanel(page);
    const picker = settings.getByLabel('Provider');
    await picker.locator('option', { hasText: 'dml' }).waitFor({ state: 'attached' });
    const statuses = await engine.providers();
    const expected = statuses.map((s) => `${s.provider}${s.available ? '' : ' (unavailable)'}`);
    assert.deepEqual(await picker.locator('option').allTextContents(), expected);
    assert.deepEqual(
      expected.map((e) => e.split(' ')[0]),
      ['cpu', 'webgpu', 'cuda', 'dml'],
    );
    assert.equal(await picker.inputValue(), 'cpu');
    // Each unavailable provider says why (on Linux at least "dml: DirectML is available on Windows only").
    const unavailable = statuses.filter((s) => !s.available);
    await settings.getByText(`Not available here: ${unavailable.map((s) => s.provider).join(', ')}`).click();
    for (const s of unavailable) await settings.getByText(`${s.provider}: ${s.detail}`).waitFor();
    if (process.platform === 'linux') assert.ok(statuses.some((s) => s.provider === 'dml' && s.detail === 'DirectML is available on Windows only'));

    await fillTrainingSettings(settings, { dataset: 'mnist', learningRate: '0.002', batchSize: 32, epochs: 1 });
    await settings.getByRole('button', { name: 'Start' }).click();
    await page.getByText('mnist: zero-padded 28×28 to 32×32, centred, to fit the model.').waitFor();
    const status = page.getByRole('status', { name: 'Training status' });
    await status.filter({ hasText: /^Done/ }).waitFor({ timeout: 120_000 });
    const accuracy = Number(/validation accuracy ([\d.]+)%/.exec((await status.textContent())!)![1]);
    assert.ok(accuracy >= 85, `validation accuracy ${accuracy}% after one epoch`);
    await page.screenshot({ path: `${ARTIFACTS}desktop-train-panel.png` });

    await page.getByRole('tab', { name: 'Run' }).click();
    await page.getByLabel('Input source').selectOption('sample');
    await page.getByLabel('Sample index').fill('3');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByRole('status', { name: 'Prediction' }).waitFor();
    assert.match((await page.getByLabel('Latency').textContent())!, /Ran on cpu in [\d.]+ ms/);
    await dispose();
  });
});
