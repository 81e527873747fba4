/**
 * The desktop shell: one window per document, the native menu, file dialogs, atomic saves, the recovery
 * file, a prompt for unsaved changes, and ONNX Runtime in a utility process. Security as Electron's
 * checklist asks: context isolation, sandbox, no Node in the window, a strict CSP (in index.html), no
 * remote content or navigation, no <webview>, only the permissions the editor uses, every IPC payload
 * validated, and writes only to files the main process chose itself (see save-targets.ts).
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, utilityProcess, type IpcMainInvokeEvent, type MenuItemConstructorOptions, type UtilityProcess } from 'electron';
import { promises as fs } from 'node:fs';
import { basename, dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../host/fs.ts';
import { readModelFiles, type ModelFile } from '../host/model-files.ts';
import { ExportOnnxRequest, ExportPyTorchRequest, IPC, SaveFileRequest, SetTitleRequest, validate, WriteRecoveryRequest, type CommandId } from '../common/ipc.ts';
import { MENUS } from '../common/commands.ts';
import { CONTENT_TYPES, ISOLATION_HEADERS } from '../scripts/http-headers.js';
import type { WorkerReply } from '../engines/web/protocol.ts';
import { EngineRoutes } from './engine-routes.ts';
import { isPermissionAllowed, SaveTargets } from './save-targets.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const RENDERER_DIR = join(HERE, '..', 'renderer');
// The window loads the app from netloom://app/, not file://: a file:// page gets no response headers, so
// it can never be cross-origin isolated (the browser engine's WebAssembly threads need that), and it
// cannot start the engine's module worker.
const SCHEME = 'netloom';
const RENDERER_URL = `${SCHEME}://app/index.html`;
protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } }]);
const dirty = new Map<number, boolean>();
const pendingDocuments = new Map<number, (ModelFile & { handle?: string })[]>();
const recent: string[] = [];
const saveTargets = new SaveTargets();

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    show: false,
    title: 'Netloom',
    webPreferences: { preload: join(HERE, 'preload.cjs'), contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, spellcheck: false, webviewTag: false },
  });
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.once('ready-to-show', () => win.show());
  win.on('close', (event) => {
    if (!dirty.get(win.id)) return;
    const choice = dialog.showMessageBoxSync(win, {
      type: 'warning',
      message: 'This model has unsaved changes.',
      detail: 'Save them before closing?',
      buttons: ['Save', 'Discard', 'Cancel'],
      defaultId: 0,
      cancelId: 2,
    });
    if (choice === 1) return;
    event.preventDefault();
    if (choice === 0) win.webContents.send(IPC.command, 'save');
  });
  const id = win.id;
  win.on('closed', () => {
    for (const stop of engineRoutes.windowClosed(id)) engine?.postMessage(stop);
    dirty.delete(id);
    pendingDocuments.delete(id);
    saveTargets.forget(id);
  });
  void win.loadURL(RENDERER_URL);
  return win;
}

/** Only our own page may call in: no other frame or origin. */
function windowOf(event: IpcMainInvokeEvent): BrowserWindow {
  if (event.senderFrame?.url !== RENDERER_URL) throw new Error('IPC from an unexpected sender');
  const win = BrowserWindow.fromWebContents(event.sender);
  if (!win) throw new Error('IPC from a closed window');
  return win;
}

const recoveryFile = (win: BrowserWindow) => join(app.getPath('userData'), 'recovery', `window-${win.id}.json`);

function remember(path: string): void {
  const at = recent.indexOf(path);
  if (at >= 0) recent.splice(at, 1);
  recent.unshift(path);
  recent.splice(10);
  app.addRecentDocument(path);
  buildMenu();
}

/** Reads a file a person chose, with the files it names beside it; the window it opens in gets a handle for saving back to it. */
async function openPath(path: string, windowId: number): Promise<(ModelFile & { handle?: string })[]> {
  remember(path);
  const [model, ...beside] = await readModelFiles(path);
  return [{ ...model, handle: saveTargets.grant(windowId, path) }, ...beside];
}

function registerIpc(): void {
  ipcMain.handle(IPC.openFile, async (event) => {
    const win = windowOf(event);
    const picked = await dialog.showOpenDialog(win, { filters: [{ name: 'Models', extensions: ['json', 'netloom', 'onnx'] }], properties: ['openFile'] });
    return picked.canceled ? null : openPath(picked.filePaths[0], win.id);
  });
  ipcMain.handle(IPC.saveFile, async (event, payload) => {
    const win = windowOf(event);
    const request = validate(SaveFileRequest, payload, IPC.saveFile);
    let path = request.handle === null ? null : saveTargets.resolve(win.id, request.handle);
    if (request.handle !== null && path === null) throw new Error('save refused: that file was not opened or chosen in this window');
    if (path === null) {
      const picked = await dialog.showSaveDialog(win, {
        defaultPath: 'model.json',
        filters: [
          { name: 'Netloom model', extensions: ['json'] },
          { name: 'Netloom bundle (model and weights in one file)', extensions: ['netloom'] },
        ],
      });
      if (picked.canceled || !picked.filePath) return null;
      path = picked.filePath;
    }
    const data = extname(path).toLowerCase() === '.netloom' ? request.bundle : request.text;
    if (data === undefined) throw new Error(`${basename(path)}: the window sent no bundle to save`);
    await writeFileAtomic(path, data);
    remember(path);
    return { name: path, handle: saveTargets.grant(win.id, path) };
  });
  ipcMain.handle(IPC.exportOnnx, async (event, payload) => {
    const win = windowOf(event);
    const request = validate(ExportOnnxRequest, payload, IPC.exportOnnx);
    const picked = await dialog.showSaveDialog(win, { defaultPath: request.suggestedName, filters: [{ name: 'ONNX model', extensions: ['onnx'] }] });
    if (picked.canceled || !picked.filePath) return null;
    await writeFileAtomic(picked.filePath, request.bytes);
    return basename(picked.filePath);
  });
  ipcMain.handle(IPC.exportPyTorch, async (event, payload) => {
    const win = windowOf(event);
    const request = validate(ExportPyTorchRequest, payload, IPC.exportPyTorch);
    const picked = await dialog.showSaveDialog(win, { defaultPath: request.suggestedName, filters: [{ name: 'Python', extensions: ['py'] }] });
    if (picked.canceled || !picked.filePath) return null;
    await writeFileAtomic(join(dirname(picked.filePath), `${basename(picked.filePath, extname(picked.filePath))}.safetensors`), request.weights);
    await writeFileAtomic(picked.filePath, request.code);
    return basename(picked.filePath);
  });
  ipcMain.handle(IPC.readRecovery, async (event) => {
    const files = await fs.readdir(join(app.getPath('userData'), 'recovery')).catch(() => [] as string[]);
    const own = recoveryFile(windowOf(event));
    // A crashed session's recovery file is offered to the first window that asks.
    const candidate = files.map((f) => join(app.getPath('userData'), 'recovery', f)).find((f) => f === own) ?? (files[0] ? join(app.getPath('userData'), 'recovery', files[0]) : null);
    return candidate ? fs.readFile(candidate, 'utf8').catch(() => null) : null;
  });
  ipcMain.handle(IPC.writeRecovery, async (event, payload) => {
    const file = recoveryFile(windowOf(event));
    await fs.mkdir(join(app.getPath('userData'), 'recovery'), { recursive: true });
    await writeFileAtomic(file, validate(WriteRecoveryRequest, payload, IPC.writeRecovery).text);
  });
  ipcMain.handle(IPC.clearRecovery, async (event) => {
    await fs.rm(recoveryFile(windowOf(event)), { force: true });
  });
  ipcMain.on(IPC.setTitle, (event, payload) => {
    const win = windowOf(event);
    const request = validate(SetTitleRequest, payload, IPC.setTitle);
    dirty.set(win.id, request.dirty);
    win.setTitle(`${request.dirty ? '• ' : ''}${request.title} — Netloom`);
    win.setDocumentEdited(request.dirty);
  });
  ipcMain.handle(IPC.takePendingDocument, async (event) => {
    const win = windowOf(event);
    const file = pendingDocuments.get(win.id) ?? null;
    pendingDocuments.delete(win.id);
    return file;
  });
  ipcMain.on(IPC.engineRequest, (event, payload) => {
    const win = windowOf(event);
    const routed = engineRoutes.fromWindow(win.id, payload);
    if ('toWindow' in routed) win.webContents.send(IPC.engineReply, routed.toWindow);
    else engineProcess().postMessage(routed.toEngine);
  });
}

// ONNX Runtime lives in a utility process, so neither the window nor the main process ever blocks on it.
// Messages cross processes by structured clone: tensors and datasets are copied, never shared.
let engine: UtilityProcess | null = null;
const engineRoutes = new EngineRoutes();

function toWindow({ windowId, reply }: { windowId: number; reply: unknown }): void {
  BrowserWindow.fromId(windowId)?.webContents.send(IPC.engineReply, reply);
}

function engineProcess(): UtilityProcess {
  if (!engine) {
    engine = utilityProcess.fork(join(HERE, 'engine-host.mjs'), [], { serviceName: 'Netloom engine' });
    engine.on('message', (message) => {
      const routed = engineRoutes.fromEngine(message as WorkerReply);
      if (routed) toWindow(routed);
    });
    engine.on('exit', (code) => {
      engine = null;
      for (const failed of engineRoutes.engineStopped(`the engine process stopped (exit code ${code}); the next request starts it again`)) toWindow(failed);
    });
  }
  return engine;
}

function send(command: CommandId): void {
  const win = BrowserWindow.getFocusedWindow();
  if (command === 'new') return void createWindow();
  win?.webContents.send(IPC.command, command);
}

function buildMenu(): void {
  const template: MenuItemConstructorOptions[] = MENUS.map((menu) => ({
    label: menu.label,
    submenu: menu.items.flatMap((item): MenuItemConstructorOptions[] => {
      if (item === 'separator') return [{ type: 'separator' }];
      const entry: MenuItemConstructorOptions = { label: item.label, accelerator: item.accelerator, click: () => send(item.command) };
      if (item.command !== 'open') return [entry];
      const openRecent: MenuItemConstructorOptions = {
        label: 'Open Recent',
        submenu: recent.length === 0 ? [{ label: 'No recent files' }] : recent.map((path) => ({ label: path, click: () => void openRecentFile(path) })),
      };
      return [entry, openRecent];
    }),
  }));
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

async function openRecentFile(path: string): Promise<void> {
  try {
    const win = createWindow();
    pendingDocuments.set(win.id, await openPath(path, win.id));
  } catch (e) {
    dialog.showErrorBox('Cannot open the file', (e as Error).message);
  }
}

/** The built renderer's files, with the isolation headers; nothing outside its folder. */
function serveRenderer(): void {
  protocol.handle(SCHEME, async (request) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url).pathname);
    } catch {
      return new Response(null, { status: 400 }); // a malformed escape ("/%")
    }
    const file = normalize(join(RENDERER_DIR, path));
    if (!file.startsWith(RENDERER_DIR + sep)) return new Response(null, { status: 403 });
    try {
      return new Response(await fs.readFile(file), { headers: { 'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', ...ISOLATION_HEADERS } });
    } catch {
      return new Response(null, { status: 404 });
    }
  });
}

// No <webview> in any page, and no permission the editor does not use (camera, location, notifications…).
app.on('web-contents-created', (_, contents) => contents.on('will-attach-webview', (event) => event.preventDefault()));

void app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_, permission, callback) => callback(isPermissionAllowed(permission)));
  session.defaultSession.setPermissionCheckHandler((_, permission) => isPermissionAllowed(permission));
  serveRenderer();
  registerIpc();
  buildMenu();
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  engine?.kill();
  if (process.platform !== 'darwin') app.quit();
});
