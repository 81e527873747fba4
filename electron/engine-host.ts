/**
 * The Node engine in Electron's utility process: ONNX Runtime runs here, never on the window's thread
 * or the main process's. Messages: { id, op: 'providers' } → { id, result }.
 */
import { NodeEngine } from '../engines/node/engine.ts';

interface ParentPort {
  on(event: 'message', listener: (e: { data: { id: number; op: string } }) => void): void;
  postMessage(message: unknown): void;
}

const port = (process as unknown as { parentPort: ParentPort }).parentPort;
const engine = new NodeEngine();

port.on('message', async ({ data }) => {
  try {
    if (data.op === 'providers') port.postMessage({ id: data.id, result: await engine.availableProviders() });
    else port.postMessage({ id: data.id, error: `unknown request ${data.op}` });
  } catch (e) {
    port.postMessage({ id: data.id, error: (e as Error).message });
  }
});
