/** A one-node model (Relu of one float) for checking that a runtime or provider really starts. */
import { OnnxBuilder, irVersionFor, valueInfo } from './builder.ts';
import { encodeModelBytes } from './proto.ts';

export function probeModel(): Uint8Array {
  const b = new OnnxBuilder(17);
  b.op('Relu', ['x'], {}, 'y');
  return encodeModelBytes({
    ir_version: irVersionFor(17),
    opset_import: [{ domain: '', version: 17 }],
    graph: { name: 'probe', node: b.nodes, input: [valueInfo('x', { shape: [1], dtype: 'float32' })], output: [valueInfo('y', { shape: [1], dtype: 'float32' })] },
  });
}
