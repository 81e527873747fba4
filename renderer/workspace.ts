/**
 * What commands and panels act on: the store, the platform, the canvas view, messages, and opening
 * documents. Built once per window by `useWorkspace`; commands (commands.ts) and panels (panels/registry.ts)
 * receive it instead of reaching into the App.
 */
import { useReactFlow, type ReactFlowInstance } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { ModelDocument } from '../core/index.ts';
import type { Weights } from '../core/graph/weights.ts';
import { arrange } from './canvas/arrange.ts';
import { autoLayout, NODE_HEIGHT, NODE_WIDTH } from './canvas/layout.ts';
import { openingViewport } from './canvas/openingView.ts';
import { newLayerPlace } from './canvas/placeNew.ts';
import type { FlowNode } from './canvas/LayerNode.tsx';
import type { FlowEdge } from './canvas/ShapeEdge.tsx';
import type { OpenedFile, Platform } from './platform/platform.ts';
import type { EditorStore } from './state/store.ts';
import { baseName, openModelFiles, OpenError, readWeights } from './opening.ts';

/** Things only the shell can do (dialogs and layout), handed to the workspace by the App. */
export interface ShellActions {
  say(message: string): void;
  showTemplates(): void;
  togglePanels(): void;
  resetLayout(): void;
  cycleTheme(): void;
}

export interface Workspace extends ShellActions {
  store: EditorStore;
  platform: Platform;
  flow: ReactFlowInstance<FlowNode, FlowEdge>;
  /** The open document's weights (opened with it, or trained), if any: the store's, read here for short. */
  weights: { readonly current: Weights | undefined };
  /** Selects a layer and brings it into view. */
  pick(id: string): void;
  /**
   * The weights file the open document names but that was not opened, while the document has no weights
   * (so running or exporting would use fresh random weights; undoing the opening of a weights file brings
   * it back); undefined when there is none.
   */
  missingWeights: string | undefined;
  /** Goes on without the missing weights file (fresh random weights), after the person said so. */
  dismissMissingWeights(): void;
  openDocument(doc: ModelDocument, fileName: string | null, withWeights?: Weights, missingWeights?: string): Promise<void>;
  /**
   * Files opened together: a model document (.json, with its .safetensors weights), a .netloom bundle,
   * or an ONNX file (with its external data); or, alone, a .safetensors file for the open document.
   */
  openFiles(files: OpenedFile[]): Promise<void>;
  /** Adds a layer at a point of the canvas, or below the selected layer and wired after it. */
  addLayer(op: string, position?: { x: number; y: number }): void;
  /** Centres the view on a layer at the present zoom. */
  follow(id: string | undefined): void;
  /** Lays the whole document out again (what is open) and shows it from the inputs. */
  layoutAndFit(): Promise<void>;
  /** Asks before unsaved changes are thrown away. */
  confirmDiscard(): boolean;
}

const needsLayout = (doc: ModelDocument) => doc.nodes.some((n) => !n.position);

export function useWorkspace(store: EditorStore, platform: Platform, shell: ShellActions): Workspace {
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const weights = useMemo(
    () => ({
      get current() {
        return store.get().weights;
      },
    }),
    [store],
  );
  // The weights file the opened document names but that was not opened. The warning follows the
  // document's weights through undo and redo: it shows whenever the document has none.
  const [unopenedWeights, setUnopenedWeights] = useState<string | undefined>(undefined);
  const hasWeights = useSyncExternalStore(
    (listener) => store.subscribe(listener),
    () => store.get().weights !== undefined,
  );
  const missingWeights = hasWeights ? undefined : unopenedWeights;
  const { say } = shell;
  // Edits refused while training holds the model say why.
  useEffect(() => store.onRefused(say), [store, say]);

  // Opens readable: at 100 % from the inputs, never zoomed out to fit (canvas/openingView.ts).
  const showOpening = useCallback(() => {
    const box = document.querySelector('.canvas')?.getBoundingClientRect();
    if (box) void flow.setViewport(openingViewport(store.get().doc, box));
  }, [store, flow]);

  /** Centres the view on a layer at the present zoom (after adding, pasting or grouping). */
  const follow = useCallback(
    (id: string | undefined) => {
      const at = store.get().doc.nodes.find((n) => n.id === id)?.position;
      if (at) void flow.setCenter(at.x + NODE_WIDTH / 2, at.y + NODE_HEIGHT / 2, { zoom: flow.getZoom(), duration: 200 });
    },
    [store, flow],
  );

  const openDocument = useCallback(
    async (doc: ModelDocument, fileName: string | null, withWeights?: Weights, missing?: string) => {
      // Laid out before it is shown (in the layout worker): never drawn first as an unlaid grid. The
      // document, its weights and the missing-weights warning then change together.
      const positions = needsLayout(doc) ? await autoLayout(doc) : {};
      if (!store.load({ ...doc, nodes: doc.nodes.map((n) => (n.position || !positions[n.id] ? n : { ...n, position: positions[n.id] })) }, fileName, withWeights)) return;
      setUnopenedWeights(missing);
      requestAnimationFrame(showOpening);
    },
    [store, showOpening],
  );

  const openFiles = useCallback(
    async (files: OpenedFile[]) => {
      try {
        const model = openModelFiles(files);
        if (model) return await openDocument(model.doc, model.fileName, model.weights, model.missingWeights);
        const weightsFile = files.find((f) => f.name.toLowerCase().endsWith('.safetensors'));
        if (!weightsFile) return say(`${files.map((f) => f.name).join(', ')}: not a model (open a .json, .netloom or .onnx file)`);
        if (!store.setWeights(readWeights(weightsFile))) return;
        say(`Weights from ${baseName(weightsFile.name)}`);
      } catch (e) {
        if (e instanceof OpenError) return say(e.message);
        throw e;
      }
    },
    [openDocument, say, store],
  );

  const addLayer = useCallback(
    (op: string, position?: { x: number; y: number }) => {
      if (position) return void store.addNode(op, { x: Math.round(position.x), y: Math.round(position.y) });
      // From the palette by click or keyboard: after the selected layer, and the view follows.
      const box = document.querySelector('.canvas')?.getBoundingClientRect();
      const centre = box ? flow.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 }) : { x: 0, y: 0 };
      const place = newLayerPlace(store.get().doc, store.get().selection, centre);
      follow(place.after ? store.addNodeAfter(op, place.position, place.after) : store.addNode(op, place.position));
    },
    [store, flow, follow],
  );

  const pick = useCallback(
    (id: string) => {
      store.select([id]);
      void flow.fitView({ nodes: [{ id }], duration: 200, maxZoom: 1.2 });
    },
    [store, flow],
  );

  const layoutAndFit = useCallback(async () => {
    await arrange(store);
    requestAnimationFrame(showOpening);
  }, [store, showOpening]);

  // While training holds the model nothing is discarded: the store says to stop first, before any question.
  const confirmDiscard = useCallback(() => !store.refused() && (!store.get().dirty || window.confirm('Discard the unsaved changes?')), [store]);

  return useMemo(
    () => ({
      ...shell,
      store,
      platform,
      flow,
      weights,
      missingWeights,
      dismissMissingWeights: () => setUnopenedWeights(undefined),
      pick,
      follow,
      openDocument,
      openFiles,
      addLayer,
      layoutAndFit,
      confirmDiscard,
    }),
    [shell, store, platform, flow, weights, missingWeights, pick, follow, openDocument, openFiles, addLayer, layoutAndFit, confirmDiscard],
  );
}
