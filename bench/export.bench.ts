/** GPT-1 export: time and peak memory, measured in a fresh process. */
import { spawnSync } from 'node:child_process';
import { report } from './measure.ts';

export function benchExport(): void {
  const run = spawnSync(process.execPath, ['--import', 'tsx', new URL('./export-gpt1.ts', import.meta.url).pathname], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`the GPT-1 export benchmark failed: ${run.stderr}`);
  const r = JSON.parse(run.stdout.trim().split('\n').pop()!);
  const mb = (n: number) => n / 2 ** 20;
  report(`GPT-1 export (${(r.weightBytes / 4 / 1e6).toFixed(1)} M params: init ${r.compileSeconds.toFixed(2)} s + write ${r.writeSeconds.toFixed(2)} s)`, r.seconds, 's', 5);
  report(`GPT-1 export peak RSS (weights ${mb(r.weightBytes).toFixed(0)} MiB, Node at start ${mb(r.baseline).toFixed(0)} MiB)`, mb(r.peakRss), 'MiB', mb(2 * r.weightBytes));
  console.log(`  peak / weight bytes: ${(r.peakRss / r.weightBytes).toFixed(2)}× (target < 2×)`);
}
