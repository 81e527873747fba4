/** The text summary never passes a partial sum off as the model's total. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSummary, inferShapes, summarize, type ModelDocument } from '../../core/index.ts';

test('a model whose layers cannot all be inferred prints its total as unknown, not the partial sum', () => {
  const doc: ModelDocument = {
    format: 'netloom.model',
    version: 1,
    name: 'partial',
    nodes: [
      { id: 'x', op: 'Input', params: { shape: [8] } },
      { id: 'fc', op: 'Linear', params: { outFeatures: 4 } },
      { id: 'odd', op: 'OnnxOp', params: { opType: 'NoSuchOp', onnxInputs: ['edge'], outputCount: 1, outputTypes: null } },
      { id: 'head', op: 'Linear', params: { outFeatures: 2 } },
    ],
    edges: [
      { from: 'x', to: 'fc' },
      { from: 'fc', to: 'odd' },
      { from: 'odd', to: 'head' },
    ],
  };
  const text = formatSummary(summarize(inferShapes(doc)));
  assert.match(text, /Total params: unknown \(2 layer\(s\) could not be inferred; 36 in the others\)/);
  assert.doesNotMatch(text, /Total params: 36\b/);
  doc.nodes.splice(2, 1);
  doc.edges = [
    { from: 'x', to: 'fc' },
    { from: 'fc', to: 'head' },
  ];
  assert.match(formatSummary(summarize(inferShapes(doc))), /Total params: 46\n/);
});
