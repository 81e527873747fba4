/**
 * Reverse-mode differentiation of an ONNX graph, into the same graph: from a scalar loss back to the
 * chosen values (the parameters), one gradient rule per forward node. Only nodes between the
 * parameters and the loss are differentiated; gradients of unused branches are never built.
 */
import type { OnnxBuilder } from '../onnx/builder.ts';
import type { NodeProto } from '../onnx/proto.ts';
import type { TensorType } from '../graph/dim.ts';
import { GradientError, RULES } from './rules.ts';
import { addInitializers, addNodes } from './types.ts';

export interface BackwardOptions {
  /** The forward nodes, in topological order. */
  nodes: NodeProto[];
  /** A scalar value. */
  loss: string;
  /** The loss's own gradient, a scalar value whose type `types` holds (default 1): lr gives lr-scaled gradients. */
  seed?: string;
  /** The values to differentiate with respect to. */
  wrt: string[];
  types: Map<string, TensorType>;
  /** Filled, when given, with the forward node each backward node was made for (by node name; "param:<value>" for a parameter's final sum). */
  origins?: Map<string, string>;
  /** Also return the gradient of every value between `wrt` and the loss (the debugger's trace). */
  everyValue?: boolean;
  /** Told each gradient a node's rule sends to one of its inputs; where a value fans out, these add up. */
  onContribution?: (value: string, node: NodeProto, gradient: string) => void;
  /**
   * The engine's MaxPool never writes its second output, Indices (ONNX Runtime Web's WebGPU provider):
   * MaxPool's gradient then finds each window's maximum by comparison (maxpool.ts) instead of reading them.
   */
  maxPoolWithoutIndices?: boolean;
  /**
   * The engine has no float64 arithmetic (WebGPU, DirectML): BatchNorm's sums stay in float32 instead of
   * being accumulated in float64 as torch's CPU kernels do (batchnorm.ts).
   */
  withoutFloat64?: boolean;
}

/** Ops whose outputs carry no gradient (shapes, indices, comparisons): nothing flows back through them. */
const NON_DIFFERENTIABLE = new Set([
  'Shape',
  'Size',
  'Range',
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'Not',
  'And',
  'Or',
  'NonZero',
  'ArgMax',
  'ArgMin',
  'ConstantOfShape',
  'EyeLike',
  'RandomNormalLike',
  'RandomUniformLike',
]);

/** Builds the backward pass; returns each `wrt` value's gradient (absent when the loss does not depend on it). */
export function buildBackward(b: OnnxBuilder, { nodes, loss, seed, wrt, types, ...options }: BackwardOptions): Map<string, string> {
  return backpropagate(b, nodes, new Map([[loss, seed ?? b.floats([1])]]), wrt, types, options);
}

/**
 * Vector-Jacobian products: given the gradients of some values (`seeds`), the gradients of `wrt`
 * through `nodes`. The backward pass is this with the loss seeded by 1; rules for composite ops (the
 * recurrent layers) use it on their unrolled form.
 */
function backpropagate(
  b: OnnxBuilder,
  nodes: NodeProto[],
  seeds: Map<string, string>,
  wrt: string[],
  types: Map<string, TensorType>,
  { everyValue, onContribution, origins, maxPoolWithoutIndices, withoutFloat64 }: Pick<BackwardOptions, 'everyValue' | 'onContribution' | 'origins' | 'maxPoolWithoutIndices' | 'withoutFloat64'> = {},
): Map<string, string> {
  const fromParams = new Set(wrt);
  const carriesGradient = (n: NodeProto) => !NON_DIFFERENTIABLE.has(n.op_type) && !n.output.every((o) => b.detached.has(o));
  for (const n of nodes) if (carriesGradient(n) && n.input.some((i) => fromParams.has(i))) for (const o of n.output) if (o) fromParams.add(o);
  const toLoss = new Set(seeds.keys());
  for (let i = nodes.length - 1; i >= 0; i--) if (nodes[i].output.some((o) => toLoss.has(o))) for (const x of nodes[i].input) if (x) toLoss.add(x);

  // Values made by the rules get their types as they are made, so later rules can rely on them.
  let seenNodes = b.nodes.length;
  let seenInitializers = b.initializers.length;
  const track = () => {
    addInitializers(types, b.initializers.slice(seenInitializers));
    addNodes(types, b.nodes.slice(seenNodes), b.opset);
    seenNodes = b.nodes.length;
    seenInitializers = b.initializers.length;
  };
  const contributions = new Map<string, string[]>([...seeds].map(([value, grad]) => [value, [grad]]));
  // A seed may be a constant made just before (the loss's 1).
  addInitializers(
    types,
    b.initializers.filter((t) => [...seeds.values()].includes(t.name!) && !types.has(t.name!)),
  );
  track();
  const total = (value: string): string | null => {
    const parts = contributions.get(value);
    if (!parts || parts.length === 0) return null;
    if (parts.length > 1) {
      contributions.set(value, [b.op('Sum', parts)]);
      track();
    }
    return contributions.get(value)![0];
  };
  const typeOf = (v: string) => types.get(v);

  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    const needs = node.input.map((x) => !!x && fromParams.has(x) && toLoss.has(x));
    if (!needs.some(Boolean)) continue;
    const grads = node.output.map((o) => (o && fromParams.has(o) ? total(o) : null));
    if (grads.every((g) => g === null)) continue;
    const rule = RULES[node.op_type];
    if (!rule) throw new GradientError(`no gradient rule for ${node.op_type} (node ${node.name}); it cannot be trained through yet`);
    const first = b.nodes.length;
    const differentiate = (inner: NodeProto[], innerSeeds: Map<string, string>, innerWrt: string[]) => backpropagate(b, inner, innerSeeds, innerWrt, types, { maxPoolWithoutIndices, withoutFloat64 });
    const inputGrads = rule({ b, node, grads, needs, maxPoolWithoutIndices, withoutFloat64, typeOf: (v) => (track(), typeOf(v)), differentiate });
    track();
    // Which forward node each backward node serves, for profiles (bench/profile.ts) and for reading the graph.
    for (const n of b.nodes.slice(first)) n.doc_string = `gradient of ${node.name}`;
    node.input.forEach((x, k) => {
      const g = inputGrads[k];
      if (!needs[k] || !g) return;
      onContribution?.(x, node, g);
      contributions.set(x, [...(contributions.get(x) ?? []), g]);
    });
    for (const made of b.nodes.slice(first)) origins?.set(made.name!, node.name!);
  }
  const result = new Map<string, string>();
  for (const p of everyValue ? [...fromParams].filter((v) => toLoss.has(v)) : wrt) {
    const first = b.nodes.length;
    const g = total(p);
    for (const made of b.nodes.slice(first)) origins?.set(made.name!, `param:${p}`);
    if (g) result.set(p, g);
  }
  return result;
}
