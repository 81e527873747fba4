/**
 * The .netloom single-file bundle: a zip archive holding the model document (model.json) and its weights
 * (model.safetensors), so that a trained model travels as one file. The app and the CLI both open and
 * save it with these two functions.
 */
import { strFromU8, strToU8, zipSync, type Zippable } from 'fflate';
import { unzipWithin, ZipSizeError } from './zip.ts';
import { formatProblem, parseModel, serializeModel } from './document.ts';
import type { ModelDocument } from './types.ts';
import { decodeSafetensors, encodeSafetensors, WeightsFormatError, type Weights } from './weights.ts';

export const BUNDLE_DOCUMENT = 'model.json';
export const BUNDLE_WEIGHTS = 'model.safetensors';

export class BundleError extends Error {}

/** A member name as it may appear in a one-line message: as it is when plain, else quoted and escaped. */
const shown = (name: string): string => (/^[\x20-\x7e]{0,80}$/.test(name) ? name : JSON.stringify(name.slice(0, 80)));

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The bundle's bytes; without weights (a new model) it holds the document alone. */
export function encodeBundle(doc: ModelDocument, weights?: Weights): Uint8Array {
  const withWeights = weights !== undefined && weights.size > 0;
  const document: ModelDocument = { ...doc, weights: withWeights ? BUNDLE_WEIGHTS : undefined };
  const files: Zippable = { [BUNDLE_DOCUMENT]: [strToU8(serializeModel(document)), { level: 6 }] };
  // Stored, not deflated: trained float weights hardly compress, and storing keeps saving fast.
  if (withWeights) files[BUNDLE_WEIGHTS] = [concat(encodeSafetensors(weights, { format: 'netloom.weights', model: doc.name })), { level: 0 }];
  return zipSync(files);
}

/** The document and its weights (undefined when the bundle has none); problems as BundleError, in words. */
export function decodeBundle(bytes: Uint8Array, maxBytes = Infinity): { doc: ModelDocument; weights?: Weights } {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipWithin(bytes, maxBytes);
  } catch (e) {
    if (e instanceof ZipSizeError) throw new BundleError(`the bundle: ${e.message}`);
    throw new BundleError(`not a .netloom bundle (not a zip archive: ${(e as Error).message})`);
  }
  const text = files[BUNDLE_DOCUMENT];
  if (!text) throw new BundleError(`not a .netloom bundle (it has no ${BUNDLE_DOCUMENT}; it holds ${Object.keys(files).map(shown).join(', ') || 'nothing'})`);
  const result = parseModel(strFromU8(text));
  if (!result.ok) throw new BundleError(formatProblem(result.problems[0], BUNDLE_DOCUMENT));
  // The weights' name inside the zip means nothing outside it: a document saved from here as .json
  // must not name a weights file that was never written beside it.
  const { weights: inside, ...doc } = result.doc;
  if (!inside) return { doc };
  const data = files[inside];
  if (!data) throw new BundleError(`${BUNDLE_DOCUMENT} names the weights file ${JSON.stringify(inside)}, which the bundle does not hold`);
  try {
    return { doc, weights: decodeSafetensors(data).weights };
  } catch (e) {
    if (e instanceof WeightsFormatError) throw new BundleError(`${inside}: ${e.message}`);
    throw e;
  }
}
