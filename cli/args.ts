/** Argument parsing with one-line errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './files.ts';

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true as const, strict: true as const });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
}

/** An integer option within a range, or a usage error naming it. */
export function intOption(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}
