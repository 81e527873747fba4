/**
 * The browser engine's Web Worker: ONNX Runtime Web and the trainer of core/train run here (through the
 * engine service, ../service.ts), so the page only sends commands and receives events. Large tensors
 * (datasets, weights, outputs) move as transferables, never copied.
 */
import { EngineService } from '../service.ts';
import { builtInData } from './datasets.ts';
import { WebEngine } from './engine.ts';
import type { WorkerRequest } from './protocol.ts';

const engine = new WebEngine();
const service = new EngineService(
  {
    engine,
    providers: () => engine.providers(),
    builtInData,
  },
  (message, transfer) => self.postMessage(message, { transfer }),
);

self.addEventListener('message', (event: MessageEvent<WorkerRequest>) => void service.handle(event.data));
