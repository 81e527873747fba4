/**
 * Inspector fields as text: a parameter value shown for editing, and typed text read back. Text that
 * is not a valid value is an error naming the field; the caller keeps the text and leaves the document
 * alone. Plain TypeScript, unit-tested in Node.
 */
import type { ParamSchema, ParamValue } from '../../core/index.ts';

/** Text for a param value in a text field. JSON params (an OnnxOp's inputs) stay JSON. */
export function toText(value: ParamValue | undefined, schema?: ParamSchema): string {
  if (value === undefined || value === null) return '';
  if (schema?.type === 'json' || (Array.isArray(value) && value.some((v) => typeof v === 'object' && v !== null))) return JSON.stringify(value);
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export type Parsed = { ok: true; value: ParamValue | undefined } | { ok: false; message: string };

const INT = /^-?\d+$/;

function numbers(text: string, label: string, whole: boolean): { ok: true; values: number[] } | { ok: false; message: string } {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const bad = parts.find((p) => (whole ? !INT.test(p) : !Number.isFinite(Number(p))));
  if (bad !== undefined) return { ok: false, message: `${label}: "${bad}" is not ${whole ? 'a whole number' : 'a number'}` };
  return { ok: true, values: parts.map(Number) };
}

export function parseField(text: string, schema: ParamSchema): Parsed {
  const t = text.trim();
  if (t === '') return { ok: true, value: schema.nullable ? null : undefined };
  switch (schema.type) {
    case 'int':
    case 'float': {
      const read = numbers(t, schema.label, schema.type === 'int');
      if (!read.ok) return read;
      if (read.values.length !== 1) return { ok: false, message: `${schema.label}: "${t}" is not one number` };
      return { ok: true, value: read.values[0] };
    }
    case 'size':
    case 'padding': {
      if (schema.type === 'padding' && (t === 'same' || t === 'valid')) return { ok: true, value: t };
      const read = numbers(t, schema.label, true);
      if (!read.ok) return read;
      return { ok: true, value: read.values.length === 1 ? read.values[0] : read.values };
    }
    case 'ints': {
      const read = numbers(t, schema.label, true);
      return read.ok ? { ok: true, value: read.values } : read;
    }
    case 'dims':
      return {
        ok: true,
        value: t
          .split(/[\s,]+/)
          .filter(Boolean)
          .map((d) => (/^-?\d+$/.test(d) ? Number(d) : d)),
      };
    case 'json':
      try {
        return { ok: true, value: JSON.parse(t) as ParamValue };
      } catch {
        return { ok: false, message: `${schema.label}: not valid JSON` };
      }
    default:
      return { ok: true, value: t };
  }
}
