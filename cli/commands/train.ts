import { extname } from 'node:path';
import { DatasetError, type Dataset } from '../../core/data/dataset.ts';
import { fitData } from '../../core/train/fit.ts';
import { describeVocabulary, textTrainingSet, withSequenceLength, type TextLevel } from '../../core/data/text.ts';
import type { TensorType } from '../../core/graph/dim.ts';
import { EngineError, type Provider } from '../../core/engine/engine.ts';
import { GradientError } from '../../core/autodiff/rules.ts';
import { getLayer } from '../../core/index.ts';
import { compileModel, CompileError } from '../../core/convert/compile.ts';
import { OPTIMIZERS, optimizerConfig, type OptimizerName } from '../../core/train/optimizers.ts';
import { buildTrainingGraph, DEFAULT_LOSS, LOSSES, stepOptionsFor, type LossName, type TrainingGraph } from '../../core/train/step.ts';
import { train, type Checkpoint, type Schedule, type TrainingEvent } from '../../core/train/trainer.ts';
import { encodeSafetensors } from '../../core/graph/weights.ts';
import { NodeEngine } from '../../engines/node/engine.ts';
import { intOption, parse } from '../args.ts';
import { builtIn, loadDataFile } from '../datasets.ts';
import { refuseOverwritingInputs, UsageError, UserError, writeFileAtomic } from '../../host/fs.ts';
import { readText } from '../files.ts';
import { compileFailure, loadModelOrTemplate, MEMORY_LIMIT, outputFiles, writeDocument, writeOnnx } from '../models.ts';

function number(value: unknown, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number of at least ${min}, got "${value}"`);
  return n;
}

/** A text file as next-token pairs, as long as the model's input (or --seq-len for a symbolic length); the vocabulary is shown. */
async function textData(file: string, level: string | undefined, seqLen: string | undefined, input: TensorType): Promise<{ train: Dataset; val?: Dataset }> {
  if (level !== undefined && level !== 'char' && level !== 'word') throw new UsageError(`--level must be char or word, got "${level}"`);
  const { dataset, vocabulary } = textTrainingSet(file, await readText(file), (level ?? 'char') as TextLevel, input, intOption(seqLen, 'seq-len', 1, 1 << 20, 64));
  console.error(`vocabulary (${file}, ${vocabulary.level} level): ${describeVocabulary(vocabulary)}`);
  return { train: dataset };
}

const pct = (v: number | null) => (v === null ? '   –  ' : `${(100 * v).toFixed(2)}%`);

export async function trainCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    data: { type: 'string' },
    val: { type: 'string' },
    dataset: { type: 'string' },
    text: { type: 'string' },
    level: { type: 'string' },
    'seq-len': { type: 'string' },
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    optimizer: { type: 'string' },
    lr: { type: 'string' },
    momentum: { type: 'string' },
    'weight-decay': { type: 'string' },
    loss: { type: 'string' },
    'clip-norm': { type: 'string' },
    l1: { type: 'string' },
    l2: { type: 'string' },
    'truncate-bptt': { type: 'string' },
    schedule: { type: 'string' },
    warmup: { type: 'string' },
    'no-shuffle': { type: 'boolean' },
    seed: { type: 'string' },
    ep: { type: 'string' },
    'allow-fallback': { type: 'boolean' },
    checkpoint: { type: 'string' },
    output: { type: 'string', short: 'o' },
    json: { type: 'boolean' },
    template: { type: 'string' },
    label: { type: 'string' },
  });
  if (positionals.length > 1 || (positionals.length === 1) === (values.template !== undefined)) throw new UsageError('train takes one model file (.json, .netloom or .onnx), or --template <id>');
  if ([values.data, values.dataset, values.text].filter((v) => v !== undefined).length !== 1) throw new UsageError('train needs one of --data train.npz, --dataset <name> or --text file.txt');
  if (!values.output) throw new UsageError('train needs -o trained.onnx or -o trained.json');
  const optimizer = (values.optimizer ?? 'adam') as OptimizerName;
  if (!OPTIMIZERS.includes(optimizer)) throw new UsageError(`--optimizer must be one of ${OPTIMIZERS.join(', ')}`);
  let loss = values.loss as LossName | undefined;
  if (loss !== undefined && !(loss in LOSSES)) throw new UsageError(`--loss must be one of ${Object.keys(LOSSES).join(', ')}`);
  const provider = (values.ep ?? 'cpu') as Provider;
  if (!['cpu', 'cuda', 'dml', 'webgpu'].includes(provider)) throw new UsageError(`--ep must be cpu, cuda, dml or webgpu, got "${values.ep}"`);
  const epochs = intOption(values.epochs, 'epochs', 1, 100000, 1);
  const batchSize = intOption(values['batch-size'], 'batch-size', 1, 1 << 20, 32);
  const seed = intOption(values.seed, 'seed', 0, 2 ** 32 - 1, 0);
  const schedule: Schedule =
    values.schedule === undefined
      ? { kind: 'constant' }
      : values.schedule === 'cosine'
        ? { kind: 'cosine', etaMin: 0 }
        : values.schedule === 'step'
          ? { kind: 'step', stepSize: Math.max(1, Math.floor(epochs / 3)), gamma: 0.1 }
          : (() => {
              throw new UsageError('--schedule must be step or cosine');
            })();
  const config = optimizerConfig(optimizer, { lr: number(values.lr, 'lr', 0), momentum: number(values.momentum, 'momentum', 0), weightDecay: number(values['weight-decay'], 'weight-decay', 0) });

  const out = values.output as string;
  const model = await loadModelOrTemplate(positionals[0], values.template as string | undefined);
  const inputs = [...model.sources, ...[values.data, values.val].filter((f) => f !== undefined)];
  await refuseOverwritingInputs([...outputFiles(out), ...(values.checkpoint ? [values.checkpoint] : [])], inputs);
  // The built-in datasets are all class labels: a model without a loss node trains with cross-entropy,
  // unless the optimiser implies its own loss (the perceptron rule trains on the perceptron criterion).
  if (loss === undefined && values.dataset !== undefined && DEFAULT_LOSS[optimizer] === undefined && !model.doc.nodes.some((n) => getLayer(n.op)?.category === 'Loss')) {
    loss = 'cross-entropy';
    console.error(`the model has no loss node: training with cross-entropy for ${values.dataset}'s class labels (choose another with --loss)`);
  }
  let graph: TrainingGraph;
  try {
    graph = buildTrainingGraph(values.text !== undefined ? withSequenceLength(model.doc, intOption(values['seq-len'], 'seq-len', 1, 1 << 20, 64)) : model.doc, {
      optimizer: config,
      loss,
      weights: model.weights,
      memoryLimit: MEMORY_LIMIT,
      seed,
      clipNorm: number(values['clip-norm'], 'clip-norm', 0),
      regularization: { l1: number(values.l1, 'l1', 0), l2: number(values.l2, 'l2', 0) },
      truncateBptt: intOption(values['truncate-bptt'], 'truncate-bptt', 1, 1 << 20, 0),
      ...stepOptionsFor(provider),
    });
  } catch (e) {
    if (e instanceof CompileError) throw compileFailure(e);
    if (e instanceof GradientError) throw new UserError(`cannot train this model yet: ${e.message}`);
    throw e;
  }

  let data: { train: Dataset; val?: Dataset };
  try {
    const input = graph.inputs[0];
    const adapted = new Set<string>();
    const file = async (path: string) => {
      const { dataset, notes } = await loadDataFile(path, input, values.label as string | undefined);
      notes.forEach((n) => adapted.add(n));
      return dataset;
    };
    const raw =
      values.text !== undefined
        ? await textData(values.text, values.level, values['seq-len'], input.type)
        : values.dataset !== undefined
          ? await builtIn(values.dataset, seed)
          : { train: await file(values.data!), val: values.val ? await file(values.val) : undefined };
    const fitted = fitData(raw, graph);
    data = fitted.data;
    fitted.adapted.forEach((a) => adapted.add(a));
    // Each note says what it fitted (the images to the input, the labels to the loss).
    if (adapted.size > 0) console.error(`${values.dataset ?? values.data}: ${[...adapted].join(', ')}`);
  } catch (e) {
    if (e instanceof DatasetError) throw new UserError(e.message);
    throw e;
  }

  const json = values.json === true;
  const tty = !json && process.stderr.isTTY;
  const stepsPerEpoch = Math.ceil(data.train.size / batchSize);
  const onEvent = (e: TrainingEvent) => {
    if (json) {
      if (e.event !== 'step' || e.step % Math.max(1, Math.floor(stepsPerEpoch / 10)) === 0 || e.step === 1) console.log(JSON.stringify(e));
      return;
    }
    if (e.event === 'step' && tty) {
      const done = ((e.step - 1) % stepsPerEpoch) + 1;
      const bar = '█'.repeat(Math.round((20 * done) / stepsPerEpoch)).padEnd(20, '·');
      process.stderr.write(`\r${bar} ${done}/${stepsPerEpoch}  loss ${e.loss.toFixed(4)}`);
    }
    if (e.event === 'epoch') {
      if (tty) process.stderr.write('\r'.padEnd(60) + '\r');
      console.log(
        `epoch ${String(e.epoch).padStart(3)}/${epochs}  loss ${e.loss.toFixed(4)}  acc ${pct(e.accuracy)}  val_loss ${e.valLoss === null ? '  –   ' : e.valLoss.toFixed(4)}  val_acc ${pct(e.valAccuracy)}  ${Math.round(e.samplesPerSec)} samples/s`,
      );
    }
  };

  // A checkpoint that cannot be written (a full disk, a folder that went away) is reported, and training
  // goes on: the run's real output is the model written at the end.
  const checkpoint = values.checkpoint;
  const writeCheckpoint = async (c: Checkpoint) => {
    const tensors = new Map(c.weights);
    for (const [name, data] of c.state) tensors.set(name, { shape: [data.length], data });
    try {
      await writeFileAtomic(checkpoint!, encodeSafetensors(tensors, { epoch: String(c.epoch), step: String(c.step), optimizer }));
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      console.error(`netloom: checkpoint after epoch ${c.epoch} not written: ${e.message}; training goes on`);
    }
  };

  const engine = new NodeEngine();
  let result;
  try {
    result = await train(
      engine,
      graph,
      data,
      {
        epochs,
        batchSize,
        lr: config.lr,
        shuffle: !values['no-shuffle'],
        seed,
        schedule,
        warmupSteps: values.warmup ? intOption(values.warmup, 'warmup', 0, 1e9, 0) : undefined,
        provider,
        allowFallback: values['allow-fallback'],
      },
      onEvent,
      undefined,
      checkpoint ? writeCheckpoint : undefined,
    );
  } catch (e) {
    if (e instanceof EngineError) throw new UserError(e.message);
    throw e;
  } finally {
    await engine.dispose();
  }
  // The trained model without any loss that was attached for training.
  if (extname(out).toLowerCase() === '.onnx') await writeOnnx(out, compileModel(model.doc, { weights: result.weights }).model);
  else await writeDocument(out, model.doc, result.weights);
  if (result.stopped) {
    const kept = result.completedEpochs > 0 ? `the model after epoch ${result.completedEpochs}, the last complete one` : 'the model as it was before training (no epoch completed)';
    console.error(`netloom: training stopped: ${result.stopped}. ${out} holds ${kept}.`);
    return 1;
  }
  if (!json) console.error(`wrote ${out}`);
  return 0;
}
