/**
 * Every command of the app as data: its id, label, menu and shortcut. The desktop builds its native menu
 * from this, the browser its menu bar and keyboard shortcuts, and the IPC contract its list of ids; the
 * renderer's `renderer/commands.ts` gives each id its handler and when it is enabled.
 */

export type MenuName = 'File' | 'Edit' | 'View' | 'Help';

interface CommandSpec {
  id: string;
  label: string;
  menu: MenuName;
  /** Electron accelerator syntax; the browser shows and handles the same keys. */
  shortcut?: string;
  /** Starts a new section of its menu (a separator above it). */
  section?: true;
}

export const COMMANDS = [
  { id: 'new', label: 'New', menu: 'File', shortcut: 'CmdOrCtrl+N' },
  { id: 'new-from-template', label: 'New from Template…', menu: 'File', shortcut: 'CmdOrCtrl+Shift+N' },
  { id: 'open', label: 'Open…', menu: 'File', shortcut: 'CmdOrCtrl+O' },
  { id: 'save', label: 'Save', menu: 'File', shortcut: 'CmdOrCtrl+S', section: true },
  { id: 'save-as', label: 'Save As…', menu: 'File', shortcut: 'CmdOrCtrl+Shift+S' },
  { id: 'export-onnx', label: 'Export ONNX…', menu: 'File', shortcut: 'CmdOrCtrl+E' },
  { id: 'export-pytorch', label: 'Export PyTorch…', menu: 'File', shortcut: 'CmdOrCtrl+Shift+P' },
  { id: 'undo', label: 'Undo', menu: 'Edit', shortcut: 'CmdOrCtrl+Z' },
  { id: 'redo', label: 'Redo', menu: 'Edit', shortcut: 'CmdOrCtrl+Shift+Z' },
  { id: 'cut', label: 'Cut', menu: 'Edit', shortcut: 'CmdOrCtrl+X', section: true },
  { id: 'copy', label: 'Copy', menu: 'Edit', shortcut: 'CmdOrCtrl+C' },
  { id: 'paste', label: 'Paste', menu: 'Edit', shortcut: 'CmdOrCtrl+V' },
  { id: 'duplicate', label: 'Duplicate', menu: 'Edit', shortcut: 'CmdOrCtrl+D' },
  { id: 'delete', label: 'Delete', menu: 'Edit', shortcut: 'Delete' },
  { id: 'select-all', label: 'Select All', menu: 'Edit', shortcut: 'CmdOrCtrl+A' },
  { id: 'group', label: 'Group Selection', menu: 'Edit', shortcut: 'CmdOrCtrl+G', section: true },
  { id: 'find', label: 'Find Layer…', menu: 'Edit', shortcut: 'CmdOrCtrl+F' },
  { id: 'zoom-in', label: 'Zoom In', menu: 'View', shortcut: 'CmdOrCtrl+=' },
  { id: 'zoom-out', label: 'Zoom Out', menu: 'View', shortcut: 'CmdOrCtrl+-' },
  { id: 'fit', label: 'Fit', menu: 'View', shortcut: 'CmdOrCtrl+0' },
  { id: 'auto-layout', label: 'Auto-layout', menu: 'View', shortcut: 'CmdOrCtrl+L' },
  { id: 'show-code', label: 'Code', menu: 'View', shortcut: 'CmdOrCtrl+Shift+E', section: true },
  { id: 'expand-all', label: 'Expand All Blocks', menu: 'View', section: true },
  { id: 'collapse-all', label: 'Collapse All Blocks', menu: 'View' },
  { id: 'toggle-panels', label: 'Toggle Panels', menu: 'View', shortcut: 'CmdOrCtrl+J' },
  { id: 'reset-layout', label: 'Reset Panel Layout', menu: 'View' },
  { id: 'theme', label: 'Switch Theme', menu: 'View' },
  { id: 'help', label: 'About Netloom', menu: 'Help', shortcut: 'F1' },
] as const satisfies readonly CommandSpec[];

export type CommandId = (typeof COMMANDS)[number]['id'];
export const COMMAND_IDS = COMMANDS.map((c) => c.id) as [CommandId, ...CommandId[]];

export interface MenuItem {
  command: CommandId;
  label: string;
  accelerator?: string;
}

const MENU_ORDER: MenuName[] = ['File', 'Edit', 'View', 'Help'];

export const MENUS: { label: MenuName; items: (MenuItem | 'separator')[] }[] = MENU_ORDER.map((label) => ({
  label,
  items: (COMMANDS as readonly CommandSpec[])
    .filter((c) => c.menu === label)
    .flatMap((c, i): (MenuItem | 'separator')[] => [
      ...(c.section && i > 0 ? ['separator' as const] : []),
      { command: c.id as CommandId, label: c.label, ...(c.shortcut ? { accelerator: c.shortcut } : {}) },
    ]),
}));

/** "CmdOrCtrl+Shift+Z" matched against a keyboard event. */
export function matchesAccelerator(accelerator: string, e: { key: string; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }): boolean {
  const parts = accelerator.split('+');
  const key = parts.pop()!;
  const wantMod = parts.includes('CmdOrCtrl');
  const wantShift = parts.includes('Shift');
  const keyMatches = key.length === 1 ? e.key.toLowerCase() === key.toLowerCase() || (key === '=' && e.key === '+') : e.key === key;
  return keyMatches && (e.ctrlKey || e.metaKey) === wantMod && e.shiftKey === wantShift && !e.altKey;
}
