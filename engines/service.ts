/**
 * The engine that serves the app's panels, wherever it runs: the browser's Web Worker (web/worker.ts, on
 * onnxruntime-web) and the desktop's utility process (electron/engine-host.ts, on onnxruntime-node) each
 * run one over their own Engine. It answers the messages of web/protocol.ts: the providers with why each
 * cannot run, one run of a model, training with the trainer of core/train (events streamed back a chunk
 * at a time; pause, resume and stop; a run prepared while its settings are filled in), and sessions kept
 * open between runs, whose carried tensors stay in the engine (the debugger's and generation's Engine on
 * the page).
 */
import { GradientError } from '../core/autodiff/rules.ts';
import { CompileError } from '../core/convert/compile.ts';
import { DatasetError, type Dataset } from '../core/data/dataset.ts';
import { EngineError, type Engine, type ProviderStatus, type Session } from '../core/engine/engine.ts';
import { fitData } from '../core/train/fit.ts';
import { buildTrainingGraph, stepOptionsFor, type TrainingGraph } from '../core/train/step.ts';
import { stepModelBytes, train, TrainingControl, warmUp, type TrainingEvent } from '../core/train/trainer.ts';
import { buffersOf, type RunRequest, type RunResult, type TrainRequest, type WorkerReply, type WorkerRequest } from './web/protocol.ts';

/** What differs between the places an engine service runs. */
export interface EngineBackend {
  engine: Engine;
  /** Every provider of this engine, with whether it runs here and, if not, why. */
  providers(): Promise<ProviderStatus[]>;
  /** A built-in dataset with the CLI's split. */
  builtInData(name: string, seed?: number): Promise<{ train: Dataset; val?: Dataset }>;
}

/** Sends a reply to whoever asked; the buffers may move instead of being copied. */
export type ReplyTo = (message: WorkerReply, transfer: ArrayBuffer[]) => void;

/** Problems a person can act on, in their own words; anything else keeps its message too, without a stack. */
export function describe(e: unknown): string {
  if (e instanceof EngineError || e instanceof DatasetError || e instanceof CompileError) return e.message;
  if (e instanceof GradientError) return `cannot train this model yet: ${e.message}`;
  return `internal error: ${(e as Error)?.message ?? String(e)}`;
}

/** Models with more weights than this are not prepared unasked (a large language model would fill the memory): Start builds them. */
const PREPARE_WEIGHT_BYTES = 256 << 20;

export class EngineService {
  /** Training runs in progress, by the id of the request that started them. */
  private readonly runs = new Map<number, TrainingControl>();
  /** The preparation under way (see prepare), which a run waits for rather than compiling the same model beside it. */
  private preparing: Promise<void> = Promise.resolve();
  private latestPreparation = 0;
  private preparedFor = '';
  /**
   * The last built-in dataset fitted to a model, kept for the next run with the same data, input, target
   * and loss: fitting pads or resizes every image, which costs about as much as a few steps.
   */
  private lastFitted: { key: string; fitted: ReturnType<typeof fitData> } | null = null;
  /** Sessions kept open for their caller (the debugger, generation), by number. */
  private readonly sessions = new Map<number, Session>();
  private nextSession = 1;

  constructor(
    private readonly backend: EngineBackend,
    private readonly reply: ReplyTo,
  ) {}

  /** Answers one message; every failure becomes an error reply to it. */
  async handle(message: WorkerRequest): Promise<void> {
    try {
      if (message.op === 'providers') this.reply({ id: message.id, result: await this.backend.providers() }, []);
      else if (message.op === 'train') await this.train(message.id, message.request);
      else if (message.op === 'prepare') {
        this.prepare(message.request);
        this.reply({ id: message.id, result: null }, []);
      } else if (message.op === 'run') {
        const result = await this.run(message.request);
        this.reply({ id: message.id, result }, buffersOf(Object.values(result.outputs)));
      } else if (message.op === 'control') {
        this.control(message.run, message.action);
        this.reply({ id: message.id, result: null }, []);
      } else if (message.op === 'open') {
        const session = await this.backend.engine.createSession(message.model, { provider: message.provider, allowFallback: message.allowFallback });
        const number = this.nextSession++;
        this.sessions.set(number, session);
        this.reply({ id: message.id, result: { session: number, provider: session.provider, inputNames: [...session.inputNames], outputNames: [...session.outputNames] } }, []);
      } else if (message.op === 'session-run') {
        const outputs = await this.session(message.session).run(message.feeds, message.fetches);
        this.reply({ id: message.id, result: outputs }, buffersOf(Object.values(outputs)));
      } else if (message.op === 'carry') {
        await this.session(message.session).carry(message.initial, message.loop);
        this.reply({ id: message.id, result: null }, []);
      } else if (message.op === 'carried') {
        const values = await this.session(message.session).carried(message.names);
        this.reply({ id: message.id, result: values }, buffersOf(Object.values(values)));
      } else if (message.op === 'release') {
        const session = this.sessions.get(message.session);
        this.sessions.delete(message.session);
        await session?.release();
        this.reply({ id: message.id, result: null }, []);
      } else throw new Error(`unknown request ${(message as { op: unknown }).op}`);
    } catch (e) {
      this.reply({ id: message.id, error: describe(e) }, []);
    }
  }

  private session(number: number): Session {
    const session = this.sessions.get(number);
    if (!session) throw new EngineError(`session ${number} is not open (it was released, or never opened)`);
    return session;
  }

  private control(run: number, action: 'pause' | 'resume' | 'stop'): void {
    const control = this.runs.get(run);
    if (!control) return;
    if (action === 'pause') {
      control.pause();
      void control.parked().then(() => this.reply({ id: run, parked: true }, []));
    } else if (action === 'resume') control.resume();
    else control.stop();
  }

  private async train(id: number, request: TrainRequest): Promise<void> {
    // Registered first, so that a pause or stop sent while the data loads already counts.
    const control = new TrainingControl();
    this.runs.set(id, control);
    try {
      // A run counts as a later request than any preparation: one not yet compiling gives up.
      this.latestPreparation++;
      await this.preparing;
      const { graph, options, data, adapted } = await this.setUp(request);
      this.reply({ id, prepared: { train: data.train.size, val: data.val?.size ?? null, adapted } }, []);
      // Step events are gathered and sent once per chunk of steps: one message, not hundreds.
      let pending: TrainingEvent[] = [];
      const flush = () => {
        if (pending.length) this.reply({ id, events: pending }, []);
        pending = [];
      };
      const onEvent = (e: TrainingEvent) => {
        pending.push(e);
        if (pending.length === 1) queueMicrotask(flush);
      };
      const result = await train(this.backend.engine, graph, data, options, onEvent, control);
      flush();
      this.reply({ id, result: { weights: result.weights, stopped: result.stopped } }, buffersOf(result.weights.values()));
    } finally {
      this.runs.delete(id);
    }
  }

  /** A run's training graph, the provider it will run on, and its data fitted to the graph. */
  private async setUp(request: TrainRequest) {
    const options = request.options;
    const graph = buildTrainingGraph(request.doc, { ...request.graph, weights: request.weights, ...stepOptionsFor(options.provider) });
    const { data, adapted } = 'builtIn' in request.data ? await this.fittedBuiltIn(request.data.builtIn, request.data.seed ?? 0, graph) : fitData(request.data, graph);
    return { graph, options, data, adapted };
  }

  private async fittedBuiltIn(name: string, seed: number, graph: TrainingGraph): Promise<ReturnType<typeof fitData>> {
    // What fitData reads: the input, target and prediction types, and the loss (among the layers' ops).
    const key = JSON.stringify([name, seed, graph.inputs[0].type, graph.target.type, graph.predictionType, graph.doc.nodes.map((n) => n.op)]);
    if (this.lastFitted?.key !== key) this.lastFitted = { key, fitted: fitData(await this.backend.builtInData(name, seed), graph) };
    return this.lastFitted.fitted;
  }

  /**
   * Builds and compiles a run's training graph and warms its first step up (core/train/trainer.ts warmUp)
   * before the run is asked for: the Train panel sends its settings as they change. Only the latest request
   * counts (a run's start counts as a later one), and the same request twice is done once. A problem here
   * is reported when the run itself starts.
   */
  private prepare(request: TrainRequest): void {
    const ticket = ++this.latestPreparation;
    this.preparing = this.preparing
      .then(async () => {
        const key = JSON.stringify(request);
        if (ticket !== this.latestPreparation || key === this.preparedFor) return;
        this.preparedFor = key;
        const { graph, options, data } = await this.setUp({ ...request, graph: { ...request.graph, memoryLimit: PREPARE_WEIGHT_BYTES } });
        // A run asked for meanwhile (maybe with other settings) compiles what it needs itself: it should not
        // wait behind a compile it may not use, nor behind a warm-up step before its own first step.
        if (ticket !== this.latestPreparation) return;
        const engine = this.backend.engine;
        await (await engine.createSession(stepModelBytes(graph), { provider: options.provider, allowFallback: options.allowFallback })).release();
        if (ticket === this.latestPreparation) await warmUp(engine, graph, data.train, options);
      })
      .catch(() => {});
  }

  private async run(request: RunRequest): Promise<RunResult> {
    const session = await this.backend.engine.createSession(request.model, { provider: request.provider, allowFallback: request.allowFallback });
    try {
      const began = performance.now();
      const outputs = await session.run(request.feeds, request.fetches);
      return { outputs, provider: session.provider, milliseconds: performance.now() - began };
    } finally {
      await session.release();
    }
  }
}
