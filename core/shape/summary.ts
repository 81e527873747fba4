/** The torchinfo-style summary: one row per layer, the totals and the diagnostics. */
import { formatCount } from '../layers/common.ts';
import type { Diagnostic } from '../graph/diagnostics.ts';
import { formatDiagnostic } from '../graph/diagnostics.ts';
import { formatShape, type Dim } from '../graph/dim.ts';
import type { ShapeInference } from './infer.ts';

export interface SummaryRow {
  id: string;
  op: string;
  /** The first output's shape, batch as "N"; null when it could not be inferred. */
  outputShape: Dim[] | null;
  params: number;
  macs: number | null;
}

export interface ModelSummary {
  name: string;
  totalParams: number;
  trainableParams: number;
  totalMacs: number;
  layers: SummaryRow[];
  diagnostics: Diagnostic[];
}

export function summarize(inference: ShapeInference): ModelSummary {
  const doc = inference.document;
  const totals = inference.getTotals();
  const inOrder = new Set(inference.order);
  // Execution order first, then nodes that could not be ordered (unknown ops, cycles) in file order.
  const ids = [...inference.order, ...doc.nodes.map((n) => n.id).filter((id) => !inOrder.has(id))];
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const layers = ids.map((id): SummaryRow => {
    const node = byId.get(id)!;
    const r = inference.node(id);
    return { id, op: node.op, outputShape: r?.outputs?.[0]?.shape ?? null, params: r?.paramCount ?? 0, macs: r?.outputs ? r.macs : null };
  });
  return { name: doc.name, totalParams: totals.totalParams, trainableParams: totals.trainableParams, totalMacs: totals.totalMacs, layers, diagnostics: inference.diagnostics() };
}

/**
 * The MACs total, honest about layers whose MACs are unknown (sizes such as T that stay symbolic, or
 * shapes that could not be inferred): a sum over the rest would read as a count for the whole model.
 */
export function formatTotalMacs(s: ModelSummary): string {
  const unknown = s.layers.filter((l) => l.macs === null).length;
  if (unknown === 0) return `${formatCount(s.totalMacs)} (multiply-accumulates per sample)`;
  const why = `${unknown} of ${s.layers.length} layers' MACs are unknown: their sizes are symbolic or not inferred`;
  return s.totalMacs > 0 ? `at least ${formatCount(s.totalMacs)} per sample (${why})` : `– (${why})`;
}
/** Whether every layer was inferred; otherwise the totals cover only the layers that were. */
export const isComplete = (s: ModelSummary): boolean => s.layers.every((l) => l.outputShape !== null);

/** A plain-text table like torchinfo's. */
export function formatSummary(s: ModelSummary): string {
  const header = ['Layer', 'Op', 'Output shape', 'Params', 'MACs'];
  const rows = s.layers.map((l) => [l.id, l.op, l.outputShape ? formatShape(l.outputShape) : '?', formatCount(l.params), l.macs === null ? '–' : formatCount(l.macs)]);
  // A loop, not Math.max(...rows): a spread of 100,000 rows overflows the call stack.
  const widths = header.map((h, c) => rows.reduce((w, r) => Math.max(w, r[c].length), h.length));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (c >= 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  const rule = '─'.repeat(widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1));
  const out = [s.name, rule, line(header), rule, ...rows.map(line), rule];
  if (isComplete(s)) {
    out.push(`Total params: ${formatCount(s.totalParams)}`);
    out.push(`Trainable params: ${formatCount(s.trainableParams)}`);
    out.push(`Non-trainable params: ${formatCount(s.totalParams - s.trainableParams)}`);
    out.push(`Total MACs: ${formatTotalMacs(s)}`);
  } else {
    // A partial sum printed as the total would be a wrong number; say what is known instead.
    const unknown = s.layers.filter((l) => l.outputShape === null).length;
    out.push(`Total params: unknown (${unknown} layer(s) could not be inferred; ${formatCount(s.totalParams)} in the others)`);
  }
  if (s.diagnostics.length > 0) {
    const errors = s.diagnostics.filter((d) => d.severity === 'error').length;
    out.push(rule, `${errors} error(s), ${s.diagnostics.length - errors} warning(s):`, ...s.diagnostics.map(formatDiagnostic));
  }
  return out.join('\n');
}
