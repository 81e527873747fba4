/** `npm run bench`: prints every benchmark's figures. Targets are reported, never asserted in tests. */
console.log(`Netloom benchmarks — Node ${process.version}, ${new Date().toISOString()}`);
// Each benchmark's modules load only when it runs, so the early, small-heap measurements
// (shape inference) are not taxed by Playwright, Vite and ONNX Runtime sitting in the heap.
(await import('./inference.bench.ts')).benchInference();
(await import('./export.bench.ts')).benchExport();
await (await import('./ui.bench.ts')).benchUi();
await (await import('./train.bench.ts')).benchTraining();
