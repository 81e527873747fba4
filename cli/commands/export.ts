import { SUPPORTED_OPSETS } from '../../core/onnx/builder.ts';
import { UsageError } from '../files.ts';
import { refuseOverwritingInputs } from '../../host/fs.ts';
import { intOption, parse } from '../args.ts';
import { compile, isBundlePath, loadModelOrTemplate, outputFiles, writeDocument, writeOnnx } from '../models.ts';

export async function exportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { output: { type: 'string', short: 'o' }, opset: { type: 'string' }, seed: { type: 'string' }, template: { type: 'string' } });
  if (positionals.length > 1 || (positionals.length === 1) === (values.template !== undefined)) throw new UsageError('export takes one model file (.json, .netloom or .onnx), or --template <id>');
  if (!values.output) throw new UsageError('export needs -o <out.onnx> (or -o <out.netloom> for the document and its weights)');
  const opset = intOption(values.opset, 'opset', SUPPORTED_OPSETS[0], SUPPORTED_OPSETS[SUPPORTED_OPSETS.length - 1], 17);
  const seed = intOption(values.seed, 'seed', 0, 2 ** 32 - 1, 0);
  const model = await loadModelOrTemplate(positionals[0], values.template as string | undefined);
  await refuseOverwritingInputs(outputFiles(values.output as string), model.sources);
  const compiled = compile(model, { opset, seed });
  // To a .netloom bundle: the document with the weights the ONNX model would have.
  if (isBundlePath(values.output as string)) await writeDocument(values.output as string, model.doc, compiled.weights);
  else await writeOnnx(values.output as string, compiled.model);
  const params = [...compiled.weights.values()].reduce((n, t) => n + t.data.length, 0);
  console.error(`wrote ${values.output}: ${isBundlePath(values.output as string) ? 'bundle' : `opset ${opset}`}, ${compiled.model.graph.node.length} nodes, ${params.toLocaleString('en-US')} weights`);
  return 0;
}
