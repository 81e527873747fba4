/**
 * One WebGPU session started with ONNX Runtime's verbose log on stderr, where the adapter it found (or
 * why none) is named, then what Netloom's Node engine reports about each execution provider on this
 * machine (the app's provider picker shows the same), one line each on stdout. The session comes first:
 * ONNX Runtime's log level is set for the whole process by its first session. Bundled and run by
 * bench/gpu/run.sh.
 */
import * as ort from 'onnxruntime-node';
import { probeModel } from '../../core/onnx/probe.ts';
import { NodeEngine } from '../../engines/node/engine.ts';

ort.env.logLevel = 'verbose';
try {
  const session = await ort.InferenceSession.create(probeModel(), { executionProviders: ['webgpu'], logSeverityLevel: 0 });
  await session.release();
} catch (e) {
  console.error(`webgpu session: ${(e as Error).message.split('\n')[0]}`);
}

const engine = new NodeEngine();
for (const { provider, available, detail } of await engine.providers()) console.log(`${provider}: ${available ? 'available' : 'unavailable'}: ${detail}`);
await engine.dispose();
