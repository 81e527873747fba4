import { UsageError } from '../files.ts';
import { refuseOverwritingInputs } from '../../host/fs.ts';
import { parse } from '../args.ts';
import { isOnnxPath, loadModelFile, outputFiles, writeDocument } from '../models.ts';

export async function importCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { output: { type: 'string', short: 'o' } });
  if (positionals.length !== 1 || !isOnnxPath(positionals[0])) throw new UsageError('import takes one .onnx file');
  if (!values.output) throw new UsageError('import needs -o <model.json>');
  const { doc, weights, sources } = await loadModelFile(positionals[0]);
  await refuseOverwritingInputs(outputFiles(values.output as string), sources);
  await writeDocument(values.output as string, doc, weights);
  const generic = doc.nodes.filter((n) => n.op === 'OnnxOp').length;
  console.error(`wrote ${values.output}: ${doc.nodes.length} nodes (${doc.nodes.length - generic} catalogue layers, ${generic} kept as OnnxOp)`);
  return 0;
}
