/**
 * The test cache of ONNX models exported from torchvision (.cache/onnx-models, never committed). It is
 * made on first use with Debian's python3-torch and python3-torchvision; without them the tests that
 * need it are skipped, saying why.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MODEL_CACHE = `${ROOT}.cache/onnx-models`;
const PYTHON = '/usr/bin/python3';

export interface Manifest {
  [name: string]: { params: number; input: number[] };
}

/** The manifest, or a reason the cache cannot be made here. */
export function torchvisionModels(): Manifest | string {
  const manifest = `${MODEL_CACHE}/manifest.json`;
  if (!existsSync(manifest)) {
    const probe = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
    if (probe.status !== 0) return 'python3-torch and python3-torchvision are not installed (apt-get install python3-torch python3-torchvision)';
    const made = spawnSync(PYTHON, [`${ROOT}scripts/fixtures/export_torchvision.py`, MODEL_CACHE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (made.status !== 0) return `exporting the torchvision models failed: ${made.stderr.split('\n').filter(Boolean).pop()}`;
  }
  return JSON.parse(readFileSync(manifest, 'utf8')) as Manifest;
}

export const BACKEND_TESTS = '/usr/share/libonnx-testdata/data/node';
