/**
 * The Engine on onnxruntime-web: WASM (SIMD, and threads when the page is cross-origin isolated) and
 * WebGPU where the browser gives an adapter. It runs in the thread that creates it — the Web Worker of
 * engines/web/worker.ts — so that neither a run nor the trainer ever blocks the page.
 */
import { EngineError, type CreateSessionOptions, type Engine, type Provider, type ProviderStatus, type RunOptions, type Session, type Tensor } from '../../core/engine/engine.ts';
import { probeModel } from '../../core/onnx/probe.ts';
import type * as Ort from 'onnxruntime-web';
// The runtime's WebAssembly, served by the app itself (no CDN): Vite copies both into the build. The
// plain build (14 MB) runs the wasm provider; only WebGPU needs the JSEP build (28 MB), so a page that
// never uses WebGPU never fetches or compiles it.
import plainWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import jsepWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';

export type { ProviderStatus } from '../../core/engine/engine.ts';

type OrtModule = typeof Ort;
const runtimes: Partial<Record<Provider, Promise<OrtModule>>> = {};

/**
 * Loads the runtime a provider runs on once, each in its own chunk (its pthread workers load that chunk,
 * not the caller's): the plain WebAssembly build, or for WebGPU the JSEP build (which runs wasm too).
 */
function loadOrt(provider: Provider): Promise<OrtModule> {
  const build = provider === 'webgpu' ? 'webgpu' : 'wasm';
  runtimes[build] ??= (build === 'webgpu' ? import('onnxruntime-web') : import('onnxruntime-web/wasm')).then((ort) => {
    ort.env.wasm.wasmPaths = { wasm: new URL(build === 'webgpu' ? jsepWasmUrl : plainWasmUrl, self.location.href).href };
    // Threads need SharedArrayBuffer, which browsers give only to cross-origin isolated pages.
    ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(navigator.hardwareConcurrency || 1, 8) : 1;
    ort.env.logLevel = 'error';
    return ort;
  });
  return runtimes[build];
}

/** Each provider's status; WebAssembly is started here with a one-node model, so a first run does not wait for it. */
export async function providerReport(): Promise<ProviderStatus[]> {
  const ort = await loadOrt('wasm');
  const threads = ort.env.wasm.numThreads as number;
  try {
    await (await ort.InferenceSession.create(probeModel(), { executionProviders: ['wasm'] })).release();
  } catch (e) {
    return [{ provider: 'wasm', available: false, detail: `ONNX Runtime's WebAssembly did not start: ${(e as Error).message}` }, await webgpuStatus()];
  }
  const wasm: ProviderStatus = {
    provider: 'wasm',
    available: true,
    detail: self.crossOriginIsolated ? `SIMD, ${threads} threads` : 'SIMD, 1 thread: the page is not cross-origin isolated (served without COOP/COEP headers), so threads are off',
  };
  return [wasm, await webgpuStatus()];
}

async function webgpuStatus(): Promise<ProviderStatus> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return { provider: 'webgpu', available: false, detail: 'this browser has no WebGPU (navigator.gpu is missing)' };
  try {
    if (!(await gpu.requestAdapter())) return { provider: 'webgpu', available: false, detail: 'WebGPU gives no adapter here (no supported GPU, or it is blocked)' };
  } catch (e) {
    return { provider: 'webgpu', available: false, detail: `WebGPU failed to start: ${(e as Error).message}` };
  }
  return { provider: 'webgpu', available: true, detail: 'GPU adapter found' };
}

const toOrt = (ort: OrtModule, t: Tensor): Ort.Tensor => new ort.Tensor(t.dtype, t.data, t.dims);
const fromOrt = (t: Ort.Tensor): Tensor => ({ dtype: t.type as Tensor['dtype'], dims: [...t.dims], data: t.data as Tensor['data'] });

const yielder = new MessageChannel();
const waiting: (() => void)[] = [];
yielder.port1.onmessage = () => waiting.shift()?.();

/** Resolves in a new task, after messages already queued for this thread (a message, not a 4 ms-clamped timer). */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    yielder.port2.postMessage(null);
  });
}

export class WebEngine implements Engine {
  private report: Promise<ProviderStatus[]> | null = null;
  private idle: IdleSession[] = [];

  providers(): Promise<ProviderStatus[]> {
    this.report ??= providerReport();
    return this.report;
  }

  async availableProviders(): Promise<Provider[]> {
    return (await this.providers()).filter((p) => p.available).map((p) => p.provider);
  }

  async createSession(model: Uint8Array, options: CreateSessionOptions = {}): Promise<Session> {
    // The browser's CPU provider is WebAssembly.
    let provider: Provider = options.provider === undefined || options.provider === 'cpu' ? 'wasm' : options.provider;
    const status = (await this.providers()).find((p) => p.provider === provider);
    if (!status?.available) {
      const why = `the ${provider} execution provider is not available here (${status?.detail ?? 'the browser engine runs wasm and webgpu only'})`;
      if (!options.allowFallback) throw new EngineError(`${why}; allow the fallback to run on WebAssembly instead`);
      provider = 'wasm';
    }
    const ort = await loadOrt(provider);
    const optimization = options.optimization ?? 'all';
    const keep = (session: Ort.InferenceSession) => this.keepIdle({ model, provider, optimization, session });
    const kept = this.idle.findIndex((k) => k.provider === provider && k.optimization === optimization && sameBytes(k.model, model));
    if (kept >= 0) return new WebSession(ort, this.idle.splice(kept, 1)[0].session, provider, keep);
    try {
      const session = await ort.InferenceSession.create(model, { executionProviders: [provider], graphOptimizationLevel: optimization });
      return new WebSession(ort, session, provider, keep);
    } catch (e) {
      throw new EngineError(`ONNX Runtime (${provider}) could not load the model: ${(e as Error).message}`);
    }
  }

  /** A released session waits here for the same model; the oldest beyond IDLE_SESSIONS is released for good. */
  private async keepIdle(entry: IdleSession): Promise<void> {
    if (entry.model.length > IDLE_MODEL_BYTES) return entry.session.release();
    this.idle.push({ ...entry, model: entry.model.slice() });
    for (const old of this.idle.splice(0, Math.max(0, this.idle.length - IDLE_SESSIONS))) await old.session.release();
  }

  async dispose(): Promise<void> {
    for (const old of this.idle.splice(0)) await old.session.release();
  }
}

/**
 * Released sessions kept for reuse: a training run's step and evaluation models, or the debugger's model
 * from one step to the next, come again with the same bytes, and compiling a model (and its first run,
 * which sets up its memory plans) costs far more than a step. Models with their weights inside are not
 * kept: they are large, and the memory matters more.
 */
const IDLE_SESSIONS = 2;
const IDLE_MODEL_BYTES = 16 << 20;

interface IdleSession {
  model: Uint8Array;
  provider: Provider;
  optimization: NonNullable<CreateSessionOptions['optimization']>;
  session: Ort.InferenceSession;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

class WebSession implements Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Carried inputs (runtime tensors kept here between runs) and the output that feeds each. */
  private values: Record<string, Ort.Tensor> = {};
  private loop: Record<string, string> = {};
  private released = false;

  constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    readonly provider: Provider,
    /** Takes the session back when it is released (the engine keeps it for the same model, or releases it). */
    private readonly giveBack: (session: Ort.InferenceSession) => Promise<void>,
  ) {
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
  }

  async carry(initial: Record<string, Tensor>, loop: Record<string, string>): Promise<void> {
    this.values = Object.fromEntries(Object.entries(initial).map(([name, t]) => [name, toOrt(this.ort, t)]));
    this.loop = loop;
  }

  async carried(names?: string[]): Promise<Record<string, Tensor>> {
    // Copies: the kept tensors stay usable here.
    return Object.fromEntries(
      Object.entries(this.values)
        .filter(([name]) => !names || names.includes(name))
        .map(([name, t]) => [name, { ...fromOrt(t), data: fromOrt(t).data.slice() as Tensor['data'] }]),
    );
  }

  async run(feeds: Record<string, Tensor>, fetches?: string[], _options?: RunOptions): Promise<Record<string, Tensor>> {
    // A run may finish without ever giving the thread back; yielding first lets the worker read its
    // messages (pause, stop) between the trainer's chunks.
    await nextTask();
    for (const name of this.inputNames) if (!(name in feeds) && !(name in this.values)) throw new EngineError(`the model needs an input "${name}" (inputs: ${this.inputNames.join(', ')})`);
    const input = { ...this.values, ...Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, toOrt(this.ort, t)])) };
    const loopOutputs = Object.values(this.loop);
    const wanted = [...new Set([...(fetches ?? this.outputNames), ...loopOutputs])];
    let output: Ort.InferenceSession.ReturnType;
    try {
      output = await this.session.run(input, wanted);
    } catch (e) {
      throw new EngineError(`running the model on ${this.provider} failed: ${(e as Error).message}`);
    }
    for (const [inputName, outputName] of Object.entries(this.loop)) this.values[inputName] = output[outputName];
    const returned = Object.entries(output).filter(([name]) => !loopOutputs.includes(name) || fetches?.includes(name));
    return Object.fromEntries(returned.map(([name, t]) => [name, fromOrt(t)]));
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.values = {};
    this.loop = {};
    await this.giveBack(this.session);
  }
}
