/**
 * Monaco for the Code tab, bundled by Vite from monaco-editor's ESM build (no CDN): the editor core with
 * the features the tab uses, JSON (its language service in a worker, driven by the model schema) and
 * Python colouring. Workers are Vite worker chunks served from the app's own origin, which the CSP's
 * default-src 'self' already allows; Monaco's inline styles are allowed by style-src 'unsafe-inline'.
 * The theme follows the app's (the data-theme attribute of <html>).
 */
import * as monaco from 'monaco-editor/editor/editor.api.js';
import 'monaco-editor/editor/contrib/hover/browser/hoverContribution.js';
import 'monaco-editor/editor/contrib/suggest/browser/suggestController.js';
import 'monaco-editor/editor/contrib/folding/browser/folding.js';
import 'monaco-editor/editor/contrib/bracketMatching/browser/bracketMatching.js';
import 'monaco-editor/editor/contrib/gotoError/browser/gotoError.js';
import 'monaco-editor/editor/contrib/clipboard/browser/clipboard.js';
import 'monaco-editor/editor/contrib/contextmenu/browser/contextmenu.js';
import 'monaco-editor/editor/contrib/wordHighlighter/browser/wordHighlighter.js';
import 'monaco-editor/editor/contrib/readOnlyMessage/browser/contribution.js';
import 'monaco-editor/features/find/register.js';
import { jsonDefaults } from 'monaco-editor/languages/features/json/register.js';
import 'monaco-editor/languages/definitions/python/register.js';
import EditorWorker from 'monaco-editor/editor/editor.worker.js?worker';
import JsonWorker from 'monaco-editor/language/json/json.worker.js?worker';
import { modelSchema } from '../../../core/layers/schema.ts';
import { SCHEMA_ID } from '../../../core/graph/types.ts';

export { monaco };

/** The model document's editor model is known by this URI, which the schema is bound to. */
export const MODEL_URI = monaco.Uri.parse('netloom://model/model.netloom.json');

let ready = false;

export function setUpMonaco(): void {
  if (ready) return;
  ready = true;
  self.MonacoEnvironment = { getWorker: (_id: string, label: string) => (label === 'json' ? new JsonWorker() : new EditorWorker()) };
  jsonDefaults.setDiagnosticsOptions({
    validate: true,
    allowComments: false,
    enableSchemaRequest: false,
    schemas: [{ uri: SCHEMA_ID, fileMatch: [MODEL_URI.toString()], schema: modelSchema() }],
  });
  const apply = () => monaco.editor.setTheme(document.documentElement.dataset.theme === 'dark' ? 'vs-dark' : 'vs');
  apply();
  new MutationObserver(apply).observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
}
