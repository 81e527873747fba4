// Builds the renderer (the editor) for the desktop window and for browser mode.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: { outDir: '../dist/renderer', emptyOutDir: true, chunkSizeWarningLimit: 4000 },
  server: { host: '127.0.0.1', fs: { allow: ['..'] } },
});
