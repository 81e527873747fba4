/** The README stays true: it documents every layer and every template. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { LAYERS } from '../../core/index.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test('the README lists every layer with its params', () => {
  for (const spec of LAYERS) {
    const row = readme.split('\n').find((line) => line.includes(`| \`${spec.op}\` |`));
    assert.ok(row, spec.op);
    for (const name of Object.keys(spec.params)) assert.ok(row.includes(name), `${spec.op}.${name}`);
  }
});

test('the README lists every template', () => {
  for (const file of readdirSync(new URL('../../assets/templates/', import.meta.url))) {
    assert.ok(readme.includes(`| \`${file.replace('.json', '')}\` |`), file);
  }
});
