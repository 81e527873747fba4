/** Timing helpers for the benchmarks: medians over repeated runs, printed with the target. */
export function median(runs: number, once: () => number): number {
  const times = Array.from({ length: runs }, once).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export function report(what: string, value: number, unit: string, target?: number): void {
  const verdict = target === undefined ? '' : value <= target ? `  (target < ${+target.toFixed(1)} ${unit}: met)` : `  (target < ${+target.toFixed(1)} ${unit}: MISSED)`;
  console.log(`${what}: ${value.toFixed(3)} ${unit}${verdict}`);
}
