// Builds the renderer (the editor) for the desktop window and for browser mode.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { ISOLATION_HEADERS } from './scripts/http-headers.js';

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: { outDir: '../dist/renderer', emptyOutDir: true, chunkSizeWarningLimit: 4000 },
  // The engine's worker loads ONNX Runtime as a chunk of its own (its threads load that chunk again).
  worker: { format: 'es' },
  // ONNX Runtime Web finds its .wasm beside its own module: serve it untouched by the dependency optimiser.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { host: '127.0.0.1', fs: { allow: ['..'] }, headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
});
