/** The templates gallery: each card has a drawing of the model, its parameter total and what it teaches; search filters them. */
import { useEffect, useRef, useState } from 'react';
import { formatCount, inferShapes } from '../../core/index.ts';
import { TEMPLATES } from '../templates.ts';
import { TemplateSketch } from './TemplateSketch.tsx';

const COUNTS = new Map<string, number>();

export function TemplatesDialog({ onPick, onClose }: { onPick: (id: string) => void; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [query, setQuery] = useState('');
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const q = query.trim().toLowerCase();
  const shown = TEMPLATES.filter(({ id, doc }) => !q || `${id} ${doc.name} ${String(doc.description ?? '')} ${doc.nodes.map((n) => n.op).join(' ')}`.toLowerCase().includes(q));
  return (
    <dialog ref={dialog} className="templates" aria-label="Templates" onClose={onClose}>
      <h2>New from template</h2>
      <input
        type="search"
        className="template-search"
        aria-label="Search templates"
        placeholder="Search: name, layer or idea (e.g. residual, LSTM)"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      <div className="template-grid">
        {shown.length === 0 && <p className="muted">No template matches “{query}”.</p>}
        {shown.map(({ id, doc }) => {
          if (!COUNTS.has(id)) COUNTS.set(id, inferShapes(doc).getTotals().totalParams);
          return (
            <button key={id} type="button" className="template" onClick={() => onPick(id)} aria-label={`Template ${id}`}>
              <TemplateSketch doc={doc} />
              <span className="template-text">
                <strong>{doc.name}</strong>
                <span className="muted" data-testid="template-facts">
                  {doc.nodes.length} layers · {formatCount(COUNTS.get(id)!)} params
                </span>
                {typeof doc.description === 'string' && <span className="template-teaches">{doc.description}</span>}
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
