// Builds the editor (Vite) and, for the desktop app, the Electron main and preload scripts (esbuild).
import { copyFileSync } from 'node:fs';
import { build as buildEsm } from 'esbuild';
import { build as vite } from 'vite';

export async function buildRenderer() {
  await vite({ logLevel: 'warn' });
}

export async function buildElectron() {
  const common = { bundle: true, platform: 'node', target: 'node20', external: ['electron', 'onnxruntime-node'], logLevel: 'warning' };
  // The main process and the engine's utility process are ES modules; a sandboxed preload must be CommonJS.
  await buildEsm({ ...common, format: 'esm', entryPoints: ['electron/main.ts'], outfile: 'dist/electron/main.mjs' });
  await buildEsm({ ...common, format: 'esm', entryPoints: ['electron/engine-host.ts'], outfile: 'dist/electron/engine-host.mjs' });
  await buildEsm({ ...common, format: 'cjs', entryPoints: ['electron/preload.ts'], outfile: 'dist/electron/preload.cjs' });
  copyFileSync('engines/node/worker.js', 'dist/electron/worker.js');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  await buildRenderer();
  if (process.argv.includes('--electron')) await buildElectron();
}
