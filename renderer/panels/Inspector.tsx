/** The selected layer's parameters as labelled fields, its inputs, the formula trace, parameters and MACs. */
import { useEffect, useId, useState } from 'react';
import { describeMacs, describeParam, formatCount, formatShape, getLayer, parseEdgeEnd, type ModelNode, type ParamSchema, type ParamValue } from '../../core/index.ts';
import type { EditorState, EditorStore } from '../state/store.ts';
import { LayerTensors } from '../tensors/LayerTensors.tsx';

/** Text for a param value in a text field, and back. */
function toText(value: ParamValue | undefined): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function fromText(text: string, schema: ParamSchema): ParamValue | undefined {
  const t = text.trim();
  if (t === '') return schema.nullable ? null : undefined;
  switch (schema.type) {
    case 'int':
    case 'float':
      return Number(t);
    case 'size':
    case 'padding': {
      if (schema.type === 'padding' && (t === 'same' || t === 'valid')) return t;
      const parts = t.split(/[\s,]+/).filter(Boolean).map(Number);
      return parts.length === 1 ? parts[0] : parts;
    }
    case 'ints':
      return t.split(/[\s,]+/).filter(Boolean).map(Number);
    case 'dims':
      return t.split(/[\s,]+/).filter(Boolean).map((d) => (/^-?\d+$/.test(d) ? Number(d) : d));
    case 'json':
      try {
        return JSON.parse(t) as ParamValue;
      } catch {
        return t;
      }
    default:
      return t;
  }
}

function Field({ node, name, schema, error, store }: { node: ModelNode; name: string; schema: ParamSchema; error?: string; store: EditorStore }) {
  const id = useId();
  const value = node.params[name] ?? schema.default;
  const [text, setText] = useState(toText(value));
  useEffect(() => setText(toText(node.params[name] ?? schema.default)), [node, name, schema]);
  const commit = (next: ParamValue | undefined) => store.setParam(node.id, name, next);
  const described = `${id}-help${error ? ` ${id}-error` : ''}`;
  let input;
  if (schema.type === 'bool') {
    input = <input id={id} type="checkbox" checked={Boolean(value)} aria-describedby={described} onChange={(e) => commit(e.target.checked)} />;
  } else if (schema.type === 'enum') {
    input = (
      <select id={id} value={String(value)} aria-describedby={described} onChange={(e) => commit(e.target.value)}>
        {schema.values!.map((v) => (
          <option key={v}>{v}</option>
        ))}
      </select>
    );
  } else if (schema.type === 'nodeRef') {
    input = (
      <select id={id} value={value === null || value === undefined ? '' : String(value)} aria-describedby={described} onChange={(e) => commit(e.target.value === '' ? null : e.target.value)}>
        <option value="">none</option>
        {store.get().doc.nodes.filter((n) => n.id !== node.id).map((n) => (
          <option key={n.id}>{n.id}</option>
        ))}
      </select>
    );
  } else {
    input = (
      <input
        id={id}
        type="text"
        inputMode={schema.type === 'int' || schema.type === 'float' ? 'decimal' : undefined}
        value={text}
        aria-invalid={error ? true : undefined}
        aria-describedby={described}
        onChange={(e) => setText(e.target.value)}
        onBlur={() => text !== toText(value) && commit(fromText(text, schema))}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit(fromText(text, schema));
        }}
      />
    );
  }
  return (
    <div className={`field ${error ? 'invalid' : ''}`}>
      <label htmlFor={id}>{schema.label}</label>
      {input}
      <small id={`${id}-help`}>{schema.help}</small>
      {error && (
        <small id={`${id}-error`} className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

/** Wiring from the keyboard: pick the source of each input port. */
function Inputs({ node, store }: { node: ModelNode; store: EditorStore }) {
  const spec = getLayer(node.op)!;
  const doc = store.get().doc;
  const incoming = doc.edges.filter((e) => parseEdgeEnd(e.to).node === node.id);
  const sources = doc.nodes.filter((n) => n.id !== node.id).flatMap((n) => {
    const outs = store.outputsOf(n.id);
    return outs.length <= 1 ? [n.id] : outs.map((p) => `${n.id}:${p}`);
  });
  const [message, setMessage] = useState<string | null>(null);
  if (spec.inputs.length === 0) return null;
  const ports = spec.inputs[0].variadic ? [...incoming.map((_, i) => `${spec.inputs[0].name} ${i + 1}`), 'add'] : spec.inputs.map((p) => p.name);
  const edgeFor = (i: number) => (spec.inputs[0].variadic ? incoming[i] : incoming.find((e) => { const p = parseEdgeEnd(e.to).port ?? 0; return p === i || p === spec.inputs[i].name; }) ?? (spec.inputs.length === 1 ? incoming[0] : undefined));
  return (
    <fieldset className="inputs">
      <legend>Inputs</legend>
      {ports.map((port, i) => {
        const edge = port === 'add' ? undefined : edgeFor(i);
        const label = port === 'add' ? `Add an input to ${node.id}` : `Input ${port}`;
        return (
          <label key={port}>
            {port === 'add' ? 'Add input' : port}
            <select
              aria-label={label}
              value={edge?.from ?? ''}
              onChange={(e) => {
                if (edge) store.removeEdges([edge]);
                if (e.target.value) {
                  const to = spec.inputs[0].variadic || spec.inputs.length === 1 ? node.id : `${node.id}:${port}`;
                  setMessage(store.connect(e.target.value, to));
                }
              }}
            >
              <option value="">not connected</option>
              {sources.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
        );
      })}
      {message && <p className="field-error" role="alert">{message}</p>}
    </fieldset>
  );
}

export function Inspector({ store, state }: { store: EditorStore; state: EditorState }) {
  const { doc, selection } = state;
  if (selection.length !== 1) {
    return (
      <aside className="inspector" aria-label="Inspector">
        <h2>Model</h2>
        <label className="field">
          Name
          <input type="text" value={doc.name} onChange={(e) => store.rename(e.target.value)} />
        </label>
        <p className="muted">{selection.length > 1 ? `${selection.length} layers selected.` : 'Select a layer to see its parameters, formulas and counts.'}</p>
      </aside>
    );
  }
  const node = doc.nodes.find((n) => n.id === selection[0]);
  const spec = node && getLayer(node.op);
  if (!node || !spec) return <aside className="inspector" aria-label="Inspector" />;
  const report = store.inference.node(node.id);
  const formulas = store.inference.formulas(node.id);
  const problems = store.inference.diagnostics().filter((d) => d.nodeId === node.id);
  return (
    <aside className="inspector" aria-label="Inspector">
      <h2>
        {node.id} <span className="muted">{node.op}</span>
      </h2>
      <p className="doc">{spec.doc}</p>
      <Inputs node={node} store={store} />
      {Object.entries(spec.params).map(([name, schema]) => (
        <Field key={`${node.id}.${name}`} node={node} name={name} schema={schema} store={store} error={problems.find((p) => p.field === name && p.severity === 'error')?.message} />
      ))}
      <label className="field inline">
        <input type="checkbox" checked={node.trainable !== false} onChange={(e) => store.setTrainable(node.id, e.target.checked)} />
        Trainable (unchecked: frozen, for transfer learning)
      </label>
      <section aria-label="Shapes and formulas">
        <h3>Output</h3>
        <p data-testid="inspector-shape">{report?.outputs ? report.outputs.map((o) => formatShape(o.shape)).join(', ') : 'not inferred'}</p>
        {formulas.length > 0 && (
          <ul className="formulas" data-testid="formulas">
            {formulas.map((f, i) => (
              <li key={i}>
                <code>{f}</code>
              </li>
            ))}
          </ul>
        )}
        <h3>Parameters: {formatCount(report?.paramCount ?? 0)}</h3>
        {report && report.params.length > 0 && (
          <table className="breakdown">
            <tbody>
              {report.params.map((p) => (
                <tr key={p.name}>
                  <td>{p.name}</td>
                  <td>{p.shape.join('×')}</td>
                  <td>
                    <code>{describeParam(p)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h3>MACs</h3>
        <p>
          <code>{describeMacs(report?.macsFormula, report?.macs ?? null)}</code>
        </p>
      </section>
      <h3>Tensors</h3>
      <LayerTensors doc={doc} nodeId={node.id} />
      {problems.length > 0 && (
        <section aria-label="Problems of this layer">
          {problems.map((p, i) => (
            <p key={i} className={`problem ${p.severity}`}>
              {p.message}
              {p.suggestion && <span className="muted"> {p.suggestion}</span>}
            </p>
          ))}
        </section>
      )}
    </aside>
  );
}
