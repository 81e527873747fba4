/** The Code tab's text logic: problems and diagnostics at their place in the text, and the node at a position. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inferShapes, serializeModel, type ModelDocument } from '../../core/index.ts';
import { jsonRanges } from '../../core/graph/json-ranges.ts';
import { diagnosticMarks, nodeIdAt, nodeRange, readModelText } from '../../renderer/panels/code/model-text.ts';

const doc: ModelDocument = {
  format: 'netloom.model',
  version: 1,
  name: 'small',
  nodes: [
    { id: 'x', op: 'Input', params: { shape: [1, 4, 4] } },
    { id: 'conv', op: 'Conv2d', params: { outChannels: 2, kernelSize: 7 } },
  ],
  edges: [{ from: 'x', to: 'conv' }],
};
const text = serializeModel(doc);
const at = (s: string, from = 0) => text.indexOf(s, from);

test('jsonRanges finds every value and member key by its path', () => {
  const ranges = jsonRanges(text);
  const kernel = ranges.get('$.nodes[1].params.kernelSize')!;
  assert.equal(text.slice(kernel.start, kernel.end), '7');
  assert.equal(text.slice(kernel.keyStart, kernel.end), '"kernelSize": 7');
  assert.equal(text.slice(ranges.get('$.edges[0].to')!.start, ranges.get('$.edges[0].to')!.end), '"conv"');
  assert.equal(JSON.parse(text.slice(ranges.get('$.nodes[0]')!.start, ranges.get('$.nodes[0]')!.end)).id, 'x');
});

test('jsonRanges never throws or hangs on text that is not JSON (every prefix, and stray brackets)', () => {
  for (let n = 0; n <= text.length; n++) jsonRanges(text.slice(0, n));
  for (const broken of ['[1}', '{"a": }', '{"a" 1}', '[,,]', '{,}', '"', '{"a": [}']) jsonRanges(broken);
});

test('valid text reads back as the document', () => {
  const r = readModelText(text);
  assert.ok(r.ok);
  assert.deepEqual(r.doc.nodes, doc.nodes);
});

test('broken JSON is marked at its line and column, a bad field at its JSON path', () => {
  const broken = readModelText(text.replace('"kernelSize": 7', '"kernelSize": 7,,'));
  assert.ok(!broken.ok);
  assert.equal(broken.marks[0].start, at('"kernelSize": 7') + '"kernelSize": 7,'.length);
  assert.match(broken.marks[0].message, /^not valid JSON: expected/);
  const badId = text.replace('"id": "conv"', '"id": "9conv"');
  const r = readModelText(badId);
  assert.ok(!r.ok);
  assert.equal(badId.slice(r.marks[0].start, r.marks[0].end), '"id": "9conv"');
  assert.match(r.marks[0].message, /^\$\.nodes\[1\]\.id must be a name of letters/);
});

test('diagnostics are marked at their node and field, with the formula', () => {
  const marks = diagnosticMarks(text, doc, inferShapes(doc).diagnostics());
  assert.equal(marks.length, 1);
  assert.equal(text.slice(marks[0].start, marks[0].end), '"op": "Conv2d"');
  assert.match(marks[0].message, /^conv: output H would be -2: the window \(7\) is larger than the padded input \(4 \+ 2·0\)\nH2 = \(H1 − F \+ 2P\)\/S \+ 1 = \(4 − 7\)\/1 \+ 1 = -2\n/);
});

test('the node at a text position, and the text of a node', () => {
  assert.equal(nodeIdAt(text, doc, at('kernelSize')), 'conv');
  assert.equal(nodeIdAt(text, doc, at('"edges"')), null);
  const r = nodeRange(text, doc, 'x')!;
  assert.equal(text.slice(r.start, r.end), '{ "id": "x", "op": "Input", "params": { "shape": [1, 4, 4] } }');
});
