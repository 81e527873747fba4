/**
 * npm run check:onnx-text — the ONNX text of small models parses back, with Debian's python3-onnx
 * (onnx.parser), to the very graph Netloom compiled: the forward graph of each small template and the
 * whole training-step graph of two of them (scripts/check_onnx_text.py compares them).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileModel } from '../core/convert/compile.ts';
import { layerComments } from '../core/convert/onnx-text.ts';
import { concatChunks, encodeModel, type ModelProto } from '../core/onnx/proto.ts';
import { modelText } from '../core/onnx/text.ts';
import { buildTrainingGraph, type LossName } from '../core/train/step.ts';
import { optimizerConfig } from '../core/train/optimizers.ts';
import { templateDocument, PYTHON } from './check-pytorch.ts';

const SCRIPT = fileURLToPath(new URL('./check_onnx_text.py', import.meta.url));
export const SMALL_TEMPLATES = ['mlp-3-4-2', 'conv-example', 'ca2-cnn', 'lenet5', 'autoencoder', 'char-lstm', 'llama-block'];

/** Why the check cannot run here, or null when /usr/bin/python3 has onnx. */
export function pythonOnnxMissing(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import onnx.parser, numpy'], { encoding: 'utf8' });
  return probe.status === 0 ? null : `${PYTHON} has no onnx (apt-get install python3-onnx)`;
}

/** The models the check prints and parses back: forward graphs of templates, and training steps. */
export function textCases(
  templates = SMALL_TEMPLATES,
  steps: [string, LossName][] = [
    ['ca2-cnn', 'cross-entropy'],
    ['mlp-3-4-2', 'mse'],
  ],
): { name: string; model: ModelProto; text: string }[] {
  const cases = templates.map((id) => {
    const compiled = compileModel(templateDocument(id), { seed: 0 });
    return { name: id, model: compiled.model, text: modelText(compiled.model, {}, layerComments(compiled, compiled.model.graph.node)) };
  });
  for (const [id, loss] of steps) {
    const step = buildTrainingGraph(templateDocument(id), { optimizer: optimizerConfig('adam'), loss, seed: 0 }).step;
    cases.push({ name: `${id} training step`, model: step, text: modelText(step) });
  }
  return cases;
}

/** Writes every case as .onnx and .txt and runs the Python comparison: its exit status and report. */
export function checkOnnxText(cases = textCases()): { status: number; report: string } {
  const dir = mkdtempSync(join(tmpdir(), 'netloom-onnx-text-'));
  try {
    const files = cases.flatMap((c) => {
      const base = join(dir, c.name.replace(/\W+/g, '_'));
      writeFileSync(`${base}.onnx`, concatChunks(encodeModel(c.model)));
      writeFileSync(`${base}.txt`, c.text);
      return [`${base}.onnx`, `${base}.txt`];
    });
    const run = spawnSync(PYTHON, [SCRIPT, ...files], { encoding: 'utf8', maxBuffer: 1 << 26 });
    return { status: run.status ?? 1, report: `${run.stdout}${run.stderr}`.replaceAll(`${dir}/`, '') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const missing = pythonOnnxMissing();
  if (missing) {
    console.error(`check:onnx-text: ${missing}`);
    process.exitCode = 2;
  } else {
    const { status, report } = checkOnnxText();
    process.stdout.write(report);
    process.exitCode = status;
  }
}
