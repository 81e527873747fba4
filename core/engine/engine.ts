/**
 * The Engine seam: whatever runs ONNX (onnxruntime-node in a worker thread, onnxruntime-web in a Web
 * Worker). The training loop and the debugger run against this interface only.
 */
export type Provider = 'cpu' | 'cuda' | 'dml' | 'wasm' | 'webgpu';

export type TensorDType = 'float32' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

export type TensorArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

export interface Tensor {
  dtype: TensorDType;
  dims: number[];
  data: TensorArray;
}

/** One provider, whether it can run here, and if not, why; for the provider picker. */
export interface ProviderStatus {
  provider: Provider;
  available: boolean;
  /** Why it is unavailable, or a note on how it runs (threads, experimental). */
  detail: string;
}

export interface CreateSessionOptions {
  provider?: Provider;
  /** Run on the CPU if the provider asked for is not available (otherwise that is an error). */
  allowFallback?: boolean;
  /**
   * ONNX Runtime's graph optimisation level (default 'all'). 'basic' keeps each node's own kernel: the fused
   * kernels of the higher levels (QuickGelu for x·σ(x)) exist in float32 only, which the float64 gradient check cannot use.
   */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

export interface RunOptions {
  /**
   * Feeds the caller will not read again (a training chunk's stacked batch): the engine may take their
   * buffers instead of copying them, which leaves the caller's arrays empty.
   */
  consumed?: string[];
}

export interface Session {
  /** The provider the session actually runs on. */
  readonly provider: Provider;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * Runs the model; `fetches` picks outputs (all graph outputs by default). Carried inputs (see
   * `carry`) are fed from the engine's own copy, and carried outputs are kept there, not returned.
   */
  run(feeds: Record<string, Tensor>, fetches?: string[], options?: RunOptions): Promise<Record<string, Tensor>>;
  /**
   * Keeps tensors inside the engine between runs: `initial` feeds the named inputs, and after each run
   * output `loop[input]` becomes that input's next value. A training step's parameters and optimiser
   * state stay where the runtime is, instead of crossing to the caller and back on every step.
   */
  carry(initial: Record<string, Tensor>, loop: Record<string, string>): Promise<void>;
  /** The current values of carried inputs. */
  carried(names?: string[]): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

export interface Engine {
  /** The providers that can actually run here, CPU first. */
  availableProviders(): Promise<Provider[]>;
  createSession(model: Uint8Array, options?: CreateSessionOptions): Promise<Session>;
  dispose(): Promise<void>;
}

/** A problem running a model, in words for a person (no stack trace). */
export class EngineError extends Error {}

export const elementCount = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
