/**
 * The desktop's engine: onnxruntime-node (engines/node) behind the engine service that the browser's
 * worker runs too (engines/service.ts), with the built-in datasets read from disk. Plain Node, without
 * Electron, so that tests drive it as the utility process runs it (engine-host.ts is only its glue).
 */
import { DATASETS_FOLDER, builtInData } from '../host/datasets.ts';
import { NodeEngine } from '../engines/node/engine.ts';
import { EngineService, type ReplyTo } from '../engines/service.ts';

export function desktopEngineService(reply: ReplyTo, datasetsFolder = DATASETS_FOLDER): { service: EngineService; engine: NodeEngine } {
  const engine = new NodeEngine();
  const service = new EngineService({ engine, providers: () => engine.providers(), builtInData: (name, seed) => builtInData(name, seed, datasetsFolder) }, reply);
  return { service, engine };
}
