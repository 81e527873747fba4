import { join } from 'node:path';
import { encodeNpy, NpyFormatError, parseNpy } from '../../core/data/npy.ts';
import { EngineError, type Provider, type Tensor } from '../../core/engine/engine.ts';
import { DataType, type ModelProto, type ValueInfoProto } from '../../core/onnx/proto.ts';
import { formatShape, type Dim } from '../../core/graph/dim.ts';
import { NodeEngine } from '../../engines/node/engine.ts';
import { parse } from '../args.ts';
import { readBytes, UsageError, UserError, writeFileAtomic } from '../files.ts';
import { refuseOverwritingInputs } from '../../host/fs.ts';
import { compile, ensureFolder, isOnnxPath, loadModelFile, readOnnx, withModelSession } from '../models.ts';

interface ModelInput {
  name: string;
  dtype: string;
  shape: Dim[];
}

const ELEM_NAMES: Record<number, string> = {
  [DataType.FLOAT]: 'float32',
  [DataType.INT64]: 'int64',
  [DataType.INT32]: 'int32',
  [DataType.DOUBLE]: 'float64',
  [DataType.UINT8]: 'uint8',
  [DataType.INT8]: 'int8',
  [DataType.BOOL]: 'bool',
};

function describeInput(v: ValueInfoProto): ModelInput {
  const tt = v.type?.tensor_type;
  return { name: v.name, dtype: ELEM_NAMES[tt?.elem_type ?? 0] ?? `type ${tt?.elem_type}`, shape: (tt?.shape?.dim ?? []).map((d) => d.dim_value ?? d.dim_param ?? '?') };
}

/** Checks a file's tensor against the model input; symbols must take one value across all inputs. */
function checkInput(file: string, t: Tensor, input: ModelInput, symbols: Map<string, number>): void {
  const mismatch = () => new UserError(`${file} is ${t.dtype} [${t.dims.join(', ')}] but the model input "${input.name}" is ${input.dtype} [${input.shape.join(', ')}]`);
  if (t.dtype !== input.dtype || t.dims.length !== input.shape.length) throw mismatch();
  input.shape.forEach((d, i) => {
    if (typeof d === 'number' && d !== t.dims[i]) throw mismatch();
    if (typeof d === 'string' && d !== '?') {
      if (symbols.has(d) && symbols.get(d) !== t.dims[i]) throw new UserError(`${file}: dimension ${d} is ${t.dims[i]} here but ${symbols.get(d)} in another input`);
      symbols.set(d, t.dims[i]);
    }
  });
}

/** Where one of several outputs goes: "<folder>/<output name>.npy", the name made safe for a file. */
const outputFile = (folder: string, name: string): string => join(folder, `${name.replace(/[^\w.-]/g, '_')}.npy`);

export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    input: { type: 'string', short: 'i', multiple: true },
    output: { type: 'string', short: 'o' },
    ep: { type: 'string' },
    'allow-fallback': { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError('run takes one model file (.json, .netloom or .onnx)');
  if (!values.output) throw new UsageError('run needs -o <out.npy> (or a folder, for several outputs)');
  const provider = (values.ep ?? 'cpu') as Provider;
  if (!['cpu', 'cuda', 'dml', 'webgpu'].includes(provider)) throw new UsageError(`--ep must be cpu, cuda, dml or webgpu, got "${values.ep}"`);

  const file = positionals[0];
  let onnx: ModelProto;
  let inputs: ModelInput[];
  let sources = [file];
  let outputNames: string[];
  if (isOnnxPath(file)) {
    onnx = await readOnnx(file, sources);
    outputNames = onnx.graph.output.map((v) => v.name);
    const initialised = new Set((onnx.graph.initializer ?? []).map((t) => t.name));
    inputs = onnx.graph.input.filter((v) => !initialised.has(v.name)).map(describeInput);
  } else {
    const model = await loadModelFile(file);
    sources = model.sources;
    const compiled = compile(model);
    outputNames = compiled.outputs.map((v) => v.name);
    inputs = compiled.inputs.map((v) => ({ name: v.name, dtype: v.type.dtype, shape: v.type.shape }));
    onnx = compiled.model;
  }

  // --input name=file.npy, or plain files for the remaining inputs in order.
  const feeds: Record<string, Tensor> = {};
  const symbols = new Map<string, number>();
  const unnamed = inputs.filter((inp) => !(values.input ?? []).some((a) => a.startsWith(`${inp.name}=`)));
  let next = 0;
  const inputFiles: string[] = [];
  for (const arg of values.input ?? []) {
    const eq = arg.indexOf('=');
    const named = eq > 0 && inputs.some((inp) => inp.name === arg.slice(0, eq));
    const input = named ? inputs.find((inp) => inp.name === arg.slice(0, eq))! : unnamed[next++];
    const path = named ? arg.slice(eq + 1) : arg;
    inputFiles.push(path);
    if (!input) throw new UsageError(`too many --input files: the model takes ${inputs.map((i) => i.name).join(', ')}`);
    if (input.name in feeds) throw new UsageError(`input "${input.name}" is given twice`);
    let tensor: Tensor;
    try {
      tensor = parseNpy(await readBytes(path));
    } catch (e) {
      if (e instanceof NpyFormatError) throw new UserError(`${path}: ${e.message}`);
      throw e;
    }
    checkInput(path, tensor, input, symbols);
    feeds[input.name] = tensor;
  }
  // The output is one .npy, or a folder of them: none of them may be an input.
  const outputs = outputNames.length === 1 ? [values.output as string] : outputNames.map((name) => outputFile(values.output as string, name));
  await refuseOverwritingInputs(outputs, [...sources, ...inputFiles]);
  const missing = inputs.filter((inp) => !(inp.name in feeds));
  if (missing.length > 0) throw new UsageError(`missing --input for ${missing.map((m) => `"${m.name}" (${m.dtype} ${formatShape(m.shape)})`).join(', ')}`);

  const engine = new NodeEngine();
  try {
    await withModelSession(engine, onnx, { provider, allowFallback: values['allow-fallback'] }, async (session) => {
      if (session.provider !== provider) console.error(`netloom: ${provider} is not available (${await engine.unavailable(provider)}); running on ${session.provider}`);
      // The inputs are read once: their buffers move to the engine's thread instead of being copied.
      const results = await session.run(feeds, undefined, { consumed: Object.keys(feeds) });
      const names = Object.keys(results);
      if (names.length === 1) await writeFileAtomic(values.output as string, encodeNpy(results[names[0]]));
      else {
        await ensureFolder(values.output as string);
        for (const name of names) await writeFileAtomic(outputFile(values.output as string, name), encodeNpy(results[name]));
      }
      for (const name of names) console.error(`${name}: ${results[name].dtype} [${results[name].dims.join(', ')}]`);
    });
  } catch (e) {
    if (e instanceof EngineError) throw new UserError(e.message);
    throw e;
  } finally {
    await engine.dispose();
  }
  return 0;
}
