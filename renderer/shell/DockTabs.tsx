/**
 * A dock: the registered panels of one place as tabs, the chosen tab remembered. A panel stays mounted
 * once shown, so its state (a training run's charts, an editor's cursor) survives switching tabs.
 */
import { useEffect, useState, type ReactNode } from 'react';
import type { PanelProps, PanelSpec } from '../panels/registry.ts';

const SHOW_PANEL = 'netloom:show-panel';

/** Brings a panel's tab to the front in whichever dock holds it (View > Code). */
export const showPanel = (id: string): void => void window.dispatchEvent(new CustomEvent(SHOW_PANEL, { detail: id }));

interface Props {
  label: string;
  storageKey: string;
  panels: PanelSpec[];
  props: PanelProps;
  /** A first tab that is not a registered panel (the canvas in the main dock). */
  first?: { id: string; title: string; content: ReactNode };
}

export function DockTabs({ label, storageKey, panels, props, first }: Props) {
  const tabs = [...(first ? [{ id: first.id, title: first.title }] : []), ...panels.map((p) => ({ id: p.id, title: p.title(props.state) }))];
  const [active, setActive] = useState(() => {
    const saved = localStorage.getItem(storageKey);
    return tabs.some((t) => t.id === saved) ? saved! : tabs[0]?.id;
  });
  const [shown, setShown] = useState(() => new Set([active]));
  const choose = (id: string) => {
    setActive(id);
    setShown((s) => (s.has(id) ? s : new Set(s).add(id)));
    localStorage.setItem(storageKey, id);
  };
  const ids = tabs.map((t) => t.id).join();
  useEffect(() => {
    const show = (e: Event) => {
      const id = (e as CustomEvent<string>).detail;
      if (ids.split(',').includes(id)) choose(id);
    };
    window.addEventListener(SHOW_PANEL, show);
    return () => window.removeEventListener(SHOW_PANEL, show);
  });
  return (
    <section className="dock" aria-label={label}>
      {tabs.length > 1 && (
        <div role="tablist" aria-label={label}>
          {tabs.map((t) => (
            <button key={t.id} type="button" role="tab" id={`tab-${t.id}`} aria-controls={`panel-${t.id}`} aria-selected={active === t.id} onClick={() => choose(t.id)}>
              {t.title}
            </button>
          ))}
        </div>
      )}
      {first && (
        <div
          role={tabs.length > 1 ? 'tabpanel' : undefined}
          id={`panel-${first.id}`}
          aria-labelledby={tabs.length > 1 ? `tab-${first.id}` : undefined}
          className="tabpanel"
          hidden={active !== first.id}
        >
          {first.content}
        </div>
      )}
      {panels.map(
        (p) =>
          shown.has(p.id) && (
            <div key={p.id} role="tabpanel" id={`panel-${p.id}`} aria-labelledby={`tab-${p.id}`} className="tabpanel" hidden={active !== p.id}>
              {p.render(props)}
            </div>
          ),
      )}
    </section>
  );
}
