/**
 * Writes the model document's JSON Schema, generated from the layer catalogue (core/layers/schema.ts), to
 * assets/schema/netloom.model.schema.json for editors such as VS Code. tests/unit/schema.test.ts checks
 * that the file is up to date. Run: npm run schema
 */
import { writeFileSync } from 'node:fs';
import { modelSchemaText, SCHEMA_FILE } from '../core/layers/schema.ts';

const out = new URL(`../assets/schema/${SCHEMA_FILE}`, import.meta.url);
writeFileSync(out, modelSchemaText());
console.log(`wrote ${out.pathname}`);
