/**
 * The layer spec: everything Netloom knows about one layer lives in its spec.
 * Adding a layer means adding one spec (and its tests); nothing else changes.
 */
import type { ModelNode, ParamValue } from '../graph/types.ts';
import type { WeightTensor } from '../graph/weights.ts';
import type { NodeProto, TensorProto } from '../onnx/proto.ts';
import type { OnnxBuilder } from '../onnx/builder.ts';
import type { CacheSlot } from '../onnx/lowering.ts';
import type { Dim, Shape, TensorType } from '../graph/dim.ts';

export type Category = 'Input & structure' | 'Linear & convolution' | 'Pooling' | 'Activation' | 'Normalisation & regularisation' | 'Embedding' | 'Attention & Transformer' | 'Recurrent' | 'Loss';

export type ParamType =
  | 'int'
  | 'float'
  | 'bool'
  | 'enum'
  /** an int, or one int per spatial axis: kernelSize 5 or [5, 3] */
  | 'size'
  /** like size, but the strings 'same' and 'valid' are allowed too */
  | 'padding'
  /** a list of ints (Reshape's -1 allowed), the batch left out */
  | 'ints'
  /** a list of dims: ints or symbols such as "T" */
  | 'dims'
  /** the id of another node */
  | 'nodeRef'
  /** free text */
  | 'string'
  /** any JSON value (the generic OnnxOp keeps attributes and constants this way) */
  | 'json';

export interface ParamSchema {
  type: ParamType;
  label: string;
  help: string;
  /** Absent means the parameter is required. `null` means "none" is allowed and is the default. */
  default?: ParamValue;
  min?: number;
  max?: number;
  /** For enums. */
  values?: readonly string[];
  /** Whether null ("none") is accepted. */
  nullable?: boolean;
  /** Key parameters are shown on the node itself. */
  key?: boolean;
}

export interface PortSpec {
  name: string;
  help: string;
  optional?: boolean;
  /** Takes any number of edges, in file order (Add, Mul, Concat). */
  variadic?: boolean;
  /** For a variadic port: the fewest edges that make sense (2 unless given). */
  minCount?: number;
  /** Integer tensors (token ids, class indices) rather than floats. */
  dtype?: 'int64' | 'any';
}

export type { ParamInit, ParamTensor } from '../graph/weights.ts';
import type { ParamTensor } from '../graph/weights.ts';

export interface InferResult {
  outputs: TensorType[];
  params?: ParamTensor[];
  /** Non-trainable state such as BatchNorm's running statistics (not parameters). */
  buffers?: ParamTensor[];
  /** Multiply-accumulates per sample; null when they depend on a symbolic size. */
  macs?: number | null;
  macsFormula?: string;
}

export interface Issue {
  severity: 'error' | 'warning';
  message: string;
  field?: string;
  formula?: string;
  suggestion?: string;
}

/** Thrown by `infer` to stop with an error; warnings go through `ctx.warn`. */
export class ShapeError extends Error {
  constructor(readonly issue: Omit<Issue, 'severity'>) {
    super(issue.message);
  }
}

/** Typed access to a node's validated params. */
export interface ParamReader {
  params: Record<string, ParamValue>;
  int(name: string): number;
  float(name: string): number;
  bool(name: string): boolean;
  str(name: string): string;
  maybeInt(name: string): number | null;
  /** A 'size' or 'padding' param expanded to `rank` values. */
  tuple(name: string, rank: number): number[];
  dims(name: string): Dim[];
}

export interface InferContext extends ParamReader {
  nodeId: string;
  /** One entry per declared input port (undefined when an optional port is unconnected). For a variadic op, every edge in file order. */
  inputs: (TensorType | undefined)[];
  /** Look up a node's inferred parameter tensors (for weight tying). */
  paramsOf(nodeId: string): ParamTensor[] | undefined;
  /** A formula line for the inspector. Pass a function: it is only called when formulas are being shown. */
  formula(text: () => string): void;
  warn(message: string, extra?: Omit<Issue, 'severity' | 'message'>): void;
  fail(message: string, extra?: Omit<Issue, 'severity' | 'message'>): never;
}

export interface LayerSpec {
  op: string;
  category: Category;
  /** One line for the palette tooltip. */
  summary: string;
  /** Longer documentation shown in the inspector. */
  doc: string;
  params: Record<string, ParamSchema>;
  inputs: PortSpec[];
  outputs: PortSpec[];
  /** For layers whose number of outputs depends on their params (OnnxOp); `outputs` otherwise. */
  outputPorts?(params: Record<string, ParamValue>): PortSpec[];
  /** Hidden from the palette (OnnxOp is made by the importer, not by hand). */
  internal?: boolean;
  /** Values for params that have no default, so that a layer added by hand is valid at once. */
  starting?: Record<string, ParamValue>;
  infer(ctx: InferContext): InferResult;
  /** Emits the layer as standard ONNX ops; must produce every value named in `ctx.outputs`. */
  lower(ctx: LowerContext): void;
  /** How the importer turns ONNX nodes into this layer (nodes no pattern takes stay OnnxOps). */
  imports?: ImportPattern[];
}

/** One way an ONNX node (of the default domain) becomes this layer when a model is imported. */
export interface ImportPattern {
  /** The ONNX op types the pattern looks at. */
  onnx: readonly string[];
  /**
   * Adds the layer for node `n` (with its weights) through `ctx` and returns true; or returns false,
   * having added nothing, when the node does not fit the layer exactly, so that it stays an OnnxOp.
   */
  take(n: NodeProto, ctx: ImportContext): boolean;
}

/** What an import pattern may read of the ONNX model being imported, and how it adds to the document. */
export interface ImportContext {
  /** The model's default-domain opset version. */
  opset: number;
  /** The constant called `name` (an initializer, a Constant node or an Identity copy of an initializer), if it is one. */
  constant(name: string): TensorProto | undefined;
  /** Whether `name` holds integers (ids, shape arithmetic): such values never feed catalogue layers. */
  isInteger(name: string): boolean;
  /** Whether `name` is a computed float value (not a constant, not integers): what a layer takes on an edge. */
  isValue(name: string): boolean;
  /** The value's type as the file declares it, if it does. */
  type(name: string): TensorType | undefined;
  /** Whether the value carries the batch dimension first, as far as the file says. */
  hasBatch(name: string): boolean;
  /** The nodes that read the value. */
  readers(name: string): readonly NodeProto[];
  isGraphOutput(name: string): boolean;
  /** The layers added so far, in order. */
  readonly nodes: readonly ModelNode[];
  /** A weight set so far (`setWeight`), if any. */
  weight(id: string, name: string): WeightTensor | undefined;
  /** Adds a layer fed by the given ONNX values; its outputs become those values. Returns the layer's id. */
  add(op: string, params: Record<string, ParamValue>, inputs: string[], outputs: string[], node: NodeProto): string;
  /** Sets a parameter or buffer of a layer added with `add`. */
  setWeight(id: string, name: string, shape: number[], data: Float32Array): void;
  /** Leaves a later node out of the import: the pattern has fused it into its layer (MatMul + Add → Linear). */
  skip(node: NodeProto): void;
}

export interface LowerContext extends ParamReader {
  b: OnnxBuilder;
  nodeId: string;
  /** ONNX value per input port ('' for an unconnected optional port; every edge for a variadic op). */
  inputs: string[];
  inputTypes: (TensorType | undefined)[];
  outputTypes: TensorType[];
  /** The names the layer's outputs must have. */
  outputs: string[];
  /** The initializer holding this node's parameter or buffer `name` (a tied weight resolves to its owner's). */
  weight(name: string): string;
  /** Whether the graph is for training: Dropout active, BatchNorm using batch statistics. */
  training: boolean;
  /** In training graphs: how many time steps recurrent layers pass gradients back (0: the whole sequence). */
  truncateBptt: number;
  /** In training graphs: the new value of one of this node's buffers after the step (BatchNorm's running statistics). */
  updateBuffer(name: string, value: string): void;
  /** Present when compiling one decoder step for generation: the input is one token, at `decode.position`. */
  decode?: DecodeStep;
}

/** One decoder step (generation with a KV cache): layers that mix positions read and write caches instead. */
export interface DecodeStep {
  /** int64 scalar: the position of this step's token. */
  position: string;
  /** Cache slots per attention layer (the sliding window, or the longest sequence). */
  capacity: number;
  /** This layer's cache tensor `name`: its value before the step (a graph input) and where its value after goes (a graph output). */
  cache(name: string, type: TensorType): CacheSlot;
}

export type { Dim, Shape, TensorType };
