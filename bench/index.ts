/** `npm run bench`: prints every benchmark's figures. Targets are reported, never asserted in tests. */
import { benchConvSteps } from './conv-step.bench.ts';
import { benchEngine } from './engine.bench.ts';
import { benchDebugger } from './debug.bench.ts';
import { benchExport } from './export.bench.ts';
import { benchGraphs } from './graphs.bench.ts';
import { benchInference } from './inference.bench.ts';
import { benchTraining, profileTraining } from './train.bench.ts';
import { benchClickDuringTraining } from './train-click.bench.ts';
import { benchUi } from './ui.bench.ts';
import { benchTrainPanel } from './train-panel.bench.ts';
import { benchWebTraining } from './web-train.bench.ts';

console.log(`Netloom benchmarks — Node ${process.version}, ${new Date().toISOString()}`);
if (process.argv.includes('--graphs')) {
  // An optional word after --graphs keeps only the models whose names contain it ("10,000", "ViT").
  const only = process.argv[process.argv.indexOf('--graphs') + 1];
  await benchGraphs(only?.startsWith('--') ? undefined : only);
  process.exit(0);
}
if (process.argv.includes('--train-panel')) {
  await benchTrainPanel();
  process.exit(0);
}
if (process.argv.includes('--train')) {
  await benchTraining();
  process.exit(0);
}
if (process.argv.includes('--profile')) {
  await profileTraining();
  process.exit(0);
}
benchInference();
benchExport();
await benchUi();
await benchGraphs();
await benchTraining();
await benchWebTraining();
await benchTrainPanel();
await benchClickDuringTraining();
await benchConvSteps();
await benchEngine();
await benchDebugger();
