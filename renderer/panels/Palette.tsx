/** Every catalogue layer, grouped by category, with search. Drag onto the canvas, or focus and press Enter. */
import { useMemo, useState } from 'react';
import { LAYERS } from '../../core/index.ts';

export function Palette({ onAdd }: { onAdd: (op: string) => void }) {
  const [query, setQuery] = useState('');
  const groups = useMemo(() => {
    const q = query.trim().toLowerCase();
    const shown = LAYERS.filter((l) => !l.internal && (!q || l.op.toLowerCase().includes(q) || l.summary.toLowerCase().includes(q) || l.category.toLowerCase().includes(q)));
    const byCategory = new Map<string, typeof shown>();
    for (const l of shown) byCategory.set(l.category, [...(byCategory.get(l.category) ?? []), l]);
    return [...byCategory];
  }, [query]);
  return (
    <nav className="palette" aria-label="Layer palette">
      <input type="search" placeholder="Search layers" aria-label="Search layers" value={query} onChange={(e) => setQuery(e.target.value)} />
      {groups.map(([category, layers]) => (
        <section key={category}>
          <h3>{category}</h3>
          {layers.map((l) => (
            <button
              key={l.op}
              type="button"
              className="palette-item"
              draggable
              title={l.summary}
              onDragStart={(e) => {
                e.dataTransfer.setData('application/x-netloom-layer', l.op);
                e.dataTransfer.effectAllowed = 'copy';
              }}
              onClick={() => onAdd(l.op)}
            >
              {l.op}
            </button>
          ))}
        </section>
      ))}
      {groups.length === 0 && <p className="muted">No layer matches “{query}”.</p>}
    </nav>
  );
}
