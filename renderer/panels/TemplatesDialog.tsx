/** The templates gallery. */
import { useEffect, useRef } from 'react';
import { formatCount, inferShapes } from '../../core/index.ts';
import { TEMPLATES } from '../templates.ts';

const COUNTS = new Map<string, number>();

export function TemplatesDialog({ onPick, onClose }: { onPick: (id: string) => void; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  return (
    <dialog ref={dialog} className="templates" aria-label="Templates" onClose={onClose}>
      <h2>New from template</h2>
      <div className="template-grid">
        {TEMPLATES.map(({ id, doc }) => {
          if (!COUNTS.has(id)) COUNTS.set(id, inferShapes(doc).getTotals().totalParams);
          return (
            <button key={id} type="button" className="template" onClick={() => onPick(id)} aria-label={`Template ${id}`}>
              <strong>{doc.name}</strong>
              <span className="muted">
                {id} · {doc.nodes.length} layers · {formatCount(COUNTS.get(id)!)} params
              </span>
            </button>
          );
        })}
      </div>
      <form method="dialog">
        <button type="submit">Close</button>
      </form>
    </dialog>
  );
}
