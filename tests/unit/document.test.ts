/** The model document: loading with precise errors, deterministic saving, migrations. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MODEL_VERSION, parseModel, SCHEMA_ID, serializeModel, validateModel } from '../../core/index.ts';

const MINIMAL = `{ "format": "netloom.model", "version": 1, "name": "CA2 CNN",
  "nodes": [ { "id": "face", "op": "Input",  "params": { "shape": [1, 32, 32] } },
             { "id": "c1",   "op": "Conv2d", "params": { "outChannels": 20, "kernelSize": 5 } } ],
  "edges": [ { "from": "face", "to": "c1" } ] }`;

test('the minimal document from the format contract loads', () => {
  const r = parseModel(MINIMAL);
  assert.ok(r.ok);
  assert.equal(r.doc.nodes.length, 2);
  assert.deepEqual(r.doc.edges, [{ from: 'face', to: 'c1' }]);
});

test('a JSON syntax error gives line and column', () => {
  const r = parseModel('{\n  "format": "netloom.model",\n  "version": 1,,\n}');
  assert.ok(!r.ok);
  assert.deepEqual(r.problems, [{ path: '3:16', message: "not valid JSON: expected a string, found ','" }]);
  const eof = parseModel('{ "nodes": [1, 2');
  assert.ok(!eof.ok);
  assert.equal(eof.problems[0].path, '1:17');
  assert.match(eof.problems[0].message, /expected ',' or '\]', found end of file/);
  const word = parseModel('nope');
  assert.ok(!word.ok);
  assert.equal(word.problems[0].path, '1:1');
});

test('every structural problem is reported with its JSON path', () => {
  const r = validateModel({ format: 'other', version: 1, name: 3, nodes: [{ id: 'a', op: 'ReLU' }, { id: 'a', op: '' }, 'x', { id: '1bad', op: 'ReLU', params: [] }], edges: [{ from: 'a' }] });
  assert.ok(!r.ok);
  assert.deepEqual(
    r.problems.map((p) => p.path),
    ['$.format', '$.name', '$.nodes[1].id', '$.nodes[1].op', '$.nodes[2]', '$.nodes[3].id', '$.nodes[3].params', '$.edges[0].to'],
  );
  assert.match(r.problems[2].message, /already the id of \$\.nodes\[0\]/);
});

test('a document from a newer Netloom is refused with a clear reason', () => {
  const r = validateModel({ format: 'netloom.model', version: MODEL_VERSION + 1, name: 'x', nodes: [], edges: [] });
  assert.ok(!r.ok);
  assert.match(r.problems[0].message, /update Netloom/);
});

test('saving is deterministic, pretty and round-trips, keeping optional and unknown fields', () => {
  const source = {
    edges: [{ to: 'fc', from: 'x' }],
    name: 'm',
    nodes: [
      { params: { shape: [4] }, op: 'Input', id: 'x', position: { x: 1, y: 2 } },
      { op: 'Linear', id: 'fc', params: { bias: false, outFeatures: 3 }, note: 'head', color: '#f80' },
    ],
    version: 1,
    format: 'netloom.model',
    futureField: { kept: true },
  };
  const r = validateModel(source);
  assert.ok(r.ok);
  const text = serializeModel(r.doc);
  assert.equal(
    text,
    `{
  "$schema": "${SCHEMA_ID}",
  "format": "netloom.model",
  "version": 1,
  "name": "m",
  "nodes": [
    { "id": "x", "op": "Input", "params": { "shape": [4] }, "position": { "x": 1, "y": 2 } },
    {
      "id": "fc",
      "op": "Linear",
      "params": { "bias": false, "outFeatures": 3 },
      "color": "#f80",
      "note": "head"
    }
  ],
  "edges": [{ "from": "x", "to": "fc" }],
  "futureField": { "kept": true }
}
`,
  );
  const again = parseModel(text);
  assert.ok(again.ok);
  assert.equal(serializeModel(again.doc), text);
});

test('nodes without params load with empty params', () => {
  const r = validateModel({ format: 'netloom.model', version: 1, name: 'x', nodes: [{ id: 'r', op: 'ReLU' }], edges: [] });
  assert.ok(r.ok);
  assert.deepEqual(r.doc.nodes[0].params, {});
});
