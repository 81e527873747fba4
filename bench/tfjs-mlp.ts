/**
 * The same MLP (784-1024-10, batch 64, Adam, cross-entropy) trained in TensorFlow.js on its wasm backend,
 * for comparison with the ONNX Runtime training step. Run in its own process by bench/train.bench.ts.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// TensorFlow.js is an optional install (bench/train.bench.ts explains it when missing), so it is typed here
// by the little this comparison uses rather than by its own declarations.
interface Tensor {
  dispose(): void;
  dataSync(): unknown;
}
interface TensorFlow {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  variable(t: Tensor): Tensor;
  randomUniform(shape: number[], min?: number, max?: number): Tensor;
  zeros(shape: number[]): Tensor;
  oneHot(indices: Tensor, depth: number): Tensor;
  tensor1d(values: number[], dtype: string): Tensor;
  add(a: Tensor, b: Tensor): Tensor;
  matMul(a: Tensor, b: Tensor): Tensor;
  relu(a: Tensor): Tensor;
  losses: { softmaxCrossEntropy(labels: Tensor, logits: Tensor): Tensor };
  train: { adam(lr: number): { minimize(f: () => Tensor, returnCost: boolean): Tensor | null } };
}

// The CommonJS builds: the ES module builds import folders, which Node does not resolve.
const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs') as TensorFlow;
const { setWasmPaths } = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(path: string): void };

setWasmPaths(fileURLToPath(new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url)));
await tf.setBackend('wasm');
await tf.ready();

const w1 = tf.variable(tf.randomUniform([784, 1024], -0.035, 0.035));
const b1 = tf.variable(tf.zeros([1024]));
const w2 = tf.variable(tf.randomUniform([1024, 10], -0.03, 0.03));
const b2 = tf.variable(tf.zeros([10]));
const optimizer = tf.train.adam(1e-3);
const x = tf.randomUniform([64, 784]);
const y = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: 64 }, (_, i) => i % 10),
    'int32',
  ),
  10,
);

const step = () =>
  optimizer.minimize(() => {
    const logits = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), b2);
    return tf.losses.softmaxCrossEntropy(y, logits);
  }, true);

for (let i = 0; i < 5; i++) step()!.dispose();
const steps = 60;
const started = performance.now();
for (let i = 0; i < steps; i++) step()!.dataSync();
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ backend: tf.getBackend(), samplesPerSec: (steps * 64) / seconds }));
