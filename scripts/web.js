// `npm run web -- --port P`: builds the editor and serves it to a browser at http://127.0.0.1:P/.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { buildRenderer } from './build.js';
import { serve } from './serve.js';

export async function startWeb(port) {
  await buildRenderer();
  const { url } = await serve(fileURLToPath(new URL('../dist/renderer/', import.meta.url)), port);
  // Nothing opens a browser by itself here: say what to open.
  console.log(`Netloom (browser mode): open ${url} in your browser  — Ctrl+C to stop`);
  return url;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '5173' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`netloom: --port must be a port number, got "${values.port}"`);
    process.exit(2);
  }
  try {
    await startWeb(port);
  } catch (e) {
    console.error(`netloom: cannot serve the editor: ${e.code === 'EADDRINUSE' ? `port ${port} is in use; pick another with --port` : e.message}`);
    process.exit(2);
  }
}
