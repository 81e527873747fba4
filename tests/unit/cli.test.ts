/** The netloom command, run as a person runs it. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const BIN = new URL('../../bin/netloom.js', import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'netloom-cli-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const noStack = (text: string) => assert.doesNotMatch(text, /\n\s+at |Error:/);

test('--help lists the commands', () => {
  const r = run('--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /netloom info <model>/);
  assert.match(r.stdout, /A <model> is a model document \(model\.json, .*\), a \.netloom\nbundle .*, or an ONNX file/);
  for (const command of ['export', 'import', 'run', 'templates']) assert.match(r.stdout, new RegExp(`netloom ${command}`));
});

test('info --template ca2-cnn --json prints exactly one object with the documented fields', () => {
  const r = run('info', '--template', 'ca2-cnn', '--json');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const s = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(s), ['name', 'totalParams', 'trainableParams', 'totalMacs', 'layers', 'diagnostics']);
  assert.equal(s.totalParams, 661_591);
  assert.equal(s.trainableParams, 661_591);
  assert.deepEqual(s.layers[1], { id: 'conv1', op: 'Conv2d', outputShape: ['N', 20, 28, 28], params: 520, macs: 392_000 });
  assert.deepEqual(s.diagnostics, []);
});

test('info prints a torchinfo-like table with the totals', () => {
  const r = run('info', '--template', 'lenet5');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /conv1\s+Conv2d\s+N×6×28×28\s+156/);
  assert.match(r.stdout, /Total params: 61,706/);
});

test('a model with errors exits 1 and lists them', () => {
  const path = file(
    'bad.json',
    JSON.stringify({
      format: 'netloom.model',
      version: 1,
      name: 'bad',
      nodes: [
        { id: 'x', op: 'Input', params: { shape: [1, 4, 4] } },
        { id: 'c', op: 'Conv2d', params: { outChannels: 2, kernelSize: 7 } },
      ],
      edges: [{ from: 'x', to: 'c' }],
    }),
  );
  const r = run('info', path, '--json');
  assert.equal(r.status, 1);
  const s = JSON.parse(r.stdout);
  assert.equal(s.diagnostics[0].nodeId, 'c');
  assert.equal(s.diagnostics[0].severity, 'error');
  const text = run('info', path);
  assert.equal(text.status, 1);
  assert.match(text.stdout, /error: c: output H would be -2/);
});

test('invalid JSON gets one line with the position, and no stack trace', () => {
  const path = file('broken.json', '{\n  "format": "netloom.model",\n  "nodes": [\n}');
  const r = run('info', path);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /broken\.json:4:1: not valid JSON: expected a value, found '}'/);
  noStack(r.stderr);
});

test('a JSON file that is not a model names the problem', () => {
  const r = run('info', file('other.json', '{"hello": 1}'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /other\.json: \$\.format is missing/);
  noStack(r.stderr);
});

test('a missing file, an unknown template and bad usage are one-line errors', () => {
  for (const [args, pattern] of [
    [['info', join(dir, 'nope.json')], /nope\.json: no such file/],
    [['info', '--template', 'lenet'], /no template "lenet"; templates: .*lenet5/],
    [['info'], /info takes one model file/],
    [['info', '--bogus'], /Unknown option '--bogus'/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ] as const) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    noStack(r.stderr);
  }
});
