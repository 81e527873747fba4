/**
 * Several training steps in one engine call: the step graph becomes the body of an ONNX Loop that walks
 * a stack of batches, with parameters, optimiser state and running statistics as its loop-carried values.
 * Every value that crosses from the runtime to the caller is allocated and copied afresh on each call,
 * which for a step's megabytes of new weights costs about as much as the step's arithmetic; inside the
 * loop they stay where the runtime keeps them. The results equal those of single steps exactly.
 */
import { OnnxBuilder } from '../onnx/builder.ts';
import { DataType, type GraphProto, type ModelProto, type NodeProto, type ValueInfoProto } from '../onnx/proto.ts';
import { carriedNames, GRADIENT_NORMS, nextName, type TrainingGraph } from './step.ts';

/** The inputs and outputs of one step that the stacked graph takes and gives once per step. */
function perStepNames(graph: TrainingGraph): { inputs: string[]; outputs: string[] } {
  return { inputs: [graph.inputs[0].name, graph.target.name, 'lr', 'step'], outputs: [graph.loss, graph.prediction, ...(graph.gradientNormLayers ? [GRADIENT_NORMS] : [])] };
}

/**
 * A model that runs one step per entry of its stacked inputs: each per-step input gains a leading
 * `steps` axis (x: [steps, N, ...], lr: [steps]), and so do the loss, the prediction and the gradient norms. Carried values
 * keep the single step's names: fed as inputs, returned as `next/<name>`.
 */
export function multiStepModel(graph: TrainingGraph): ModelProto {
  const step = graph.step.graph;
  const opset = graph.step.opset_import!.find((o) => !o.domain)!.version!;
  const carried = carriedNames(graph);
  const { inputs: perStep, outputs: perStepOut } = perStepNames(graph);
  const inputOf = (name: string) => step.input.find((v) => v.name === name)!;
  const outputOf = (name: string) => step.output.find((v) => v.name === name)!;
  // Names inside the body get a prefix: a loop body may not redefine a name of the graph around it.
  const inner = (name: string) => (name === '' ? name : `step/${name}`);

  const body = new OnnxBuilder(opset);
  for (const name of perStep) body.op('Gather', [name, 'step/iteration'], { axis: 0 }, inner(name));
  body.nodes.push(...step.node.map((n): NodeProto => ({ ...n, name: inner(n.name ?? ''), input: n.input!.map(inner), output: n.output!.map(inner) })));
  body.op('Identity', ['step/condition'], {}, 'step/continue');
  const bodyGraph: GraphProto = {
    name: 'training step',
    node: body.nodes,
    initializer: [...(step.initializer ?? []).map((t) => ({ ...t, name: inner(t.name!) })), ...body.initializers],
    input: [
      renamed(scalarInfo('iteration', DataType.INT64), 'step/iteration'),
      renamed(scalarInfo('condition', DataType.BOOL), 'step/condition'),
      ...carried.map((n) => renamed(inputOf(n), inner(n))),
    ],
    output: [
      renamed(scalarInfo('continue', DataType.BOOL), 'step/continue'),
      ...carried.map((n) => renamed(outputOf(nextName(n)), inner(nextName(n)))),
      ...perStepOut.map((n) => renamed(outputOf(n), inner(n))),
    ],
  };

  const outer = new OnnxBuilder(opset);
  for (const name of [...perStep, ...carried, ...carried.map(nextName), ...perStepOut]) outer.reserve(name);
  const count = outer.op('Gather', [outer.op('Shape', [perStep[0]]), outer.ints([0], true)], { axis: 0 });
  outer.node('Loop', [count, outer.trueScalar(), ...carried], { body: bodyGraph }, [...carried.map(nextName), ...perStepOut]);
  return {
    ...graph.step,
    graph: {
      name: `${step.name} (steps)`,
      node: outer.nodes,
      initializer: outer.initializers,
      input: [...perStep.map((n) => stacked(inputOf(n))), ...carried.map(inputOf)],
      output: [...carried.map((n) => outputOf(nextName(n))), ...perStepOut.map((n) => stacked(outputOf(n)))],
    },
  };
}

const renamed = (v: ValueInfoProto, name: string): ValueInfoProto => ({ ...v, name });

const scalarInfo = (name: string, elemType: number): ValueInfoProto => ({ name, type: { tensor_type: { elem_type: elemType, shape: { dim: [] } } } });

/** The same value with a leading `steps` axis. */
function stacked(v: ValueInfoProto): ValueInfoProto {
  const tensor = v.type!.tensor_type!;
  return { ...v, type: { tensor_type: { ...tensor, shape: { dim: [{ dim_param: 'steps' }, ...(tensor.shape?.dim ?? [])] } } } };
}
