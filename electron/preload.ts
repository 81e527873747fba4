/**
 * The preload bridge: a small typed API (window.netloom), through contextBridge. The window never gets
 * Node or Electron itself; every call is a named IPC channel that the main process validates.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { Command, IPC, OpenedFilesReply, SavedFileReply, type CommandId, type EngineReply, type NetloomBridge } from '../common/ipc.ts';

const bridge: NetloomBridge = {
  openFile: async () => OpenedFilesReply.parse(await ipcRenderer.invoke(IPC.openFile)),
  saveFile: async (request) => SavedFileReply.parse(await ipcRenderer.invoke(IPC.saveFile, request)),
  exportOnnx: async (request) => (await ipcRenderer.invoke(IPC.exportOnnx, request)) as string | null,
  exportPyTorch: async (request) => (await ipcRenderer.invoke(IPC.exportPyTorch, request)) as string | null,
  readRecovery: async () => (await ipcRenderer.invoke(IPC.readRecovery)) as string | null,
  writeRecovery: async (request) => void (await ipcRenderer.invoke(IPC.writeRecovery, request)),
  clearRecovery: async () => void (await ipcRenderer.invoke(IPC.clearRecovery)),
  setTitle: (request) => ipcRenderer.send(IPC.setTitle, request),
  engineRequest: (request) => ipcRenderer.send(IPC.engineRequest, request),
  onEngineReply(handler) {
    const listener = (_: unknown, reply: unknown) => {
      if (typeof reply === 'object' && reply !== null && typeof (reply as EngineReply).id === 'number') handler(reply as EngineReply);
    };
    ipcRenderer.on(IPC.engineReply, listener);
    return () => ipcRenderer.removeListener(IPC.engineReply, listener);
  },
  takePendingDocument: async () => OpenedFilesReply.parse(await ipcRenderer.invoke(IPC.takePendingDocument)),
  onCommand(handler) {
    const listener = (_: unknown, command: unknown) => {
      const parsed = Command.safeParse(command);
      if (parsed.success) handler(parsed.data as CommandId);
    };
    ipcRenderer.on(IPC.command, listener);
    return () => ipcRenderer.removeListener(IPC.command, listener);
  },
};

contextBridge.exposeInMainWorld('netloom', bridge);
