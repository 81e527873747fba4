/**
 * Exports the GPT-1 template (116.5 M parameters) to ONNX in this process and prints the time and peak
 * memory. Run by bench/index.ts in a child process, so that the peak belongs to the export alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTemplate } from '../cli/files.ts';
import { compile, writeOnnx } from '../cli/models.ts';

const doc = await loadTemplate('gpt1');
const baseline = process.memoryUsage().rss;
const dir = mkdtempSync(join(tmpdir(), 'netloom-bench-'));
const started = performance.now();
const compiled = compile({ doc, sources: [] }, { seed: 0 });
const compiledAt = performance.now();
await writeOnnx(join(dir, 'gpt1.onnx'), compiled.model);
const finished = performance.now();
const weightBytes = [...compiled.weights.values()].reduce((n, t) => n + t.data.byteLength, 0);
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    seconds: (finished - started) / 1000,
    compileSeconds: (compiledAt - started) / 1000,
    writeSeconds: (finished - compiledAt) / 1000,
    peakRss: process.resourceUsage().maxRSS * 1024,
    baseline,
    weightBytes,
  }),
);
