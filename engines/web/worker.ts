/**
 * The browser engine's Web Worker: ONNX Runtime Web and the trainer of core/train run here, so the page
 * only sends commands and receives events. Large tensors (datasets, weights, outputs) move as
 * transferables, never copied.
 */
import { DatasetError } from '../../core/data/dataset.ts';
import { EngineError } from '../../core/engine/engine.ts';
import { CompileError } from '../../core/convert/compile.ts';
import { GradientError } from '../../core/autodiff/rules.ts';
import { fitData } from '../../core/train/fit.ts';
import { buildTrainingGraph, type TrainingGraph } from '../../core/train/step.ts';
import { stepModelBytes, train, TrainingControl, warmUp, type TrainingEvent } from '../../core/train/trainer.ts';
import { builtInData } from './datasets.ts';
import { WebEngine } from './engine.ts';
import { webgpuProblem } from './webgpu.ts';
import { buffersOf, type RunRequest, type TrainRequest, type WorkerReply, type WorkerRequest } from './protocol.ts';

const engine = new WebEngine();
const runs = new Map<number, TrainingControl>();

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  self.postMessage(message, { transfer });
}

/** Problems a person can act on, in their own words; anything else keeps its message too, without a stack. */
function describe(e: unknown): string {
  if (e instanceof EngineError || e instanceof DatasetError || e instanceof CompileError) return e.message;
  if (e instanceof GradientError) return `cannot train this model yet: ${e.message}`;
  return `internal error: ${(e as Error)?.message ?? String(e)}`;
}

async function runTraining(id: number, request: TrainRequest): Promise<void> {
  // Registered first, so that a pause or stop sent while the data loads already counts.
  const control = new TrainingControl();
  runs.set(id, control);
  try {
    await trainWith(id, request, control);
  } finally {
    runs.delete(id);
  }
}

/** A run's training graph, the provider it will run on, and its data fitted to the graph. */
async function setUp(request: TrainRequest) {
  const graph = buildTrainingGraph(request.doc, { ...request.graph, weights: request.weights });
  let options = request.options;
  const problem = options.provider === 'webgpu' ? webgpuProblem(graph.step) : null;
  if (problem && !options.allowFallback) throw new EngineError(problem);
  if (problem) options = { ...options, provider: 'wasm' };
  const { data, adapted } = 'builtIn' in request.data ? await fittedBuiltIn(request.data.builtIn, request.data.seed ?? 0, graph) : fitData(request.data, graph);
  return { graph, options, data, adapted };
}

/** Models with more weights than this are not prepared unasked (a large language model would fill the memory): Start builds them. */
const PREPARE_WEIGHT_BYTES = 256 << 20;

/** The preparation under way (see prepare), which a run waits for rather than compiling the same model beside it. */
let preparing: Promise<void> = Promise.resolve();
let latestPreparation = 0;
let preparedFor = '';

/**
 * Builds and compiles a run's training graph and warms its first step up (core/train/trainer.ts warmUp)
 * before the run is asked for: the Train panel sends its settings as they change. Only the latest request
 * counts (a run's start counts as a later one), and the same request twice is done once. A problem here
 * is reported when the run itself starts.
 */
function prepare(request: TrainRequest): void {
  const ticket = ++latestPreparation;
  preparing = preparing
    .then(async () => {
      const key = JSON.stringify(request);
      if (ticket !== latestPreparation || key === preparedFor) return;
      preparedFor = key;
      const { graph, options, data } = await setUp({ ...request, graph: { ...request.graph, memoryLimit: PREPARE_WEIGHT_BYTES } });
      // A run asked for meanwhile (maybe with other settings) compiles what it needs itself: it should not
      // wait behind a compile it may not use, nor behind a warm-up step before its own first step.
      if (ticket !== latestPreparation) return;
      await (await engine.createSession(stepModelBytes(graph), { provider: options.provider, allowFallback: options.allowFallback })).release();
      if (ticket === latestPreparation) await warmUp(engine, graph, data.train, options);
    })
    .catch(() => {});
}

async function trainWith(id: number, request: TrainRequest, control: TrainingControl): Promise<void> {
  latestPreparation++;
  await preparing;
  const { graph, options, data, adapted } = await setUp(request);
  reply({ id, prepared: { train: data.train.size, val: data.val?.size ?? null, adapted } });
  // Step events are gathered and sent once per chunk of steps: one message, not hundreds.
  let pending: TrainingEvent[] = [];
  const flush = () => {
    if (pending.length) reply({ id, events: pending });
    pending = [];
  };
  const result = await train(
    engine,
    graph,
    data,
    options,
    (e) => {
      pending.push(e);
      if (pending.length === 1) queueMicrotask(flush);
    },
    control,
  );
  flush();
  reply({ id, result }, buffersOf(result.weights.values()));
}

/**
 * The last built-in dataset fitted to a model, kept for the next run with the same data, input, target
 * and loss: fitting pads or resizes every image, which costs about as much as a few steps.
 */
let lastFitted: { key: string; fitted: ReturnType<typeof fitData> } | null = null;

async function fittedBuiltIn(name: string, seed: number, graph: TrainingGraph): Promise<ReturnType<typeof fitData>> {
  // What fitData reads: the input, target and prediction types, and the loss (among the layers' ops).
  const key = JSON.stringify([name, seed, graph.inputs[0].type, graph.target.type, graph.predictionType, graph.doc.nodes.map((n) => n.op)]);
  if (lastFitted?.key !== key) lastFitted = { key, fitted: fitData(await builtInData(name, seed), graph) };
  return lastFitted.fitted;
}

async function runModel(request: RunRequest) {
  const session = await engine.createSession(request.model, { provider: request.provider, allowFallback: request.allowFallback });
  try {
    const began = performance.now();
    const outputs = await session.run(request.feeds, request.fetches);
    return { outputs, provider: session.provider, milliseconds: performance.now() - began };
  } finally {
    await session.release();
  }
}

self.addEventListener('message', async (event: MessageEvent<WorkerRequest>) => {
  const message = event.data;
  try {
    if (message.op === 'providers') reply({ id: message.id, result: await engine.providers() });
    else if (message.op === 'train') await runTraining(message.id, message.request);
    else if (message.op === 'prepare') {
      prepare(message.request);
      reply({ id: message.id, result: null });
    } else if (message.op === 'run') {
      const result = await runModel(message.request);
      reply({ id: message.id, result }, buffersOf(Object.values(result.outputs)));
    } else if (message.op === 'control') {
      const control = runs.get(message.run);
      if (control && message.action === 'pause') {
        control.pause();
        void control.parked().then(() => reply({ id: message.run, parked: true }));
      } else if (control && message.action === 'resume') control.resume();
      else if (control) control.stop();
      reply({ id: message.id, result: null });
    }
  } catch (e) {
    reply({ id: message.id, error: describe(e) });
  }
});
