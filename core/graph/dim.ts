/**
 * Tensor dimensions are numbers or symbols ("N" for the batch, "T" for a sequence length).
 * Arithmetic on a symbol yields a readable expression, so a shape stays honest when it is unknown.
 */
export type Dim = number | string;
export type Shape = Dim[];
export type DType = 'float32' | 'int64';

export interface TensorType {
  shape: Shape;
  dtype: DType;
  /** The values of a small integer tensor when known (ONNX shape arithmetic in imported models). */
  value?: Dim[];
}

/** Product of dimensions, or null if any is symbolic. */
export function numel(shape: readonly Dim[]): number | null {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return null;
    n *= d;
  }
  return n;
}

export function sameShape(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function sameType(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && sameShape(a.shape, b.shape) && sameShape(a.value ?? [], b.value ?? []);
}

/** "N×20×28×28", as nodes and edges show shapes. */
export function formatShape(shape: readonly Dim[]): string {
  return shape.length === 0 ? 'scalar' : shape.map(String).join('×');
}

/** A symbolic expression as a dimension; parenthesised so it composes. */
export function symbolic(expr: string): Dim {
  return /^[A-Za-z_][\w]*$/.test(expr) ? expr : `(${expr})`;
}

/** Normalise a possibly negative axis against a rank; returns -1 when out of range. */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : -1;
}

/** Numpy broadcasting. Returns null when the shapes cannot broadcast. */
export function broadcast(a: readonly Dim[], b: readonly Dim[]): Shape | null {
  const rank = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else return null;
  }
  return out;
}
