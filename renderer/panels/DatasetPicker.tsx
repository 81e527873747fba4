/**
 * The Train panel's dataset: a built-in set, or "Your data…" — files picked or dropped here (a CSV file
 * with its label column, a .npz archive or .npy files, a folder of images with one subfolder per class,
 * a .txt text at the character or word level). It shows what was read and for which input; a file that
 * cannot be read is a one-line error, and the data chosen before stays.
 */
import { useEffect, useRef, useState, type DragEvent } from 'react';
import { BUILT_IN } from '../../core/data/builtin.ts';
import type { TextLevel } from '../../core/data/text.ts';
import { formatShape } from '../../core/graph/dim.ts';
import { droppedFiles, readOwnData, type DataChoice, type DataFile, type ModelInput, type OwnData, type ReadOptions } from './ownData.ts';

const OWN = 'own';

interface Props {
  value: DataChoice;
  onChange(choice: DataChoice): void;
  disabled: boolean;
  /** The model's data input, which images are sized to and text is cut for. */
  input: ModelInput | null;
}

/** React passes these through to the element: a picker of a whole folder, as Chromium and Electron offer it. */
const FOLDER_PICKER = { webkitdirectory: '' } as Record<string, string>;

export function DatasetPicker({ value, onChange, disabled, input }: Props) {
  const [files, setFiles] = useState<DataFile[]>([]);
  const [options, setOptions] = useState<ReadOptions>({ level: 'char', sequenceLength: 64 });
  const [error, setError] = useState('');
  const [reading, setReading] = useState(false);
  const [dragging, setDragging] = useState(false);
  /** The last own data read, chosen again when "Your data…" is picked again, and the input it was read for. */
  const lastOwn = useRef<OwnData | null>(null);
  const lastOwnInput = useRef('');
  /** Only the latest read counts: an earlier, slower one is ignored when it ends. */
  const reads = useRef(0);
  const own = 'own' in value ? value.own : null;

  // Images are sized to the model's input, and text cut to its length: read again when the input changes.
  const inputKey = input ? `${input.name} ${formatShape(input.type.shape)} ${input.type.dtype}` : '';

  async function read(picked: DataFile[], how: ReadOptions) {
    if (!input) return setError('the model has no input to read data for');
    const id = ++reads.current;
    setReading(true);
    try {
      const data = await readOwnData(picked, how, input);
      if (id !== reads.current) return;
      setFiles(picked);
      setOptions(how);
      setError('');
      lastOwn.current = data;
      lastOwnInput.current = inputKey;
      onChange({ own: data });
    } catch (e) {
      if (id === reads.current) setError((e as Error).message);
    } finally {
      if (id === reads.current) setReading(false);
    }
  }

  const readForInput = useRef(inputKey);
  useEffect(() => {
    if (readForInput.current === inputKey) return;
    readForInput.current = inputKey;
    if (files.length > 0 && own) void read(files, options);
    // Only a change of the input calls for a new read; files and options are read when they change.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [inputKey]);

  const choose = (name: string) => {
    setError('');
    onChange(name === OWN ? { own: lastOwn.current } : { builtIn: name });
    // Data read for another model input (the model changed meanwhile) is read again for this one.
    if (name === OWN && files.length > 0 && lastOwnInput.current !== inputKey) void read(files, options);
  };
  const pick = (element: HTMLInputElement) => {
    const picked = [...(element.files ?? [])].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
    // Cleared, so that picking the same file again (after editing it) reads it again.
    element.value = '';
    // A new file has its own columns: the label is the last one again.
    if (picked.length > 0) void read(picked, { ...options, label: undefined });
  };
  const drop = async (e: DragEvent) => {
    e.preventDefault();
    // The window's own drop handler opens models; data dropped here is not a model.
    e.stopPropagation();
    setDragging(false);
    if (disabled) return;
    const picked = await droppedFiles(e.dataTransfer);
    if (picked.length > 0) void read(picked, { ...options, label: undefined });
  };

  return (
    <>
      <label>
        Dataset
        <select value={'builtIn' in value ? value.builtIn : OWN} disabled={disabled} onChange={(e) => choose(e.target.value)}>
          {BUILT_IN.map((d) => (
            <option key={d}>{d}</option>
          ))}
          <option value={OWN}>Your data…</option>
        </select>
      </label>
      {'own' in value && (
        <div
          className={`train-data${dragging ? ' dragging' : ''}`}
          role="group"
          aria-label="Your data"
          onDragOver={(e) => {
            e.preventDefault();
            e.stopPropagation();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => void drop(e)}
        >
          <p className="muted">
            Drop files or a folder here, or pick: a .csv file, a .npz archive (x and y), .npy files together (x.npy, y.npy), a .txt text, or a folder with one subfolder of PNG/JPEG images per class
            {input ? ` (for the input ${input.name} ${formatShape(input.type.shape)})` : ''}.
          </p>
          <div className="train-data-pickers">
            <label>
              Files
              <input type="file" aria-label="Data files" accept=".csv,.npz,.npy,.txt" multiple disabled={disabled} onChange={(e) => pick(e.target)} />
            </label>
            <label>
              Image folder
              <input type="file" aria-label="Image folder" {...FOLDER_PICKER} disabled={disabled} onChange={(e) => pick(e.target)} />
            </label>
          </div>
          {own?.kind === 'csv' && own.columns && (
            <label>
              Label column
              <select value={own.label} disabled={disabled || reading} onChange={(e) => void read(files, { ...options, label: Number(e.target.value) })}>
                {own.columns.map((c, i) => (
                  <option key={i} value={i}>
                    {c}
                  </option>
                ))}
              </select>
            </label>
          )}
          {own?.kind === 'text' && (
            <>
              <label>
                Text level
                <select value={options.level} disabled={disabled || reading} onChange={(e) => void read(files, { ...options, level: e.target.value as TextLevel })}>
                  <option value="char">characters</option>
                  <option value="word">words</option>
                </select>
              </label>
              {input && typeof input.type.shape[1] !== 'number' && (
                <label>
                  Sequence length
                  <input
                    inputMode="numeric"
                    defaultValue={options.sequenceLength}
                    disabled={disabled || reading}
                    onChange={(e) => {
                      const n = Number(e.target.value);
                      if (Number.isInteger(n) && n >= 1) void read(files, { ...options, sequenceLength: n });
                    }}
                  />
                </label>
              )}
            </>
          )}
          <output aria-label="Loaded data">
            {reading ? 'Reading…' : own ? `${own.name}: ${own.description}` : 'No data read yet.'}
            {own && !reading && (
              <>
                <br />
                Validation: none; all {own.dataset.size.toLocaleString('en')} samples train (as <code>netloom train --data</code> without <code>--val</code>).
              </>
            )}
          </output>
          {error && (
            <p role="alert" className="train-data-error">
              {error}
            </p>
          )}
        </div>
      )}
    </>
  );
}
