/** The built-in templates, bundled from assets/templates. */
import { validateModel, type ModelDocument } from '../core/index.ts';

const files = import.meta.glob('../assets/templates/*.json', { eager: true, import: 'default' }) as Record<string, unknown>;

export const TEMPLATES: { id: string; doc: ModelDocument }[] = Object.entries(files)
  .map(([path, json]) => {
    const result = validateModel(json);
    if (!result.ok) throw new Error(`template ${path} is invalid`);
    // Their $schema is a path relative to the templates folder, wrong for a document saved elsewhere.
    const doc: ModelDocument = { ...result.doc };
    delete doc.$schema;
    return { id: path.replace(/^.*\/(.*)\.json$/, '$1'), doc };
  })
  .sort((a, b) => a.id.localeCompare(b.id));
