/**
 * Files dropped onto the window open together (a model with its weights, an ONNX file with its data),
 * as with File > Open. Layers dragged from the palette carry no files and are left to the canvas.
 */
import { useEffect } from 'react';
import { readFiles } from '../platform/browser.ts';
import type { Workspace } from '../workspace.ts';

export function useFileDrop({ openFiles, confirmDiscard }: Workspace): void {
  useEffect(() => {
    const carriesFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;
    const onDragOver = (e: DragEvent) => {
      if (carriesFiles(e)) e.preventDefault();
    };
    const onDrop = async (e: DragEvent) => {
      const files = [...(e.dataTransfer?.files ?? [])];
      if (files.length === 0) return;
      e.preventDefault();
      // A lone weights file completes the open document; anything else replaces it.
      const weightsOnly = files.every((f) => f.name.toLowerCase().endsWith('.safetensors'));
      if (weightsOnly || confirmDiscard()) await openFiles(await readFiles(files));
    };
    window.addEventListener('dragover', onDragOver);
    window.addEventListener('drop', onDrop);
    return () => {
      window.removeEventListener('dragover', onDragOver);
      window.removeEventListener('drop', onDrop);
    };
  }, [openFiles, confirmDiscard]);
}
