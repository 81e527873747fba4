/** Browser mode: file pickers and downloads, the recovery copy in localStorage. */
import { isBundleName, type OpenedFile, type Platform } from './platform.ts';

const RECOVERY_KEY = 'netloom.recovery';

function download(data: BlobPart, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Model documents as text, everything else (bundles, ONNX, weights, external data) as bytes. */
export function readFiles(files: File[]): Promise<OpenedFile[]> {
  return Promise.all(
    files.map(async (file) => (file.name.toLowerCase().endsWith('.json') ? { name: file.name, text: await file.text() } : { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) })),
  );
}

export const browserPlatform: Platform = {
  kind: 'browser',
  open() {
    return new Promise<OpenedFile[] | null>((resolve) => {
      const input = document.createElement('input');
      input.type = 'file';
      input.multiple = true;
      // A model with its weights (.safetensors) or an ONNX file with its external data (any name), picked together.
      input.accept = '.json,.netloom,.onnx,.safetensors,.data,.bin';
      input.setAttribute('aria-label', 'Open model file');
      input.style.display = 'none';
      input.addEventListener('change', async () => {
        const files = [...(input.files ?? [])];
        input.remove();
        resolve(files.length > 0 ? await readFiles(files) : null);
      });
      input.addEventListener('cancel', () => {
        input.remove();
        resolve(null);
      });
      document.body.append(input);
      input.click();
    });
  },
  async save(content, current, saveAs) {
    let name = current ?? 'model.json';
    if (saveAs || !current) name = window.prompt('Save as (.json, or .netloom for one file with the weights)', name) ?? '';
    if (!name) return null;
    if (isBundleName(name)) {
      download(content.bundle() as BlobPart, name, 'application/zip');
      return name;
    }
    if (!name.endsWith('.json')) name += '.json';
    download(content.text, name, 'application/json');
    return name;
  },
  async exportOnnx(bytes, suggestedName) {
    download(bytes as BlobPart, suggestedName, 'application/octet-stream');
    return suggestedName;
  },
  async exportPyTorch(code, weights, suggestedName) {
    download(code, suggestedName, 'text/x-python');
    download(weights as BlobPart, suggestedName.replace(/\.py$/, '.safetensors'), 'application/octet-stream');
    return suggestedName;
  },
  async readRecovery() {
    return localStorage.getItem(RECOVERY_KEY);
  },
  async writeRecovery(text) {
    localStorage.setItem(RECOVERY_KEY, text);
  },
  async clearRecovery() {
    localStorage.removeItem(RECOVERY_KEY);
  },
  onCommand: () => () => {},
  takePendingDocument: async () => null,
  setTitle(title, dirty) {
    document.title = `${dirty ? '• ' : ''}${title} — Netloom`;
  },
  async engineInfo() {
    // WebAssembly threads need a cross-origin isolated page (the app's server sends COOP/COEP); say when it is not.
    return crossOriginIsolated
      ? 'Engine: ONNX Runtime Web (WebAssembly with threads; WebGPU where the browser has an adapter) in a Web Worker.'
      : 'Engine: ONNX Runtime Web in a Web Worker, on one thread: this page is not cross-origin isolated (serve it with npm start or npm run web for threads).';
  },
};
