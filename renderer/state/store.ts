/**
 * The editor's state: the model document (the single source of truth), its weights, the selection, and
 * an undo history of whole documents with their weights. Every change to the document or its weights
 * goes through `remember`, so every change can be undone, and is refused while training holds the lock.
 * Shapes and counts are re-inferred on each change, incrementally for parameter edits.
 * Plain TypeScript (no React, no DOM) so that it is unit-tested in Node.
 */
import {
  ShapeInference,
  connectionProblem,
  getLayer,
  parseEdgeEnd,
  serializeModel,
  summarize,
  type Diagnostic,
  type ModelDocument,
  type ModelEdge,
  type ModelNode,
  type ModelSummary,
  type ParamValue,
} from '../../core/index.ts';
import { outputPorts } from '../../core/layers/index.ts';
import { groupsOf, type Group } from '../../core/graph/modules.ts';
import type { Weights } from '../../core/graph/weights.ts';
import { wire } from '../../core/shape/wiring.ts';
import { NODE_HEIGHT, NODE_WIDTH } from '../canvas/layout.ts';
import { nextId } from './ids.ts';

export { groupsOf, type Group } from '../../core/graph/modules.ts';

export interface EditorState {
  doc: ModelDocument;
  /** The document's weights (opened with it, or trained); undefined: fresh initialisation on export. */
  weights: Weights | undefined;
  /** Set while training: every edit is refused (not part of the undo history). */
  locked: ModelLock | null;
  selection: string[];
  /** Where the document was last saved (a path, or a file name in the browser). */
  fileName: string | null;
  /** Whether the document differs from the last save. */
  dirty: boolean;
  /** Bumped on every change, for subscribers. */
  revision: number;
  /** What inference made of the document: a new object exactly when the document's inference changed. */
  inferred: Inferred;
}

export interface Inferred {
  /** Shapes, counts and formulas per node (updated in place; `inferred` changes with it). */
  inference: ShapeInference;
  diagnostics: Diagnostic[];
  summary: ModelSummary;
}

/** Who holds the model while it is being trained: what to tell a person who tries to edit, and how to stop. */
export interface ModelLock {
  /** Said when an edit is refused, and in the banner. */
  message: string;
  /** More for the banner: what stopping does. */
  detail: string;
  stop(): void;
}

/** What one undo step restores. */
interface HistoryEntry {
  doc: ModelDocument;
  weights: Weights | undefined;
}

export const CLIPBOARD_FORMAT = 'netloom.clipboard';

export interface ClipboardContent {
  format: typeof CLIPBOARD_FORMAT;
  nodes: ModelNode[];
  edges: ModelEdge[];
}

export function emptyDocument(name = 'Untitled model'): ModelDocument {
  return { format: 'netloom.model', version: 1, name, nodes: [], edges: [] };
}

const HISTORY_LIMIT = 200;

export class EditorStore {
  private state: EditorState;
  private past: HistoryEntry[] = [];
  private future: HistoryEntry[] = [];
  private listeners = new Set<() => void>();
  private refusalListeners = new Set<(message: string) => void>();
  readonly inference: ShapeInference;

  constructor(doc: ModelDocument = emptyDocument()) {
    this.inference = new ShapeInference(doc);
    this.state = { doc, weights: undefined, locked: null, selection: [], fileName: null, dirty: false, revision: 0, inferred: this.snapshot() };
  }

  private snapshot(): Inferred {
    return { inference: this.inference, diagnostics: this.inference.diagnostics(), summary: summarize(this.inference) };
  }

  get(): EditorState {
    return this.state;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Hears the message of each edit refused because the model is locked. */
  onRefused(listener: (message: string) => void): () => void {
    this.refusalListeners.add(listener);
    return () => this.refusalListeners.delete(listener);
  }

  /** Locks the model (training): edits, undo, redo and opening another document are refused until `unlock`. */
  lock(lock: ModelLock): void {
    this.set({ locked: lock });
  }

  unlock(): void {
    if (this.state.locked) this.set({ locked: null });
  }

  /** True (and the person told why) when the model is locked: for whatever would replace the document. */
  refused(): boolean {
    const lock = this.state.locked;
    if (!lock) return false;
    for (const l of this.refusalListeners) l(lock.message);
    return true;
  }

  /** Records the present as an undo step; false (nothing recorded) while the model is locked. */
  private remember(): boolean {
    if (this.refused()) return false;
    this.past.push({ doc: this.state.doc, weights: this.state.weights });
    if (this.past.length > HISTORY_LIMIT) this.past.shift();
    this.future = [];
    return true;
  }

  private set(patch: Partial<EditorState>): void {
    this.state = { ...this.state, ...patch, revision: this.state.revision + 1 };
    for (const l of this.listeners) l();
  }

  /** Replaces the document as one undoable step (false: refused, the model is locked); `paramEdit` re-infers incrementally. */
  private apply(next: ModelDocument, paramEdit?: { id: string; params: Record<string, ParamValue> }): boolean {
    if (!this.remember()) return false;
    const inferred = this.reinfer(next, paramEdit);
    const ids = new Set(next.nodes.map((n) => n.id));
    this.set({ doc: next, inferred, dirty: true, selection: this.state.selection.filter((id) => ids.has(id)) });
    return true;
  }

  /** Replaces the weights (trained, or a weights file opened for the document) as one undoable step. */
  setWeights(weights: Weights | undefined): boolean {
    if (!this.remember()) return false;
    this.set({ weights, dirty: true });
    return true;
  }

  private reinfer(doc: ModelDocument, paramEdit?: { id: string; params: Record<string, ParamValue> }): Inferred {
    // Inference reads documents without changing them: no copies.
    if (paramEdit) this.inference.setParams(paramEdit.id, paramEdit.params);
    else this.inference.rebuild(doc);
    return this.snapshot();
  }

  /** Opens a document with its weights, if any: a fresh history. False: refused, the model is locked. */
  load(doc: ModelDocument, fileName: string | null = null, weights?: Weights): boolean {
    if (this.refused()) return false;
    this.past = [];
    this.future = [];
    this.set({ doc, weights, inferred: this.reinfer(doc), selection: [], fileName, dirty: false });
    return true;
  }

  markSaved(fileName: string): void {
    this.set({ fileName, dirty: false });
  }

  markUnsaved(): void {
    this.set({ dirty: true });
  }

  canUndo(): boolean {
    return this.past.length > 0;
  }

  canRedo(): boolean {
    return this.future.length > 0;
  }

  undo(): void {
    if (this.past.length === 0 || this.refused()) return;
    this.future.push(this.restore(this.past.pop()!));
  }

  redo(): void {
    if (this.future.length === 0 || this.refused()) return;
    this.past.push(this.restore(this.future.pop()!));
  }

  /** Goes back or forward to a history entry; returns the present one. */
  private restore(entry: HistoryEntry): HistoryEntry {
    const present = { doc: this.state.doc, weights: this.state.weights };
    // A weights-only step leaves the document, and so its inference, as it is.
    const inferred = entry.doc === present.doc ? this.state.inferred : this.reinfer(entry.doc);
    this.set({ doc: entry.doc, weights: entry.weights, inferred, dirty: true });
    return present;
  }

  select(ids: string[]): void {
    this.set({ selection: ids });
  }

  selectAll(): void {
    this.select(this.state.doc.nodes.map((n) => n.id));
  }

  /** Adds a layer and selects it; its id ('' when refused: the model is locked). */
  addNode(op: string, position: { x: number; y: number }, params: Record<string, ParamValue> = {}): string {
    const spec = getLayer(op);
    if (!spec) throw new Error(`unknown layer ${op}`);
    const doc = this.state.doc;
    const id = nextId(
      op,
      doc.nodes.map((n) => n.id),
    );
    // Required params get a sensible starting value so that a new node is valid where it can be.
    const defaults: Record<string, ParamValue> = { ...spec.starting, ...params };
    if (!this.apply({ ...doc, nodes: [...doc.nodes, { id, op, params: defaults, position }] })) return '';
    this.select([id]);
    return id;
  }

  /** Adds a layer wired after `after` (when that connection is allowed), as one undoable step. */
  addNodeAfter(op: string, position: { x: number; y: number }, after: string): string {
    const id = this.addNode(op, position);
    if (!id) return id;
    const from = this.outputsOf(after).length > 1 ? `${after}:${this.outputsOf(after)[0]}` : after;
    const withNode = this.state.doc;
    if (this.connectionProblem(from, id) === null) {
      this.apply({ ...withNode, edges: [...withNode.edges, { from, to: id }] });
      // The layer without its edge is not a step of its own: one undo removes both.
      this.past.pop();
      this.select([id]);
    }
    return id;
  }

  setParams(id: string, params: Record<string, ParamValue>): void {
    const doc = this.state.doc;
    this.apply({ ...doc, nodes: doc.nodes.map((n) => (n.id === id ? { ...n, params } : n)) }, { id, params });
  }

  setParam(id: string, name: string, value: ParamValue | undefined): void {
    const node = this.state.doc.nodes.find((n) => n.id === id)!;
    const params = { ...node.params };
    if (value === undefined) delete params[name];
    else params[name] = value;
    this.setParams(id, params);
  }

  setTrainable(id: string, trainable: boolean): void {
    const doc = this.state.doc;
    this.apply({ ...doc, nodes: doc.nodes.map((n) => (n.id === id ? { ...n, trainable } : n)) });
  }

  rename(name: string): void {
    this.apply({ ...this.state.doc, name });
  }

  /** Replaces the whole document (an edit of its text in the Code tab) as one undoable change. */
  replace(doc: ModelDocument): void {
    this.apply(doc);
  }

  /** Moves nodes (one undo step per drag, not per pixel). */
  moveNodes(positions: Record<string, { x: number; y: number }>): void {
    const doc = this.state.doc;
    this.apply({ ...doc, nodes: doc.nodes.map((n) => (positions[n.id] ? { ...n, position: positions[n.id] } : n)) });
  }

  /** Why an edge may not be added, or null (the core's connection rules, on the current wiring). */
  connectionProblem(from: string, to: string): string | null {
    return connectionProblem(this.inference.wires, from, to);
  }

  connect(from: string, to: string): string | null {
    const problem = this.connectionProblem(from, to);
    if (problem) return problem;
    const doc = this.state.doc;
    return this.apply({ ...doc, edges: [...doc.edges, { from, to }] }) ? null : this.state.locked!.message;
  }

  /**
   * Replaces the edge into an input port (the Inspector's Inputs): `from` null disconnects it. The new
   * edge is checked as if the old one were gone; when it is refused the document is left as it was.
   */
  rewire(old: ModelEdge | undefined, from: string | null, to: string): string | null {
    const doc = this.state.doc;
    const edges = old ? doc.edges.filter((e) => e !== old) : doc.edges;
    const without = { ...doc, edges };
    if (from === null) {
      if (old) this.apply(without);
      return null;
    }
    const problem = connectionProblem(wire(without), from, to);
    if (problem) return problem;
    return this.apply({ ...doc, edges: [...edges, { from, to }] }) ? null : this.state.locked!.message;
  }

  removeEdges(edges: ModelEdge[]): void {
    const doc = this.state.doc;
    const gone = new Set(edges.map((e) => `${e.from}>${e.to}`));
    this.apply({ ...doc, edges: doc.edges.filter((e) => !gone.has(`${e.from}>${e.to}`)) });
  }

  /** Deletes the given nodes with their edges (and tiedTo references to them). */
  deleteNodes(ids: string[]): void {
    if (ids.length === 0) return;
    const doc = this.state.doc;
    const gone = new Set(ids);
    const groups = groupsOf(doc)
      .map((g) => ({ ...g, nodes: g.nodes.filter((n) => !gone.has(n)) }))
      .filter((g) => g.nodes.length > 0);
    this.apply({
      ...doc,
      nodes: doc.nodes.filter((n) => !gone.has(n.id)),
      edges: doc.edges.filter((e) => !gone.has(parseEdgeEnd(e.from).node) && !gone.has(parseEdgeEnd(e.to).node)),
      ...(groups.length > 0 || doc.groups ? { groups } : {}),
    });
  }

  /** The selected nodes and the edges among them, for the clipboard. */
  copy(ids = this.state.selection): ClipboardContent {
    const chosen = new Set(ids);
    const doc = this.state.doc;
    return {
      format: CLIPBOARD_FORMAT,
      nodes: structuredClone(doc.nodes.filter((n) => chosen.has(n.id))),
      edges: doc.edges.filter((e) => chosen.has(parseEdgeEnd(e.from).node) && chosen.has(parseEdgeEnd(e.to).node)),
    };
  }

  cut(): ClipboardContent {
    const content = this.copy();
    this.deleteNodes(this.state.selection);
    return content;
  }

  /** Pastes nodes with fresh ids (none when the model is locked), beside the originals (and earlier pastes) rather than over them; selects them. */
  paste(content: ClipboardContent, offset = pasteOffset(this.state.doc, content)): string[] {
    const doc = this.state.doc;
    const taken = doc.nodes.map((n) => n.id);
    const rename = new Map<string, string>();
    for (const n of content.nodes) {
      const id = nextId(n.op, taken);
      taken.push(id);
      rename.set(n.id, id);
    }
    const end = (text: string) => {
      const e = parseEdgeEnd(text);
      return `${rename.get(e.node) ?? e.node}${e.port === undefined ? '' : `:${e.port}`}`;
    };
    const nodes = content.nodes.map((n) => ({
      ...structuredClone(n),
      id: rename.get(n.id)!,
      position: { x: (n.position?.x ?? 0) + offset.x, y: (n.position?.y ?? 0) + offset.y },
      params: retie(n.params, rename),
    }));
    if (!this.apply({ ...doc, nodes: [...doc.nodes, ...nodes], edges: [...doc.edges, ...content.edges.map((e) => ({ from: end(e.from), to: end(e.to) }))] })) return [];
    const ids = nodes.map((n) => n.id);
    this.select(ids);
    return ids;
  }

  duplicate(): string[] {
    return this.paste(this.copy());
  }

  group(ids = this.state.selection, label = 'Block'): string | null {
    if (ids.length < 2) return null;
    const doc = this.state.doc;
    const existing = groupsOf(doc);
    const id = nextId(
      'group',
      existing.map((g) => g.id),
    );
    const inOther = new Set(existing.flatMap((g) => g.nodes));
    const members = ids.filter((n) => !inOther.has(n));
    if (members.length < 2) return null;
    this.apply({ ...doc, groups: [...existing, { id, label, nodes: members, collapsed: false }] });
    return id;
  }

  ungroup(groupId: string): void {
    const doc = this.state.doc;
    this.apply({ ...doc, groups: groupsOf(doc).filter((g) => g.id !== groupId) });
  }

  toggleGroup(groupId: string): void {
    const doc = this.state.doc;
    this.apply({ ...doc, groups: groupsOf(doc).map((g) => (g.id === groupId ? { ...g, collapsed: !g.collapsed } : g)) });
  }

  /** New groups (expanded or collapsed) with the layout that shows them, as one undoable step. */
  arrange(groups: Group[], positions: Record<string, { x: number; y: number }>): void {
    const doc = this.state.doc;
    this.apply({ ...doc, nodes: doc.nodes.map((n) => (positions[n.id] ? { ...n, position: positions[n.id] } : n)), ...(groups.length > 0 || doc.groups ? { groups } : {}) });
  }

  /** Output port names of a node, for wiring from the keyboard. */
  outputsOf(id: string): string[] {
    const node = this.state.doc.nodes.find((n) => n.id === id);
    const spec = node && getLayer(node.op);
    return spec ? outputPorts(spec, node.params).map((p) => p.name) : [];
  }

  serialize(): string {
    return serializeModel(this.state.doc);
  }
}

/** A shift to the right by the copied nodes' width, repeated until no copy lands on a layer already there. */
function pasteOffset(doc: ModelDocument, content: ClipboardContent): { x: number; y: number } {
  const xs = content.nodes.map((n) => n.position?.x ?? 0);
  const step = Math.max(...xs, 0) - Math.min(...xs, 0) + NODE_WIDTH + 40;
  const overlaps = (dx: number) =>
    content.nodes.some((c) => doc.nodes.some((n) => Math.abs((n.position?.x ?? 0) - ((c.position?.x ?? 0) + dx)) < NODE_WIDTH && Math.abs((n.position?.y ?? 0) - (c.position?.y ?? 0)) < NODE_HEIGHT));
  let dx = step;
  while (overlaps(dx)) dx += step;
  return { x: dx, y: 0 };
}

function retie(params: Record<string, ParamValue>, rename: Map<string, string>): Record<string, ParamValue> {
  const out = structuredClone(params);
  if (typeof out.tiedTo === 'string' && rename.has(out.tiedTo)) out.tiedTo = rename.get(out.tiedTo)!;
  return out;
}
