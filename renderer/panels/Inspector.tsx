/** The selected layer's parameters as labelled fields, its inputs, the formula trace, parameters and MACs. */
import { useEffect, useId, useState } from 'react';
import { describeMacs, describeParam, formatCount, formatShape, getLayer, parseEdgeEnd, type ModelNode, type ParamSchema, type ParamValue } from '../../core/index.ts';
import type { EditorState, EditorStore } from '../state/store.ts';
import { parseField, toText } from './fieldText.ts';
import { InlineCode } from './InlineCode.tsx';
import { LayerTensors } from '../tensors/LayerTensors.tsx';

/**
 * Ctrl+Z in a field: text typed since the last commit is dropped first; otherwise the document's
 * undo runs, as it does everywhere else (the browser's own text undo would undo only the text).
 */
function undoKeys(e: React.KeyboardEvent, typed: boolean, revert: () => void, store: EditorStore): void {
  if (!(e.ctrlKey || e.metaKey)) return;
  const key = e.key.toLowerCase();
  if (key !== 'z' && key !== 'y') return;
  e.preventDefault();
  if (key === 'z' && !e.shiftKey && typed) revert();
  else if (key === 'z' && !e.shiftKey) store.undo();
  else store.redo();
}

function Field({ node, name, schema, error: problem, store, readOnly }: { node: ModelNode; name: string; schema: ParamSchema; error?: string; store: EditorStore; readOnly: boolean }) {
  const id = useId();
  const value = node.params[name] ?? schema.default;
  const [text, setText] = useState(toText(value, schema));
  // What was typed but is not a value: kept in the field, marked invalid, the document left alone.
  const [invalid, setInvalid] = useState<string | null>(null);
  useEffect(() => {
    setText(toText(node.params[name] ?? schema.default, schema));
    setInvalid(null);
  }, [node, name, schema]);
  const commit = (next: ParamValue | undefined) => store.setParam(node.id, name, next);
  const commitText = () => {
    const parsed = parseField(text, schema);
    if (!parsed.ok) return setInvalid(parsed.message);
    setInvalid(null);
    commit(parsed.value);
  };
  const error = invalid ?? problem;
  const described = `${id}-help${error ? ` ${id}-error` : ''}`;
  let input;
  if (schema.type === 'bool') {
    input = <input id={id} type="checkbox" checked={Boolean(value)} disabled={readOnly} aria-describedby={described} onChange={(e) => commit(e.target.checked)} />;
  } else if (schema.type === 'enum') {
    input = (
      <select id={id} value={String(value)} disabled={readOnly} aria-describedby={described} onChange={(e) => commit(e.target.value)}>
        {schema.values!.map((v) => (
          <option key={v}>{v}</option>
        ))}
      </select>
    );
  } else if (schema.type === 'nodeRef') {
    input = (
      <select
        id={id}
        value={value === null || value === undefined ? '' : String(value)}
        disabled={readOnly}
        aria-describedby={described}
        onChange={(e) => commit(e.target.value === '' ? null : e.target.value)}
      >
        <option value="">none</option>
        {store
          .get()
          .doc.nodes.filter((n) => n.id !== node.id)
          .map((n) => (
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
        readOnly={readOnly}
        aria-invalid={error ? true : undefined}
        aria-describedby={described}
        onChange={(e) => setText(e.target.value)}
        onBlur={() => text !== toText(value, schema) && commitText()}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commitText();
          undoKeys(
            e,
            text !== toText(value, schema),
            () => {
              setText(toText(value, schema));
              setInvalid(null);
            },
            store,
          );
        }}
      />
    );
  }
  return (
    <div className={`field ${error ? 'invalid' : ''}`}>
      <label htmlFor={id}>{schema.label}</label>
      {input}
      <small id={`${id}-help`}>
        <InlineCode text={schema.help} />
      </small>
      {error && (
        <small id={`${id}-error`} className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

/** Wiring from the keyboard: pick the source of each input port. */
/** Models up to this size list every possible source at once. */
const FULL_LISTS_UP_TO = 300;

function Inputs({ node, store, readOnly }: { node: ModelNode; store: EditorStore; readOnly: boolean }) {
  const spec = getLayer(node.op)!;
  const doc = store.get().doc;
  const incoming = doc.edges.filter((e) => parseEdgeEnd(e.to).node === node.id);
  const [message, setMessage] = useState<string | null>(null);
  // Every layer is a possible source: in a large model the lists are built when first used, so that
  // selecting a layer does not build thousands of options.
  const [listed, setListed] = useState(doc.nodes.length <= FULL_LISTS_UP_TO);
  const sources = listed
    ? doc.nodes
        .filter((n) => n.id !== node.id)
        .flatMap((n) => {
          const outs = store.outputsOf(n.id);
          return outs.length <= 1 ? [n.id] : outs.map((p) => `${n.id}:${p}`);
        })
    : incoming.map((e) => e.from);
  if (spec.inputs.length === 0) return null;
  const ports = spec.inputs[0].variadic ? [...incoming.map((_, i) => `${spec.inputs[0].name} ${i + 1}`), 'add'] : spec.inputs.map((p) => p.name);
  const edgeFor = (i: number) =>
    spec.inputs[0].variadic
      ? incoming[i]
      : (incoming.find((e) => {
          const p = parseEdgeEnd(e.to).port ?? 0;
          return p === i || p === spec.inputs[i].name;
        }) ?? (spec.inputs.length === 1 ? incoming[0] : undefined));
  return (
    <fieldset className="inputs" disabled={readOnly}>
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
              onFocus={() => setListed(true)}
              onPointerDown={() => setListed(true)}
              onChange={(e) => {
                const to = spec.inputs[0].variadic || spec.inputs.length === 1 ? node.id : `${node.id}:${port}`;
                // One step: a refused source (a cycle) leaves the existing edge in place.
                setMessage(store.rewire(edge, e.target.value || null, to));
              }}
            >
              <option value="">not connected</option>
              {[...new Set(sources)].map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
        );
      })}
      {message && (
        <p className="field-error" role="alert">
          {message}
        </p>
      )}
    </fieldset>
  );
}

/** While training holds the model, every field is read-only (the Training banner says why). */
export function Inspector({ store, state }: { store: EditorStore; state: EditorState }) {
  const { doc, selection } = state;
  const readOnly = state.locked !== null;
  if (selection.length !== 1) {
    return (
      <aside className="inspector" aria-label="Inspector">
        <h2>Model</h2>
        <label className="field">
          Name
          <input type="text" value={doc.name} readOnly={readOnly} onChange={(e) => store.rename(e.target.value)} />
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
      <p className="doc">
        <InlineCode text={spec.doc} />
      </p>
      <Inputs key={node.id} node={node} store={store} readOnly={readOnly} />
      {Object.entries(spec.params).map(([name, schema]) => (
        <Field key={`${node.id}.${name}`} node={node} name={name} schema={schema} store={store} readOnly={readOnly} error={problems.find((p) => p.field === name && p.severity === 'error')?.message} />
      ))}
      {/* Freezing means something only for a layer with parameters (ReLU and MaxPool have none). */}
      {((report?.paramCount ?? 0) > 0 || node.trainable === false) && (
        <label className="field inline">
          <input type="checkbox" checked={node.trainable !== false} disabled={readOnly} onChange={(e) => store.setTrainable(node.id, e.target.checked)} />
          Trainable (unchecked: frozen, for transfer learning)
        </label>
      )}
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
