// Builds the editor (Vite) and, for the desktop app, the Electron main and preload scripts (esbuild).
import { build as buildEsm } from 'esbuild';
import { build as vite } from 'vite';

export async function buildRenderer() {
  await vite({ logLevel: 'warn' });
}

export async function buildElectron() {
  const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['electron', 'onnxruntime-node'], logLevel: 'warning' };
  await buildEsm({ ...common, entryPoints: ['electron/main.ts'], outfile: 'dist/electron/main.cjs' });
  await buildEsm({ ...common, entryPoints: ['electron/preload.ts'], outfile: 'dist/electron/preload.cjs' });
  await buildEsm({ ...common, entryPoints: ['electron/engine-host.ts'], outfile: 'dist/electron/engine-host.cjs' });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  await buildRenderer();
  if (process.argv.includes('--electron')) await buildElectron();
}
