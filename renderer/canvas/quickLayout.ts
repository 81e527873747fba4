/**
 * The layout for graphs too large for ELK's layered algorithm (it recurses once per layer of a long chain
 * and overflows the stack near 10,000 layers, after seconds of work): rows by longest path from the
 * inputs, each row centred, in model order. Chains stay a straight column and branches sit side by side;
 * crossings are not minimised. Groups are not boxed: every visible item is placed on its own.
 */
import type { ElkNode } from 'elkjs/lib/elk-api.js';

const endNode = (end: string) => end.split('::')[0];

export function quickLayout(graph: ElkNode, rowGap: number, columnGap: number): ElkNode {
  const leaves: ElkNode[] = [];
  const collect = (n: ElkNode) => (n.children && n.children.length > 0 ? n.children.forEach(collect) : leaves.push(n));
  (graph.children ?? []).forEach(collect);
  const index = new Map(leaves.map((n, i) => [n.id, i]));
  const next: number[][] = leaves.map(() => []);
  const indegree = new Array<number>(leaves.length).fill(0);
  for (const e of graph.edges ?? []) {
    const a = index.get(endNode(e.sources[0]));
    const b = index.get(endNode(e.targets[0]));
    if (a === undefined || b === undefined || a === b) continue;
    next[a].push(b);
    indegree[b]++;
  }
  // Longest path from the inputs, in topological (Kahn) order; nodes on a cycle keep row 0.
  const row = new Array<number>(leaves.length).fill(0);
  const queue = leaves.map((_, i) => i).filter((i) => indegree[i] === 0);
  for (let q = 0; q < queue.length; q++) {
    const a = queue[q];
    for (const b of next[a]) {
      row[b] = Math.max(row[b], row[a] + 1);
      if (--indegree[b] === 0) queue.push(b);
    }
  }
  const rows: number[][] = [];
  leaves.forEach((_, i) => (rows[row[i]] ??= []).push(i));
  let y = 0;
  for (const members of rows) {
    if (!members) continue;
    const width = members.reduce((sum, i) => sum + (leaves[i].width ?? 0), 0) + columnGap * (members.length - 1);
    let x = -width / 2;
    let height = 0;
    for (const i of members) {
      leaves[i].x = x;
      leaves[i].y = y;
      x += (leaves[i].width ?? 0) + columnGap;
      height = Math.max(height, leaves[i].height ?? 0);
    }
    y += height + rowGap;
  }
  return { id: graph.id, children: leaves.map((n) => ({ id: n.id, x: n.x, y: n.y, width: n.width, height: n.height })) };
}
