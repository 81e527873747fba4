// Response headers for the app's own pages, used by Vite, scripts/serve.js and Electron's netloom:// protocol.

// Cross-origin isolation: with these two headers a page gets SharedArrayBuffer (crossOriginIsolated is
// true), which ONNX Runtime Web's WebAssembly threads need. The app loads nothing from other origins,
// so requiring CORP/CORS of everything it embeds costs nothing.
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
};
