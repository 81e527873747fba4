import { useSyncExternalStore } from 'react';
import type { EditorState, EditorStore } from './state/store.ts';

/** Re-renders when the store changes. */
export function useEditor(store: EditorStore): EditorState {
  return useSyncExternalStore(
    (listener) => store.subscribe(listener),
    () => store.get(),
  );
}
