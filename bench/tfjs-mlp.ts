/**
 * The same MLP (784-1024-10, batch 64, Adam, cross-entropy) trained in TensorFlow.js on its wasm backend,
 * for comparison with the ONNX Runtime training step. Run in its own process by bench/train.bench.ts.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// The CommonJS builds: the ES module builds import folders, which Node does not resolve.
const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
const { setWasmPaths } = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');

setWasmPaths(fileURLToPath(new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url)));
await tf.setBackend('wasm');
await tf.ready();

const w1 = tf.variable(tf.randomUniform([784, 1024], -0.035, 0.035));
const b1 = tf.variable(tf.zeros([1024]));
const w2 = tf.variable(tf.randomUniform([1024, 10], -0.03, 0.03));
const b2 = tf.variable(tf.zeros([10]));
const optimizer = tf.train.adam(1e-3);
const x = tf.randomUniform([64, 784]);
const y = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 10), 'int32'), 10);

const step = () =>
  optimizer.minimize(() => {
    const logits = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), b2);
    return tf.losses.softmaxCrossEntropy(y, logits) as import('@tensorflow/tfjs').Scalar;
  }, true);

for (let i = 0; i < 5; i++) step()!.dispose();
const steps = 60;
const started = performance.now();
for (let i = 0; i < steps; i++) step()!.dataSync();
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ backend: tf.getBackend(), samplesPerSec: (steps * 64) / seconds }));
