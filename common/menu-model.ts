/** The menus, as data: the desktop builds its native menu from this, the browser its menu bar. */
import type { CommandId } from './ipc.ts';

export interface MenuItem {
  command: CommandId;
  label: string;
  /** Electron accelerator syntax; the browser shows and handles the same keys. */
  accelerator?: string;
}

export const MENUS: { label: string; items: (MenuItem | 'separator')[] }[] = [
  {
    label: 'File',
    items: [
      { command: 'new', label: 'New', accelerator: 'CmdOrCtrl+N' },
      { command: 'new-from-template', label: 'New from Template…', accelerator: 'CmdOrCtrl+Shift+N' },
      { command: 'open', label: 'Open…', accelerator: 'CmdOrCtrl+O' },
      'separator',
      { command: 'save', label: 'Save', accelerator: 'CmdOrCtrl+S' },
      { command: 'save-as', label: 'Save As…', accelerator: 'CmdOrCtrl+Shift+S' },
      { command: 'export-onnx', label: 'Export ONNX…', accelerator: 'CmdOrCtrl+E' },
    ],
  },
  {
    label: 'Edit',
    items: [
      { command: 'undo', label: 'Undo', accelerator: 'CmdOrCtrl+Z' },
      { command: 'redo', label: 'Redo', accelerator: 'CmdOrCtrl+Shift+Z' },
      'separator',
      { command: 'cut', label: 'Cut', accelerator: 'CmdOrCtrl+X' },
      { command: 'copy', label: 'Copy', accelerator: 'CmdOrCtrl+C' },
      { command: 'paste', label: 'Paste', accelerator: 'CmdOrCtrl+V' },
      { command: 'duplicate', label: 'Duplicate', accelerator: 'CmdOrCtrl+D' },
      { command: 'delete', label: 'Delete', accelerator: 'Delete' },
      { command: 'select-all', label: 'Select All', accelerator: 'CmdOrCtrl+A' },
      'separator',
      { command: 'group', label: 'Group Selection', accelerator: 'CmdOrCtrl+G' },
    ],
  },
  {
    label: 'View',
    items: [
      { command: 'zoom-in', label: 'Zoom In', accelerator: 'CmdOrCtrl+=' },
      { command: 'zoom-out', label: 'Zoom Out', accelerator: 'CmdOrCtrl+-' },
      { command: 'fit', label: 'Fit', accelerator: 'CmdOrCtrl+0' },
      { command: 'auto-layout', label: 'Auto-layout', accelerator: 'CmdOrCtrl+L' },
      { command: 'toggle-panels', label: 'Toggle Panels', accelerator: 'CmdOrCtrl+J' },
      { command: 'theme', label: 'Switch Theme' },
    ],
  },
  { label: 'Help', items: [{ command: 'help', label: 'About Netloom', accelerator: 'F1' }] },
];

/** "CmdOrCtrl+Shift+Z" matched against a keyboard event. */
export function matchesAccelerator(accelerator: string, e: { key: string; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }): boolean {
  const parts = accelerator.split('+');
  const key = parts.pop()!;
  const wantMod = parts.includes('CmdOrCtrl');
  const wantShift = parts.includes('Shift');
  const keyMatches = key.length === 1 ? e.key.toLowerCase() === key.toLowerCase() || (key === '=' && e.key === '+') : e.key === key;
  return keyMatches && (e.ctrlKey || e.metaKey) === wantMod && e.shiftKey === wantShift && !e.altKey;
}
