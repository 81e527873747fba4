/** A problem found in a model, attached to the node it concerns. Errors are values, never exceptions. */
export interface Diagnostic {
  /** The node concerned, or null for a problem of the whole model. */
  nodeId: string | null;
  severity: 'error' | 'warning';
  message: string;
  /** The parameter concerned, when there is one. */
  field?: string;
  /** The formula, with the numbers, that shows the problem. */
  formula?: string;
  suggestion?: string;
}

/** "c1: output W would be -3 ... (W2 = ...). Try: ..." for terminals and logs. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.nodeId === null ? '' : `${d.nodeId}${d.field ? `.${d.field}` : ''}: `;
  const tail = [d.suggestion].filter(Boolean).join(' ');
  return `${d.severity}: ${where}${d.message}${tail ? `. ${tail}` : ''}`;
}
