/** `npm run bench`: prints every benchmark's figures. Targets are reported, never asserted in tests. */
import { benchExport } from './export.bench.ts';
import { benchInference } from './inference.bench.ts';
import { benchTraining } from './train.bench.ts';
import { benchUi } from './ui.bench.ts';
import { benchWebTraining } from './web-train.bench.ts';

console.log(`Netloom benchmarks — Node ${process.version}, ${new Date().toISOString()}`);
benchInference();
benchExport();
await benchUi();
await benchTraining();
await benchWebTraining();
