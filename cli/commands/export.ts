import { basename, dirname, extname, join } from 'node:path';
import { SUPPORTED_OPSETS } from '../../core/onnx/builder.ts';
import { encodeSafetensors } from '../../core/graph/weights.ts';
import { CompileError } from '../../core/convert/compile.ts';
import { toPyTorch } from '../../core/convert/pytorch.ts';
import { forwardText, layerText } from '../../core/convert/onnx-text.ts';
import { LOSSES, type LossName } from '../../core/train/step.ts';
import { trainingStepText } from '../../core/train/step-text.ts';
import { OPTIMIZERS, optimizerConfig, type OptimizerName } from '../../core/train/optimizers.ts';
import { UsageError, UserError, writeFileAtomic } from '../files.ts';
import { intOption, parse } from '../args.ts';
import { compile, compileFailure, isBundlePath, loadModelOrTemplate, outputFiles, writeDocument, writeOnnx, type LoadedModel } from '../models.ts';
import { refuseOverwritingInputs } from '../../host/fs.ts';

const FORMATS = ['onnx', 'pytorch', 'onnx-text'] as const;

export async function exportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    output: { type: 'string', short: 'o' },
    opset: { type: 'string' },
    seed: { type: 'string' },
    template: { type: 'string' },
    format: { type: 'string' },
    layer: { type: 'string' },
    training: { type: 'boolean' },
    optimizer: { type: 'string' },
    loss: { type: 'string' },
  });
  if (positionals.length > 1 || (positionals.length === 1) === (values.template !== undefined)) throw new UsageError('export takes one model file (.json, .netloom or .onnx), or --template <id>');
  const format = (values.format ?? 'onnx') as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${values.format}"`);
  if (!values.output)
    throw new UsageError(
      `export needs -o <${format === 'onnx' ? 'out.onnx> (or -o <out.netloom> for the document and its weights)' : format === 'pytorch' ? 'model.py>' : 'model.txt>, or -o - for the terminal'}`,
    );
  if (format !== 'onnx-text' && (values.layer !== undefined || values.training)) throw new UsageError('--layer and --training go with --format onnx-text');
  if (values.training && values.layer === undefined) throw new UsageError("--training shows one layer's part of the training step: add --layer <id>");
  const opset = intOption(values.opset, 'opset', SUPPORTED_OPSETS[0], SUPPORTED_OPSETS[SUPPORTED_OPSETS.length - 1], 17);
  const seed = intOption(values.seed, 'seed', 0, 2 ** 32 - 1, 0);
  const model = await loadModelOrTemplate(positionals[0], values.template as string | undefined);
  const output = values.output as string;
  // Every format's files (the code or text, and the weights beside it) must not overwrite an input.
  if (output !== '-') await refuseOverwritingInputs(outputFiles(output), model.sources);
  if (format === 'pytorch') return exportPyTorch(model, output, opset, seed);
  if (format === 'onnx-text') {
    const text = onnxText(model, values, opset, seed);
    if (output === '-') process.stdout.write(text);
    else await writeFileAtomic(output, text);
    return 0;
  }
  // An ONNX model under another format's name would be mistaken for that format later.
  const misnamed: Record<string, string> = { '.json': 'a model document', '.py': 'PyTorch code (--format pytorch)', '.txt': 'ONNX text (--format onnx-text)', '.safetensors': 'weights' };
  const ext = extname(output).toLowerCase();
  if (ext in misnamed) throw new UsageError(`${output}: export writes an ONNX model, not ${misnamed[ext]}: name it .onnx (or .netloom for the document with its weights)`);
  const compiled = compile(model, { opset, seed });
  // To a .netloom bundle: the document with the weights the ONNX model would have.
  if (isBundlePath(output)) await writeDocument(output, model.doc, compiled.weights);
  else await writeOnnx(output, compiled.model);
  const params = [...compiled.weights.values()].reduce((n, t) => n + t.data.length, 0);
  console.error(`wrote ${output}: ${isBundlePath(output) ? 'bundle' : `opset ${opset}`}, ${compiled.model.graph.node.length} nodes, ${params.toLocaleString('en-US')} weights`);
  return 0;
}

/** model.py, and beside it the weights (those --seed gives the ONNX export) unless the document has its own file. */
async function exportPyTorch(model: LoadedModel, output: string, opset: number, seed: number): Promise<number> {
  const code = guard(() => toPyTorch(model.doc));
  const compiled = compile(model, { opset, seed });
  let written = '';
  if (!model.doc.weights) {
    const weights = join(dirname(output), `${basename(output, extname(output))}.safetensors`);
    await writeFileAtomic(weights, encodeSafetensors(compiled.weights, { format: 'netloom.weights', model: model.doc.name }));
    written = ` and ${weights}`;
  }
  await writeFileAtomic(output, code);
  console.error(`wrote ${output}${written}: run it with python3 ${basename(output)} <weights.safetensors> <input.npy> <output.npy>`);
  return 0;
}

function onnxText(model: LoadedModel, values: { layer?: string; training?: boolean; optimizer?: string; loss?: string }, opset: number, seed: number): string {
  const options = { opset, seed, weights: model.weights };
  if (values.training) {
    const optimizer = (values.optimizer ?? 'sgd') as OptimizerName;
    if (!OPTIMIZERS.includes(optimizer)) throw new UsageError(`--optimizer must be one of ${OPTIMIZERS.join(', ')}`);
    const loss = values.loss as LossName | undefined;
    if (loss !== undefined && !(loss in LOSSES)) throw new UsageError(`--loss must be one of ${Object.keys(LOSSES).join(', ')}`);
    return guard(() => trainingStepText(model.doc, values.layer!, { ...options, optimizer: optimizerConfig(optimizer), loss }));
  }
  if (values.layer !== undefined) {
    const compiled = compile(model, options);
    if (!compiled.layers.has(values.layer))
      throw new UserError(`"${values.layer}" is not a layer of ${model.doc.name}; layers: ${[...compiled.layers.keys()].slice(0, 12).join(', ')}${compiled.layers.size > 12 ? ', ...' : ''}`);
    return layerText(compiled, values.layer);
  }
  return guard(() => forwardText(model.doc, options));
}

/** Compile errors as one line for a person. */
function guard<T>(make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (e instanceof CompileError) throw compileFailure(e);
    throw e;
  }
}
