/**
 * Training steps of imported torchvision models with depthwise and grouped convolutions (MNASNet-0.5,
 * MobileNetV2, EfficientNet-B0) against Debian's torch on the same CPU, side by side in one run: the step
 * graph's size against the forward graph's (with and without the optimiser's update), the time to build
 * it, and the time of one SGD step.
 * bench/torch_step.py exports the models (once, into .cache/bench-models) and times torch. Each step is
 * also timed in CPU time on one thread, on both sides: wall-clock ratios swing with this shared machine's
 * load, these far less. And what BatchNorm's float64 sums cost (core/autodiff/batchnorm.ts): the same
 * step's CPU time with the sums in float32, as WebGPU's step has them, measured turn about with it. With `--profile`, also where each step's time goes, by op type and node
 * (bench/profile.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { importOnnx } from '../core/convert/import.ts';
import { decodeModel } from '../core/onnx/proto.ts';
import { optimizerConfig } from '../core/train/optimizers.ts';
import { buildTrainingGraph, type TrainingGraph } from '../core/train/step.ts';
import { train } from '../core/train/trainer.ts';
import type { Dataset } from '../core/data/dataset.ts';
import { NodeEngine } from '../engines/node/engine.ts';
import * as ort from 'onnxruntime-node';
import { memoryBandwidth, profileStep, profileTable, stepCpuTime } from './profile.ts';
import { matmulPeak } from './train.bench.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CACHE = `${ROOT}.cache/bench-models`;
const BATCH = 16;
const SIZE = 112;

function randomImages(size: number): Dataset {
  const per = 3 * SIZE * SIZE;
  const x = Float32Array.from({ length: size * per }, (_, i) => (Math.sin(i * 12.9898) * 43758.5453) % 1);
  const y = BigInt64Array.from({ length: size }, (_, i) => BigInt((i * 37) % 1000));
  return { name: 'random', size, x: { dims: [3, SIZE, SIZE], dtype: 'float32', data: x }, y: { dims: [], dtype: 'int64', data: y }, classes: 1000 };
}

export async function benchConvSteps(only?: string[], profile = false): Promise<void> {
  const torch = spawnSync('/usr/bin/python3', [`${ROOT}bench/torch_step.py`, CACHE, String(BATCH), String(SIZE)], { encoding: 'utf8' });
  if (torch.status !== 0) return void console.log(`convolutional steps: torch reference failed (${torch.stderr.split('\n').filter(Boolean).pop() ?? torch.status})`);
  const torchTimes = JSON.parse(torch.stdout.trim().split('\n').pop()!) as Record<string, [number, number]>;
  const roofline = profile ? { peak: await matmulPeak(), bandwidth: await memoryBandwidth() } : null;
  for (const [name, [torchSeconds, torchCpuSeconds]] of Object.entries(torchTimes)) {
    if (only?.length && !only.includes(name)) continue;
    const file = decodeModel(readFileSync(`${CACHE}/${name}.onnx`));
    const { doc, weights } = importOnnx(file, name);
    let t = performance.now();
    let graph: TrainingGraph;
    try {
      graph = buildTrainingGraph(doc, { optimizer: optimizerConfig('sgd', { lr: 1e-3 }), loss: 'cross-entropy', weights });
    } catch (e) {
      console.log(`${name} SGD step: cannot be built (${(e as Error).message})`);
      continue;
    }
    const buildSeconds = (performance.now() - t) / 1000;
    const forwardNodes = graph.eval.graph.node.length;
    const stepNodes = graph.step.graph.node.length;
    // The optimiser's update nodes (step.ts documents each as "update of <parameter>").
    const updateNodes = graph.step.graph.node.filter((n) => n.doc_string?.startsWith('update of ')).length;
    const engine = new NodeEngine();
    const rates: number[] = [];
    t = performance.now();
    await train(engine, graph, { train: randomImages(3 * BATCH) }, { epochs: 3, batchSize: BATCH, lr: 1e-3 }, (e) => e.event === 'epoch' && rates.push(e.samplesPerSec));
    await engine.dispose();
    const stepSeconds = BATCH / Math.max(...rates.slice(1));
    const batch = randomImages(BATCH);
    const [x, target] = [new ort.Tensor('float32', batch.x.data as Float32Array, [BATCH, 3, SIZE, SIZE]), new ort.Tensor('int64', batch.y.data as BigInt64Array, [BATCH])];
    const cpuMs = await stepCpuTime(graph, x, target, 5);
    // Turn about, so that the machine's load falls on both alike.
    const float32Graph = buildTrainingGraph(doc, { optimizer: optimizerConfig('sgd', { lr: 1e-3 }), loss: 'cross-entropy', weights, withoutFloat64: true });
    const [float64Ms, float32Ms]: number[][] = [[], []];
    for (let round = 0; round < 3; round++) {
      float64Ms.push(await stepCpuTime(graph, x, target, 5));
      float32Ms.push(await stepCpuTime(float32Graph, x, target, 5));
    }
    const median = (ms: number[]) => ms.sort((a, b) => a - b)[1];
    console.log(
      `${name} SGD step (batch ${BATCH}, 3×${SIZE}×${SIZE}): graph ${stepNodes} nodes = ${(stepNodes / forwardNodes).toFixed(1)}× the forward's ${forwardNodes} (target ≤ 4×), ` +
        `${stepNodes - updateNodes} = ${((stepNodes - updateNodes) / forwardNodes).toFixed(1)}× without the SGD update's ${updateNodes}, ` +
        `built in ${buildSeconds.toFixed(2)} s (target < 2 s); step ${(1000 * stepSeconds).toFixed(0)} ms against torch's ${(1000 * torchSeconds).toFixed(0)} ms = ${(stepSeconds / torchSeconds).toFixed(2)}× (target ≤ 2×); ` +
        `on one thread ${cpuMs.toFixed(0)} ms of CPU time against torch's ${(1000 * torchCpuSeconds).toFixed(0)} ms = ${(cpuMs / 1000 / torchCpuSeconds).toFixed(2)}×; ` +
        `BatchNorm's sums in float64 ${median(float64Ms).toFixed(0)} ms against ${median(float32Ms).toFixed(0)} ms in float32 = ${(median(float64Ms) / median(float32Ms)).toFixed(2)}×`,
    );
    if (roofline) {
      const steps = await profileStep(graph, BATCH, x, target, roofline.peak, roofline.bandwidth);
      console.log(`\n### ${name}: ${steps.stepMs.toFixed(1)} ms per step under the profiler\n`);
      for (const [title, rows, limit] of [
        ['phase', steps.byPhase, 12],
        ['op type', steps.byOp, 12],
        ['node', steps.byNode, 10],
      ] as const)
        console.log(`${profileTable(title, rows, steps.stepMs, limit)}\n`);
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  await benchConvSteps(
    args.filter((a) => !a.startsWith('--')),
    args.includes('--profile'),
  );
}
