import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { importOnnx } from '../core/onnx/import.ts';
import { decodeModel, encodeModelBytes } from '../core/onnx/proto.ts';
import { compileModel } from '../core/onnx/compile.ts';
import { inferShapes } from '../core/index.ts';
const manifest = JSON.parse(readFileSync('.cache/onnx-models/manifest.json', 'utf8'));
for (const name of process.argv.slice(2)) {
  const bytes = readFileSync(`.cache/onnx-models/${name}.onnx`);
  const t0 = performance.now();
  const { doc, weights } = importOnnx(decodeModel(bytes), name);
  const inf = inferShapes(doc);
  const errs = inf.diagnostics().filter((d) => d.severity === 'error');
  const counts = doc.nodes.reduce((m, n) => ((m[n.op] = (m[n.op] ?? 0) + 1), m), {} as Record<string, number>);
  console.log(name, 'params', inf.getTotals().totalParams, 'torch', manifest[name].params, 'errors', errs.length, errs.slice(0, 3).map((e) => `${e.nodeId}: ${e.message}`), JSON.stringify(counts));
  if (errs.length) continue;
  const c = compileModel(doc, { weights });
  const a = await ort.InferenceSession.create(bytes);
  const b = await ort.InferenceSession.create(encodeModelBytes(c.model));
  const x = new ort.Tensor('float32', Float32Array.from({ length: 2 * 3 * 224 * 224 }, (_, i) => Math.sin(i * 0.37)), [2, 3, 224, 224]);
  const ya = (await a.run({ x })).y.data as Float32Array;
  const outName = c.outputs[0].name;
  const yb = (await b.run({ [c.inputs[0].name]: x }))[outName].data as Float32Array;
  let worst = 0; let scale = 0;
  for (let i = 0; i < ya.length; i++) { worst = Math.max(worst, Math.abs(ya[i] - yb[i])); scale = Math.max(scale, Math.abs(ya[i])); }
  console.log('   roundtrip max abs diff', worst, 'max |y|', scale, 'outputs', c.outputs.map((o) => o.name), 'ms', (performance.now() - t0).toFixed(0));
}
