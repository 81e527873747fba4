/**
 * BatchNormalization in training graphs. Its gradient, in the classic two-reduction form with every
 * per-channel term on C-sized tensors: full-size work is the two sums Σg and Σg·(x − μ), one
 * per-channel affine map of x̂ = (x − μ)/σ, and dx's subtraction and scaling; training mode (the
 * batch's statistics, which depend on x) and inference mode (given statistics) share it. And the form
 * a training graph runs it in (`batchNormsAsInference`). The gradient writes the centred input and the
 * element count exactly as the forward pass's statistics do, so that the step graph computes each once
 * (mergeDuplicateNodes).
 */
import { attr, attrInt } from '../onnx/attributes.ts';
import type { OnnxBuilder } from '../onnx/builder.ts';
import { DataType } from '../onnx/proto.ts';
import type { TensorType } from '../graph/dim.ts';
import type { GradContext } from './rules.ts';

/**
 * A per-channel mean or sum over `axes`, accumulated in float64 where the engine has float64 (cpu, cuda,
 * wasm: see stepOptionsFor): ONNX Runtime sums float32 in float32, where torch's CPU kernels accumulate
 * in double, and BatchNorm's sums of many values that cancel (Σg, Σg·(x − μ)) then lose digits.
 */
function channelReduce(b: OnnxBuilder, op: 'ReduceMean' | 'ReduceSum', v: string, axes: number[], float64: boolean, out?: string): string {
  if (!float64) return b.reduce(op, v, axes, false, out);
  return b.op('Cast', [b.reduce(op, b.op('Cast', [v], { to: DataType.DOUBLE }), axes, false)], { to: DataType.FLOAT }, out);
}

/** A [C] tensor shaped to broadcast over the batch and spatial axes of a rank-`rank` input. */
const perChannel = (b: OnnxBuilder, v: string, rank: number): string => b.reshape(v, [-1, ...new Array(rank - 2).fill(1)]);

/** x − μ with μ of shape [C]. */
const centre = (b: OnnxBuilder, x: string, mean: string, rank: number): string => b.op('Sub', [x, perChannel(b, mean, rank)]);

/**
 * Gradients of x, scale, bias, mean and variance (the last two only in inference mode, where they are
 * inputs), for an input of the given rank with C channels.
 */
export function batchNormGrad({ b, node, grads: [g], needs, withoutFloat64 }: GradContext, rank: number, C: number): (string | null)[] {
  if (!g) return [null, null, null, null, null];
  const [x, scale, , inputMean, inputVar] = node.input;
  const axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
  const sum = (v: string) => channelReduce(b, 'ReduceSum', v, axes, !withoutFloat64);
  const training = attrInt(node, 'training_mode', 0) === 1;
  const eps = attr(node, 'epsilon')?.f ?? 1e-5;

  // With momentum 0 (as BatchNorm's training lowering writes it) the "running" outputs are the batch's mean and biased variance.
  const statsGiven = !training || ((attr(node, 'momentum')?.f ?? 0.9) === 0 && !!node.output[1] && !!node.output[2]);
  const mean = !training ? inputMean : statsGiven ? node.output[1] : channelReduce(b, 'ReduceMean', x, axes, !withoutFloat64);
  const centred = centre(b, x, mean, rank);
  const variance = !training ? inputVar : statsGiven ? node.output[2] : channelReduce(b, 'ReduceMean', b.op('Mul', [centred, centred]), axes, !withoutFloat64);
  const std = b.op('Sqrt', [b.op('Add', [variance, b.floats([eps])])]); // σ
  const sumG = needs[0] || needs[2] || needs[3] ? sum(g) : null;
  // Σg·x̂ with x̂ = (x − μ)/σ: the scale's gradient, and (times γ/σ²) the variance's share.
  const sumGNormalised = needs[1] || needs[4] || (training && needs[0]) ? b.op('Div', [sum(b.op('Mul', [g, centred])), std]) : null;
  const gain = b.op('Div', [scale, std]); // γ/σ: dy/dx with the statistics held fixed

  let dx: string | null = null;
  if (needs[0]) {
    let through = g;
    if (training) {
      // dx = (γ/σ)·(g − (x̂·Σg·x̂ + Σg)/N): the subtracted term is the statistics' share, a per-channel
      // affine map of x̂, which is what an inference-mode BatchNormalization with the batch's statistics
      // computes in one node and one pass. N is written as BatchNorm's training lowering writes it for
      // the running variance (core/layers/norm.ts).
      const count = b.op('Cast', [b.op('Div', [b.op('Size', [x]), b.ints([C], true)])], { to: 1 });
      const share = b.op('BatchNormalization', [x, b.op('Div', [sumGNormalised!, count]), b.op('Div', [sumG!, count]), mean, variance], { epsilon: { float: eps } });
      through = b.op('Sub', [g, share]);
    }
    dx = b.op('Mul', [through, perChannel(b, gain, rank)]);
  }
  const dBias = needs[2] ? sumG : null;
  // Inference mode only: the given statistics are inputs like any other (∂L/∂σ² = −½·γ·Σg·x̂/σ²).
  const dMean = !training && needs[3] ? b.op('Neg', [b.op('Mul', [gain, sumG!])]) : null;
  const dVar = !training && needs[4] ? b.op('Mul', [b.floats([-0.5]), b.op('Div', [b.op('Mul', [gain, sumGNormalised!]), std])]) : null;
  return [dx, needs[1] ? sumGNormalised : null, dBias, dMean, dVar];
}

/**
 * Rewrites every training-mode BatchNormalization of `b` as the batch's statistics (ReduceMean, and
 * ReduceMean of the squared deviations) fed to an inference-mode one, under the same value names.
 * ONNX Runtime's training-mode kernel writes its running statistics into the buffers of its inputs
 * (they alias), which would overwrite the graph's inputs and shared constants on every run; the
 * inference kernel has no such outputs, and every execution provider has it. Done after the backward
 * pass, which differentiates the training-mode node as one op.
 */
export function batchNormsAsInference(b: OnnxBuilder, typeOf: (value: string) => TensorType | undefined, withoutFloat64 = false): void {
  for (const node of b.nodes.filter((n) => n.op_type === 'BatchNormalization' && attrInt(n, 'training_mode', 0) === 1)) {
    const [x, scale, bias, inputMean, inputVar] = node.input;
    const [y, runningMean, runningVar] = node.output;
    const momentum = attr(node, 'momentum')?.f ?? 0.9;
    const shape = typeOf(x)!.shape;
    const spatial = shape.slice(2).map((_, i) => i + 2);
    const first = b.nodes.length;
    const batch = momentum === 0;
    const mean = channelReduce(b, 'ReduceMean', x, [0, ...spatial], !withoutFloat64, batch && runningMean ? runningMean : undefined);
    const centred = centre(b, x, mean, shape.length);
    const variance = channelReduce(b, 'ReduceMean', b.op('Mul', [centred, centred]), [0, ...spatial], !withoutFloat64, batch && runningVar ? runningVar : undefined);
    // ONNX: running = given·momentum + batch·(1 − momentum), the biased variance included.
    const blend = (given: string, stat: string, out: string) => b.op('Add', [b.op('Mul', [given, b.floats([momentum])]), b.op('Mul', [stat, b.floats([1 - momentum])])], {}, out);
    if (!batch && runningMean) blend(inputMean, mean, runningMean);
    if (!batch && runningVar) blend(inputVar, variance, runningVar);
    const made = b.nodes.splice(first);
    // Named and documented as parts of the node's layer (profiles group by both).
    for (const n of made) Object.assign(n, { name: `${node.name}/statistics/${n.name}`, doc_string: node.doc_string });
    b.nodes.splice(b.nodes.indexOf(node), 0, ...made);
    node.input = [x, scale, bias, mean, variance];
    node.output = [y];
    node.attribute = node.attribute!.filter((a) => a.name === 'epsilon');
  }
}
