/**
 * The desktop's Open: a model file and the files it names beside it (a document's weights, an ONNX
 * file's external data), read together so the window gets the model with its weights. A named file
 * that is missing is left out, and the window says so (it never gets zero or random weights silently).
 */
import { dirname, extname, join } from 'node:path';
import { decodeModel, externalDataLocations } from '../core/onnx/proto.ts';
import { readBytes, readInside } from './fs.ts';

export interface ModelFile {
  name: string;
  text?: string;
  bytes?: Uint8Array;
}

/** The side files a model names, as paths relative to it (none when it cannot be read as a model: the window reports that). */
function namedFiles(path: string, bytes: Uint8Array): string[] {
  try {
    if (extname(path).toLowerCase() === '.onnx') return externalDataLocations(decodeModel(bytes)).filter(Boolean);
    if (extname(path).toLowerCase() === '.json') {
      const weights = (JSON.parse(new TextDecoder().decode(bytes)) as { weights?: unknown }).weights;
      return typeof weights === 'string' && weights ? [weights] : [];
    }
  } catch {
    // Not a readable model: the window opens it and reports the problem in its own words.
  }
  return [];
}

export async function readModelFiles(path: string): Promise<ModelFile[]> {
  const bytes = await readBytes(path);
  const main: ModelFile = extname(path).toLowerCase() === '.json' ? { name: path, text: new TextDecoder().decode(bytes) } : { name: path, bytes };
  const files = [main];
  for (const relative of namedFiles(path, bytes)) {
    // Only files inside the model's folder (the rule for files a model names): anything else is left out.
    const found = await readInside(dirname(path), relative, 'a file the model names').catch(() => null);
    if (found) files.push({ name: join(dirname(path), relative), bytes: found });
  }
  return files;
}
