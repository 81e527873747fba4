/**
 * Saved documents name the model schema in `$schema` by its identifier (the same wherever they are saved),
 * keep a `$schema` a person wrote, and load with or without one; `netloom schema -o` writes the schema.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import { fromTemplate, parseModel, SCHEMA_ID, serializeModel, type ModelDocument } from '../../core/index.ts';
import { modelSchema, modelSchemaText } from '../../core/layers/schema.ts';

const BIN = new URL('../../bin/netloom.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'netloom-saved-schema-'));
const at = (name: string) => join(dir, name);
const netloom = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });

const xor: ModelDocument = {
  format: 'netloom.model',
  version: 1,
  name: 'xor',
  nodes: [
    { id: 'x', op: 'Input', params: { shape: [2] } },
    { id: 'fc1', op: 'Linear', params: { outFeatures: 4 } },
    { id: 'act', op: 'Tanh', params: {} },
    { id: 'fc2', op: 'Linear', params: { outFeatures: 2 } },
  ],
  edges: [
    { from: 'x', to: 'fc1' },
    { from: 'fc1', to: 'act' },
    { from: 'act', to: 'fc2' },
  ],
};
const loaded = (text: string) => {
  const result = parseModel(text);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return result.doc;
};

test('a saved document names the schema by its $id first, and the schema validates it', () => {
  const text = serializeModel(xor);
  assert.ok(text.startsWith(`{\n  "$schema": "${SCHEMA_ID}",\n  "format": "netloom.model"`), text.slice(0, 120));
  assert.equal((modelSchema() as { $id: string }).$id, SCHEMA_ID);
  const validate = new Ajv().compile(modelSchema());
  assert.ok(validate(JSON.parse(text)), JSON.stringify(validate.errors));
  // Loaded and saved again: the same bytes.
  assert.equal(serializeModel(loaded(text)), text);
});

test('a $schema a person wrote is kept; documents without one load and gain the identifier when saved', () => {
  const own = serializeModel({ ...xor, $schema: './schemas/netloom.model.schema.json' });
  assert.equal(JSON.parse(own).$schema, './schemas/netloom.model.schema.json');
  assert.equal(loaded(own).$schema, './schemas/netloom.model.schema.json');
  assert.equal(JSON.parse(serializeModel(loaded(own))).$schema, './schemas/netloom.model.schema.json');

  const bare = JSON.stringify(xor);
  assert.equal(loaded(bare).$schema, undefined);
  assert.equal(JSON.parse(serializeModel(loaded(bare))).$schema, SCHEMA_ID);
});

test("a template opened as a document drops the templates folder's relative $schema", () => {
  const template = loaded(readFileSync(new URL('../../assets/templates/mlp-3-4-2.json', import.meta.url), 'utf8'));
  assert.equal(template.$schema, '../schema/netloom.model.schema.json');
  assert.equal(JSON.parse(serializeModel(fromTemplate(template))).$schema, SCHEMA_ID);
});

test('the CLI: import writes the identifier, train keeps a foreign $schema, and netloom schema -o writes the schema', () => {
  writeFileSync(at('own.json'), serializeModel({ ...xor, $schema: 'https://example.org/my-netloom.schema.json' }));
  writeFileSync(at('bare.json'), JSON.stringify(xor));
  for (const [args, file, expected] of [
    [['export', 'bare.json', '-o', 'm.onnx'], '', ''],
    [['import', 'm.onnx', '-o', 'imported.json'], 'imported.json', SCHEMA_ID],
    [
      ['train', 'own.json', '--dataset', 'xor', '--epochs', '1', '--batch-size', '8', '--optimizer', 'sgd', '--lr', '0.1', '-o', 'trained.json'],
      'trained.json',
      'https://example.org/my-netloom.schema.json',
    ],
    [['schema', '-o', 'netloom.model.schema.json'], '', ''],
  ] as const) {
    const r = netloom(...args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    if (file) assert.equal(JSON.parse(readFileSync(at(file), 'utf8')).$schema, expected, file);
  }
  assert.equal(readFileSync(at('netloom.model.schema.json'), 'utf8'), modelSchemaText());
  assert.equal(netloom('schema').stdout, modelSchemaText());
});
