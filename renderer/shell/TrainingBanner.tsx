/** Says that the model is locked while it trains, and offers to stop training. */
import type { EditorState } from '../state/store.ts';

export function TrainingBanner({ state }: { state: EditorState }) {
  const lock = state.locked;
  if (!lock) return null;
  return (
    <div className="banner training-banner" role="status" aria-label="Model locked">
      {lock.message} {lock.detail}
      <button type="button" onClick={() => lock.stop()}>
        Stop training
      </button>
    </div>
  );
}
