/** Every error and warning; clicking one selects its layer. */
import type { Diagnostic } from '../../core/index.ts';

export function Problems({ diagnostics, onPick }: { diagnostics: Diagnostic[]; onPick: (nodeId: string) => void }) {
  if (diagnostics.length === 0)
    return (
      <p className="muted" role="status">
        No problems.
      </p>
    );
  return (
    <ul className="problems" aria-label="Problems">
      {diagnostics.map((d, i) => (
        <li key={i}>
          <button type="button" className={`problem ${d.severity}`} onClick={() => d.nodeId && onPick(d.nodeId)} disabled={!d.nodeId}>
            <strong>{d.severity}</strong> {d.nodeId && <code>{d.nodeId}</code>} {d.message}
            {d.formula && <code className="muted"> {d.formula}</code>}
            {d.suggestion && <span className="muted"> — {d.suggestion}</span>}
          </button>
        </li>
      ))}
    </ul>
  );
}
