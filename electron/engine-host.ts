/**
 * Electron's utility process for the engine: ONNX Runtime runs here, never on the window's thread or
 * the main process's. It answers the messages of engines/web/protocol.ts, which the main process has
 * validated and forwards from the windows (engine-routes.ts); the work is engine-service.ts's.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerRequest } from '../engines/web/protocol.ts';
import { desktopEngineService } from './engine-service.ts';

interface ParentPort {
  on(event: 'message', listener: (e: { data: WorkerRequest }) => void): void;
  postMessage(message: unknown): void;
}

const port = (process as unknown as { parentPort: ParentPort }).parentPort;
// This file runs bundled from dist/electron/; the datasets are the app's assets/datasets.
const datasets = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'assets', 'datasets');
// A utility process's port copies every message (no transfer list for ArrayBuffers).
const { service } = desktopEngineService((message) => port.postMessage(message), datasets);

port.on('message', ({ data }) => void service.handle(data));
