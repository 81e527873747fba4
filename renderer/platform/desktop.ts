/** Desktop mode: everything goes through the preload bridge to the main process. */
import type { NetloomBridge } from '../../common/ipc.ts';
import type { Platform } from './platform.ts';

declare global {
  interface Window {
    netloom?: NetloomBridge;
  }
}

export function desktopPlatform(bridge: NetloomBridge): Platform {
  return {
    kind: 'desktop',
    open: () => bridge.openFile(),
    save: (text, current, saveAs) => bridge.saveFile({ text, path: saveAs ? null : current }),
    exportOnnx: (bytes, suggestedName) => bridge.exportOnnx({ bytes, suggestedName }),
    exportPyTorch: (code, weights, suggestedName) => bridge.exportPyTorch({ code, weights, suggestedName }),
    readRecovery: () => bridge.readRecovery(),
    writeRecovery: (text) => bridge.writeRecovery({ text }),
    clearRecovery: () => bridge.clearRecovery(),
    onCommand: (handler) => bridge.onCommand(handler),
    takePendingDocument: () => bridge.takePendingDocument(),
    setTitle: (title, dirty) => bridge.setTitle({ title, dirty }),
    engineInfo: async () => `Engine: ONNX Runtime (${(await bridge.engineProviders()).join(', ')}) in a utility process.`,
  };
}
