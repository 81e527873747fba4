/**
 * Model-local ONNX functions (ModelProto.functions) inlined into the main graph. PyTorch writes them for
 * `torch.onnx.export(..., export_modules_as_functions={...})`: each call of a module becomes one node
 * whose domain and op_type name a function, and the parameters are passed to it as inputs. Netloom
 * edits and compiles plain ONNX ops, so each call is replaced by its body's nodes, with the call's
 * inputs, outputs and attributes put in place of the function's formal ones (nested calls too), and
 * the calls each node came from are kept so that import can group the nodes by them.
 */
import { OnnxFormatError, type AttributeProto, type FunctionProto, type GraphProto, type ModelProto, type NodeProto } from './proto.ts';

export interface InlinedModel {
  /** The model with every call of a local function replaced by the function's body, and no functions. */
  model: ModelProto;
  /** For each node that came from a function body: the calls around it, outermost first, each named "function call-node". */
  calls: Map<NodeProto, string[]>;
}

const functionKey = (domain: string | undefined, name: string): string => `${domain ?? ''}:${name}`;

/** The body's attributes with those that refer to the call's (ref_attr_name) given the call's values; unset ones are left to the op's default. */
function bindAttributes(body: AttributeProto[], call: AttributeProto[]): AttributeProto[] {
  const given = new Map(call.map((a) => [a.name, a]));
  return body.flatMap((a) => {
    if (!a.ref_attr_name) return [a];
    const value = given.get(a.ref_attr_name);
    return value ? [{ ...value, name: a.name }] : [];
  });
}

/** A node with every value name passed through `value`, in its subgraphs too (their own values alike, so they stay consistent). */
function renameValues(node: NodeProto, value: (name: string) => string): NodeProto {
  const graph = (g: GraphProto): GraphProto => ({
    ...g,
    node: g.node.map((n) => renameValues(n, value)),
    input: g.input.map((v) => ({ ...v, name: value(v.name) })),
    output: g.output.map((v) => ({ ...v, name: value(v.name) })),
    ...(g.value_info && { value_info: g.value_info.map((v) => ({ ...v, name: value(v.name) })) }),
    ...(g.initializer && { initializer: g.initializer.map((t) => ({ ...t, name: value(t.name ?? '') })) }),
  });
  const attribute = node.attribute?.map((a) => ({ ...a, ...(a.g && { g: graph(a.g) }), ...(a.graphs && { graphs: a.graphs.map(graph) }) }));
  return { ...node, input: node.input.map(value), output: node.output.map(value), ...(attribute && { attribute }) };
}

export function inlineFunctions(model: ModelProto): InlinedModel {
  const functions = new Map<string, FunctionProto>((model.functions ?? []).map((f) => [functionKey(f.domain, f.name), f]));
  const calls = new Map<NodeProto, string[]>();
  if (functions.size === 0) return { model, calls };
  const prefixes = new Set<string>();

  /** The calls in a subgraph (a Loop's or If's body) expanded too; its nodes are not grouped. */
  const expandSubgraphs = (node: NodeProto, active: string[]): NodeProto => {
    if (!node.attribute?.some((a) => a.g || a.graphs)) return node;
    const graph = (g: GraphProto): GraphProto => {
      const out: NodeProto[] = [];
      for (const n of g.node) expand(n, n.name || n.op_type, [], active, out);
      return { ...g, node: out };
    };
    return { ...node, attribute: node.attribute.map((a) => ({ ...a, ...(a.g && { g: graph(a.g) }), ...(a.graphs && { graphs: a.graphs.map(graph) }) })) };
  };

  /** Adds `node` (named `label` in its own graph or body) to `out`, expanding it if it calls a function. */
  const expand = (node: NodeProto, label: string, scope: string[], active: string[], out: NodeProto[]): void => {
    const key = functionKey(node.domain, node.op_type);
    const fn = functions.get(key);
    if (!fn) {
      const expanded = expandSubgraphs(node, active);
      out.push(expanded);
      if (scope.length > 0) calls.set(expanded, scope);
      return;
    }
    if (active.includes(key)) throw new OnnxFormatError(`function "${fn.name}" calls itself (through node "${label}"), so it cannot be inlined`);
    if (node.input.length > fn.input.length || node.output.length > fn.output.length)
      throw new OnnxFormatError(
        `node "${label}" calls function "${fn.name}" with ${node.input.length} inputs and ${node.output.length} outputs; it takes ${fn.input.length} and gives ${fn.output.length}`,
      );
    // A unique prefix for the values and nodes of this call, which keep the body's names after it.
    let prefix = node.name || fn.name;
    for (let k = 2; prefixes.has(prefix); k++) prefix = `${node.name || fn.name}#${k}`;
    prefixes.add(prefix);
    const actual = new Map<string, string>();
    fn.input.forEach((formal, i) => actual.set(formal, node.input[i] ?? ''));
    // An output the call leaves unnamed is still read inside the body: it keeps a name of its own.
    fn.output.forEach((formal, i) => actual.set(formal, node.output[i] || `${prefix}/${formal}`));
    const value = (name: string): string => (name === '' ? '' : (actual.get(name) ?? `${prefix}/${name}`));
    const inner = [...scope, `${fn.name} ${label}`];
    for (const n of fn.node) {
      const own = n.name || n.op_type;
      const bound = renameValues({ ...n, name: `${prefix}/${own}`, attribute: bindAttributes(n.attribute ?? [], node.attribute ?? []) }, value);
      expand(bound, own, inner, [...active, key], out);
    }
  };

  const nodes: NodeProto[] = [];
  for (const node of model.graph.node) expand(node, node.name || node.op_type, [], [], nodes);
  // The bodies' operator sets (a domain only a function used) become the model's.
  const opsets = new Map(model.opset_import.map((o) => [o.domain ?? '', o]));
  for (const o of (model.functions ?? []).flatMap((f) => f.opset_import ?? [])) if (!opsets.has(o.domain ?? '')) opsets.set(o.domain ?? '', o);
  const inlined: ModelProto = { ...model, opset_import: [...opsets.values()], graph: { ...model.graph, node: nodes } };
  delete inlined.functions;
  return { model: inlined, calls };
}
