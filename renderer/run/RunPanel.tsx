/**
 * The Run panel: pick an input (draw it, load an image, a dataset sample, a .npy file, or random values),
 * run the model on ONNX Runtime Web in the engine's worker, and see the result: a classifier's class
 * probabilities with their names and the top three, other outputs as tensors, and the time it took.
 * Every layer's output is fetched in the same run, so selecting a layer shows its tensor in the inspector.
 */
import { useMemo, useRef, useState } from 'react';
import { CLASS_NAMES, IMAGE_SETS, type ImageSetName } from '../../core/data/builtin.ts';
import type { Provider, Tensor } from '../../core/engine/engine.ts';
import { compileModel, predictionModel, type CompiledModel } from '../../core/convert/compile.ts';
import { formatShape } from '../../core/graph/dim.ts';
import { encodeModelBytes } from '../../core/onnx/proto.ts';
import { imageSample } from '../../core/data/imagefolder.ts';
import { decodeImage } from '../../engines/web/datasets.ts';
import type { PanelProps } from '../panels/registry.ts';
import { TensorView } from '../tensors/TensorView.tsx';
import { DrawingPad, type DrawingPadHandle } from './DrawingPad.tsx';
import { defaultProvider, lastRun, windowEngine } from './engine.ts';
import { datasetSample, greyscale, imageTensor, InputError, isImageInput, npyTensor, probabilities, randomTensor, sampleShape } from './inputs.ts';
import { ProviderPicker } from './ProviderPicker.tsx';
import { Generate } from './Generate.tsx';
import { languageModel } from '../../core/train/generate.ts';

type Source = 'draw' | 'sample' | 'image' | 'npy' | 'random';
const SOURCE_LABELS: Record<Source, string> = { draw: 'Draw', sample: 'Dataset sample', image: 'Image file', npy: '.npy file', random: 'Random values' };

interface Result {
  outputs: { name: string; tensor: Tensor }[];
  milliseconds: number;
  provider: string;
  label: number | null;
  classNames: string[] | null;
  adapted: string[];
}

function Probabilities({ tensor, classNames, label }: { tensor: Tensor; classNames: string[] | null; label: number | null }) {
  const classes = tensor.dims[1];
  const p = probabilities(Float32Array.from(tensor.data.subarray(0, classes) as ArrayLike<number>, Number));
  const name = (k: number) => classNames?.[k] ?? String(k);
  const top = [...p.keys()].sort((a, b) => p[b] - p[a]).slice(0, 3);
  return (
    <div className="probabilities">
      <p role="status" aria-label="Prediction">
        Prediction: <strong>{name(top[0])}</strong> ({(100 * p[top[0]]).toFixed(1)}%){label !== null && <> · label {name(label)}</>} · top 3:{' '}
        {top.map((k) => `${name(k)} ${(100 * p[k]).toFixed(1)}%`).join(', ')}
      </p>
      <ul className="bars" aria-label="Class probabilities">
        {[...p].slice(0, 100).map((v, k) => (
          <li key={k} aria-label={`${name(k)}: ${(100 * v).toFixed(1)}%`}>
            <span className="bar-name">{name(k)}</span>
            <span className="bar" style={{ width: `${Math.max(0.5, 100 * v)}%` }} />
            <span className="bar-value">{(100 * v).toFixed(1)}%</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function RunPanel({ workspace, state }: PanelProps) {
  const [source, setSource] = useState<Source>('sample');
  const [dataset, setDataset] = useState<ImageSetName>('mnist');
  const [index, setIndex] = useState('0');
  const [seed, setSeed] = useState('0');
  const [provider, setProvider] = useState<Provider>(defaultProvider);
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pad = useRef<DrawingPadHandle>(null);

  // The input the controls are for: the model's first Input once loss targets are set aside. The model is
  // compiled only when it runs (a large model's weights take a while to make).
  const prediction = useMemo(() => predictionModel(state.doc), [state.doc]);
  const inputNode = prediction.nodes.find((n) => n.op === 'Input');
  // A language model (token ids in, scores per token out) also generates text.
  const lm = useMemo(() => {
    try {
      return languageModel(prediction);
    } catch {
      return null;
    }
  }, [prediction]);
  const inputType = inputNode ? state.inferred.inference.node(inputNode.id)?.outputs?.[0] : undefined;
  const problem = !inputNode ? 'the model has no Input layer.' : state.inferred.diagnostics.some((d) => d.severity === 'error') ? 'the model has errors (see Problems).' : null;
  const first = inputNode && inputType ? { nodeId: inputNode.id, type: inputType } : undefined;
  let dims: number[] | null = null;
  try {
    dims = first ? sampleShape(first.nodeId, first.type) : null;
  } catch {
    dims = null;
  }
  const image = dims !== null && first?.type.dtype === 'float32' && isImageInput(dims);
  // Without an image input, seeded random values come first: Run works before any file is chosen.
  const sources: Source[] = image ? ['draw', 'sample', 'image', 'npy', 'random'] : ['random', 'npy'];
  const chosen = sources.includes(source) ? source : sources[0];

  async function feedsFor(model: CompiledModel): Promise<{ feeds: Record<string, Tensor>; label: number | null; classNames: string[] | null; adapted: string[] }> {
    const feeds: Record<string, Tensor> = {};
    let label: number | null = null;
    let classNames: string[] | null = null;
    let adapted: string[] = [];
    for (const [i, input] of model.inputs.entries()) {
      const name = input.nodeId;
      const how = i === 0 ? chosen : 'random';
      if (how === 'npy') {
        if (!file) throw new InputError(`choose a .npy file for ${name}`);
        feeds[input.name] = npyTensor(name, file.name, new Uint8Array(await file.arrayBuffer()), input.type);
        continue;
      }
      const shape = sampleShape(name, input.type);
      if (how === 'random') feeds[input.name] = randomTensor(shape, input.type, Number(seed) || 0);
      else if (how === 'sample') {
        const sample = await datasetSample(dataset, Number(index), input.type);
        feeds[input.name] = sample.tensor;
        label = sample.label;
        classNames = CLASS_NAMES[dataset];
        adapted = sample.adapted;
      } else if (how === 'draw') {
        const canvas = pad.current?.canvas();
        if (!canvas) throw new InputError('draw something on the pad first');
        feeds[input.name] = imageTensor(greyscale(canvas, shape[1], shape[2]), shape);
        classNames = CLASS_NAMES.mnist;
      } else {
        if (!file) throw new InputError(`choose an image file for ${name}`);
        // As an image folder trains: resized, grey or RGB as the input's channels say, the pixels as they are.
        const [c, h, w] = shape;
        feeds[input.name] = { dtype: 'float32', dims: [1, c, h, w], data: imageSample(await decodeImage(file), [c, h, w]) };
      }
    }
    return { feeds, label, classNames, adapted };
  }

  async function run() {
    setBusy(true);
    setError(null);
    try {
      const compiled = compileModel(prediction, { weights: workspace.weights.current, exposeLayers: true });
      const { feeds, label, classNames, adapted } = await feedsFor(compiled);
      // An Input layer's "output" is what it was given, so selecting it shows what the model saw. Copied:
      // the feeds' buffers move to the engine's worker.
      const given = compiled.inputs.map((input) => [`${input.nodeId}:0`, { ...feeds[input.name], data: feeds[input.name].data.slice() } as Tensor] as const);
      const reply = await windowEngine().run({ model: encodeModelBytes(compiled.model), feeds, provider });
      const byValue = new Map([...compiled.values].map(([key, value]) => [value, key]));
      const outputs = new Map<string, Tensor>(given);
      for (const [value, tensor] of Object.entries(reply.outputs)) if (byValue.has(value)) outputs.set(byValue.get(value)!, tensor);
      lastRun.set({ doc: state.doc, outputs, weights: compiled.weights, provider: reply.provider, milliseconds: reply.milliseconds });
      setResult({ outputs: compiled.outputs.map((o) => ({ name: o.nodeId, tensor: reply.outputs[o.name] })), milliseconds: reply.milliseconds, provider: reply.provider, label, classNames, adapted });
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="run-panel" aria-label="Run">
      {problem ? (
        <p className="muted">Cannot run: {problem}</p>
      ) : (
        <>
          <div className="run-controls">
            <label className="field-inline">
              Input {first && <code>{`${first.nodeId} ${formatShape(first.type.shape)}`}</code>}
              <select aria-label="Input source" value={chosen} onChange={(e) => setSource(e.target.value as Source)}>
                {sources.map((s) => (
                  <option key={s} value={s}>
                    {SOURCE_LABELS[s]}
                  </option>
                ))}
              </select>
            </label>
            {chosen === 'sample' && (
              <>
                <label className="field-inline">
                  Dataset
                  <select aria-label="Dataset" value={dataset} onChange={(e) => setDataset(e.target.value as ImageSetName)}>
                    {IMAGE_SETS.map((d) => (
                      <option key={d}>{d}</option>
                    ))}
                  </select>
                </label>
                <label className="field-inline">
                  Sample
                  <input aria-label="Sample index" type="number" min={0} value={index} onChange={(e) => setIndex(e.target.value)} />
                </label>
              </>
            )}
            {(chosen === 'image' || chosen === 'npy') && (
              <label className="field-inline">
                File
                <input
                  aria-label={chosen === 'image' ? 'Image file' : 'Input .npy file'}
                  type="file"
                  accept={chosen === 'image' ? 'image/png,image/jpeg' : '.npy'}
                  onChange={(e) => setFile(e.target.files?.[0] ?? null)}
                />
              </label>
            )}
            {chosen === 'random' && (
              <label className="field-inline">
                Seed
                <input aria-label="Seed" type="number" value={seed} onChange={(e) => setSeed(e.target.value)} />
              </label>
            )}
            <ProviderPicker value={provider} onChange={setProvider} />
            <button type="button" onClick={() => void run()} disabled={busy}>
              {busy ? 'Running…' : 'Run'}
            </button>
          </div>
          {chosen === 'draw' && (
            <div className="pad-row">
              <DrawingPad ref={pad} onDrawn={() => void run()} />
              <button type="button" onClick={() => pad.current?.clear()}>
                Clear
              </button>
            </div>
          )}
        </>
      )}
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
      {lm && !problem && <Generate doc={prediction} lm={lm} weights={workspace.weights.current} />}
      {result && (
        <section aria-label="Run result">
          <p className="muted" aria-label="Latency">
            Ran on {result.provider} in {result.milliseconds.toFixed(1)} ms{result.adapted.length > 0 && ` · input ${result.adapted.join(', ')}`}. Select a layer to see its output tensor.
          </p>
          {result.outputs.map(({ name, tensor }) =>
            tensor.dims.length === 2 && tensor.dims[1] >= 2 && tensor.dims[1] <= 1000 && tensor.dtype === 'float32' ? (
              <Probabilities key={name} tensor={tensor} classNames={result.classNames} label={result.label} />
            ) : (
              <TensorView key={name} name={name} tensor={tensor} />
            ),
          )}
        </section>
      )}
    </div>
  );
}
