/** The status bar: size, parameter total and errors of the model, the engine, the theme. */
import { formatCount } from '../../core/index.ts';
import type { EditorState } from '../state/store.ts';
import type { Theme } from './theme.ts';

export function StatusBar({ state, engine, theme }: { state: EditorState; engine: string; theme: Theme }) {
  const errors = state.inferred.diagnostics.filter((d) => d.severity === 'error').length;
  return (
    <footer className="statusbar" role="status">
      <span>
        {state.doc.nodes.length} layers · Total params: {formatCount(state.inferred.summary.totalParams)} · {errors} errors
      </span>
      <span className="muted">{engine}</span>
      <span className="muted">Theme: {theme}</span>
    </footer>
  );
}
