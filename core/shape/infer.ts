/**
 * The shape inference pass: runs each layer's spec in topological order, producing output types,
 * parameter tensors, MACs, formula traces and diagnostics. `ShapeInference` keeps the result and
 * re-infers only what a parameter edit can change.
 */
import type { ModelDocument, ModelNode, ParamValue } from '../graph/types.ts';
import { Params, resolveParams } from '../layers/params.ts';
import { ShapeError, type InferContext, type InferResult, type Issue, type LayerSpec, type ParamTensor } from '../layers/spec.ts';
import type { Diagnostic } from '../graph/diagnostics.ts';
import { sameType, type TensorType } from '../graph/dim.ts';
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

/** The context a spec's `infer` sees. A class, not closures: it is built once per node on every pass. */
class NodeContext extends Params implements InferContext {
  constructor(
    readonly nodeId: string,
    readonly inputs: (TensorType | undefined)[],
    params: Record<string, ParamValue>,
    private readonly issues: Issue[],
    /** Null on ordinary passes: formulas are built only when asked for (ShapeInference.formulas). */
    private readonly formulas: string[] | null,
    private readonly lookup: (id: string) => ParamTensor[] | undefined,
  ) {
    super(params);
  }
  override tuple(n: string, rank: number): number[] {
    const value = this.params[n];
    if (Array.isArray(value) && value.length !== 1 && value.length !== rank) this.fail(`${n} needs 1 or ${rank} values here, got ${value.length}`, { field: n });
    return super.tuple(n, rank);
  }
  paramsOf(id: string): ParamTensor[] | undefined {
    return this.lookup(id);
  }
  formula(text: () => string): void {
    this.formulas?.push(text());
  }
  warn(message: string, extra?: Omit<Issue, 'severity' | 'message'>): void {
    this.issues.push({ severity: 'warning', message, ...extra });
  }
  fail(message: string, extra?: Omit<Issue, 'severity' | 'message'>): never {
    throw new ShapeError({ message, ...extra });
  }
}

function onNode(nodeId: string, issues: Issue[]): Diagnostic[] {
  return issues.map((i) => ({ nodeId, ...i }));
}

/** Runs one node's spec. Never throws: problems become diagnostics. */
export function inferNode(node: ModelNode, spec: LayerSpec, inputs: (TensorType | undefined)[], paramsOf: (id: string) => ParamTensor[] | undefined, formulas: string[] | null = null): NodeReport {
  const report: NodeReport = { id: node.id, op: node.op, inputs, outputs: null, params: [], buffers: [], paramCount: 0, trainable: node.trainable !== false, macs: null, diagnostics: [] };
  const { values, issues } = resolveParams(spec.params, node.params ?? {});
  if (issues.length > 0) {
    report.diagnostics = onNode(node.id, issues);
    return report;
  }
  const found: Issue[] = [];
  let result: InferResult;
  try {
    result = spec.infer(new NodeContext(node.id, inputs, values, found, formulas, paramsOf));
  } catch (e) {
    // A bug in a spec must not take the editor down: it shows up on the node instead.
    const issue = e instanceof ShapeError ? e.issue : { message: `internal error in ${spec.op}: ${(e as Error).message}` };
    report.diagnostics = onNode(node.id, [...found, { severity: 'error' as const, ...issue }]);
    return report;
  }
  report.outputs = result.outputs;
  report.params = result.params ?? [];
  report.buffers = result.buffers ?? [];
  report.paramCount = ownCount(report.params);
  report.macs = result.macs === undefined ? 0 : result.macs;
  report.macsFormula = result.macsFormula;
  // Square windows give the same warning for H and W: say it once.
  report.diagnostics =
    found.length === 0
      ? []
      : onNode(
          node.id,
          found.filter((f, i) => found.findIndex((g) => g.message === f.message) === i),
        );
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
  /** Reports by node index. */
  private reports: (NodeReport | undefined)[] = [];
  /** Position of each node index in the topological order (-1 when not ordered). */
  private position = new Int32Array(0);
  private totals: Totals = { totalParams: 0, trainableParams: 0, totalMacs: 0, macsIncomplete: false };

  /** The document is only read, never changed: an edit makes a new document (see setParams). */
  constructor(private doc: ModelDocument) {
    this.rebuild(doc);
  }

  /** Full pass: for structural edits (nodes or edges added or removed). */
  rebuild(doc: ModelDocument): void {
    this.doc = doc;
    this.wiring = wire(doc);
    this.reports = new Array(doc.nodes.length);
    this.position = new Int32Array(doc.nodes.length).fill(-1);
    this.wiring.order.forEach((node, i) => (this.position[node] = i));
    this.totals = { totalParams: 0, trainableParams: 0, totalMacs: 0, macsIncomplete: false };
    for (const i of this.wiring.order) {
      const report = this.inferOne(i);
      if (report) this.account(report, +1);
    }
  }

  /**
   * Gives one node new params and re-infers only the nodes the edit can reach, stopping wherever a node's
   * outputs come out unchanged. Returns the ids re-inferred. The document held becomes a new one that
   * shares every other node with the old, which stays as it was (an undo history may hold it).
   */
  setParams(nodeId: string, params: Record<string, ParamValue>): string[] {
    const i = this.wiring.index.get(nodeId);
    if (i === undefined) throw new Error(`no node "${nodeId}"`);
    const nodes = this.doc.nodes.slice();
    nodes[i] = { ...nodes[i], params };
    this.doc = { ...this.doc, nodes };
    this.wiring = { ...this.wiring, nodes };
    return this.reinferFrom([nodeId]);
  }

  /** Re-infers the given nodes and whatever their changes reach. */
  reinferFrom(seeds: string[]): string[] {
    const pending = new Set<number>();
    for (const id of seeds) {
      const i = this.wiring.index.get(id);
      if (i !== undefined && this.position[i] >= 0) pending.add(i);
    }
    const visited: string[] = [];
    while (pending.size > 0) {
      let next = -1;
      for (const i of pending) if (next < 0 || this.position[i] < this.position[next]) next = i;
      pending.delete(next);
      visited.push(this.doc.nodes[next].id);
      const before = this.reports[next];
      if (before) this.account(before, -1);
      const after = this.inferOne(next);
      if (after) this.account(after, +1);
      // Param shapes matter to nodes that tie to this one's weights.
      if (!sameOutputs(before?.outputs ?? null, after?.outputs ?? null) || !sameParamShapes(before?.params ?? [], after?.params ?? [])) {
        for (const d of this.wiring.dependents[next]) pending.add(d);
      }
    }
    return visited;
  }

  private inferOne(i: number): NodeReport | undefined {
    const node = this.doc.nodes[i];
    const spec = this.wiring.specs[i];
    if (!spec) return (this.reports[i] = undefined);
    const connected = this.wiring.incoming[i];
    // A node fed by a node that failed, or missing a required input, stays silent:
    // the root cause is reported once, where it is.
    let blocked = false;
    const inputs: (TensorType | undefined)[] = new Array(connected.length);
    for (let p = 0; p < connected.length; p++) {
      const c = connected[p];
      inputs[p] = c ? this.reports[c.from]?.outputs?.[c.fromPort] : undefined;
      if (c && !inputs[p]) blocked = true;
    }
    if (!spec.inputs[0]?.variadic) {
      for (let p = 0; p < spec.inputs.length; p++) if (!spec.inputs[p].optional && !connected[p]) blocked = true;
    }
    const report: NodeReport = blocked
      ? { id: node.id, op: node.op, inputs, outputs: null, params: [], buffers: [], paramCount: 0, trainable: node.trainable !== false, macs: null, diagnostics: [] }
      : inferNode(node, spec, inputs, this.paramsOf);
    return (this.reports[i] = report);
  }

  private readonly paramsOf = (id: string): ParamTensor[] | undefined => this.node(id)?.params;

  private account(r: NodeReport, sign: 1 | -1): void {
    this.totals.totalParams += sign * r.paramCount;
    if (r.trainable) this.totals.trainableParams += sign * r.paramCount;
    if (r.macs !== null) this.totals.totalMacs += sign * r.macs;
  }

  get document(): ModelDocument {
    return this.doc;
  }

  /** Node ids in topological order (nodes on a cycle or with an unknown op are left out). */
  /** The document's resolved wiring (ports per edge, dependents), for the editor's connection rules. */
  get wires(): Wiring {
    return this.wiring;
  }

  get order(): string[] {
    return this.wiring.order.map((i) => this.doc.nodes[i].id);
  }

  /** Where each input port of a node is fed from (for a variadic op, every edge in file order). */
  incoming(id: string): ({ node: string; port: number } | undefined)[] {
    const i = this.wiring.index.get(id);
    if (i === undefined) return [];
    return this.wiring.incoming[i].map((c) => (c ? { node: this.doc.nodes[c.from].id, port: c.fromPort } : undefined));
  }

  /** The formula trace of a node ("W2 = (W1 − F + 2P)/S + 1 = ..."), derived when asked for. */
  formulas(id: string): string[] {
    const i = this.wiring.index.get(id);
    const spec = i === undefined ? undefined : this.wiring.specs[i];
    const report = i === undefined ? undefined : this.reports[i];
    if (!spec || !report) return [];
    const lines: string[] = [];
    inferNode(this.doc.nodes[i!], spec, report.inputs, this.paramsOf, lines);
    return lines;
  }

  node(id: string): NodeReport | undefined {
    const i = this.wiring.index.get(id);
    return i === undefined ? undefined : this.reports[i];
  }

  /** Reports in topological order. */
  nodes(): NodeReport[] {
    return this.wiring.order.map((i) => this.reports[i]).filter((r): r is NodeReport => r !== undefined);
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
