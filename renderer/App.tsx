/** The editor: menu bar, palette, canvas, inspector, Problems and Summary panels, dialogs. */
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { formatCount, parseModel, summarize, type ModelDocument } from '../core/index.ts';
import type { Weights } from '../core/graph/weights.ts';
import { compileModel, CompileError } from '../core/convert/compile.ts';
import { importOnnx } from '../core/convert/import.ts';
import { decodeModel, encodeModelBytes, OnnxFormatError } from '../core/onnx/proto.ts';
import type { CommandId } from '../common/ipc.ts';
import { MENUS, matchesAccelerator } from '../common/menu-model.ts';
import { Canvas } from './canvas/Canvas.tsx';
import { arrange } from './canvas/arrange.ts';
import { autoLayout, NODE_HEIGHT, NODE_WIDTH } from './canvas/layout.ts';
import { newLayerPlace } from './canvas/placeNew.ts';
import { openingViewport } from './canvas/openingView.ts';
import { Inspector } from './panels/Inspector.tsx';
import { Palette } from './panels/Palette.tsx';
import { Problems } from './panels/Problems.tsx';
import { Summary } from './panels/Summary.tsx';
import { TemplatesDialog } from './panels/TemplatesDialog.tsx';
import type { OpenedFile, Platform } from './platform/platform.ts';
import { CLIPBOARD_FORMAT, emptyDocument, type ClipboardContent, type EditorStore } from './state/store.ts';
import { TEMPLATES } from './templates.ts';
import { useEditor } from './useEditor.ts';

type Theme = 'system' | 'light' | 'dark';

interface Recovered {
  doc: ModelDocument;
  fileName: string | null;
  time: string;
}

function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem('netloom.theme') as Theme | null) ?? 'system');
  useEffect(() => {
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    const apply = () => (document.documentElement.dataset.theme = theme === 'system' ? (media.matches ? 'dark' : 'light') : theme);
    apply();
    media.addEventListener('change', apply);
    localStorage.setItem('netloom.theme', theme);
    return () => media.removeEventListener('change', apply);
  }, [theme]);
  return [theme, () => setTheme((t) => (t === 'system' ? 'light' : t === 'light' ? 'dark' : 'system'))];
}

const needsLayout = (doc: ModelDocument) => doc.nodes.some((n) => !n.position);

function Editor({ store, platform }: { store: EditorStore; platform: Platform }) {
  const state = useEditor(store);
  const flow = useReactFlow();
  const [toast, setToast] = useState<string | null>(null);
  const [tab, setTab] = useState<'problems' | 'summary'>('problems');
  const [panels, setPanels] = useState(true);
  const [templates, setTemplates] = useState(false);
  const [openMenu, setOpenMenu] = useState<string | null>(null);
  const [recovered, setRecovered] = useState<Recovered | null>(null);
  const [engine, setEngine] = useState('');
  const [theme, cycleTheme] = useTheme();
  const weights = useRef<Weights | undefined>(undefined);
  const memoryClipboard = useRef<ClipboardContent | null>(null);

  // Inference follows the document: selecting a layer does not recompute them.
  const diagnostics = useMemo(() => store.inference.diagnostics(), [store, state.doc]);
  const summary = useMemo(() => summarize(store.inference), [store, state.doc]);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;

  const say = useCallback((message: string) => setToast(message), []);
  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => setToast(null), 6000);
    return () => clearTimeout(t);
  }, [toast]);

  // Opens readable: at 100 % from the inputs, never zoomed out to fit (canvas/openingView.ts).
  const showOpening = useCallback(() => {
    const box = document.querySelector('.canvas')?.getBoundingClientRect();
    if (box) void flow.setViewport(openingViewport(store.get().doc, box));
  }, [store, flow]);

  const layoutAndFit = useCallback(async () => {
    await arrange(store);
    requestAnimationFrame(showOpening);
  }, [store, showOpening]);

  const openDocument = useCallback(
    async (doc: ModelDocument, fileName: string | null, withWeights?: Weights) => {
      weights.current = withWeights;
      // Laid out before it is shown (in the layout worker): never drawn first as an unlaid grid.
      const positions = needsLayout(doc) ? await autoLayout(doc) : {};
      store.load({ ...doc, nodes: doc.nodes.map((n) => (n.position || !positions[n.id] ? n : { ...n, position: positions[n.id] })) }, fileName);
      requestAnimationFrame(showOpening);
    },
    [store, showOpening],
  );

  const confirmDiscard = () => !store.get().dirty || window.confirm('Discard the unsaved changes?');

  /** A model document (.json) or an ONNX file (.onnx, imported with its weights). */
  const openFile = useCallback(
    async (file: OpenedFile) => {
      if (file.bytes) {
        try {
          const { doc, weights: w } = importOnnx(decodeModel(file.bytes), file.name.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, ''));
          await openDocument(doc, null, w);
        } catch (e) {
          say(`${file.name}: ${e instanceof OnnxFormatError ? e.message : `cannot import (${(e as Error).message})`}`);
        }
        return;
      }
      const result = parseModel(file.text ?? '');
      if (!result.ok) return say(`${file.name}: ${result.problems[0].path} ${result.problems[0].message}`);
      await openDocument(result.doc, file.name);
    },
    [openDocument, say],
  );

  const paste = useCallback(async () => {
    let content = memoryClipboard.current;
    try {
      const parsed = JSON.parse(await navigator.clipboard.readText());
      if (parsed?.format === CLIPBOARD_FORMAT) content = parsed;
    } catch {
      // The system clipboard is unavailable or holds something else: use our own.
    }
    if (!content) return;
    // The view follows the pasted layers, which land beside the originals, perhaps off screen.
    const [first] = store.paste(content);
    const at = store.get().doc.nodes.find((n) => n.id === first)?.position;
    if (at) void flow.setCenter(at.x + NODE_WIDTH / 2, at.y + NODE_HEIGHT / 2, { zoom: flow.getZoom(), duration: 200 });
  }, [store, flow]);

  const copyToClipboard = useCallback(async (content: ClipboardContent) => {
    memoryClipboard.current = content;
    try {
      await navigator.clipboard.writeText(JSON.stringify(content));
    } catch {
      // Copy still works within this window.
    }
  }, []);

  const addLayer = useCallback(
    (op: string, position?: { x: number; y: number }) => {
      if (position) return void store.addNode(op, { x: Math.round(position.x), y: Math.round(position.y) });
      // From the palette by click or keyboard: after the selected layer, and the view follows.
      const box = document.querySelector('.canvas')?.getBoundingClientRect();
      const centre = box ? flow.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 }) : { x: 0, y: 0 };
      const place = newLayerPlace(store.get().doc, store.get().selection, centre);
      if (place.after) store.addNodeAfter(op, place.position, place.after);
      else store.addNode(op, place.position);
      void flow.setCenter(place.position.x + NODE_WIDTH / 2, place.position.y + NODE_HEIGHT / 2, { zoom: flow.getZoom(), duration: 200 });
    },
    [store, flow],
  );

  const commands: Record<CommandId, () => void | Promise<void>> = {
    new: async () => {
      if (confirmDiscard()) await openDocument(emptyDocument(), null);
    },
    'new-from-template': () => setTemplates(true),
    open: async () => {
      if (!confirmDiscard()) return;
      const file = await platform.open();
      if (file) await openFile(file);
    },
    save: async () => {
      const name = await platform.save(store.serialize(), store.get().fileName, false);
      if (name) {
        store.markSaved(name);
        await platform.clearRecovery();
      }
    },
    'save-as': async () => {
      const name = await platform.save(store.serialize(), store.get().fileName, true);
      if (name) {
        store.markSaved(name);
        await platform.clearRecovery();
      }
    },
    'export-onnx': async () => {
      try {
        const compiled = compileModel(store.get().doc, { weights: weights.current });
        const name = await platform.exportOnnx(encodeModelBytes(compiled.model), `${store.get().doc.name.replace(/[^\w.-]+/g, '_') || 'model'}.onnx`);
        if (name) say(`Exported ${name}`);
      } catch (e) {
        say(e instanceof CompileError ? `Export failed: ${e.message}` : `Export failed: ${(e as Error).message}`);
      }
    },
    undo: () => store.undo(),
    redo: () => store.redo(),
    cut: () => copyToClipboard(store.cut()),
    copy: () => copyToClipboard(store.copy()),
    paste,
    delete: () => {
      const edges = flow.getEdges().filter((e) => e.selected);
      if (edges.length > 0) store.removeEdges(edges.map((e) => e.data as { from: string; to: string }));
      store.deleteNodes(store.get().selection);
    },
    'select-all': () => store.selectAll(),
    duplicate: () => void store.duplicate(),
    group: async () => {
      if (!store.group(store.get().selection)) return say('Select two or more layers that are not in a group to group them.');
      // Laid out again so that the new block's box holds its layers and no others; the view follows it.
      const [first] = store.get().selection;
      await arrange(store);
      const at = store.get().doc.nodes.find((n) => n.id === first)?.position;
      if (at) void flow.setCenter(at.x + NODE_WIDTH / 2, at.y + NODE_HEIGHT / 2, { zoom: flow.getZoom(), duration: 200 });
    },
    'zoom-in': () => void flow.zoomIn(),
    'zoom-out': () => void flow.zoomOut(),
    fit: () => void flow.fitView({ duration: 200 }),
    'auto-layout': layoutAndFit,
    'toggle-panels': () => setPanels((p) => !p),
    theme: cycleTheme,
    help: () => say('Netloom 0.1 — design networks by wiring layers; every edit re-infers shapes and parameter counts. Drag layers from the palette, connect ports, select a layer to edit it.'),
  };
  const run = (command: CommandId) => {
    setOpenMenu(null);
    void commands[command]();
  };
  const runRef = useRef(run);
  runRef.current = run;

  useEffect(() => platform.onCommand((c) => runRef.current(c as CommandId)), [platform]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (target.closest('input, textarea, select, [contenteditable="true"], dialog')) return;
      if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === 'y') {
        e.preventDefault();
        return runRef.current('redo');
      }
      if (e.key === 'Backspace' && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        return runRef.current('delete');
      }
      for (const menu of MENUS) {
        for (const item of menu.items) {
          if (item !== 'separator' && item.accelerator && matchesAccelerator(item.accelerator, e)) {
            e.preventDefault();
            return runRef.current(item.command);
          }
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // Autosave to the recovery copy a second after each change; the next start offers it back.
  useEffect(() => {
    if (!state.dirty) return;
    const t = setTimeout(() => void platform.writeRecovery(JSON.stringify({ doc: state.doc, fileName: state.fileName, time: new Date().toISOString() })), 1000);
    return () => clearTimeout(t);
  }, [state.revision, state.dirty, platform]);

  useEffect(() => {
    void platform.readRecovery().then((text) => {
      if (!text) return;
      try {
        const saved = JSON.parse(text) as Recovered;
        if (parseModel(JSON.stringify(saved.doc)).ok) setRecovered(saved);
      } catch {
        void platform.clearRecovery();
      }
    });
    void platform.engineInfo().then(setEngine);
    void platform.takePendingDocument().then((file) => file && openFile(file));
  }, [platform]);

  useEffect(() => platform.setTitle(state.fileName ?? state.doc.name, state.dirty), [platform, state.fileName, state.doc.name, state.dirty]);

  const pick = useCallback(
    (id: string) => {
      store.select([id]);
      flow.fitView({ nodes: [{ id }], duration: 200, maxZoom: 1.2 });
    },
    [store, flow],
  );

  return (
    <div className={`app ${panels ? '' : 'panels-hidden'}`}>
      {platform.kind === 'browser' && (
        <header className="menubar" role="menubar" aria-label="Menu">
          {MENUS.map((menu) => (
            <div key={menu.label} className="menu">
              <button type="button" role="menuitem" aria-haspopup="true" aria-expanded={openMenu === menu.label} onClick={() => setOpenMenu(openMenu === menu.label ? null : menu.label)}>
                {menu.label}
              </button>
              {openMenu === menu.label && (
                <div role="menu" className="menu-list" aria-label={menu.label}>
                  {menu.items.map((item, i) =>
                    item === 'separator' ? (
                      <hr key={i} />
                    ) : (
                      <button key={item.command} type="button" role="menuitem" onClick={() => run(item.command)}>
                        <span>{item.label}</span>
                        {item.accelerator && <kbd>{item.accelerator.replace('CmdOrCtrl', 'Ctrl')}</kbd>}
                      </button>
                    ),
                  )}
                </div>
              )}
            </div>
          ))}
          <button type="button" className="templates-button" onClick={() => setTemplates(true)}>
            Templates
          </button>
          <span className="title">
            {state.fileName ?? state.doc.name}
            {state.dirty ? ' •' : ''}
          </span>
        </header>
      )}
      {recovered && (
        <div className="banner" role="alert">
          Unsaved work from {new Date(recovered.time).toLocaleString()} was found. Recover it?
          <button
            type="button"
            onClick={() => {
              // Recovered work is unsaved work: the document opens marked as changed.
              void openDocument(recovered.doc, recovered.fileName).then(() => store.markUnsaved());
              setRecovered(null);
            }}
          >
            Recover
          </button>
          <button
            type="button"
            onClick={() => {
              void platform.clearRecovery();
              setRecovered(null);
            }}
          >
            Discard
          </button>
        </div>
      )}
      <Palette onAdd={(op) => addLayer(op)} />
      <main className="workspace">
        <Canvas store={store} state={state} onProblem={say} onDropLayer={addLayer} />
        <section className="bottom" aria-label="Panels">
          <div role="tablist">
            <button type="button" role="tab" aria-selected={tab === 'problems'} onClick={() => setTab('problems')}>
              Problems ({diagnostics.length})
            </button>
            <button type="button" role="tab" aria-selected={tab === 'summary'} onClick={() => setTab('summary')}>
              Summary
            </button>
          </div>
          <div role="tabpanel" className="tabpanel">
            {tab === 'problems' ? <Problems diagnostics={diagnostics} onPick={pick} /> : <Summary summary={summary} onPick={pick} />}
          </div>
        </section>
      </main>
      <Inspector store={store} state={state} />
      <footer className="statusbar" role="status">
        <span>
          {state.doc.nodes.length} layers · Total params: {formatCount(summary.totalParams)} · {errors} errors
        </span>
        <span className="muted">{engine}</span>
        <span className="muted">Theme: {theme}</span>
      </footer>
      {toast && (
        <div className="toast" role="alert" onClick={() => setToast(null)}>
          {toast}
        </div>
      )}
      {templates && (
        <TemplatesDialog
          onClose={() => setTemplates(false)}
          onPick={(id) => {
            setTemplates(false);
            if (confirmDiscard()) void openDocument(structuredClone(TEMPLATES.find((t) => t.id === id)!.doc), null);
          }}
        />
      )}
    </div>
  );
}

export function App({ store, platform }: { store: EditorStore; platform: Platform }) {
  return (
    <ReactFlowProvider>
      <Editor store={store} platform={platform} />
    </ReactFlowProvider>
  );
}
