/**
 * Loading and saving model documents. Loading validates the structure and reports every problem with
 * its JSON path; what the layers make of the params is shape inference's job. Saving is deterministic.
 */
import { parseJson } from './json.ts';
import { MODEL_FORMAT, MODEL_VERSION, SCHEMA_ID, type ModelDocument, type ModelEdge, type ModelNode } from './types.ts';

export interface DocumentProblem {
  /** JSON path such as "$.nodes[2].id", or a line:column position for syntax errors. */
  path: string;
  message: string;
}

export type LoadResult = { ok: true; doc: ModelDocument } | { ok: false; problems: DocumentProblem[] };

/**
 * Upgrades documents of older versions, one step at a time: MIGRATIONS[v] turns version v into v + 1.
 * Version 1 is the first; the table is where future format changes go.
 */
export const MIGRATIONS: Record<number, (doc: Record<string, unknown>) => Record<string, unknown>> = {};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseModel(text: string): LoadResult {
  const parsed = parseJson(text);
  if (!parsed.ok) {
    const { line, column, message } = parsed.error;
    return { ok: false, problems: [{ path: `${line}:${column}`, message: `not valid JSON: ${message}` }] };
  }
  return validateModel(parsed.value);
}

/** No model needs more nesting than this; deeper values would overflow the stack of recursive code. */
export const MAX_NESTING = 64;

/** The JSON path of a value nested deeper than MAX_NESTING, found without recursion; null if none. */
function tooDeep(value: unknown): string | null {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: '$', depth: 0 }];
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_NESTING) return path;
    if (Array.isArray(v)) v.forEach((item, i) => stack.push({ v: item, path: `${path}[${i}]`, depth: depth + 1 }));
    else for (const [k, item] of Object.entries(v)) stack.push({ v: item, path: `${path}.${k}`, depth: depth + 1 });
  }
  return null;
}

export function validateModel(value: unknown): LoadResult {
  const deep = tooDeep(value);
  if (deep !== null) return { ok: false, problems: [{ path: deep.length > 80 ? `${deep.slice(0, 77)}...` : deep, message: `is nested more than ${MAX_NESTING} levels deep; no model needs that` }] };
  const problems: DocumentProblem[] = [];
  const problem = (path: string, message: string): void => void problems.push({ path, message });
  if (!isObject(value)) return { ok: false, problems: [{ path: '$', message: 'a model document must be a JSON object' }] };
  if (value.format !== MODEL_FORMAT) {
    problem('$.format', value.format === undefined ? `is missing; a Netloom model has "format": "${MODEL_FORMAT}"` : `must be "${MODEL_FORMAT}", got ${JSON.stringify(value.format)}`);
  }
  let doc = value;
  const version = value.version;
  if (!Number.isInteger(version) || (version as number) < 1) problem('$.version', `must be a positive integer, got ${JSON.stringify(version)}`);
  else if ((version as number) > MODEL_VERSION) problem('$.version', `is ${version}, but this Netloom reads up to version ${MODEL_VERSION}; update Netloom to open it`);
  else {
    for (let v = version as number; v < MODEL_VERSION; v++) doc = { ...MIGRATIONS[v](doc), version: v + 1 };
  }
  if (typeof doc.name !== 'string') problem('$.name', `must be a string, got ${JSON.stringify(doc.name)}`);
  if (doc.weights !== undefined && typeof doc.weights !== 'string') problem('$.weights', 'must be a file name');

  const nodes: ModelNode[] = [];
  if (!Array.isArray(doc.nodes)) problem('$.nodes', 'must be a list of nodes');
  else {
    const seen = new Map<string, number>();
    doc.nodes.forEach((n: unknown, i: number) => {
      const at = `$.nodes[${i}]`;
      if (!isObject(n)) return problem(at, 'must be an object with "id", "op" and "params"');
      const duplicate = typeof n.id === 'string' && seen.has(n.id);
      if (duplicate) problem(`${at}.id`, `"${n.id}" is already the id of $.nodes[${seen.get(n.id as string)}]; ids must be unique`);
      else if (typeof n.id === 'string') seen.set(n.id, i);
      const ok = checkNode(n, at, problem) && !duplicate;
      if (ok) nodes.push({ ...n, params: (n.params ?? {}) as ModelNode['params'] } as ModelNode);
    });
  }

  const edges: ModelEdge[] = [];
  if (!Array.isArray(doc.edges)) problem('$.edges', 'must be a list of edges (it may be empty)');
  else {
    doc.edges.forEach((e: unknown, i: number) => {
      const at = `$.edges[${i}]`;
      if (!isObject(e)) return problem(at, 'must be an object with "from" and "to"');
      let ok = true;
      for (const end of ['from', 'to'] as const) {
        if (typeof e[end] !== 'string' || e[end] === '' || (e[end] as string).startsWith(':')) {
          problem(`${at}.${end}`, `must be "node" or "node:port", got ${JSON.stringify(e[end])}`);
          ok = false;
        }
      }
      if (ok) edges.push({ ...e, from: e.from as string, to: e.to as string });
    });
  }

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, doc: { ...doc, format: MODEL_FORMAT, version: MODEL_VERSION, name: doc.name as string, nodes, edges } as ModelDocument };
}

function checkNode(n: Record<string, unknown>, at: string, problem: (path: string, message: string) => void): boolean {
  let ok = true;
  const bad = (path: string, message: string): void => {
    ok = false;
    problem(path, message);
  };
  if (typeof n.id !== 'string' || !/^[A-Za-z_][\w.-]*$/.test(n.id)) {
    bad(`${at}.id`, `must be a name of letters, digits, '_', '-' or '.', starting with a letter, got ${JSON.stringify(n.id)}`);
  }
  if (typeof n.op !== 'string' || n.op === '') bad(`${at}.op`, `must be a layer name such as "Conv2d", got ${JSON.stringify(n.op)}`);
  if (n.params !== undefined && !isObject(n.params)) bad(`${at}.params`, 'must be an object of parameter values');
  if (n.trainable !== undefined && typeof n.trainable !== 'boolean') bad(`${at}.trainable`, 'must be true or false');
  if (n.position !== undefined && !(isObject(n.position) && typeof n.position.x === 'number' && typeof n.position.y === 'number')) {
    bad(`${at}.position`, 'must be { "x": number, "y": number }');
  }
  for (const field of ['color', 'note', 'module'] as const) {
    if (n[field] !== undefined && typeof n[field] !== 'string') bad(`${at}.${field}`, 'must be a string');
  }
  return ok;
}

/** "$.nodes[1].id: must be ..." lines, or "model.json:3:5: not valid JSON ..." with a file name. */
export function formatProblem(p: DocumentProblem, file?: string): string {
  if (/^\d+:\d+$/.test(p.path)) return `${file ?? '<input>'}:${p.path}: ${p.message}`;
  return `${file ? `${file}: ` : ''}${p.path} ${p.message}`;
}

/** A template opened as a new document: its `$schema` is a path relative to the templates folder, wrong wherever the copy is saved. */
export function fromTemplate(template: ModelDocument): ModelDocument {
  const doc = { ...template };
  delete doc.$schema;
  return doc;
}

const TOP_ORDER = ['$schema', 'format', 'version', 'name', 'weights', 'nodes', 'edges'];
const NODE_ORDER = ['id', 'op', 'params', 'trainable', 'position', 'color', 'note', 'module'];
const EDGE_ORDER = ['from', 'to'];

function ordered(obj: Record<string, unknown>, first: string[]): Record<string, unknown> {
  const keys = [
    ...first.filter((k) => obj[k] !== undefined),
    ...Object.keys(obj)
      .filter((k) => !first.includes(k) && obj[k] !== undefined)
      .sort(),
  ];
  return Object.fromEntries(keys.map((k) => [k, obj[k]]));
}

/**
 * Deterministic text: stable key order, two-space indent, short values kept on one line; `$schema` first,
 * the model schema's identifier unless the document names a schema of its own.
 */
export function serializeModel(doc: ModelDocument): string {
  const normal = ordered(
    {
      ...doc,
      $schema: doc.$schema ?? SCHEMA_ID,
      nodes: doc.nodes.map((n) => ordered({ ...n, params: ordered(n.params ?? {}, []) }, NODE_ORDER)),
      edges: doc.edges.map((e) => ordered({ ...e }, EDGE_ORDER)),
    },
    TOP_ORDER,
  );
  return `${pretty(normal, '')}\n`;
}

const LINE = 110;

function pretty(value: unknown, indent: string): string {
  const flat = inline(value);
  if (flat.length + indent.length <= LINE || (!Array.isArray(value) && !isObject(value))) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    return `[\n${value.map((v) => inner + pretty(v, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pretty(v, inner)}`);
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

function inline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  if (isObject(value)) {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${inline(v)}`);
    return entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`;
  }
  return JSON.stringify(value);
}
