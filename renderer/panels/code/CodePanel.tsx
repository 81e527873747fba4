/**
 * The Code tab: the model document as JSON in Monaco, live both ways (a canvas edit rewrites the text; a
 * text edit that reads as a model applies to the canvas as one undoable change, and one that does not is
 * marked where it goes wrong while the canvas keeps the last valid model), the Problems panel's
 * diagnostics as markers, the selection shared with the canvas, and read-only views of the generated
 * PyTorch code, the compiled ONNX text and a layer's part of the training step.
 */
import { useEffect, useRef, useState } from 'react';
import { serializeModel, getLayer, type ModelDocument } from '../../../core/index.ts';
import type { Weights } from '../../../core/graph/weights.ts';
import { compileModel } from '../../../core/convert/compile.ts';
import { forwardText, layerText } from '../../../core/convert/onnx-text.ts';
import { toPyTorch } from '../../../core/convert/pytorch.ts';
import { trainingStepText } from '../../../core/train/step-text.ts';
import { optimizerConfig } from '../../../core/train/optimizers.ts';
import type { PanelProps } from '../registry.ts';
import { diagnosticMarks, nodeIdAt, nodeRange, readModelText, type TextMark } from './model-text.ts';
import { monaco, MODEL_URI, setUpMonaco } from './monaco.ts';

type View = 'json' | 'pytorch' | 'onnx' | 'training';

const VIEWS: { id: View; label: string; editorLabel: string }[] = [
  { id: 'json', label: 'Model JSON', editorLabel: 'Model JSON' },
  { id: 'pytorch', label: 'PyTorch', editorLabel: 'PyTorch code (read-only)' },
  { id: 'onnx', label: 'ONNX text', editorLabel: 'ONNX text (read-only)' },
  { id: 'training', label: 'Training step', editorLabel: 'Training step ONNX text (read-only)' },
];

/** Weights over this many values are left out of the ONNX views (they would be megabytes of digits). */
const SHOWN_VALUES = 16;

function generatedText(view: View, doc: ModelDocument, layer: string | undefined, weights: Weights | undefined): string {
  try {
    if (view === 'pytorch') return toPyTorch(doc);
    if (view === 'onnx') {
      if (layer) {
        const compiled = compileModel(doc, { weights });
        if (compiled.layers.has(layer)) return layerText(compiled, layer, { maxValues: SHOWN_VALUES });
      }
      return forwardText(doc, { weights, maxValues: SHOWN_VALUES });
    }
    if (!layer) return '# Select a layer to see its part of the training step: forward, backward and update (SGD).';
    const hasLoss = doc.nodes.some((n) => getLayer(n.op)?.category === 'Loss');
    const note = hasLoss ? '' : '# The model has no loss node: an MSE loss is attached to its output for this view.\n';
    return note + trainingStepText(doc, layer, { optimizer: optimizerConfig('sgd'), loss: hasLoss ? undefined : 'mse', weights, maxValues: SHOWN_VALUES });
  } catch (e) {
    return `# Cannot show this view: ${(e as Error).message}`;
  }
}

/** New nodes written in the text get a place on the canvas: their old one, or below the others. */
function withPositions(doc: ModelDocument, previous: ModelDocument): ModelDocument {
  const old = new Map(previous.nodes.map((n) => [n.id, n.position]));
  let below = Math.max(0, ...doc.nodes.map((n) => n.position?.y ?? 0));
  return { ...doc, nodes: doc.nodes.map((n) => (n.position ? n : { ...n, position: old.get(n.id) ?? { x: 0, y: (below += 110) } })) };
}

function setMarks(model: monaco.editor.ITextModel, marks: TextMark[]): void {
  monaco.editor.setModelMarkers(
    model,
    'netloom',
    marks.map((m) => {
      const start = model.getPositionAt(m.start);
      const end = model.getPositionAt(Math.max(m.end, m.start + 1));
      return {
        startLineNumber: start.lineNumber,
        startColumn: start.column,
        endLineNumber: end.lineNumber,
        endColumn: end.column,
        message: m.message,
        severity: m.severity === 'error' ? monaco.MarkerSeverity.Error : monaco.MarkerSeverity.Warning,
      };
    }),
  );
}

function rangeOf(model: monaco.editor.ITextModel, start: number, end: number): monaco.Range {
  const a = model.getPositionAt(start);
  const b = model.getPositionAt(end);
  return new monaco.Range(a.lineNumber, a.column, b.lineNumber, b.column);
}

export default function CodePanel({ workspace, state }: PanelProps) {
  const store = workspace.store;
  const host = useRef<HTMLDivElement>(null);
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const models = useRef<{ json: monaco.editor.ITextModel; generated: monaco.editor.ITextModel } | null>(null);
  /** The document the JSON text last read as (or was written from); null while the text does not read. */
  const synced = useRef<ModelDocument | null>(null);
  const writing = useRef(false);
  const [view, setView] = useState<View>('json');
  const [problems, setProblems] = useState(0);

  useEffect(() => {
    setUpMonaco();
    const json = monaco.editor.createModel(serializeModel(store.get().doc), 'json', MODEL_URI);
    const generated = monaco.editor.createModel('', 'python');
    synced.current = store.get().doc;
    const editor = monaco.editor.create(host.current!, {
      model: json,
      automaticLayout: true,
      minimap: { enabled: false },
      ariaLabel: 'Model JSON',
      tabSize: 2,
      scrollBeyondLastLine: false,
      fixedOverflowWidgets: true,
    });
    editorRef.current = editor;
    models.current = { json, generated };

    let timer: ReturnType<typeof setTimeout> | undefined;
    let pending = false;
    const readBack = () => {
      pending = false;
      const reading = readModelText(json.getValue());
      if (!reading.ok) {
        synced.current = null;
        setMarks(json, reading.marks);
        setProblems(reading.marks.length);
        return;
      }
      const current = store.get().doc;
      const doc = withPositions(reading.doc, current);
      synced.current = doc;
      if (serializeModel(doc) !== serializeModel(current)) store.replace(doc);
      else {
        synced.current = current;
        setMarks(json, diagnosticMarks(json.getValue(), current, store.get().inferred.diagnostics));
        setProblems(0);
      }
    };
    const typed = json.onDidChangeContent(() => {
      if (writing.current) return;
      pending = true;
      clearTimeout(timer);
      // Read back once typing pauses, not on every keystroke.
      timer = setTimeout(readBack, 300);
    });
    const moved = editor.onDidChangeCursorSelection((e) => {
      if (!editor.hasTextFocus() || editor.getModel() !== json || !synced.current || pending) return;
      const id = nodeIdAt(json.getValue(), synced.current, json.getOffsetAt(e.selection.getStartPosition()));
      const selection = store.get().selection;
      if (id && !(selection.length === 1 && selection[0] === id)) store.select([id]);
    });
    return () => {
      clearTimeout(timer);
      typed.dispose();
      moved.dispose();
      editor.dispose();
      json.dispose();
      generated.dispose();
    };
  }, [store]);

  // Canvas → text, and the diagnostics as markers.
  useEffect(() => {
    const m = models.current;
    if (!m) return;
    if (state.doc !== synced.current) {
      const text = serializeModel(state.doc);
      if (text !== m.json.getValue()) {
        writing.current = true;
        const selections = editorRef.current?.getSelections();
        m.json.pushEditOperations([], [{ range: m.json.getFullModelRange(), text }], () => null);
        if (selections && editorRef.current?.getModel() === m.json) editorRef.current.setSelections(selections);
        writing.current = false;
      }
      synced.current = state.doc;
    }
    setMarks(m.json, diagnosticMarks(m.json.getValue(), state.doc, state.inferred.diagnostics));
    setProblems(0);
  }, [state.doc, state.inferred]);

  // The canvas's selection shown in the text (unless the person is typing there).
  useEffect(() => {
    const editor = editorRef.current;
    const m = models.current;
    if (!editor || !m || view !== 'json' || editor.hasTextFocus() || state.selection.length !== 1 || synced.current !== state.doc) return;
    const r = nodeRange(m.json.getValue(), state.doc, state.selection[0]);
    if (!r) return;
    const range = rangeOf(m.json, r.start, r.end);
    editor.setSelection(range);
    editor.revealRangeInCenterIfOutsideViewport(range);
  }, [state.selection, state.doc, view]);

  // The read-only views.
  useEffect(() => {
    const editor = editorRef.current;
    const m = models.current;
    if (!editor || !m) return;
    const shown = VIEWS.find((v) => v.id === view)!;
    if (view === 'json') {
      if (editor.getModel() !== m.json) editor.setModel(m.json);
    } else {
      m.generated.setValue(generatedText(view, state.doc, state.selection[0], state.weights));
      monaco.editor.setModelLanguage(m.generated, view === 'pytorch' ? 'python' : 'plaintext');
      if (editor.getModel() !== m.generated) editor.setModel(m.generated);
    }
    editor.updateOptions({ readOnly: view !== 'json' || state.locked !== null, ariaLabel: shown.editorLabel });
  }, [view, state.doc, state.selection, state.weights, state.locked]);

  return (
    <div className="code-panel">
      <div className="code-toolbar" role="toolbar" aria-label="Code views">
        {VIEWS.map((v) => (
          <button key={v.id} type="button" aria-pressed={view === v.id} onClick={() => setView(v.id)}>
            {v.label}
          </button>
        ))}
        <span className="muted code-status" aria-live="polite">
          {state.locked
            ? 'Read-only while training'
            : view !== 'json'
              ? `Read-only${view !== 'pytorch' && state.selection[0] ? `: ${state.selection[0]}` : ''}`
              : problems > 0
                ? `${problems} problem${problems > 1 ? 's' : ''} in the text: the canvas keeps the last valid model`
                : 'Edits apply to the canvas'}
        </span>
      </div>
      <div className="code-editor" ref={host} />
    </div>
  );
}
