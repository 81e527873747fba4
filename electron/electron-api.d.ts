// The slice of Electron's API that the shell uses. Electron's own package (and its types) cannot install
// on a machine without internet, so the shell typechecks against this declaration (tsconfig.electron.json
// maps "electron" here); at run time it is always the real Electron.
export interface WebContents {
  send(channel: string, ...args: unknown[]): void;
  on(event: 'will-navigate' | 'will-attach-webview', listener: (event: { preventDefault(): void }, url: string) => void): void;
  readonly session: Session;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' | 'allow' }): void;
  getURL(): string;
  readonly id: number;
}
export interface Session {
  setPermissionRequestHandler(handler: ((contents: WebContents, permission: string, callback: (granted: boolean) => void) => void) | null): void;
  setPermissionCheckHandler(handler: ((contents: WebContents | null, permission: string) => boolean) | null): void;
}
export declare const session: { readonly defaultSession: Session };
export interface BrowserWindowOptions {
  width?: number;
  height?: number;
  title?: string;
  show?: boolean;
  icon?: string;
  webPreferences?: { preload?: string; contextIsolation?: boolean; sandbox?: boolean; nodeIntegration?: boolean; webSecurity?: boolean; spellcheck?: boolean; webviewTag?: boolean };
}
export declare class BrowserWindow {
  constructor(options?: BrowserWindowOptions);
  readonly id: number;
  readonly webContents: WebContents;
  loadFile(path: string): Promise<void>;
  loadURL(url: string): Promise<void>;
  setTitle(title: string): void;
  setDocumentEdited(edited: boolean): void;
  on(event: 'close', listener: (event: { preventDefault(): void }) => void): this;
  on(event: 'closed' | 'ready-to-show', listener: () => void): this;
  once(event: 'ready-to-show', listener: () => void): this;
  show(): void;
  close(): void;
  destroy(): void;
  static getFocusedWindow(): BrowserWindow | null;
  static getAllWindows(): BrowserWindow[];
  static fromWebContents(contents: WebContents): BrowserWindow | null;
  static fromId(id: number): BrowserWindow | null;
}
export interface IpcMainInvokeEvent {
  sender: WebContents;
  senderFrame: { url: string } | null;
}
export declare const ipcMain: {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void;
  on(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => void): void;
};
export declare const ipcRenderer: {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  send(channel: string, ...args: unknown[]): void;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
};
export declare const contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
export declare const app: {
  whenReady(): Promise<void>;
  on(event: 'window-all-closed' | 'activate' | 'second-instance', listener: () => void): void;
  on(event: 'open-file', listener: (event: { preventDefault(): void }, path: string) => void): void;
  on(event: 'web-contents-created', listener: (event: unknown, contents: WebContents) => void): void;
  quit(): void;
  getPath(name: 'userData' | 'documents'): string;
  getVersion(): string;
  addRecentDocument(path: string): void;
  clearRecentDocuments(): void;
  readonly isPackaged: boolean;
};
export interface FileFilter {
  name: string;
  extensions: string[];
}
export declare const dialog: {
  showOpenDialog(window: BrowserWindow, options: { filters?: FileFilter[]; properties?: string[] }): Promise<{ canceled: boolean; filePaths: string[] }>;
  showSaveDialog(window: BrowserWindow, options: { defaultPath?: string; filters?: FileFilter[] }): Promise<{ canceled: boolean; filePath?: string }>;
  showMessageBoxSync(window: BrowserWindow, options: { type?: string; message: string; detail?: string; buttons: string[]; defaultId?: number; cancelId?: number }): number;
  showErrorBox(title: string, content: string): void;
};
export interface MenuItemConstructorOptions {
  label?: string;
  role?: string;
  type?: 'separator' | 'normal' | 'submenu';
  accelerator?: string;
  submenu?: MenuItemConstructorOptions[];
  click?: () => void;
}
export declare class Menu {
  static buildFromTemplate(template: MenuItemConstructorOptions[]): Menu;
  static setApplicationMenu(menu: Menu | null): void;
}
export interface UtilityProcess {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): this;
  on(event: 'exit', listener: (code: number) => void): this;
  kill(): boolean;
}
export declare const utilityProcess: { fork(modulePath: string, args?: string[], options?: { serviceName?: string }): UtilityProcess };
export declare const protocol: {
  registerSchemesAsPrivileged(schemes: { scheme: string; privileges: { standard?: boolean; secure?: boolean; supportFetchAPI?: boolean; stream?: boolean } }[]): void;
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void;
};
