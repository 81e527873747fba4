/** Convolution and pooling: Conv1d, Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, LocalResponseNorm. */
import { formatShape, numel, type Dim } from '../graph/dim.ts';
import type { ParamValue } from '../graph/types.ts';
import { attr, attrFloat, attrInt, attrInts, attrString } from '../onnx/attributes.ts';
import { compact, floatArray, singleOutput, symmetricPads } from '../onnx/import-forms.ts';
import { isFloatTensor } from '../onnx/proto.ts';
import type { ImportPattern, InferContext, LayerSpec, LowerContext, ParamReader, ParamSchema, ParamTensor } from './spec.ts';
import { BIAS, fanInUniform, ONE_INPUT, ONE_OUTPUT, expectFloat, expectRank, importUnary, knownDim, mulOrNull, only, param, tensor, windowOut } from './common.ts';

const AXES: Record<number, string[]> = { 1: ['L'], 2: ['H', 'W'] };
const LAYOUT: Record<number, string> = { 1: 'N×C×L', 2: 'N×C×H×W' };

const windowParams = (what: string): Record<string, ParamSchema> => ({
  kernelSize: { type: 'size', label: 'Kernel size', help: `Size F of the ${what} window; one number or one per axis.`, key: true, min: 1 },
  stride: { type: 'size', label: 'Stride', help: 'Step S between windows.', default: 1, min: 1 },
  padding: { type: 'padding', label: 'Padding', help: "Zero padding P on each side; or 'same' (keeps the size, stride 1) or 'valid' (none).", default: 0, min: 0 },
  dilation: { type: 'size', label: 'Dilation', help: 'Spacing D between kernel elements.', default: 1, min: 1 },
});

/** Padding, resolving 'same' and 'valid' to numbers per axis. */
function paddingOf(ctx: ParamReader & { fail?: InferContext['fail'] }, kernel: number[], dilation: number[], stride: number[], rank: number): number[] {
  const p = ctx.params.padding;
  if (p === 'valid') return new Array(rank).fill(0);
  if (p === 'same') {
    if (stride.some((s) => s !== 1)) ctx.fail?.("padding 'same' needs stride 1 (as in PyTorch)", { field: 'padding' });
    const total = kernel.map((k, i) => dilation[i] * (k - 1));
    if (total.some((t) => t % 2 !== 0)) ctx.fail?.("padding 'same' needs an odd effective kernel size here (PyTorch pads unevenly otherwise)", { field: 'padding' });
    return total.map((t) => t / 2);
  }
  return ctx.tuple('padding', rank);
}

function conv(rank: 1 | 2): LayerSpec {
  return {
    op: `Conv${rank}d`,
    imports: [
      {
        // A Conv with constant weights of this rank and explicit, symmetric padding.
        onnx: ['Conv'],
        take(n, ctx) {
          const [x, wName, bName] = n.input;
          const w = ctx.constant(wName);
          const b = bName ? ctx.constant(bName) : undefined;
          if (!w || !isFloatTensor(w) || (bName && !b) || ctx.constant(x) || ctx.isInteger(x)) return false;
          const autoPad = attrString(n, 'auto_pad');
          const pads = symmetricPads(attrInts(n, 'pads'), rank);
          if (w.dims!.length - 2 !== rank || !pads || (autoPad && autoPad !== 'NOTSET')) return false;
          const ones = new Array(rank).fill(1);
          const params = {
            outChannels: w.dims![0],
            kernelSize: compact(w.dims!.slice(2)),
            stride: compact(attrInts(n, 'strides') ?? ones),
            padding: compact(pads),
            dilation: compact(attrInts(n, 'dilations') ?? ones),
            groups: attrInt(n, 'group', 1),
            bias: !!b,
          };
          const id = ctx.add(`Conv${rank}d`, params, [x], n.output, n);
          ctx.setWeight(id, 'weight', w.dims!, floatArray(w));
          if (b) ctx.setWeight(id, 'bias', b.dims!, floatArray(b));
          return true;
        },
      },
    ],
    starting: { outChannels: 16, kernelSize: 3 },
    category: 'Linear & convolution',
    summary: `${rank}-D convolution: outChannels filters slid over the input.`,
    doc: 'Each of K filters spans all input channels (C/groups with grouping) and an F×F window; it slides with stride S over the zero-padded input. Output size per axis: W2 = (W1 − F + 2P)/S + 1. Parameters: F·F·C·K weights and K biases.',
    params: {
      outChannels: { type: 'int', label: 'Out channels', help: 'Number of filters K.', min: 1, key: true },
      ...windowParams('filter'),
      groups: { type: 'int', label: 'Groups', help: 'Split channels into groups convolved separately (depthwise when equal to the channels).', default: 1, min: 1 },
      bias: BIAS,
    },
    inputs: ONE_INPUT,
    outputs: ONE_OUTPUT,
    infer(ctx: InferContext) {
      const x = only(ctx);
      expectFloat(ctx, x);
      expectRank(ctx, x, [rank + 2], LAYOUT[rank]);
      const inC = knownDim(ctx, x.shape[1], 'number of input channels');
      const outC = ctx.int('outChannels');
      const groups = ctx.int('groups');
      if (inC % groups !== 0) ctx.fail(`input channels ${inC} are not divisible by groups ${groups}`, { field: 'groups' });
      if (outC % groups !== 0) ctx.fail(`out channels ${outC} are not divisible by groups ${groups}`, { field: 'groups' });
      const k = ctx.tuple('kernelSize', rank);
      const s = ctx.tuple('stride', rank);
      const d = ctx.tuple('dilation', rank);
      const p = paddingOf(ctx, k, d, s, rank);
      const spatial = x.shape.slice(2).map((size, i) => windowOut(ctx, { axis: AXES[rank][i], size, kernel: k[i], stride: s[i], padding: p[i], dilation: d[i] }));
      ctx.formula(() => `D2 = K = ${outC}`);
      const perGroup = inC / groups;
      const kText = k.join('·');
      const params: ParamTensor[] = [
        param('weight', [outC, perGroup, ...k], `K·(C/groups)·${rank === 2 ? 'F·F' : 'F'} = ${outC}·${perGroup}·${kText}`, fanInUniform(perGroup * k.reduce((a, b) => a * b, 1))),
      ];
      if (ctx.bool('bias')) params.push(param('bias', [outC], 'K', fanInUniform(perGroup * k.reduce((a, b) => a * b, 1))));
      const outPositions = numel(spatial);
      const macs = mulOrNull(outPositions, outC, perGroup, ...k);
      return {
        outputs: [tensor(['N', outC, ...spatial])],
        params,
        macs,
        macsFormula: `outputs·(C/groups)·F² = ${outC}·${spatial.join('·')}·${perGroup}·${kText}`,
      };
    },
    lower(ctx: LowerContext) {
      const k = ctx.tuple('kernelSize', rank);
      const s = ctx.tuple('stride', rank);
      const d = ctx.tuple('dilation', rank);
      const p = paddingOf(ctx, k, d, s, rank);
      const inputs = [ctx.inputs[0], ctx.weight('weight')];
      if (ctx.bool('bias')) inputs.push(ctx.weight('bias'));
      ctx.b.op('Conv', inputs, { kernel_shape: k, strides: s, dilations: d, pads: [...p, ...p], group: ctx.int('groups') }, ctx.outputs[0]);
    },
  };
}

const ConvTranspose2d: LayerSpec = {
  op: 'ConvTranspose2d',
  imports: [
    {
      // Padding given as pads, not as an output_shape to reach.
      onnx: ['ConvTranspose'],
      take(n, ctx) {
        const [x, wName, bName] = n.input;
        const w = ctx.constant(wName);
        const b = bName ? ctx.constant(bName) : undefined;
        const pads = symmetricPads(attrInts(n, 'pads'), 2);
        const autoPad = attrString(n, 'auto_pad');
        if (!w || w.dims!.length !== 4 || (bName && !b) || ctx.constant(x) || !pads || attr(n, 'output_shape') || (autoPad && autoPad !== 'NOTSET')) return false;
        const groups = attrInt(n, 'group', 1);
        const id = ctx.add(
          'ConvTranspose2d',
          {
            outChannels: w.dims![1] * groups,
            kernelSize: compact(w.dims!.slice(2)),
            stride: compact(attrInts(n, 'strides') ?? [1, 1]),
            padding: compact(pads),
            outputPadding: compact(attrInts(n, 'output_padding') ?? [0, 0]),
            dilation: compact(attrInts(n, 'dilations') ?? [1, 1]),
            groups,
            bias: !!b,
          },
          [x],
          n.output,
          n,
        );
        ctx.setWeight(id, 'weight', w.dims!, floatArray(w));
        if (b) ctx.setWeight(id, 'bias', b.dims!, floatArray(b));
        return true;
      },
    },
  ],
  starting: { outChannels: 16, kernelSize: 2, stride: 2 },
  category: 'Linear & convolution',
  summary: 'Transposed ("deconvolution") 2-D convolution, for upsampling.',
  doc: 'The gradient of Conv2d with respect to its input, used as a learnable upsampler. Output size: H2 = (H1 − 1)·S − 2P + D·(F − 1) + outputPadding + 1.',
  params: {
    outChannels: { type: 'int', label: 'Out channels', help: 'Number of output channels.', min: 1, key: true },
    kernelSize: { type: 'size', label: 'Kernel size', help: 'Size F of the kernel.', min: 1, key: true },
    stride: { type: 'size', label: 'Stride', help: 'Upsampling factor S.', default: 1, min: 1 },
    padding: { type: 'size', label: 'Padding', help: 'Removes P rows and columns from each side of the output.', default: 0, min: 0 },
    outputPadding: { type: 'size', label: 'Output padding', help: 'Extra size added to one side of the output.', default: 0, min: 0 },
    dilation: { type: 'size', label: 'Dilation', help: 'Spacing D between kernel elements.', default: 1, min: 1 },
    groups: { type: 'int', label: 'Groups', help: 'Channel groups.', default: 1, min: 1 },
    bias: BIAS,
  },
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    expectFloat(ctx, x);
    expectRank(ctx, x, [4], LAYOUT[2]);
    const inC = knownDim(ctx, x.shape[1], 'number of input channels');
    const outC = ctx.int('outChannels');
    const groups = ctx.int('groups');
    if (inC % groups !== 0 || outC % groups !== 0) ctx.fail(`channels (${inC} in, ${outC} out) must be divisible by groups ${groups}`, { field: 'groups' });
    const [k, s, p, op, d] = ['kernelSize', 'stride', 'padding', 'outputPadding', 'dilation'].map((n) => ctx.tuple(n, 2));
    op.forEach((v, i) => {
      if (v >= s[i] && v >= d[i]) ctx.fail(`outputPadding ${v} must be smaller than the stride or the dilation`, { field: 'outputPadding' });
    });
    const spatial = x.shape.slice(2).map((size, i): Dim => {
      const axis = AXES[2][i];
      const general = `${axis}2 = (${axis}1 − 1)·S − 2P + D·(F − 1) + outputPadding + 1`;
      if (typeof size !== 'number') {
        ctx.formula(() => `${general} (symbolic ${size})`);
        return `(${size}·${s[i]} + ${-s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1})`;
      }
      const out = (size - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1;
      ctx.formula(() => `${general} = (${size} − 1)·${s[i]} − ${2 * p[i]} + ${d[i]}·(${k[i]} − 1) + ${op[i]} + 1 = ${out}`);
      if (out <= 0) ctx.fail(`output ${axis} would be ${out}`, { field: 'padding' });
      return out;
    });
    const params: ParamTensor[] = [param('weight', [inC, outC / groups, ...k], `C·(K/groups)·F·F = ${inC}·${outC / groups}·${k.join('·')}`, fanInUniform((outC / groups) * k[0] * k[1]))];
    if (ctx.bool('bias')) params.push(param('bias', [outC], 'K', fanInUniform((outC / groups) * k[0] * k[1])));
    const macs = mulOrNull(numel(x.shape.slice(1)), outC / groups, k[0], k[1]);
    return { outputs: [tensor(['N', outC, ...spatial])], params, macs, macsFormula: `inputs·(K/groups)·F² = ${x.shape.slice(1).join('·')}·${outC / groups}·${k.join('·')}` };
  },
  lower(ctx: LowerContext) {
    const [k, s, p, op, d] = ['kernelSize', 'stride', 'padding', 'outputPadding', 'dilation'].map((n) => ctx.tuple(n, 2));
    const inputs = [ctx.inputs[0], ctx.weight('weight')];
    if (ctx.bool('bias')) inputs.push(ctx.weight('bias'));
    ctx.b.op('ConvTranspose', inputs, { kernel_shape: k, strides: s, dilations: d, pads: [...p, ...p], output_padding: op, group: ctx.int('groups') }, ctx.outputs[0]);
  },
};

function pool2d(op: 'MaxPool2d' | 'AvgPool2d'): LayerSpec {
  const isMax = op === 'MaxPool2d';
  const fromOnnx: ImportPattern = {
    onnx: [isMax ? 'MaxPool' : 'AveragePool'],
    take(n, ctx) {
      const x = n.input[0];
      const k = attrInts(n, 'kernel_shape');
      const pads = symmetricPads(attrInts(n, 'pads'), 2);
      const autoPad = attrString(n, 'auto_pad');
      // PyTorch (and so the catalogue) pads at most half a window; MaxPool's indices output is not kept.
      if (!singleOutput(n) || !ctx.isValue(x) || k?.length !== 2 || !pads || pads.some((p, i) => p > k[i] / 2) || (autoPad && autoPad !== 'NOTSET') || attrInt(n, 'storage_order', 0) !== 0)
        return false;
      const params: Record<string, ParamValue> = { kernelSize: compact(k), stride: compact(attrInts(n, 'strides') ?? [1, 1]), padding: compact(pads), ceilMode: attrInt(n, 'ceil_mode', 0) === 1 };
      if (isMax) params.dilation = compact(attrInts(n, 'dilations') ?? [1, 1]);
      else params.countIncludePad = attrInt(n, 'count_include_pad', 0) === 1;
      ctx.add(op, params, [x], n.output, n);
      return true;
    },
  };
  const params: Record<string, ParamSchema> = {
    kernelSize: { type: 'size', label: 'Kernel size', help: 'Size F of the pooling window.', min: 1, key: true },
    stride: { type: 'size', label: 'Stride', help: 'Step S between windows; defaults to the kernel size.', default: null, nullable: true, min: 1 },
    padding: { type: 'size', label: 'Padding', help: `Implicit ${isMax ? '−∞' : 'zero'} padding P on each side (at most half the kernel).`, default: 0, min: 0 },
    ...(isMax ? { dilation: { type: 'size', label: 'Dilation', help: 'Spacing between window elements.', default: 1, min: 1 } as ParamSchema } : {}),
    ceilMode: { type: 'bool', label: 'Ceil mode', help: 'Round the output size up instead of down.', default: false },
    ...(isMax ? {} : { countIncludePad: { type: 'bool', label: 'Count padding', help: 'Include the zero padding in the average.', default: true } as ParamSchema }),
  };
  return {
    op,
    imports: [fromOnnx],
    starting: { kernelSize: 2 },
    category: 'Pooling',
    summary: isMax ? 'Takes the maximum of each window.' : 'Takes the average of each window.',
    doc: `Downsamples each channel independently with a ${isMax ? 'max' : 'mean'} over F×F windows at stride S. Output size: W2 = (W1 − F)/S + 1 (with padding, (W1 − F + 2P)/S + 1). Introduces zero parameters.`,
    params,
    inputs: ONE_INPUT,
    outputs: ONE_OUTPUT,
    infer(ctx: InferContext) {
      const x = only(ctx);
      expectRank(ctx, x, [4], LAYOUT[2]);
      const k = ctx.tuple('kernelSize', 2);
      const s = ctx.params.stride === null ? k : ctx.tuple('stride', 2);
      const p = ctx.tuple('padding', 2);
      const d = isMax ? ctx.tuple('dilation', 2) : [1, 1];
      p.forEach((v, i) => {
        if (v > k[i] / 2) ctx.fail(`padding ${v} must be at most half the kernel size ${k[i]}`, { field: 'padding' });
      });
      const spatial = x.shape.slice(2).map((size, i) => windowOut(ctx, { axis: AXES[2][i], size, kernel: k[i], stride: s[i], padding: p[i], dilation: d[i], ceil: ctx.bool('ceilMode') }));
      const macs = isMax ? 0 : mulOrNull(knownOr(x.shape[1]), numel(spatial), k[0] * k[1]);
      return { outputs: [tensor([x.shape[0], x.shape[1], ...spatial])], macs };
    },
    lower(ctx: LowerContext) {
      const k = ctx.tuple('kernelSize', 2);
      const p = ctx.tuple('padding', 2);
      const attrs = { kernel_shape: k, strides: ctx.params.stride === null ? k : ctx.tuple('stride', 2), pads: [...p, ...p], ceil_mode: ctx.bool('ceilMode') ? 1 : 0 };
      if (isMax) ctx.b.op('MaxPool', [ctx.inputs[0]], { ...attrs, dilations: ctx.tuple('dilation', 2) }, ctx.outputs[0]);
      else ctx.b.op('AveragePool', [ctx.inputs[0]], { ...attrs, count_include_pad: ctx.bool('countIncludePad') ? 1 : 0 }, ctx.outputs[0]);
    },
  };
}

const knownOr = (d: Dim): number | null => (typeof d === 'number' ? d : null);

const AdaptiveAvgPool2d: LayerSpec = {
  op: 'AdaptiveAvgPool2d',
  imports: [importUnary('GlobalAveragePool', 'AdaptiveAvgPool2d', () => ({ outputSize: 1 }))],
  category: 'Pooling',
  summary: 'Averages to a fixed output size, whatever the input size.',
  doc: 'Chooses window sizes so the output is exactly outputSize (1 gives global average pooling). Introduces zero parameters.',
  params: {
    outputSize: { type: 'size', label: 'Output size', help: 'Target H×W; one number for a square.', default: 1, min: 1, key: true },
  },
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    expectRank(ctx, x, [4], LAYOUT[2]);
    const out = ctx.tuple('outputSize', 2);
    ctx.formula(() => `H2×W2 = outputSize = ${out.join('×')}`);
    const macs = mulOrNull(knownOr(x.shape[1]), numel(x.shape.slice(2)));
    return { outputs: [tensor([x.shape[0], x.shape[1], ...out])], macs };
  },
  lower(ctx: LowerContext) {
    const b = ctx.b;
    const out = ctx.tuple('outputSize', 2);
    const size = ctx.inputTypes[0]!.shape.slice(2);
    if (out[0] === 1 && out[1] === 1) return void b.op('GlobalAveragePool', [ctx.inputs[0]], {}, ctx.outputs[0]);
    if (size.some((d) => typeof d !== 'number')) throw new Error(`AdaptiveAvgPool2d to ${out.join('×')} needs a known input size to export`);
    const [H, W] = size as number[];
    if (H % out[0] === 0 && W % out[1] === 0) {
      const k = [H / out[0], W / out[1]];
      return void b.op('AveragePool', [ctx.inputs[0]], { kernel_shape: k, strides: k }, ctx.outputs[0]);
    }
    // PyTorch's windows: start ⌊i·in/out⌋, end ⌈(i + 1)·in/out⌉, averaged one axis at a time.
    const pool = (x: string, axis: number, inSize: number, outSize: number, name?: string) => {
      const cells = Array.from({ length: outSize }, (_, i) => b.reduce('ReduceMean', b.slice(x, axis, Math.floor((i * inSize) / outSize), Math.ceil(((i + 1) * inSize) / outSize)), [axis], true));
      return b.op('Concat', cells, { axis }, name);
    };
    pool(pool(ctx.inputs[0], 2, H, out[0]), 3, W, out[1], ctx.outputs[0]);
  },
};

const LocalResponseNorm: LayerSpec = {
  op: 'LocalResponseNorm',
  imports: [importUnary('LRN', 'LocalResponseNorm', (n) => ({ size: attrInt(n, 'size', 5), alpha: attrFloat(n, 'alpha', 1e-4), beta: attrFloat(n, 'beta', 0.75), k: attrFloat(n, 'bias', 1) }))],
  category: 'Normalisation & regularisation',
  summary: "Normalises across neighbouring channels (AlexNet's LRN).",
  doc: 'b = a / (k + α/n · Σ a²)^β over `size` neighbouring channels, as in AlexNet. No parameters.',
  params: {
    size: { type: 'int', label: 'Size', help: 'Number of neighbouring channels n.', min: 1, default: 5, key: true },
    alpha: { type: 'float', label: 'Alpha', help: 'Multiplicative factor α.', default: 1e-4 },
    beta: { type: 'float', label: 'Beta', help: 'Exponent β.', default: 0.75 },
    k: { type: 'float', label: 'k', help: 'Additive constant k.', default: 1 },
  },
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    if (x.shape.length < 3) ctx.fail(`expects an input with channels and at least one spatial axis, got ${formatShape(x.shape)}`);
    return { outputs: [x] };
  },
  lower(ctx: LowerContext) {
    ctx.b.op('LRN', [ctx.inputs[0]], { size: ctx.int('size'), alpha: { float: ctx.float('alpha') }, beta: { float: ctx.float('beta') }, bias: { float: ctx.float('k') } }, ctx.outputs[0]);
  },
};

export const convLayers: LayerSpec[] = [conv(1), conv(2), ConvTranspose2d, pool2d('MaxPool2d'), pool2d('AvgPool2d'), AdaptiveAvgPool2d, LocalResponseNorm];
