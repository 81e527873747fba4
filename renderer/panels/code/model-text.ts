/**
 * The Code tab's logic, without Monaco or the DOM: reading the text back into a document (or the
 * problems that stop it, each at its place), the Problems panel's diagnostics at their place in the text,
 * and which node a text position is in.
 */
import { parseModel, type Diagnostic, type ModelDocument } from '../../../core/index.ts';
import { jsonRanges, nodeAt, type TextRange } from '../../../core/graph/json-ranges.ts';

export interface TextMark {
  start: number;
  end: number;
  severity: 'error' | 'warning';
  message: string;
}

export type TextReading = { ok: true; doc: ModelDocument } | { ok: false; marks: TextMark[] };

/** Offset of a 1-based line and column. */
function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) offset = text.indexOf('\n', offset) + 1;
  return offset + column - 1;
}

/** The range of a path, or of the nearest enclosing value that has one. */
function rangeOf(ranges: Map<string, TextRange>, path: string): TextRange {
  for (let p = path; p; p = p.replace(/(\.[^.[\]]+|\[\d+\])$/, '')) {
    const r = ranges.get(p);
    if (r) return r;
    if (p === '$') break;
  }
  return ranges.get('$') ?? { start: 0, end: 0 };
}

/** The document the text describes, or its problems: broken JSON at its line and column, the rest at their JSON path. */
export function readModelText(text: string): TextReading {
  const result = parseModel(text);
  if (result.ok) return result;
  let ranges: Map<string, TextRange> | undefined; // only for problems with a JSON path, which come from valid JSON
  return {
    ok: false,
    marks: result.problems.map((p) => {
      const position = /^(\d+):(\d+)$/.exec(p.path);
      if (position) {
        const at = Math.min(text.length, offsetOf(text, Number(position[1]), Number(position[2])));
        return { start: at, end: Math.min(text.length, at + 1), severity: 'error', message: p.message };
      }
      const r = rangeOf((ranges ??= jsonRanges(text)), p.path);
      return { start: r.keyStart ?? r.start, end: r.end, severity: 'error', message: `${p.path} ${p.message}` };
    }),
  };
}

/** The Problems panel's diagnostics at the node, and the parameter, they concern; "node: message (formula). suggestion". */
export function diagnosticMarks(text: string, doc: ModelDocument, diagnostics: Diagnostic[]): TextMark[] {
  const ranges = jsonRanges(text);
  const index = new Map(doc.nodes.map((n, k) => [n.id, k]));
  return diagnostics.map((d) => {
    const k = d.nodeId === null ? undefined : index.get(d.nodeId);
    const path = k === undefined ? '$' : d.field && ranges.has(`$.nodes[${k}].params.${d.field}`) ? `$.nodes[${k}].params.${d.field}` : `$.nodes[${k}].op`;
    const r = rangeOf(ranges, path);
    const where = d.nodeId === null ? '' : `${d.nodeId}${d.field ? `.${d.field}` : ''}: `;
    const message = `${where}${d.message}${d.formula ? `\n${d.formula}` : ''}${d.suggestion ? `\n${d.suggestion}` : ''}`;
    return { start: r.keyStart ?? r.start, end: r.end, severity: d.severity, message };
  });
}

/** The text of a node (the whole object), for showing the canvas's selection. */
export function nodeRange(text: string, doc: ModelDocument, id: string): TextRange | null {
  const k = doc.nodes.findIndex((n) => n.id === id);
  return k < 0 ? null : (jsonRanges(text).get(`$.nodes[${k}]`) ?? null);
}

/** The node whose text contains the offset, for showing the text's selection on the canvas. */
export function nodeIdAt(text: string, doc: ModelDocument, offset: number): string | null {
  const k = nodeAt(jsonRanges(text), offset);
  return k === null ? null : (doc.nodes[k]?.id ?? null);
}
