/**
 * The shape inference pass: runs each layer's spec in topological order, producing output types,
 * parameter tensors, MACs, formula traces and diagnostics. `ShapeInference` keeps the result and
 * re-infers only what a parameter edit can change.
 */
import type { ModelDocument, ModelNode, ParamValue } from '../graph/types.ts';
import { resolveParams } from '../layers/params.ts';
import { ShapeError, type InferContext, type InferResult, type Issue, type LayerSpec, type ParamTensor } from '../layers/spec.ts';
import type { Diagnostic } from './diagnostics.ts';
import { sameType, type TensorType } from './dim.ts';
import { wire, type Wiring } from './wiring.ts';

export interface NodeReport {
  id: string;
  op: string;
  /** Input types by port (undefined where unconnected or not inferable). */
  inputs: (TensorType | undefined)[];
  /** Output types, or null when the node could not be inferred. */
  outputs: TensorType[] | null;
  params: ParamTensor[];
  buffers: ParamTensor[];
  /** Parameters owned by this node (tied tensors are counted at their owner). */
  paramCount: number;
  trainable: boolean;
  macs: number | null;
  macsFormula?: string;
  formulas: string[];
  diagnostics: Diagnostic[];
}

export interface Totals {
  totalParams: number;
  trainableParams: number;
  /** Sum of known MACs per sample. */
  totalMacs: number;
  /** Whether some node's MACs depend on a symbolic size and are left out of totalMacs. */
  macsIncomplete: boolean;
}

const ownCount = (params: ParamTensor[]): number => params.reduce((n, p) => n + (p.tiedTo ? 0 : p.count), 0);

function tuple(value: ParamValue, rank: number, ctx: InferContext, name: string): number[] {
  if (typeof value === 'number') return new Array(rank).fill(value);
  const list = value as number[];
  if (list.length === 1) return new Array(rank).fill(list[0]);
  if (list.length !== rank) ctx.fail(`${name} needs 1 or ${rank} values here, got ${list.length}`, { field: name });
  return list;
}

function makeContext(nodeId: string, inputs: (TensorType | undefined)[], params: Record<string, ParamValue>, issues: Issue[], formulas: string[], paramsOf: (id: string) => ParamTensor[] | undefined): InferContext {
  const ctx: InferContext = {
    nodeId,
    inputs,
    params,
    int: (n) => params[n] as number,
    float: (n) => params[n] as number,
    bool: (n) => params[n] as boolean,
    str: (n) => params[n] as string,
    maybeInt: (n) => params[n] as number | null,
    tuple: (n, rank) => tuple(params[n], rank, ctx, n),
    dims: (n) => params[n] as (number | string)[],
    paramsOf,
    formula: (text) => formulas.push(text),
    warn: (message, extra) => issues.push({ severity: 'warning', message, ...extra }),
    fail: (message, extra) => {
      throw new ShapeError({ message, ...extra });
    },
  };
  return ctx;
}

/** Runs one node's spec. Never throws: problems become diagnostics. */
export function inferNode(node: ModelNode, spec: LayerSpec, inputs: (TensorType | undefined)[], paramsOf: (id: string) => ParamTensor[] | undefined): NodeReport {
  const report: NodeReport = { id: node.id, op: node.op, inputs, outputs: null, params: [], buffers: [], paramCount: 0, trainable: node.trainable !== false, macs: null, formulas: [], diagnostics: [] };
  const { values, issues } = resolveParams(spec.params, node.params ?? {});
  const toDiagnostic = (i: Issue): Diagnostic => ({ nodeId: node.id, ...i });
  if (issues.length > 0) {
    report.diagnostics = issues.map(toDiagnostic);
    return report;
  }
  const found: Issue[] = [];
  let result: InferResult;
  try {
    result = spec.infer(makeContext(node.id, inputs, values, found, report.formulas, paramsOf));
  } catch (e) {
    // A bug in a spec must not take the editor down: it shows up on the node instead.
    const issue = e instanceof ShapeError ? e.issue : { message: `internal error in ${spec.op}: ${(e as Error).message}` };
    report.diagnostics = [...found, { severity: 'error' as const, ...issue }].map(toDiagnostic);
    return report;
  }
  report.outputs = result.outputs;
  report.params = result.params ?? [];
  report.buffers = result.buffers ?? [];
  report.paramCount = ownCount(report.params);
  report.macs = result.macs === undefined ? 0 : result.macs;
  report.macsFormula = result.macsFormula;
  // Square windows give the same warning for H and W: say it once.
  report.diagnostics = found.filter((f, i) => found.findIndex((g) => g.message === f.message) === i).map(toDiagnostic);
  return report;
}

function sameOutputs(a: TensorType[] | null, b: TensorType[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((t, i) => sameType(t, b[i]));
}

function sameParamShapes(a: ParamTensor[], b: ParamTensor[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i].name && p.shape.join() === b[i].shape.join());
}

export class ShapeInference {
  private wiring!: Wiring;
  private reports = new Map<string, NodeReport>();
  private position = new Map<string, number>();
  private totals: Totals = { totalParams: 0, trainableParams: 0, totalMacs: 0, macsIncomplete: false };

  constructor(private doc: ModelDocument) {
    this.rebuild(doc);
  }

  /** Full pass: for structural edits (nodes or edges added or removed). */
  rebuild(doc: ModelDocument): void {
    this.doc = doc;
    this.wiring = wire(doc);
    this.reports.clear();
    this.position = new Map(this.wiring.order.map((id, i) => [id, i]));
    this.totals = { totalParams: 0, trainableParams: 0, totalMacs: 0, macsIncomplete: false };
    for (const id of this.wiring.order) {
      const report = this.inferOne(id);
      if (report) this.account(report, +1);
    }
  }

  /**
   * Replaces one node's params and re-infers only the nodes the edit can reach,
   * stopping wherever a node's outputs come out unchanged. Returns the ids re-inferred.
   */
  setParams(nodeId: string, params: Record<string, ParamValue>): string[] {
    const node = this.wiring.nodes.get(nodeId);
    if (!node) throw new Error(`no node "${nodeId}"`);
    node.params = params;
    return this.reinferFrom([nodeId]);
  }

  /** Re-infers the given nodes and whatever their changes reach. */
  reinferFrom(seeds: string[]): string[] {
    const pending = new Set(seeds.filter((id) => this.position.has(id)));
    const visited: string[] = [];
    while (pending.size > 0) {
      let next = '';
      let best = Infinity;
      for (const id of pending) {
        const p = this.position.get(id)!;
        if (p < best) [next, best] = [id, p];
      }
      pending.delete(next);
      visited.push(next);
      const before = this.reports.get(next);
      if (before) this.account(before, -1);
      const after = this.inferOne(next);
      if (after) this.account(after, +1);
      // Param shapes matter to nodes that tie to this one's weights.
      if (!sameOutputs(before?.outputs ?? null, after?.outputs ?? null) || !sameParamShapes(before?.params ?? [], after?.params ?? [])) {
        for (const d of this.wiring.dependents.get(next) ?? []) pending.add(d);
      }
    }
    return visited;
  }

  private inferOne(id: string): NodeReport | undefined {
    const node = this.wiring.nodes.get(id)!;
    const spec = this.wiring.specs.get(id);
    if (!spec) {
      this.reports.delete(id);
      return undefined;
    }
    const inputs = (this.wiring.incoming.get(id) ?? []).map((c) => (c ? this.reports.get(c.from)?.outputs?.[c.fromPort] : undefined));
    const connected = this.wiring.incoming.get(id)!;
    // A node fed by a node that failed, or missing a required input, stays silent:
    // the root cause is reported once, where it is.
    const missingRequired = !spec.inputs[0]?.variadic && spec.inputs.some((p, i) => !p.optional && connected[i] === undefined);
    const blocked = missingRequired || connected.some((c, i) => c !== undefined && inputs[i] === undefined);
    const report: NodeReport = blocked
      ? { id, op: node.op, inputs, outputs: null, params: [], buffers: [], paramCount: 0, trainable: node.trainable !== false, macs: null, formulas: [], diagnostics: [] }
      : inferNode(node, spec, inputs, (other) => this.reports.get(other)?.params);
    this.reports.set(id, report);
    return report;
  }

  private account(r: NodeReport, sign: 1 | -1): void {
    this.totals.totalParams += sign * r.paramCount;
    if (r.trainable) this.totals.trainableParams += sign * r.paramCount;
    if (r.macs !== null) this.totals.totalMacs += sign * r.macs;
  }

  get document(): ModelDocument {
    return this.doc;
  }

  get order(): readonly string[] {
    return this.wiring.order;
  }

  node(id: string): NodeReport | undefined {
    return this.reports.get(id);
  }

  /** Reports in topological order. */
  nodes(): NodeReport[] {
    return this.wiring.order.map((id) => this.reports.get(id)).filter((r): r is NodeReport => r !== undefined);
  }

  getTotals(): Totals {
    const macsIncomplete = this.nodes().some((r) => r.outputs !== null && r.macs === null);
    return { ...this.totals, macsIncomplete };
  }

  /** Structural diagnostics first, then each node's in topological order. */
  diagnostics(): Diagnostic[] {
    return [...this.wiring.diagnostics, ...this.nodes().flatMap((r) => r.diagnostics)];
  }

  hasErrors(): boolean {
    return this.diagnostics().some((d) => d.severity === 'error');
  }
}

/** One-shot inference of a whole document. */
export function inferShapes(doc: ModelDocument): ShapeInference {
  return new ShapeInference(doc);
}
