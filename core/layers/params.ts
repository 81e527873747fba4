/** Checks a node's params against its spec's schema and fills in defaults. One place for parameter validation. */
import type { ParamValue } from '../graph/types.ts';
import type { Issue, ParamReader, ParamSchema } from './spec.ts';

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** The closest name, for "did you mean" suggestions. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return bestDistance <= Math.max(2, name.length / 3) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

function rangeProblem(v: number, s: ParamSchema): string | null {
  if (s.min !== undefined && v < s.min) return `must be at least ${s.min}, got ${v}`;
  if (s.max !== undefined && v > s.max) return `must be at most ${s.max}, got ${v}`;
  return null;
}

/** Why `value` does not fit `schema`, or null when it does. */
export function checkParam(value: ParamValue, s: ParamSchema): string | null {
  if (value === null) return s.nullable ? null : 'must not be null';
  switch (s.type) {
    case 'int':
      return isInt(value) ? rangeProblem(value, s) : `must be an integer, got ${JSON.stringify(value)}`;
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? rangeProblem(value, s) : `must be a number, got ${JSON.stringify(value)}`;
    case 'bool':
      return typeof value === 'boolean' ? null : `must be true or false, got ${JSON.stringify(value)}`;
    case 'enum':
      return typeof value === 'string' && s.values?.includes(value) ? null : `must be one of ${s.values?.map((v) => `'${v}'`).join(', ')}, got ${JSON.stringify(value)}`;
    case 'padding':
    case 'size': {
      if (s.type === 'padding' && (value === 'same' || value === 'valid')) return null;
      const items = Array.isArray(value) ? value : [value];
      if (items.length === 0 || !items.every(isInt)) return `must be an integer or a list of integers, got ${JSON.stringify(value)}`;
      for (const v of items as number[]) {
        const p = rangeProblem(v, s);
        if (p) return p;
      }
      return null;
    }
    case 'ints':
      return Array.isArray(value) && value.every(isInt) ? null : `must be a list of integers, got ${JSON.stringify(value)}`;
    case 'dims':
      if (!Array.isArray(value)) return `must be a list of sizes, got ${JSON.stringify(value)}`;
      for (const d of value) {
        if (isInt(d) ? d < 1 : !(typeof d === 'string' && /^[A-Za-z_]\w*$/.test(d))) return `entries must be positive integers or symbol names such as "T", got ${JSON.stringify(d)}`;
      }
      return null;
    case 'nodeRef':
      return typeof value === 'string' && value.length > 0 ? null : `must be a node id, got ${JSON.stringify(value)}`;
    case 'string':
      return typeof value === 'string' ? null : `must be text, got ${JSON.stringify(value)}`;
    case 'json':
      return null;
  }
}

// Schemas are static: their entries are listed once, not on every inference pass.
const entriesCache = new WeakMap<Record<string, ParamSchema>, [string, ParamSchema][]>();
const entriesOf = (schema: Record<string, ParamSchema>): [string, ParamSchema][] => {
  let entries = entriesCache.get(schema);
  if (!entries) entriesCache.set(schema, (entries = Object.entries(schema)));
  return entries;
};

/** Resolved params (defaults filled in) and the problems found. Problems name the field. */
export function resolveParams(schema: Record<string, ParamSchema>, given: Record<string, ParamValue>): { values: Record<string, ParamValue>; issues: Issue[] } {
  const values: Record<string, ParamValue> = {};
  const issues: Issue[] = [];
  for (const name in given) {
    if (!(name in schema)) {
      const guess = closest(name, Object.keys(schema));
      issues.push({
        severity: 'error',
        field: name,
        message: `unknown parameter "${name}"`,
        suggestion: guess ? `Did you mean "${guess}"?` : `Known parameters: ${Object.keys(schema).join(', ') || 'none'}.`,
      });
    }
  }
  for (const [name, s] of entriesOf(schema)) {
    const value = name in given ? given[name] : s.default;
    if (value === undefined) {
      issues.push({ severity: 'error', field: name, message: `${s.label} (${name}) is required`, suggestion: s.help });
      continue;
    }
    const problem = checkParam(value, s);
    if (problem) issues.push({ severity: 'error', field: name, message: `${s.label} (${name}) ${problem}` });
    else values[name] = value;
  }
  return { values, issues };
}

/** Typed getters over validated params (validation has already checked every type). */
export class Params implements ParamReader {
  constructor(readonly params: Record<string, ParamValue>) {}
  int(n: string): number {
    return this.params[n] as number;
  }
  float(n: string): number {
    return this.params[n] as number;
  }
  bool(n: string): boolean {
    return this.params[n] as boolean;
  }
  str(n: string): string {
    return this.params[n] as string;
  }
  maybeInt(n: string): number | null {
    return this.params[n] as number | null;
  }
  dims(n: string): (number | string)[] {
    return this.params[n] as (number | string)[];
  }
  tuple(n: string, rank: number): number[] {
    const value = this.params[n];
    if (typeof value === 'number') return new Array(rank).fill(value);
    const list = value as number[];
    if (list.length === 1) return new Array(rank).fill(list[0]);
    if (list.length !== rank) throw new Error(`${n} needs 1 or ${rank} values here, got ${list.length}`);
    return list;
  }
}
