/**
 * PyTorch export: a model document as a readable model.py. Layers become their torch.nn twins under
 * their node ids, `forward` follows the topological order, and the file loads Netloom's safetensors
 * weights itself (numpy only), so it needs nothing beyond torch and numpy. Layers with no torch.nn twin
 * get the small classes of pytorch-library.ts; imported OnnxOp nodes become the matching torch call,
 * or a NotImplementedError naming the op.
 */
import type { ModelDocument, ParamValue } from '../graph/types.ts';
import type { TensorType } from '../graph/dim.ts';
import { jsonAttributes, type Attributes, type JsonAttribute } from '../onnx/attributes.ts';
import { tensorValues, type TensorProto } from '../onnx/proto.ts';
import { getLayer, outputPorts } from '../layers/index.ts';
import { resolveParams } from '../layers/params.ts';
import type { OnnxInput } from '../layers/onnxop.ts';
import { inferShapes, type NodeReport } from '../shape/infer.ts';
import { CompileError } from './compile.ts';
import { PYTHON_LIBRARY, PYTHON_RUNTIME } from './pytorch-library.ts';

const PYTHON_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(
    ' ',
  ),
);
/** Names the file itself uses at module level or in forward. */
const TAKEN = [
  'self',
  'torch',
  'nn',
  'F',
  'np',
  'math',
  'json',
  'os',
  're',
  'sys',
  'Model',
  'INPUTS',
  'OUTPUTS',
  'WEIGHT_NAMES',
  'main',
  'load_weights',
  'read_safetensors',
  ...Object.keys(PYTHON_LIBRARY),
];

/** A Python literal for a JSON-like value (lists become tuples). */
export function pyLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? "float('nan')" : v > 0 ? "float('inf')" : "float('-inf')";
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
  if (Array.isArray(v)) return v.length === 1 ? `(${pyLiteral(v[0])},)` : `(${v.map(pyLiteral).join(', ')})`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${pyLiteral(k)}: ${pyLiteral(x)}`)
    .join(', ')}}`;
}

/** A float that reads as one in Python (1 → 1.0). */
const pyFloat = (x: number): string => (Number.isInteger(x) ? `${x}.0` : pyLiteral(x));

/** A 'size' param as torch takes it: one number, or a tuple of different numbers. */
function pySize(v: ParamValue): string {
  const list = Array.isArray(v) ? (v as number[]) : [v as number];
  return list.every((x) => x === list[0]) ? String(list[0]) : pyLiteral(list);
}

/** "name=value" for each keyword whose value differs from torch's default. */
function kwargs(entries: [string, string, string?][]): string[] {
  return entries.filter(([, value, fallback]) => value !== fallback).map(([k, value]) => `${k}=${value}`);
}

const call = (fn: string, args: string[]): string => `${fn}(${args.join(', ')})`;

interface Emit {
  id: string;
  name: string;
  report: NodeReport;
  params: Record<string, ParamValue>;
  /** Python expressions per input port ('' where unconnected). */
  x: string[];
  inTypes: (TensorType | undefined)[];
  outTypes: TensorType[];
  /** Python variables for the outputs. */
  outs: string[];
  module(constructor: string): void;
  line(text: string): void;
  use(snippet: string): void;
  tie(line: string): void;
  pyName(id: string): string;
}

const ACTIVATIONS: Record<string, (e: Emit) => string> = {
  ReLU: () => 'nn.ReLU()',
  LeakyReLU: (e) => call('nn.LeakyReLU', kwargs([['negative_slope', pyLiteral(e.params.negativeSlope), '0.01']])),
  ELU: (e) => call('nn.ELU', kwargs([['alpha', pyFloat(e.params.alpha as number), '1.0']])),
  Sigmoid: () => 'nn.Sigmoid()',
  Tanh: () => 'nn.Tanh()',
  GELU: (e) => call('nn.GELU', kwargs([['approximate', pyLiteral(e.params.approximate), "'none'"]])),
  SiLU: () => 'nn.SiLU()',
  Softmax: (e) => `nn.Softmax(dim=${e.params.dim})`,
  LogSoftmax: (e) => `nn.LogSoftmax(dim=${e.params.dim})`,
};

const dim = (t: TensorType | undefined, axis: number): number => t!.shape[axis < 0 ? t!.shape.length + axis : axis] as number;

/** A torch.nn module called on the first input. */
function simple(e: Emit, constructor: string): void {
  e.module(constructor);
  e.line(`${e.outs[0]} = self.${e.name}(${e.x[0]})`);
}

const LAYERS: Record<string, (e: Emit) => void> = {
  Linear(e) {
    e.module(call('nn.Linear', [String(dim(e.inTypes[0], -1)), String(e.params.outFeatures), ...kwargs([['bias', pyLiteral(e.params.bias), 'True']])]));
    e.line(`${e.outs[0]} = self.${e.name}(${e.x[0]})`);
    if (e.params.tiedTo !== null) e.tie(`self.${e.name}.weight = self.${e.pyName(e.params.tiedTo as string)}.weight  # tied`);
  },
  Flatten: (e) =>
    simple(
      e,
      call(
        'nn.Flatten',
        kwargs([
          ['start_dim', String(e.params.startDim), '1'],
          ['end_dim', String(e.params.endDim), '-1'],
        ]),
      ),
    ),
  Reshape: (e) => e.line(`${e.outs[0]} = ${e.x[0]}.reshape(${e.x[0]}.shape[0], ${(e.params.shape as number[]).join(', ')})`),
  Add: (e) => e.line(`${e.outs[0]} = ${e.x.join(' + ')}`),
  Mul: (e) => e.line(`${e.outs[0]} = ${e.x.join(' * ')}`),
  Concat: (e) => e.line(`${e.outs[0]} = torch.cat([${e.x.join(', ')}], dim=${e.params.dim})`),
  Identity: (e) => e.line(`${e.outs[0]} = ${e.x[0]}`),
  // torch.heaviside takes the value at 0 as a tensor; torch.sign gives 0 there, the layer gives atZero.
  Heaviside: (e) => e.line(`${e.outs[0]} = torch.heaviside(${e.x[0]}, torch.tensor(${pyFloat(e.params.atZero as number)}, dtype=${e.x[0]}.dtype))`),
  Sign: (e) => e.line(`${e.outs[0]} = torch.where(${e.x[0]} == 0, torch.full_like(${e.x[0]}, ${pyFloat(e.params.atZero as number)}), torch.sign(${e.x[0]}))`),
  Select: (e) => e.line(`${e.outs[0]} = ${e.x[0]}.select(${e.params.dim}, ${e.params.index})`),
  Dropout: (e) => simple(e, call('nn.Dropout', kwargs([['p', pyLiteral(e.params.p), '0.5']]))),
  Conv1d: (e) => conv(e, 'nn.Conv1d'),
  Conv2d: (e) => conv(e, 'nn.Conv2d'),
  ConvTranspose2d(e) {
    const p = e.params;
    const size = (k: string, fallback: string): [string, string, string] => [k, pySize(p[camel(k)]), fallback];
    simple(
      e,
      call('nn.ConvTranspose2d', [
        String(dim(e.inTypes[0], 1)),
        String(p.outChannels),
        pySize(p.kernelSize),
        ...kwargs([size('stride', '1'), size('padding', '0'), size('output_padding', '0'), ['groups', String(p.groups), '1'], ['bias', pyLiteral(p.bias), 'True'], size('dilation', '1')]),
      ]),
    );
  },
  MaxPool2d(e) {
    const p = e.params;
    simple(
      e,
      call('nn.MaxPool2d', [
        pySize(p.kernelSize),
        ...kwargs([
          ['stride', p.stride === null ? 'None' : pySize(p.stride), 'None'],
          ['padding', pySize(p.padding), '0'],
          ['dilation', pySize(p.dilation), '1'],
          ['ceil_mode', pyLiteral(p.ceilMode), 'False'],
        ]),
      ]),
    );
  },
  AvgPool2d(e) {
    const p = e.params;
    simple(
      e,
      call('nn.AvgPool2d', [
        pySize(p.kernelSize),
        ...kwargs([
          ['stride', p.stride === null ? 'None' : pySize(p.stride), 'None'],
          ['padding', pySize(p.padding), '0'],
          ['ceil_mode', pyLiteral(p.ceilMode), 'False'],
          ['count_include_pad', pyLiteral(p.countIncludePad), 'True'],
        ]),
      ]),
    );
  },
  AdaptiveAvgPool2d: (e) => simple(e, `nn.AdaptiveAvgPool2d(${pySize(e.params.outputSize)})`),
  LocalResponseNorm(e) {
    const p = e.params;
    simple(
      e,
      call('nn.LocalResponseNorm', [
        String(p.size),
        ...kwargs([
          ['alpha', pyLiteral(p.alpha), '0.0001'],
          ['beta', pyLiteral(p.beta), '0.75'],
          ['k', pyFloat(p.k as number), '1.0'],
        ]),
      ]),
    );
  },
  Maxout(e) {
    e.use('Maxout');
    simple(e, call('Maxout', [String(e.params.poolSize), ...kwargs([['dim', String(e.params.dim), '1']])]));
  },
  BatchNorm1d: (e) => batchNorm(e, 'nn.BatchNorm1d'),
  BatchNorm2d: (e) => batchNorm(e, 'nn.BatchNorm2d'),
  LayerNorm(e) {
    const p = e.params;
    const shape = (p.normalizedShape as number[] | null) ?? [dim(e.inTypes[0], -1)];
    // `bias` is a torch >= 2.1 argument; it is written only where it matters.
    simple(
      e,
      call('nn.LayerNorm', [
        shape.length === 1 ? String(shape[0]) : pyLiteral(shape),
        ...kwargs([
          ['eps', pyLiteral(p.eps), '0.00001'],
          ['elementwise_affine', pyLiteral(p.elementwiseAffine), 'True'],
          ['bias', pyLiteral(p.bias || !p.elementwiseAffine), 'True'],
        ]),
      ]),
    );
  },
  RMSNorm(e) {
    const p = e.params;
    e.use('RMSNorm');
    const shape = (p.normalizedShape as number[] | null) ?? [dim(e.inTypes[0], -1)];
    simple(
      e,
      call('RMSNorm', [
        pyLiteral(shape),
        ...kwargs([
          ['eps', pyLiteral(p.eps), '0.000001'],
          ['elementwise_affine', pyLiteral(p.elementwiseAffine), 'True'],
        ]),
      ]),
    );
  },
  Embedding(e) {
    const p = e.params;
    simple(e, call('nn.Embedding', [String(p.numEmbeddings), String(p.embeddingDim), ...kwargs([['padding_idx', pyLiteral(p.paddingIdx), 'None']])]));
    if (p.tiedTo !== undefined && p.tiedTo !== null) e.tie(`self.${e.name}.weight = self.${e.pyName(p.tiedTo as string)}.weight  # tied`);
  },
  PositionalEncoding(e) {
    const p = e.params;
    e.use('PositionalEncoding');
    simple(
      e,
      call('PositionalEncoding', [
        String(dim(e.inTypes[0], 2)),
        ...kwargs([
          ['kind', pyLiteral(p.kind), "'sinusoidal'"],
          ['max_len', String(p.maxLen), '5000'],
          ['dropout', pyFloat(p.dropout as number), '0.0'],
        ]),
      ]),
    );
  },
  RotaryEmbedding(e) {
    e.use('RotaryEmbedding');
    simple(e, call('RotaryEmbedding', [String(e.params.headDim ?? dim(e.inTypes[0], -1)), ...kwargs([['base', pyFloat(e.params.base as number), '10000.0']])]));
  },
  MultiheadAttention(e) {
    const p = e.params;
    // The course's attention by hand (no projections, no output projection, no scaling) has no nn twin.
    const byHand = p.inputProjection === false || p.outputProjection === false || p.scaled === false;
    const E = dim(e.inTypes[0], 2);
    const kdim = dim(e.inTypes[1] ?? e.inTypes[0], 2);
    const vdim = dim(e.inTypes[2] ?? e.inTypes[1] ?? e.inTypes[0], 2);
    const heads = p.numHeads as number;
    const kvHeads = (p.numKeyValueHeads as number | null) ?? heads;
    const [query, key, value] = [e.x[0], e.x[1] || e.x[0], e.x[2] || e.x[1] || e.x[0]];
    const common = kwargs([
      ['dropout', pyFloat(p.dropout as number), '0.0'],
      ['bias', pyLiteral(p.bias), 'True'],
      ['kdim', String(kdim), String(E)],
      ['vdim', String(vdim), String(E)],
    ]);
    if (kvHeads === heads && !p.rotary && !byHand) {
      e.module(call('nn.MultiheadAttention', [String(E), String(heads), ...common, 'batch_first=True']));
      let mask = '';
      if (p.causal || p.slidingWindow !== null) {
        e.use('causal_mask');
        mask = `, attn_mask=causal_mask(${query}.shape[1], ${key}.shape[1]${p.slidingWindow !== null ? `, ${p.slidingWindow}` : ''})`;
      }
      e.line(`${e.outs[0]} = self.${e.name}(${query}, ${key}, ${value}, need_weights=False${mask})[0]`);
      return;
    }
    e.use('Attention');
    const masks = kwargs([
      ['causal', pyLiteral(p.causal), 'False'],
      ['sliding_window', pyLiteral(p.slidingWindow), 'None'],
      ['rotary', pyLiteral(p.rotary), 'False'],
      ['in_projection', pyLiteral(p.inputProjection), 'True'],
      ['out_projection', pyLiteral(p.outputProjection), 'True'],
      ['scaled', pyLiteral(p.scaled), 'True'],
    ]);
    e.module(call('Attention', [String(E), String(heads), ...kwargs([['num_kv_heads', String(kvHeads), String(heads)]]), ...common, ...masks]));
    e.line(`${e.outs[0]} = self.${e.name}(${[e.x[0], e.x[1], e.x[2]].filter(Boolean).join(', ')})`);
  },
  FeedForward(e) {
    const p = e.params;
    e.use('FeedForward');
    simple(
      e,
      call('FeedForward', [
        String(dim(e.inTypes[0], -1)),
        String(p.hiddenFeatures),
        ...kwargs([
          ['activation', pyLiteral(p.activation), "'relu'"],
          ['bias', pyLiteral(p.bias), 'True'],
          ['dropout', pyFloat(p.dropout as number), '0.0'],
        ]),
      ]),
    );
  },
  MixtureOfExperts(e) {
    const p = e.params;
    e.use('MixtureOfExperts');
    simple(
      e,
      call('MixtureOfExperts', [
        String(dim(e.inTypes[0], -1)),
        String(p.hiddenFeatures),
        ...kwargs([
          ['num_experts', String(p.numExperts), '8'],
          ['top_k', String(p.topK), '2'],
        ]),
      ]),
    );
  },
  TransformerEncoderLayer: (e) => transformer(e, false),
  TransformerDecoderLayer: (e) => transformer(e, true),
  RNN: (e) => recurrent(e, 'nn.RNN'),
  LSTM: (e) => recurrent(e, 'nn.LSTM'),
  GRU: (e) => recurrent(e, 'nn.GRU'),
  CrossEntropyLoss: (e) =>
    loss(
      e,
      call(
        'nn.CrossEntropyLoss',
        kwargs([
          ['ignore_index', String(e.params.ignoreIndex), '-100'],
          ['reduction', pyLiteral(e.params.reduction), "'mean'"],
          ['label_smoothing', pyFloat(e.params.labelSmoothing as number), '0.0'],
        ]),
      ),
    ),
  MSELoss: (e) => loss(e, call('nn.MSELoss', kwargs([['reduction', pyLiteral(e.params.reduction), "'mean'"]]))),
  L1Loss: (e) => loss(e, call('nn.L1Loss', kwargs([['reduction', pyLiteral(e.params.reduction), "'mean'"]]))),
  MultiMarginLoss: (e) =>
    loss(
      e,
      call(
        'nn.MultiMarginLoss',
        kwargs([
          ['p', String(e.params.p), '1'],
          ['margin', pyFloat(e.params.margin as number), '1.0'],
          ['reduction', pyLiteral(e.params.reduction), "'mean'"],
        ]),
      ),
    ),
  BCEWithLogitsLoss: (e) => loss(e, call('nn.BCEWithLogitsLoss', kwargs([['reduction', pyLiteral(e.params.reduction), "'mean'"]]))),
  OnnxOp: (e) => onnxOp(e),
  MatMul: (e) => e.line(`${e.outs[0]} = ${e.x[0]} @ ${e.x[1]}`),
  Transpose: (e) => e.line(`${e.outs[0]} = ${e.x[0]}.transpose(${e.params.dim0}, ${e.params.dim1})`),
  Permute: (e) => e.line(`${e.outs[0]} = ${e.x[0]}.permute(${(e.params.dims as number[]).join(', ')})`),
  Unsqueeze: (e) => e.line(`${e.outs[0]} = ${e.x[0]}.unsqueeze(${e.params.dim})`),
  Squeeze: (e) => e.line(`${e.outs[0]} = ${e.x[0]}.squeeze(${e.params.dim})`),
  Scale: (e) => e.line(`${e.outs[0]} = ${e.x[0]} * ${e.params.sqrtOf === null ? pyLiteral(e.params.factor) : `(1 / math.sqrt(${e.params.sqrtOf}))`}`),
  Mask(e) {
    const x = e.x[0];
    if (e.params.kind === 'pattern') {
      e.line(`${e.outs[0]} = ${x} + torch.zeros(${x}.shape[-2:]).masked_fill(torch.tensor(${pyLiteral(e.params.pattern)}) == 0, float('-inf'))`);
      return;
    }
    e.use('causal_mask');
    e.line(`${e.outs[0]} = ${x} + causal_mask(${x}.shape[-2], ${x}.shape[-1]${e.params.kind === 'window' ? `, ${e.params.window}` : ''})`);
  },
};

const camel = (snake: string): string => snake.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());

function conv(e: Emit, cls: string): void {
  const p = e.params;
  const padding = typeof p.padding === 'string' ? pyLiteral(p.padding) : pySize(p.padding);
  simple(
    e,
    call(cls, [
      String(dim(e.inTypes[0], 1)),
      String(p.outChannels),
      pySize(p.kernelSize),
      ...kwargs([
        ['stride', pySize(p.stride), '1'],
        ['padding', padding, '0'],
        ['dilation', pySize(p.dilation), '1'],
        ['groups', String(p.groups), '1'],
        ['bias', pyLiteral(p.bias), 'True'],
      ]),
    ]),
  );
}

function batchNorm(e: Emit, cls: string): void {
  const p = e.params;
  simple(
    e,
    call(cls, [
      String(dim(e.inTypes[0], 1)),
      ...kwargs([
        ['eps', pyLiteral(p.eps), '0.00001'],
        ['momentum', pyLiteral(p.momentum), '0.1'],
        ['affine', pyLiteral(p.affine), 'True'],
        ['track_running_stats', pyLiteral(p.trackRunningStats), 'True'],
      ]),
    ]),
  );
}

function transformer(e: Emit, decoder: boolean): void {
  const p = e.params;
  const cls = decoder ? 'nn.TransformerDecoderLayer' : 'nn.TransformerEncoderLayer';
  const args = kwargs([
    ['dim_feedforward', String(p.dimFeedforward), '2048'],
    ['dropout', pyFloat(p.dropout as number), '0.1'],
    ['activation', pyLiteral(p.activation), "'relu'"],
    ['layer_norm_eps', pyLiteral(p.layerNormEps), '0.00001'],
    ['batch_first', 'True'],
    ['norm_first', pyLiteral(p.normFirst), 'False'],
    // A torch >= 2.1 argument, written only where it matters.
    ['bias', pyLiteral(p.bias), 'True'],
  ]);
  e.module(call(cls, [String(dim(e.inTypes[0], 2)), String(p.nhead), ...args]));
  const x = e.x[0];
  let mask = '';
  if (p.causal) {
    e.use('causal_mask');
    mask = `, ${decoder ? 'tgt_mask' : 'src_mask'}=causal_mask(${x}.shape[1], ${x}.shape[1])`;
  }
  e.line(`${e.outs[0]} = self.${e.name}(${decoder ? `${x}, ${e.x[1]}` : x}${mask})`);
}

function recurrent(e: Emit, cls: string): void {
  const p = e.params;
  const args = kwargs([
    ['num_layers', String(p.numLayers), '1'],
    ...(cls === 'nn.RNN' ? [['nonlinearity', pyLiteral(p.nonlinearity), "'tanh'"] as [string, string, string]] : []),
    ['bias', pyLiteral(p.bias), 'True'],
    ['batch_first', 'True'],
    ['dropout', pyFloat(p.dropout as number), '0.0'],
    ['bidirectional', pyLiteral(p.bidirectional), 'False'],
  ]);
  e.module(call(cls, [String(dim(e.inTypes[0], 2)), String(p.hiddenSize), ...args]));
  // Initial states as torch takes them, (layers·directions)×N×H, from N×H or batch-first N×(layers·directions)×H.
  const state = (port: number): string => {
    const t = e.inTypes[port];
    const v = e.x[port];
    if (!v || !t) return '';
    if (t.shape.length === 2) return `${v}.unsqueeze(0)`;
    return t.shape[0] === 'N' ? `${v}.transpose(0, 1).contiguous()` : v;
  };
  const [x, h0, c0] = [e.x[0], state(1), state(2)];
  if (cls === 'nn.LSTM') {
    const state = h0 || c0 ? `, (${h0 || `torch.zeros_like(${c0})`}, ${c0 || `torch.zeros_like(${h0})`})` : '';
    e.line(`${e.outs[0]}, (${e.outs[1]}, ${e.outs[2]}) = self.${e.name}(${x}${state})`);
  } else {
    e.line(`${e.outs[0]}, ${e.outs[1]} = self.${e.name}(${x}${h0 ? `, ${h0}` : ''})`);
  }
}

function loss(e: Emit, constructor: string): void {
  e.module(constructor);
  e.line(`${e.outs[0]} = self.${e.name}(${e.x[0]}, ${e.x[1]})`);
}

const TORCH_DTYPES: Record<number, string> = { 1: 'torch.float32', 2: 'torch.uint8', 3: 'torch.int8', 6: 'torch.int32', 7: 'torch.int64', 9: 'torch.bool', 11: 'torch.float64' };
const CONSTANT_DTYPES: Record<string, string> = { float32: 'torch.float32', int64: 'torch.int64', int32: 'torch.int32', bool: 'torch.bool', uint8: 'torch.uint8', int8: 'torch.int8' };

/** A constant tensor as Python. */
function pyTensor(values: ArrayLike<number | string | bigint>, shape: number[], dtype: string): string {
  const list = Array.from(values, (v) => (dtype === 'torch.bool' ? pyLiteral(Number(v) !== 0) : dtype.includes('float') ? pyLiteral(Number(v)) : String(v)));
  if (shape.length === 0) return `torch.tensor(${list[0]}, dtype=${dtype})`;
  const text = `torch.tensor([${list.join(', ')}], dtype=${dtype})`;
  return shape.length === 1 ? text : `${text}.reshape(${shape.join(', ')})`;
}

function pyTensorProto(t: TensorProto): string {
  return pyTensor(tensorValues(t), t.dims ?? [], TORCH_DTYPES[t.data_type ?? 1] ?? 'torch.float32');
}

/** Imported ONNX nodes: the matching torch call, or a NotImplementedError naming the op. */
function onnxOp(e: Emit): void {
  const p = e.params;
  const opType = p.opType as string;
  const specs = (p.onnxInputs as unknown as OnnxInput[] | null) ?? e.x.map(() => 'edge' as const);
  const weights = specs.filter((s): s is { weight: string; shape: number[] } => s !== null && typeof s === 'object' && 'weight' in s);
  if (weights.length > 0) {
    e.use('OnnxTensors');
    const isParam = new Set(e.report.params.map((t) => t.name));
    const list = (ws: typeof weights) => `[${ws.map((w) => `(${pyLiteral(w.weight)}, ${pyLiteral(w.shape)})`).join(', ')}]`;
    const params = weights.filter((w) => isParam.has(w.weight));
    const buffers = weights.filter((w) => !isParam.has(w.weight));
    e.module(call('OnnxTensors', [...(params.length ? [`parameters=${list(params)}`] : []), ...(buffers.length ? [`buffers=${list(buffers)}`] : [])]));
  }
  let edge = 0;
  const a = specs.map((s) => {
    if (s === 'edge') return e.x[edge++];
    if (s === null) return 'None';
    if ('weight' in s) return `self.${e.name}.${s.weight}`;
    return pyTensor(s.constant, s.shape, CONSTANT_DTYPES[s.dtype]);
  });
  const attributes = jsonAttributes((p.attributes ?? {}) as unknown as Record<string, JsonAttribute>);
  const expression = onnxExpression(opType, a, attributes, e, p.domain as string);
  const target = e.outs.length === 1 ? e.outs[0] : e.outs.join(', ');
  if (expression === null) {
    e.line(`raise NotImplementedError('${e.id}: the ONNX op ${p.domain ? `${p.domain}.` : ''}${opType} has no PyTorch translation in Netloom yet')`);
    return;
  }
  e.line(`${target} = ${expression}`);
}

/** The torch expression for one ONNX node, or null when Netloom has none. */
function onnxExpression(op: string, a: string[], attrs: Attributes, e: Emit, domain: string): string | null {
  if (domain) return null;
  const int = (name: string, fallback: number): number => Number(attrs.int(name, fallback));
  const float = (name: string, fallback: number): number => attrs.float(name, fallback);
  const ints = (name: string): number[] | undefined => attrs.ints(name)?.map(Number);
  const has = (i: number) => a[i] !== undefined && a[i] !== 'None';
  const integer = e.inTypes[0]?.dtype === 'int64';
  const unary: Record<string, string> = {
    Relu: 'torch.relu',
    Sigmoid: 'torch.sigmoid',
    Tanh: 'torch.tanh',
    Exp: 'torch.exp',
    Log: 'torch.log',
    Sqrt: 'torch.sqrt',
    Erf: 'torch.erf',
    Abs: 'torch.abs',
    Neg: 'torch.neg',
    Floor: 'torch.floor',
    Ceil: 'torch.ceil',
    Sin: 'torch.sin',
    Cos: 'torch.cos',
    Reciprocal: 'torch.reciprocal',
    Softplus: 'F.softplus',
    HardSwish: 'F.hardswish',
    Not: 'torch.logical_not',
  };
  if (unary[op]) return `${unary[op]}(${a[0]})`;
  const binary: Record<string, string> = { Add: '+', Sub: '-', Mul: '*', MatMul: '@' };
  if (binary[op]) return `${a[0]} ${binary[op]} ${a[1]}`;
  const reduceAxes = (i: number) => {
    if (has(i)) {
      e.use('as_ints');
      return `as_ints(${a[i]})`;
    }
    const given = ints('axes');
    return given ? pyLiteral(given) : `tuple(range(${a[0]}.dim()))`;
  };
  const reducers: Record<string, string> = { ReduceMean: 'torch.mean', ReduceSum: 'torch.sum', ReduceMax: 'torch.amax', ReduceMin: 'torch.amin' };
  if (reducers[op]) return `${reducers[op]}(${a[0]}, dim=${reduceAxes(1)}, keepdim=${int('keepdims', 1) ? 'True' : 'False'})`;
  switch (op) {
    case 'Div':
      return integer ? `torch.div(${a[0]}, ${a[1]}, rounding_mode='trunc')` : `${a[0]} / ${a[1]}`;
    case 'Pow':
      return `torch.pow(${a[0]}, ${a[1]})`;
    case 'Sum':
      return a.join(' + ');
    case 'Max':
    case 'Min':
      return a.slice(1).reduce((acc, x) => `torch.${op === 'Max' ? 'maximum' : 'minimum'}(${acc}, ${x})`, a[0]);
    case 'Equal':
      return `torch.eq(${a[0]}, ${a[1]})`;
    case 'Less':
      return `torch.lt(${a[0]}, ${a[1]})`;
    case 'Greater':
      return `torch.gt(${a[0]}, ${a[1]})`;
    case 'And':
      return `torch.logical_and(${a[0]}, ${a[1]})`;
    case 'Where':
      return `torch.where(${a[0]}, ${a[1]}, ${a[2]})`;
    case 'Identity':
    case 'Dropout':
      return a[0];
    case 'Gemm': {
      const A = int('transA', 0) ? `${a[0]}.t()` : a[0];
      const B = int('transB', 0) ? `${a[1]}.t()` : a[1];
      const alpha = float('alpha', 1);
      const beta = float('beta', 1);
      const product = alpha === 1 ? `${A} @ ${B}` : `${pyLiteral(alpha)} * (${A} @ ${B})`;
      return has(2) ? `${product} + ${beta === 1 ? a[2] : `${pyLiteral(beta)} * ${a[2]}`}` : product;
    }
    case 'Clip':
      return `torch.clamp(${a[0]}, ${has(1) ? a[1] : 'None'}, ${has(2) ? a[2] : 'None'})`;
    case 'HardSigmoid':
      return `torch.clamp(${pyLiteral(float('alpha', 0.2))} * ${a[0]} + ${pyLiteral(float('beta', 0.5))}, 0, 1)`;
    case 'Gelu':
      return `F.gelu(${a[0]}, approximate=${pyLiteral(attrs.string('approximate', 'none'))})`;
    case 'Transpose': {
      const perm = ints('perm');
      return perm ? `${a[0]}.permute(${perm.join(', ')})` : `${a[0]}.permute(*reversed(range(${a[0]}.dim())))`;
    }
    case 'Reshape':
      e.use('onnx_reshape');
      return `onnx_reshape(${a[0]}, ${a[1]})`;
    case 'Flatten': {
      const axis = int('axis', 1);
      return `${a[0]}.reshape(math.prod(${a[0]}.shape[:${axis}]), -1)`;
    }
    case 'Concat':
      return `torch.cat([${a.join(', ')}], dim=${int('axis', 0)})`;
    case 'Shape': {
      const start = int('start', 0);
      const end = attrs.get('end')?.i;
      return `torch.tensor(${a[0]}.shape[${start || ''}:${end === undefined ? '' : Number(end)}])`;
    }
    case 'Size':
      return `torch.tensor(${a[0]}.numel())`;
    case 'Gather':
      e.use('onnx_gather');
      return `onnx_gather(${a[0]}, ${a[1]}, ${int('axis', 0)})`;
    case 'Unsqueeze':
    case 'Squeeze': {
      const fn = op === 'Unsqueeze' ? 'onnx_unsqueeze' : 'onnx_squeeze';
      e.use(fn);
      const axes = has(1) ? a[1] : ints('axes') ? pyLiteral(ints('axes')) : null;
      return axes === null ? `${fn}(${a[0]})` : `${fn}(${a[0]}, ${axes})`;
    }
    case 'Slice':
      e.use('onnx_slice');
      return `onnx_slice(${a.slice(0, 5).join(', ')})`;
    case 'Split': {
      const axis = int('axis', 0);
      if (has(1)) {
        e.use('as_ints');
        return `torch.split(${a[0]}, as_ints(${a[1]}), dim=${axis})`;
      }
      const split = ints('split');
      return split ? `torch.split(${a[0]}, ${pyLiteral(split)}, dim=${axis})` : `torch.chunk(${a[0]}, ${e.outs.length}, dim=${axis})`;
    }
    case 'Softmax':
    case 'LogSoftmax':
      return `torch.${op === 'Softmax' ? 'softmax' : 'log_softmax'}(${a[0]}, ${int('axis', -1)})`;
    case 'Cast':
      return TORCH_DTYPES[int('to', 1)] ? `${a[0]}.to(${TORCH_DTYPES[int('to', 1)]})` : null;
    case 'Constant': {
      const t = attrs.get('value')?.t;
      if (t) return pyTensorProto(t);
      const f = attrs.get('value_float')?.f;
      if (f !== undefined) return `torch.tensor(${pyLiteral(f)})`;
      const i = attrs.get('value_int')?.i;
      if (i !== undefined) return `torch.tensor(${Number(i)})`;
      const is = ints('value_ints');
      return is ? `torch.tensor([${is.join(', ')}])` : null;
    }
    case 'ConstantOfShape': {
      e.use('as_ints');
      const t = attrs.get('value')?.t;
      const value = t ? tensorValues(t)[0] : 0;
      const dtype = TORCH_DTYPES[t?.data_type ?? 1] ?? 'torch.float32';
      return `torch.full(as_ints(${a[0]}), ${dtype.includes('float') ? pyFloat(value) : value}, dtype=${dtype})`;
    }
    case 'Expand':
      e.use('as_ints');
      return `${a[0]}.expand(torch.broadcast_shapes(${a[0]}.shape, tuple(as_ints(${a[1]}))))`;
    case 'Tile':
      e.use('as_ints');
      return `${a[0]}.repeat(as_ints(${a[1]}))`;
    case 'Range':
      return `torch.arange(${a[0]}.item(), ${a[1]}.item(), ${a[2]}.item())`;
    case 'GlobalAveragePool':
      return `${a[0]}.mean(dim=tuple(range(2, ${a[0]}.dim())), keepdim=True)`;
    case 'LayerNormalization': {
      const axis = int('axis', -1);
      return `F.layer_norm(${a[0]}, ${a[0]}.shape[${axis}:], ${a[1]}, ${has(2) ? a[2] : 'None'}, ${pyLiteral(float('epsilon', 1e-5))})`;
    }
    case 'Einsum':
      return `torch.einsum(${pyLiteral(attrs.string('equation', ''))}, ${a.join(', ')})`;
    default:
      return null;
  }
}

/** Unique Python identifiers for node ids ("layer1.0/conv" → "layer1_0_conv"). */
class Names {
  private used = new Set<string>(TAKEN);
  private byId = new Map<string, string>();
  get(id: string): string {
    let name = this.byId.get(id);
    if (name === undefined) this.byId.set(id, (name = this.fresh(id)));
    return name;
  }
  fresh(text: string): string {
    let base = text.replace(/\W+/g, '_').replace(/^_+|_+$/g, '') || 'layer';
    if (/^\d/.test(base)) base = `n${base}`;
    if (PYTHON_KEYWORDS.has(base)) base = `${base}_`;
    let name = base;
    for (let k = 2; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }
}

/** The model document as a model.py (see the file header). Throws CompileError for a model with errors. */
export function toPyTorch(doc: ModelDocument): string {
  const inference = inferShapes(doc);
  const errors = inference.diagnostics().filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new CompileError(`the model has ${errors.length} error(s); run "netloom info" to see them`, errors);
  const reports = inference.nodes();
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const names = new Names();
  for (const r of reports) names.get(r.id);

  // Python variables and ONNX names of every layer output.
  const variables = new Map<string, string>();
  const onnxNames = new Map<string, string>();
  for (const r of reports) {
    const ports = outputPorts(getLayer(r.op)!, byId.get(r.id)!.params);
    r.outputs!.forEach((_, port) => {
      variables.set(`${r.id}:${port}`, port === 0 ? names.get(r.id) : names.fresh(`${names.get(r.id)}_${ports[port].name}`));
      onnxNames.set(`${r.id}:${port}`, ports.length === 1 ? r.id : `${r.id}.${ports[port].name}`);
    });
  }

  const used = new Set<string>();
  const use = (snippet: string): void => {
    if (used.has(snippet)) return;
    for (const need of PYTHON_LIBRARY[snippet].needs ?? []) use(need);
    used.add(snippet);
  };
  const init: string[] = [];
  const ties: string[] = [];
  const forward: string[] = [];
  const inputs: { onnx: string; py: string }[] = [];
  const weightNames: [string, string][] = [];

  for (const r of reports) {
    const node = byId.get(r.id)!;
    const spec = getLayer(r.op)!;
    const name = names.get(r.id);
    if (r.op === 'Input') {
      inputs.push({ onnx: r.id, py: name });
      continue;
    }
    for (const t of [...r.params, ...r.buffers]) {
      const file = `${t.tiedTo ?? r.id}.${t.name}`;
      if (file !== `${name}.${t.name}`) weightNames.push([`${name}.${t.name}`, file]);
    }
    const emit: Emit = {
      id: r.id,
      name,
      report: r,
      params: resolveParams(spec.params, node.params ?? {}).values,
      x: inference.incoming(r.id).map((c) => (c ? variables.get(`${c.node}:${c.port}`)! : '')),
      inTypes: r.inputs,
      outTypes: r.outputs!,
      outs: r.outputs!.map((_, port) => variables.get(`${r.id}:${port}`)!),
      module: (constructor) => init.push(`self.${name} = ${constructor}`),
      line: (text) => forward.push(text),
      use,
      tie: (line) => ties.push(line),
      pyName: (id) => names.get(id),
    };
    if (ACTIVATIONS[r.op]) simple(emit, ACTIVATIONS[r.op](emit));
    else if (LAYERS[r.op]) LAYERS[r.op](emit);
    else emit.line(`raise NotImplementedError('${r.id}: Netloom has no PyTorch translation of the ${r.op} layer yet')`);
  }

  const read = new Set(reports.flatMap((r) => inference.incoming(r.id).map((c) => c?.node)));
  const sinks = reports.filter((r) => !read.has(r.id) && r.op !== 'Input').flatMap((r) => r.outputs!.map((_, port) => `${r.id}:${port}`));
  const returned = sinks.map((k) => variables.get(k)!);

  const library = Object.keys(PYTHON_LIBRARY)
    .filter((k) => used.has(k))
    .map((k) => PYTHON_LIBRARY[k].code.trim());
  const indent = (lines: string[], depth: number) => lines.map((l) => `${' '.repeat(depth)}${l}`).join('\n');
  const weightTable = weightNames.length === 0 ? '{}' : `{\n${weightNames.map(([k, v]) => `    ${pyLiteral(k)}: ${pyLiteral(v)},`).join('\n')}\n}`;

  return `"""${doc.name.replace(/"""/g, "'''").replace(/\\/g, '/')}: a PyTorch model generated by Netloom from its model document.

Needs only torch and numpy. Run it as
    python3 model.py weights.safetensors ${inputs.length === 1 ? 'input.npy' : inputs.map((i) => `${i.onnx}=${i.py}.npy`).join(' ')} ${sinks.length === 1 ? 'output.npy' : 'out_folder'}
or import it: model = load_weights(Model().eval(), 'weights.safetensors').
"""
import json
import math
import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


${library.length > 0 ? `${library.join('\n\n\n')}\n\n\n` : ''}class Model(nn.Module):
    def __init__(self):
        super().__init__()
${indent(init.length > 0 || ties.length > 0 ? [...init, ...ties] : ['pass'], 8)}

    def forward(self, ${inputs.map((i) => i.py).join(', ')}):
${indent([...forward, `return ${returned.join(', ')}`], 8)}


# The model's inputs and outputs under their ONNX names, in the order forward takes and returns them.
INPUTS = [${inputs.map((i) => pyLiteral(i.onnx)).join(', ')}]
OUTPUTS = [${sinks.map((k) => pyLiteral(onnxNames.get(k)!)).join(', ')}]
# state_dict keys whose tensor has another name in Netloom's weights file (Python names, tied weights).
WEIGHT_NAMES = ${weightTable}


${PYTHON_RUNTIME.trim()}
`;
}
