/**
 * Netloom's ONNX shape rules (core/onnx/opshapes.ts) against ONNX's own backend test data (Debian's
 * libonnx-testdata): for every single-node model of a standard op, the rule given the test inputs (their
 * shapes, and the values of small tensors, as an import knows constants) must give the shapes of the
 * expected outputs. Ops without a rule must be ones Netloom does not handle at all (sequences, strings,
 * control flow), never an op a model might use.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { attributesOf } from '../../core/onnx/attributes.ts';
import { inferOnnxOp } from '../../core/onnx/opshapes.ts';
import { DataType, decodeModel, decodeTensor, tensorValues, type TensorProto } from '../../core/onnx/proto.ts';
import type { TensorType } from '../../core/graph/dim.ts';
import { BACKEND_TESTS } from './model-cache.ts';

/** Ops Netloom keeps no shape rule for: sequences, optionals, strings, control flow, training-only ops. */
const OUT_OF_SCOPE = new Set([
  'If',
  'Loop',
  'Scan',
  'SequenceEmpty',
  'SequenceInsert',
  'SequenceLength',
  'SequenceMap',
  'SequenceAt',
  'SequenceConstruct',
  'SequenceErase',
  'SplitToSequence',
  'ConcatFromSequence',
  'Optional',
  'OptionalGetElement',
  'OptionalHasElement',
  'StringNormalizer',
  'TfIdfVectorizer',
  'Adagrad',
  'Adam',
  'Momentum',
  'Gradient',
]);

const STRING = 8; // TensorProto.DataType.STRING
const FLOATS = new Set<number>([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16]);

function typeOf(t: TensorProto): TensorType {
  const shape = t.dims ?? [];
  const count = shape.reduce((a, b) => a * b, 1);
  const float = FLOATS.has(t.data_type ?? DataType.FLOAT);
  let value: number[] | undefined;
  if (count <= 64 && t.data_type !== STRING) {
    try {
      value = [...tensorValues(t)];
    } catch {
      value = undefined;
    }
  }
  return { shape, dtype: float ? 'float32' : 'int64', ...(value ? { value } : {}) };
}

const available = existsSync(BACKEND_TESTS);

test("shape rules give the shapes of ONNX's backend test outputs", { skip: available ? false : 'libonnx-testdata is not installed (apt-get install libonnx-testdata)' }, () => {
  const wrong: string[] = [];
  const missing = new Set<string>();
  let checked = 0;
  for (const dir of readdirSync(BACKEND_TESTS)) {
    const data = `${BACKEND_TESTS}/${dir}/test_data_set_0`;
    if (!existsSync(data)) continue;
    let model;
    try {
      model = decodeModel(readFileSync(`${BACKEND_TESTS}/${dir}/model.onnx`));
    } catch {
      continue;
    }
    if (model.graph.node.length !== 1 || model.graph.node[0].domain) continue;
    if ([...model.graph.input, ...model.graph.output].some((v) => !v.type?.tensor_type)) continue; // sequences, optionals
    const node = model.graph.node[0];
    const opset = model.opset_import.find((o) => !o.domain)?.version ?? 1;
    let inputs: (TensorType | undefined)[];
    let outputs: TensorProto[];
    try {
      const fed = new Map(model.graph.input.map((v, i) => [v.name, typeOf(decodeTensor(readFileSync(`${data}/input_${i}.pb`)))]));
      for (const t of model.graph.initializer ?? []) fed.set(t.name!, typeOf(t));
      inputs = node.input.map((name) => (name ? fed.get(name) : undefined));
      outputs = model.graph.output.map((_, i) => decodeTensor(readFileSync(`${data}/output_${i}.pb`)));
    } catch {
      continue; // sequence or optional test data
    }
    const got = inferOnnxOp(node.op_type, attributesOf(node), inputs, opset, node.output.length);
    if (!got) {
      if (!OUT_OF_SCOPE.has(node.op_type)) missing.add(`${node.op_type} (${dir})`);
      continue;
    }
    checked++;
    outputs.forEach((expected, k) => {
      const i = node.output.indexOf(model.graph.output[k].name);
      const shape = got[i]?.shape;
      // Data-dependent sizes (NonZero, Unique, NonMaxSuppression) are symbols; the rest must be exact.
      const exact = shape?.every((d) => typeof d === 'number');
      if (!shape || (exact && JSON.stringify(shape) !== JSON.stringify(expected.dims ?? [])) || shape.length !== (expected.dims ?? []).length) {
        wrong.push(`${dir} output ${i}: ${shape ? JSON.stringify(shape) : 'none'} instead of ${JSON.stringify(expected.dims ?? [])}`);
      }
    });
  }
  assert.deepEqual([...missing].sort(), [], 'ops with no shape rule');
  assert.deepEqual(wrong, [], 'wrong shapes');
  assert.ok(checked > 700, `${checked} backend models checked`);
});

test("symbolic sizes cancel through reshapes (swin_t's windows: N → N·4 → N again), so later shapes still meet", () => {
  const none = attributesOf({ input: [], output: [], op_type: 'Reshape' });
  const x: TensorType = { shape: ['N', 8, 8, 3], dtype: 'float32' };
  const windows = inferOnnxOp('Reshape', none, [x, { shape: [3], dtype: 'int64', value: [-1, 16, 3] }], 17)![0]!;
  assert.deepEqual(windows.shape, ['(N·4)', 16, 3]);
  const back = inferOnnxOp('Reshape', none, [windows, { shape: [4], dtype: 'int64', value: [-1, 8, 8, 3] }], 17)![0]!;
  assert.deepEqual(back.shape, ['N', 8, 8, 3]);
  assert.deepEqual(inferOnnxOp('Add', none, [back, x], 17)![0]!.shape, ['N', 8, 8, 3]);
});

test("opset 18–20 ops newer than the backend test data: CenterCropPad, Col2Im, AffineGrid, DeformConv (ONNX's examples)", () => {
  const attrs = (attribute: { name: string; type: number; ints?: number[] }[] = []) => attributesOf({ input: [], output: [], op_type: '', attribute });
  const f = (shape: number[]): TensorType => ({ shape, dtype: 'float32' });
  const i = (value: number[]): TensorType => ({ shape: [value.length], dtype: 'int64', value });
  assert.deepEqual(inferOnnxOp('CenterCropPad', attrs([{ name: 'axes', type: 7, ints: [0, 1] }]), [f([20, 8, 3]), i([10, 9])], 18)![0]!.shape, [10, 9, 3]);
  assert.deepEqual(inferOnnxOp('Col2Im', attrs(), [f([1, 5, 25]), i([5, 5]), i([1, 5])], 18)![0]!.shape, [1, 1, 5, 5]);
  assert.deepEqual(inferOnnxOp('AffineGrid', attrs(), [f([2, 2, 3]), i([2, 3, 5, 6])], 20)![0]!.shape, [2, 5, 6, 2]);
  assert.deepEqual(inferOnnxOp('DeformConv', attrs(), [f([1, 1, 3, 3]), f([1, 1, 2, 2]), f([1, 8, 2, 2])], 19)![0]!.shape, [1, 1, 2, 2]);
});
