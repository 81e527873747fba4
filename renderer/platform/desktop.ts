/** Desktop mode: everything goes through the preload bridge to the main process. */
import type { NetloomBridge } from '../../common/ipc.ts';
import { isBundleName, type OpenedFile, type Platform } from './platform.ts';

declare global {
  interface Window {
    netloom?: NetloomBridge;
  }
}

export function desktopPlatform(bridge: NetloomBridge): Platform {
  // The main process names files by opaque handles; the editor knows a document by the path it shows.
  const handles = new Map<string, string>();
  const opened = (files: (OpenedFile & { handle?: string })[] | null): OpenedFile[] | null => {
    if (!files) return null;
    for (const file of files) if (file.handle) handles.set(file.name, file.handle);
    return files.map((file) => ({ name: file.name, text: file.text, bytes: file.bytes }));
  };
  return {
    kind: 'desktop',
    open: async () => opened(await bridge.openFile()),
    // The bundle is built only when the file is, or may become (Save As), a .netloom.
    save: async (content, current, saveAs) => {
      const saved = await bridge.saveFile({
        text: content.text,
        handle: saveAs || current === null ? null : (handles.get(current) ?? null),
        bundle: saveAs || !current || isBundleName(current) ? content.bundle() : undefined,
      });
      if (!saved) return null;
      handles.set(saved.name, saved.handle);
      return saved.name;
    },
    exportOnnx: (bytes, suggestedName) => bridge.exportOnnx({ bytes, suggestedName }),
    exportPyTorch: (code, weights, suggestedName) => bridge.exportPyTorch({ code, weights, suggestedName }),
    readRecovery: () => bridge.readRecovery(),
    writeRecovery: (text) => bridge.writeRecovery({ text }),
    clearRecovery: () => bridge.clearRecovery(),
    onCommand: (handler) => bridge.onCommand(handler),
    takePendingDocument: async () => opened(await bridge.takePendingDocument()),
    setTitle: (title, dirty) => bridge.setTitle({ title, dirty }),
    engineInfo: async () => `Engine: ONNX Runtime (${(await bridge.engineProviders()).join(', ')}) in a utility process.`,
  };
}
