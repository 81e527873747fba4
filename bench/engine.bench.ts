/**
 * Inference through `netloom run`'s engine (onnxruntime-node in a worker thread, feeds and results
 * crossing threads) against onnxruntime-node run directly on the same file, interleaved in one run:
 * ResNet-18 and MobileNetV2 from torchvision (scripts/fixtures/export_torchvision.py, into
 * .cache/onnx-models) at batch 1 and 32. Target: the engine within 10% of direct.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { NodeEngine } from '../engines/node/engine.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CACHE = `${ROOT}.cache/onnx-models`;

export async function benchEngine(): Promise<void> {
  if (!existsSync(`${CACHE}/manifest.json`)) {
    const made = spawnSync('/usr/bin/python3', [`${ROOT}scripts/fixtures/export_torchvision.py`, CACHE], { encoding: 'utf8' });
    if (made.status !== 0) return void console.log(`engine against direct ONNX Runtime: exporting the torchvision models failed (${made.stderr.split('\n').filter(Boolean).pop() ?? made.status})`);
  }
  for (const name of ['resnet18', 'mobilenet_v2']) {
    const bytes = readFileSync(`${CACHE}/${name}.onnx`);
    const direct = await ort.InferenceSession.create(bytes);
    const engine = new NodeEngine();
    const session = await engine.createSession(bytes);
    for (const batch of [1, 32]) {
      const dims = [batch, 3, 224, 224];
      const data = Float32Array.from({ length: batch * 3 * 224 * 224 }, (_, i) => Math.sin(i * 0.001));
      const runs = batch === 1 ? 10 : 2;
      const times = { engine: [] as number[], direct: [] as number[] };
      // Blocks of runs, alternating, best of each side: a slow spell of a shared machine hits both alike.
      // Not run by run: each session's thread pool spins a while after a run and would slow the other's next.
      for (let block = 0; block < 3; block++) {
        for (let i = 0; i < runs + 1; i++) {
          const t = performance.now();
          await session.run({ x: { dtype: 'float32', dims, data } });
          if (i > 0) times.engine.push(performance.now() - t);
        }
        for (let i = 0; i < runs + 1; i++) {
          const t = performance.now();
          await direct.run({ x: new ort.Tensor('float32', data, dims) });
          if (i > 0) times.direct.push(performance.now() - t);
        }
      }
      const best = (a: number[]) => Math.min(...a);
      const ratio = best(times.engine) / best(times.direct);
      console.log(
        `${name} inference, batch ${batch}: engine ${best(times.engine).toFixed(1)} ms, onnxruntime-node directly ${best(times.direct).toFixed(1)} ms = ${ratio.toFixed(3)}× (target ≤ 1.10×: ${ratio <= 1.1 ? 'met' : 'MISSED'})`,
      );
    }
    await session.release();
    await engine.dispose();
    await direct.release();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchEngine();
