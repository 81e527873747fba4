/** Summary statistics of a tensor's values, as the tensor views show them. */

export interface TensorStats {
  count: number;
  /** Over the finite values; NaN when there are none. */
  min: number;
  max: number;
  mean: number;
  std: number;
  nan: number;
  inf: number;
  /** Counts of the finite values in `bins` equal steps from min to max. */
  histogram: number[];
}

export function tensorStats(values: ArrayLike<number>, bins = 32): TensorStats {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) nan++;
    else if (!Number.isFinite(v)) inf++;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
  }
  const finite = values.length - nan - inf;
  const mean = finite > 0 ? sum / finite : NaN;
  let squares = 0;
  const histogram = new Array<number>(bins).fill(0);
  const width = max - min;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    squares += (v - mean) ** 2;
    histogram[width > 0 ? Math.min(bins - 1, Math.floor(((v - min) / width) * bins)) : 0]++;
  }
  return {
    count: values.length,
    min: finite > 0 ? min : NaN,
    max: finite > 0 ? max : NaN,
    mean,
    std: finite > 0 ? Math.sqrt(squares / finite) : NaN,
    nan,
    inf,
    histogram: finite > 0 ? histogram : [],
  };
}
