/**
 * Values written on the edges (the Debug panel's, while it steps): text by source layer id. A small
 * external store, so that the canvas re-labels its edges only when the values change.
 */
import { useSyncExternalStore } from 'react';

let current = new Map<string, string>();
const listeners = new Set<() => void>();

export function setEdgeValues(values: Map<string, string>): void {
  if (values.size === 0 && current.size === 0) return;
  current = values;
  for (const l of listeners) l();
}

export function useEdgeValues(): Map<string, string> {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => current,
  );
}
