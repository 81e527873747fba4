/**
 * Above the canvas: Find (Edit › Find Layer, Ctrl+F) by id, op or module path, the breadcrumb of the selected layer's
 * blocks, and expand/collapse all. Finding a layer expands the blocks that hide it and centres it.
 */
import { useReactFlow } from '@xyflow/react';
import { useMemo, useRef, useState } from 'react';
import { groupsOf } from '../../core/graph/modules.ts';
import type { EditorState, EditorStore } from '../state/store.ts';
import { findLayers, groupPath } from '../state/hierarchy.ts';
import { reveal, setAllCollapsed } from './arrange.ts';
import { NODE_HEIGHT, NODE_WIDTH } from './layout.ts';

export function HierarchyBar({ store, state }: { store: EditorStore; state: EditorState }) {
  const findRef = useRef<HTMLInputElement>(null);
  const flow = useReactFlow();
  const [query, setQuery] = useState('');
  const [open, setOpen] = useState(false);
  const groups = groupsOf(state.doc);
  const results = useMemo(() => (query.trim() ? findLayers(state.doc, groupsOf(state.doc), query).slice(0, 30) : []), [state.doc, query]);
  const list = useRef<HTMLUListElement>(null);

  const focusLayer = async (id: string) => {
    await reveal(store, id);
    store.select([id]);
    const at = store.get().doc.nodes.find((n) => n.id === id)?.position;
    if (at) await flow.setCenter(at.x + NODE_WIDTH / 2, at.y + NODE_HEIGHT / 2, { zoom: Math.max(flow.getZoom(), 1), duration: 200 });
    // The found layer takes the focus, so that the keyboard (Delete, Ctrl+C) acts on it.
    document.querySelector<HTMLElement>(`.react-flow__node[data-id="${CSS.escape(id)}"]`)?.focus();
  };
  const jump = (id: string) => {
    setOpen(false);
    void focusLayer(id);
  };

  const selected = state.selection.length === 1 ? state.selection[0] : null;
  const crumbs = selected ? groupPath(groups, selected) : [];
  return (
    <div className="hierarchy-bar nodrag">
      <div className="find">
        <input
          ref={findRef}
          type="search"
          aria-label="Find layer"
          placeholder="Find layer (Ctrl+F)"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setOpen(true);
          }}
          onFocus={() => setOpen(true)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && results[0]) jump(results[0].id);
            if (e.key === 'ArrowDown') list.current?.querySelector('button')?.focus();
            if (e.key === 'Escape') setOpen(false);
          }}
        />
        {open && query.trim() !== '' && (
          <ul ref={list} className="find-results" aria-label="Found layers">
            {results.length === 0 && <li className="muted">No layer matches.</li>}
            {results.map((r) => (
              <li key={r.id}>
                <button type="button" onClick={() => jump(r.id)}>
                  <strong>{r.id}</strong> <span className="muted">{r.op}</span> {r.path && <span className="muted">{r.path}</span>}
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      {crumbs.length > 0 && (
        <nav className="breadcrumb" aria-label="Breadcrumb">
          {crumbs.map((g) => (
            <button key={g.id} type="button" onClick={() => void focusLayer(g.nodes[0])} title={g.label}>
              {g.label}
            </button>
          ))}
          <span>{selected}</span>
        </nav>
      )}
      {groups.length > 0 && (
        <>
          <button type="button" onClick={() => void setAllCollapsed(store, false)}>
            Expand all
          </button>
          <button type="button" onClick={() => void setAllCollapsed(store, true)}>
            Collapse all
          </button>
        </>
      )}
    </div>
  );
}
