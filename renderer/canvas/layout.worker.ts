/** The layout worker: runs ELK off the page's thread, and the quick layout where ELK cannot cope. */
import ElkBundle from 'elkjs/lib/elk.bundled.js';
import type { ELK, ElkNode } from 'elkjs/lib/elk-api.js';
import { quickLayout } from './quickLayout.ts';

// elkjs is CommonJS: its default export arrives wrapped or not, depending on the bundler.
const ElkConstructor = ((ElkBundle as unknown as { default?: unknown }).default ?? ElkBundle) as new () => ELK;
const elk = new ElkConstructor();

/** Past this many visible items ELK takes seconds (about 3.5 s for a 3,000-layer chain), so the quick layout runs instead. */
const ELK_LIMIT = 1500;

const count = (n: ElkNode): number => (n.children ?? []).reduce((sum, c) => sum + 1 + count(c), 0);

self.onmessage = async (e: MessageEvent<{ id: number; graph: ElkNode }>) => {
  const { id, graph } = e.data;
  const rowGap = Number(graph.layoutOptions?.['elk.layered.spacing.nodeNodeBetweenLayers'] ?? 60);
  const columnGap = Number(graph.layoutOptions?.['elk.spacing.nodeNode'] ?? 40);
  try {
    const laidOut = count(graph) > ELK_LIMIT ? quickLayout(graph, rowGap, columnGap) : await elk.layout(graph).catch(() => quickLayout(graph, rowGap, columnGap));
    self.postMessage({ id, graph: laidOut });
  } catch (error) {
    self.postMessage({ id, error: (error as Error).message });
  }
};
