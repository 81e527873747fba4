/** `npm start` without Electron, and `npm run web`, open nothing by themselves: they say what to open. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

test('browser mode prints "open http://…" with the address it serves', async () => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../../scripts/web.js', import.meta.url)), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.on('exit', (code) => reject(new Error(`web.js exited (${code}) before printing its address`)));
    });
    const url = /open (http:\/\/127\.0\.0\.1:\d+\/) in your browser/.exec(line)?.[1];
    assert.ok(url, `printed: ${line}`);
    const page = await fetch(url);
    assert.equal(page.status, 200, 'the printed address serves the editor');
  } finally {
    child.kill();
  }
});
