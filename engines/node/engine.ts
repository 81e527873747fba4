/**
 * The Engine on onnxruntime-node. Sessions live in a worker thread so that running a model never
 * blocks the caller's event loop (the CLI's progress output, the desktop app's main process).
 * Sessions are cached per model hash and provider.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { EngineError, type CreateSessionOptions, type Engine, type Provider, type ProviderStatus, type RunOptions, type Session, type Tensor } from '../../core/engine/engine.ts';
import { probeModel } from '../../core/onnx/probe.ts';
import { PROTOBUF_LIMIT } from '../../core/onnx/proto.ts';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** Where a provider's add-on would be, and how to get it. */
const PROVIDER_HELP: Record<string, string> = {
  cuda: 'CUDA needs Linux x64, an NVIDIA driver with CUDA 12, and onnxruntime-node\'s CUDA add-on: run "npm run setup:cuda" (see README, "GPU")',
  dml: 'DirectML is available on Windows only',
  wasm: 'wasm runs in the browser engine, not in Node',
  webgpu: "WebGPU needs onnxruntime-node's bundled WebGPU provider (Linux x64, Windows, macOS) and a WebGPU adapter: a GPU with Vulkan, Metal or Direct3D 12 drivers",
};

/** What to know about a provider that does run here. */
const RUNS_HERE: Record<'cpu' | Probed, string> = {
  cpu: 'ONNX Runtime on the CPU, in the engine process',
  cuda: 'NVIDIA GPU through CUDA 12',
  dml: 'GPU through DirectML',
  webgpu: "GPU through onnxruntime-node's WebGPU provider (experimental)",
};

/** Providers a session may ask for beyond the CPU, probed one by one and only when asked for. */
const PROBED = ['cuda', 'dml', 'webgpu'] as const;
type Probed = (typeof PROBED)[number];

export class NodeEngine implements Engine {
  private worker: Worker | null = null;
  private nextRequest = 1;
  private pending = new Map<number, Pending>();
  private cache = new Map<string, { session: NodeSession; users: number }>();
  private fileSessions = 0;
  /** Per provider: null where it starts here, else why not. */
  private probes = new Map<Probed, Promise<string | null>>();

  private call<T>(op: string, args: unknown, transfer: ArrayBuffer[] = []): Promise<T> {
    if (!this.worker) {
      this.worker = new Worker(new URL('./worker.js', import.meta.url));
      this.worker.on('message', ({ id, result, error }) => {
        const p = this.pending.get(id)!;
        this.pending.delete(id);
        if (error !== undefined) p.reject(new EngineError(error));
        else p.resolve(result);
      });
      this.worker.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(new EngineError(`the ONNX Runtime worker stopped: ${e.message}`));
        this.pending.clear();
        this.worker = null;
      });
      this.worker.unref();
    }
    const id = this.nextRequest++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker!.ref();
      this.worker!.postMessage({ id, op, args }, transfer);
    }).finally(() => {
      if (this.pending.size === 0) this.worker?.unref();
    });
  }

  /** CPU always; CUDA, DirectML and WebGPU only when a session really starts on them. */
  async availableProviders(): Promise<Provider[]> {
    const found: Provider[] = ['cpu'];
    for (const p of PROBED) if ((await this.unavailable(p)) === null) found.push(p);
    return found;
  }

  /** Every provider of onnxruntime-node, CPU first, with whether it runs here and, if not, why (the app's provider picker). */
  async providers(): Promise<ProviderStatus[]> {
    const statuses: ProviderStatus[] = [];
    for (const provider of ['cpu', 'webgpu', 'cuda', 'dml'] as const) {
      const missing = await this.unavailable(provider);
      statuses.push({ provider, available: missing === null, detail: missing ?? RUNS_HERE[provider] });
    }
    return statuses;
  }

  /** Why a provider cannot run here (null when it can): a one-node model must really start on it. */
  unavailable(provider: Provider): Promise<string | null> {
    if (provider === 'cpu') return Promise.resolve(null);
    if (!(PROBED as readonly string[]).includes(provider)) return Promise.resolve(PROVIDER_HELP[provider] ?? 'unknown provider');
    const p = provider as Probed;
    let probe = this.probes.get(p);
    if (!probe) {
      probe = (async () => {
        if (!this.mightHave(p)) return PROVIDER_HELP[p];
        try {
          const { id } = await this.call<{ id: number }>('create', { bytes: probeModel(), provider: p });
          await this.call('release', { id });
          return null;
        } catch (e) {
          // ONNX Runtime's own words say what is missing (e.g. "Failed to get a WebGPU adapter: No supported adapters").
          const reason = (e as Error).message
            .split('\n')[0]
            .replace(/^.*?\.(cc|cpp|h):\d+ [^ ]+ /, '')
            .replace(/^.*(Failed to get a WebGPU adapter)/, '$1');
          return `${PROVIDER_HELP[p]}; ONNX Runtime says: ${reason}`;
        }
      })();
      this.probes.set(p, probe);
    }
    return probe;
  }

  private mightHave(provider: Probed): boolean {
    if (provider === 'dml') return process.platform === 'win32';
    if (provider === 'webgpu') return ['win32', 'darwin'].includes(process.platform) || (process.platform === 'linux' && process.arch === 'x64');
    if (process.platform !== 'linux' || process.arch !== 'x64') return false;
    const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    return existsSync(join(ortDir, 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so'));
  }

  async createSession(model: Uint8Array, options: CreateSessionOptions = {}): Promise<Session> {
    if (model.length > PROTOBUF_LIMIT) throw new EngineError(`the model is ${(model.length / 2 ** 30).toFixed(1)} GB: ONNX Runtime loads a model of at most 2 GB in one piece (protobuf's limit)`);
    const provider = await this.providerFor(options);
    const optimization = options.optimization ?? 'all';
    const key = `${provider}:${optimization}:${createHash('sha256').update(model).digest('hex')}`;
    const copy = model.slice();
    return this.open(key, () => this.call('create', { bytes: copy, provider, optimization }, [copy.buffer as ArrayBuffer]), provider);
  }

  /**
   * A session on an ONNX file that ONNX Runtime reads itself, its external data included: the way to run
   * a model past protobuf's 2 GB, which cannot reach the runtime in one piece. The caller has read and
   * checked the file (cli/models.ts readOnnx keeps its external data inside its folder).
   */
  async createSessionFromFile(path: string, options: CreateSessionOptions = {}): Promise<Session> {
    const provider = await this.providerFor(options);
    const optimization = options.optimization ?? 'all';
    // Not shared through the cache: the file may change between calls.
    return this.open(`file:${++this.fileSessions}`, () => this.call('create', { path, provider, optimization }), provider);
  }

  /** The provider a session will run on: the one asked for, or the CPU where that is missing and fallback is allowed. */
  private async providerFor(options: CreateSessionOptions): Promise<Provider> {
    const provider = options.provider ?? 'cpu';
    const missing = await this.unavailable(provider);
    if (missing === null) return provider;
    const why = `the ${provider} execution provider is not available here (${missing})`;
    if (!options.allowFallback) throw new EngineError(`${why}; pass --allow-fallback to run on the CPU instead`);
    return 'cpu';
  }

  /** The cached session under `key`, or a new one made by `create` in the worker. */
  private async open(key: string, create: () => Promise<{ id: number; inputNames: string[]; outputNames: string[] }>, provider: Provider): Promise<Session> {
    const cached = this.cache.get(key);
    if (cached) {
      cached.users++;
      return cached.session;
    }
    let info: { id: number; inputNames: string[]; outputNames: string[] };
    try {
      info = await create();
    } catch (e) {
      throw new EngineError(`ONNX Runtime could not load the model: ${(e as Error).message}`);
    }
    const session = new NodeSession(this, info.id, provider, info.inputNames, info.outputNames, () => {
      const entry = this.cache.get(key);
      if (entry && --entry.users > 0) return false;
      this.cache.delete(key);
      return true;
    });
    this.cache.set(key, { session, users: 1 });
    return session;
  }

  /** @internal */
  request<T>(op: string, args: unknown, transfer: ArrayBuffer[] = []): Promise<T> {
    return this.call<T>(op, args, transfer);
  }

  async dispose(): Promise<void> {
    this.cache.clear();
    await this.worker?.terminate();
    this.worker = null;
  }
}

class NodeSession implements Session {
  constructor(
    private readonly engine: NodeEngine,
    private readonly id: number,
    readonly provider: Provider,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
    private readonly lastUser: () => boolean,
  ) {}

  private carriedInputs = new Set<string>();

  async carry(initial: Record<string, Tensor>, loop: Record<string, string>): Promise<void> {
    this.carriedInputs = new Set(Object.keys(initial));
    await this.engine.request('carry', { id: this.id, initial, loop });
  }

  carried(names?: string[]): Promise<Record<string, Tensor>> {
    return this.engine.request('carried', { id: this.id, names });
  }

  async run(feeds: Record<string, Tensor>, fetches?: string[], options: RunOptions = {}): Promise<Record<string, Tensor>> {
    for (const name of this.inputNames) if (!(name in feeds) && !this.carriedInputs.has(name)) throw new EngineError(`the model needs an input "${name}" (inputs: ${this.inputNames.join(', ')})`);
    // Consumed feeds move to the worker thread instead of being copied there.
    const moved = new Set((options.consumed ?? []).filter((name) => name in feeds).map((name) => feeds[name].data.buffer as ArrayBuffer));
    try {
      return await this.engine.request('run', { id: this.id, feeds, fetches }, [...moved]);
    } catch (e) {
      throw new EngineError(`running the model on ${this.provider} failed: ${(e as Error).message}`);
    }
  }

  async release(): Promise<void> {
    if (this.lastUser()) await this.engine.request('release', { id: this.id });
  }
}
