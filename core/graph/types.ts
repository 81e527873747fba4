/** The model document: what a person saves, and the single source of truth for the editor. */

export const MODEL_FORMAT = 'netloom.model';
export const MODEL_VERSION = 1;
/**
 * The model schema's identifier (its `$id`), which every saved document names as its `$schema`: an
 * identifier, the same wherever the document is saved, which editors map to the schema file (README, "JSON Schema").
 */
export const SCHEMA_ID = 'https://netloom.dev/schema/netloom.model.schema.json';

export type ParamValue = number | string | boolean | null | ParamValue[] | { [key: string]: ParamValue };

export interface ModelNode {
  id: string;
  op: string;
  params: Record<string, ParamValue>;
  /** Per-node switch for transfer learning: frozen layers get no gradient. Defaults to true. */
  trainable?: boolean;
  /** Optional editor metadata; kept verbatim. */
  position?: { x: number; y: number };
  color?: string;
  note?: string;
  /** The PyTorch module an imported layer came from, such as "layer3.1.conv2". */
  module?: string;
}

export interface ModelEdge {
  /** "node" or "node:port"; a port is an output name or index. */
  from: string;
  /** "node" or "node:port"; a port is an input name or index. */
  to: string;
}

export interface ModelDocument {
  format: typeof MODEL_FORMAT;
  version: number;
  name: string;
  nodes: ModelNode[];
  edges: ModelEdge[];
  /** Relative path of the weights sidecar file, if any. */
  weights?: string;
  /** Unknown top-level fields are preserved so newer files survive a round trip. */
  [extra: string]: unknown;
}

export interface EdgeEnd {
  node: string;
  /** Port name or index, or undefined when the edge names only the node. */
  port?: string | number;
}

export function parseEdgeEnd(text: string): EdgeEnd {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { node: text };
  const node = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  const numeric = portText.length > 0 && [...portText].every((c) => c >= '0' && c <= '9');
  const port = numeric ? Number(portText) : portText;
  return { node, port };
}
