/** Desktop mode: everything goes through the preload bridge to the main process. */
import type { NetloomBridge } from '../../common/ipc.ts';
import { isBundleName, type Platform } from './platform.ts';

declare global {
  interface Window {
    netloom?: NetloomBridge;
  }
}

export function desktopPlatform(bridge: NetloomBridge): Platform {
  return {
    kind: 'desktop',
    open: () => bridge.openFile(),
    // The bundle is built only when the file is, or may become (Save As), a .netloom.
    save: (content, current, saveAs) =>
      bridge.saveFile({ text: content.text, path: saveAs ? null : current, bundle: saveAs || !current || isBundleName(current) ? content.bundle() : undefined }),
    exportOnnx: (bytes, suggestedName) => bridge.exportOnnx({ bytes, suggestedName }),
    readRecovery: () => bridge.readRecovery(),
    writeRecovery: (text) => bridge.writeRecovery({ text }),
    clearRecovery: () => bridge.clearRecovery(),
    onCommand: (handler) => bridge.onCommand(handler),
    takePendingDocument: () => bridge.takePendingDocument(),
    setTitle: (title, dirty) => bridge.setTitle({ title, dirty }),
    engineInfo: async () => `Engine: ONNX Runtime (${(await bridge.engineProviders()).join(', ')}) in a utility process.`,
  };
}
