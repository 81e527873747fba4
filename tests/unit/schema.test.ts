/** The model document's JSON Schema: generated from the catalogue, committed up to date, and right about the documents. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import Ajv from 'ajv';
import { modelSchema, modelSchemaText, SCHEMA_FILE } from '../../core/layers/schema.ts';
import { LAYERS } from '../../core/index.ts';

const committed = readFileSync(new URL(`../../assets/schema/${SCHEMA_FILE}`, import.meta.url), 'utf8');
const validate = new Ajv({ allErrors: true }).compile(modelSchema());
const templates = new URL('../../assets/templates/', import.meta.url);

test('assets/schema holds the schema the catalogue gives (npm run schema regenerates it)', () => {
  assert.equal(committed, modelSchemaText());
});

test('every op and param of the catalogue is in the schema with its help, range and default', () => {
  const schema = modelSchema() as {
    definitions: { node: { properties: { op: { enum: string[] } } }; params: Record<string, { properties: Record<string, { description: string; minimum?: number; default?: unknown }> }> };
  };
  assert.deepEqual(
    schema.definitions.node.properties.op.enum,
    LAYERS.map((s) => s.op),
  );
  const conv = schema.definitions.params.Conv2d.properties;
  assert.match(conv.outChannels.description, /^Out channels: Number of filters K\. \(1 to ∞\) Required\.$/);
  assert.equal(schema.definitions.params.Dropout.properties.p.default, 0.5);
  assert.match(schema.definitions.params.Dropout.properties.p.description, /\(0 to 0\.999\) Default: 0\.5\./);
});

test('the templates are valid and point to the schema', () => {
  for (const file of readdirSync(templates).filter((f) => f.endsWith('.json'))) {
    const doc = JSON.parse(readFileSync(new URL(file, templates), 'utf8'));
    assert.ok(validate(doc), `${file}: ${JSON.stringify(validate.errors?.slice(0, 2))}`);
    assert.equal(doc.$schema, `../schema/${SCHEMA_FILE}`);
  }
});

test('the schema finds unknown ops and params, wrong types and values out of range', () => {
  const doc = (params: Record<string, unknown>, op = 'Conv2d') => ({ format: 'netloom.model', version: 1, name: 'm', nodes: [{ id: 'c', op, params }], edges: [] });
  assert.ok(validate(doc({ outChannels: 8, kernelSize: [3, 5], padding: 'same' })));
  const problems = (d: unknown) => (validate(d) ? [] : validate.errors!.map((e) => `${e.dataPath} ${e.message}`));
  assert.ok(problems(doc({ outChannels: 0, kernelSize: 3 })).includes('.nodes[0].params.outChannels should be >= 1'));
  assert.ok(problems(doc({ outChannels: 8, kernelSize: 3, strides: 2 })).includes('.nodes[0].params should NOT have additional properties'));
  assert.ok(problems(doc({ kernelSize: 3 })).includes(".nodes[0].params should have required property 'outChannels'"));
  assert.ok(problems(doc({ p: 'half' }, 'Dropout')).includes('.nodes[0].params.p should be number'));
  assert.ok(problems(doc({}, 'Conv3d')).some((p) => p.startsWith('.nodes[0].op should be equal to one of the allowed values')));
});
