/**
 * What commands and panels act on: the store, the platform, the canvas view, messages, and opening
 * documents. Built once per window by `useWorkspace`; commands (commands.ts) and panels (panels/registry.ts)
 * receive it instead of reaching into the App.
 */
import { useReactFlow, type ReactFlowInstance } from '@xyflow/react';
import { useCallback, useMemo, useRef, useState } from 'react';
import type { ModelDocument } from '../core/index.ts';
import type { Weights } from '../core/graph/weights.ts';
import { openModelFiles, OpenError, readWeights } from './opening.ts';
import { autoLayout, NODE_WIDTH } from './canvas/layout.ts';
import type { FlowNode } from './canvas/LayerNode.tsx';
import type { FlowEdge } from './canvas/ShapeEdge.tsx';
import type { OpenedFile, Platform } from './platform/platform.ts';
import type { EditorStore } from './state/store.ts';

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
  /** The weights that came with the open document (an imported ONNX file's), if any. */
  weights: { current: Weights | undefined };
  /** Selects a layer and brings it into view. */
  pick(id: string): void;
  /**
   * The weights file the open document names but that was not opened (so running or exporting would use
   * fresh random weights); undefined when there is none.
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
  /** Adds a layer at a point of the canvas, or in the middle of the view. */
  addLayer(op: string, position?: { x: number; y: number }): void;
  /** Lays the whole document out again and fits it into view. */
  layoutAndFit(): Promise<void>;
  /** Asks before unsaved changes are thrown away. */
  confirmDiscard(): boolean;
}

const needsLayout = (doc: ModelDocument) => doc.nodes.some((n) => !n.position);

export function useWorkspace(store: EditorStore, platform: Platform, shell: ShellActions): Workspace {
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const weights = useRef<Weights | undefined>(undefined);
  const [missingWeights, setMissingWeights] = useState<string | undefined>(undefined);
  const { say } = shell;

  const openDocument = useCallback(
    async (doc: ModelDocument, fileName: string | null, withWeights?: Weights, missing?: string) => {
      weights.current = withWeights;
      setMissingWeights(missing);
      store.load(doc, fileName);
      if (needsLayout(doc)) {
        const positions = await autoLayout(doc);
        store.load({ ...doc, nodes: doc.nodes.map((n) => ({ ...n, position: n.position ?? positions[n.id] })) }, fileName);
      }
      requestAnimationFrame(() => flow.fitView());
    },
    [store, flow],
  );

  const openFiles = useCallback(
    async (files: OpenedFile[]) => {
      try {
        const model = openModelFiles(files);
        if (model) return await openDocument(model.doc, model.fileName, model.weights, model.missingWeights);
        const weightsFile = files.find((f) => f.name.toLowerCase().endsWith('.safetensors'));
        if (!weightsFile) return say(`${files.map((f) => f.name).join(', ')}: not a model (open a .json, .netloom or .onnx file)`);
        weights.current = readWeights(weightsFile);
        setMissingWeights(undefined);
        say(`Weights from ${weightsFile.name.replace(/^.*[\\/]/, '')}`);
      } catch (e) {
        if (e instanceof OpenError) return say(e.message);
        throw e;
      }
    },
    [openDocument, say],
  );

  const addLayer = useCallback(
    (op: string, position?: { x: number; y: number }) => {
      const box = document.querySelector('.canvas')?.getBoundingClientRect();
      const at = position ?? (box ? flow.screenToFlowPosition({ x: box.left + box.width / 2 - NODE_WIDTH / 2, y: box.top + box.height / 2 }) : { x: 0, y: 0 });
      const taken = new Set(store.get().doc.nodes.map((n) => `${Math.round(n.position?.x ?? 0)},${Math.round(n.position?.y ?? 0)}`));
      while (taken.has(`${Math.round(at.x)},${Math.round(at.y)}`)) at.y += 110;
      store.addNode(op, { x: Math.round(at.x), y: Math.round(at.y) });
    },
    [store, flow],
  );

  const pick = useCallback(
    (id: string) => {
      store.select([id]);
      void flow.fitView({ nodes: [{ id }], duration: 200, maxZoom: 1.2 });
    },
    [store, flow],
  );

  const layoutAndFit = useCallback(async () => {
    store.moveNodes(await autoLayout(store.get().doc));
    requestAnimationFrame(() => void flow.fitView({ duration: 200 }));
  }, [store, flow]);

  const confirmDiscard = useCallback(() => !store.get().dirty || window.confirm('Discard the unsaved changes?'), [store]);

  return useMemo(
    () => ({
      ...shell,
      store,
      platform,
      flow,
      weights,
      missingWeights,
      dismissMissingWeights: () => setMissingWeights(undefined),
      pick,
      openDocument,
      openFiles,
      addLayer,
      layoutAndFit,
      confirmDiscard,
    }),
    [shell, store, platform, flow, missingWeights, pick, openDocument, openFiles, addLayer, layoutAndFit, confirmDiscard],
  );
}
