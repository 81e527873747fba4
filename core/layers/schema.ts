/**
 * The JSON Schema of the model document, generated from the layer catalogue: every op with its summary,
 * and each op's params with their types, ranges, defaults and help. Editors (the Code tab's Monaco,
 * VS Code) use it for completion, hover docs and validation. scripts/make-model-schema.ts writes it to
 * assets/schema/netloom.model.schema.json.
 */
import { MODEL_FORMAT, MODEL_VERSION, SCHEMA_ID } from '../graph/types.ts';
import { LAYERS } from './index.ts';
import type { LayerSpec, ParamSchema } from './spec.ts';

export const SCHEMA_FILE = 'netloom.model.schema.json';

type Json = Record<string, unknown>;

const sizeOf = (min: number | undefined): Json => ({ type: 'integer', ...(min !== undefined ? { minimum: min } : {}) });

function valueSchema(p: ParamSchema): Json {
  const range = { ...(p.min !== undefined ? { minimum: p.min } : {}), ...(p.max !== undefined ? { maximum: p.max } : {}) };
  switch (p.type) {
    case 'int':
      return { type: 'integer', ...range };
    case 'float':
      return { type: 'number', ...range };
    case 'bool':
      return { type: 'boolean' };
    case 'enum':
      return { type: 'string', enum: [...(p.values ?? [])] };
    case 'size':
      return { anyOf: [sizeOf(p.min), { type: 'array', items: sizeOf(p.min), minItems: 1 }] };
    case 'padding':
      return { anyOf: [sizeOf(p.min), { type: 'array', items: sizeOf(p.min), minItems: 1 }, { type: 'string', enum: ['same', 'valid'] }] };
    case 'ints':
      return { type: 'array', items: { type: 'integer' } };
    case 'dims':
      return {
        type: 'array',
        items: {
          anyOf: [
            { type: 'integer', minimum: 1 },
            { type: 'string', pattern: '^[A-Za-z_]\\w*$' },
          ],
        },
      };
    case 'nodeRef':
    case 'string':
      return { type: 'string' };
    case 'json':
      return {};
  }
}

function paramSchema(p: ParamSchema): Json {
  const value = valueSchema(p);
  const schema: Json = p.nullable ? { anyOf: [value, { type: 'null' }] } : value;
  const range = p.min !== undefined || p.max !== undefined ? ` (${p.min ?? '−∞'} to ${p.max ?? '∞'})` : '';
  const fallback = p.default === undefined ? ' Required.' : ` Default: ${JSON.stringify(p.default)}.`;
  return { ...schema, description: `${p.label}: ${p.help}${range}${fallback}`, ...(p.default !== undefined ? { default: p.default } : {}) };
}

function paramsSchema(spec: LayerSpec): Json {
  const required = Object.entries(spec.params)
    .filter(([, p]) => p.default === undefined)
    .map(([name]) => name);
  return {
    type: 'object',
    description: `${spec.op} parameters. ${spec.summary}`,
    properties: Object.fromEntries(Object.entries(spec.params).map(([name, p]) => [name, paramSchema(p)])),
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
}

export function modelSchema(): Json {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: SCHEMA_ID,
    title: 'Netloom model document',
    description: 'A neural network as layer nodes and the edges between them (see README, "The model document").',
    type: 'object',
    required: ['format', 'version', 'name', 'nodes', 'edges'],
    properties: {
      $schema: { type: 'string', description: `The schema, for editors: its identifier ${SCHEMA_ID}, which Netloom writes, or a path or URL to a copy of it.` },
      format: { const: MODEL_FORMAT, description: `Always "${MODEL_FORMAT}".` },
      version: { type: 'integer', minimum: 1, maximum: MODEL_VERSION, description: `The document format version (this Netloom writes ${MODEL_VERSION}).` },
      name: { type: 'string', description: 'The model name.' },
      weights: { type: 'string', description: 'The weights file beside the document (safetensors, named like a PyTorch state_dict).' },
      nodes: { type: 'array', description: 'The layers.', items: { $ref: '#/definitions/node' } },
      edges: { type: 'array', description: 'Connections, "node" or "node:port" at each end.', items: { $ref: '#/definitions/edge' } },
    },
    definitions: {
      node: {
        type: 'object',
        required: ['id', 'op'],
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z_][\\w.-]*$', description: 'A unique name: letters, digits, "_", "-" or ".", starting with a letter.' },
          op: {
            type: 'string',
            description: 'The layer, named as the torch.nn class.',
            enum: LAYERS.map((s) => s.op),
            enumDescriptions: LAYERS.map((s) => `${s.category}: ${s.summary}`),
          },
          params: { type: 'object', description: 'Constructor arguments in camelCase; omitted ones take their defaults.' },
          trainable: { type: 'boolean', default: true, description: 'false freezes the layer (no gradient, no update).' },
          position: { type: 'object', required: ['x', 'y'], properties: { x: { type: 'number' }, y: { type: 'number' } }, description: 'Where the node sits on the canvas.' },
          color: { type: 'string', description: 'The node colour on the canvas.' },
          note: { type: 'string', description: 'A note shown with the node.' },
        },
        allOf: LAYERS.map((s) => ({ if: { properties: { op: { const: s.op } }, required: ['op'] }, then: { properties: { params: { $ref: `#/definitions/params/${s.op}` } } } })),
      },
      edge: {
        type: 'object',
        required: ['from', 'to'],
        properties: {
          from: { type: 'string', description: '"node" or "node:port" (an output name or index).' },
          to: { type: 'string', description: '"node" or "node:port" (an input name or index).' },
        },
      },
      params: Object.fromEntries(LAYERS.map((s) => [s.op, paramsSchema(s)])),
    },
  };
}

/** The schema as the committed file holds it. */
export const modelSchemaText = (): string => `${JSON.stringify(modelSchema(), null, 2)}\n`;
