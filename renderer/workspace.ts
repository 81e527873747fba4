/**
 * What commands and panels act on: the store, the platform, the canvas view, messages, and opening
 * documents. Built once per window by `useWorkspace`; commands (commands.ts) and panels (panels/registry.ts)
 * receive it instead of reaching into the App.
 */
import { useReactFlow, type ReactFlowInstance } from '@xyflow/react';
import { useCallback, useMemo, useRef } from 'react';
import { parseModel, type ModelDocument } from '../core/index.ts';
import type { Weights } from '../core/graph/weights.ts';
import { importOnnx } from '../core/convert/import.ts';
import { decodeModel, OnnxFormatError } from '../core/onnx/proto.ts';
import { arrange } from './canvas/arrange.ts';
import { autoLayout, NODE_HEIGHT, NODE_WIDTH } from './canvas/layout.ts';
import { openingViewport } from './canvas/openingView.ts';
import { newLayerPlace } from './canvas/placeNew.ts';
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
  openDocument(doc: ModelDocument, fileName: string | null, withWeights?: Weights): Promise<void>;
  /** A model document (.json) or an ONNX file (.onnx, imported with its weights). */
  openFile(file: OpenedFile): Promise<void>;
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
  const weights = useRef<Weights | undefined>(undefined);
  const { say } = shell;

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
    async (doc: ModelDocument, fileName: string | null, withWeights?: Weights) => {
      weights.current = withWeights;
      // Laid out before it is shown (in the layout worker): never drawn first as an unlaid grid.
      const positions = needsLayout(doc) ? await autoLayout(doc) : {};
      store.load({ ...doc, nodes: doc.nodes.map((n) => (n.position || !positions[n.id] ? n : { ...n, position: positions[n.id] })) }, fileName);
      requestAnimationFrame(showOpening);
    },
    [store, showOpening],
  );

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

  const confirmDiscard = useCallback(() => !store.get().dirty || window.confirm('Discard the unsaved changes?'), [store]);

  return useMemo(
    () => ({ ...shell, store, platform, flow, weights, pick, follow, openDocument, openFile, addLayer, layoutAndFit, confirmDiscard }),
    [shell, store, platform, flow, pick, follow, openDocument, openFile, addLayer, layoutAndFit, confirmDiscard],
  );
}
