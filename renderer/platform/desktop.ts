/** Desktop mode: everything goes through the preload bridge to the main process. */
import type { NetloomBridge } from '../../common/ipc.ts';
import type { EnginePort } from '../../engines/web/client.ts';
import type { WorkerReply } from '../../engines/web/protocol.ts';
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
    engineInfo: async () => 'Engine: ONNX Runtime for Node in a utility process (CPU; WebGPU, CUDA and DirectML where they run here: see the provider picker).',
  };
}

/**
 * The desktop's engine, onnxruntime-node in the utility process, reached through the bridge. Messages
 * cross processes by copy, so nothing is transferred; the main process validates and routes them.
 */
export function desktopEnginePort(bridge: NetloomBridge): EnginePort {
  let stopListening = () => {};
  return {
    post: (message) => bridge.engineRequest(message),
    listen(receive) {
      // Replies come from the main process, which the window trusts.
      stopListening = bridge.onEngineReply((reply) => receive(reply as unknown as WorkerReply));
    },
    close: () => stopListening(),
  };
}
