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
  openDocument(doc: ModelDocument, fileName: string | null, withWeights?: Weights): Promise<void>;
  /** A model document (.json) or an ONNX file (.onnx, imported with its weights). */
  openFile(file: OpenedFile): Promise<void>;
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
  const { say } = shell;

  const openDocument = useCallback(
    async (doc: ModelDocument, fileName: string | null, withWeights?: Weights) => {
      weights.current = withWeights;
      store.load(doc, fileName);
      if (needsLayout(doc)) {
        const positions = await autoLayout(doc);
        store.load({ ...doc, nodes: doc.nodes.map((n) => ({ ...n, position: n.position ?? positions[n.id] })) }, fileName);
      }
      requestAnimationFrame(() => flow.fitView());
    },
    [store, flow],
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
    () => ({ ...shell, store, platform, flow, weights, pick, openDocument, openFile, addLayer, layoutAndFit, confirmDiscard }),
    [shell, store, platform, flow, pick, openDocument, openFile, addLayer, layoutAndFit, confirmDiscard],
  );
}
