/** Offers back the work an earlier session did not save (the autosaved recovery copy). */
import { useEffect, useState } from 'react';
import { parseModel, type ModelDocument } from '../../core/index.ts';
import type { Workspace } from '../workspace.ts';

interface Recovered {
  doc: ModelDocument;
  fileName: string | null;
  time: string;
}

/** Autosaves the document to the recovery copy a second after each change. */
export function useAutosave({ platform }: Workspace, doc: ModelDocument, fileName: string | null, dirty: boolean): void {
  useEffect(() => {
    if (!dirty) return;
    const t = setTimeout(() => void platform.writeRecovery(JSON.stringify({ doc, fileName, time: new Date().toISOString() })), 1000);
    return () => clearTimeout(t);
  }, [doc, fileName, dirty, platform]);
}

export function RecoveryBanner({ workspace }: { workspace: Workspace }) {
  const { platform, store, openDocument } = workspace;
  const [recovered, setRecovered] = useState<Recovered | null>(null);
  useEffect(() => {
    void platform.readRecovery().then((text) => {
      if (!text) return;
      try {
        const saved = JSON.parse(text) as Recovered;
        if (parseModel(JSON.stringify(saved.doc)).ok) setRecovered(saved);
      } catch {
        void platform.clearRecovery();
      }
    });
  }, [platform]);
  if (!recovered) return null;
  return (
    <div className="banner" role="alert">
      Unsaved work from {new Date(recovered.time).toLocaleString()} can be recovered.
      <button
        type="button"
        onClick={() => {
          // Recovered work is unsaved work: the document opens marked as changed.
          void openDocument(recovered.doc, recovered.fileName).then(() => store.markUnsaved());
          setRecovered(null);
        }}
      >
        Recover
      </button>
      <button
        type="button"
        onClick={() => {
          void platform.clearRecovery();
          setRecovered(null);
        }}
      >
        Discard
      </button>
    </div>
  );
}
