/**
 * The Train panel: dataset, loss, optimiser and its fields, schedule and warm-up, clipping, L1/L2,
 * epochs, batch size, seed and provider (the CLI's settings and defaults);
 * Start, Pause, Resume and Stop; progress (epoch, step, samples/s, time left) and live charts. Training
 * runs in the browser engine's worker (engines/web), so the page never blocks. While it runs the model
 * is locked (the store refuses edits; a banner offers Stop). When it ends — or is stopped — the weights
 * trained so far become the document's as one undoable change (Export ONNX writes them). A loss that
 * became NaN or infinite stops training with the CLI's advice, in the panel and marked on the chart.
 */
import { useEffect, useRef, useState } from 'react';
import { getLayer } from '../../core/index.ts';
import type { Provider } from '../../core/engine/engine.ts';
import { OPTIMIZERS, optimizerConfig, type OptimizerName } from '../../core/train/optimizers.ts';
import { DEFAULT_LOSS, LOSSES, type LossName } from '../../core/train/step.ts';
import type { Schedule, TrainingEvent } from '../../core/train/trainer.ts';
import type { TrainingRun, TrainRequest } from '../../engines/web/client.ts';
import { defaultProvider, windowEngine } from '../run/engine.ts';
import { ProviderPicker } from '../run/ProviderPicker.tsx';
import { DatasetPicker } from './DatasetPicker.tsx';
import { choiceName, modelInput, trainingData, trainingDocument, type DataChoice } from './ownData.ts';
import type { PanelProps } from './registry.ts';
import { TrainChart, type ChartHandle } from './TrainChart.tsx';
import { setOverlayGradients } from '../canvas/overlay.tsx';
import { lossText, TrainingPace } from './trainProgress.ts';

type Status = 'idle' | 'preparing' | 'training' | 'pausing' | 'paused' | 'stopping' | 'done' | 'failed';

interface Progress {
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  samplesPerSec: number | null;
  secondsLeft: number | null;
}

const MOMENTUM: OptimizerName[] = ['sgd', 'momentum', 'nesterov', 'rmsprop'];
const SMOOTHING = 0.9;
/** How long the settings must stay unchanged before the worker prepares a run with them. */
const PREPARE_AFTER_MS = 300;
const LOCK = {
  message: 'Training — the model is locked. Stop training to edit it.',
  detail: 'Stopping keeps the weights trained so far (Undo restores the earlier ones).',
};

const percent = (v: number | null) => (v === null ? '–' : `${(100 * v).toFixed(1)}%`);
const duration = (s: number) => (s < 90 ? `${Math.ceil(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

export function TrainPanel({ workspace, state }: PanelProps) {
  const { store } = workspace;
  const ownLoss = state.doc.nodes.some((n) => getLayer(n.op)?.category === 'Loss');
  const [data, setData] = useState<DataChoice>({ builtIn: 'mnist' });
  const dataset = choiceName(data);
  const [loss, setLoss] = useState<LossName>('cross-entropy');
  const [optimizer, setOptimizer] = useState<OptimizerName>('adam');
  const [lr, setLr] = useState(String(optimizerConfig('adam').lr));
  const [momentum, setMomentum] = useState('0.9');
  const [weightDecay, setWeightDecay] = useState('0');
  const [epochs, setEpochs] = useState('3');
  const [batchSize, setBatchSize] = useState('64');
  const [seed, setSeed] = useState('0');
  const [schedule, setSchedule] = useState<'constant' | 'step' | 'cosine'>('constant');
  const [warmup, setWarmup] = useState('0');
  const [clipNorm, setClipNorm] = useState('0');
  const [l1, setL1] = useState('0');
  const [l2, setL2] = useState('0');
  const [provider, setProvider] = useState<Provider>(defaultProvider);
  const [status, setStatus] = useState<Status>('idle');
  const [message, setMessage] = useState('');
  const [progress, setProgress] = useState<Progress | null>(null);
  const [result, setResult] = useState<{ valAccuracy: number | null; valLoss: number | null; loss: number } | null>(null);
  const run = useRef<TrainingRun | null>(null);
  /** Every run of this session, with its settings and outcome, for comparing on the charts. */
  const [runs, setRuns] = useState<{ settings: string; outcome: string }[]>([]);
  const steps = useRef<ChartHandle>(null);
  const epochChart = useRef<ChartHandle>(null);

  const running = status === 'preparing' || status === 'training' || status === 'pausing' || status === 'paused' || status === 'stopping';

  const chooseOptimizer = (name: OptimizerName) => {
    setOptimizer(name);
    setLr(String(optimizerConfig(name).lr));
    // The perceptron rule is SGD on the perceptron criterion, as netloom train --optimizer perceptron takes it.
    const implied = DEFAULT_LOSS[name];
    if (implied) setLoss(implied);
  };

  function number(text: string, what: string, min: number, integer = false): number {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) throw new Error(`${what} must be ${integer ? 'a whole number' : 'a number'} of at least ${min}`);
    return n;
  }

  /** The settings as numbers, and the request they make without the starting weights; throws a sentence for a bad field. */
  function readSettings() {
    const rate = number(lr, 'The learning rate', 0);
    const config = optimizerConfig(optimizer, {
      lr: rate,
      momentum: MOMENTUM.includes(optimizer) ? number(momentum, 'Momentum', 0) : undefined,
      weightDecay: number(weightDecay, 'Weight decay', 0),
    });
    const epochCount = number(epochs, 'Epochs', 1, true);
    // The CLI's schedules: step divides the rate by 10 every third of the epochs, cosine anneals it to 0.
    const scheduled: Schedule =
      schedule === 'step' ? { kind: 'step', stepSize: Math.max(1, Math.floor(epochCount / 3)), gamma: 0.1 } : schedule === 'cosine' ? { kind: 'cosine', etaMin: 0 } : { kind: 'constant' };
    const settings = {
      config,
      epochs: epochCount,
      batchSize: number(batchSize, 'The batch size', 1, true),
      seed: number(seed, 'The seed', 0, true),
      schedule: scheduled,
      warmupSteps: number(warmup, 'Warm-up', 0, true),
      clipNorm: number(clipNorm, 'Clipping', 0),
      regularization: { l1: number(l1, 'L1', 0), l2: number(l2, 'L2', 0) },
    };
    const request: TrainRequest = {
      doc: trainingDocument(data, state.doc),
      // Gradient norms for the canvas overlay, as the run goes.
      graph: {
        optimizer: settings.config,
        loss: ownLoss ? undefined : loss,
        seed: settings.seed,
        clipNorm: settings.clipNorm || undefined,
        regularization: settings.regularization,
        gradientNorms: true,
      },
      options: {
        epochs: settings.epochs,
        batchSize: settings.batchSize,
        lr: settings.config.lr,
        seed: settings.seed,
        provider,
        schedule: settings.schedule,
        warmupSteps: settings.warmupSteps || undefined,
      },
      data: trainingData(data, settings.seed),
    };
    return { settings, request };
  }

  // While the settings are filled in, the worker loads the data and compiles the run's models, so that
  // Start finds them ready (engines/service.ts prepare). Only while the panel is on screen and idle,
  // and for a built-in dataset (a person's own data would be copied to the worker at every change).
  const panel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (running || !('builtIn' in data)) return;
    const timer = setTimeout(() => {
      if (!panel.current?.offsetParent) return;
      try {
        windowEngine().prepare(readSettings().request);
      } catch {
        // A bad field is reported when Start is clicked.
      }
    }, PREPARE_AFTER_MS);
    return () => clearTimeout(timer);
  });

  async function start() {
    let settings, request;
    try {
      ({ settings, request } = readSettings());
    } catch (e) {
      return setMessage((e as Error).message);
    }
    const runNumber = runs.length + 1;
    // The document trained: locked while the run lasts, so the overlay's norms stay its own.
    const trained = state.doc;
    steps.current?.startRun(runNumber);
    epochChart.current?.startRun(runNumber);
    setResult(null);
    setProgress(null);
    setMessage('');
    setStatus('preparing');
    const summary = `${dataset}, ${optimizer} lr ${settings.config.lr}${settings.schedule.kind !== 'constant' ? ` (${settings.schedule.kind})` : ''}, batch ${settings.batchSize}, ${settings.epochs} epoch${settings.epochs > 1 ? 's' : ''}, ${provider}`;
    setRuns((r) => [...r, { settings: summary, outcome: 'running' }]);
    const finish = (outcome: string) => setRuns((r) => r.map((x, i) => (i === r.length - 1 ? { ...x, outcome } : x)));
    let smoothed = 0;
    let stepsPerEpoch = 0;
    /** Complete epochs so far. */
    let epoch = 0;
    const pace = new TrainingPace(settings.batchSize);
    const onEvent = (e: TrainingEvent) => {
      if (e.event === 'step') {
        smoothed = SMOOTHING * smoothed + (1 - SMOOTHING) * e.loss;
        steps.current?.push(e.step, [e.loss, smoothed / (1 - SMOOTHING ** e.step)]);
        setProgress({ epoch: epoch + 1, step: e.step, stepsPerEpoch, ...pace.at(e.step, settings.epochs * stepsPerEpoch) });
        if (e.gradientNorms) setOverlayGradients(trained, new Map(Object.entries(e.gradientNorms)));
      } else if (e.event === 'epoch') {
        epoch = e.epoch;
        pace.epoch(e.samplesPerSec);
        epochChart.current?.push(e.epoch, [e.loss, e.valLoss, e.accuracy, e.valAccuracy]);
      } else {
        setResult({ valAccuracy: e.valAccuracy, valLoss: e.valLoss, loss: e.loss });
        const diverged = e.stopped !== null && e.stopped !== 'stopped';
        // The step whose loss was not finite is the last one counted; the chart marks it.
        if (diverged) steps.current?.mark(e.steps, 'loss not finite', `Run ${runNumber}: ${e.stopped}.`);
        finish(diverged ? `stopped: ${e.stopped}` : e.stopped ? `stopped at step ${e.steps}` : `validation accuracy ${percent(e.valAccuracy)}`);
      }
    };
    const handle = windowEngine().train({ ...request, weights: state.weights && new Map([...state.weights].map(([k, t]) => [k, { shape: t.shape, data: t.data.slice() }])) }, onEvent);
    run.current = handle;
    // The document and weights trained are the ones the result goes back into: nothing may change them meanwhile.
    store.lock({ ...LOCK, stop });
    try {
      const prepared = await handle.prepared;
      stepsPerEpoch = Math.ceil(prepared.train / settings.batchSize);
      pace.begin();
      setStatus((s) => (s === 'preparing' ? 'training' : s));
      // Both the input (padding, channels) and the labels (0/1 read as ±1) may have been adapted.
      if (prepared.adapted.length > 0) setMessage(`${dataset}: ${prepared.adapted.join('; ')}, to fit the model.`);
      const { weights, stopped } = await handle.result;
      store.unlock();
      setStatus('done');
      const undo = '(Undo restores the earlier ones; Export ONNX writes them).';
      if (stopped && stopped !== 'stopped') {
        // The trainer hands back the last complete epoch's weights; with none complete, they are the ones it began with.
        if (epoch > 0) store.setWeights(weights);
        setMessage(`Training stopped: ${stopped}. ${epoch > 0 ? `The weights after epoch ${epoch} are the model's now ${undo}` : "The model's weights are unchanged."}`);
      } else {
        store.setWeights(weights);
        workspace.say(`Training ${stopped ? 'stopped' : 'done'}: the ${stopped ? 'weights trained so far' : 'trained weights'} are the model's now ${undo}`);
      }
    } catch (e) {
      setStatus('failed');
      setMessage((e as Error).message);
      finish('failed');
    } finally {
      store.unlock();
      run.current = null;
    }
  }

  async function pause() {
    setStatus('pausing');
    await run.current?.pause();
    setStatus((s) => (s === 'pausing' ? 'paused' : s));
  }

  function resume() {
    run.current?.resume();
    setStatus('training');
  }

  function stop() {
    run.current?.stop();
    setStatus('stopping');
  }

  const statusText: Record<Status, string> = {
    idle: 'Ready',
    preparing: 'Preparing the data and the training graph…',
    training: 'Training',
    pausing: 'Pausing…',
    paused: 'Paused',
    stopping: 'Stopping…',
    done: 'Done',
    failed: 'Failed',
  };
  const total = progress ? progress.stepsPerEpoch * Number(epochs) : 0;

  return (
    <div className="train-panel" ref={panel}>
      <form className="train-settings" aria-label="Training settings" onSubmit={(e) => e.preventDefault()}>
        <DatasetPicker value={data} onChange={setData} disabled={running} input={modelInput(state.inferred.inference.nodes())} />
        <label>
          Loss
          <select value={ownLoss ? 'model' : loss} disabled={running || ownLoss} onChange={(e) => setLoss(e.target.value as LossName)}>
            {ownLoss && <option value="model">the model's loss node</option>}
            {Object.keys(LOSSES).map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
        </label>
        <label>
          Optimizer
          <select value={optimizer} disabled={running} onChange={(e) => chooseOptimizer(e.target.value as OptimizerName)}>
            {OPTIMIZERS.map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
        </label>
        <label>
          Learning rate
          <input value={lr} disabled={running} inputMode="decimal" onChange={(e) => setLr(e.target.value)} />
        </label>
        {MOMENTUM.includes(optimizer) && (
          <label>
            Momentum
            <input value={momentum} disabled={running} inputMode="decimal" onChange={(e) => setMomentum(e.target.value)} />
          </label>
        )}
        <label>
          Weight decay
          <input value={weightDecay} disabled={running} inputMode="decimal" onChange={(e) => setWeightDecay(e.target.value)} />
        </label>
        <label>
          Schedule
          <select value={schedule} disabled={running} onChange={(e) => setSchedule(e.target.value as typeof schedule)}>
            <option>constant</option>
            <option>step</option>
            <option>cosine</option>
          </select>
        </label>
        <label>
          Warm-up steps
          <input value={warmup} disabled={running} inputMode="numeric" onChange={(e) => setWarmup(e.target.value)} />
        </label>
        <label>
          Clip norm
          <input value={clipNorm} disabled={running} inputMode="decimal" onChange={(e) => setClipNorm(e.target.value)} />
        </label>
        <label>
          L1
          <input value={l1} disabled={running} inputMode="decimal" onChange={(e) => setL1(e.target.value)} />
        </label>
        <label>
          L2
          <input value={l2} disabled={running} inputMode="decimal" onChange={(e) => setL2(e.target.value)} />
        </label>
        <label>
          Epochs
          <input value={epochs} disabled={running} inputMode="numeric" onChange={(e) => setEpochs(e.target.value)} />
        </label>
        <label>
          Batch size
          <input value={batchSize} disabled={running} inputMode="numeric" onChange={(e) => setBatchSize(e.target.value)} />
        </label>
        <label>
          Seed
          <input value={seed} disabled={running} inputMode="numeric" onChange={(e) => setSeed(e.target.value)} />
        </label>
        <div className="train-provider">
          <ProviderPicker value={provider} onChange={setProvider} />
        </div>
        <div className="train-buttons">
          <button type="button" disabled={running} onClick={() => void start()}>
            Start
          </button>
          <button type="button" disabled={status !== 'training'} onClick={() => void pause()}>
            Pause
          </button>
          <button type="button" disabled={status !== 'paused'} onClick={resume}>
            Resume
          </button>
          <button type="button" disabled={!running || status === 'stopping'} onClick={stop}>
            Stop
          </button>
        </div>
      </form>
      <div className="train-progress">
        <p role="status" aria-label="Training status">
          {statusText[status]}
          {progress && ` · epoch ${progress.epoch} of ${epochs} · step ${progress.step} of ${total}`}
          {progress?.samplesPerSec && ` · ${Math.round(progress.samplesPerSec)} samples/s`}
          {progress?.secondsLeft !== null && progress?.secondsLeft !== undefined && running && ` · ${duration(progress.secondsLeft)} left`}
          {result && ` · final loss ${lossText(result.loss)} · validation accuracy ${percent(result.valAccuracy)}`}
        </p>
        <progress aria-label="Training progress" max={total || 1} value={progress?.step ?? 0} />
        {message && <p className="train-message">{message}</p>}
        {runs.length > 0 && (
          <ol className="train-runs" aria-label="Runs">
            {runs.map((r, i) => (
              <li key={i}>
                run {i + 1}: {r.settings} — {r.outcome}
              </li>
            ))}
          </ol>
        )}
        <TrainChart ref={steps} title="Training loss per step" xLabel="step" series={[{ label: 'loss', faint: true }, { label: 'smoothed' }]} />
        <TrainChart
          ref={epochChart}
          title="Loss and accuracy per epoch"
          xLabel="epoch"
          series={[
            { label: 'training loss' },
            { label: 'validation loss', dashed: true },
            { label: 'training accuracy', faint: true, right: true },
            { label: 'validation accuracy', faint: true, dashed: true, right: true },
          ]}
        />
      </div>
    </div>
  );
}
