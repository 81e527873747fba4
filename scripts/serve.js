// A small static server for the built editor (browser mode), on loopback only.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { CONTENT_TYPES, ISOLATION_HEADERS } from './http-headers.js';

/**
 * Serves `root` at http://127.0.0.1:port/ (port 0 picks a free one); resolves with the server and its URL.
 * A path that names no file gets index.html (the editor's routes), or 404 with `{ fallback: false }`
 * (a static site that asks for optional files, such as Netron in the graph benchmark).
 */
export function serve(root, port = 0, { fallback = true } = {}) {
  const server = createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      // A malformed request ("GET /%") is answered, not allowed to end the server.
      return void res.writeHead(400).end();
    }
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) return void res.writeHead(403, ISOLATION_HEADERS).end();
    if (!existsSync(file) || statSync(file).isDirectory()) {
      if (!fallback && path !== '/') return void res.writeHead(404, ISOLATION_HEADERS).end();
      file = join(root, 'index.html');
    }
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store', ...ISOLATION_HEADERS });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/` }));
  });
}
