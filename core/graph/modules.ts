/**
 * The module hierarchy of a model as data: nested, collapsible groups of layers. Imported models get it
 * from the module paths PyTorch writes into ONNX node names ("/layer1/layer1.0/conv1/Conv") or node
 * metadata, or from the ONNX functions their nodes were inlined from (core/onnx/functions.ts); templates
 * declare theirs. A group lists every layer inside it, its nested groups' layers included, and names its
 * enclosing group in `parent`.
 */
import type { ModelDocument } from './types.ts';

export interface Group {
  id: string;
  label: string;
  /** Every layer inside the group, nested groups' layers included. */
  nodes: string[];
  collapsed: boolean;
  /** The enclosing group's id; absent at the top level. */
  parent?: string;
}

export const groupsOf = (doc: ModelDocument): Group[] => (doc.groups as Group[] | undefined) ?? [];

/** Above this many layers a model opens with its groups collapsed, so that its top level stays readable. */
export const OPEN_COLLAPSED_ABOVE = 150;

/** The module path of an ONNX node name: its segments without the op's own name ("/a/a.0/conv1/Conv" → a, a.0, conv1). */
export function modulePath(onnxName: string): string[] {
  if (!onnxName.startsWith('/')) return [];
  return onnxName.split('/').filter(Boolean).slice(0, -1);
}

/**
 * The module path in a node's `pkg.torch.onnx.name_scopes` metadata (PyTorch's newer exporter), a Python
 * list of cumulative names: the root '', then each module ('layer1', 'layer1.0', 'layer1.0.conv1'), then
 * the node's own name. Segments follow the node-name convention: list items repeat their parent's name
 * (layer1, layer1.0, conv1).
 */
export function nameScopePath(scopes: string): string[] {
  const names = [...scopes.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? m[2]).filter(Boolean);
  const path: string[] = [];
  // The last name is the node's own; each module's name extends its parent's by ".child".
  for (const [i, name] of names.slice(0, -1).entries()) {
    const parent = i > 0 ? names[i - 1] : '';
    if (parent && !name.startsWith(`${parent}.`)) return [];
    const child = parent ? name.slice(parent.length + 1) : name;
    path.push(/^\d+$/.test(child) && path.length > 0 ? `${path[path.length - 1]}.${child}` : child);
  }
  return path;
}

/** PyTorch's dotted module name from a path: list items repeat their parent's name ("layer3", "layer3.1", "conv2" → "layer3.1.conv2"). */
export function moduleName(path: string[]): string {
  return path.reduce((name, segment) => (name === '' || segment.startsWith(`${name}.`) ? segment : `${name}.${segment}`), '');
}

/**
 * Groups layers by module path. A module that holds a single layer, or exactly the same layers as the
 * module around it, adds nothing to look at and gets no group of its own.
 */
export function moduleGroups(paths: Map<string, string[]>, collapsed: boolean): Group[] {
  const members = new Map<string, { label: string; parentKey: string | null; nodes: string[] }>();
  for (const [id, path] of paths) {
    for (let depth = 1; depth <= path.length; depth++) {
      const key = path.slice(0, depth).join('/');
      let entry = members.get(key);
      if (!entry) members.set(key, (entry = { label: path[depth - 1], parentKey: depth > 1 ? path.slice(0, depth - 1).join('/') : null, nodes: [] }));
      entry.nodes.push(id);
    }
  }
  // The nearest kept ancestor of each module: dropped modules hand their place to it.
  const kept = new Map<string, string | null>();
  const keptAncestor = (key: string | null): string | null => {
    if (key === null) return null;
    if (kept.has(key)) return kept.get(key)!;
    const entry = members.get(key)!;
    const parent = keptAncestor(entry.parentKey);
    const sameAsParent = parent !== null && members.get(parent)!.nodes.length === entry.nodes.length;
    const result = entry.nodes.length < 2 || sameAsParent ? parent : key;
    kept.set(key, result);
    return result;
  };
  const groups: Group[] = [];
  for (const [key, entry] of members) {
    if (keptAncestor(key) !== key) continue;
    const parent = keptAncestor(entry.parentKey);
    groups.push({ id: `m:${key}`, label: entry.label, nodes: entry.nodes, collapsed, ...(parent ? { parent: `m:${parent}` } : {}) });
  }
  return groups;
}
