// Cross-origin isolation: with these two headers a page gets SharedArrayBuffer (crossOriginIsolated is
// true), which ONNX Runtime Web's WebAssembly threads need. The app loads nothing from other origins,
// so requiring CORP/CORS of everything it embeds costs nothing. Used by Vite, scripts/serve.js and Electron.
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};
