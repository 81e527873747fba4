// The onnxruntime-node side of the Node engine. It runs in a worker thread, because a session's run()
// blocks the thread it is on; plain JavaScript so that it loads without the TypeScript loader.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const sessions = new Map();
// Per session: carried inputs (ORT tensors kept here between runs) and which output feeds each of them.
const carried = new Map();
let nextId = 1;

const PROVIDER_NAMES = { cpu: 'cpu', cuda: 'cuda', dml: 'dml', webgpu: 'webgpu' };

// ONNX Runtime's own warnings (unused initializers, fallbacks it handles) are not for the person running
// Netloom: only its errors are logged, and those also come back as exceptions with a message.
const ERROR_ONLY = 3;
ort.env.logLevel = 'error';

function toOrt(t) {
  return new ort.Tensor(t.dtype, t.data, t.dims);
}

function fromOrt(t) {
  return { dtype: t.type, dims: [...t.dims], data: t.data };
}

const handlers = {
  // From the model's bytes, or from its file (a model past 2 GB, whose external data ONNX Runtime reads itself).
  async create({ bytes, path, provider, optimization = 'all' }) {
    // ONNX Runtime refuses an undefined level ("graphOptimizationLevel must be a string"): the provider probe gives none.
    const session = await ort.InferenceSession.create(path ?? bytes, {
      executionProviders: [PROVIDER_NAMES[provider] ?? provider],
      graphOptimizationLevel: optimization,
      logSeverityLevel: ERROR_ONLY,
    });
    const id = nextId++;
    sessions.set(id, session);
    return { result: { id, inputNames: session.inputNames, outputNames: session.outputNames } };
  },
  async run({ id, feeds, fetches }) {
    const session = sessions.get(id);
    if (!session) throw new Error('the session was released');
    const state = carried.get(id);
    const input = { ...state?.values, ...Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, toOrt(t)])) };
    const loopOutputs = state ? Object.values(state.loop) : [];
    const wanted = fetches ? [...new Set([...fetches, ...loopOutputs])] : undefined;
    const output = wanted ? await session.run(input, wanted) : await session.run(input);
    if (state) for (const [inputName, outputName] of Object.entries(state.loop)) state.values[inputName] = output[outputName];
    const returned = Object.entries(output).filter(([name]) => !loopOutputs.includes(name) || fetches?.includes(name));
    const result = Object.fromEntries(returned.map(([name, t]) => [name, fromOrt(t)]));
    return { result, transfer: Object.values(result).map((t) => t.data.buffer) };
  },
  async carry({ id, initial, loop }) {
    carried.set(id, { values: Object.fromEntries(Object.entries(initial).map(([name, t]) => [name, toOrt(t)])), loop });
    return { result: null };
  },
  async carried({ id, names }) {
    const values = carried.get(id)?.values ?? {};
    const result = Object.fromEntries(
      Object.entries(values)
        .filter(([name]) => !names || names.includes(name))
        .map(([name, t]) => [name, fromOrt(t)]),
    );
    // Copies: the kept tensors stay usable here.
    for (const t of Object.values(result)) t.data = t.data.slice();
    return { result, transfer: Object.values(result).map((t) => t.data.buffer) };
  },
  async release({ id }) {
    await sessions.get(id)?.release();
    sessions.delete(id);
    carried.delete(id);
    return { result: null };
  },
};

parentPort.on('message', async ({ id, op, args }) => {
  try {
    const { result, transfer = [] } = await handlers[op](args);
    parentPort.postMessage({ id, result }, transfer);
  } catch (e) {
    parentPort.postMessage({ id, error: String(e?.message ?? e) });
  }
});
