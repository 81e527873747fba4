// `npm start`: the desktop app when Electron's binary is installed; otherwise the editor in a browser.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { buildElectron, buildRenderer } from './build.js';
import { startWeb } from './web.js';

function electronBinary() {
  try {
    // electron's index.js returns the binary's path, and throws when the download never happened.
    return createRequire(import.meta.url)('electron');
  } catch {
    return null;
  }
}

// The project's .npmrc skips install scripts, so Electron's binary is fetched here, once, on first start.
function fetchElectron() {
  const installer = 'node_modules/electron/install.js';
  if (!existsSync(installer)) return;
  console.log('Fetching the Electron binary (first start)…');
  spawnSync(process.execPath, [installer], { stdio: 'ignore', timeout: 120_000 });
}

let binary = electronBinary();
if (!binary) {
  fetchElectron();
  binary = electronBinary();
}
if (binary) {
  await buildRenderer();
  await buildElectron();
  const app = spawn(binary, ['dist/electron/main.mjs'], { stdio: 'inherit' });
  app.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log('Electron is not installed here (its binary could not be downloaded), so the editor runs in your browser instead.');
  await startWeb(Number(process.env.PORT ?? 5173));
}
