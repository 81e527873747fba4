/**
 * The Engine on onnxruntime-web (wasm, one thread: a page without cross-origin isolation has no shared
 * memory), for the editor in the browser and in the desktop window. Small models only so far (the
 * debugger's examples); it runs on the page's thread.
 */
import * as ort from 'onnxruntime-web';
import { EngineError, type CreateSessionOptions, type Engine, type Provider, type RunOptions, type Session, type Tensor } from '../../core/engine/engine.ts';

ort.env.wasm.numThreads = 1;

const toOrt = (t: Tensor) => new ort.Tensor(t.dtype === 'float64' ? 'float64' : t.dtype, t.data as Float32Array, t.dims);
const fromOrt = (t: ort.Tensor): Tensor => ({ dtype: t.type as Tensor['dtype'], dims: [...t.dims], data: t.data as Tensor['data'] });

class WebSession implements Session {
  readonly provider: Provider = 'wasm';
  private kept: Record<string, Tensor> = {};
  private loop: Record<string, string> = {};

  constructor(private readonly session: ort.InferenceSession) {}

  get inputNames() {
    return this.session.inputNames;
  }

  get outputNames() {
    return this.session.outputNames;
  }

  async run(feeds: Record<string, Tensor>, fetches?: string[], _options?: RunOptions): Promise<Record<string, Tensor>> {
    const all = { ...this.kept, ...feeds };
    const wanted = [...new Set([...(fetches ?? this.session.outputNames), ...Object.values(this.loop)])];
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.session.run(Object.fromEntries(Object.entries(all).map(([k, v]) => [k, toOrt(v)])), wanted);
    } catch (e) {
      throw new EngineError(`ONNX Runtime could not run the model: ${(e as Error).message}`);
    }
    for (const [input, output] of Object.entries(this.loop)) this.kept[input] = fromOrt(out[output] as ort.Tensor);
    const carriedOut = new Set(Object.values(this.loop));
    return Object.fromEntries(Object.entries(out).filter(([k]) => !carriedOut.has(k) || fetches?.includes(k)).map(([k, v]) => [k, fromOrt(v as ort.Tensor)]));
  }

  async carry(initial: Record<string, Tensor>, loop: Record<string, string>): Promise<void> {
    this.kept = { ...initial };
    this.loop = { ...loop };
  }

  async carried(names?: string[]): Promise<Record<string, Tensor>> {
    return Object.fromEntries(Object.entries(this.kept).filter(([k]) => !names || names.includes(k)));
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

export class WebEngine implements Engine {
  async availableProviders(): Promise<Provider[]> {
    return ['wasm'];
  }

  async createSession(model: Uint8Array, options: CreateSessionOptions = {}): Promise<Session> {
    if (options.provider && options.provider !== 'wasm' && !options.allowFallback) throw new EngineError(`${options.provider} is not available in this window; wasm is`);
    try {
      return new WebSession(await ort.InferenceSession.create(model, { executionProviders: ['wasm'] }));
    } catch (e) {
      throw new EngineError(`ONNX Runtime could not load the model: ${(e as Error).message}`);
    }
  }

  async dispose(): Promise<void> {}
}
