/** The built-in templates, bundled from assets/templates. */
import { fromTemplate, validateModel, type ModelDocument } from '../core/index.ts';

const files = import.meta.glob('../assets/templates/*.json', { eager: true, import: 'default' }) as Record<string, unknown>;

export const TEMPLATES: { id: string; doc: ModelDocument }[] = Object.entries(files)
  .map(([path, json]) => {
    const result = validateModel(json);
    if (!result.ok) throw new Error(`template ${path} is invalid`);
    return { id: path.replace(/^.*\/(.*)\.json$/, '$1'), doc: fromTemplate(result.doc) };
  })
  .sort((a, b) => a.id.localeCompare(b.id));
