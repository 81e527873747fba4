/**
 * CSV files as datasets: numeric feature columns and one label column (by name or position; the last by
 * default). Labels that are whole numbers from 0 are class indices; words become classes in sorted
 * order; other numbers are regression targets. The first row is a header when it has a word where the
 * rows below have numbers (a word only in the label column is a class: `5.1,3.5,setosa` is data).
 * Fields are split at commas (quoted fields may not contain commas).
 */
import { DatasetError, type Dataset } from './dataset.ts';

export interface CsvDataset {
  dataset: Dataset;
  /** Every column's name in the file's order ("column N" without a header), the label column's, and the feature columns'. */
  columns: string[];
  label: string;
  features: string[];
  /** The classes' names, when the labels were words. */
  classNames?: string[];
  /** Whether the first row was read as the columns' names (false: it is data, the columns are numbered). */
  header: boolean;
}

/** What was decided about the first row, in the words the Train panel and the CLI both show. */
export const headerDecision = (csv: CsvDataset): string => (csv.header ? 'first row read as the column names' : 'no header row: the first row is data');

const unquote = (field: string) =>
  field
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .trim();
const isNumber = (field: string) => field !== '' && Number.isFinite(Number(field));

export function parseCsv(name: string, text: string, label?: string | number): CsvDataset {
  const rows = text
    .split(/\r?\n/)
    .map((line, i) => ({ line: i + 1, fields: line.split(',').map(unquote) }))
    .filter((r) => r.fields.some((f) => f !== ''));
  if (rows.length === 0) throw new DatasetError(`${name}: the file has no rows`);
  const hasHeader = firstRowIsHeader(rows.map((r) => r.fields));
  const width = rows[0].fields.length;
  const names = hasHeader ? rows[0].fields : rows[0].fields.map((_, i) => `column ${i + 1}`);
  const body = hasHeader ? rows.slice(1) : rows;
  if (body.length === 0) throw new DatasetError(`${name}: the file has a header but no data rows`);
  if (width < 2) throw new DatasetError(`${name}: needs at least two columns (features and a label)`);
  let at = width - 1;
  if (typeof label === 'number') {
    if (!Number.isInteger(label) || label < 0 || label >= width) throw new DatasetError(`${name}: there is no column ${label + 1} (the file has ${width})`);
    at = label;
  } else if (label !== undefined) {
    at = names.indexOf(label);
    if (at < 0) throw new DatasetError(`${name}: no column named "${label}" (columns: ${names.join(', ')})`);
  }
  const features = names.filter((_, i) => i !== at);
  const x = new Float32Array(body.length * features.length);
  const labels: string[] = [];
  body.forEach((row, r) => {
    if (row.fields.length !== width) throw new DatasetError(`${name}: line ${row.line} has ${row.fields.length} field${row.fields.length === 1 ? '' : 's'}, not ${width} as the first row`);
    let k = 0;
    row.fields.forEach((field, i) => {
      if (i === at) return void labels.push(field);
      if (!isNumber(field)) throw new DatasetError(`${name}: line ${row.line}, column "${names[i]}": "${field}" is not a number`);
      x[r * features.length + k++] = Number(field);
    });
  });
  const sample = { name, size: body.length, x: { dims: [features.length], dtype: 'float32' as const, data: x } };
  const base = { columns: names, label: names[at], features, header: hasHeader };
  if (!labels.every(isNumber)) {
    const classNames = [...new Set(labels)].sort();
    const y = BigInt64Array.from(labels, (l) => BigInt(classNames.indexOf(l)));
    return { ...base, classNames, dataset: { ...sample, y: { dims: [], dtype: 'int64', data: y }, classes: classNames.length } };
  }
  const values = labels.map(Number);
  if (values.every((v) => Number.isInteger(v) && v >= 0)) {
    return { ...base, dataset: { ...sample, y: { dims: [], dtype: 'int64', data: BigInt64Array.from(values, (v) => BigInt(v)) }, classes: Math.max(...values) + 1 } };
  }
  return { ...base, dataset: { ...sample, y: { dims: [1], dtype: 'float32', data: Float32Array.from(values) } } };
}

/**
 * A header names the feature columns, which hold numbers below it: the first row is a header when one of
 * its fields is not a number in a column whose later rows are all numbers. Alone, a row with any word is one.
 */
function firstRowIsHeader([first, ...rest]: string[][]): boolean {
  if (rest.length === 0) return first.some((f) => !isNumber(f));
  return first.some((f, i) => !isNumber(f) && rest.every((row) => row[i] !== undefined && isNumber(row[i])));
}
