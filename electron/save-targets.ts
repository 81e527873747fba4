/**
 * Where the desktop app may write, decided in the main process only: a path it obtained itself (its own
 * save dialog, or the file a document was opened from), handed to the window as an opaque handle. The
 * window never names a path, so a script running in it cannot write anywhere a person did not choose.
 * Pure logic, without Electron, so that it is tested as it is.
 */
import { randomBytes } from 'node:crypto';

export class SaveTargets {
  /** Per window id: handle → path. */
  private readonly windows = new Map<number, Map<string, string>>();

  /** Records a path the main process obtained for a window; returns the handle the window may use. */
  grant(windowId: number, path: string): string {
    const handles = this.windows.get(windowId) ?? new Map<string, string>();
    this.windows.set(windowId, handles);
    for (const [handle, known] of handles) if (known === path) return handle;
    const handle = randomBytes(16).toString('hex');
    handles.set(handle, path);
    return handle;
  }

  /** The path behind a handle this window was given, or null for anything else (another window's, made up). */
  resolve(windowId: number, handle: string): string | null {
    return this.windows.get(windowId)?.get(handle) ?? null;
  }

  /** A closed window's handles are void. */
  forget(windowId: number): void {
    this.windows.delete(windowId);
  }
}

/** The permissions the editor uses (copy and paste of layers); every other request is denied. */
export const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-read', 'clipboard-sanitized-write']);

export const isPermissionAllowed = (permission: string): boolean => ALLOWED_PERMISSIONS.has(permission);
