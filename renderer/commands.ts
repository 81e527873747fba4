/**
 * Every command's handler and whether it is enabled, in one place. Ids, labels and shortcuts live in
 * common/commands.ts (shared with the desktop's native menu); menus, shortcuts and the desktop all run
 * commands through `runCommand`.
 */
import { useEffect, useRef } from 'react';
import { COMMANDS, matchesAccelerator, type CommandId } from '../common/commands.ts';
import { compileModel, CompileError } from '../core/convert/compile.ts';
import { groupsOf } from '../core/graph/modules.ts';
import { concatChunks, encodeModelBytes } from '../core/onnx/proto.ts';
import { toPyTorch } from '../core/convert/pytorch.ts';
import { encodeSafetensors } from '../core/graph/weights.ts';
import { arrange, setAllCollapsed } from './canvas/arrange.ts';
import { encodeBundle } from '../core/graph/bundle.ts';
import { CLIPBOARD_FORMAT, emptyDocument, type ClipboardContent } from './state/store.ts';
import { showPanel } from './shell/DockTabs.tsx';
import { baseName } from './opening.ts';
import { isBundleName } from './platform/platform.ts';
import type { Workspace } from './workspace.ts';

export interface CommandHandler {
  run(): void | Promise<void>;
  /** Whether the command can run now (menus grey it out otherwise). */
  enabled?(): boolean;
}

// Copy keeps its own copy too, so that copy and paste work within the window where the system clipboard is denied.
let memoryClipboard: ClipboardContent | null = null;

async function copyToClipboard(content: ClipboardContent): Promise<void> {
  memoryClipboard = content;
  try {
    await navigator.clipboard.writeText(JSON.stringify(content));
  } catch {
    // Copy still works within this window.
  }
}

async function readClipboard(): Promise<ClipboardContent | null> {
  try {
    const parsed = JSON.parse(await navigator.clipboard.readText());
    if (parsed?.format === CLIPBOARD_FORMAT) return parsed;
  } catch {
    // The system clipboard is unavailable or holds something else: use our own.
  }
  return memoryClipboard;
}

async function save(w: Workspace, as: boolean): Promise<void> {
  const content = { text: w.store.serialize(), bundle: () => encodeBundle(w.store.get().doc, w.weights.current) };
  const name = await w.platform.save(content, w.store.get().fileName, as);
  if (!name) return;
  w.store.markSaved(name);
  await w.platform.clearRecovery();
  // A .json document holds no weights: say so rather than let trained or imported ones seem saved.
  if (!isBundleName(name) && (w.weights.current?.size ?? 0) > 0 && !w.store.get().doc.weights)
    w.say(`${baseName(name)} holds the model without its weights: save as .netloom (or Export ONNX) to keep them`);
}

export function commandHandlers(w: Workspace): Record<CommandId, CommandHandler> {
  const { store, flow } = w;
  const hasSelection = () => store.get().selection.length > 0;
  return {
    new: {
      run: async () => {
        if (w.confirmDiscard()) await w.openDocument(emptyDocument(), null);
      },
    },
    'new-from-template': { run: w.showTemplates },
    open: {
      run: async () => {
        if (!w.confirmDiscard()) return;
        const files = await w.platform.open();
        if (files) await w.openFiles(files);
      },
    },
    save: { run: () => save(w, false) },
    'save-as': { run: () => save(w, true) },
    'export-onnx': {
      run: async () => {
        // Never export fresh random weights in place of a model's own without asking.
        if (w.missingWeights && !window.confirm(`The weights file ${w.missingWeights} was not opened. Export with fresh random weights instead?`)) return;
        try {
          const compiled = compileModel(store.get().doc, { weights: w.weights.current });
          const name = await w.platform.exportOnnx(encodeModelBytes(compiled.model), `${store.get().doc.name.replace(/[^\w.-]+/g, '_') || 'model'}.onnx`);
          if (name) w.say(`Exported ${name}`);
        } catch (e) {
          w.say(`Export failed: ${e instanceof CompileError ? e.message : (e as Error).message}`);
        }
      },
    },
    'export-pytorch': {
      run: async () => {
        try {
          const doc = store.get().doc;
          const code = toPyTorch(doc);
          // The weights the ONNX export would hold: the open file's, else the seed-0 initialisation.
          const weights = concatChunks(encodeSafetensors(compileModel(doc, { weights: w.weights.current }).weights, { format: 'netloom.weights', model: doc.name }));
          const name = await w.platform.exportPyTorch(code, weights, `${doc.name.replace(/[^\w.-]+/g, '_') || 'model'}.py`);
          if (name) w.say(`Exported ${name} and its weights (.safetensors)`);
        } catch (e) {
          w.say(`Export failed: ${e instanceof CompileError ? e.message : (e as Error).message}`);
        }
      },
    },
    undo: { run: () => store.undo(), enabled: () => store.canUndo() },
    redo: { run: () => store.redo(), enabled: () => store.canRedo() },
    cut: { run: () => copyToClipboard(store.cut()), enabled: hasSelection },
    copy: { run: () => copyToClipboard(store.copy()), enabled: hasSelection },
    paste: {
      run: async () => {
        const content = await readClipboard();
        // The view follows the pasted layers, which land beside the originals, perhaps off screen.
        if (content) w.follow(store.paste(content)[0]);
      },
    },
    delete: {
      run: () => {
        const edges = flow.getEdges().filter((e) => e.selected);
        if (edges.length > 0) store.removeEdges(edges.flatMap((e) => (e.data ? [e.data] : [])));
        store.deleteNodes(store.get().selection);
      },
    },
    'select-all': { run: () => store.selectAll() },
    duplicate: { run: () => void store.duplicate(), enabled: hasSelection },
    group: {
      run: async () => {
        if (!store.group(store.get().selection)) return w.say('Select two or more layers that are not in a group to group them.');
        // Laid out again so that the new block's box holds its layers and no others; the view follows it.
        const [first] = store.get().selection;
        await arrange(store);
        w.follow(first);
      },
    },
    find: { run: () => document.querySelector<HTMLInputElement>('input[aria-label="Find layer"]')?.focus() },
    'expand-all': { run: () => setAllCollapsed(store, false), enabled: () => groupsOf(store.get().doc).length > 0 },
    'collapse-all': { run: () => setAllCollapsed(store, true), enabled: () => groupsOf(store.get().doc).length > 0 },
    'zoom-in': { run: () => void flow.zoomIn() },
    'zoom-out': { run: () => void flow.zoomOut() },
    fit: { run: () => void flow.fitView({ duration: 200 }) },
    'auto-layout': { run: w.layoutAndFit },
    'show-code': { run: () => showPanel('code') },
    'toggle-panels': { run: w.togglePanels },
    'reset-layout': { run: w.resetLayout },
    theme: { run: w.cycleTheme },
    help: {
      run: () => w.say('Netloom 0.1 — design networks by wiring layers; every edit re-infers shapes and parameter counts. Drag layers from the palette, connect ports, select a layer to edit it.'),
    },
  };
}

/** Runs a command if it is enabled. */
export function runCommand(handlers: Record<CommandId, CommandHandler>, id: CommandId): void {
  const handler = handlers[id];
  if (handler.enabled && !handler.enabled()) return;
  void handler.run();
}

/** The keyboard shortcuts of the command table (plus Ctrl+Y for redo and Backspace for delete), outside text fields. */
export function useShortcuts(run: (id: CommandId) => void): void {
  const runRef = useRef(run);
  useEffect(() => {
    runRef.current = run;
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (target.closest('input, textarea, select, [contenteditable="true"], dialog')) return;
      const id: CommandId | undefined =
        (e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === 'y'
          ? 'redo'
          : e.key === 'Backspace' && !e.ctrlKey && !e.metaKey
            ? 'delete'
            : COMMANDS.find((c) => 'shortcut' in c && matchesAccelerator(c.shortcut, e))?.id;
      if (!id) return;
      e.preventDefault();
      runRef.current(id);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
